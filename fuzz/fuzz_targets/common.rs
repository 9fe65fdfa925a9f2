#![allow(dead_code)]
//! What both targets share: a Hub on a MemoryStore with known agents, a
//! talk `{T}` and a message `{M}` in it, and the router.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use talk_core::{AgentId, Hub, StaticDirectory};
use talk_http::{StaticTokens};
use talk_store_memory::MemoryStore;
use tower::ServiceExt;

pub struct World {
    pub runtime: tokio::runtime::Runtime,
    pub hub: Hub,
    pub app: Router,
    pub talk: String,
    pub message: String,
}

pub const AGENTS: [&str; 3] = ["agent-id-1", "agent-id-2", "agent-id-3"];

fn agent(id: &str) -> AgentId {
    AgentId::parse(id).expect("a valid agent id")
}

impl World {
    pub fn new() -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let hub = runtime.block_on(async {
            Hub::builder(Arc::new(MemoryStore::new()))
                
                .directory(Arc::new(StaticDirectory::new(AGENTS.iter().map(|a| agent(a)))))
                .build()
        });
        let tokens = StaticTokens::new(AGENTS.iter().map(|a| (format!("token-{a}"), agent(a))));
        let app = talk_http::router(hub.clone(), Arc::new(tokens));
        let mut world = Self { runtime, hub, app, talk: String::new(), message: String::new() };
        let talk = world.call("POST", "/v1.0/talks", br#"{"name": "fuzz", "participant_ids": ["agent-id-2"]}"#);
        world.talk = talk.1["id"].as_str().expect("a talk").to_owned();
        let path = format!("/v1.0/talks/{}/messages", world.talk);
        let message = world.call("POST", &path, br#"{"text": "hello"}"#);
        world.message = message.1["id"].as_str().expect("a message").to_owned();
        world
    }

    /// A request as agent-id-1; answers the status and the JSON body.
    pub fn call(&self, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", "Bearer token-agent-id-1")
            .header("content-type", "application/json")
            .body(Body::from(body.to_vec()));
        let Ok(request) = request else { return (0, serde_json::Value::Null) };
        self.runtime.block_on(async {
            let response = self.app.clone().oneshot(request).await.expect("the router answers");
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
            let json = if bytes.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_slice(&bytes).expect("every answer is JSON")
            };
            (status, json)
        })
    }

    pub fn head(&self) -> u64 {
        self.runtime.block_on(self.hub.store().head()).expect("the head")
    }
}
