//! Every endpoint and every error code of the API, through `oneshot` on the
//! router (MemoryStore, manual clock).

mod common;

use axum::http::header;
use common::{Failure, Setup, api, api_with, assert_timestamp, ids, keys};
use serde_json::{Value, json};
use talk_core::Limits;

// ------------------------------------------------------------------ shapes

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let api = api();
    let reply = api.call("GET", "/healthz", None, None).await;
    assert_eq!(reply.ok(200), json!({"status": "ok"}));
}

#[tokio::test]
async fn created_group_talk_has_exactly_the_documented_fields() {
    let api = api();
    let body = json!({"name": "Project Discussion", "participant_ids": ["agent-id-1", "agent-id-2", "agent-id-3"]});
    let talk = api.post("agent-id-1", "/v1.0/talks", body).await.ok(201);
    assert_eq!(
        keys(&talk),
        ["creator_id", "detail", "id", "member_count", "name", "status", "tm_close", "tm_create", "tm_update", "type"]
    );
    assert_eq!(talk["type"], "group");
    assert_eq!(talk["name"], "Project Discussion");
    assert_eq!(talk["detail"], "");
    assert_eq!(talk["status"], "active");
    assert_eq!(talk["creator_id"], "agent-id-1");
    assert_eq!(talk["member_count"], 3);
    assert_eq!(talk["tm_close"], Value::Null);
    assert_timestamp(&talk["tm_create"]);
    assert_timestamp(&talk["tm_update"]);
}

#[tokio::test]
async fn sent_message_has_exactly_the_documented_fields_and_a_null_system() {
    let api = api();
    let talk = api.group("agent-123", &["agent-id-1"]).await;
    let body = json!({
        "text": "Here is the design document.",
        "medias": [{"type": "application/pdf", "url": "https://storage.example.com/design-doc.pdf", "name": "design-document.pdf"}]
    });
    let message = api.post("agent-123", &format!("/v1.0/talks/{talk}/messages"), body).await.ok(201);
    assert_eq!(
        keys(&message),
        [
            "agent_id",
            "id",
            "medias",
            "mentions",
            "parent_id",
            "reactions",
            "reply_count",
            "system",
            "talk_id",
            "text",
            "tm_create",
            "tm_delete",
            "tm_edit",
            "tm_update",
            "type"
        ]
    );
    assert_eq!(message["type"], "normal");
    assert_eq!(message["agent_id"], "agent-123");
    assert_eq!(message["talk_id"], talk.as_str());
    assert_eq!(message["parent_id"], Value::Null);
    assert_eq!(message["system"], Value::Null);
    assert_eq!(message["reply_count"], 0);
    assert_eq!(message["reactions"], json!([]));
    assert_eq!(
        message["medias"],
        json!([{"type": "application/pdf", "url": "https://storage.example.com/design-doc.pdf", "name": "design-document.pdf"}])
    );
    assert_timestamp(&message["tm_create"]);
    assert_eq!((&message["tm_edit"], &message["tm_delete"]), (&Value::Null, &Value::Null));
}

#[tokio::test]
async fn system_messages_carry_the_system_object() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    api.post("agent-id-1", &format!("/v1.0/talks/{talk}/participants"), json!({"agent_id": "agent-id-4"}))
        .await
        .ok(201);
    let list = api.get("agent-id-1", &format!("/v1.0/talks/{talk}/messages")).await.ok(200);
    let system = &list["result"][0];
    assert_eq!(system["type"], "system");
    assert_eq!(system["agent_id"], Value::Null);
    assert_eq!(
        system["system"],
        json!({"event": "participant_joined", "agent_id": "agent-id-4", "actor_id": "agent-id-1", "name": null})
    );
    assert!(system["text"].as_str().is_some_and(|t| t.contains("agent-id-4")));
}

// ------------------------------------------------------------------- talks

#[tokio::test]
async fn direct_talk_is_created_once_then_found_with_200() {
    let api = api();
    let body = json!({"type": "direct", "participant_ids": ["agent-id-1"]});
    let first = api.post("agent-123", "/v1.0/talks", body).await.ok(201);
    assert_eq!((&first["type"], &first["name"], &first["member_count"]), (&json!("direct"), &json!(""), &json!(2)));
    let again = api.post("agent-id-1", "/v1.0/talks", json!({"type": "direct", "participant_ids": ["agent-123"]}));
    let again = again.await.ok(200);
    assert_eq!(again["id"], first["id"]);
    // Closed: found again, reopened.
    let id = first["id"].as_str().expect("an id");
    api.post_empty("agent-123", &format!("/v1.0/talks/{id}/close")).await.ok(200);
    let reopened = api.post("agent-123", "/v1.0/talks", json!({"type": "direct", "participant_ids": ["agent-id-1"]}));
    assert_eq!(reopened.await.ok(200)["status"], "active");
}

#[tokio::test]
async fn direct_talk_needs_exactly_one_other_agent() {
    let api = api();
    let body = json!({"type": "direct", "participant_ids": ["agent-id-1", "agent-id-2"]});
    api.post("agent-123", "/v1.0/talks", body).await.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn talk_creation_refuses_unknown_agents_missing_names_and_too_many_participants() {
    let mut limits = Limits::default();
    limits.participants_per_talk_max = 2;
    let api = api_with(Setup { limits, ..Setup::default() });
    let body = json!({"name": "x", "participant_ids": ["nobody-knows-me"]});
    api.post("agent-id-1", "/v1.0/talks", body).await.assert_error(400, "unknown_agent");
    let body = json!({"participant_ids": ["agent-id-2"]});
    api.post("agent-id-1", "/v1.0/talks", body).await.assert_error(400, "invalid_request");
    let body = json!({"name": "x", "participant_ids": ["bad id!"]});
    let reply = api.post("agent-id-1", "/v1.0/talks", body).await;
    reply.assert_error(400, "invalid_request");
    assert!(reply.message().contains("participant_ids[0]"), "{}", reply.message());
    let body = json!({"name": "x", "participant_ids": ["agent-id-2", "agent-id-3"]});
    api.post("agent-id-1", "/v1.0/talks", body).await.assert_error(409, "limit_exceeded");
}

#[tokio::test]
async fn talks_are_listed_newest_first_in_pages_with_a_status_filter() {
    let api = api();
    let a = api.group("agent-id-1", &[]).await;
    let b = api.group("agent-id-1", &[]).await;
    let c = api.group("agent-id-1", &[]).await;
    api.post_empty("agent-id-1", &format!("/v1.0/talks/{b}/close")).await.ok(200);
    let first = api.get("agent-id-1", "/v1.0/talks?page_size=2").await.ok(200);
    assert_eq!(ids(&first), [c.clone(), b.clone()]);
    let token = first["next_page_token"].as_str().expect("a token").to_owned();
    assert!(!token.is_empty());
    let second = api.get("agent-id-1", &format!("/v1.0/talks?page_size=2&page_token={token}")).await.ok(200);
    assert_eq!(ids(&second), [a.as_str()]);
    assert_eq!(second["next_page_token"], "");
    // A full last page has no token either.
    let full = api.get("agent-id-1", "/v1.0/talks?page_size=3").await.ok(200);
    assert_eq!(full["next_page_token"], "");
    let closed = api.get("agent-id-1", "/v1.0/talks?status=closed").await.ok(200);
    assert_eq!(ids(&closed), [b]);
    let active = api.get("agent-id-1", "/v1.0/talks?status=active").await.ok(200);
    assert_eq!(ids(&active), [c, a]);
    api.get("agent-id-1", "/v1.0/talks?status=open").await.assert_error(400, "invalid_request");
    // A token of another list.
    let other = api.get("agent-id-1", &format!("/v1.0/talks?status=closed&page_token={token}")).await;
    other.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn a_talk_is_read_renamed_closed_and_reopened() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let path = format!("/v1.0/talks/{talk}");
    assert_eq!(api.get("agent-id-2", &path).await.ok(200)["id"], talk.as_str());
    let renamed = api.patch("agent-id-2", &path, json!({"name": "Q1 Project", "detail": "planning"})).await.ok(200);
    assert_eq!((&renamed["name"], &renamed["detail"]), (&json!("Q1 Project"), &json!("planning")));
    // A change that changes nothing is a repeat.
    assert_eq!(api.patch("agent-id-2", &path, json!({"name": "Q1 Project"})).await.ok(200)["name"], "Q1 Project");
    api.patch("agent-id-2", &path, json!({})).await.assert_error(400, "invalid_request");
    let closed = api.post_empty("agent-id-1", &format!("{path}/close")).await.ok(200);
    assert_eq!(closed["status"], "closed");
    assert_timestamp(&closed["tm_close"]);
    assert_eq!(api.post_empty("agent-id-1", &format!("{path}/close")).await.ok(200)["status"], "closed");
    api.patch("agent-id-2", &path, json!({"name": "again"})).await.assert_error(409, "talk_closed");
    let reopened = api.post_empty("agent-id-2", &format!("{path}/reopen")).await.ok(200);
    assert_eq!((&reopened["status"], &reopened["tm_close"]), (&json!("active"), &Value::Null));
    assert_eq!(api.post_empty("agent-id-2", &format!("{path}/reopen")).await.ok(200)["status"], "active");
}

#[tokio::test]
async fn a_stranger_gets_404_and_a_former_participant_403() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let message = api.send("agent-id-1", &talk, "hello").await;
    let message = message["id"].as_str().expect("an id");
    api.delete("agent-id-2", &format!("/v1.0/talks/{talk}/participants/me")).await.ok(200);
    for path in [
        format!("/v1.0/talks/{talk}"),
        format!("/v1.0/talks/{talk}/messages"),
        format!("/v1.0/talks/{talk}/participants"),
        format!("/v1.0/messages/{message}"),
    ] {
        api.get("agent-id-3", &path).await.assert_error(404, "not_found");
    }
    // A former participant reads the talk object only.
    assert_eq!(api.get("agent-id-2", &format!("/v1.0/talks/{talk}")).await.ok(200)["id"], talk.as_str());
    api.get("agent-id-2", &format!("/v1.0/talks/{talk}/messages")).await.assert_error(403, "not_participant");
    api.get("agent-id-2", &format!("/v1.0/messages/{message}")).await.assert_error(403, "not_participant");
    api.post("agent-id-2", &format!("/v1.0/talks/{talk}/messages"), json!({"text": "hi"}))
        .await
        .assert_error(403, "not_participant");
    // A talk that does not exist at all.
    let nowhere = "0192d3e4-0000-7000-8000-000000000000";
    api.get("agent-id-1", &format!("/v1.0/talks/{nowhere}")).await.assert_error(404, "not_found");
}

// ------------------------------------------------------------ participants

#[tokio::test]
async fn participants_are_added_listed_left_and_removed() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let path = format!("/v1.0/talks/{talk}/participants");
    let added = api.post("agent-id-2", &path, json!({"agent_id": "agent-id-4"})).await.ok(201);
    assert_eq!(keys(&added), ["agent_id", "id", "left_reason", "status", "talk_id", "tm_joined", "tm_left"]);
    assert_eq!(
        (&added["agent_id"], &added["status"], &added["left_reason"]),
        (&json!("agent-id-4"), &json!("active"), &Value::Null)
    );
    assert_timestamp(&added["tm_joined"]);
    api.post("agent-id-2", &path, json!({"agent_id": "agent-id-4"})).await.assert_error(409, "already_participant");
    api.post("agent-id-2", &path, json!({"agent_id": "stranger"})).await.assert_error(400, "unknown_agent");
    let listed = api.get("agent-id-1", &path).await.ok(200);
    let agents: Vec<&str> = listed["result"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["agent_id"].as_str().expect("an agent"))
        .collect();
    assert_eq!(agents, ["agent-id-1", "agent-id-2", "agent-id-4"]);

    // Leaving with `me`, twice.
    let left = api.delete("agent-id-4", &format!("{path}/me")).await.ok(200);
    assert_eq!((&left["status"], &left["left_reason"]), (&json!("left"), &json!("left")));
    assert_timestamp(&left["tm_left"]);
    let again = api.delete("agent-id-4", &format!("{path}/me")).await.ok(200);
    assert_eq!(again["id"], left["id"]);
    // Removing another by its record id.
    let two = &listed["result"][1]["id"];
    let removed = api.delete("agent-id-1", &format!("{path}/{}", two.as_str().expect("an id"))).await.ok(200);
    assert_eq!(removed["left_reason"], "removed");
    let gone = api.get("agent-id-1", &format!("{path}?status=left")).await.ok(200);
    assert_eq!(gone["result"].as_array().map(Vec::len), Some(2));
    let all = api.get("agent-id-1", &format!("{path}?status=all&page_size=2")).await.ok(200);
    assert_eq!(all["result"].as_array().map(Vec::len), Some(2));
    assert_ne!(all["next_page_token"], "");
    api.get("agent-id-1", &format!("{path}?status=gone")).await.assert_error(400, "invalid_request");
    // A record of another talk is not found in this one.
    let other = api.group("agent-id-1", &[]).await;
    let record = added["id"].as_str().expect("an id");
    api.delete("agent-id-1", &format!("/v1.0/talks/{other}/participants/{record}"))
        .await
        .assert_error(404, "not_found");
    api.delete("agent-id-1", &format!("{path}/not-me")).await.assert_error(400, "invalid_id");
}

#[tokio::test]
async fn a_direct_talk_takes_back_only_its_own_agents() {
    let api = api();
    let talk = api.post("agent-123", "/v1.0/talks", json!({"type": "direct", "participant_ids": ["agent-id-1"]}));
    let talk = talk.await.ok(201)["id"].as_str().expect("an id").to_owned();
    let path = format!("/v1.0/talks/{talk}/participants");
    api.post("agent-123", &path, json!({"agent_id": "agent-id-4"})).await.assert_error(409, "direct_talk_full");
}

#[tokio::test]
async fn removing_another_from_a_closed_talk_is_refused_but_leaving_is_not() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2", "agent-id-3"]).await;
    api.post_empty("agent-id-1", &format!("/v1.0/talks/{talk}/close")).await.ok(200);
    let listed = api.get("agent-id-1", &format!("/v1.0/talks/{talk}/participants")).await.ok(200);
    let three = listed["result"][2]["id"].as_str().expect("an id").to_owned();
    api.delete("agent-id-1", &format!("/v1.0/talks/{talk}/participants/{three}"))
        .await
        .assert_error(409, "talk_closed");
    api.delete("agent-id-2", &format!("/v1.0/talks/{talk}/participants/me")).await.ok(200);
    api.post("agent-id-1", &format!("/v1.0/talks/{talk}/messages"), json!({"text": "x"}))
        .await
        .assert_error(409, "talk_closed");
}

// ---------------------------------------------------------------- messages

#[tokio::test]
async fn threads_and_the_main_view_are_ordered() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let first = api.send("agent-id-1", &talk, "What's the status of the API integration?").await;
    let parent = first["id"].as_str().expect("an id");
    let path = format!("/v1.0/talks/{talk}/messages");
    let mut replies = Vec::new();
    for text in ["Working on authentication now", "Should be done by Friday"] {
        let reply = api.post("agent-id-2", &path, json!({"text": text, "parent_id": parent})).await.ok(201);
        assert_eq!(reply["parent_id"], parent);
        replies.push(reply["id"].as_str().expect("an id").to_owned());
    }
    let second = api.send("agent-id-1", &talk, "Meeting tomorrow at 2pm").await;
    let main = api.get("agent-id-1", &path).await.ok(200);
    assert_eq!(ids(&main), [second["id"].as_str().expect("an id"), parent]);
    assert_eq!(main["result"][1]["reply_count"], 2);
    let everything = api.get("agent-id-1", &format!("{path}?include_replies=true")).await.ok(200);
    assert_eq!(everything["result"].as_array().map(Vec::len), Some(4));
    api.get("agent-id-1", &format!("{path}?include_replies=yes")).await.assert_error(400, "invalid_request");
    let thread = api.get("agent-id-1", &format!("/v1.0/messages/{parent}/replies")).await.ok(200);
    assert_eq!(ids(&thread), replies);
    // A reply to a reply is refused.
    api.post("agent-id-2", &path, json!({"text": "deep", "parent_id": replies[0]}))
        .await
        .assert_error(400, "invalid_parent");
    api.post("agent-id-2", &path, json!({"text": "x", "parent_id": "not-a-uuid"}))
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn a_client_chosen_id_makes_a_send_safe_to_retry() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    let path = format!("/v1.0/talks/{talk}/messages");
    let id = "0192d3e4-1111-7000-8000-000000000001";
    let first = api.post("agent-id-1", &path, json!({"id": id, "text": "once"})).await.ok(201);
    assert_eq!(first["id"], id);
    let retry = api.post("agent-id-1", &path, json!({"id": id, "text": "once"})).await.ok(200);
    assert_eq!(retry, first);
    api.post("agent-id-1", &path, json!({"id": id, "text": "other"})).await.assert_error(409, "id_conflict");
}

#[tokio::test]
async fn message_fields_are_checked_and_named() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    let path = format!("/v1.0/talks/{talk}/messages");
    api.post("agent-id-1", &path, json!({"text": ""})).await.assert_error(400, "invalid_request");
    api.post("agent-id-1", &path, json!({"text": "x".repeat(4001)})).await.assert_error(400, "invalid_request");
    let bad_url = json!({"text": "x", "medias": [{"type": "application/pdf", "url": "ftp://x", "name": "a.pdf"}]});
    let reply = api.post("agent-id-1", &path, bad_url).await;
    reply.assert_error(400, "invalid_request");
    assert!(reply.message().contains("medias[0].url"), "{}", reply.message());
    let extra = json!({"text": "x", "medias": [{"type": "a/b", "url": "https://x.test/a", "name": "a", "size": 1}]});
    let reply = api.post("agent-id-1", &path, extra).await;
    reply.assert_error(400, "invalid_request");
    assert!(reply.message().contains("size"), "{}", reply.message());
    // A media-only message.
    let media = json!({"text": "", "medias": [{"type": "image/png", "url": "https://x.test/a.png", "name": "a.png"}]});
    api.post("agent-id-1", &path, media).await.ok(201);
}

#[tokio::test]
async fn messages_are_edited_and_deleted_by_their_author_only() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let message = api.send("agent-id-1", &talk, "first").await;
    let path = format!("/v1.0/messages/{}", message["id"].as_str().expect("an id"));
    assert_eq!(api.get("agent-id-2", &path).await.ok(200), message);
    api.patch("agent-id-2", &path, json!({"text": "mine now"})).await.assert_error(403, "not_author");
    let edited = api.patch("agent-id-1", &path, json!({"text": "second"})).await.ok(200);
    assert_eq!(edited["text"], "second");
    assert_timestamp(&edited["tm_edit"]);
    api.delete("agent-id-2", &path).await.assert_error(403, "not_author");
    api.post("agent-id-2", &format!("{path}/reactions"), json!({"emoji": "tada"})).await.ok(200);
    let tombstone = api.delete("agent-id-1", &path).await.ok(200);
    assert_eq!(
        (&tombstone["text"], &tombstone["medias"], &tombstone["reactions"]),
        (&json!(""), &json!([]), &json!([]))
    );
    assert_timestamp(&tombstone["tm_delete"]);
    assert_eq!(api.delete("agent-id-1", &path).await.ok(200), tombstone);
    api.patch("agent-id-1", &path, json!({"text": "back"})).await.assert_error(409, "message_deleted");
    api.post("agent-id-2", &format!("{path}/reactions"), json!({"emoji": "tada"}))
        .await
        .assert_error(409, "message_deleted");
    // System messages belong to nobody.
    let list = api.get("agent-id-1", &format!("/v1.0/talks/{talk}/messages?include_replies=true")).await.ok(200);
    assert!(list["result"].as_array().expect("a list").iter().all(|m| m["type"] == "normal"));
}

// --------------------------------------------------------------- reactions

#[tokio::test]
async fn reactions_are_added_listed_and_removed_in_any_spelling() {
    let api = api();
    let talk = api.group("agent-b", &["agent-c", "agent-d"]).await;
    let message = api.send("agent-b", &talk, "The deployment was successful!").await;
    let path = format!("/v1.0/messages/{}/reactions", message["id"].as_str().expect("an id"));
    let one = api.post("agent-c", &path, json!({"emoji": "thumbsup"})).await.ok(200);
    assert_eq!(one["reactions"], json!([{"emoji": "👍", "count": 1, "agent_ids": ["agent-c"]}]));
    // Another spelling of the same emoji is a repeat.
    assert_eq!(api.post("agent-c", &path, json!({"emoji": ":+1:"})).await.ok(200)["reactions"], one["reactions"]);
    let two = api.post("agent-d", &path, json!({"emoji": "👍"})).await.ok(200);
    assert_eq!(two["reactions"][0]["agent_ids"], json!(["agent-c", "agent-d"]));
    api.post("agent-d", &path, json!({"emoji": "\u{2764}"})).await.ok(200);
    let hearts = api.post("agent-c", &path, json!({"emoji": "heart"})).await.ok(200);
    assert_eq!(
        hearts["reactions"][1],
        json!({"emoji": "\u{2764}\u{fe0f}", "count": 2, "agent_ids": ["agent-d", "agent-c"]})
    );
    api.post("agent-c", &path, json!({"emoji": "not an emoji"})).await.assert_error(400, "invalid_emoji");

    let reactors = api.get("agent-b", &format!("{path}/%F0%9F%91%8D")).await.ok(200);
    let entries = reactors["result"].as_array().expect("a list");
    assert_eq!(entries.len(), 2);
    assert_eq!(keys(&entries[0]), ["agent_id", "tm_create"]);
    assert_eq!((&entries[0]["agent_id"], &entries[1]["agent_id"]), (&json!("agent-c"), &json!("agent-d")));
    assert_timestamp(&entries[0]["tm_create"]);
    let by_code = api.get("agent-b", &format!("{path}/thumbsup?page_size=1")).await.ok(200);
    assert_eq!(by_code["result"].as_array().map(Vec::len), Some(1));
    assert_ne!(by_code["next_page_token"], "");
    assert_eq!(api.get("agent-b", &format!("{path}/tada")).await.ok(200)["result"], json!([]));
    api.get("agent-b", &format!("{path}/nope-nope")).await.assert_error(400, "invalid_emoji");

    let removed = api.delete("agent-c", &format!("{path}/:thumbsup:")).await.ok(200);
    assert_eq!(removed["reactions"][0], json!({"emoji": "👍", "count": 1, "agent_ids": ["agent-d"]}));
    // Removing what is not there is a repeat.
    assert_eq!(api.delete("agent-c", &format!("{path}/thumbsup")).await.ok(200)["reactions"], removed["reactions"]);
}

#[tokio::test]
async fn distinct_emoji_per_message_are_limited() {
    let mut limits = Limits::default();
    limits.distinct_emoji_per_message_max = 1;
    let api = api_with(Setup { limits, ..Setup::default() });
    let talk = api.group("agent-b", &[]).await;
    let message = api.send("agent-b", &talk, "poll").await;
    let path = format!("/v1.0/messages/{}/reactions", message["id"].as_str().expect("an id"));
    api.post("agent-b", &path, json!({"emoji": "thumbsup"})).await.ok(200);
    api.post("agent-b", &path, json!({"emoji": "thumbsdown"})).await.assert_error(409, "limit_exceeded");
}

// ------------------------------------------------------------------ events

#[tokio::test]
async fn events_are_paged_by_seq_in_the_frame_envelope() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let message = api.send("agent-id-1", &talk, "hello").await;
    let first = api.get("agent-id-2", "/v1.0/events?since=0&page_size=2").await.ok(200);
    let frames = first["result"].as_array().expect("a list");
    let types: Vec<&str> = frames.iter().map(|f| f["type"].as_str().expect("a type")).collect();
    assert_eq!(types, ["talk_created", "participant_joined"]);
    assert_eq!(keys(&frames[0]), ["data", "seq", "talk_id", "tm_create", "type"]);
    assert_eq!(frames[0]["data"]["id"], talk.as_str());
    assert_timestamp(&frames[0]["tm_create"]);
    let next = first["next_page_token"].as_str().expect("a token");
    assert_eq!(next, frames[1]["seq"].to_string());
    let rest = api.get("agent-id-2", &format!("/v1.0/events?since={next}")).await.ok(200);
    let types: Vec<&str> =
        rest["result"].as_array().expect("a list").iter().map(|f| f["type"].as_str().expect("a type")).collect();
    assert_eq!(types, ["participant_joined", "message_created"]);
    assert_eq!(rest["result"][1]["data"], message);
    // Nothing more: the token stays the `since` asked for.
    let head = rest["next_page_token"].as_str().expect("a token");
    let empty = api.get("agent-id-2", &format!("/v1.0/events?since={head}")).await.ok(200);
    assert_eq!((&empty["result"], &empty["next_page_token"]), (&json!([]), &json!(head)));

    api.get("agent-id-2", "/v1.0/events").await.assert_error(400, "invalid_request");
    api.get("agent-id-2", "/v1.0/events?since=-1").await.assert_error(400, "invalid_request");
    api.get("agent-id-2", "/v1.0/events?since=0&page_size=101").await.assert_error(400, "invalid_request");
    api.get("agent-id-2", "/v1.0/events?since=0&page_token=x").await.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn events_older_than_the_log_keeps_answer_410() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    api.send("agent-id-1", &talk, "one").await;
    api.hub.prune_events(2).await.expect("prune");
    api.get("agent-id-1", "/v1.0/events?since=1").await.assert_error(410, "resync_required");
    api.get("agent-id-1", "/v1.0/events?since=2").await.ok(200);
}

// ------------------------------------------------ errors and their order

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let api = api();
    api.call("GET", "/v1.0/nope", None, None).await.assert_error(404, "not_found");
    api.call("GET", "/v1.0/talks/", Some("agent-id-1"), None).await.assert_error(404, "not_found");
    api.call("GET", "/nope", Some("agent-id-1"), None).await.assert_error(404, "not_found");
    // The route answers before authentication.
    let reply = api.call("PUT", "/v1.0/talks", None, None).await;
    reply.assert_error(405, "method_not_allowed");
    let allow = reply.headers[header::ALLOW].to_str().expect("ascii");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    api.call("DELETE", "/v1.0/talks/not-an-id", None, None).await.assert_error(405, "method_not_allowed");
    api.call("POST", "/healthz", None, None).await.assert_error(405, "method_not_allowed");
}

#[tokio::test]
async fn server_errors_hide_their_cause_and_503_asks_to_retry() {
    let api = api();
    api.fail_talk_reads(Some(Failure::Unavailable));
    let reply = api.get("agent-id-1", "/v1.0/talks").await;
    reply.assert_error(503, "unavailable");
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    assert!(!reply.message().contains("5432"), "{}", reply.message());
    api.fail_talk_reads(Some(Failure::Backend));
    let reply = api.get("agent-id-1", "/v1.0/talks").await;
    reply.assert_error(500, "internal");
    assert!(!reply.message().contains("secret"), "{}", reply.message());
    api.fail_talk_reads(None);
    api.get("agent-id-1", "/v1.0/talks").await.ok(200);
}

#[tokio::test]
async fn rate_limited_has_the_error_shape_and_retry_after() {
    let api = api();
    let app = api.app.clone().layer(axum::middleware::from_fn(
        |_request: axum::extract::Request, _next: axum::middleware::Next| async {
            axum::response::IntoResponse::into_response(talk_http::ApiError::rate_limited(7))
        },
    ));
    let limited = common::Api { app, ..api };
    let reply = limited.get("agent-id-1", "/v1.0/talks").await;
    reply.assert_error(429, "rate_limited");
    assert_eq!(reply.headers[header::RETRY_AFTER], "7");
}

// ---------------------------------------------------------------- scenarios

#[tokio::test]
async fn scenario_team_project_discussion() {
    let api = api();
    let body = json!({"name": "Q1 Project", "participant_ids": ["agent-id-2", "agent-id-3"]});
    let talk = api.post("agent-id-1", "/v1.0/talks", body).await.ok(201);
    assert_eq!(talk["member_count"], 3);
    let talk = talk["id"].as_str().expect("an id").to_owned();
    let update = api.send("agent-id-1", &talk, "Sprint 1 completed!").await;
    let update_id = update["id"].as_str().expect("an id");
    let reactions = format!("/v1.0/messages/{update_id}/reactions");
    api.post("agent-id-2", &reactions, json!({"emoji": "tada"})).await.ok(200);
    let reacted = api.post("agent-id-3", &reactions, json!({"emoji": "thumbsup"})).await.ok(200);
    assert_eq!(
        reacted["reactions"],
        json!([
            {"emoji": "🎉", "count": 1, "agent_ids": ["agent-id-2"]},
            {"emoji": "👍", "count": 1, "agent_ids": ["agent-id-3"]}
        ])
    );
    let body = json!({"text": "Great work! What's next?", "parent_id": update_id});
    let reply = api.post("agent-id-2", &format!("/v1.0/talks/{talk}/messages"), body).await.ok(201);

    let main = api.get("agent-id-3", &format!("/v1.0/talks/{talk}/messages")).await.ok(200);
    assert_eq!(ids(&main), [update_id]);
    assert_eq!(main["result"][0]["reply_count"], 1);
    let thread = api.get("agent-id-3", &format!("/v1.0/messages/{update_id}/replies")).await.ok(200);
    assert_eq!(thread["result"], json!([reply]));
    let talks = api.get("agent-id-2", "/v1.0/talks").await.ok(200);
    assert_eq!(ids(&talks), [talk.as_str()]);
    let events: Vec<String> =
        api.events("agent-id-3", 0).await.iter().map(|e| e["type"].as_str().expect("a type").to_owned()).collect();
    assert_eq!(
        events,
        [
            "talk_created",
            "participant_joined",
            "participant_joined",
            "participant_joined",
            "message_created",
            "reaction_added",
            "reaction_added",
            "message_created"
        ]
    );
}

#[tokio::test]
async fn scenario_quick_decision_poll() {
    let api = api();
    let talk = api.group("agent-a", &["agent-b", "agent-c", "agent-d", "agent-e"]).await;
    let poll = api.send("agent-a", &talk, "Should we deploy today? 👍 for yes, 👎 for no").await;
    let reactions = format!("/v1.0/messages/{}/reactions", poll["id"].as_str().expect("an id"));
    for voter in ["agent-b", "agent-c", "agent-d"] {
        api.post(voter, &reactions, json!({"emoji": "thumbsup"})).await.ok(200);
    }
    let result = api.post("agent-e", &reactions, json!({"emoji": "thumbsdown"})).await.ok(200);
    let counts: Vec<(&str, u64)> = result["reactions"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| (r["emoji"].as_str().expect("an emoji"), r["count"].as_u64().expect("a count")))
        .collect();
    assert_eq!(counts, [("👍", 3), ("👎", 1)]);
    let yes = api.get("agent-a", &format!("{reactions}/thumbsup")).await.ok(200);
    let voters: Vec<&str> =
        yes["result"].as_array().expect("a list").iter().map(|r| r["agent_id"].as_str().expect("an agent")).collect();
    assert_eq!(voters, ["agent-b", "agent-c", "agent-d"]);
}

#[tokio::test]
async fn scenario_support_escalation() {
    let api = api();
    // A direct talk between the two agents first.
    let direct = api.post("agent-123", "/v1.0/talks", json!({"type": "direct", "participant_ids": ["agent-id-1"]}));
    let direct = direct.await.ok(201)["id"].as_str().expect("an id").to_owned();
    api.send("agent-123", &direct, "Customer reporting payment failure").await;
    // A direct talk stays between its two agents: escalation opens a group talk.
    api.post("agent-123", &format!("/v1.0/talks/{direct}/participants"), json!({"agent_id": "agent-id-4"}))
        .await
        .assert_error(409, "direct_talk_full");
    let body = json!({"name": "Customer Issue #12345", "participant_ids": ["agent-id-1"]});
    let talk = api.post("agent-123", "/v1.0/talks", body).await.ok(201)["id"].as_str().expect("an id").to_owned();
    let participants = format!("/v1.0/talks/{talk}/participants");
    let joined = api.post("agent-id-1", &participants, json!({"agent_id": "agent-id-4"})).await.ok(201);
    assert_eq!(joined["agent_id"], "agent-id-4");
    let report = api.send("agent-123", &talk, "Customer reporting payment failure").await;
    let report_id = report["id"].as_str().expect("an id");
    let logs = json!({
        "text": "Let me check the logs",
        "medias": [{"type": "text/plain", "url": "https://storage.example.com/gateway.log", "name": "gateway.log"}]
    });
    let with_logs = api.post("agent-id-4", &format!("/v1.0/talks/{talk}/messages"), logs).await.ok(201);
    assert_eq!(with_logs["medias"][0]["name"], "gateway.log");
    for text in ["Found it - gateway timeout", "Retrying the transaction"] {
        let body = json!({"text": text, "parent_id": with_logs["id"]});
        api.post("agent-id-4", &format!("/v1.0/talks/{talk}/messages"), body).await.ok(201);
    }
    let done = api.send("agent-123", &talk, "Customer confirmed it works now").await;
    let done_id = done["id"].as_str().expect("an id");
    api.post("agent-id-4", &format!("/v1.0/messages/{done_id}/reactions"), json!({"emoji": "+1"})).await.ok(200);
    let closed = api.post_empty("agent-id-1", &format!("/v1.0/talks/{talk}/close")).await.ok(200);
    assert_eq!(closed["status"], "closed");

    // Everyone still reads the whole story.
    let main = api.get("agent-id-4", &format!("/v1.0/talks/{talk}/messages")).await.ok(200);
    let texts: Vec<&str> =
        main["result"].as_array().expect("a list").iter().map(|m| m["text"].as_str().expect("a text")).collect();
    assert_eq!(texts[1], "Customer confirmed it works now");
    assert!(texts.contains(&"Let me check the logs") && texts.iter().any(|t| t.contains("closed the talk")));
    let replies = format!("/v1.0/messages/{}/replies", with_logs["id"].as_str().expect("an id"));
    let thread = api.get("agent-123", &replies).await;
    assert_eq!(thread.ok(200)["result"].as_array().map(Vec::len), Some(2));
    let report_now = api.get("agent-id-1", &format!("/v1.0/messages/{report_id}")).await.ok(200);
    assert_eq!(report_now["text"], "Customer reporting payment failure");
    api.post("agent-id-4", &format!("/v1.0/talks/{talk}/messages"), json!({"text": "one more"}))
        .await
        .assert_error(409, "talk_closed");
}

#[tokio::test]
async fn events_endpoint_racing_retention_answers_410() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    for i in 0..5 {
        api.send("agent-id-1", &talk, &format!("m{i}")).await;
    }
    let head = api.head().await;
    // Retention prunes past `since` after the endpoint looked at the
    // low-water mark and before it reads the events.
    let store = std::sync::Arc::downgrade(&api.store);
    api.store.set_async_hook(move |method| {
        let store = store.upgrade();
        Box::pin(async move {
            if let (talk_testing::StoreMethod::AgentEvents, Some(store)) = (method, store) {
                talk_core::Store::prune_events(store.as_ref(), head - 1).await?;
            }
            Ok(())
        })
    });
    let reply = api.get("agent-id-2", "/v1.0/events?since=0").await;
    reply.assert_error(410, "resync_required");
}

// ------------------------------------------------------------------ policy

/// Refuses any edit and any text that says "spam", with the embedder's own code.
struct NoSpam;

impl talk_core::policy::Policy for NoSpam {
    fn check(
        &self,
        request: &talk_core::policy::Request<'_>,
    ) -> Result<talk_core::policy::Verdict, talk_core::policy::PolicyError> {
        use talk_core::policy::{Command, Verdict};
        Ok(match request.command {
            Command::SendMessage { text, .. } if text.contains("spam") => Verdict::Refuse("no_spam".into()),
            Command::EditMessage { .. } => Verdict::Refuse("no_edits".into()),
            _ => Verdict::Allow,
        })
    }
}

#[tokio::test]
async fn policy_refusal_is_403_forbidden_with_the_reason_and_writes_nothing() {
    let api = api_with(Setup { policy: Some(std::sync::Arc::new(NoSpam)), ..Setup::default() });
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let head = api.head().await;
    let refused = api.post("agent-id-1", &format!("/v1.0/talks/{talk}/messages"), json!({"text": "spam"})).await;
    refused.assert_error(403, "forbidden");
    assert_eq!(refused.message(), "no_spam");
    assert_eq!(api.head().await, head);
    // Asked before authorship: another agent's edit is refused by the policy first.
    let sent = api.send("agent-id-1", &talk, "hello").await;
    let edit = format!("/v1.0/messages/{}", sent["id"].as_str().unwrap_or_default());
    api.patch("agent-id-2", &edit, json!({"text": "x"})).await.assert_error(403, "forbidden");
    // After visibility: a stranger's edit is not found, whatever the policy.
    api.patch("agent-id-4", &edit, json!({"text": "x"})).await.assert_error(404, "not_found");
}

#[tokio::test]
async fn highlight_is_escaped() {
    let api = api();
    let talk = api.group("agent-id-1", &[]).await;
    let text = r#"<script>alert("deploy")</script> & 'deployment' <mark>x</mark>"#;
    let sent = api.send("agent-id-1", &talk, text).await;
    let found = api.get("agent-id-1", "/v1.0/search/messages?q=deploy").await.ok(200);
    assert_eq!(found["next_page_token"], "");
    let hits = found["result"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["message"], sent, "the message as a read answers it");
    assert_eq!(
        hits[0]["highlight"],
        "&lt;script&gt;alert(&quot;<mark>deploy</mark>&quot;)&lt;/script&gt; &amp; &#39;<mark>deploy</mark>ment&#39; \
         &lt;mark&gt;x&lt;/mark&gt;",
        "the text is escaped; the only tags are the hits' <mark>"
    );
}

#[tokio::test]
async fn search_finds_messages_with_filters_and_pages() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let other = api.group("agent-id-2", &[]).await;
    let first = api.send("agent-id-1", &talk, "Café meeting at noon").await;
    let second = api.send("agent-id-2", &talk, "the CAFE meeting moved").await;
    api.send("agent-id-2", &other, "cafe meeting elsewhere").await;
    let ids = |page: &Value| -> Vec<Value> {
        page["result"].as_array().unwrap().iter().map(|h| h["message"]["id"].clone()).collect()
    };
    let all = api.get("agent-id-1", "/v1.0/search/messages?q=cafe%20meet").await.ok(200);
    assert_eq!(ids(&all), [second["id"].clone(), first["id"].clone()], "newest first, only the caller's talks");
    assert_eq!(all["result"][1]["highlight"], "<mark>Café</mark> <mark>meet</mark>ing at noon");
    let by = api.get("agent-id-1", "/v1.0/search/messages?q=cafe&agent_id=agent-id-1").await.ok(200);
    assert_eq!(ids(&by), [first["id"].clone()]);
    let phrase = api.get("agent-id-1", "/v1.0/search/messages?q=%22meeting%20moved%22").await.ok(200);
    assert_eq!(ids(&phrase), [second["id"].clone()]);
    let after = second["tm_create"].as_str().unwrap().replace(':', "%3A");
    let none = api.get("agent-id-1", &format!("/v1.0/search/messages?q=cafe&after={after}")).await.ok(200);
    assert_eq!(ids(&none), Vec::<Value>::new());
    let page = api.get("agent-id-1", "/v1.0/search/messages?q=cafe&page_size=1").await.ok(200);
    assert_eq!(ids(&page), [second["id"].clone()]);
    let token: String = form_urlencoded::byte_serialize(page["next_page_token"].as_str().unwrap().as_bytes()).collect();
    let next = api.get("agent-id-1", &format!("/v1.0/search/messages?q=cafe&page_size=1&page_token={token}")).await;
    let next = next.ok(200);
    assert_eq!(ids(&next), [first["id"].clone()]);
    assert_eq!(next["next_page_token"], "");
    let other_query = api.get("agent-id-1", &format!("/v1.0/search/messages?q=meeting&page_token={token}")).await;
    other_query.assert_error(400, "invalid_request");
}
