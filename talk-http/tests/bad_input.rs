//! The bad-input table: malformed, truncated, mistyped, oversized and
//! otherwise wrong requests across every endpoint, and WebSocket frames the
//! server cannot use. Each row is `(method, path, headers, body, expected
//! status, expected code)`; each answers in the one error shape with its
//! status and code, and writes nothing: the store's event log head is the
//! same before and after every case.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::{Api, PATIENCE, Setup, api, api_with, next_text, token};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use talk_http::Options;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// The JSON content type, for rows that want the usual one.
const JSON: Option<&str> = Some("application/json");

/// One row of the table.
struct Case {
    method: &'static str,
    /// With `{T}` (the talk), `{M}` (a top-level message), `{R}` (a reply to
    /// it), `{U}` (another talk of the caller), `{N}` (a message of `{U}`),
    /// `{P}` (a participant record of `{U}`), `{TOKEN}` (a page token of
    /// another list), `{L}` (a talk the caller left), replaced.
    path: String,
    /// `Authorization` header value; `None` sends none.
    authorization: Option<String>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn bearer() -> Option<String> {
    Some(format!("Bearer {}", token("agent-id-1")))
}

fn case(method: &'static str, path: &str, body: impl Into<Vec<u8>>, status: u16, code: &'static str) -> Case {
    let body = body.into();
    let content_type = if body.is_empty() { None } else { JSON };
    Case { method, path: path.to_owned(), authorization: bearer(), content_type, body, status, code }
}

fn invalid(method: &'static str, path: &str, body: impl Into<Vec<u8>>) -> Case {
    case(method, path, body, 400, "invalid_request")
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

fn media(media: Value) -> Vec<u8> {
    json!({"text": "see", "medias": [media]}).to_string().into_bytes()
}

fn cases() -> Vec<Case> {
    let send = "/v1.0/talks/{T}/messages";
    let pdf = json!({"type": "application/pdf", "url": "https://example.com/a.pdf", "name": "a.pdf"});
    let with = |key: &str, value: Value| {
        let mut m = pdf.clone();
        m[key] = value;
        media(m)
    };
    let mut cases = vec![
        // ------------------------------------------------ routes and methods
        case("GET", "/v1.0/nowhere", "", 404, "not_found"),
        case("PUT", "/v1.0/talks", "", 405, "method_not_allowed"),
        case("DELETE", "/v1.0/talks", "", 405, "method_not_allowed"),
        // ---------------------------------------------------- authentication
        Case { authorization: None, ..case("POST", "/v1.0/talks", "{}", 401, "unauthenticated") },
        Case {
            authorization: Some("Basic YWdlbnQ6cHc=".into()),
            ..case("GET", "/v1.0/talks", "", 401, "unauthenticated")
        },
        Case { authorization: Some("Bearer nope".into()), ..case("GET", "/v1.0/talks", "", 401, "unauthenticated") },
        Case { authorization: Some("Bearer".into()), ..case("GET", "/v1.0/talks", "", 401, "unauthenticated") },
        // Authentication answers before a bad path id.
        Case { authorization: None, ..case("GET", "/v1.0/talks/nope", "", 401, "unauthenticated") },
        // ------------------------------------------------------ create talk
        Case { content_type: Some("text/plain"), ..invalid("POST", "/v1.0/talks", r#"{"participant_ids":[]}"#) }
            .status(415, "unsupported_media_type"),
        Case { content_type: None, ..invalid("POST", "/v1.0/talks", r#"{"participant_ids":[]}"#) }
            .status(415, "unsupported_media_type"),
        Case { content_type: Some("application/jsonx"), ..invalid("POST", "/v1.0/talks", "{}") }
            .status(415, "unsupported_media_type"),
        case("POST", "/v1.0/talks", format!(r#"{{"name": "{}"}}"#, long(1024 * 1024 + 16)), 413, "payload_too_large"),
        case("POST", "/v1.0/talks", r#"{"name": "x", "participant_ids": ["#, 400, "invalid_json"),
        case("POST", "/v1.0/talks", "{", 400, "invalid_json"),
        Case { content_type: JSON, ..case("POST", "/v1.0/talks", "", 400, "invalid_json") },
        case("POST", "/v1.0/talks", r#"{"name": "x", "participant_ids": []} {}"#, 400, "invalid_json"),
        case("POST", "/v1.0/talks", r#"{"name": 'x', "participant_ids": []}"#, 400, "invalid_json"),
        case("POST", "/v1.0/talks", b"{\"name\": \"\xff\xfe\", \"participant_ids\": []}".to_vec(), 400, "invalid_json"),
        invalid("POST", "/v1.0/talks", "[]"),
        invalid("POST", "/v1.0/talks", r#""a talk""#),
        invalid("POST", "/v1.0/talks", r#"[{"name": "x", "participant_ids": []}]"#),
        invalid("POST", "/v1.0/talks", r#"{"name": "x"}"#),
        invalid("POST", "/v1.0/talks", r#"{"name": 5, "participant_ids": []}"#),
        invalid("POST", "/v1.0/talks", r#"{"name": "x", "participant_ids": [], "nmae": "y"}"#),
        invalid("POST", "/v1.0/talks", r#"{"name": "x", "participant_ids": "agent-id-2"}"#),
        invalid("POST", "/v1.0/talks", r#"{"name": "x", "participant_ids": [["agent-id-2"]]}"#),
        invalid("POST", "/v1.0/talks", r#"{"name": "x", "participant_ids": ["agent id 2"]}"#),
        invalid("POST", "/v1.0/talks", format!(r#"{{"name": "x", "participant_ids": ["{}"]}}"#, long(129))),
        invalid("POST", "/v1.0/talks", r#"{"name": "x", "participant_ids": [""]}"#),
        invalid("POST", "/v1.0/talks", r#"{"name": "x", "type": "triangle", "participant_ids": []}"#),
        invalid("POST", "/v1.0/talks", r#"{"name": "", "participant_ids": []}"#),
        invalid("POST", "/v1.0/talks", format!(r#"{{"name": "{}", "participant_ids": []}}"#, long(201))),
        invalid(
            "POST",
            "/v1.0/talks",
            format!(r#"{{"name": "x", "detail": "{}", "participant_ids": []}}"#, long(2001)),
        ),
        invalid("POST", "/v1.0/talks", r#"{"name": "bell\u0007", "participant_ids": []}"#),
        invalid("POST", "/v1.0/talks", r#"{"name": "x", "detail": "nul\u0000", "participant_ids": []}"#),
        invalid("POST", "/v1.0/talks", r#"{"type": "direct", "participant_ids": []}"#),
        invalid("POST", "/v1.0/talks", r#"{"type": "direct", "participant_ids": ["agent-id-2", "agent-id-3"]}"#),
        invalid("POST", "/v1.0/talks?dry_run=1", r#"{"name": "x", "participant_ids": []}"#),
        case("POST", "/v1.0/talks", r#"{"name": "x", "participant_ids": ["agent-nobody"]}"#, 400, "unknown_agent"),
        // -------------------------------------------------------- list talks
        invalid("GET", "/v1.0/talks?page_size=0", ""),
        invalid("GET", "/v1.0/talks?page_size=101", ""),
        invalid("GET", "/v1.0/talks?page_size=-1", ""),
        invalid("GET", "/v1.0/talks?page_size=ten", ""),
        invalid("GET", "/v1.0/talks?page_size=99999999999999999999999", ""),
        invalid("GET", "/v1.0/talks?page_size=1&page_size=2", ""),
        invalid("GET", "/v1.0/talks?page_token=forged", ""),
        invalid("GET", "/v1.0/talks?page_token={TOKEN}", ""),
        invalid("GET", "/v1.0/talks?status=open", ""),
        invalid("GET", "/v1.0/talks?sort=asc", ""),
        // ------------------------------------------- the public talk directory
        case("POST", "/v1.0/talks/public", "", 405, "method_not_allowed"),
        case("PATCH", "/v1.0/talks/public", r#"{"name": "x"}"#, 405, "method_not_allowed"),
        case("DELETE", "/v1.0/talks/public", "", 405, "method_not_allowed"),
        case("PUT", "/v1.0/talks/public", "", 405, "method_not_allowed"),
        Case { authorization: None, ..case("GET", "/v1.0/talks/public", "", 401, "unauthenticated") },
        invalid("GET", "/v1.0/talks/public?q=", ""),
        invalid("GET", &format!("/v1.0/talks/public?q={}", long(201)), ""),
        invalid("GET", &format!("/v1.0/talks/public?q={}", "%C3%A9".repeat(201)), ""),
        invalid("GET", "/v1.0/talks/public?q=bell%07", ""),
        invalid("GET", "/v1.0/talks/public?q=a&q=b", ""),
        invalid("GET", "/v1.0/talks/public?name=general", ""),
        invalid("GET", "/v1.0/talks/public?status=active", ""),
        invalid("GET", "/v1.0/talks/public?page_size=0", ""),
        invalid("GET", "/v1.0/talks/public?page_size=101", ""),
        invalid("GET", "/v1.0/talks/public?page_token=forged", ""),
        invalid("GET", "/v1.0/talks/public?page_token={TOKEN}", ""),
        invalid("GET", "/v1.0/talks/public?q=general&page_token={TOKEN}", ""),
        // ------------------------------------------------------------- join
        case("POST", "/v1.0/talks/nope/join", "", 400, "invalid_id"),
        invalid("POST", "/v1.0/talks/{T}/join?as=agent-id-2", ""),
        // ---------------------------------------------------- one talk by id
        case("GET", "/v1.0/talks/not-a-uuid", "", 400, "invalid_id"),
        case("GET", "/v1.0/talks/{T}0", "", 400, "invalid_id"),
        case("GET", "/v1.0/talks/%00", "", 400, "invalid_id"),
        invalid("GET", "/v1.0/talks/{T}?verbose=1", ""),
        // The path id answers before the body.
        case("PATCH", "/v1.0/talks/nope", "{", 400, "invalid_id"),
        case("PATCH", "/v1.0/talks/{T}", "{", 400, "invalid_json"),
        invalid("PATCH", "/v1.0/talks/{T}", "{}"),
        invalid("PATCH", "/v1.0/talks/{T}", r#"{"name": null, "detail": null}"#),
        invalid("PATCH", "/v1.0/talks/{T}", r#"{"title": "x"}"#),
        invalid("PATCH", "/v1.0/talks/{T}", format!(r#"{{"name": "{}"}}"#, long(201))),
        invalid("PATCH", "/v1.0/talks/{T}", r#"{"name": "tab\tis\u001bnot"}"#),
        invalid("PATCH", "/v1.0/talks/{T}", r#"{"name": ""}"#),
        case("POST", "/v1.0/talks/nope/close", "", 400, "invalid_id"),
        invalid("POST", "/v1.0/talks/{T}/close?force=true", ""),
        case("POST", "/v1.0/talks/nope/reopen", "", 400, "invalid_id"),
        // ------------------------------------------------------ participants
        invalid("GET", "/v1.0/talks/{T}/participants?status=gone", ""),
        invalid("GET", "/v1.0/talks/{T}/participants?page_token={TOKEN}", ""),
        invalid("POST", "/v1.0/talks/{T}/participants", "{}"),
        invalid("POST", "/v1.0/talks/{T}/participants", r#"{"agent_id": ""}"#),
        invalid("POST", "/v1.0/talks/{T}/participants", r#"{"agent_id": "agent/../1"}"#),
        invalid("POST", "/v1.0/talks/{T}/participants", r#"{"agent_id": ["agent-id-3"]}"#),
        case("POST", "/v1.0/talks/{T}/participants", r#"{"agent_id": "agent-nobody"}"#, 400, "unknown_agent"),
        case("DELETE", "/v1.0/talks/{T}/participants/myself", "", 400, "invalid_id"),
        case("DELETE", "/v1.0/talks/{T}/participants/{P}", "", 404, "not_found"),
        // ---------------------------------------------------------- messages
        invalid("POST", send, "{}"),
        invalid("POST", send, r#"{"text": 42}"#),
        invalid("POST", send, r#"{"text": ""}"#),
        invalid("POST", send, format!(r#"{{"text": "{}"}}"#, long(4001))),
        invalid("POST", send, r#"{"text": "nul\u0000byte"}"#),
        invalid("POST", send, r#"{"text": "hi", "parent_id": "nope"}"#),
        invalid("POST", send, r#"{"text": "hi", "id": "nope"}"#),
        invalid("POST", send, r#"{"text": "hi", "id": 7}"#),
        invalid("POST", send, r#"{"text": "hi", "type": "system"}"#),
        case("POST", send, r#"{"text": "hi", "parent_id": "{R}"}"#, 400, "invalid_parent"),
        case("POST", send, r#"{"text": "hi", "parent_id": "{N}"}"#, 400, "invalid_parent"),
        case("POST", send, r#"{"text": "hi", "parent_id": "{P}"}"#, 400, "invalid_parent"),
        invalid("POST", send, json!({"text": "", "medias": vec![pdf.clone(); 11]}).to_string()),
        invalid("POST", send, r#"{"text": "see", "medias": {}}"#),
        invalid("POST", send, with("url", json!("ftp://example.com/a.pdf"))),
        invalid("POST", send, with("url", json!("javascript:alert(1)"))),
        invalid("POST", send, with("url", json!("/relative/a.pdf"))),
        invalid("POST", send, with("url", json!(format!("https://example.com/{}", long(2048))))),
        invalid("POST", send, with("type", json!("pdf"))),
        invalid("POST", send, with("type", json!("application/"))),
        invalid("POST", send, with("name", json!("../etc/passwd"))),
        invalid("POST", send, with("name", json!("a\\b.pdf"))),
        invalid("POST", send, with("name", json!(""))),
        invalid("POST", send, with("name", json!(long(256)))),
        invalid("POST", send, with("name", json!("bell\u{7}.pdf"))),
        invalid("POST", send, with("size", json!(12))),
        invalid("POST", send, media(json!({"type": "application/pdf", "name": "a.pdf"}))),
        invalid("GET", "/v1.0/talks/{T}/messages?include_replies=yes", ""),
        invalid("GET", "/v1.0/talks/{T}/messages?page_size=0", ""),
        invalid("GET", "/v1.0/talks/{T}/messages?page_token=AAAA", ""),
        case("GET", "/v1.0/messages/not-a-uuid", "", 400, "invalid_id"),
        case("GET", "/v1.0/messages/{M}/replies/extra", "", 404, "not_found"),
        invalid("GET", "/v1.0/messages/{M}/replies?page_size=1000", ""),
        invalid("GET", "/v1.0/messages/{M}/replies?page_token={TOKEN}", ""),
        invalid("PATCH", "/v1.0/messages/{M}", "{}"),
        invalid("PATCH", "/v1.0/messages/{M}", r#"{"text": null}"#),
        invalid("PATCH", "/v1.0/messages/{M}", r#"{"text": "x", "medias": []}"#),
        invalid("PATCH", "/v1.0/messages/{M}", format!(r#"{{"text": "{}"}}"#, long(4001))),
        invalid("PATCH", "/v1.0/messages/{M}", r#"{"text": "esc\u001b[31m"}"#),
        Case { content_type: Some("multipart/form-data"), ..invalid("PATCH", "/v1.0/messages/{M}", "text=x") }
            .status(415, "unsupported_media_type"),
        case("DELETE", "/v1.0/messages/{M}x", "", 400, "invalid_id"),
        invalid("DELETE", "/v1.0/messages/{M}?hard=true", ""),
        // --------------------------------------------------------- reactions
        case("POST", "/v1.0/messages/{M}/reactions", r#"{"emoji": "not-an-emoji"}"#, 400, "invalid_emoji"),
        case("POST", "/v1.0/messages/{M}/reactions", r#"{"emoji": ""}"#, 400, "invalid_emoji"),
        case("POST", "/v1.0/messages/{M}/reactions", r#"{"emoji": "::"}"#, 400, "invalid_emoji"),
        case(
            "POST",
            "/v1.0/messages/{M}/reactions",
            json!({"emoji": "👍".repeat(5000)}).to_string(),
            400,
            "invalid_emoji",
        ),
        case("POST", "/v1.0/messages/{M}/reactions", json!({"emoji": "👍x"}).to_string(), 400, "invalid_emoji"),
        case("POST", "/v1.0/messages/{M}/reactions", json!({"emoji": "\u{7}"}).to_string(), 400, "invalid_emoji"),
        invalid("POST", "/v1.0/messages/{M}/reactions", r#"{"emoji": 128077}"#),
        invalid("POST", "/v1.0/messages/{M}/reactions", r#"{"emoji": "👍", "agent_id": "agent-id-2"}"#),
        case("POST", "/v1.0/messages/nope/reactions", r#"{"emoji": "👍"}"#, 400, "invalid_id"),
        case("DELETE", "/v1.0/messages/{M}/reactions/not-an-emoji", "", 400, "invalid_emoji"),
        case("DELETE", "/v1.0/messages/{M}/reactions/%F0%9F", "", 400, "invalid_id"),
        case("GET", "/v1.0/messages/{M}/reactions/%3Axx%3A", "", 400, "invalid_emoji"),
        invalid("GET", "/v1.0/messages/{M}/reactions/thumbsup?page_token=forged", ""),
        invalid("GET", "/v1.0/messages/{M}/reactions/thumbsup?page_size=0", ""),
        // ------------------------------------------------------------ events
        invalid("GET", "/v1.0/events", ""),
        invalid("GET", "/v1.0/events?since=-1", ""),
        invalid("GET", "/v1.0/events?since=abc", ""),
        invalid("GET", "/v1.0/events?since=0&page_token=1", ""),
        invalid("GET", "/v1.0/events?since=0&page_size=101", ""),
        // ------------------------------------------------------------ search
        invalid("GET", "/v1.0/search/messages", ""),
        invalid("GET", "/v1.0/search/messages?q=", ""),
        invalid("GET", &format!("/v1.0/search/messages?q={}", long(201)), ""),
        invalid("GET", "/v1.0/search/messages?q=%21%3F", ""),
        invalid("GET", "/v1.0/search/messages?q=top&sort=new", ""),
        invalid("GET", "/v1.0/search/messages?q=top&q=second", ""),
        invalid("GET", "/v1.0/search/messages?q=top&before=yesterday", ""),
        invalid("GET", "/v1.0/search/messages?q=top&after=2026-13-01T00:00:00Z", ""),
        invalid("GET", "/v1.0/search/messages?q=top&talk_id=nope", ""),
        invalid("GET", "/v1.0/search/messages?q=top&parent_id=nope", ""),
        invalid("GET", "/v1.0/search/messages?q=top&agent_id=agent%20one", ""),
        invalid("GET", "/v1.0/search/messages?q=top&has=links", ""),
        invalid("GET", "/v1.0/search/messages?q=top&page_size=0", ""),
        invalid("GET", "/v1.0/search/messages?q=top&page_token={TOKEN}", ""),
        // A talk never joined, then a talk left.
        case("GET", "/v1.0/search/messages?q=top&talk_id={L}", "", 403, "not_participant"),
        Case {
            authorization: Some(format!("Bearer {}", token("agent-id-3"))),
            ..case("GET", "/v1.0/search/messages?q=top&talk_id={T}", "", 404, "not_found")
        },
        // ---------------------------------------------------------- websocket
        // Not an upgrade.
        invalid("GET", "/v1.0/ws", ""),
    ];
    // ------------------------------------------------- mentions and reads
    let many: Vec<String> = (0..51).map(|i| format!("agent-{i}")).collect();
    cases.extend([
        case("POST", send, json!({"text": "hi", "mentions": ["agent-unknown"]}).to_string(), 400, "unknown_agent"),
        invalid("POST", send, json!({"text": "hi", "mentions": many}).to_string()),
        invalid("POST", send, json!({"text": "hi", "mentions": ["not an id!"]}).to_string()),
        invalid("POST", send, json!({"text": "hi", "mentions": "agent-id-2"}).to_string()),
        case(
            "PATCH",
            "/v1.0/messages/{M}",
            json!({"text": "x", "mentions": ["agent-unknown"]}).to_string(),
            400,
            "unknown_agent",
        ),
        invalid("PATCH", "/v1.0/messages/{M}", json!({"text": "x", "mentions": many}).to_string()),
        invalid("POST", "/v1.0/talks/{T}/read", r#"{"message_id": "{N}"}"#),
        invalid("POST", "/v1.0/talks/{T}/read", r#"{"message_id": "not-a-uuid"}"#),
        invalid("POST", "/v1.0/talks/{T}/read", r#"{"message_id": "0192d3e4-0000-7000-8000-000000000000"}"#),
        invalid("POST", "/v1.0/talks/{T}/read", r#"{"seq": 3}"#),
        case("POST", "/v1.0/talks/{T}/read", "{", 400, "invalid_json"),
        Case {
            content_type: Some("text/plain"),
            ..case("POST", "/v1.0/talks/{T}/read", "x", 415, "unsupported_media_type")
        },
        case("POST", "/v1.0/talks/nope/read", "", 400, "invalid_id"),
        // `unread` without a body: its message_id is required.
        invalid("POST", "/v1.0/talks/{T}/unread", ""),
        invalid("POST", "/v1.0/talks/{T}/unread", "{}"),
        invalid("POST", "/v1.0/talks/{T}/unread", r#"{"message_id": null}"#),
        invalid("POST", "/v1.0/talks/{T}/unread", r#"{"message_id": "{N}"}"#),
        invalid("POST", "/v1.0/talks/{T}/unread", r#"{"message_id": 42}"#),
        invalid("GET", "/v1.0/talks/{T}/reads?page_size=0", ""),
        invalid("GET", "/v1.0/talks/{T}/reads?page_token={TOKEN}", ""),
        invalid("GET", "/v1.0/talks/{T}/reads?status=all", ""),
        invalid("GET", "/v1.0/unread?talk_id={T}", ""),
        // ---------------------------------------------------------- presence
        case("GET", "/v1.0/talks/nope/presence", "", 400, "invalid_id"),
        case("GET", "/v1.0/agents/has%20space/presence", "", 400, "invalid_id"),
        case("GET", &format!("/v1.0/agents/{}/presence", long(129)), "", 400, "invalid_id"),
        invalid("GET", "/v1.0/agents/agent-id-2/presence?talk_id={T}", ""),
        invalid("GET", "/v1.0/talks/{T}/presence?page_size=0", ""),
        invalid("GET", "/v1.0/talks/{T}/presence?page_size=101", ""),
        invalid("GET", "/v1.0/talks/{T}/presence?page_token={TOKEN}", ""),
        invalid("GET", "/v1.0/talks/{T}/presence?status=all", ""),
    ]);
    // Events take only `since` and `page_size` (and `token`).
    cases.push(invalid("GET", "/v1.0/events?since=0&talk_id={T}", ""));
    cases
}

impl Case {
    fn status(mut self, status: u16, code: &'static str) -> Self {
        self.status = status;
        self.code = code;
        self
    }
}

/// The ids the cases refer to.
struct Fixture {
    api: Api,
    ids: Vec<(&'static str, String)>,
}

async fn fixture() -> Fixture {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let message = api.send("agent-id-1", &talk, "top").await["id"].as_str().unwrap().to_owned();
    api.send("agent-id-2", &talk, "second").await;
    let body = json!({"text": "a reply", "parent_id": message});
    let reply = api.post("agent-id-2", &format!("/v1.0/talks/{talk}/messages"), body).await.ok(201);
    let other = api.group("agent-id-1", &["agent-id-3"]).await;
    let foreign = api.send("agent-id-3", &other, "elsewhere").await;
    let list = api.get("agent-id-1", &format!("/v1.0/talks/{other}/participants")).await.ok(200);
    let record = list["result"][0]["id"].as_str().unwrap().to_owned();
    let left = api.group("agent-id-1", &["agent-id-2"]).await;
    api.delete("agent-id-1", &format!("/v1.0/talks/{left}/participants/me")).await.ok(200);
    // A genuine page token, of another list.
    let page = api.get("agent-id-1", &format!("/v1.0/talks/{talk}/messages?page_size=1")).await.ok(200);
    let page_token = page["next_page_token"].as_str().unwrap().to_owned();
    assert!(!page_token.is_empty());
    let encoded: String = form_urlencoded::byte_serialize(page_token.as_bytes()).collect();
    let ids = vec![
        ("{T}", talk),
        ("{M}", message),
        ("{R}", reply["id"].as_str().unwrap().to_owned()),
        ("{U}", other),
        ("{N}", foreign["id"].as_str().unwrap().to_owned()),
        ("{P}", record),
        ("{TOKEN}", encoded),
        ("{L}", left),
    ];
    Fixture { api, ids }
}

impl Fixture {
    fn fill(&self, text: &str) -> String {
        self.ids.iter().fold(text.to_owned(), |text, (key, value)| text.replace(key, value))
    }

    async fn head(&self) -> u64 {
        self.api.head().await
    }
}

#[tokio::test]
async fn every_bad_input_is_refused_with_its_code_and_writes_nothing() {
    let fx = fixture().await;
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let path = fx.fill(&case.path);
        let mut builder = Request::builder().method(case.method).uri(&path);
        if let Some(value) = &case.authorization {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        if let Some(value) = case.content_type {
            builder = builder.header(header::CONTENT_TYPE, value);
        }
        // Ids in a body are filled in too (only in small, valid-UTF-8 bodies).
        let body = match std::str::from_utf8(&case.body) {
            Ok(text) if text.len() < 4096 => fx.fill(text).into_bytes(),
            _ => case.body.clone(),
        };
        let before = fx.head().await;
        let reply = fx.api.request(builder.body(Body::from(body)).expect("a request")).await;
        let after = fx.head().await;
        let shown = format!("{} {}", case.method, &path[..path.len().min(120)]);
        if (reply.status, reply.code()) != (case.status, case.code) {
            failures.push(format!(
                "{shown}: expected {} {}, got {} {} ({})",
                case.status,
                case.code,
                reply.status,
                reply.code(),
                reply.message()
            ));
            continue;
        }
        reply.assert_error(case.status, case.code);
        if before != after {
            failures.push(format!("{shown}: the event log moved from {before} to {after}"));
        }
    }
    eprintln!("bad input: {} HTTP cases tried", cases.len());
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert!(cases.len() >= 60);
}

/// Frames the WebSocket cannot use: each answers `error` with its code and
/// the socket stays open (checked by a good subscribe at the end); none
/// writes anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_websocket_frames_answer_error_frames_and_write_nothing() {
    let fx = fixture().await;
    let talk = fx.fill("{T}");
    let foreign = fx.api.group("agent-id-3", &["agent-id-4"]).await;
    let address = fx.api.serve().await;
    let url = format!("ws://{address}/v1.0/ws?token={}", token("agent-id-1"));
    let (mut socket, _) = connect_async(url).await.expect("the upgrade");
    let frames: Vec<(Message, &str)> = vec![
        (Message::text("not json"), "invalid_json"),
        (Message::text(r#"{"type": "subscribe", "talk_id": "#), "invalid_json"),
        (Message::text(""), "invalid_json"),
        (Message::text("[]"), "invalid_request"),
        (Message::text("42"), "invalid_request"),
        (Message::text(r#"{"type": "dance"}"#), "invalid_request"),
        (Message::text(r#"{"talk_id": "*"}"#), "invalid_request"),
        (Message::text(r#"{"type": "subscribe"}"#), "invalid_request"),
        (Message::text(r#"{"type": "subscribe", "talk_id": "nope"}"#), "invalid_request"),
        (Message::text(r#"{"type": "subscribe", "talk_id": 7}"#), "invalid_request"),
        (Message::text(r#"{"type": "subscribe", "talk_id": "*", "since": -1}"#), "invalid_request"),
        (Message::text(r#"{"type": "subscribe", "talk_id": "*", "since": "0"}"#), "invalid_request"),
        (Message::text(r#"{"type": "subscribe", "talk_id": "*", "extra": 1}"#), "invalid_request"),
        (Message::text(r#"{"type": "unsubscribe", "talk_id": "**"}"#), "invalid_request"),
        (Message::binary(b"{\"type\": \"subscribe\", \"talk_id\": \"*\"}".to_vec()), "invalid_request"),
        (Message::text(json!({"type": "subscribe", "talk_id": uuid_like()}).to_string()), "not_found"),
        (Message::text(json!({"type": "subscribe", "talk_id": foreign}).to_string()), "not_found"),
        // Typing: the frame's fields, then a talk no subscription of the socket covers.
        (Message::text(r#"{"type": "typing"}"#), "invalid_request"),
        (Message::text(r#"{"type": "typing", "talk_id": "nope"}"#), "invalid_request"),
        (Message::text(json!({"type": "typing", "talk_id": talk, "parent_id": "nope"}).to_string()), "invalid_request"),
        (Message::text(json!({"type": "typing", "talk_id": talk, "extra": 1}).to_string()), "invalid_request"),
        (Message::text(r#"{"type": "typing_stop", "talk_id": 7}"#), "invalid_request"),
        (Message::text(json!({"type": "typing", "talk_id": talk}).to_string()), "invalid_request"),
        (Message::text(json!({"type": "typing_stop", "talk_id": talk}).to_string()), "invalid_request"),
        // Presence: the list, its ids, its length.
        (Message::text(r#"{"type": "presence_subscribe"}"#), "invalid_request"),
        (Message::text(r#"{"type": "presence_subscribe", "agent_ids": "agent-id-2"}"#), "invalid_request"),
        (Message::text(r#"{"type": "presence_subscribe", "agent_ids": ["has space"]}"#), "invalid_request"),
        (
            Message::text(json!({"type": "presence_subscribe", "agent_ids": vec!["agent-id-2"; 201]}).to_string()),
            "invalid_request",
        ),
    ];
    let count = frames.len();
    for (frame, code) in frames {
        let shown = format!("{frame:?}");
        let before = fx.head().await;
        socket.send(frame).await.expect("sent");
        let answer = next_text(&mut socket).await;
        assert_eq!((answer["type"].as_str(), answer["code"].as_str()), (Some("error"), Some(code)), "{shown}");
        assert_eq!(fx.head().await, before, "{shown}");
    }
    // Still open: a good subscribe works.
    socket.send(Message::text(json!({"type": "subscribe", "talk_id": talk}).to_string())).await.expect("sent");
    assert_eq!(next_text(&mut socket).await["type"], "subscribed");
    eprintln!("bad input: {count} WebSocket frames tried");
}

/// Over the WebSocket caps (small ones, set through `Options`): a subscribe
/// past the socket's subscriptions answers `error limit_exceeded` and the
/// socket stays open; an upgrade past the agent's sockets answers `429
/// rate_limited` with `Retry-After` in the error shape, without an upgrade.
/// Neither writes anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_websocket_caps_answers_limit_exceeded_and_429_and_writes_nothing() {
    let options = Options::default().max_subscriptions_per_socket(1).max_sockets_per_agent(1);
    let api = api_with(Setup { options, ..Setup::default() });
    let first = api.group("agent-id-1", &[]).await;
    let second = api.group("agent-id-1", &[]).await;
    let before = api.head().await;
    let address = api.serve().await;
    let url = format!("ws://{address}/v1.0/ws?token={}", token("agent-id-1"));
    let (mut socket, _) = connect_async(url.clone()).await.expect("the upgrade");
    for (talk, expected) in [(&first, "subscribed"), (&second, "error"), (&first, "error")] {
        socket.send(Message::text(json!({"type": "subscribe", "talk_id": talk}).to_string())).await.expect("sent");
        let answer = next_text(&mut socket).await;
        assert_eq!(answer["type"], expected, "{answer}");
        if expected == "error" {
            let code = if talk == &first { "already_subscribed" } else { "limit_exceeded" };
            assert_eq!(answer["code"], code, "{answer}");
        }
    }
    match connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429);
            assert!(response.headers().contains_key(header::RETRY_AFTER));
            let body: Value = serde_json::from_slice(response.body().as_deref().expect("a body")).expect("JSON");
            assert_eq!(body["error"]["code"], "rate_limited", "{body}");
        }
        other => panic!("expected 429, got {:?}", other.map(|(_, r)| r.status())),
    }
    assert_eq!(api.head().await, before);
}

/// A client frame over the limit ends the connection (close code 1009,
/// message too big), and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_websocket_frame_closes_the_socket() {
    let api = api_with(Setup { options: Options::default().max_client_message(1024), ..Setup::default() });
    let before = api.head().await;
    let address = api.serve().await;
    let url = format!("ws://{address}/v1.0/ws?token={}", token("agent-id-1"));
    let (mut socket, _) = connect_async(url).await.expect("the upgrade");
    let frame = json!({"type": "subscribe", "talk_id": "*", "pad": "x".repeat(4096)}).to_string();
    let _ = socket.send(Message::text(frame)).await;
    let mut closed = None;
    while let Ok(Some(message)) = tokio::time::timeout(PATIENCE, socket.next()).await {
        match message {
            Ok(Message::Close(frame)) => {
                closed = Some(frame.map(|f| u16::from(f.code)));
                break;
            }
            Ok(Message::Text(text)) => panic!("no answer to an oversized frame, got {text}"),
            Ok(_) => {}
            Err(_) => {
                closed = Some(None);
                break;
            }
        }
    }
    let closed = closed.expect("the server ends the connection");
    assert!(matches!(closed, None | Some(1009)), "{closed:?}");
    assert_eq!(api.head().await, before);
}

fn uuid_like() -> String {
    "0192d3e4-0000-7000-8000-000000000000".to_owned()
}
