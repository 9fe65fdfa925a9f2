//! [`WireEncoder`]: events encoded once, in the exact bytes of the
//! WebSocket event frame, and shared by every subscriber.

use talk_core::{Event, EventEncoder};

use crate::dto::EventFrame;

/// Encodes each event as the API's server event frame,
/// `{"type", "seq", "talk_id", "tm_create", "data"}`.
///
/// Build the Hub with it, and the WebSocket sends the bytes the Hub's
/// dispatcher encoded once per event to every subscriber as they are:
///
/// ```
/// # use std::sync::Arc;
/// # use talk_core::Hub;
/// # use talk_store_memory::MemoryStore;
/// let hub = Hub::builder(Arc::new(MemoryStore::new())).encoder(Arc::new(talk_http::WireEncoder)).build();
/// assert_eq!(hub.event_format(), talk_http::WireEncoder::FORMAT);
/// ```
///
/// With another encoder the adapter still works, but encodes every event
/// again for every frame it sends.
#[derive(Debug, Default, Clone, Copy)]
pub struct WireEncoder;

impl WireEncoder {
    /// The name of the format, as [`EventEncoder::format`] answers it.
    pub const FORMAT: &'static str = "talk-http/v1.0";
}

impl EventEncoder for WireEncoder {
    fn encode(&self, event: &Event) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string(&EventFrame::from(event)).unwrap_or_default()
    }

    fn format(&self) -> &'static str {
        Self::FORMAT
    }
}
