//! Messages and threads: `/v1.0/talks/{id}/messages` and `/v1.0/messages/{id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use talk_core::MessageFilter;

use crate::auth::Caller;
use crate::dto::{EditMessageRequest, ErrorBody, MessageDto, MessageList, SendMessageRequest};
use crate::error::ApiError;
use crate::extract::{ApiQuery, IdPath, JsonBody, MessagePath, NoQuery, PageQuery, TalkPath, list_query};
use crate::state::AppState;

list_query!(
    /// `GET /v1.0/talks/{id}/messages`.
    ListMessagesQuery {
        /// `true` lists replies too (default `false`).
        include_replies: Option<bool>,
    }
);

fn list(page: talk_core::Page<talk_core::Message>) -> MessageList {
    MessageList { result: page.items.iter().map(MessageDto::from).collect(), next_page_token: page.next_page_token }
}

/// Sends a message (`201`), or answers the stored one for a retried client-chosen id (`200`).
#[utoipa::path(
    post,
    path = "/v1.0/talks/{id}/messages",
    tag = "messages",
    params(TalkPath),
    request_body = SendMessageRequest,
    responses(
        (status = 201, description = "The message was sent.", body = MessageDto),
        (status = 200, description = "A retry of a send with the same client-chosen `id` and the same request: the stored message; after that message was deleted, any request with its `id` from its sender in its talk: the tombstone.", body = MessageDto),
        (status = 400, description = "`invalid_id`, `invalid_json`, `invalid_request`, `invalid_parent`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`talk_closed`, `id_conflict`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    )
)]
pub(crate) async fn send_message(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    JsonBody(body): JsonBody<SendMessageRequest>,
) -> Result<(StatusCode, Json<MessageDto>), ApiError> {
    let sent = state.hub.send_message(&agent, talk, body.into()).await?;
    let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(MessageDto::from(&sent.resource))))
}

/// The main view of a talk: top-level messages, newest first.
#[utoipa::path(
    get,
    path = "/v1.0/talks/{id}/messages",
    tag = "messages",
    params(TalkPath, ListMessagesQuery),
    responses(
        (status = 200, description = "A page of messages, newest first.", body = MessageList),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(crate) async fn list_messages(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    ApiQuery(query): ApiQuery<ListMessagesQuery>,
) -> Result<Json<MessageList>, ApiError> {
    let filter =
        if query.include_replies.unwrap_or(false) { MessageFilter::WithReplies } else { MessageFilter::TopLevel };
    let page = state.hub.messages(&agent, talk, filter, &query.page()).await?;
    Ok(Json(list(page)))
}

/// One message.
#[utoipa::path(
    get,
    path = "/v1.0/messages/{id}",
    tag = "messages",
    params(MessagePath),
    responses(
        (status = 200, description = "The message.", body = MessageDto),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(crate) async fn get_message(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(MessagePath { id: message }): IdPath<MessagePath>,
    _: NoQuery,
) -> Result<Json<MessageDto>, ApiError> {
    Ok(Json(MessageDto::from(&state.hub.message(&agent, message).await?)))
}

/// Edits the text of one's own message.
#[utoipa::path(
    patch,
    path = "/v1.0/messages/{id}",
    tag = "messages",
    params(MessagePath),
    request_body = EditMessageRequest,
    responses(
        (status = 200, description = "The message, edited.", body = MessageDto),
        (status = 400, description = "`invalid_id`, `invalid_json`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`, `not_author`, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`talk_closed`, `message_deleted`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    )
)]
pub(crate) async fn edit_message(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(MessagePath { id: message }): IdPath<MessagePath>,
    JsonBody(body): JsonBody<EditMessageRequest>,
) -> Result<Json<MessageDto>, ApiError> {
    Ok(Json(MessageDto::from(&state.hub.edit_message_with(&agent, message, body.into()).await?)))
}

/// Deletes one's own message, leaving a tombstone.
#[utoipa::path(
    delete,
    path = "/v1.0/messages/{id}",
    tag = "messages",
    params(MessagePath),
    responses(
        (status = 200, description = "The tombstone (deleting a deleted message is a repeat).", body = MessageDto),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`, `not_author`, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(crate) async fn delete_message(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(MessagePath { id: message }): IdPath<MessagePath>,
    _: NoQuery,
) -> Result<Json<MessageDto>, ApiError> {
    Ok(Json(MessageDto::from(&state.hub.delete_message(&agent, message).await?)))
}

/// The replies to a message, oldest first.
#[utoipa::path(
    get,
    path = "/v1.0/messages/{id}/replies",
    tag = "messages",
    params(MessagePath, PageQuery),
    responses(
        (status = 200, description = "A page of the thread, oldest first.", body = MessageList),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(crate) async fn list_replies(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(MessagePath { id: message }): IdPath<MessagePath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<MessageList>, ApiError> {
    Ok(Json(list(state.hub.replies(&agent, message, &query.page()).await?)))
}
