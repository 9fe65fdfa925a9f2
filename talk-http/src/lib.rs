#![doc = include_str!("../README.md")]

mod auth;
pub mod dto;
mod encoder;
mod error;
mod extract;
mod log;
mod openapi;
mod rate_limit;
mod routes;
mod state;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use bytes::Bytes;
use talk_core::Hub;

/// The attribute an [`Authenticator`] implementation is written with
/// (`#[talk_http::async_trait]`), re-exported from the `async-trait` crate
/// so that an embedder needs no dependency of its own for it.
pub use async_trait::async_trait;
pub use auth::{Authenticator, StaticTokens};
pub use encoder::{WireFormat, encode_failures};
pub use error::ApiError;
pub use openapi::openapi;
pub use rate_limit::RateLimit;
pub use state::Options;

/// The close code of a WebSocket whose client did not keep up (`lagged`).
pub const CLOSE_LAGGED: u16 = ws::CLOSE_LAGGED;

/// The router of the whole API with the default [`Options`]: everything
/// under `/v1.0`, plus `GET /healthz`. Nest or merge it into an
/// application's own router as it is.
pub fn router(hub: Hub, auth: Arc<dyn Authenticator>) -> Router {
    router_with_options(hub, auth, Options::default())
}

/// The router of the whole API with these [`Options`].
pub fn router_with_options(hub: Hub, auth: Arc<dyn Authenticator>, options: Options) -> Router {
    let (routes, document) = openapi::api().split_for_parts();
    // Serialising the document cannot fail; an empty one would show it did.
    let document = Bytes::from(document.to_json().unwrap_or_default());
    let body_limit = options.body_limit;
    let limiter = options.rate_limit.clone().map(|limit| Arc::new(rate_limit::Limiter::new(limit)));
    let sockets = Arc::new(ws::SocketSlots::new(options.max_sockets_per_agent));
    let state = state::AppState { hub, auth, options: Arc::new(options), limiter, sockets, openapi: document };
    routes
        // After every route: the fallback applies to the routes mounted so far.
        .method_not_allowed_fallback(routes::meta::unknown_method)
        .fallback(routes::meta::unknown_route)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(log::access_log))
        .with_state(state)
}
