//! The authorization matrix: every operation of the route table (read from
//! `talk_http::openapi()`, so a new route without an entry here fails this
//! test) called by every kind of caller — never a participant, left,
//! removed, active author, active non-author, and never a member of a
//! public talk (the fixture's talk, made public, with the same members) —
//! on an active talk, a talk
//! closed by a participant, and a talk that closed because its last
//! participant left. Each cell checks the exact status and error code that
//! API.md's "Which check answers first" gives. The WebSocket route's cells
//! are subscribe frames over a real socket.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{Api, api, next_text, token};
use futures::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// Active participant, author of the fixture's message and its 👍 reaction.
    Author,
    /// Active participant, not the author.
    Other,
    /// Left the talk (`left_reason: left`).
    Left,
    /// Removed by another participant (`left_reason: removed`).
    Removed,
    /// Never a participant.
    Stranger,
    /// Never a participant of the fixture's talk, which is public for this
    /// caller: it may read the Talk and join, and nothing else a stranger
    /// may not.
    PublicStranger,
}

const CALLERS: [Caller; 6] =
    [Caller::Author, Caller::Other, Caller::Left, Caller::Removed, Caller::Stranger, Caller::PublicStranger];

impl Caller {
    fn agent(self) -> &'static str {
        match self {
            Self::Author => "agent-id-1",
            Self::Other => "agent-id-2",
            Self::Left => "agent-id-3",
            Self::Removed => "agent-id-4",
            Self::Stranger => "agent-123",
            Self::PublicStranger => "agent-b",
        }
    }

    /// Never a participant of the fixture's talk, public or not.
    fn never(self) -> bool {
        matches!(self, Self::Stranger | Self::PublicStranger)
    }
}

/// The state of the fixture's talk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TalkState {
    Active,
    /// Closed by the author; Author and Other are still active.
    Closed,
    /// Closed because its last participant left: Author and Other left too
    /// (the author last), so they are former participants whose latest
    /// record left — eligible to reopen.
    Abandoned,
}

const STATES: [TalkState; 3] = [TalkState::Active, TalkState::Closed, TalkState::Abandoned];

/// What the caller's membership is in this state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Membership {
    Active,
    Left,
    Removed,
    Never,
}

fn membership(caller: Caller, state: TalkState) -> Membership {
    match (caller, state) {
        (Caller::Author | Caller::Other, TalkState::Abandoned) | (Caller::Left, _) => Membership::Left,
        (Caller::Author | Caller::Other, _) => Membership::Active,
        (Caller::Removed, _) => Membership::Removed,
        (Caller::Stranger | Caller::PublicStranger, _) => Membership::Never,
    }
}

/// The expected answer of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A success with this status.
    Ok(u16),
    /// An error in the one shape.
    Err(u16, &'static str),
    /// WebSocket: `subscribed` (after any replay).
    Subscribed,
    /// WebSocket: a replay ended by `unsubscribed` with reason `left`.
    UnsubscribedLeft,
    /// WebSocket: an `error` frame with this code.
    FrameError(&'static str),
    /// WebSocket: a frame taken without an answer (typing).
    Taken,
    /// WebSocket: this many `presence` frames (a `presence_subscribe`).
    PresenceFrames(usize),
}

const NOT_FOUND: Expect = Expect::Err(404, "not_found");
const NOT_PARTICIPANT: Expect = Expect::Err(403, "not_participant");
const NOT_AUTHOR: Expect = Expect::Err(403, "not_author");
const TALK_CLOSED: Expect = Expect::Err(409, "talk_closed");

/// Steps 5 and 6: a stranger does not see the talk; a former participant
/// is not an active one; an active one gets `then`.
fn member(caller: Caller, state: TalkState, then: Expect) -> Expect {
    match membership(caller, state) {
        Membership::Never => NOT_FOUND,
        Membership::Left | Membership::Removed => NOT_PARTICIPANT,
        Membership::Active => then,
    }
}

/// A change refused on a closed talk (step 9), allowed on an active one.
fn change(caller: Caller, state: TalkState, ok: Expect) -> Expect {
    member(caller, state, if state == TalkState::Active { ok } else { TALK_CLOSED })
}

/// One row of the matrix: an operation of the route table, in one variant.
struct Row {
    method: &'static str,
    path: &'static str,
    variant: &'static str,
    expect: fn(Caller, TalkState) -> Expect,
}

fn rows() -> Vec<Row> {
    fn row(
        method: &'static str,
        path: &'static str,
        variant: &'static str,
        expect: fn(Caller, TalkState) -> Expect,
    ) -> Row {
        Row { method, path, variant, expect }
    }
    vec![
        row("get", "/healthz", "", |_, _| Expect::Ok(200)),
        row("get", "/v1.0/openapi.json", "", |_, _| Expect::Ok(200)),
        // Not about the fixture's talk: every authenticated agent may.
        row("post", "/v1.0/talks", "group", |_, _| Expect::Ok(201)),
        row("get", "/v1.0/talks", "", |_, _| Expect::Ok(200)),
        row("get", "/v1.0/events", "since=0", |_, _| Expect::Ok(200)),
        row("get", "/v1.0/talks/public", "", |_, _| Expect::Ok(200)),
        // Search: all one's talks (any agent), or one talk (steps 5 and 6).
        row("get", "/v1.0/search/messages", "all talks", |_, _| Expect::Ok(200)),
        row("get", "/v1.0/search/messages", "in the talk", |c, s| member(c, s, Expect::Ok(200))),
        // Read by a former participant (the Talk object only), and a public talk by anyone.
        row("get", "/v1.0/talks/{id}", "", |c, _| if c == Caller::Stranger { NOT_FOUND } else { Expect::Ok(200) }),
        // Anyone joins a public talk; a talk that is not public answers as
        // any command about it, and an active participant's join is a repeat.
        row("post", "/v1.0/talks/{id}/join", "", |c, s| match (c, s) {
            (Caller::PublicStranger, TalkState::Active) => Expect::Ok(201),
            (Caller::PublicStranger, _) => TALK_CLOSED,
            _ => member(c, s, Expect::Ok(200)),
        }),
        row("patch", "/v1.0/talks/{id}", "rename", |c, s| change(c, s, Expect::Ok(200))),
        // A change that changes nothing is a repeat: 200 on a closed talk too.
        row("patch", "/v1.0/talks/{id}", "same name", |c, s| member(c, s, Expect::Ok(200))),
        row("post", "/v1.0/talks/{id}/close", "", |c, s| member(c, s, Expect::Ok(200))),
        row("post", "/v1.0/talks/{id}/reopen", "", |c, s| match (membership(c, s), s) {
            // Nobody is active: a former participant whose latest record left may.
            (Membership::Left, TalkState::Abandoned) => Expect::Ok(200),
            _ => member(c, s, Expect::Ok(200)),
        }),
        row("get", "/v1.0/talks/{id}/participants", "", |c, s| member(c, s, Expect::Ok(200))),
        row("post", "/v1.0/talks/{id}/participants", "new agent", |c, s| change(c, s, Expect::Ok(201))),
        row("post", "/v1.0/talks/{id}/participants", "active agent", |c, s| {
            change(c, s, Expect::Err(409, "already_participant"))
        }),
        // `me`: leaving is allowed on a closed talk, and a repeat leave is 200.
        row("delete", "/v1.0/talks/{id}/participants/{participant_id}", "me", |c, _| {
            if c.never() { NOT_FOUND } else { Expect::Ok(200) }
        }),
        row("delete", "/v1.0/talks/{id}/participants/{participant_id}", "own record", |c, _| {
            if c.never() { NOT_FOUND } else { Expect::Ok(200) }
        }),
        row("delete", "/v1.0/talks/{id}/participants/{participant_id}", "another's record", |c, s| {
            change(c, s, Expect::Ok(200))
        }),
        row("post", "/v1.0/talks/{id}/messages", "", |c, s| change(c, s, Expect::Ok(201))),
        row("get", "/v1.0/talks/{id}/messages", "", |c, s| member(c, s, Expect::Ok(200))),
        row("get", "/v1.0/messages/{id}", "", |c, s| member(c, s, Expect::Ok(200))),
        row("get", "/v1.0/messages/{id}/replies", "", |c, s| member(c, s, Expect::Ok(200))),
        // Authorship (step 8) answers before the state (step 9).
        row("patch", "/v1.0/messages/{id}", "", |c, s| match c {
            Caller::Other if membership(c, s) == Membership::Active => NOT_AUTHOR,
            _ => change(c, s, Expect::Ok(200)),
        }),
        // Deleting one's own message is allowed on a closed talk.
        row("delete", "/v1.0/messages/{id}", "", |c, s| match c {
            Caller::Other if membership(c, s) == Membership::Active => NOT_AUTHOR,
            _ => member(c, s, Expect::Ok(200)),
        }),
        row("post", "/v1.0/messages/{id}/reactions", "new emoji", |c, s| change(c, s, Expect::Ok(200))),
        // The author's 👍 is there: a repeat, 200 even on a closed talk.
        row("post", "/v1.0/messages/{id}/reactions", "author's emoji", |c, s| match c {
            Caller::Author => member(c, s, Expect::Ok(200)),
            _ => change(c, s, Expect::Ok(200)),
        }),
        // Only the author has a 👍 to remove; for the others it is a repeat.
        row("delete", "/v1.0/messages/{id}/reactions/{emoji}", "", |c, s| match c {
            Caller::Author => change(c, s, Expect::Ok(200)),
            _ => member(c, s, Expect::Ok(200)),
        }),
        row("get", "/v1.0/messages/{id}/reactions/{emoji}", "", |c, s| member(c, s, Expect::Ok(200))),
        // Read state: allowed on a closed talk, to active participants only.
        row("post", "/v1.0/talks/{id}/read", "", |c, s| member(c, s, Expect::Ok(200))),
        row("post", "/v1.0/talks/{id}/unread", "", |c, s| member(c, s, Expect::Ok(200))),
        row("get", "/v1.0/talks/{id}/reads", "", |c, s| member(c, s, Expect::Ok(200))),
        // Not about the fixture's talk: every authenticated agent may.
        row("get", "/v1.0/unread", "", |_, _| Expect::Ok(200)),
        // WebSocket subscribe frames, over a real socket.
        row("get", "/v1.0/ws", "subscribe talk", |c, s| match membership(c, s) {
            Membership::Never => Expect::FrameError("not_found"),
            Membership::Left | Membership::Removed => Expect::FrameError("not_participant"),
            Membership::Active => Expect::Subscribed,
        }),
        row("get", "/v1.0/ws", "subscribe talk since 0", |c, s| match membership(c, s) {
            Membership::Never => Expect::FrameError("not_found"),
            Membership::Left | Membership::Removed => Expect::UnsubscribedLeft,
            Membership::Active => Expect::Subscribed,
        }),
        row("get", "/v1.0/ws", "subscribe *", |_, _| Expect::Subscribed),
        // Typing, on a socket subscribed to "*": active participants of an open talk only.
        row("get", "/v1.0/ws", "typing", |c, s| match (membership(c, s), s) {
            (Membership::Active, TalkState::Active) => Expect::Taken,
            (Membership::Active, _) => Expect::FrameError("talk_closed"),
            (Membership::Never, _) => Expect::FrameError("not_found"),
            _ => Expect::FrameError("not_participant"),
        }),
        // The presence of the fixture's author: itself, or an agent sharing an active talk with it.
        row("get", "/v1.0/ws", "presence_subscribe", |c, s| {
            Expect::PresenceFrames(usize::from(shares_with_author(c, s)))
        }),
        row("get", "/v1.0/agents/{agent_id}/presence", "the author", |c, s| {
            if shares_with_author(c, s) { Expect::Ok(200) } else { NOT_FOUND }
        }),
        row("get", "/v1.0/talks/{id}/presence", "", |c, s| member(c, s, Expect::Ok(200))),
    ]
}

/// Whether the caller may see the presence of the fixture's author: it is
/// the author, or both are active in the talk.
fn shares_with_author(caller: Caller, state: TalkState) -> bool {
    caller == Caller::Author
        || (membership(caller, state) == Membership::Active && membership(Caller::Author, state) == Membership::Active)
}

/// A talk in a known state, and the ids a request needs.
struct Fixture {
    api: Api,
    talk: String,
    message: String,
    /// Each agent's latest participant record in the talk.
    records: HashMap<String, String>,
}

/// The fixture's talk in `state`: a group talk, or a public one with the
/// same members.
async fn fixture(state: TalkState, public: bool) -> Fixture {
    let api = api();
    let members = ["agent-id-2", "agent-id-3", "agent-id-4", "agent-a"];
    let talk = if public {
        let body = json!({"type": "public", "name": "Project Discussion", "participant_ids": members});
        let talk = api.post("agent-id-1", "/v1.0/talks", body).await.ok(201);
        talk["id"].as_str().unwrap().to_owned()
    } else {
        api.group("agent-id-1", &members).await
    };
    let message = api.send("agent-id-1", &talk, "hello").await["id"].as_str().unwrap().to_owned();
    api.post("agent-id-1", &format!("/v1.0/messages/{message}/reactions"), json!({"emoji": "👍"})).await.ok(200);
    let list = api.get("agent-id-1", &format!("/v1.0/talks/{talk}/participants")).await.ok(200);
    let records: HashMap<String, String> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["agent_id"].as_str().unwrap().to_owned(), p["id"].as_str().unwrap().to_owned()))
        .collect();
    api.delete("agent-id-3", &format!("/v1.0/talks/{talk}/participants/me")).await.ok(200);
    let removed = &records["agent-id-4"];
    api.delete("agent-id-1", &format!("/v1.0/talks/{talk}/participants/{removed}")).await.ok(200);
    match state {
        TalkState::Active => {}
        TalkState::Closed => {
            api.post_empty("agent-id-1", &format!("/v1.0/talks/{talk}/close")).await.ok(200);
        }
        TalkState::Abandoned => {
            for agent in ["agent-a", "agent-id-2", "agent-id-1"] {
                api.delete(agent, &format!("/v1.0/talks/{talk}/participants/me")).await.ok(200);
            }
            let closed = api.get("agent-id-1", &format!("/v1.0/talks/{talk}")).await.ok(200);
            assert_eq!(closed["status"], "closed", "the last leave closes the talk");
        }
    }
    Fixture { api, talk, message, records }
}

/// The request of an HTTP cell: method, URI and body.
fn request(row: &Row, caller: Caller, fx: &Fixture) -> (String, String, Option<Value>) {
    let record = match row.variant {
        "me" => "me".to_owned(),
        // A stranger has none: it names a real record of the talk all the same.
        "own record" => fx.records.get(caller.agent()).unwrap_or(&fx.records["agent-a"]).clone(),
        _ => fx.records["agent-a"].clone(),
    };
    let id = if row.path.starts_with("/v1.0/messages/") { &fx.message } else { &fx.talk };
    let mut uri = row
        .path
        .replace("{id}", id)
        .replace("{participant_id}", &record)
        .replace("{emoji}", "%F0%9F%91%8D")
        .replace("{agent_id}", Caller::Author.agent());
    if row.path == "/v1.0/events" {
        uri.push_str("?since=0");
    }
    if row.path == "/v1.0/search/messages" {
        uri.push_str("?q=hello");
        if row.variant == "in the talk" {
            uri.push_str(&format!("&talk_id={}", fx.talk));
        }
    }
    let body = match (row.method, row.path, row.variant) {
        ("post", "/v1.0/talks", _) => Some(json!({"name": "Another", "participant_ids": ["agent-id-2"]})),
        ("patch", "/v1.0/talks/{id}", "rename") => Some(json!({"name": "Renamed"})),
        ("patch", "/v1.0/talks/{id}", _) => Some(json!({"name": "Project Discussion"})),
        ("post", "/v1.0/talks/{id}/participants", "new agent") => Some(json!({"agent_id": "agent-e"})),
        ("post", "/v1.0/talks/{id}/participants", _) => Some(json!({"agent_id": "agent-id-2"})),
        ("post", "/v1.0/talks/{id}/messages", _) => Some(json!({"text": "hi"})),
        ("patch", "/v1.0/messages/{id}", _) => Some(json!({"text": "edited"})),
        ("post", "/v1.0/talks/{id}/unread", _) => Some(json!({"message_id": fx.message})),
        ("post", "/v1.0/messages/{id}/reactions", "new emoji") => Some(json!({"emoji": "🎉"})),
        ("post", "/v1.0/messages/{id}/reactions", _) => Some(json!({"emoji": "thumbsup"})),
        _ => None,
    };
    (row.method.to_uppercase(), uri, body)
}

/// What a WebSocket cell answered.
async fn subscribe(fx: &Fixture, row: &Row, caller: Caller) -> Expect {
    let address = fx.api.serve().await;
    let url = format!("ws://{address}/v1.0/ws?token={}", token(caller.agent()));
    let (mut socket, response) = connect_async(url).await.expect("the upgrade");
    assert_eq!(response.status().as_u16(), 101);
    let frame = match row.variant {
        "subscribe talk" => json!({"type": "subscribe", "talk_id": fx.talk}),
        "subscribe talk since 0" => json!({"type": "subscribe", "talk_id": fx.talk, "since": 0}),
        _ => json!({"type": "subscribe", "talk_id": "*"}),
    };
    socket.send(Message::text(frame.to_string())).await.expect("sent");
    let signal = match row.variant {
        "typing" => json!({"type": "typing", "talk_id": fx.talk}),
        "presence_subscribe" => json!({"type": "presence_subscribe", "agent_ids": [Caller::Author.agent()]}),
        _ => return subscribed(&mut socket).await,
    };
    assert_eq!(subscribed(&mut socket).await, Expect::Subscribed);
    // The signal, then an unsubscribe whose answer comes after whatever the signal brought.
    socket.send(Message::text(signal.to_string())).await.expect("sent");
    socket.send(Message::text(json!({"type": "unsubscribe", "talk_id": "*"}).to_string())).await.expect("sent");
    let mut presence = 0;
    loop {
        let frame = next_text(&mut socket).await;
        match frame["type"].as_str().expect("a type") {
            "unsubscribed" if row.variant == "typing" => return Expect::Taken,
            "unsubscribed" => return Expect::PresenceFrames(presence),
            "presence" => {
                assert_eq!(frame["agent_id"], Caller::Author.agent());
                presence += 1;
            }
            "error" => return frame_error(&frame),
            _ => assert!(frame["seq"].is_u64(), "an event, not {frame}"),
        }
    }
}

fn frame_error(frame: &Value) -> Expect {
    let code = frame["code"].as_str().expect("a code");
    let known =
        ["not_found", "not_participant", "talk_closed", "invalid_request", "invalid_json", "already_subscribed"];
    Expect::FrameError(known.into_iter().find(|k| *k == code).unwrap_or("unexpected code"))
}

/// What a subscribe answered.
async fn subscribed(socket: &mut common::Socket) -> Expect {
    loop {
        let frame = next_text(socket).await;
        match frame["type"].as_str().expect("a type") {
            "subscribed" => return Expect::Subscribed,
            "unsubscribed" if frame["reason"] == "left" => return Expect::UnsubscribedLeft,
            "error" => return frame_error(&frame),
            _ => assert!(frame["seq"].is_u64(), "a replayed event, not {frame}"),
        }
    }
}

/// Runs one cell on a fresh fixture; answers what happened.
async fn run(row: &Row, caller: Caller, state: TalkState) -> Expect {
    let fx = fixture(state, caller == Caller::PublicStranger).await;
    if row.path == "/v1.0/ws" {
        return subscribe(&fx, row, caller).await;
    }
    let (method, uri, body) = request(row, caller, &fx);
    let reply = fx.api.call(&method, &uri, Some(caller.agent()), body).await;
    if reply.status < 400 {
        return Expect::Ok(reply.status);
    }
    reply.assert_error(reply.status, reply.code());
    let codes = [
        "not_found",
        "not_participant",
        "not_author",
        "talk_closed",
        "already_participant",
        "message_deleted",
        "invalid_request",
        "invalid_id",
        "limit_exceeded",
        "direct_talk_full",
    ];
    Expect::Err(reply.status, codes.into_iter().find(|c| *c == reply.code()).unwrap_or("unexpected code"))
}

/// Every operation of the served document, as `(method, path)`.
fn documented_operations() -> BTreeSet<(String, String)> {
    let document: Value = serde_json::from_str(&talk_http::openapi().to_json().unwrap()).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "options", "head", "patch", "trace"] {
            if item.get(method).is_some() {
                operations.insert((method.to_owned(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn every_documented_operation_has_a_matrix_row_and_every_row_is_documented() {
    let documented = documented_operations();
    let covered: BTreeSet<(String, String)> = rows().iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(missing.is_empty(), "operations without a row in the authorization matrix: {missing:?}");
    let stale: Vec<_> = covered.difference(&documented).collect();
    assert!(stale.is_empty(), "matrix rows for operations the route table does not have: {stale:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_kind_of_caller_as_the_precedence_says() {
    let documented = documented_operations();
    let rows = rows();
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for row in &rows {
        assert!(documented.contains(&(row.method.to_owned(), row.path.to_owned())), "{} {}", row.method, row.path);
        for state in STATES {
            for caller in CALLERS {
                let expected = (row.expect)(caller, state);
                let got = run(row, caller, state).await;
                checked += 1;
                if got != expected {
                    failures.push(format!(
                        "{} {} [{}] as {caller:?} on a {state:?} talk: expected {expected:?}, got {got:?}",
                        row.method.to_uppercase(),
                        row.path,
                        row.variant
                    ));
                }
            }
        }
    }
    let built = rows.len() * STATES.len() * CALLERS.len();
    eprintln!(
        "authorization matrix: {checked} (route, caller, talk state) cells checked over {} operations",
        documented.len()
    );
    assert!(failures.is_empty(), "{} of {checked} cells differ:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= built, "{checked} cells checked, {built} built");
}
