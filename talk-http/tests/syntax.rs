//! The syntax of requests, through `oneshot` on the router: where the
//! token comes from, path ids, body framing, and field and query syntax,
//! each refused with its code and in the API's order of checks.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::{Setup, api, api_with, token};
use serde_json::json;

#[tokio::test]
async fn tokens_are_taken_from_the_header_or_the_query() {
    let api = api();
    api.call("GET", "/v1.0/talks", None, None).await.assert_error(401, "unauthenticated");
    let reply = api.call("GET", "/v1.0/talks?token=wrong", None, None).await;
    reply.assert_error(401, "unauthenticated");
    assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
    api.call("GET", "/v1.0/talks?token=", None, None).await.assert_error(401, "unauthenticated");
    let query = api.call("GET", &format!("/v1.0/talks?token={}", token("agent-id-1")), None, None).await;
    query.ok(200);
    api.call("GET", "/v1.0/talks", Some("agent-id-1"), None).await.ok(200);
    let basic = Request::get("/v1.0/talks").header(header::AUTHORIZATION, "Basic abc").body(Body::empty());
    api.request(basic.expect("a request")).await.assert_error(401, "unauthenticated");
    // Health needs none, even with a bad one.
    api.call("GET", "/healthz?token=wrong", None, None).await.ok(200);
}

/// A proxy in front of the server may add its own `Authorization` header
/// (`Basic …`): with `?token=`, a header of another scheme is not the
/// client's and is ignored. A `Bearer` header still wins over the query.
#[tokio::test]
async fn a_proxys_non_bearer_authorization_header_does_not_hide_the_query_token() {
    let api = api();
    let with_header = |uri: String, value: &str| {
        let request = Request::get(uri).header(header::AUTHORIZATION, value).body(Body::empty());
        request.expect("a request")
    };
    let valid = format!("/v1.0/talks?token={}", token("agent-id-1"));
    for scheme in ["Basic YWdlbnQ6cHc=", "Digest username=\"proxy\"", "basic", "Negotiate"] {
        api.request(with_header(valid.clone(), scheme)).await.ok(200);
        // Without a query token the header is all there is: refused.
        api.request(with_header("/v1.0/talks".to_owned(), scheme)).await.assert_error(401, "unauthenticated");
        // And a query token that is not valid is refused as ever.
        api.request(with_header("/v1.0/talks?token=wrong".to_owned(), scheme))
            .await
            .assert_error(401, "unauthenticated");
    }
    // A bearer header is the client's own: it is the one checked.
    let bearer = with_header(valid, "Bearer wrong");
    api.request(bearer).await.assert_error(401, "unauthenticated");
}

#[tokio::test]
async fn authentication_answers_before_path_ids() {
    let api = api();
    api.call("GET", "/v1.0/talks/not-a-uuid", None, None).await.assert_error(401, "unauthenticated");
    api.get("agent-id-1", "/v1.0/talks/not-a-uuid").await.assert_error(400, "invalid_id");
    api.get("agent-id-1", "/v1.0/messages/123").await.assert_error(400, "invalid_id");
    api.delete("agent-id-1", "/v1.0/messages/123/reactions/thumbsup").await.assert_error(400, "invalid_id");
}

fn raw(method: &str, uri: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", token("agent-id-1")));
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(body.into()).expect("a request")
}

#[tokio::test]
async fn body_framing_answers_415_then_413_then_invalid_json() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    let path = format!("/v1.0/talks/{talk}/messages");
    let huge = "x".repeat(1024 * 1024 + 1);
    // A path id first.
    api.request(raw("POST", "/v1.0/talks/nope/messages", Some("text/plain"), huge.clone()))
        .await
        .assert_error(400, "invalid_id");
    api.request(raw("POST", &path, Some("text/plain"), huge.clone())).await.assert_error(415, "unsupported_media_type");
    api.request(raw("POST", &path, None, "{\"text\": \"hi\"}")).await.assert_error(415, "unsupported_media_type");
    api.request(raw("POST", &path, Some("application/json"), huge)).await.assert_error(413, "payload_too_large");
    api.request(raw("POST", &path, Some("application/json"), "{\"text\": ")).await.assert_error(400, "invalid_json");
    api.request(raw("POST", &path, Some("application/json"), "")).await.assert_error(400, "invalid_json");
    // Parameters of the media type are fine.
    let reply = api.request(raw("POST", &path, Some("application/json; charset=utf-8"), "{\"text\": \"hi\"}")).await;
    reply.ok(201);
}

#[tokio::test]
async fn the_body_limit_is_an_option() {
    let api = api_with(Setup { options: talk_http::Options::default().body_limit(64), ..Setup::default() });
    let talk = api.group("agent-id-1", &[]).await;
    let body = json!({"text": "x".repeat(100)}).to_string();
    let reply = api.request(raw("POST", &format!("/v1.0/talks/{talk}/messages"), Some("application/json"), body)).await;
    reply.assert_error(413, "payload_too_large");
}

#[tokio::test]
async fn field_syntax_answers_invalid_request_naming_the_field() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    let path = format!("/v1.0/talks/{talk}/messages");
    let reply = api.post("agent-id-1", &path, json!({"txt": "typo"})).await;
    reply.assert_error(400, "invalid_request");
    assert!(reply.message().contains("txt"), "{}", reply.message());
    let reply = api.post("agent-id-1", &path, json!({"text": 5})).await;
    reply.assert_error(400, "invalid_request");
    assert!(reply.message().contains("text"), "{}", reply.message());
    let reply = api.post("agent-id-1", &path, json!(["text"])).await;
    reply.assert_error(400, "invalid_request");
    api.post("agent-id-1", "/v1.0/talks", json!({"name": "x", "participant_ids": [], "type": "channel"}))
        .await
        .assert_error(400, "invalid_request");
    api.post("agent-id-1", "/v1.0/talks", json!({"name": "x"})).await.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn syntax_answers_before_visibility() {
    let api = api();
    let nowhere = "0192d3e4-0000-7000-8000-000000000000";
    let path = format!("/v1.0/talks/{nowhere}/messages");
    api.post("agent-id-1", &path, json!({"text": ""})).await.assert_error(400, "invalid_request");
    api.post("agent-id-1", &path, json!({"text": "hi", "extra": 1})).await.assert_error(400, "invalid_request");
    api.get("agent-id-1", &format!("{path}?page_size=0")).await.assert_error(400, "invalid_request");
    api.post("agent-id-1", &path, json!({"text": "hi"})).await.assert_error(404, "not_found");
}

#[tokio::test]
async fn query_parameters_are_checked() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    for query in [
        "page_size=0",
        "page_size=101",
        "page_size=abc",
        "page_size=",
        "page_token=zz",
        "color=red",
        "page_size=1&page_size=2",
    ] {
        api.get("agent-id-1", &format!("/v1.0/talks/{talk}/messages?{query}"))
            .await
            .assert_error(400, "invalid_request");
    }
    api.get("agent-id-1", &format!("/v1.0/talks/{talk}?verbose=1")).await.assert_error(400, "invalid_request");
    api.get("agent-id-1", &format!("/v1.0/talks/{talk}/messages?page_size=100")).await.ok(200);
    // Each refusal names the parameter.
    for (query, named) in [
        ("page_size=abc", "page_size"),
        ("color=red", "color"),
        ("page_size=1&page_size=2", "page_size"),
        ("include_replies=yes", "include_replies"),
        ("status=active", "status"),
    ] {
        let reply = api.get("agent-id-1", &format!("/v1.0/talks/{talk}/messages?{query}")).await;
        reply.assert_error(400, "invalid_request");
        assert!(reply.message().contains(named), "{query}: {}", reply.message());
    }
    let reply = api.get("agent-id-1", "/v1.0/events").await;
    assert!(reply.message().contains("since"), "{}", reply.message());
    // `token` is accepted beside the endpoint's own parameters, even twice.
    let path = format!("/v1.0/talks/{talk}/messages?token=x&page_size=1&token=y");
    api.get("agent-id-1", &path).await.ok(200);
}

#[tokio::test]
async fn path_ids_that_do_not_parse_are_named_in_the_refusal() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    let reply = api.get("agent-id-1", "/v1.0/talks/not-a-uuid").await;
    reply.assert_error(400, "invalid_id");
    assert!(reply.message().contains("\"not-a-uuid\" is not a valid talk id"), "{}", reply.message());
    let reply = api.delete("agent-id-1", &format!("/v1.0/talks/{talk}/participants/myself")).await;
    reply.assert_error(400, "invalid_id");
    assert!(reply.message().contains("myself"), "{}", reply.message());
    let reply = api.get("agent-id-1", "/v1.0/messages/123/reactions/thumbsup").await;
    reply.assert_error(400, "invalid_id");
    assert!(reply.message().contains("message id"), "{}", reply.message());
}

#[tokio::test]
async fn endpoints_without_a_body_ignore_its_content_type() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    let reply = api.request(raw("POST", &format!("/v1.0/talks/{talk}/close"), Some("text/plain"), "")).await;
    assert_eq!(reply.ok(200)["status"], "closed");
    let reply = api.request(raw("GET", &format!("/v1.0/talks/{talk}"), Some("application/xml"), "")).await;
    reply.ok(200);
}
