//! Shared set-up for the adapter's tests: a router on a MemoryStore with a
//! manual clock, known agents with tokens `token-<agent>`, request helpers,
//! and a real server for WebSocket tests.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, header};
use futures::StreamExt;
use serde_json::{Value, json};
use talk_core::store::StoreError;
use talk_core::{AgentId, DeliveryOptions, Hub, Limits, ManualClock, StaticDirectory};
use talk_http::{Options, StaticTokens};
use talk_store_memory::MemoryStore;
use talk_testing::{ForwardingStore, StoreMethod};
use tokio_tungstenite::tungstenite::Message;
use tower::ServiceExt;

mod client;
#[allow(unused_imports)]
pub use client::{Client, connect};

/// How long a test waits for something that should come at once.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A WebSocket client's end of a connection to the test server.
pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame, as JSON (pings and pongs skipped).
pub async fn next_text(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("a frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// The agents the directory knows.
pub const AGENTS: [&str; 10] = [
    "agent-id-1",
    "agent-id-2",
    "agent-id-3",
    "agent-id-4",
    "agent-123",
    "agent-a",
    "agent-b",
    "agent-c",
    "agent-d",
    "agent-e",
];

pub fn agent(id: &str) -> AgentId {
    AgentId::parse(id).expect("valid agent id")
}

pub fn token(agent: &str) -> String {
    format!("token-{agent}")
}

/// How a store read fails, when told to.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    Unavailable,
    Backend,
}

/// What a test may change of the set-up.
#[derive(Default)]
pub struct Setup {
    pub limits: Limits,
    pub delivery: DeliveryOptions,
    pub options: Options,
    /// The embedder's policy (default: allow everything).
    pub policy: Option<Arc<dyn talk_core::policy::Policy>>,
}

/// The router, the Hub behind it, and its store.
#[derive(Clone)]
pub struct Api {
    pub app: Router,
    pub hub: Hub,
    pub store: Arc<ForwardingStore>,
    /// The Hub's clock.
    pub clock: Arc<ManualClock>,
}

/// An answer: status, headers, and the body as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    /// `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// `error.message` of an error answer.
    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or("")
    }

    /// Asserts an error answer in the one documented shape.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{:?}", self.json);
        let top: Vec<&String> = self.json.as_object().expect("an object").keys().collect();
        assert_eq!(top, ["error"], "nothing but `error` at the top level");
        let mut keys: Vec<&String> = self.json["error"].as_object().expect("an object").keys().collect();
        keys.sort();
        assert_eq!(keys, ["code", "message"]);
        assert_eq!(self.headers[header::CONTENT_TYPE], "application/json");
    }

    /// Asserts a success and answers the body.
    #[track_caller]
    pub fn ok(self, status: u16) -> Value {
        assert_eq!(self.status, status, "{:?}", self.json);
        self.json
    }
}

pub fn api() -> Api {
    api_with(Setup::default())
}

pub fn api_with(setup: Setup) -> Api {
    let store = Arc::new(ForwardingStore::new(Arc::new(MemoryStore::new())));
    let clock = Arc::new(ManualClock::default());
    let mut hub = Hub::builder(store.clone())
        .clock(clock.clone())
        .directory(Arc::new(StaticDirectory::new(AGENTS.iter().map(|a| agent(a)))))
        .limits(setup.limits)
        .delivery(setup.delivery);
    if let Some(policy) = setup.policy {
        hub = hub.policy(policy);
    }
    let hub = hub.build();
    let tokens = StaticTokens::new(AGENTS.iter().map(|a| (token(a), agent(a))));
    let app = talk_http::router_with_options(hub.clone(), Arc::new(tokens), setup.options);
    Api { app, hub, store, clock }
}

impl Api {
    /// The head of the store's event log.
    pub async fn head(&self) -> u64 {
        talk_core::Store::head(self.store.as_ref()).await.expect("the head")
    }

    /// Makes every read of a talk fail with `failure` (`None`: they work again).
    pub fn fail_talk_reads(&self, failure: Option<Failure>) {
        let Some(failure) = failure else { return self.store.clear_hook() };
        self.store.set_hook(move |method| match (method, failure) {
            (StoreMethod::Talk | StoreMethod::TalkAndRecords | StoreMethod::TalksOfAgent, Failure::Unavailable) => {
                Err(StoreError::Unavailable("db.internal:5432 overloaded".into()))
            }
            (StoreMethod::Talk | StoreMethod::TalkAndRecords | StoreMethod::TalksOfAgent, Failure::Backend) => {
                Err(StoreError::backend("disk /var/lib/secret failed"))
            }
            _ => Ok(()),
        });
    }

    pub async fn request(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.expect("the router answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("a JSON body") };
        Reply { status, headers, json }
    }

    /// A request with the agent's bearer token and, if given, a JSON body.
    pub async fn call(&self, method: &str, uri: &str, agent: Option<&str>, body: Option<Value>) -> Reply {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(agent) = agent {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {}", token(agent)));
        }
        let body = match body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.request(builder.body(body).expect("a request")).await
    }

    pub async fn get(&self, agent: &str, uri: &str) -> Reply {
        self.call("GET", uri, Some(agent), None).await
    }

    pub async fn post(&self, agent: &str, uri: &str, body: Value) -> Reply {
        self.call("POST", uri, Some(agent), Some(body)).await
    }

    pub async fn post_empty(&self, agent: &str, uri: &str) -> Reply {
        self.call("POST", uri, Some(agent), None).await
    }

    pub async fn patch(&self, agent: &str, uri: &str, body: Value) -> Reply {
        self.call("PATCH", uri, Some(agent), Some(body)).await
    }

    pub async fn delete(&self, agent: &str, uri: &str) -> Reply {
        self.call("DELETE", uri, Some(agent), None).await
    }

    /// Creates a group talk; answers its id.
    pub async fn group(&self, creator: &str, others: &[&str]) -> String {
        let body = json!({"name": "Project Discussion", "participant_ids": others});
        let talk = self.post(creator, "/v1.0/talks", body).await.ok(201);
        talk["id"].as_str().expect("an id").to_owned()
    }

    /// Sends a text; answers the message.
    pub async fn send(&self, agent: &str, talk: &str, text: &str) -> Value {
        self.post(agent, &format!("/v1.0/talks/{talk}/messages"), json!({"text": text})).await.ok(201)
    }

    /// Every event the agent sees, as `GET /v1.0/events` pages them.
    pub async fn events(&self, agent: &str, since: u64) -> Vec<Value> {
        let mut all = Vec::new();
        let mut since = since;
        loop {
            let page = self.get(agent, &format!("/v1.0/events?since={since}&page_size=100")).await.ok(200);
            let items = page["result"].as_array().expect("a list").clone();
            let next: u64 = page["next_page_token"].as_str().expect("a token").parse().expect("a seq");
            if items.is_empty() {
                return all;
            }
            all.extend(items);
            since = next;
        }
    }

    /// Serves the router on a free port of 127.0.0.1.
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("an address");
        let app = self.app.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        address
    }
}

/// The ids of a list answer's `result`.
pub fn ids(list: &Value) -> Vec<String> {
    list["result"].as_array().expect("a list").iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
}

/// The sorted keys of an object.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}

/// Asserts an RFC 3339 UTC timestamp with exactly six fractional digits and `Z`.
#[track_caller]
pub fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("a timestamp, not {value}"));
    let bytes = text.as_bytes();
    assert_eq!(text.len(), 27, "{text}");
    assert_eq!((bytes[4], bytes[7], bytes[10], bytes[13], bytes[16], bytes[19]), (b'-', b'-', b'T', b':', b':', b'.'));
    assert!(text[20..26].bytes().all(|b| b.is_ascii_digit()), "{text}");
    assert!(text.ends_with('Z'), "{text}");
}
