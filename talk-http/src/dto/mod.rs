//! The wire format: the JSON the API reads and writes, kept apart from
//! talk-core's domain types. Internal fields (versions, `seq` of rows,
//! request digests, direct pairs, membership spans) never appear here.
//!
//! Conventions:
//! - Timestamps are RFC 3339 UTC with exactly six fractional digits and `Z`
//!   (`2026-11-23T10:30:00.123456Z`); one that has not happened is `null`.
//! - Every field is always present: an absent value is `null`, never a
//!   missing key. So a normal message carries `"system": null`.
//! - Request bodies refuse unknown fields (`400 invalid_request`); an
//!   optional field may be given as `null`, which means absent.

use chrono::SecondsFormat;
use serde::{Serialize, Serializer};
use talk_core::Timestamp;
use utoipa::ToSchema;

pub use self::events::{EventFrame, EventList, EventPayload, EventType};
pub use self::messages::{
    EditMessageRequest, MediaDto, MessageDto, MessageList, MessageType, SendMessageRequest, SystemDto, SystemEventDto,
};
pub use self::participants::{AddParticipantRequest, LeftReasonDto, ParticipantDto, ParticipantList, ParticipantState};
pub use self::presence::{PresenceDto, PresenceList, PresenceState};
pub use self::reactions::{AddReactionRequest, ReactionEventDto, ReactionSummaryDto, ReactorDto, ReactorList};
pub use self::reads::{ReadReceiptDto, ReadReceiptList, ReadRequest, ReadStateDto, UnreadRequest, UnreadTotalsDto};
pub use self::search::{SearchHitDto, SearchHitList};
pub use self::talks::{
    CreateTalkRequest, PublicTalkList, TalkDto, TalkList, TalkState, TalkType, TalkWithCountsDto, UpdateTalkRequest,
};
pub use self::ws::{ClientFrame, ControlFrame, TypingStateDto, UnsubscribeReason};

/// Writes a timestamp as RFC 3339 UTC with microseconds and `Z`.
fn timestamp<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// Writes an optional timestamp, `null` when absent.
fn optional_timestamp<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => timestamp(t, s),
        None => s.serialize_none(),
    }
}

/// A page of a list: `{"result": [...], "next_page_token"}`.
macro_rules! list {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
        pub struct $name {
            /// The items of this page.
            pub result: Vec<$item>,
            /// Continues the list (pass it as `page_token`); `""` when there is nothing more.
            pub next_page_token: String,
        }
    };
}

mod events;
mod messages;
mod participants;
mod presence;
mod reactions;
mod reads;
mod search;
mod talks;
mod ws;

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The stable code (`talk_closed`, `not_found`, …).
    pub code: String,
    /// What went wrong, naming the field or resource.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn timestamps_have_six_fractional_digits_and_z() {
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 10, 30, 0).single().expect("a valid time");
        let value = serde_json::to_value(ReactorDto { agent_id: "a".into(), tm_create: t }).expect("serialises");
        assert_eq!(value["tm_create"], "2026-11-23T10:30:00.000000Z");
    }
}
