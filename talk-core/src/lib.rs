#![doc = include_str!("../README.md")]

mod clock;
mod delivery;
mod directory;
mod error;
mod event;
mod hub;
mod id;
mod limits;
mod message;
mod named;
mod page;
mod participant;
pub mod policy;
mod reaction;
mod read;
mod rules;
mod search;
pub mod signal;
pub mod store;
mod syntax;
mod talk;
pub mod text;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use delivery::{
    Delivery, DeliveryOptions, EncodeError, EndReason, EventFormat, LocalNotifier, Notifier, Scope, SharedEvent,
    Subscription,
};
pub use directory::{AgentDirectory, AnyAgent, StaticDirectory};
pub use error::{Error, ErrorKind, Result};
pub use event::{Event, EventData};
pub use hub::{
    Consumer, ConsumerLag, Created, EventPage, Hub, HubBuilder, MessageFilter, ParticipantFilter, ParticipantRef,
    RetryPolicy, WithCounts,
};
pub use id::{AgentId, IdGenerator, MessageId, ParticipantId, TalkId, UuidV7Generator};
pub use limits::Limits;
pub use message::{Media, Message, MessageEdit, MessageKind, NewMessage, ReactionSummary, SystemEvent, SystemInfo};
pub use page::{Page, PageRequest};
pub use participant::{LeftReason, Participant, ParticipantStatus};
pub use reaction::{Emoji, Reaction, ReactionChange};
pub use read::{ReadCounts, ReadMarker, ReadNumbers, ReadReceipt, ReadState, ReceiptAudience, UnreadTotals};
pub use search::{Highlight, SearchFilters, SearchHit, SearchRequest};
pub use signal::{Connection, Presence, PresenceStatus, PresenceWatch, SharedTyping, Typing, TypingState};

/// The port an embedder plugs a store into; what a store author needs
/// besides it lives in [`store`].
pub use store::Store;
pub use talk::{AgentPair, NewTalk, Talk, TalkChanges, TalkKind, TalkStatus};
