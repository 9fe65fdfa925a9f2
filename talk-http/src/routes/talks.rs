//! `/v1.0/talks`: create, list, the public directory, read, rename, close, reopen.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use talk_core::TalkStatus;

use crate::auth::Caller;
use crate::dto::{
    CreateTalkRequest, ErrorBody, PublicTalkList, TalkDto, TalkList, TalkState, TalkWithCountsDto, UpdateTalkRequest,
};
use crate::error::ApiError;
use crate::extract::{ApiQuery, IdPath, JsonBody, NoQuery, TalkPath, list_query};
use crate::state::AppState;

list_query!(
    /// `GET /v1.0/talks`.
    ListTalksQuery {
        /// `active` or `closed`: only talks in this state.
        #[param(value_type = Option<TalkState>, inline)]
        status: Option<TalkStatus>,
    }
);

list_query!(
    /// `GET /v1.0/talks/public`.
    PublicTalksQuery {
        /// 1–200 characters: keeps the talks whose name has, for every word
        /// of `q`, a word equal to it or starting with it (case and accents
        /// folded, as in search).
        q: Option<String>,
    }
);

/// Creates a talk (`201`), or finds the pair's direct talk (`200`).
#[utoipa::path(
    post,
    path = "/v1.0/talks",
    tag = "talks",
    request_body = CreateTalkRequest,
    responses(
        (status = 201, description = "The talk was created; the caller is a participant.", body = TalkDto),
        (status = 200, description = "A `direct` talk of this pair exists: it is returned, reopened and with both agents re-added if needed.", body = TalkDto),
        (status = 400, description = "`invalid_json`, `invalid_request`, `unknown_agent`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 409, description = "`limit_exceeded`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    )
)]
pub(crate) async fn create_talk(
    State(state): State<AppState>,
    Caller(agent): Caller,
    JsonBody(body): JsonBody<CreateTalkRequest>,
) -> Result<(StatusCode, Json<TalkDto>), ApiError> {
    let created = state.hub.create_talk(&agent, body.into()).await?;
    let status = if created.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(TalkDto::from(&created.resource))))
}

/// The talks the caller is an active participant of, newest first.
#[utoipa::path(
    get,
    path = "/v1.0/talks",
    tag = "talks",
    params(ListTalksQuery),
    responses(
        (status = 200, description = "A page of talks, newest first, each with the caller's `unread_count` and `mention_count`.", body = TalkList),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
    )
)]
pub(crate) async fn list_talks(
    State(state): State<AppState>,
    Caller(agent): Caller,
    ApiQuery(query): ApiQuery<ListTalksQuery>,
) -> Result<Json<TalkList>, ApiError> {
    let page = state.hub.talks_with_counts(&agent, query.status, &query.page()).await?;
    Ok(Json(TalkList {
        result: page.items.iter().map(TalkWithCountsDto::from).collect(),
        next_page_token: page.next_page_token,
    }))
}

/// The directory: active public talks, newest first, for any agent.
#[utoipa::path(
    get,
    path = "/v1.0/talks/public",
    tag = "talks",
    params(PublicTalksQuery),
    responses(
        (status = 200, description = "A page of active public talks, newest first (the page token is bound to `q`).", body = PublicTalkList),
        (status = 400, description = "`invalid_request`: `q` empty or over 200 characters, an unknown parameter, a bad page.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
    )
)]
pub(crate) async fn list_public_talks(
    State(state): State<AppState>,
    Caller(_agent): Caller,
    ApiQuery(query): ApiQuery<PublicTalksQuery>,
) -> Result<Json<PublicTalkList>, ApiError> {
    let page = state.hub.public_talks(query.q.as_deref(), &query.page()).await?;
    Ok(Json(PublicTalkList {
        result: page.items.iter().map(TalkDto::from).collect(),
        next_page_token: page.next_page_token,
    }))
}

/// One talk; a former participant may read it too, and any agent a public talk.
#[utoipa::path(
    get,
    path = "/v1.0/talks/{id}",
    tag = "talks",
    params(TalkPath),
    responses(
        (status = 200, description = "The talk, with the caller's counts (`null` for a former participant).", body = TalkWithCountsDto),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such talk, or the caller was never in it (and it is not public).", body = ErrorBody),
    )
)]
pub(crate) async fn get_talk(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    _: NoQuery,
) -> Result<Json<TalkWithCountsDto>, ApiError> {
    Ok(Json(TalkWithCountsDto::from(&state.hub.talk_with_counts(&agent, talk).await?)))
}

/// Renames a talk or changes its detail.
#[utoipa::path(
    patch,
    path = "/v1.0/talks/{id}",
    tag = "talks",
    params(TalkPath),
    request_body = UpdateTalkRequest,
    responses(
        (status = 200, description = "The talk as it is now (a change that changes nothing is a repeat: no event).", body = TalkDto),
        (status = 400, description = "`invalid_id`, `invalid_json`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`talk_closed`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    )
)]
pub(crate) async fn update_talk(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    JsonBody(body): JsonBody<UpdateTalkRequest>,
) -> Result<Json<TalkDto>, ApiError> {
    Ok(Json(TalkDto::from(&state.hub.update_talk(&agent, talk, body.into()).await?)))
}

/// Closes a talk.
#[utoipa::path(
    post,
    path = "/v1.0/talks/{id}/close",
    tag = "talks",
    params(TalkPath),
    responses(
        (status = 200, description = "The talk, closed (closing a closed talk is a repeat: no event).", body = TalkDto),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(crate) async fn close_talk(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    _: NoQuery,
) -> Result<Json<TalkDto>, ApiError> {
    Ok(Json(TalkDto::from(&state.hub.close_talk(&agent, talk).await?)))
}

/// Reopens a talk.
#[utoipa::path(
    post,
    path = "/v1.0/talks/{id}/reopen",
    tag = "talks",
    params(TalkPath),
    responses(
        (status = 200, description = "The talk, active (reopening an active talk is a repeat: no event).", body = TalkDto),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`: neither an active participant nor a former one who may reopen, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`limit_exceeded`.", body = ErrorBody),
    )
)]
pub(crate) async fn reopen_talk(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    _: NoQuery,
) -> Result<Json<TalkDto>, ApiError> {
    Ok(Json(TalkDto::from(&state.hub.reopen_talk(&agent, talk).await?)))
}
