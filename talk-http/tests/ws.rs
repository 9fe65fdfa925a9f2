//! The WebSocket over a real socket: a server on 127.0.0.1, a
//! tokio-tungstenite client.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use common::{Api, Client, PATIENCE, Setup, agent, api, api_with, connect, token};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use talk_core::{DeliveryOptions, NewMessage, TalkId};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn types(frames: &[Value]) -> Vec<&str> {
    frames.iter().map(|f| f["type"].as_str().expect("a type")).collect()
}

fn seqs(frames: &[Value]) -> Vec<u64> {
    frames.iter().map(|f| f["seq"].as_u64().expect("a seq")).collect()
}

async fn talk_of(api: &Api, creator: &str, others: &[&str]) -> String {
    api.group(creator, others).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_unknown_token_is_401_without_upgrade() {
    let api = api();
    let address = api.serve().await;
    for url in [format!("ws://{address}/v1.0/ws"), format!("ws://{address}/v1.0/ws?token=wrong")] {
        match connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 401),
            other => panic!("expected 401, got {:?}", other.map(|(_, r)| r.status())),
        }
    }
    // The bearer header works too.
    let mut request = format!("ws://{address}/v1.0/ws").into_client_request().expect("a request");
    let bearer = format!("Bearer {}", token("agent-id-1")).parse().expect("a header value");
    request.headers_mut().insert("authorization", bearer);
    let (mut socket, _) = connect_async(request).await.expect("the upgrade");
    socket.send(Message::text(json!({"type": "subscribe", "talk_id": "*"}).to_string())).await.expect("sent");
    let mut client = Client { socket };
    assert_eq!(client.next().await["type"], "subscribed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_type_arrives_exactly_as_the_events_endpoint_has_it() {
    let api = api();
    let address = api.serve().await;
    let mut all = connect(address, "agent-id-1").await;
    let (_, start) = all.subscribe("*", None).await;
    let talk = talk_of(&api, "agent-id-1", &["agent-id-2"]).await;
    let mut one = connect(address, "agent-id-1").await;
    let (_, from) = one.subscribe(&talk, None).await;

    let path = format!("/v1.0/talks/{talk}");
    api.patch("agent-id-1", &path, json!({"name": "Renamed"})).await.ok(200);
    let added =
        api.post("agent-id-1", &format!("{path}/participants"), json!({"agent_id": "agent-id-3"})).await.ok(201);
    let message = api.send("agent-id-2", &talk, "hello").await;
    let message_path = format!("/v1.0/messages/{}", message["id"].as_str().expect("an id"));
    api.patch("agent-id-2", &message_path, json!({"text": "hello, all"})).await.ok(200);
    api.post("agent-id-1", &format!("{message_path}/reactions"), json!({"emoji": "eyes"})).await.ok(200);
    api.delete("agent-id-1", &format!("{message_path}/reactions/eyes")).await.ok(200);
    api.delete("agent-id-2", &message_path).await.ok(200);
    let record = added["id"].as_str().expect("an id");
    api.delete("agent-id-1", &format!("{path}/participants/{record}")).await.ok(200);
    api.post_empty("agent-id-1", &format!("{path}/close")).await.ok(200);
    api.post_empty("agent-id-1", &format!("{path}/reopen")).await.ok(200);

    // Live frames went out before the delete; the log has since removed the
    // deleted message's content from them (deleted means deleted).
    let deleted = message["id"].clone();
    let redact = |mut frames: Vec<Value>| {
        for frame in &mut frames {
            if frame["data"]["id"] == deleted {
                frame["data"]["text"] = json!("");
                frame["data"]["medias"] = json!([]);
                frame["data"]["reactions"] = json!([]);
            }
        }
        frames
    };
    let expected = api.events("agent-id-1", from).await;
    let frames = redact(one.take(expected.len()).await);
    assert_eq!(frames, expected);
    let mut seen: HashSet<&str> = types(&frames).into_iter().collect();
    let star_expected = api.events("agent-id-1", start).await;
    let star = redact(all.take(star_expected.len()).await);
    assert_eq!(star, star_expected);
    seen.extend(types(&star));
    let mut seen: Vec<&str> = seen.into_iter().collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            "message_created",
            "message_deleted",
            "message_updated",
            "participant_joined",
            "participant_left",
            "reaction_added",
            "reaction_removed",
            "talk_closed",
            "talk_created",
            "talk_reopened",
            "talk_updated"
        ]
    );
    let reaction = frames.iter().find(|f| f["type"] == "reaction_added").expect("a reaction");
    assert_eq!(reaction["data"], json!({"message_id": message["id"], "emoji": "👀", "agent_id": "agent-id-1"}));
    let created = expected.iter().find(|f| f["type"] == "message_created" && f["data"]["id"] == message["id"]);
    assert_eq!(created.expect("the message")["data"]["text"], "", "the log keeps no deleted content");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_resumes_without_gap_or_duplicate() {
    let api = api();
    let address = api.serve().await;
    let talk = talk_of(&api, "agent-id-1", &["agent-id-2"]).await;
    for i in 0..5 {
        api.send("agent-id-1", &talk, &format!("before {i}")).await;
    }
    let mut client = connect(address, "agent-id-2").await;
    let (replayed, seq) = client.subscribe(&talk, Some(0)).await;
    assert_eq!(replayed, api.events("agent-id-2", 0).await);
    let last_seen = seqs(&replayed).last().copied().expect("events");
    assert_eq!(seq, last_seen);
    drop(client);

    for i in 0..3 {
        api.send("agent-id-1", &talk, &format!("while away {i}")).await;
    }
    // Writers race the subscription: still no gap and no duplicate.
    let writer = {
        let api = api.clone();
        let talk = talk.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                api.send("agent-id-1", &talk, &format!("racing {i}")).await;
            }
        })
    };
    let mut client = connect(address, "agent-id-2").await;
    let (mut frames, _) = client.subscribe(&talk, Some(last_seen)).await;
    writer.await.expect("the writer");
    let expected = api.events("agent-id-2", last_seen).await;
    assert_eq!(expected.len(), 43);
    let missing = expected.len() - frames.len();
    frames.extend(client.take(missing).await);
    assert_eq!(frames, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn star_follows_talks_joined_later_and_nothing_else() {
    let api = api();
    let address = api.serve().await;
    let mut client = connect(address, "agent-id-2").await;
    let (_, from) = client.subscribe("*", None).await;
    let first = talk_of(&api, "agent-id-1", &["agent-id-2"]).await;
    assert_eq!(types(&client.take(3).await), ["talk_created", "participant_joined", "participant_joined"]);
    let other = talk_of(&api, "agent-id-1", &[]).await;
    api.send("agent-id-1", &other, "not for agent-id-2").await;
    api.post("agent-id-1", &format!("/v1.0/talks/{other}/participants"), json!({"agent_id": "agent-id-2"}))
        .await
        .ok(201);
    api.send("agent-id-1", &other, "now for agent-id-2").await;
    api.send("agent-id-1", &first, "still here").await;
    let frames = client.take(4).await;
    assert_eq!(types(&frames), ["participant_joined", "message_created", "message_created", "message_created"]);
    assert_eq!(frames[2]["data"]["text"], "now for agent-id-2");
    let mut all = api.events("agent-id-2", from).await;
    let tail = all.split_off(3);
    assert_eq!(tail, frames);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_holds_star_or_talks_each_once() {
    let api = api();
    let address = api.serve().await;
    let talk = talk_of(&api, "agent-id-1", &[]).await;
    let mut client = connect(address, "agent-id-1").await;
    client.subscribe(&talk, None).await;
    for target in [talk.as_str(), "*"] {
        client.send(json!({"type": "subscribe", "talk_id": target})).await;
        let error = client.next().await;
        assert_eq!((&error["type"], &error["code"]), (&json!("error"), &json!("already_subscribed")), "{error}");
    }
    client.send(json!({"type": "unsubscribe", "talk_id": talk})).await;
    assert_eq!(client.next().await, json!({"type": "unsubscribed", "talk_id": talk, "reason": "request"}));
    client.subscribe("*", None).await;
    client.send(json!({"type": "subscribe", "talk_id": talk})).await;
    assert_eq!(client.next().await["code"], "already_subscribed");
    // Still open and working.
    api.send("agent-id-1", &talk, "hi").await;
    assert_eq!(client.next().await["data"]["text"], "hi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_stops_the_events_of_that_subscription() {
    let api = api();
    let address = api.serve().await;
    let talk = talk_of(&api, "agent-id-1", &[]).await;
    let mut client = connect(address, "agent-id-1").await;
    client.subscribe(&talk, None).await;
    api.send("agent-id-1", &talk, "one").await;
    assert_eq!(client.next().await["data"]["text"], "one");
    client.send(json!({"type": "unsubscribe", "talk_id": talk})).await;
    assert_eq!(client.next().await["type"], "unsubscribed");
    api.send("agent-id-1", &talk, "unheard").await;
    // Not subscribed: a repeat, answered the same way.
    client.send(json!({"type": "unsubscribe", "talk_id": talk})).await;
    assert_eq!(client.next().await, json!({"type": "unsubscribed", "talk_id": talk, "reason": "request"}));
    client.subscribe(&talk, None).await;
    api.send("agent-id-1", &talk, "two").await;
    assert_eq!(client.next().await["data"]["text"], "two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_participant_is_unsubscribed_with_reason_left() {
    let api = api();
    let address = api.serve().await;
    let talk = talk_of(&api, "agent-id-1", &["agent-id-2"]).await;
    let mut client = connect(address, "agent-id-2").await;
    let (_, from) = client.subscribe(&talk, None).await;
    let listed = api.get("agent-id-1", &format!("/v1.0/talks/{talk}/participants")).await.ok(200);
    let record = listed["result"][1]["id"].as_str().expect("an id").to_owned();
    api.delete("agent-id-1", &format!("/v1.0/talks/{talk}/participants/{record}")).await.ok(200);
    let frames = client.take(3).await;
    assert_eq!(types(&frames), ["message_created", "participant_left", "unsubscribed"]);
    assert_eq!(frames[0]["data"]["system"]["event"], "participant_removed");
    assert_eq!(frames[2], json!({"type": "unsubscribed", "talk_id": talk, "reason": "left"}));
    // Nothing of the talk follows; the same socket can subscribe again.
    api.send("agent-id-1", &talk, "after").await;
    client.send(json!({"type": "subscribe", "talk_id": talk})).await;
    assert_eq!(client.next().await["code"], "not_participant");
    // With a since before its own participant_left: the replay, then the end.
    client.send(json!({"type": "subscribe", "talk_id": talk, "since": from})).await;
    let frames = client.take(3).await;
    assert_eq!(types(&frames), ["message_created", "participant_left", "unsubscribed"]);
    assert_eq!(frames[2]["reason"], "left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_frames_answer_errors_and_the_socket_stays_open() {
    let api = api();
    let address = api.serve().await;
    let talk = talk_of(&api, "agent-id-1", &[]).await;
    let mut client = connect(address, "agent-id-2").await;
    client.socket.send(Message::text("not json")).await.expect("sent");
    let error = client.next().await;
    assert_eq!(error["code"], "invalid_json");
    // A WebSocket frame is called a frame, not a body.
    let message = error["message"].as_str().expect("a message");
    assert!(message.contains("frame") && !message.contains("body"), "{message}");
    client.send(json!(["subscribe"])).await;
    let message = client.next().await["message"].as_str().expect("a message").to_owned();
    assert!(message.contains("frame") && !message.contains("body"), "{message}");
    for frame in [
        json!({"type": "dance"}),
        json!({"type": "subscribe"}),
        json!({"type": "subscribe", "talk_id": "nope"}),
        json!({"type": "subscribe", "talk_id": "*", "extra": 1}),
        json!({"type": "subscribe", "talk_id": "*", "since": -1}),
        json!(["subscribe", "*"]),
    ] {
        client.send(frame.clone()).await;
        let error = client.next().await;
        assert_eq!((&error["type"], &error["code"]), (&json!("error"), &json!("invalid_request")), "{frame}: {error}");
        assert!(error["message"].is_string());
    }
    client.send(json!({"type": "unsubscribe", "talk_id": "nope"})).await;
    let message = client.next().await["message"].as_str().expect("a message").to_owned();
    assert!(message.starts_with("talk_id:") && message.contains("\"*\""), "{message}");
    client.socket.send(Message::binary(vec![1, 2, 3])).await.expect("sent");
    assert_eq!(client.next().await["code"], "invalid_request");
    client.send(json!({"type": "subscribe", "talk_id": talk})).await;
    assert_eq!(client.next().await["code"], "not_found");
    client.send(json!({"type": "subscribe", "talk_id": TalkId(uuid_nil()).to_string()})).await;
    assert_eq!(client.next().await["code"], "not_found");
    client.subscribe("*", None).await;
}

fn uuid_nil() -> uuid::Uuid {
    uuid::Uuid::nil()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_since_older_than_the_log_asks_for_a_resync() {
    let api = api();
    let address = api.serve().await;
    let talk = talk_of(&api, "agent-id-1", &[]).await;
    api.send("agent-id-1", &talk, "old").await;
    api.hub.prune_events(3).await.expect("prune");
    let mut client = connect(address, "agent-id-1").await;
    client.send(json!({"type": "subscribe", "talk_id": "*", "since": 1})).await;
    let resync = client.next().await;
    assert_eq!((&resync["type"], &resync["talk_id"]), (&json!("resync_required"), &json!("*")));
    api.send("agent-id-1", &talk, "new").await;
    let frame = client.next().await;
    assert_eq!(frame["data"]["text"], "new");
    assert!(frame["seq"].as_u64() > resync["seq"].as_u64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_closed_with_4008_lagged() {
    let delivery = DeliveryOptions { queue_bound: 2, ..DeliveryOptions::default() };
    let options = talk_http::Options::default().outbound_frames(2);
    let api = api_with(Setup { delivery, options, ..Setup::default() });
    let address = api.serve().await;
    let talk = talk_of(&api, "agent-id-1", &[]).await;
    let mut client = connect(address, "agent-id-1").await;
    client.subscribe("*", None).await;
    // The client reads nothing while these are sent.
    let author = agent("agent-id-1");
    let talk_id: TalkId = talk.parse().expect("a talk id");
    // Far more than the socket buffers of the loopback hold.
    let text = "x".repeat(4000);
    let mut last = 0;
    for _ in 0..4000 {
        let message = NewMessage { text: text.clone(), ..NewMessage::default() };
        last = api.hub.send_message(&author, talk_id, message).await.expect("sent").resource.seq;
    }
    assert_eq!(client.close_code().await, Some(talk_http::CLOSE_LAGGED));
    // A new connection resumes with since.
    let mut again = connect(address, "agent-id-1").await;
    let (replayed, seq) = again.subscribe("*", Some(last - 3)).await;
    assert_eq!((seqs(&replayed), seq), (vec![last - 2, last - 1, last], last));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_and_subscribers_each_get_everything_once_in_order() {
    let api = api();
    let address = api.serve().await;
    let agents = ["agent-id-1", "agent-id-2", "agent-id-3", "agent-id-4"];
    let talk = talk_of(&api, agents[0], &agents[1..]).await;
    let mut clients = Vec::new();
    for agent in agents {
        let mut client = connect(address, agent).await;
        client.subscribe(&talk, None).await;
        clients.push(client);
    }
    const EACH: usize = 25;
    let senders: Vec<_> = agents
        .iter()
        .map(|agent| {
            let api = api.clone();
            let talk = talk.clone();
            let agent = (*agent).to_owned();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..EACH {
                    let message = api.send(&agent, &talk, &format!("{agent} {i}")).await;
                    ids.push(message["id"].as_str().expect("an id").to_owned());
                }
                ids
            })
        })
        .collect();
    let receivers: Vec<_> =
        clients.into_iter().map(|mut client| tokio::spawn(async move { client.take(EACH * 4).await })).collect();
    let mut sent = HashSet::new();
    for sender in senders {
        sent.extend(sender.await.expect("a sender"));
    }
    for receiver in receivers {
        let frames = receiver.await.expect("a receiver");
        let seqs = seqs(&frames);
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in seq order, each once");
        let received: HashSet<String> =
            frames.iter().map(|f| f["data"]["id"].as_str().expect("an id").to_owned()).collect();
        assert_eq!(received, sent);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_answering_pings_is_dropped() {
    let options = talk_http::Options::default().ping_interval(Duration::from_millis(200));
    let api = api_with(Setup { options, ..Setup::default() });
    let address = api.serve().await;
    // A client that reads answers the pings and stays.
    let mut alive = connect(address, "agent-id-1").await;
    let mut pings = 0;
    while pings < 3 {
        match tokio::time::timeout(PATIENCE, alive.socket.next()).await.expect("a ping in time") {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    alive.subscribe("*", None).await;
    // A client that reads nothing answers nothing, and is dropped.
    let mut silent = connect(address, "agent-id-2").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let ended = silent.close_code().await;
    assert!(ended.is_none() || ended == Some(1000) || ended == Some(1001), "{ended:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_talk_subscriptions_per_socket_are_capped_and_the_others_keep_going() {
    let options = talk_http::Options::default().max_subscriptions_per_socket(2);
    let api = api_with(Setup { options, ..Setup::default() });
    let address = api.serve().await;
    let mut talks = Vec::new();
    for _ in 0..3 {
        talks.push(talk_of(&api, "agent-id-1", &[]).await);
    }
    let mut client = connect(address, "agent-id-1").await;
    client.subscribe(&talks[0], None).await;
    client.subscribe(&talks[1], None).await;
    client.send(json!({"type": "subscribe", "talk_id": talks[2]})).await;
    let refused = client.next().await;
    assert_eq!((&refused["type"], &refused["code"]), (&json!("error"), &json!("limit_exceeded")), "{refused}");
    // The others keep going.
    api.send("agent-id-1", &talks[1], "still here").await;
    let event = client.next().await;
    assert_eq!((&event["type"], &event["talk_id"]), (&json!("message_created"), &json!(talks[1])));
    // An unsubscribe frees a place; "*" is never refused by the cap.
    client.send(json!({"type": "unsubscribe", "talk_id": talks[0]})).await;
    assert_eq!(client.next().await["type"], "unsubscribed");
    client.subscribe(&talks[2], None).await;
    let mut all = connect(address, "agent-id-1").await;
    all.subscribe("*", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_single_talk_subscriptions_on_one_socket_each_get_their_events_in_order() {
    let api = api();
    let address = api.serve().await;
    // More talks than the writer polls in turn: it then polls through a set.
    let mut talks = Vec::new();
    for _ in 0..7 {
        talks.push(talk_of(&api, "agent-id-1", &["agent-id-2"]).await);
    }
    let mut client = connect(address, "agent-id-2").await;
    for talk in &talks {
        client.subscribe(talk, None).await;
    }
    for round in 0..3 {
        for talk in &talks {
            api.send("agent-id-1", talk, &format!("{round}")).await;
        }
    }
    let frames = client.take(3 * talks.len()).await;
    for talk in &talks {
        let texts: Vec<_> = frames.iter().filter(|f| f["talk_id"] == json!(talk)).map(|f| &f["data"]["text"]).collect();
        assert_eq!(texts, [&json!("0"), &json!("1"), &json!("2")], "talk {talk}");
    }
    // One unsubscribed and one left: the others keep going, and neither
    // of those two is heard again.
    client.send(json!({"type": "unsubscribe", "talk_id": talks[0]})).await;
    assert_eq!(client.next().await, json!({"type": "unsubscribed", "talk_id": talks[0], "reason": "request"}));
    api.delete("agent-id-2", &format!("/v1.0/talks/{}/participants/me", talks[1])).await.ok(200);
    let frames = client.take(3).await;
    assert_eq!(types(&frames), ["message_created", "participant_left", "unsubscribed"]);
    for talk in &talks {
        api.send("agent-id-1", talk, "last").await;
    }
    let frames = client.take(talks.len() - 2).await;
    let mut heard: Vec<_> = frames.iter().map(|f| f["talk_id"].as_str().expect("a talk").to_owned()).collect();
    let mut expected = talks[2..].to_vec();
    heard.sort();
    expected.sort();
    assert_eq!(heard, expected);
}

/// Connects, expecting a refusal; answers its status, `Retry-After` and body.
async fn refused_upgrade(address: SocketAddr, agent: &str) -> (u16, Option<String>, Value) {
    let url = format!("ws://{address}/v1.0/ws?token={}", token(agent));
    match connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let retry_after = response.headers().get("retry-after").map(|v| v.to_str().expect("text").to_owned());
            let body = response.body().as_deref().map(|b| serde_json::from_slice(b).expect("JSON"));
            (response.status().as_u16(), retry_after, body.unwrap_or(Value::Null))
        }
        other => panic!("expected a refusal, got {:?}", other.map(|(_, r)| r.status())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_websockets_per_agent_are_capped_and_a_closed_one_frees_its_slot() {
    let options = talk_http::Options::default().max_sockets_per_agent(2);
    let api = api_with(Setup { options, ..Setup::default() });
    let address = api.serve().await;
    let mut first = connect(address, "agent-id-1").await;
    let mut second = connect(address, "agent-id-1").await;
    let (status, retry_after, body) = refused_upgrade(address, "agent-id-1").await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("rate_limited")), "{body}");
    assert!(retry_after.is_some_and(|s| s.parse::<u32>().is_ok_and(|s| s >= 1)));
    // Another agent has its own slots; the open sockets work.
    connect(address, "agent-id-2").await.subscribe("*", None).await;
    first.subscribe("*", None).await;
    second.subscribe("*", None).await;
    // A closed socket frees its slot (as soon as the server has seen it close).
    first.socket.close(None).await.expect("closed");
    drop(first);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut third = loop {
        let url = format!("ws://{address}/v1.0/ws?token={}", token("agent-id-1"));
        match connect_async(url).await {
            Ok((socket, _)) => break Client { socket },
            Err(_) if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(error) => panic!("the slot was never freed: {error}"),
        }
    };
    third.subscribe("*", None).await;
}
