//! Search: the messages a caller can see, found by their words.

use super::Hub;
use crate::error::Result;
use crate::id::AgentId;
use crate::page::{ListKey, Page, PageRequest};
use crate::search::{Highlight, SearchHit, SearchRequest};
use crate::syntax;

impl Hub {
    /// Searches the normal, non-deleted messages of the talks where `actor`
    /// is an active participant, newest first: every word of `q` matches a
    /// word of the text whole or as its prefix, every quoted phrase whole
    /// words in order (case and accents folded), and every filter holds.
    /// Each hit carries a [`Highlight`] of its text. A page token continues
    /// only the search of the same text and filters.
    ///
    /// # Errors
    /// `invalid_request` for a `q` empty, too long, with control characters
    /// or without a word, and for a page token of another list; with a
    /// `talk_id`, `not_found` for a talk the caller was never in and
    /// `not_participant` for one it left.
    pub async fn search_messages(
        &self,
        actor: &AgentId,
        request: &SearchRequest,
        page: &PageRequest,
    ) -> Result<Page<SearchHit>> {
        let limits = &self.inner.limits;
        let query = syntax::search(request, limits)?;
        let key = ListKey { kind: "s", scope: search_scope(request) };
        let keyset = key.keyset(page, limits)?;
        if let Some(talk_id) = request.filters.talk_id {
            let visible = self.visible(actor, talk_id).await?;
            visible.actor(actor).require_active()?;
        }
        let listed = limits.reactors_listed_per_emoji;
        let items = self.store().search_messages(actor, &query, keyset.cursor, keyset.size + 1, listed).await?;
        let page = key.page(items, &keyset, |m| m.seq);
        let items = page
            .items
            .into_iter()
            .map(|message| {
                let highlight = Highlight::of(&message.text, &query.terms, Highlight::MAX_CHARS);
                SearchHit { message, highlight }
            })
            .collect();
        Ok(Page { items, next_page_token: page.next_page_token })
    }
}

/// The scope of a search's page tokens: a digest of its text and filters,
/// so that a token stays short whatever the query.
fn search_scope(request: &SearchRequest) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(request.list_scope().as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}
