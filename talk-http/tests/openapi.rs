//! The OpenAPI document: it lists exactly the routes the router mounts, and
//! describes the wire types and both ways to give a token.

mod common;

use common::api;
use serde_json::{Value, json};

/// Every operation of API.md: (method, path).
const OPERATIONS: [(&str, &str); 31] = [
    ("get", "/healthz"),
    ("get", "/v1.0/openapi.json"),
    ("post", "/v1.0/talks"),
    ("get", "/v1.0/talks"),
    ("get", "/v1.0/talks/public"),
    ("get", "/v1.0/talks/{id}"),
    ("patch", "/v1.0/talks/{id}"),
    ("post", "/v1.0/talks/{id}/close"),
    ("post", "/v1.0/talks/{id}/reopen"),
    ("get", "/v1.0/talks/{id}/participants"),
    ("post", "/v1.0/talks/{id}/participants"),
    ("delete", "/v1.0/talks/{id}/participants/{participant_id}"),
    ("post", "/v1.0/talks/{id}/join"),
    ("post", "/v1.0/talks/{id}/messages"),
    ("get", "/v1.0/talks/{id}/messages"),
    ("get", "/v1.0/messages/{id}"),
    ("patch", "/v1.0/messages/{id}"),
    ("delete", "/v1.0/messages/{id}"),
    ("get", "/v1.0/messages/{id}/replies"),
    ("post", "/v1.0/messages/{id}/reactions"),
    ("delete", "/v1.0/messages/{id}/reactions/{emoji}"),
    ("get", "/v1.0/messages/{id}/reactions/{emoji}"),
    ("get", "/v1.0/events"),
    ("get", "/v1.0/ws"),
    ("post", "/v1.0/talks/{id}/read"),
    ("post", "/v1.0/talks/{id}/unread"),
    ("get", "/v1.0/talks/{id}/reads"),
    ("get", "/v1.0/unread"),
    ("get", "/v1.0/search/messages"),
    ("get", "/v1.0/agents/{agent_id}/presence"),
    ("get", "/v1.0/talks/{id}/presence"),
];

const METHODS: [&str; 5] = ["get", "post", "patch", "delete", "put"];

fn documented(document: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if METHODS.contains(&method.as_str()) || method == "head" || method == "options" {
                operations.push((method.clone(), path.clone()));
            }
        }
    }
    operations.sort();
    operations
}

/// A concrete path for a templated one.
fn concrete(path: &str) -> String {
    path.replace("{id}", "0192d3e4-0000-7000-8000-000000000000")
        .replace("{participant_id}", "me")
        .replace("{emoji}", "thumbsup")
        .replace("{agent_id}", "agent-id-1")
}

#[tokio::test]
async fn the_openapi_document_and_the_router_list_the_same_routes() {
    let api = api();
    let document = api.call("GET", "/v1.0/openapi.json", None, None).await.ok(200);
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", document["openapi"]);
    assert_eq!(document, serde_json::to_value(talk_http::openapi()).expect("serialises"));

    let mut expected: Vec<(String, String)> =
        OPERATIONS.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    expected.sort();
    expected.dedup();
    assert_eq!(expected.len(), 31, "every operation of API.md once (Part 2 included)");
    assert_eq!(documented(&document), expected);

    // Every documented operation is mounted (it answers past routing: 401
    // without a token, or 200 for the public ones), and every other method
    // on a documented path is refused as the router refuses it (405).
    for path in document["paths"].as_object().expect("paths").keys() {
        for method in METHODS {
            let reply = api.call(&method.to_uppercase(), &concrete(path), None, None).await;
            let is_documented = expected.contains(&(method.to_owned(), path.clone()));
            if is_documented {
                assert!(matches!(reply.status, 200 | 401), "{method} {path}: {}", reply.status);
            } else {
                reply.assert_error(405, "method_not_allowed");
            }
        }
    }
}

#[tokio::test]
async fn the_document_describes_the_wire_types_and_both_token_forms() {
    let document = serde_json::to_value(talk_http::openapi()).expect("serialises");
    let schemas = &document["components"]["schemas"];
    for name in [
        "TalkDto",
        "ParticipantDto",
        "MessageDto",
        "EventFrame",
        "ClientFrame",
        "ControlFrame",
        "ErrorBody",
        "PresenceDto",
    ] {
        assert!(schemas.get(name).is_some(), "{name} is missing");
    }
    let talk = schemas["TalkDto"]["properties"].as_object().expect("properties");
    assert!(talk.contains_key("type") && talk.contains_key("tm_close") && !talk.contains_key("version"));
    let security = &document["components"]["securitySchemes"];
    assert_eq!(security["bearer"]["scheme"], "bearer");
    assert_eq!((&security["token"]["in"], &security["token"]["name"]), (&json!("query"), &json!("token")));
    assert_eq!(document["paths"]["/healthz"]["get"]["security"], json!([{}]));
}
