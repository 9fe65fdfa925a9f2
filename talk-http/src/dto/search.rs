//! Search: one hit (the message and a highlight of its text) and their list.

use serde::Serialize;
use talk_core::{Highlight, SearchHit};
use utoipa::ToSchema;

use super::messages::MessageDto;

/// A message a search found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SearchHitDto {
    /// The message, as `GET /v1.0/messages/{id}` answers it.
    pub message: MessageDto,
    /// At most about 200 characters of its text around the first hit, as
    /// HTML: the text is escaped (`&`, `<`, `>`, `"`, `'`) and every hit is
    /// wrapped in `<mark>…</mark>`, the only tags it holds; `…` marks where
    /// the text was cut.
    pub highlight: String,
}

impl From<&SearchHit> for SearchHitDto {
    fn from(hit: &SearchHit) -> Self {
        Self { message: MessageDto::from(&hit.message), highlight: highlight_html(&hit.highlight) }
    }
}

list!(
    /// A page of search hits, newest first.
    SearchHitList, SearchHitDto
);

/// A highlight as HTML: the text escaped, the hits in `<mark>`.
pub(crate) fn highlight_html(highlight: &Highlight) -> String {
    let mut html = String::with_capacity(highlight.text.len() + 16);
    for (part, hit) in highlight.parts() {
        if hit {
            html.push_str("<mark>");
        }
        escape_into(&mut html, part);
        if hit {
            html.push_str("</mark>");
        }
    }
    html
}

fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            other => html.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_only_hits_are_marked() {
        let text = "<b>\"deploy\" & 'go'</b>";
        let highlight = Highlight::of(text, &talk_core::store::SearchQuery::terms_of("deploy"), 200);
        assert_eq!(highlight_html(&highlight), "&lt;b&gt;&quot;<mark>deploy</mark>&quot; &amp; &#39;go&#39;&lt;/b&gt;");
    }
}
