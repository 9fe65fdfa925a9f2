//! Syntax (step 4 of the API's "which check answers first"): every check
//! of a command's input that needs no stored state but the kind of its talk
//! or the medias of the message it edits. Pure functions that answer
//! `invalid_request` naming the field; the Hub calls them before it reads,
//! the rules where the check needs what was read.

use crate::error::Error;
use crate::id::AgentId;
use crate::limits::Limits;
use crate::message::Media;
use crate::message::NewMessage;
use crate::search::{SearchQuery, SearchRequest};
use crate::talk::TalkKind;
use crate::talk::{NewTalk, TalkChanges};

/// The validated shape of a `create_talk` request.
pub(crate) struct TalkPlan {
    pub(crate) kind: TalkKind,
    pub(crate) name: String,
    pub(crate) detail: String,
    /// The creator first, then each listed agent once, in request order.
    pub(crate) members: Vec<AgentId>,
}

/// A `create_talk` request: its name and detail, and its members merged.
pub(crate) fn new_talk(creator: &AgentId, input: NewTalk, limits: &Limits) -> Result<TalkPlan, Error> {
    let name = match (input.name, input.kind) {
        (None, TalkKind::Group) => return Err(Error::invalid_request("name is required for a group talk")),
        (None, TalkKind::Public) => return Err(Error::invalid_request("name is required for a public talk")),
        (name, _) => name.unwrap_or_default(),
    };
    talk_name(input.kind, &name, limits)?;
    let detail = input.detail.unwrap_or_default();
    text_field("detail", &detail, 0, limits.talk_detail_max)?;
    let mut members = vec![creator.clone()];
    for agent in input.participant_ids {
        if !members.contains(&agent) {
            members.push(agent);
        }
    }
    if input.kind == TalkKind::Direct && members.len() != 2 {
        return Err(Error::invalid_request("participant_ids of a direct talk must name exactly one other agent"));
    }
    Ok(TalkPlan { kind: input.kind, name, detail, members })
}

/// A talk's name: 1 to the limit characters for a group or public talk, up
/// to the limit for a direct one.
pub(crate) fn talk_name(kind: TalkKind, name: &str, limits: &Limits) -> Result<(), Error> {
    let min = usize::from(kind != TalkKind::Direct);
    text_field("name", name, min, limits.talk_name_max)
}

/// A new name for a talk of `kind`, whose length [`talk_changes`] checked:
/// a group or public talk's name is not empty.
pub(crate) fn new_name_present(kind: TalkKind, name: Option<&str>, limits: &Limits) -> Result<(), Error> {
    match name {
        Some("") if kind != TalkKind::Direct => talk_name(kind, "", limits),
        _ => Ok(()),
    }
}

/// An `update_talk` request, before the talk is read (its kind decides
/// whether an empty name is allowed: see [`talk_name`]).
pub(crate) fn talk_changes(input: &TalkChanges, limits: &Limits) -> Result<(), Error> {
    if input.name.is_none() && input.detail.is_none() {
        return Err(Error::invalid_request("name or detail is required"));
    }
    if let Some(name) = &input.name {
        text_field("name", name, 0, limits.talk_name_max)?;
    }
    if let Some(detail) = &input.detail {
        text_field("detail", detail, 0, limits.talk_detail_max)?;
    }
    Ok(())
}

/// A `send_message` request.
pub(crate) fn new_message(input: &NewMessage, limits: &Limits) -> Result<(), Error> {
    message_text(&input.text, limits)?;
    medias(&input.medias, limits)?;
    mentions(&input.mentions, limits)?;
    content_present(&input.text, &input.medias)
}

/// The mentions of a message: at most the limit, once duplicates are merged.
pub(crate) fn mentions(mentions: &[AgentId], limits: &Limits) -> Result<(), Error> {
    let distinct = crate::message::merge_mentions(mentions).len();
    if distinct > limits.mentions_per_message_max {
        return Err(Error::invalid_request(format!(
            "mentions must name at most {} agents",
            limits.mentions_per_message_max
        )));
    }
    Ok(())
}

/// The text of a message.
pub(crate) fn message_text(text: &str, limits: &Limits) -> Result<(), Error> {
    text_field("text", text, 0, limits.message_text_max)
}

/// A message has text, or medias, or both.
pub(crate) fn content_present(text: &str, medias: &[Media]) -> Result<(), Error> {
    if text.is_empty() && medias.is_empty() {
        return Err(Error::invalid_request("text must not be empty when there are no medias"));
    }
    Ok(())
}

/// The `q` of the public talk directory: 1 to the limit characters, no
/// refused control characters. Answers its folded words (see
/// [`text::words`](crate::text::words)), each once, in order: a `q` of no
/// words (only punctuation, say) keeps every public talk.
pub(crate) fn directory_query(q: &str, limits: &Limits) -> Result<Vec<String>, Error> {
    text_field("q", q, 1, limits.query_max)?;
    let mut words: Vec<String> = Vec::new();
    for word in crate::text::words(q) {
        if !words.contains(&word) {
            words.push(word);
        }
    }
    Ok(words)
}

/// The size of a page of any list: `1..=page_size_max`, the default when
/// not given.
pub(crate) fn page_size(size: Option<u32>, limits: &Limits) -> Result<u32, Error> {
    let size = size.unwrap_or(limits.page_size_default);
    if size == 0 || size > limits.page_size_max {
        return Err(Error::invalid_request(format!("page_size must be between 1 and {}", limits.page_size_max)));
    }
    Ok(size)
}

/// A search request: `q` of 1 to the limit characters with at least one
/// word; answers what the store searches for.
pub(crate) fn search(request: &SearchRequest, limits: &Limits) -> Result<SearchQuery, Error> {
    text_field("q", &request.q, 1, limits.search_query_max)?;
    let terms = SearchQuery::terms_of(&request.q);
    if terms.is_empty() {
        return Err(Error::invalid_request("q must hold at least one word (letters or digits)"));
    }
    Ok(SearchQuery { terms, filters: request.filters.clone() })
}

/// Counts characters (Unicode scalar values).
fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Whether `c` is a control character other than newline, carriage return and tab.
fn is_refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// Checks a text field: `min..=max` characters, no refused control characters.
fn text_field(field: &str, value: &str, min: usize, max: usize) -> Result<(), Error> {
    let count = chars(value);
    if count < min || count > max {
        return Err(Error::invalid_request(if min == 0 {
            format!("{field} must be at most {max} characters")
        } else {
            format!("{field} must be {min} to {max} characters")
        }));
    }
    if value.chars().any(is_refused_control) {
        return Err(Error::invalid_request(format!("{field} must not contain control characters")));
    }
    Ok(())
}

/// A message's medias.
fn medias(medias: &[Media], limits: &Limits) -> Result<(), Error> {
    if medias.len() > limits.medias_per_message_max {
        return Err(Error::invalid_request(format!(
            "medias must hold at most {} entries",
            limits.medias_per_message_max
        )));
    }
    for (i, media) in medias.iter().enumerate() {
        media_entry(i, media, limits)?;
    }
    Ok(())
}

fn media_entry(i: usize, media: &Media, limits: &Limits) -> Result<(), Error> {
    if !is_http_url(&media.url) || chars(&media.url) > limits.media_url_max {
        return Err(Error::invalid_request(format!(
            "medias[{i}].url must be an absolute http or https URL of at most {} characters",
            limits.media_url_max
        )));
    }
    text_field(&format!("medias[{i}].name"), &media.name, 1, limits.media_name_max)?;
    if media.name.contains(['/', '\\']) {
        return Err(Error::invalid_request(format!("medias[{i}].name must not contain / or \\")));
    }
    if !is_mime_type(&media.media_type) || chars(&media.media_type) > limits.media_type_max {
        return Err(Error::invalid_request(format!("medias[{i}].type must be a MIME type, type/subtype")));
    }
    Ok(())
}

/// An absolute `http` or `https` URL with a host, and no whitespace or
/// control characters anywhere.
fn is_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else { return false };
    let scheme_ok = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = host
        .strip_prefix('[')
        .map_or_else(|| host.split(':').next().unwrap_or(""), |v6| v6.split(']').next().unwrap_or(""));
    scheme_ok
        && !host.is_empty()
        && url.chars().all(|c| c.is_ascii_graphic() || (!c.is_ascii() && !c.is_control() && !c.is_whitespace()))
}

/// `type/subtype`, both RFC 9110 tokens, optional parameters after `;`.
fn is_mime_type(value: &str) -> bool {
    fn token(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    }
    let essence = value.split(';').next().unwrap_or("");
    let params_ok = value.split(';').skip(1).all(|p| {
        let p = p.trim();
        p.split_once('=').is_some_and(|(k, v)| token(k) && !v.is_empty() && !v.chars().any(|c| c.is_control()))
    });
    matches!(essence.split_once('/'), Some((t, s)) if token(t) && token(s)) && params_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(media_type: &str, url: &str, name: &str) -> Media {
        Media { media_type: media_type.into(), url: url.into(), name: name.into() }
    }

    #[test]
    fn text_counts_unicode_scalar_values_not_bytes() {
        assert!(text_field("name", &"é".repeat(200), 1, 200).is_ok());
        assert!(text_field("name", &"é".repeat(201), 1, 200).is_err());
    }

    #[test]
    fn control_characters_are_refused_except_newline_return_and_tab() {
        assert!(text_field("text", "a\nb\r\tc", 0, 10).is_ok());
        assert!(text_field("text", "a\u{0}b", 0, 10).is_err());
        assert!(text_field("text", "a\u{1b}b", 0, 10).is_err());
        assert!(text_field("text", "a\u{7f}b", 0, 10).is_err());
    }

    fn message_content(text: &str, medias: &[Media], limits: &Limits) -> Result<(), Error> {
        new_message(&NewMessage { text: text.into(), medias: medias.to_vec(), ..NewMessage::default() }, limits)
    }

    #[test]
    fn message_needs_text_or_medias() {
        let limits = Limits::default();
        assert!(message_content("", &[], &limits).is_err());
        assert!(message_content("", &[media("image/png", "https://x.test/a.png", "a.png")], &limits).is_ok());
        assert!(message_content(&"x".repeat(4000), &[], &limits).is_ok());
        assert!(message_content(&"x".repeat(4001), &[], &limits).is_err());
    }

    #[test]
    fn a_group_name_takes_the_limit_in_force() {
        let limits = Limits { talk_name_max: 5, ..Limits::default() };
        assert!(talk_name(TalkKind::Group, "abcde", &limits).is_ok());
        let long = talk_name(TalkKind::Group, "abcdef", &limits).expect_err("over the limit");
        assert!(long.to_string().contains("1 to 5"), "{long}");
        assert!(talk_name(TalkKind::Group, "", &limits).is_err());
        assert!(talk_name(TalkKind::Direct, "", &limits).is_ok());
        assert!(talk_name(TalkKind::Public, "", &limits).is_err());
    }

    #[test]
    fn directory_query_is_one_to_the_limit_characters_and_folds_its_words_once() {
        let limits = Limits::default();
        assert!(directory_query("", &limits).is_err());
        assert!(directory_query(&"é".repeat(201), &limits).is_err());
        assert_eq!(directory_query(&"é".repeat(200), &limits).ok(), Some(vec!["e".repeat(200)]));
        assert_eq!(directory_query("Café cafe GÉNÉRAL", &limits).ok(), Some(vec!["cafe".into(), "general".into()]));
        assert_eq!(directory_query("--", &limits).ok(), Some(vec![]));
        assert!(directory_query("a\u{0}", &limits).is_err());
    }

    #[test]
    fn media_fields_are_checked() {
        let limits = Limits::default();
        let ok = |m: Media| message_content("t", &[m], &limits).is_ok();
        assert!(ok(media("application/pdf", "https://example.com/doc.pdf", "doc.pdf")));
        assert!(ok(media("text/plain; charset=utf-8", "HTTP://[::1]:8080/x", "x")));
        assert!(!ok(media("pdf", "https://example.com/doc.pdf", "doc.pdf")));
        assert!(!ok(media("application/pdf", "ftp://example.com/doc.pdf", "doc.pdf")));
        assert!(!ok(media("application/pdf", "https:///doc.pdf", "doc.pdf")));
        assert!(!ok(media("application/pdf", "https://exa mple.com/", "doc.pdf")));
        assert!(!ok(media("application/pdf", "/relative/doc.pdf", "doc.pdf")));
        assert!(!ok(media("application/pdf", &format!("https://e.com/{}", "a".repeat(2048)), "d")));
        assert!(!ok(media("application/pdf", "https://example.com/doc.pdf", "")));
        assert!(!ok(media("application/pdf", "https://example.com/doc.pdf", "a/b.pdf")));
        assert!(!ok(media("application/pdf", "https://example.com/doc.pdf", "a\\b.pdf")));
        let eleven = vec![media("image/png", "https://x.test/a.png", "a.png"); 11];
        assert!(message_content("t", &eleven, &limits).is_err());
    }
}
