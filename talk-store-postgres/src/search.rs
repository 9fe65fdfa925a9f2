//! Search: a message's words as a `tsvector` literal, a query's terms as a
//! `tsquery` literal. Both are written out by the store from talk-core's
//! folded words, so PostgreSQL neither splits nor folds text.

use std::collections::BTreeMap;

use talk_core::store::SearchTerm;

/// The longest lexeme PostgreSQL takes, in bytes (below its 2 KiB limit).
const LEXEME_MAX_BYTES: usize = 2046;
/// The greatest position a `tsvector` keeps (later ones would be clamped).
const POSITION_MAX: usize = 16_383;

/// A lexeme quoted for a `tsvector` or `tsquery` literal.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"))
}

/// `word` cut to the longest lexeme PostgreSQL takes, on a character
/// boundary. No query word is that long (a query is at most a few hundred
/// characters), so a cut word still matches every prefix it matched.
fn lexeme(word: &str) -> &str {
    if word.len() <= LEXEME_MAX_BYTES {
        return word;
    }
    let mut end = LEXEME_MAX_BYTES;
    while !word.is_char_boundary(end) {
        end -= 1;
    }
    &word[..end]
}

/// The `tsvector` literal of a text: each word of
/// `talk_core::text::index_text` with its positions (1-based). `None` for a
/// text without words (no index entry).
pub(crate) fn tsvector(text: &str) -> Option<String> {
    let indexed = talk_core::text::index_text(text);
    let mut positions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, word) in indexed.split(' ').filter(|w| !w.is_empty()).enumerate() {
        positions.entry(lexeme(word)).or_default().push((k + 1).min(POSITION_MAX));
    }
    if positions.is_empty() {
        return None;
    }
    let entries: Vec<String> = positions
        .into_iter()
        .map(|(word, mut at)| {
            at.dedup();
            let at: Vec<String> = at.iter().map(ToString::to_string).collect();
            format!("{}:{}", quoted(word), at.join(","))
        })
        .collect();
    Some(entries.join(" "))
}

/// The `tsquery` literal of a search's terms: `'word':*` for a prefix,
/// `'a' <-> 'b'` for a phrase, all joined with `&`. `None` for no term.
pub(crate) fn tsquery(terms: &[SearchTerm]) -> Option<String> {
    let parts: Vec<String> = terms
        .iter()
        .map(|term| match term {
            SearchTerm::Prefix(word) => format!("{}:*", quoted(lexeme(word))),
            SearchTerm::Phrase(words) => {
                let words: Vec<String> = words.iter().map(|w| quoted(lexeme(w))).collect();
                format!("({})", words.join(" <-> "))
            }
        })
        .collect();
    let usable = !parts.is_empty() && terms.iter().all(|term| term.words().iter().all(|w| !w.is_empty()));
    usable.then(|| parts.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_becomes_its_folded_words_with_positions() {
        assert_eq!(tsvector("Café, café au lait!").as_deref(), Some("'au':3 'cafe':1,2 'lait':4"));
        assert_eq!(tsvector("!!"), None);
        let long = "é".repeat(3000);
        let vector = tsvector(&long).unwrap_or_default();
        assert!(vector.len() <= LEXEME_MAX_BYTES + 4, "{}", vector.len());
    }

    #[test]
    fn terms_become_prefixes_and_phrases() {
        let terms = talk_core::store::SearchQuery::terms_of(r#"Deploy "rolled back""#);
        assert_eq!(tsquery(&terms).as_deref(), Some("'deploy':* & ('rolled' <-> 'back')"));
        assert_eq!(tsquery(&[]), None);
    }
}
