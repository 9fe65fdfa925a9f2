//! Words and folding: the one definition of how text is matched, shared by
//! message search and the public talk directory. Every store indexes the
//! words this module produces, so every store finds the same things.
//!
//! A word is a maximal run of Unicode letters and digits. Folding decomposes
//! (NFKD), drops combining marks and lowercases, so `Café`, `CAFE` and
//! `café` are one word: `cafe`.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `text` folded: NFKD, combining marks dropped, lowercased. Characters that
/// are not part of words are kept, so phrase positions survive folding.
pub fn fold(text: &str) -> String {
    text.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// The folded words of `text`, in order, repeats included.
pub fn words(text: &str) -> Vec<String> {
    let folded = fold(text);
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// The folded words of `text` joined by single spaces: what a store indexes
/// for a message body or a talk name.
pub fn index_text(text: &str) -> String {
    words(text).join(" ")
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
    fn index_text_joins_with_single_spaces() {
        assert_eq!(index_text("Hello,   World!"), "hello world");
    }
}
