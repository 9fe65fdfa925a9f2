//! `/v1.0/talks/{id}/participants`: list, add, leave or remove; and
//! `/v1.0/talks/{id}/join`: join a public talk.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use talk_core::ParticipantFilter;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::dto::{AddParticipantRequest, ErrorBody, ParticipantDto, ParticipantList};
use crate::error::ApiError;
use crate::extract::{ApiQuery, IdPath, JsonBody, NoQuery, ParticipantPath, TalkPath, list_query};
use crate::state::AppState;

/// Which records a list of participants holds: `active`, `left` or `all`
/// (talk-core's [`ParticipantFilter`], by name).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StatusFilter {
    /// Active records.
    Active,
    /// Records that ended.
    Left,
    /// Every record.
    All,
}

impl From<StatusFilter> for ParticipantFilter {
    fn from(filter: StatusFilter) -> Self {
        match filter {
            StatusFilter::Active => Self::Active,
            StatusFilter::Left => Self::Left,
            StatusFilter::All => Self::All,
        }
    }
}

list_query!(
    /// `GET /v1.0/talks/{id}/participants`.
    ListParticipantsQuery {
        /// `active` (default), `left` or `all`.
        #[param(inline)]
        status: Option<StatusFilter>,
    }
);

/// The participant records of a talk, in the order they joined.
#[utoipa::path(
    get,
    path = "/v1.0/talks/{id}/participants",
    tag = "participants",
    params(TalkPath, ListParticipantsQuery),
    responses(
        (status = 200, description = "A page of participant records, in the order they joined.", body = ParticipantList),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
    )
)]
pub(crate) async fn list_participants(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    ApiQuery(query): ApiQuery<ListParticipantsQuery>,
) -> Result<Json<ParticipantList>, ApiError> {
    let filter = query.status.map(ParticipantFilter::from).unwrap_or_default();
    let page = state.hub.participants(&agent, talk, filter, &query.page()).await?;
    Ok(Json(ParticipantList {
        result: page.items.iter().map(ParticipantDto::from).collect(),
        next_page_token: page.next_page_token,
    }))
}

/// Adds an agent to a talk.
#[utoipa::path(
    post,
    path = "/v1.0/talks/{id}/participants",
    tag = "participants",
    params(TalkPath),
    request_body = AddParticipantRequest,
    responses(
        (status = 201, description = "The new participant record.", body = ParticipantDto),
        (status = 400, description = "`invalid_id`, `invalid_json`, `invalid_request`, `unknown_agent`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`talk_closed`, `already_participant`, `direct_talk_full`, `limit_exceeded`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    )
)]
pub(crate) async fn add_participant(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    JsonBody(body): JsonBody<AddParticipantRequest>,
) -> Result<(StatusCode, Json<ParticipantDto>), ApiError> {
    let participant = state.hub.add_participant(&agent, talk, &body.agent_id).await?;
    Ok((StatusCode::CREATED, Json(ParticipantDto::from(&participant))))
}

/// The caller joins a public talk by itself.
#[utoipa::path(
    post,
    path = "/v1.0/talks/{id}/join",
    tag = "participants",
    params(TalkPath),
    responses(
        (status = 201, description = "The caller's new participant record (events: `participant_joined`, then its system message with `actor_id` the caller).", body = ParticipantDto),
        (status = 200, description = "The caller is an active participant already: its record, no event (a repeat).", body = ParticipantDto),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`: the talk is not public and the caller left it.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such talk, or it is not public and the caller was never in it.", body = ErrorBody),
        (status = 409, description = "`talk_closed`, `limit_exceeded`.", body = ErrorBody),
    )
)]
pub(crate) async fn join_talk(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(TalkPath { id: talk }): IdPath<TalkPath>,
    _: NoQuery,
) -> Result<(StatusCode, Json<ParticipantDto>), ApiError> {
    let joined = state.hub.join_talk(&agent, talk).await?;
    let status = if joined.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ParticipantDto::from(&joined.resource))))
}

/// Ends a participant record: the caller's own (it leaves) or another's (removed).
#[utoipa::path(
    delete,
    path = "/v1.0/talks/{id}/participants/{participant_id}",
    tag = "participants",
    params(ParticipantPath),
    responses(
        (status = 200, description = "The record, ended (a repeat leave answers the record as it is).", body = ParticipantDto),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`, `forbidden` (the embedder's policy refused).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such talk or record in it.", body = ErrorBody),
        (status = 409, description = "`talk_closed` (removing another agent from a closed talk).", body = ErrorBody),
    )
)]
pub(crate) async fn remove_participant(
    State(state): State<AppState>,
    Caller(agent): Caller,
    IdPath(ParticipantPath { id: talk, participant_id: target }): IdPath<ParticipantPath>,
    _: NoQuery,
) -> Result<Json<ParticipantDto>, ApiError> {
    Ok(Json(ParticipantDto::from(&state.hub.remove_participant(&agent, talk, target).await?)))
}
