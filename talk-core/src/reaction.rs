//! Reactions: canonical emoji from every spelling, and reaction records.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::Error;
use crate::id::{AgentId, MessageId, truncate_for_message};

/// An emoji in its one canonical form: the fully qualified Unicode sequence.
/// Every spelling of one emoji (`"👍"`, `"thumbsup"`, `":+1:"`, `"THUMBSUP"`)
/// parses to the same value; `❤` and `❤️` are one emoji; skin tones are
/// different emoji. The canonical forms are the `emojis` crate's own
/// strings, so an `Emoji` is a shared `&'static str`: free to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Emoji(&'static str);

impl Emoji {
    /// Longest input looked up, in bytes; longer input is refused at once.
    const MAX_INPUT: usize = 64;

    /// Parses a Unicode emoji or a GitHub shortcode (with or without colons,
    /// any case).
    ///
    /// # Errors
    /// [`Error::InvalidEmoji`] for anything else.
    pub fn parse(input: &str) -> Result<Self, Error> {
        Self::lookup(input).map(|emoji| Self(emoji.as_str())).ok_or_else(|| {
            Error::InvalidEmoji(format!("{} is not an emoji or a known shortcode", truncate_for_message(input)))
        })
    }

    fn lookup(input: &str) -> Option<&'static emojis::Emoji> {
        if input.is_empty() || input.len() > Self::MAX_INPUT {
            return None;
        }
        if let Some(emoji) = emojis::get(input) {
            return Some(emoji);
        }
        let shortcode = input.strip_prefix(':').and_then(|s| s.strip_suffix(':')).unwrap_or(input);
        emojis::get_by_shortcode(&shortcode.to_ascii_lowercase())
    }

    /// The emoji as a string.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Emoji {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Emoji {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One agent's reaction with one emoji to one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The message.
    pub message_id: MessageId,
    /// The emoji.
    pub emoji: Emoji,
    /// The agent.
    pub agent_id: AgentId,
    /// The `seq` of its `reaction_added` event: reactors are listed by it.
    pub seq: u64,
    /// When it was added.
    pub tm_create: Timestamp,
}

/// The payload of `reaction_added` and `reaction_removed` events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionChange {
    /// The message.
    pub message_id: MessageId,
    /// The emoji.
    pub emoji: Emoji,
    /// The agent that reacted or took its reaction back.
    pub agent_id: AgentId,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(s: &str) -> &'static str {
        Emoji::parse(s).map(|e| e.0).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_spelling_of_thumbs_up_is_one_emoji() {
        let thumbs = canonical("👍");
        for spelling in ["thumbsup", ":thumbsup:", "+1", ":+1:", "THUMBSUP", ":ThumbsUp:"] {
            assert_eq!(canonical(spelling), thumbs, "{spelling}");
        }
    }

    #[test]
    fn unqualified_heart_is_the_fully_qualified_heart() {
        assert_eq!(canonical("\u{2764}"), "\u{2764}\u{fe0f}");
        assert_eq!(canonical("\u{2764}\u{fe0f}"), "\u{2764}\u{fe0f}");
        assert_eq!(canonical("heart"), "\u{2764}\u{fe0f}");
    }

    #[test]
    fn skin_tones_are_different_emoji() {
        let plain = canonical("👍");
        let toned = canonical("👍🏽");
        assert_ne!(plain, toned);
        assert_eq!(toned, "👍🏽");
    }

    #[test]
    fn text_and_unknown_shortcodes_are_invalid_emoji() {
        for bad in ["", "notanemoji", "hello", ":nope:", "👍👍", &"👍".repeat(100), " 👍", "\u{0}"] {
            assert!(matches!(Emoji::parse(bad), Err(Error::InvalidEmoji(_))), "{bad:?}");
        }
    }
}
