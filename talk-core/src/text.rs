//! Words and folding: the one definition of how text is matched, shared by
//! message search and the public talk directory. Every store indexes the
//! words this module produces, so every store finds the same things.
//!
//! A word is a maximal run of Unicode letters and digits. Folding decomposes
//! (NFKD), drops combining marks and lowercases, so `Café`, `CAFE` and
//! `café` are one word: `cafe`.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use std::ops::Range;

/// `text` folded: NFKD, combining marks dropped, lowercased. Characters that
/// are not part of words are kept, so phrase positions survive folding.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    fold_unicode(text)
}

/// [`fold`] character by character, for any text. On ASCII text it answers
/// what the shortcuts of this module answer: no ASCII character decomposes
/// or is a combining mark, each lowercases to its ASCII lowercase, and the
/// ASCII letters and digits are the only alphanumeric ASCII characters.
fn fold_unicode(text: &str) -> String {
    text.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// The words of ASCII text, not yet lowercased.
fn ascii_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty())
}

/// The folded words of `text`, in order, repeats included.
pub fn words(text: &str) -> Vec<String> {
    if text.is_ascii() {
        return ascii_words(text).map(str::to_ascii_lowercase).collect();
    }
    let folded = fold_unicode(text);
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// The folded words of `text` joined by single spaces: what a store indexes
/// for a message body or a talk name.
pub fn index_text(text: &str) -> String {
    if !text.is_ascii() {
        return words(text).join(" ");
    }
    let mut joined = String::with_capacity(text.len());
    for word in ascii_words(text) {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(word);
    }
    joined.make_ascii_lowercase();
    joined
}

/// A word of a text, folded, with where it lies in the original text: what
/// a highlight marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordSpan {
    /// The folded word, as [`words`] answers it.
    pub folded: String,
    /// Its byte range in the original text.
    pub span: Range<usize>,
    /// For each character of `folded`, the end (in bytes, in the original
    /// text) of the original character it came from.
    ends: Vec<usize>,
}

impl WordSpan {
    /// The byte range in the original text of the first `chars` characters
    /// of the folded word (the whole word when `chars` covers it). A folded
    /// character that came from one original character with others (a
    /// ligature) takes that whole original character.
    pub fn prefix_span(&self, chars: usize) -> Range<usize> {
        let end = match chars.checked_sub(1).and_then(|last| self.ends.get(last)) {
            Some(&end) => end,
            None if chars == 0 => self.span.start,
            None => self.span.end,
        };
        self.span.start..end
    }
}

/// The words of `text` with their place in it: the same folded words as
/// [`words`], in order. Folding one character at a time gives what folding
/// the whole text gives (NFKD only reorders combining marks, which folding
/// drops), so each folded character is traced to the original one.
pub fn word_spans(text: &str) -> Vec<WordSpan> {
    let mut spans = Vec::new();
    let mut current: Option<WordSpan> = None;
    for (start, c) in text.char_indices() {
        let end = start + c.len_utf8();
        let mut folds_to_nothing = true;
        for folded in c.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase) {
            folds_to_nothing = false;
            if folded.is_alphanumeric() {
                let word = current.get_or_insert_with(|| WordSpan {
                    folded: String::new(),
                    span: start..end,
                    ends: Vec::new(),
                });
                word.folded.push(folded);
                word.span.end = end;
                word.ends.push(end);
            } else if let Some(word) = current.take() {
                spans.push(word);
            }
        }
        // A combining mark after a letter belongs with it.
        if folds_to_nothing && let Some(word) = current.as_mut() {
            word.span.end = end;
            if let Some(last) = word.ends.last_mut() {
                *last = end;
            }
        }
    }
    spans.extend(current);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        assert_eq!(words("Deploy v2.0, now!"), ["deploy", "v2", "0", "now"]);
        assert_eq!(words("  --  "), Vec::<String>::new());
        assert_eq!(words("日本語 テキスト"), ["日本語", "テキスト"]);
    }

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(words("Café CAFÉ cafe"), ["cafe", "cafe", "cafe"]);
        assert_eq!(words("Ångström naïve"), ["angstrom", "naive"]);
        // Compatibility forms decompose: the ligature and the full-width letters.
        assert_eq!(words("ﬁle ＡＢＣ"), ["file", "abc"]);
    }

    #[test]
    fn ascii_text_folds_as_any_text() {
        let every_ascii: String = (0u8..=127).map(char::from).collect();
        let texts = [every_ascii.as_str(), "Hello,   World!", "  Deploy v2.0 -- NOW_ok\t42x ", "", "!!"];
        for text in texts {
            let folded = fold_unicode(text);
            let general: Vec<String> =
                folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect();
            assert_eq!(fold(text), folded, "{text:?}");
            assert_eq!(words(text), general, "{text:?}");
            assert_eq!(index_text(text), general.join(" "), "{text:?}");
        }
        for c in (0u8..=127).map(char::from) {
            assert_eq!(c.is_alphanumeric(), c.is_ascii_alphanumeric(), "{c:?}");
        }
    }

    #[test]
    fn index_text_joins_with_single_spaces() {
        assert_eq!(index_text("Hello,   World!"), "hello world");
    }

    #[test]
    fn word_spans_are_the_words_traced_to_the_original_text() {
        for text in
            ["Deploy v2.0, now!", "Café CAFÉ cafe", "ﬁle ＡＢＣ", "½ x²", "日本語 テキスト", "Ångström naïve", "", "!!"]
        {
            let spans = word_spans(text);
            let folded: Vec<String> = spans.iter().map(|w| w.folded.clone()).collect();
            assert_eq!(folded, words(text), "{text:?}");
            for w in &spans {
                assert!(text.get(w.span.clone()).is_some(), "{text:?}: {w:?}");
            }
        }
        let spans = word_spans("un Café noir");
        assert_eq!(&"un Café noir"[spans[1].span.clone()], "Café");
        assert_eq!(&"un Café noir"[spans[1].prefix_span(3)], "Caf");
        assert_eq!(&"un Café noir"[spans[1].prefix_span(4)], "Café");
        // A ligature folds to two characters: a prefix of one takes it whole.
        let spans = word_spans("ﬁle");
        assert_eq!(spans[0].folded, "file");
        assert_eq!(&"ﬁle"[spans[0].prefix_span(1)], "ﬁ");
        // A decomposed accent stays with its letter.
        let decomposed = "cafe\u{301} noir";
        assert_eq!(&decomposed[word_spans(decomposed)[0].span.clone()], "cafe\u{301}");
    }
}
