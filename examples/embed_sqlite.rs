//! Talk inside your own axum app: the chat kept in SQLite, served under
//! `/chat`, its users signed in by your app's own `Authenticator`.
//!
//! ```text
//! cargo run --example embed_sqlite
//! curl -s -X POST http://127.0.0.1:3000/chat/v1.0/talks -H 'Authorization: Bearer alice-key' \
//!   -H 'Content-Type: application/json' -d '{"name": "Plans", "participant_ids": ["bob"]}'
//! ```

use std::sync::Arc;

use axum::{Router, routing::get};
use talk_core::{AgentId, Hub};
use talk_http::{Authenticator, async_trait};
use talk_store_sqlite::{SqliteOptions, SqliteStore};

/// Your app's sign-in: here a fixed table of API keys; yours may look up a
/// session or check a JWT. Every agent it answers may chat.
struct ApiKeys;

#[async_trait]
impl Authenticator for ApiKeys {
    async fn authenticate(&self, token: &str) -> Option<AgentId> {
        let user = match token {
            "alice-key" => "alice",
            "bob-key" => "bob",
            _ => return None,
        };
        AgentId::parse(user).ok()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = std::env::var("CHAT_DB").unwrap_or_else(|_| "chat.db".to_owned());
    let address = std::env::var("CHAT_ADDRESS").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());

    // Opens (or creates) the database; refuses one that another store holds.
    let store = Arc::new(SqliteStore::open(&db, SqliteOptions::default())?);
    let chat = talk_http::router(Hub::new(store.clone()), Arc::new(ApiKeys));
    let app = Router::new().route("/", get(|| async { "my app" })).nest("/chat", chat);

    let listener = tokio::net::TcpListener::bind(&address).await?;
    eprintln!("my app on http://{}, its chat under /chat", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    // Answers the writes under way and folds the WAL into the database file.
    store.close().await?;
    Ok(())
}
