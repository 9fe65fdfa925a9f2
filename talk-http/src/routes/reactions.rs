//! `/v1.0/messages/{id}/reactions`: react, unreact, list the reactors of an emoji.

use axum::Json;
use axum::extract::State;

use crate::auth::Caller;
use crate::dto::{AddReactionRequest, ErrorBody, MessageDto, ReactorDto, ReactorList};
use crate::error::ApiError;
use crate::extract::{ApiQuery, IdPath, JsonBody, MessagePath, NoQuery, PageQuery, ReactionPath};
use crate::state::AppState;

/// Adds the caller's reaction to a message.
#[utoipa::path(
    post,
    path = "/v1.0/messages/{id}/reactions",
    tag = "reactions",
    params(MessagePath),
    request_body = AddReactionRequest,
    responses(
        (status = 200, description = "The message with its reactions (adding a reaction twice is a repeat).", body = MessageDto),
        (status = 400, description = "`invalid_id`, `invalid_json`, `invalid_request`, `invalid_emoji`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`talk_closed`, `message_deleted`, `limit_exceeded`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    )
)]
pub(crate) async fn add_reaction(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(MessagePath { id: message }): IdPath<MessagePath>,
    JsonBody(body): JsonBody<AddReactionRequest>,
) -> Result<Json<MessageDto>, ApiError> {
    Ok(Json(MessageDto::from(&state.hub.add_reaction(&agent, message, &body.emoji).await?)))
}

/// Removes the caller's own reaction.
#[utoipa::path(
    delete,
    path = "/v1.0/messages/{id}/reactions/{emoji}",
    tag = "reactions",
    params(ReactionPath),
    responses(
        (status = 200, description = "The message with its reactions (removing a reaction that is not there is a repeat).", body = MessageDto),
        (status = 400, description = "`invalid_id`, `invalid_request`, `invalid_emoji`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`talk_closed`, `message_deleted`.", body = ErrorBody),
    )
)]
pub(crate) async fn remove_reaction(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(ReactionPath { id: message, emoji }): IdPath<ReactionPath>,
    _: NoQuery,
) -> Result<Json<MessageDto>, ApiError> {
    Ok(Json(MessageDto::from(&state.hub.remove_reaction(&agent, message, &emoji).await?)))
}

/// The agents that reacted to a message with one emoji, in the order they did.
#[utoipa::path(
    get,
    path = "/v1.0/messages/{id}/reactions/{emoji}",
    tag = "reactions",
    params(ReactionPath, PageQuery),
    responses(
        (status = 200, description = "A page of reactors, in the order they reacted (empty when none).", body = ReactorList),
        (status = 400, description = "`invalid_id`, `invalid_request`, `invalid_emoji`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(crate) async fn list_reactors(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(ReactionPath { id: message, emoji }): IdPath<ReactionPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ReactorList>, ApiError> {
    let page = state.hub.reactions(&agent, message, &emoji, &query.page()).await?;
    Ok(Json(ReactorList {
        result: page.items.iter().map(ReactorDto::from).collect(),
        next_page_token: page.next_page_token,
    }))
}
