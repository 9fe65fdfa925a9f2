//! Search: `GET /v1.0/search/messages`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use talk_core::{AgentId, MessageId, SearchFilters, SearchRequest, TalkId, Timestamp};

use crate::auth::Caller;
use crate::dto::{ErrorBody, SearchHitDto, SearchHitList};
use crate::error::ApiError;
use crate::extract::{ApiQuery, list_query};
use crate::state::AppState;

/// What a message must have (`has=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Has {
    /// At least one media.
    Media,
}

list_query!(
    /// `GET /v1.0/search/messages`.
    SearchMessagesQuery {
        /// The words to find, 1–200 characters with at least one word (a run
        /// of letters or digits): each word matches a whole word or a word's
        /// beginning (`deploy` finds "deployment"), a `"quoted phrase"`
        /// whole words in order; all must match. Case and accents are
        /// ignored.
        q: String,
        /// Only this talk (`404` if the caller was never in it, `403
        /// not_participant` if it left).
        #[param(value_type = Option<String>, format = Uuid)]
        talk_id: Option<TalkId>,
        /// Only messages by this agent.
        #[param(value_type = Option<String>)]
        agent_id: Option<AgentId>,
        /// Only replies to this message (one thread).
        #[param(value_type = Option<String>, format = Uuid)]
        parent_id: Option<MessageId>,
        /// `media`: only messages with medias.
        #[param(value_type = Option<String>, pattern = "^media$")]
        has: Option<Has>,
        /// Only messages sent before this time (RFC 3339, exclusive).
        #[param(value_type = Option<String>, format = DateTime)]
        before: Option<Timestamp>,
        /// Only messages sent after this time (RFC 3339, exclusive).
        #[param(value_type = Option<String>, format = DateTime)]
        after: Option<Timestamp>,
    }
);

/// Searches the normal, non-deleted messages of the talks where the caller
/// is an active participant, newest first.
#[utoipa::path(
    get,
    path = "/v1.0/search/messages",
    tag = "search",
    params(SearchMessagesQuery),
    responses(
        (status = 200, description = "A page of hits, newest first; a page token continues only the same query and filters.", body = SearchHitList),
        (status = 400, description = "`invalid_request` (`q` missing, empty, over 200 characters or without a word; an unknown parameter; a malformed id or timestamp; a page token of another query).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant` (`talk_id` of a talk the caller left).", body = ErrorBody),
        (status = 404, description = "`not_found` (`talk_id` of a talk the caller was never in).", body = ErrorBody),
    )
)]
pub(crate) async fn search_messages(
    State(state): State<AppState>,
    Caller(agent): Caller,
    ApiQuery(query): ApiQuery<SearchMessagesQuery>,
) -> Result<Json<SearchHitList>, ApiError> {
    let page = query.page();
    let filters = SearchFilters {
        talk_id: query.talk_id,
        agent_id: query.agent_id,
        parent_id: query.parent_id,
        has_media: query.has == Some(Has::Media),
        before: query.before,
        after: query.after,
    };
    let request = SearchRequest { q: query.q, filters };
    let hits = state.hub.search_messages(&agent, &request, &page).await?;
    Ok(Json(SearchHitList {
        result: hits.items.iter().map(SearchHitDto::from).collect(),
        next_page_token: hits.next_page_token,
    }))
}
