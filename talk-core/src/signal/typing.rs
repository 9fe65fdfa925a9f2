//! Who is typing where, on one node: renewals, expiry and coalescing.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{SignalOptions, Typing, TypingState, to_chrono};
use crate::clock::Timestamp;
use crate::delivery::lock;
use crate::id::{AgentId, MessageId, TalkId};

/// One typist in one talk and thread.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TypingKey {
    pub(crate) talk_id: TalkId,
    pub(crate) parent_id: Option<MessageId>,
    pub(crate) agent_id: AgentId,
}

impl TypingKey {
    fn frame(&self, state: TypingState) -> Typing {
        Typing { talk_id: self.talk_id, parent_id: self.parent_id, agent_id: self.agent_id.clone(), state }
    }
}

#[derive(Debug)]
struct Entry {
    /// Whether it types now.
    typing: bool,
    /// When its typing ends without a renewal.
    expires: Timestamp,
    /// The state the subscribers were last told.
    shown: bool,
    /// When they were last told.
    last_shown: Option<Timestamp>,
}

/// What typing ends besides a stop or the expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypingEnd {
    /// A message of the typist in that talk and thread.
    Sent { talk_id: TalkId, parent_id: Option<MessageId>, agent_id: AgentId },
    /// The typist left the talk, or was removed.
    Left { talk_id: TalkId, agent_id: AgentId },
    /// The talk closed.
    Closed { talk_id: TalkId },
    /// The typist's last connection on a node closed.
    Gone { agent_id: AgentId },
}

impl TypingEnd {
    fn ends(&self, key: &TypingKey) -> bool {
        match self {
            Self::Sent { talk_id, parent_id, agent_id } => {
                key.talk_id == *talk_id && key.parent_id == *parent_id && key.agent_id == *agent_id
            }
            Self::Left { talk_id, agent_id } => key.talk_id == *talk_id && key.agent_id == *agent_id,
            Self::Closed { talk_id } => key.talk_id == *talk_id,
            Self::Gone { agent_id } => key.agent_id == *agent_id,
        }
    }
}

/// The typists a node knows of, and what its subscribers were told.
#[derive(Debug)]
pub(crate) struct Typists {
    entries: Mutex<HashMap<TypingKey, Entry>>,
    expiry: chrono::Duration,
    coalesce: chrono::Duration,
    coalesced: std::sync::atomic::AtomicU64,
}

impl Typists {
    pub(crate) fn new(options: &SignalOptions) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            expiry: to_chrono(options.typing_expiry),
            coalesce: to_chrono(options.typing_coalesce),
            coalesced: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether no typist is known (nothing for an event to end).
    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.entries).is_empty()
    }

    /// Typing changes held back by coalescing so far.
    pub(crate) fn coalesced(&self) -> u64 {
        self.coalesced.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether `key` was shown typing within the coalescing interval: a
    /// renewal then need not travel to the other nodes yet.
    pub(crate) fn renewed_lately(&self, key: &TypingKey, now: Timestamp) -> bool {
        lock(&self.entries)
            .get(key)
            .is_some_and(|entry| entry.typing && entry.expires - self.expiry + self.coalesce > now)
    }

    /// `key` types (or stopped): the frame to send now, if any.
    pub(crate) fn set(&self, key: TypingKey, typing: bool, now: Timestamp) -> Option<Typing> {
        let mut entries = lock(&self.entries);
        let entry =
            entries.entry(key.clone()).or_insert(Entry { typing: false, expires: now, shown: false, last_shown: None });
        entry.typing = typing;
        if typing {
            entry.expires = now + self.expiry;
        }
        self.settle(&key, entry, now)
    }

    /// Stops every typist that `end` ends: the frames to send now.
    pub(crate) fn end(&self, end: &TypingEnd, now: Timestamp) -> Vec<Typing> {
        let mut entries = lock(&self.entries);
        let mut frames = Vec::new();
        for (key, entry) in entries.iter_mut().filter(|(key, entry)| entry.typing && end.ends(key)) {
            entry.typing = false;
            frames.extend(self.settle(key, entry, now));
        }
        frames
    }

    /// Expires typing not renewed in time and sends what coalescing held
    /// back: the frames to send now.
    pub(crate) fn sweep(&self, now: Timestamp) -> Vec<Typing> {
        let mut entries = lock(&self.entries);
        let mut frames = Vec::new();
        for (key, entry) in entries.iter_mut() {
            if entry.typing && entry.expires <= now {
                entry.typing = false;
            }
            // What was held back goes once its second is over (it was
            // counted as coalesced when it was held back).
            if entry.typing != entry.shown && !self.within_interval(entry, now) {
                frames.extend(self.settle(key, entry, now));
            }
        }
        // Forget typists at rest whose last frame is older than the interval.
        entries.retain(|_, entry| {
            entry.typing || entry.shown || entry.last_shown.is_some_and(|at| now - at < self.coalesce)
        });
        frames
    }

    /// Whether the subscribers were told of the entry within the coalescing interval.
    fn within_interval(&self, entry: &Entry, now: Timestamp) -> bool {
        entry.last_shown.is_some_and(|at| now - at < self.coalesce)
    }

    /// The frame that tells the subscribers the entry's state, unless they
    /// know it, or were told something within the coalescing interval (then
    /// the sweep tells them when it ends).
    fn settle(&self, key: &TypingKey, entry: &mut Entry, now: Timestamp) -> Option<Typing> {
        if entry.typing == entry.shown {
            return None;
        }
        if self.within_interval(entry, now) {
            self.coalesced.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return None;
        }
        entry.shown = entry.typing;
        entry.last_shown = Some(now);
        Some(key.frame(if entry.typing { TypingState::Started } else { TypingState::Stopped }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Duration;

    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn key(agent: &str) -> TypingKey {
        TypingKey {
            talk_id: TalkId(uuid::Uuid::from_u128(1)),
            parent_id: None,
            agent_id: AgentId::parse(agent).unwrap(),
        }
    }

    fn states(frames: &[Typing]) -> Vec<TypingState> {
        frames.iter().map(|f| f.state).collect()
    }

    #[test]
    fn a_start_shows_once_and_renewals_only_renew() {
        let (typists, clock) = (Typists::new(&SignalOptions::default()), ManualClock::default());
        assert_eq!(typists.set(key("a"), true, clock.now()).map(|f| f.state), Some(TypingState::Started));
        for _ in 0..5 {
            clock.advance(Duration::seconds(5));
            assert_eq!(typists.set(key("a"), true, clock.now()), None);
            assert!(typists.sweep(clock.now()).is_empty());
        }
    }

    #[test]
    fn typing_expires_six_seconds_after_the_last_renewal() {
        let (typists, clock) = (Typists::new(&SignalOptions::default()), ManualClock::default());
        typists.set(key("a"), true, clock.now());
        clock.advance(Duration::milliseconds(5_900));
        assert!(typists.sweep(clock.now()).is_empty());
        clock.advance(Duration::milliseconds(200));
        assert_eq!(states(&typists.sweep(clock.now())), [TypingState::Stopped]);
        assert!(typists.sweep(clock.now()).is_empty());
    }

    #[test]
    fn changes_within_a_second_are_coalesced_to_the_last_state() {
        let (typists, clock) = (Typists::new(&SignalOptions::default()), ManualClock::default());
        assert!(typists.set(key("a"), true, clock.now()).is_some());
        clock.advance(Duration::milliseconds(100));
        assert_eq!(typists.set(key("a"), false, clock.now()), None);
        clock.advance(Duration::milliseconds(100));
        assert_eq!(typists.set(key("a"), true, clock.now()), None);
        clock.advance(Duration::milliseconds(100));
        assert_eq!(typists.set(key("a"), false, clock.now()), None);
        assert!(typists.sweep(clock.now()).is_empty(), "held back within the second");
        clock.advance(Duration::milliseconds(800));
        assert_eq!(states(&typists.sweep(clock.now())), [TypingState::Stopped]);
        assert_eq!(typists.coalesced(), 2, "the two stops held back; the start between changed nothing shown");
    }

    #[test]
    fn a_held_back_change_is_counted_once() {
        let (typists, clock) = (Typists::new(&SignalOptions::default()), ManualClock::default());
        assert!(typists.set(key("a"), true, clock.now()).is_some());
        clock.advance(Duration::milliseconds(100));
        assert_eq!(typists.set(key("a"), false, clock.now()), None);
        for _ in 0..5 {
            clock.advance(Duration::milliseconds(100));
            assert!(typists.sweep(clock.now()).is_empty(), "held back within the second");
        }
        assert_eq!(typists.coalesced(), 1, "one change was held back");
    }

    #[test]
    fn an_end_stops_only_the_typists_it_names() {
        let (typists, clock) = (Typists::new(&SignalOptions::default()), ManualClock::default());
        typists.set(key("a"), true, clock.now());
        typists.set(key("b"), true, clock.now());
        clock.advance(Duration::seconds(2));
        let sent =
            TypingEnd::Sent { talk_id: TalkId(uuid::Uuid::from_u128(1)), parent_id: None, agent_id: key("a").agent_id };
        let frames = typists.end(&sent, clock.now());
        assert_eq!((frames.len(), frames[0].agent_id.as_str(), frames[0].state), (1, "a", TypingState::Stopped));
        let frames = typists.end(&TypingEnd::Closed { talk_id: TalkId(uuid::Uuid::from_u128(1)) }, clock.now());
        assert_eq!((frames.len(), frames[0].agent_id.as_str()), (1, "b"));
    }
}
