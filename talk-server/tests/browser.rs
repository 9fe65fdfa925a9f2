//! The web app in real Chromium (headless, through chromedriver): two
//! agents in two browser sessions chat, reply in threads, react, mention,
//! search, close and reopen, leave; a server restart loses nothing on
//! screen; a talk of 50 messages opens in few requests.
//!
//! They need Debian's `chromium` and `chromium-driver`:
//! `cargo test -p talk-server --test browser -- --ignored browser`. Each
//! starts its own demo server (the binary, on port 0) and its own
//! chromedriver, and saves screenshots under `target/browser-screenshots/`
//! when it fails.

mod browser_support;
mod common;

use std::path::PathBuf;

use browser_support::{Browsers, Page, run};
use common::{Running, request, start};
use serde_json::{Value, json};

const DESKTOP: (u32, u32) = (1280, 800);

/// The demo server on a fresh SQLite file in `dir`, on `listen`.
fn server(dir: &tempfile::TempDir, listen: &str) -> Running {
    let db = dir.path().join("talk.db");
    start(&["--listen", listen, "--db", db.to_str().expect("a UTF-8 path")])
}

/// `method path` as `agent` over the API: the answer's JSON.
fn api(server: &Running, agent: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let token = server.export(&format!("TOKEN_{}", agent.to_ascii_uppercase().replace('-', "_"))).to_owned();
    let body = body.map(|body| body.to_string());
    let (status, answer) = request(server.address, method, path, &token, body.as_deref());
    assert!((200..300).contains(&status), "{method} {path}: {status} {answer}");
    serde_json::from_str(&answer).expect("JSON")
}

/// The texts of the open talk's main view, oldest first (system messages too).
async fn main_view(page: &Page) -> Vec<String> {
    page.texts(".talk-view .messages > .message > .text, .talk-view .messages > .message > .system-text").await
}

/// Sends `text` from the open talk's main composer.
async fn send(page: &Page, text: &str) {
    page.type_into(".talk-view .composer textarea", text).await;
    page.click(".talk-view .composer button[type=submit]").await;
}

/// Waits until the talk list shows `name`; that link's selector.
async fn talk_link(page: &Page, name: &str) -> String {
    let script = "const link = [...document.querySelectorAll('.talk-link')]
            .find((l) => l.querySelector('.talk-name').textContent === arguments[0]);
        return link ? link.dataset.talkId : null;";
    let id = page.wait_until(&format!("listing the talk {name:?}"), script, vec![json!(name)]).await;
    format!(".talk-link[data-talk-id='{}']", id.as_str().expect("an id"))
}

/// Waits until `css` matches no element.
async fn wait_gone(page: &Page, what: &str, css: &str) {
    page.wait_until(what, "return document.querySelector(arguments[0]) === null;", vec![json!(css)]).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver"]
async fn browser_two_agents_chat_thread_react_mention_type_search_close_and_leave() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = server(&dir, "127.0.0.1:0");
    let base = format!("http://{}", server.address);
    run("browser_two_agents_chat", |browsers: Browsers| async move {
        let one = browsers.open("agent-id-1", &base, DESKTOP).await;
        let two = browsers.open("agent-id-2", &base, DESKTOP).await;
        one.sign_in("agent-id-1").await;
        two.sign_in("agent-id-2").await;

        // agent-id-1 creates a group talk with agent-id-2 and agent-id-3.
        one.click("a[href='#/new']").await;
        one.type_into("#talk-name", "Launch plan").await;
        one.click("input[name=participant][value='agent-id-2']").await;
        one.click("input[name=participant][value='agent-id-3']").await;
        one.click(".page-form button[type=submit]").await;
        one.wait_until("showing the new talk", "return document.querySelector('#talk-title')?.textContent === 'Launch plan';", vec![]).await;

        // It appears live in agent-id-2's list; both chat, each sees the other live.
        let link = talk_link(&two, "Launch plan").await;
        two.click(&link).await;
        send(&one, "Hello from one").await;
        two.message_id("Hello from one").await;
        send(&two, "Hi from two").await;
        let hi = one.message_id("Hi from two").await;
        assert_eq!(main_view(&one).await, ["Hello from one", "Hi from two"]);
        assert_eq!(main_view(&two).await, ["Hello from one", "Hi from two"]);

        // agent-id-2 replies in the thread of agent-id-1's message; agent-id-1
        // sees the reply count and the reply in the thread.
        let hello = two.message_id("Hello from one").await;
        two.click(&format!(".talk-view [data-message-id='{hello}'] .thread-button")).await;
        two.type_into("#aside .composer textarea", "Thread answer").await;
        two.click("#aside .composer button[type=submit]").await;
        two.message_id_in("#aside .thread-replies", "Thread answer").await;
        let button = format!(".talk-view [data-message-id='{hello}'] .thread-button");
        one.wait_until("showing 1 reply", "return document.querySelector(arguments[0])?.textContent === '1 reply';", vec![json!(button)]).await;
        one.click(&button).await;
        one.message_id_in("#aside .thread-replies", "Thread answer").await;
        assert_eq!(main_view(&one).await, ["Hello from one", "Hi from two"], "a reply stays out of the main view");

        // Two spellings of one emoji: 👍 from the picker and :thumbsup: typed in.
        let reactions = format!(".talk-view [data-message-id='{hi}'] .reactions");
        one.click(&format!("{reactions} .picker summary")).await;
        one.click(&format!("{reactions} .picker button[aria-label='React with thumbs up']")).await;
        two.click(&format!("{reactions} .picker summary")).await;
        two.type_into(&format!("{reactions} .picker input[name=emoji]"), ":thumbsup:").await;
        two.click(&format!("{reactions} .picker button[type=submit]")).await;
        let chips = "return [...document.querySelectorAll(arguments[0] + ' .reaction')]
            .map((chip) => chip.dataset.emoji + ' ' + chip.querySelector('.count').textContent + ' ' + chip.title);";
        for page in [&one, &two] {
            page.wait_until("showing one 👍 of 2", &format!("const chips = (() => {{ {chips} }})(); return chips.length === 1 && chips[0].startsWith('👍 2');"), vec![json!(reactions)]).await;
            let shown = page.eval(chips, vec![json!(reactions)]).await;
            assert_eq!(shown, json!(["👍 2 agent-id-1, agent-id-2"]), "{}", page.name);
        }

        // An error answer is shown as a readable line, until dismissed.
        two.click(&format!("{reactions} .picker summary")).await;
        two.type_into(&format!("{reactions} .picker input[name=emoji]"), "nosuchemoji").await;
        two.click(&format!("{reactions} .picker button[type=submit]")).await;
        let error = two.find("#errors .error[data-code='invalid_emoji']").await;
        let said = error.text().await.expect("its text");
        assert!(said.starts_with("Could not react with nosuchemoji: "), "{said}");
        two.click("#errors .error button").await;
        wait_gone(&two, "dismissing the error", "#errors .error").await;

        // A mention while agent-id-2 looks elsewhere: the badge, then reading clears it.
        two.open("/#/directory").await;
        two.wait_live().await;
        send(&one, "@agent-id-2 please review the launch checklist").await;
        let mention = format!("{link} .badge.mention");
        two.wait_until("showing the mention badge", "return document.querySelector(arguments[0])?.textContent === '@1';", vec![json!(mention)]).await;
        two.click(&link).await;
        two.message_id("@agent-id-2 please review the launch checklist").await;
        wait_gone(&two, "clearing the mention badge", &mention).await;
        wait_gone(&two, "clearing the unread badge", &format!("{link} .badge")).await;
        let totals = api(&server, "agent-id-2", "GET", "/v1.0/unread", None);
        assert_eq!(totals, json!({"talks": 0, "messages": 0, "mentions": 0}));

        // Search, and open the result: the talk, at that message.
        two.open("/#/directory").await;
        two.wait_live().await;
        two.type_into("#search-q", "checklist\n").await;
        two.click(".results .result-link").await;
        two.wait_until(
            "showing the found message",
            "return document.activeElement?.matches('.talk-view .message') && document.activeElement.querySelector('.text').textContent.includes('checklist');",
            vec![],
        )
        .await;

        // agent-id-1 edits its message, then deletes it; agent-id-2 sees both live.
        send(&one, "Lunch at noon?").await;
        let lunch = two.message_id("Lunch at noon?").await;
        let mine = format!(".talk-view [data-message-id='{lunch}']");
        one.click(&format!("{mine} .edit-button")).await;
        let field = one.find(&format!("{mine} textarea.edit-text")).await;
        field.clear().await.expect("the field cleared");
        field.send_keys("Lunch at one?").await.expect("typed");
        // Reactions redraw the message on both pages while agent-id-1 types its
        // edit and agent-id-2 types a shortcode: the draft, the open picker and
        // what is typed in it stay.
        two.click(&format!("{mine} .picker summary")).await;
        two.type_into(&format!("{mine} .picker input[name=emoji]"), "eyes").await;
        one.click(&format!("{mine} .picker summary")).await;
        one.click(&format!("{mine} .picker button[aria-label='React with party popper']")).await;
        two.find(&format!("{mine} .reaction[data-emoji='🎉']")).await;
        let typed = two.eval("return document.querySelector(arguments[0] + ' .picker[open] input[name=emoji]')?.value;", vec![json!(mine)]).await;
        assert_eq!(typed, json!("eyes"));
        two.click(&format!("{mine} .picker button[type=submit]")).await;
        one.find(&format!("{mine} .reaction[data-emoji='👀']")).await;
        let draft = one.eval("return document.querySelector(arguments[0] + ' textarea.edit-text')?.value;", vec![json!(mine)]).await;
        assert_eq!(draft, json!("Lunch at one?"));
        one.click(&format!("{mine} form.edit button[type=submit]")).await;
        two.wait_until("showing the edit", "return document.querySelector(arguments[0] + ' .text')?.textContent === 'Lunch at one?' && document.querySelector(arguments[0] + ' .edited') !== null;", vec![json!(mine)]).await;
        one.click(&format!("{mine} .delete-button")).await;
        one.click(&format!("{mine} .delete-button")).await;
        two.wait_until("showing the tombstone", "return document.querySelector(arguments[0] + ' .tombstone')?.textContent === 'This message was deleted.';", vec![json!(mine)]).await;

        // agent-id-1 writes without sending: agent-id-2 sees it typing, and
        // then not, once the message is sent.
        let typing = "return document.querySelector('.talk-view .composer .typing')?.textContent;";
        one.type_into(".talk-view .composer textarea", "Almost there").await;
        two.wait_until("showing agent-id-1 typing", &format!("return (() => {{ {typing} }})() === 'agent-id-1 is typing…';"), vec![]).await;
        one.click(".talk-view .composer button[type=submit]").await;
        two.message_id("Almost there").await;
        two.wait_until("showing nobody typing", &format!("return (() => {{ {typing} }})() === '';"), vec![]).await;

        // Close (agent-id-1), seen live by agent-id-2; then reopen.
        one.click(".talk-header button[aria-controls=aside]").await;
        // The participants' presence: agent-id-2 has the app open, agent-id-3 never came.
        one.find(".participants-panel li[data-agent-id='agent-id-2'] .presence.online").await;
        one.find(".participants-panel li[data-agent-id='agent-id-3'] .presence.offline").await;
        one.click(".participants-panel .talk-actions button").await;
        for page in [&one, &two] {
            page.wait_until("showing the talk closed", "return document.querySelector('.talk-view .composer textarea')?.disabled === true;", vec![]).await;
        }
        two.find(&format!("{link} .tag")).await;
        one.click(".participants-panel .talk-actions button").await;
        for page in [&one, &two] {
            page.wait_until("showing the talk open again", "return document.querySelector('.talk-view .composer textarea')?.disabled === false;", vec![]).await;
        }
        assert!(main_view(&two).await.iter().any(|text| text.contains("closed")), "the system message of the close");

        // agent-id-1 adds agent-id-4 and removes agent-id-3 from its panel; agent-id-2 sees both.
        one.type_into("#add-participant", "agent-id-4").await;
        one.click(".add-participant button[type=submit]").await;
        one.find(".participants-panel li[data-agent-id='agent-id-4']").await;
        one.click(".participants-panel button[aria-label='Remove agent-id-3']").await;
        wait_gone(&one, "dropping agent-id-3 from the participants", ".participants-panel li[data-agent-id='agent-id-3']").await;
        two.wait_until("showing agent-id-4 added and agent-id-3 removed", "const texts = [...document.querySelectorAll('.talk-view .system-text')].map((e) => e.textContent).join(' | ');
            return texts.includes('agent-id-4') && texts.includes('agent-id-3') ? texts : null;", vec![]).await;
        two.wait_until("counting 3 participants", "return document.querySelector('.talk-header button[aria-controls=aside]').textContent === 'Participants (3)';", vec![]).await;

        // agent-id-2 leaves: gone from its list, gone from agent-id-1's participants.
        two.click(".talk-header button[aria-controls=aside]").await;
        two.click(".participants-panel button.leave").await;
        wait_gone(&two, "dropping the talk from the list", &link).await;
        wait_gone(&one, "dropping agent-id-2 from the participants", ".participants-panel li[data-agent-id='agent-id-2']").await;
        one.wait_until("showing that agent-id-2 left", "return [...document.querySelectorAll('.talk-view .system-text')].some((e) => e.textContent.includes('agent-id-2 left'));", vec![]).await;
        // Nothing on either page was an error.
        for page in [&one, &two] {
            assert_eq!(page.texts("#errors .error span").await, Vec::<String>::new(), "{}", page.name);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver"]
async fn browser_server_restart_mid_chat_loses_nothing_on_screen() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let first = server(&dir, "127.0.0.1:0");
    let address = first.address.to_string();
    let base = format!("http://{address}");
    let talk = api(
        &first,
        "agent-id-1",
        "POST",
        "/v1.0/talks",
        Some(json!({"name": "Night shift", "participant_ids": ["agent-id-2"]})),
    );
    let talk_id = talk["id"].as_str().expect("an id").to_owned();
    run("browser_server_restart", |browsers: Browsers| async move {
        let one = browsers.open("agent-id-1", &base, DESKTOP).await;
        let two = browsers.open("agent-id-2", &base, DESKTOP).await;
        one.sign_in("agent-id-1").await;
        two.sign_in("agent-id-2").await;
        for page in [&one, &two] {
            page.click(&format!(".talk-link[data-talk-id='{talk_id}']")).await;
        }
        send(&one, "before the restart").await;
        two.message_id("before the restart").await;
        // A mark that a reload would lose.
        one.eval("window.notReloaded = true;", vec![]).await;

        first.stop("TERM");
        one.find("#connection[data-status='reconnecting']").await;
        let second = server(&dir, &address);
        // Sent at once, before the page is likely back: replayed with `since`.
        for text in ["while away 1", "while away 2"] {
            api(
                &second,
                "agent-id-2",
                "POST",
                &format!("/v1.0/talks/{talk_id}/messages"),
                Some(json!({ "text": text })),
            );
        }
        one.wait_live().await;
        two.wait_live().await;
        send(&two, "after the restart").await;
        one.message_id("after the restart").await;
        let expected = ["before the restart", "while away 1", "while away 2", "after the restart"];
        assert_eq!(main_view(&one).await, expected);
        assert_eq!(
            one.eval("return window.notReloaded === true;", vec![]).await,
            json!(true),
            "the page was not reloaded"
        );
        send(&one, "still here").await;
        two.message_id("still here").await;
        assert_eq!(main_view(&two).await, [&expected[..], &["still here"]].concat());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver"]
async fn browser_talk_of_50_messages_opens_in_fewer_than_10_requests() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = server(&dir, "127.0.0.1:0");
    let base = format!("http://{}", server.address);
    let talk = api(
        &server,
        "agent-id-1",
        "POST",
        "/v1.0/talks",
        Some(json!({"name": "Busy", "participant_ids": ["agent-id-2"]})),
    );
    let talk_id = talk["id"].as_str().expect("an id").to_owned();
    for n in 1..=50 {
        let author = if n % 2 == 0 { "agent-id-2" } else { "agent-id-1" };
        api(
            &server,
            author,
            "POST",
            &format!("/v1.0/talks/{talk_id}/messages"),
            Some(json!({ "text": format!("message {n}") })),
        );
    }
    run("browser_talk_of_50_messages", |browsers: Browsers| async move {
        let one = browsers.open("agent-id-1", &base, DESKTOP).await;
        one.sign_in("agent-id-1").await;
        // A fresh page load straight into the talk (the session is kept by the tab).
        one.open_blank().await;
        one.open(&format!("/#/talk/{talk_id}")).await;
        one.wait_until(
            "showing 50 messages",
            "return document.querySelectorAll('.talk-view .messages > .message').length === 50;",
            vec![],
        )
        .await;
        // Opening it marks it read (agent-id-2's last message is unread).
        let badge = format!(".talk-link[data-talk-id='{talk_id}'] .badge");
        wait_gone(&one, "marking the talk read", &badge).await;
        one.wait_live().await;
        // Every request of the load: the page itself, then each resource it fetched.
        let counted = one
            .eval(
                "return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                    .map((e) => new URL(e.name).pathname);",
                vec![],
            )
            .await;
        let requests: Vec<String> = serde_json::from_value(counted).expect("a list");
        eprintln!("the talk view's page load made {} HTTP requests: {requests:?}", requests.len());
        assert!(requests.len() < 10, "{requests:?}");
        assert_eq!(requests.first().map(String::as_str), Some("/"), "{requests:?}");
        assert!(requests.iter().any(|path| path.ends_with("/read")), "{requests:?}");
        assert!(!requests.iter().any(|path| path.starts_with("/app/")), "the page carries its files: {requests:?}");
        assert_eq!(main_view(&one).await.first().map(String::as_str), Some("message 1"));
    })
    .await;
}

/// The live connection's module alone, in the page, over a stand-in
/// WebSocket that the script drives frame by frame.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver"]
async fn browser_live_connection_resumes_with_since_skips_repeats_and_resyncs() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = server(&dir, "127.0.0.1:0");
    let base = format!("http://{}", server.address);
    run("browser_live_connection", |browsers: Browsers| async move {
        let page = browsers.open("live", &base, DESKTOP).await;
        page.open("/app/app.css").await;
        let script = r#"
            const done = arguments[arguments.length - 1];
            const sockets = [];
            class StandIn {
                static OPEN = 1;
                constructor(url) { this.url = url; this.sent = []; this.listeners = {}; this.readyState = 1; sockets.push(this); }
                addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
                send(text) { this.sent.push(JSON.parse(text)); }
                close() { this.emit('close', {}); }
                emit(type, event) { for (const fn of this.listeners[type] || []) fn(event); }
                frame(frame) { this.emit('message', { data: JSON.stringify(frame) }); }
            }
            window.WebSocket = StandIn;
            const seen = { events: [], subscribed: 0, resyncs: 0, statuses: [], signals: [] };
            import('/app/js/live.js').then(async ({ Live }) => {
                const live = new Live('tok en', {
                    onEvent: (frame) => seen.events.push(frame.seq),
                    onSubscribed: () => { seen.subscribed += 1; },
                    onResync: () => { seen.resyncs += 1; },
                    onStatus: (status) => seen.statuses.push(status),
                    onError: () => {},
                    onSignal: (frame) => seen.signals.push(frame.type),
                });
                live.start();
                const first = sockets[0];
                first.emit('open', {});
                first.frame({ type: 'subscribed', talk_id: '*', seq: 10 });
                for (const seq of [11, 12, 12, 11]) first.frame({ type: 'message_created', seq, talk_id: 't', data: {} });
                first.frame({ type: 'typing', talk_id: 't', agent_id: 'a', state: 'started' });
                first.close();
                await new Promise((resolve) => setTimeout(resolve, 1500));
                const second = sockets[1];
                second.emit('open', {});
                for (const seq of [12, 13]) second.frame({ type: 'message_created', seq, talk_id: 't', data: {} });
                second.frame({ type: 'subscribed', talk_id: '*', seq: 13 });
                second.frame({ type: 'resync_required', talk_id: '*', seq: 40 });
                second.frame({ type: 'message_created', seq: 39, talk_id: 't', data: {} });
                second.frame({ type: 'message_created', seq: 41, talk_id: 't', data: {} });
                done({ urls: sockets.map((s) => new URL(s.url).pathname + new URL(s.url).search), first: first.sent, second: second.sent, ...seen });
            });
        "#;
        let seen = page.client.execute_async(script, vec![]).await.expect("the script's answer");
        assert_eq!(seen["urls"], json!(["/v1.0/ws?token=tok%20en", "/v1.0/ws?token=tok%20en"]));
        assert_eq!(seen["first"], json!([{"type": "subscribe", "talk_id": "*"}]));
        assert_eq!(seen["second"], json!([{"type": "subscribe", "talk_id": "*", "since": 12}]), "resumed after the last seq seen");
        assert_eq!(seen["events"], json!([11, 12, 13, 41]), "each seq once, none at or below the resync's");
        assert_eq!(seen["subscribed"], json!(1), "the first load happens once");
        assert_eq!(seen["resyncs"], json!(1));
        assert_eq!(seen["signals"], json!(["typing"]));
        assert_eq!(seen["statuses"], json!(["connecting", "live", "reconnecting", "live"]));
    })
    .await;
}

/// The API module alone, over a stand-in `fetch` that serves three pages:
/// every list the app reads whole follows its page tokens to the end.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver"]
async fn browser_lists_read_whole_follow_their_page_tokens() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = server(&dir, "127.0.0.1:0");
    let base = format!("http://{}", server.address);
    run("browser_lists_follow_page_tokens", |browsers: Browsers| async move {
        let page = browsers.open("lists", &base, DESKTOP).await;
        page.open("/app/app.css").await;
        let script = r#"
            const done = arguments[arguments.length - 1];
            const asked = [];
            // Three pages: tokens p1 and p2 continue, the third ends; a call
            // past the third (a token not passed on) would never end.
            window.fetch = async (url) => {
                const token = new URL(url, location.href).searchParams.get('page_token');
                asked.push(token);
                const n = token ? Number(token.slice(1)) : 0;
                if (asked.length > 10) throw new Error('a list that never ends');
                return new Response(JSON.stringify({ result: [n], next_page_token: n < 2 ? `p${n + 1}` : '' }));
            };
            import('/app/js/api.js').then(async (api) => {
                const lists = {
                    talks: (token) => api.listTalks(token),
                    participants: (token) => api.listParticipants('t', token),
                    replies: (token) => api.listReplies('m', token),
                    presence: (token) => api.talkPresence('t', token),
                };
                const seen = {};
                for (const [name, list] of Object.entries(lists)) {
                    asked.length = 0;
                    try {
                        seen[name] = { items: await api.allPages(list), asked: [...asked] };
                    } catch (error) {
                        seen[name] = String(error);
                    }
                }
                done(seen);
            }, (error) => done(String(error)));
        "#;
        let seen = page.client.execute_async(script, vec![]).await.expect("the script's answer");
        for name in ["talks", "participants", "replies", "presence"] {
            assert_eq!(seen[name], json!({"items": [0, 1, 2], "asked": [null, "p1", "p2"]}), "{name}: {seen}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver"]
async fn browser_phone_width_shows_one_region_at_a_time() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = server(&dir, "127.0.0.1:0");
    let base = format!("http://{}", server.address);
    let talk = api(
        &server,
        "agent-id-2",
        "POST",
        "/v1.0/talks",
        Some(json!({"name": "On the road", "participant_ids": ["agent-id-1"]})),
    );
    let talk_id = talk["id"].as_str().expect("an id").to_owned();
    let path = format!("/v1.0/talks/{talk_id}/messages");
    let first = api(&server, "agent-id-2", "POST", &path, Some(json!({"text": "Where are the slides?"})));
    api(&server, "agent-id-2", "POST", &path, Some(json!({"text": "In the shared folder.", "parent_id": first["id"]})));
    run("browser_phone_width", |browsers: Browsers| async move {
        let phone = browsers.open("phone", &base, (390, 800)).await;
        phone.sign_in("agent-id-1").await;
        let shown = |css: &'static str| {
            let phone = phone.clone();
            async move {
                phone
                    .client
                    .find(fantoccini::Locator::Css(css))
                    .await
                    .expect(css)
                    .is_displayed()
                    .await
                    .expect("shown or not")
            }
        };
        // The list alone, then the talk alone (with a way back), then the thread over it.
        assert!(shown("#sidebar").await && !shown("#main").await);
        phone.click(&format!(".talk-link[data-talk-id='{talk_id}']")).await;
        let first_id = phone.message_id("Where are the slides?").await;
        assert!(!shown("#sidebar").await && shown(".talk-view .back").await);
        send(&phone, "Found them, thanks").await;
        phone.message_id("Found them, thanks").await;
        phone.click(&format!(".talk-view [data-message-id='{first_id}'] .thread-button")).await;
        phone.message_id_in("#aside .thread-replies", "In the shared folder.").await;
        assert!(shown("#aside .composer textarea").await);
        phone.click("#aside button[aria-label='Close the thread']").await;
        wait_gone(&phone, "closing the thread", "#aside:not([hidden])").await;
        phone.click(".talk-view .back").await;
        phone.find("#sidebar .talk-list").await;
        assert!(!shown("#main").await);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver"]
async fn browser_screenshots_for_the_readme() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = server(&dir, "127.0.0.1:0");
    let base = format!("http://{}", server.address);
    let talk = api(
        &server,
        "agent-id-1",
        "POST",
        "/v1.0/talks",
        Some(
            json!({"name": "Project Discussion", "detail": "Q3 planning", "participant_ids": ["agent-id-2", "agent-id-3"]}),
        ),
    );
    let talk_id = talk["id"].as_str().expect("an id").to_owned();
    let issue = api(
        &server,
        "agent-id-2",
        "POST",
        "/v1.0/talks",
        Some(json!({"name": "Customer Issue #12345", "participant_ids": ["agent-id-1", "agent-123"]})),
    );
    let issue_path = format!("/v1.0/talks/{}/messages", issue["id"].as_str().expect("an id"));
    api(&server, "agent-123", "POST", &issue_path, Some(json!({"text": "Checkout fails with error 502."})));
    let ask = json!({"text": "@agent-id-1 can you check the gateway logs?", "mentions": ["agent-id-1"]});
    api(&server, "agent-id-2", "POST", &issue_path, Some(ask));
    let post =
        |agent: &str, body: Value| api(&server, agent, "POST", &format!("/v1.0/talks/{talk_id}/messages"), Some(body));
    let question = post("agent-id-1", json!({"text": "Can we ship the API review by Friday?"}));
    let question_id = question["id"].as_str().expect("an id").to_owned();
    post("agent-id-2", json!({"text": "Yes, if the tests land on Thursday.", "parent_id": question_id}));
    post("agent-id-3", json!({"text": "I'll take the WebSocket part.", "parent_id": question_id}));
    post("agent-id-1", json!({"text": "Great, thanks both!", "parent_id": question_id}));
    post(
        "agent-id-3",
        json!({"text": "Here is the design document.", "medias": [{"type": "application/pdf", "url": "https://example.com/design-doc.pdf", "name": "design-document.pdf"}]}),
    );
    let poll = post("agent-id-1", json!({"text": "Poll: meet on Tuesday? 👍 yes, 👎 no"}));
    let poll_id = poll["id"].as_str().expect("an id").to_owned();
    for (agent, emoji) in [("agent-id-2", "👍"), ("agent-id-3", "thumbsup"), ("agent-id-2", "tada")] {
        api(&server, agent, "POST", &format!("/v1.0/messages/{poll_id}/reactions"), Some(json!({ "emoji": emoji })));
    }
    post("agent-id-2", json!({"text": "@agent-id-1 Tuesday works, I'll book the room.", "mentions": ["agent-id-1"]}));
    api(&server, "agent-id-2", "POST", &format!("/v1.0/talks/{talk_id}/read"), Some(json!({})));
    api(&server, "agent-id-3", "POST", &format!("/v1.0/talks/{talk_id}/read"), Some(json!({})));
    run("browser_screenshots_for_the_readme", |browsers: Browsers| async move {
        let one = browsers.open("readme", &base, (1200, 720)).await;
        one.sign_in("agent-id-1").await;
        one.click(&format!(".talk-link[data-talk-id='{talk_id}']")).await;
        one.message_id("@agent-id-1 Tuesday works, I'll book the room.").await;
        let read = format!(".talk-link[data-talk-id='{talk_id}'] .badge");
        one.wait_until(
            "marking the talk read",
            "return document.querySelector(arguments[0]) === null;",
            vec![json!(read)],
        )
        .await;
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
        std::fs::create_dir_all(&docs).expect("docs/");
        one.screenshot(&docs.join("web-talk.png")).await;
        one.click(&format!(".talk-view [data-message-id='{question_id}'] .thread-button")).await;
        one.message_id_in("#aside .thread-replies", "Great, thanks both!").await;
        one.screenshot(&docs.join("web-thread.png")).await;
        let phone = browsers.open("readme-phone", &base, (390, 720)).await;
        phone.sign_in("agent-id-2").await;
        phone.click(&format!(".talk-link[data-talk-id='{talk_id}']")).await;
        phone.message_id("@agent-id-1 Tuesday works, I'll book the room.").await;
        phone.screenshot(&docs.join("web-phone.png")).await;
    })
    .await;
}
