//! Message search: what a query means ([`SearchQuery`], [`SearchTerm`]),
//! the caller's request ([`SearchRequest`]) and what it finds ([`SearchHit`]
//! with its [`Highlight`]).
//!
//! Words and folding are those of [`text`](crate::text): every store indexes
//! [`text::index_text`](crate::text::index_text) of a message's text, and a
//! query is parsed into the same folded words, so every store finds the same
//! messages.

use std::ops::Range;

use crate::clock::Timestamp;
use crate::id::{AgentId, MessageId, TalkId};
use crate::message::{Message, MessageKind};
use crate::text::{self, WordSpan};

/// One condition on the words of a message; a query's terms must all hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SearchTerm {
    /// Some word of the message starts with this folded word (or is it):
    /// `deploy` finds "deployment".
    Prefix(String),
    /// These folded words follow one another in the message, each whole
    /// (a quoted phrase of the query; one word in quotes is a whole word).
    Phrase(Vec<String>),
}

impl SearchTerm {
    /// Whether the term holds for a message whose folded words (as
    /// [`text::words`] answers them) are `words`.
    pub fn holds_in<S: AsRef<str>>(&self, words: &[S]) -> bool {
        match self {
            Self::Prefix(prefix) => words.iter().any(|w| w.as_ref().starts_with(prefix.as_str())),
            Self::Phrase(phrase) => {
                !phrase.is_empty()
                    && words.windows(phrase.len()).any(|run| run.iter().zip(phrase).all(|(w, p)| w.as_ref() == p))
            }
        }
    }

    /// The folded words of the term.
    pub fn words(&self) -> &[String] {
        match self {
            Self::Prefix(word) => std::slice::from_ref(word),
            Self::Phrase(words) => words,
        }
    }
}

/// The filters of a search, all of which must hold: the same in the
/// caller's [`SearchRequest`] and in the store's [`SearchQuery`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilters {
    /// Only messages of this talk (the caller must be an active participant).
    pub talk_id: Option<TalkId>,
    /// Only messages by this author.
    pub agent_id: Option<AgentId>,
    /// Only replies to this message (one thread).
    pub parent_id: Option<MessageId>,
    /// Only messages with at least one media.
    pub has_media: bool,
    /// Only messages sent before this time (`tm_create < before`, exclusive).
    pub before: Option<Timestamp>,
    /// Only messages sent after this time (`tm_create > after`, exclusive).
    pub after: Option<Timestamp>,
}

impl SearchFilters {
    /// Whether every filter holds for `message`.
    pub fn hold_for(&self, message: &Message) -> bool {
        self.talk_id.is_none_or(|t| message.talk_id == t)
            && self.agent_id.as_ref().is_none_or(|a| message.agent_id.as_ref() == Some(a))
            && self.parent_id.is_none_or(|p| message.parent_id == Some(p))
            && (!self.has_media || !message.medias.is_empty())
            && self.before.is_none_or(|t| message.tm_create < t)
            && self.after.is_none_or(|t| message.tm_create > t)
    }
}

/// What a store searches for: the terms and the filters of a search, as the
/// Hub validated them. See [`Store::search_messages`](crate::Store::search_messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// The terms, all of which must hold; at least one.
    pub terms: Vec<SearchTerm>,
    /// The filters.
    pub filters: SearchFilters,
}

impl SearchQuery {
    /// The terms of a query text: words outside quotes are each a
    /// [`SearchTerm::Prefix`]; the words between a pair of `"` are one
    /// [`SearchTerm::Phrase`] (a quote left open runs to the end). Words
    /// and folding are those of [`text::words`]; a quoted part without
    /// words is no term. Answers no term for a text without words.
    pub fn terms_of(q: &str) -> Vec<SearchTerm> {
        let mut terms = Vec::new();
        for (k, part) in q.split('"').enumerate() {
            let words = text::words(part);
            if k % 2 == 0 {
                terms.extend(words.into_iter().map(SearchTerm::Prefix));
            } else if !words.is_empty() {
                terms.push(SearchTerm::Phrase(words));
            }
        }
        terms
    }

    /// A query of the terms of `q` without filters.
    pub fn text(q: &str) -> Self {
        Self { terms: Self::terms_of(q), ..Self::default() }
    }

    /// Whether every term holds for a message whose folded words are `words`.
    pub fn words_match<S: AsRef<str>>(&self, words: &[S]) -> bool {
        !self.terms.is_empty() && self.terms.iter().all(|term| term.holds_in(words))
    }

    /// Whether the filters hold for `message`, and it is a normal message
    /// that is not deleted: everything a store checks but the words and
    /// the caller's visibility.
    pub fn filters_match(&self, message: &Message) -> bool {
        message.kind == MessageKind::Normal && !message.is_deleted() && self.filters.hold_for(message)
    }
}

/// A search as the caller asks for it (`GET /v1.0/search/messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRequest {
    /// The query text: 1 to [`Limits::search_query_max`](crate::Limits)
    /// characters with at least one word; words match whole or as a prefix,
    /// `"quoted phrases"` match whole words in order.
    pub q: String,
    /// The filters.
    pub filters: SearchFilters,
}

impl SearchRequest {
    /// A request for `q` without filters.
    pub fn new(q: impl Into<String>) -> Self {
        Self { q: q.into(), ..Self::default() }
    }

    /// Everything that makes the list: a page token continues only the
    /// list of the same text and filters.
    pub(crate) fn list_scope(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let time = |t: Option<Timestamp>| opt(t.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()));
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.q,
            opt(self.filters.talk_id.map(|t| t.to_string())),
            opt(self.filters.agent_id.as_ref().map(ToString::to_string)),
            opt(self.filters.parent_id.map(|m| m.to_string())),
            self.filters.has_media,
            time(self.filters.before),
            time(self.filters.after),
        )
    }
}

/// One message a search found, with a highlight of where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// The message, as a read of it answers it.
    pub message: Message,
    /// Part of its text around the first hit, the hits marked.
    pub highlight: Highlight,
}

/// A piece of a message's text (at most about
/// [`Highlight::MAX_CHARS`] characters) around the first
/// hit of a search, with the hits inside it marked. Plain text: an adapter
/// escapes it for its format (the HTTP API: HTML-escaped, hits in `<mark>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Highlight {
    /// The piece of text; `…` where it was cut from a longer text.
    pub text: String,
    /// The hits: byte ranges of `text`, in order, not overlapping.
    pub marks: Vec<Range<usize>>,
}

impl Highlight {
    /// The most characters of the message a highlight shows.
    pub const MAX_CHARS: usize = 200;

    /// The text in parts, in order, each with whether it is a hit.
    pub fn parts(&self) -> Vec<(&str, bool)> {
        let mut parts = Vec::new();
        let mut at = 0;
        for mark in &self.marks {
            if mark.start > at {
                parts.push((&self.text[at..mark.start], false));
            }
            parts.push((&self.text[mark.clone()], true));
            at = mark.end;
        }
        if at < self.text.len() {
            parts.push((&self.text[at..], false));
        }
        parts
    }

    /// The highlight of `text` for `terms`: at most `max_chars` characters
    /// of it, starting a little before the first hit, with every hit inside
    /// marked (a prefix marks the part of the word it matched, a phrase its
    /// words and what lies between).
    pub fn of(text: &str, terms: &[SearchTerm], max_chars: usize) -> Self {
        let words = text::word_spans(text);
        let mut hits = hits(&words, terms);
        hits.sort_by_key(|hit| (hit.start, std::cmp::Reverse(hit.end)));
        let mut merged: Vec<Range<usize>> = Vec::new();
        for hit in hits {
            match merged.last_mut() {
                Some(last) if hit.start <= last.end => last.end = last.end.max(hit.end),
                _ => merged.push(hit),
            }
        }
        let (from, to) = window(text, merged.first().map_or(0, |hit| hit.start), max_chars);
        let lead = if from > 0 { "…" } else { "" };
        let tail = if to < text.len() { "…" } else { "" };
        let marks = merged
            .into_iter()
            .filter(|hit| hit.start < to && hit.end > from)
            .map(|hit| hit.start.max(from) - from + lead.len()..hit.end.min(to) - from + lead.len())
            .collect();
        Self { text: format!("{lead}{}{tail}", &text[from..to]), marks }
    }
}

/// The byte ranges of `text` that the terms match, as [`SearchTerm::holds_in`] matches them.
fn hits(words: &[WordSpan], terms: &[SearchTerm]) -> Vec<Range<usize>> {
    let mut hits = Vec::new();
    for term in terms {
        match term {
            SearchTerm::Prefix(prefix) => {
                let chars = prefix.chars().count();
                hits.extend(
                    words.iter().filter(|w| w.folded.starts_with(prefix.as_str())).map(|w| w.prefix_span(chars)),
                );
            }
            SearchTerm::Phrase(phrase) if !phrase.is_empty() => {
                for run in words.windows(phrase.len()) {
                    if run.iter().zip(phrase).all(|(w, p)| &w.folded == p) {
                        hits.push(run[0].span.start..run[run.len() - 1].span.end);
                    }
                }
            }
            SearchTerm::Phrase(_) => {}
        }
    }
    hits
}

/// The byte range of at most `max_chars` characters of `text` that shows
/// the byte `at`: from a third of the window before it, moved back so that
/// the window is full when the text is long enough.
fn window(text: &str, at: usize, max_chars: usize) -> (usize, usize) {
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if starts.len() <= max_chars {
        return (0, text.len());
    }
    let at_char = starts.partition_point(|&i| i < at);
    let first = at_char.saturating_sub(max_chars / 3).min(starts.len() - max_chars);
    let end = starts.get(first + max_chars).copied().unwrap_or(text.len());
    (starts[first], end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(h: &Highlight) -> String {
        h.parts().into_iter().map(|(s, hit)| if hit { format!("[{s}]") } else { s.to_owned() }).collect()
    }

    #[test]
    fn a_query_is_prefixes_and_quoted_phrases() {
        use SearchTerm::{Phrase, Prefix};
        assert_eq!(
            SearchQuery::terms_of(r#"Deploy "Rolled BACK" now"#),
            [Prefix("deploy".into()), Phrase(vec!["rolled".into(), "back".into()]), Prefix("now".into())]
        );
        assert_eq!(SearchQuery::terms_of(r#"open "quote runs on"#).len(), 2);
        assert_eq!(SearchQuery::terms_of(r#""" !! "...""#), []);
    }

    #[test]
    fn terms_match_prefixes_and_whole_word_runs() {
        let words = text::words("The deployment rolled back, then Café opened");
        let holds = |q: &str| SearchQuery::text(q).words_match(&words);
        assert!(holds("deploy"));
        assert!(holds("DEPLOYMENT cafe"));
        assert!(holds(r#""rolled back""#));
        assert!(!holds(r#""back rolled""#));
        assert!(!holds(r#""deploy""#), "a quoted word is whole");
        assert!(!holds("deploy missing"), "every term must hold");
        assert!(!holds("!!"), "no term finds nothing");
    }

    #[test]
    fn highlight_marks_the_hits_in_the_original_text() {
        let h = Highlight::of("The Déploiement failed; deploy again", &SearchQuery::terms_of("deploi"), 200);
        assert_eq!(marked(&h), "The [Déploi]ement failed; deploy again");
        let h = Highlight::of("we rolled it back, rolled back twice", &SearchQuery::terms_of(r#""rolled back""#), 200);
        assert_eq!(marked(&h), "we rolled it back, [rolled back] twice");
    }

    #[test]
    fn highlight_of_a_long_text_is_a_window_around_the_first_hit() {
        let text = format!("{} needle {}", "a ".repeat(300), "b ".repeat(300));
        let h = Highlight::of(&text, &SearchQuery::terms_of("needle"), 200);
        assert!(h.text.starts_with('…') && h.text.ends_with('…'), "{}", h.text);
        assert_eq!(h.text.chars().count(), 202);
        assert_eq!(h.parts().iter().filter(|(_, hit)| *hit).map(|(s, _)| *s).collect::<Vec<_>>(), ["needle"]);
        let end = format!("{} needle", "a ".repeat(300));
        let h = Highlight::of(&end, &SearchQuery::terms_of("needle"), 200);
        assert!(h.text.ends_with("[needle]".trim_matches(['[', ']'])) && !h.text.ends_with('…'));
        assert_eq!(h.text.chars().count(), 201);
    }
}
