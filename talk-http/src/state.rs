//! What every handler shares, and the adapter's tunables.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use talk_core::Hub;

use crate::auth::Authenticator;
use crate::rate_limit::{Limiter, RateLimit};
use crate::ws::SocketSlots;

/// Tunables of the adapter. `Options::default()` holds the documented
/// defaults; change them with the builder methods.
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) body_limit: usize,
    pub(crate) ping_interval: Duration,
    pub(crate) outbound_frames: usize,
    pub(crate) max_client_message: usize,
    pub(crate) close_grace: Duration,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) max_subscriptions_per_socket: usize,
    pub(crate) max_sockets_per_agent: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            ping_interval: Duration::from_secs(30),
            outbound_frames: 64,
            max_client_message: 64 * 1024,
            close_grace: Duration::from_secs(5),
            rate_limit: None,
            max_subscriptions_per_socket: 1000,
            max_sockets_per_agent: 32,
        }
    }
}

impl Options {
    /// The largest request body accepted, in bytes (default 1 MiB); a larger
    /// one answers `413 payload_too_large`.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How often the server pings each WebSocket (default 30 s). A peer
    /// from which nothing arrived (not even a pong) between one ping and the
    /// next is dropped, and so is one that does not take a frame within two
    /// intervals.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How many answers to client frames (errors, `unsubscribed`) a
    /// WebSocket connection may have waiting to be written (default 64); a
    /// client that sends more without reading waits. Events do not wait
    /// here: the socket's writer reads them from the Hub's
    /// per-subscription queues, whose bound holds the memory of a slow
    /// client (when one is full, the subscription lags and the socket
    /// closes with `4008`).
    pub fn outbound_frames(mut self, frames: usize) -> Self {
        self.outbound_frames = frames.max(1);
        self
    }

    /// The largest WebSocket message (and frame) a client may send, in
    /// bytes (default 64 KiB: a client frame is a tiny subscribe or
    /// unsubscribe).
    pub fn max_client_message(mut self, bytes: usize) -> Self {
        self.max_client_message = bytes;
        self
    }

    /// How long the server waits for the client's answer to its close frame
    /// before it drops the connection (default 5 s).
    pub fn close_grace(mut self, grace: Duration) -> Self {
        self.close_grace = grace;
        self
    }

    /// Limits each authenticated agent's request rate (default: no limit).
    /// A request over the limit answers `429 rate_limited` with
    /// `Retry-After`; see [`RateLimit`].
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// The most single-talk subscriptions one WebSocket may hold (default
    /// 1000). One more `subscribe` answers an `error` frame with code
    /// `limit_exceeded`; the socket and its other subscriptions go on. A
    /// client that follows many talks can subscribe to `"*"` instead: one
    /// subscription for every talk of the agent.
    pub fn max_subscriptions_per_socket(mut self, subscriptions: usize) -> Self {
        self.max_subscriptions_per_socket = subscriptions;
        self
    }

    /// The most WebSockets one agent may have open on this server (default
    /// 32; each router counts its own, so in a cluster the cap is per
    /// node). An upgrade over it answers `429 rate_limited` with
    /// `Retry-After`, without upgrading; a socket that closes frees its slot.
    pub fn max_sockets_per_agent(mut self, sockets: usize) -> Self {
        self.max_sockets_per_agent = sockets;
        self
    }
}

/// The state of the router.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) hub: Hub,
    pub(crate) auth: Arc<dyn Authenticator>,
    pub(crate) options: Arc<Options>,
    /// The per-agent rate limit, when [`Options::rate_limit`] turned it on.
    pub(crate) limiter: Option<Arc<Limiter>>,
    /// The WebSockets each agent has open, against [`Options::max_sockets_per_agent`].
    pub(crate) sockets: Arc<SocketSlots>,
    /// The OpenAPI document, serialised once.
    pub(crate) openapi: Bytes,
}
