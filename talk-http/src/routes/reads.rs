//! Read state: `POST /v1.0/talks/{id}/read`, `POST /v1.0/talks/{id}/unread`,
//! `GET /v1.0/talks/{id}/reads` (read receipts), `GET /v1.0/unread`.

use axum::Json;
use axum::extract::State;
use talk_core::MessageId;

use crate::auth::Caller;
use crate::dto::{
    ErrorBody, ReadReceiptDto, ReadReceiptList, ReadRequest, ReadStateDto, UnreadRequest, UnreadTotalsDto,
};
use crate::error::ApiError;
use crate::extract::{ApiQuery, IdPath, NoQuery, OptionalJsonBody, PageQuery, TalkPath};
use crate::state::AppState;

/// Moves the caller's read marker forward to a message (default: the talk's newest).
#[utoipa::path(
    post,
    path = "/v1.0/talks/{id}/read",
    tag = "reads",
    params(TalkPath),
    request_body(content = ReadRequest, description = "Optional: an empty body counts as `{}`."),
    responses(
        (status = 200, description = "The caller's read state (a marker already at or past the message is a repeat: no event). Allowed on a closed talk.", body = ReadStateDto),
        (status = 400, description = "`invalid_id`, `invalid_json`, `invalid_request` (also a `message_id` that is not a message of this talk).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type` (a body that is not JSON).", body = ErrorBody),
    )
)]
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    OptionalJsonBody(body): OptionalJsonBody<ReadRequest>,
) -> Result<Json<ReadStateDto>, ApiError> {
    let message = body.message_id.map(MessageId::from_uuid);
    Ok(Json(ReadStateDto::from(&state.hub.mark_read(&agent, talk, message).await?)))
}

/// "Mark unread from here": moves the caller's marker to just before a message.
#[utoipa::path(
    post,
    path = "/v1.0/talks/{id}/unread",
    tag = "reads",
    params(TalkPath),
    request_body = UnreadRequest,
    responses(
        (status = 200, description = "The caller's read state: the marker just before the message, backwards too, never below the caller's own join (a marker already there is a repeat: no event). Allowed on a closed talk.", body = ReadStateDto),
        (status = 400, description = "`invalid_id`, `invalid_json`, `invalid_request` (`message_id` missing, not a UUID, or not a message of this talk).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    )
)]
pub(crate) async fn mark_unread(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    OptionalJsonBody(body): OptionalJsonBody<UnreadRequest>,
) -> Result<Json<ReadStateDto>, ApiError> {
    let message = MessageId::from_uuid(body.message_id);
    Ok(Json(ReadStateDto::from(&state.hub.mark_unread(&agent, talk, message).await?)))
}

/// Every active participant's read state without the counts, in join order (read receipts).
#[utoipa::path(
    get,
    path = "/v1.0/talks/{id}/reads",
    tag = "reads",
    params(TalkPath, PageQuery),
    responses(
        (status = 200, description = "A page of read receipts, in the order the participants joined.", body = ReadReceiptList),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(crate) async fn list_reads(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ReadReceiptList>, ApiError> {
    let page = state.hub.read_states(&agent, talk, &query.page()).await?;
    Ok(Json(ReadReceiptList {
        result: page.items.iter().map(ReadReceiptDto::from).collect(),
        next_page_token: page.next_page_token,
    }))
}

/// The caller's unread totals over its active talks.
#[utoipa::path(
    get,
    path = "/v1.0/unread",
    tag = "reads",
    responses(
        (status = 200, description = "`talks` with at least one unread message, unread `messages`, unread `mentions`.", body = UnreadTotalsDto),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
    )
)]
pub(crate) async fn unread_totals(
    State(state): State<AppState>,
    Caller(agent): Caller,
    _: NoQuery,
) -> Result<Json<UnreadTotalsDto>, ApiError> {
    Ok(Json(UnreadTotalsDto::from(state.hub.unread_totals(&agent).await?)))
}
