//! Presence: `GET /v1.0/agents/{agent_id}/presence` and
//! `GET /v1.0/talks/{id}/presence`. (Live presence is the WebSocket's
//! `presence_subscribe`.)

use axum::Json;
use axum::extract::State;

use crate::auth::Caller;
use crate::dto::{ErrorBody, PresenceDto, PresenceList};
use crate::error::ApiError;
use crate::extract::{AgentPath, ApiQuery, IdPath, NoQuery, PageQuery, TalkPath};
use crate::state::AppState;

/// Whether an agent is online: for the caller itself and agents that share an active talk with it.
#[utoipa::path(
    get,
    path = "/v1.0/agents/{agent_id}/presence",
    tag = "presence",
    params(AgentPath),
    responses(
        (status = 200, description = "The agent's presence: `online` while it has a WebSocket open on any server node (a reconnect within 5 seconds is not an offline).", body = PresenceDto),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 404, description = "`not_found`: not the caller, and shares no active talk with it.", body = ErrorBody),
    )
)]
pub(crate) async fn agent_presence(
    State(state): State<AppState>,
    Caller(caller): Caller,
    IdPath(AgentPath { agent_id }): IdPath<AgentPath>,
    _: NoQuery,
) -> Result<Json<PresenceDto>, ApiError> {
    Ok(Json(PresenceDto::from(&state.hub.presence(&caller, &agent_id).await?)))
}

/// The presence of every active participant of a talk, in the order they joined.
#[utoipa::path(
    get,
    path = "/v1.0/talks/{id}/presence",
    tag = "presence",
    params(TalkPath, PageQuery),
    responses(
        (status = 200, description = "A page of presences, one per active participant, in join order.", body = PresenceList),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(crate) async fn talk_presence(
    State(state): State<AppState>,
    Caller(caller): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<PresenceList>, ApiError> {
    let page = state.hub.talk_presence(&caller, talk, &query.page()).await?;
    Ok(Json(PresenceList {
        result: page.items.iter().map(PresenceDto::from).collect(),
        next_page_token: page.next_page_token,
    }))
}
