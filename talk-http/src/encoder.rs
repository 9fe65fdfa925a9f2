//! [`WireFormat`]: each event encoded once, in the exact text of the
//! WebSocket event frame, and shared by every socket it goes to.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::Utf8Bytes;
use talk_core::{EncodeError, Event, EventFormat};

use crate::dto::EventFrame;

/// The API's server event frame, `{"type", "seq", "talk_id", "tm_create",
/// "data"}`: the WebSocket asks each delivered event for it
/// ([`SharedEvent::encoded`](talk_core::SharedEvent::encoded)), so the first
/// socket to send an event encodes it and every other one sends the same
/// bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct WireFormat;

/// How many events could not be encoded since the process started.
static ENCODE_FAILURES: AtomicU64 = AtomicU64::new(0);

/// How many events the WebSocket could not encode since the process started
/// (each one also logged as an error, and its socket closed with `1011`, so
/// that the client resumes from the event before it rather than miss it).
pub fn encode_failures() -> u64 {
    ENCODE_FAILURES.load(Ordering::Relaxed)
}

impl EventFormat for WireFormat {
    type Encoded = Utf8Bytes;

    fn encode(&self, event: &Event) -> Result<Utf8Bytes, EncodeError> {
        match serde_json::to_string(&EventFrame::from(event)) {
            Ok(text) => Ok(Utf8Bytes::from(text)),
            Err(error) => {
                ENCODE_FAILURES.fetch_add(1, Ordering::Relaxed);
                let error = EncodeError { seq: event.seq, reason: error.to_string() };
                tracing::error!(%error, "an event could not be encoded for the WebSocket");
                Err(error)
            }
        }
    }
}
