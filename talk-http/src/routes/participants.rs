//! `/v1.0/talks/{id}/participants`: list, add, leave or remove.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use talk_core::ParticipantFilter;

use crate::auth::Caller;
use crate::dto::{AddParticipantRequest, ErrorBody, ParticipantDto, ParticipantList};
use crate::error::ApiError;
use crate::extract::{JsonBody, PAGE, ParticipantPath, Query, TalkPath};
use crate::state::AppState;

/// The participant records of a talk, in the order they joined.
#[utoipa::path(
    get,
    path = "/v1.0/talks/{id}/participants",
    tag = "participants",
    params(
        ("id" = Uuid, Path, description = "The talk."),
        ("status" = Option<String>, Query, description = "`active` (default), `left` or `all`."),
        ("page_size" = Option<u32>, Query, description = "1–100, default 50."),
        ("page_token" = Option<String>, Query, description = "`next_page_token` of the previous page."),
    ),
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
    TalkPath(talk): TalkPath,
    RawQuery(raw): RawQuery,
) -> Result<Json<ParticipantList>, ApiError> {
    let query = Query::parse(raw.as_deref(), &["status", PAGE[0], PAGE[1]])?;
    let filter = query
        .choice(
            "status",
            &[
                ("active", ParticipantFilter::Active),
                ("left", ParticipantFilter::Left),
                ("all", ParticipantFilter::All),
            ],
        )?
        .unwrap_or_default();
    let page = state.hub.participants(&agent, talk, filter, &query.page()?).await?;
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
    params(("id" = Uuid, Path, description = "The talk.")),
    request_body = AddParticipantRequest,
    responses(
        (status = 201, description = "The new participant record.", body = ParticipantDto),
        (status = 400, description = "`invalid_id`, `invalid_json`, `invalid_request`, `unknown_agent`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`.", body = ErrorBody),
        (status = 409, description = "`talk_closed`, `already_participant`, `direct_talk_full`, `limit_exceeded`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    )
)]
pub(crate) async fn add_participant(
    State(state): State<AppState>,
    Caller(agent): Caller,
    TalkPath(talk): TalkPath,
    RawQuery(raw): RawQuery,
    JsonBody(body): JsonBody<AddParticipantRequest>,
) -> Result<(StatusCode, Json<ParticipantDto>), ApiError> {
    Query::none(raw.as_deref())?;
    let participant = state.hub.add_participant(&agent, talk, &body.agent_id).await?;
    Ok((StatusCode::CREATED, Json(ParticipantDto::from(&participant))))
}

/// Ends a participant record: the caller's own (it leaves) or another's (removed).
#[utoipa::path(
    delete,
    path = "/v1.0/talks/{id}/participants/{participant_id}",
    tag = "participants",
    params(
        ("id" = Uuid, Path, description = "The talk."),
        ("participant_id" = String, Path, description = "A participant record id of this talk, or `me` for the caller's latest record."),
    ),
    responses(
        (status = 200, description = "The record, ended (a repeat leave answers the record as it is).", body = ParticipantDto),
        (status = 400, description = "`invalid_id`, `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`not_participant`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such talk or record in it.", body = ErrorBody),
        (status = 409, description = "`talk_closed` (removing another agent from a closed talk).", body = ErrorBody),
    )
)]
pub(crate) async fn remove_participant(
    State(state): State<AppState>,
    Caller(agent): Caller,
    ParticipantPath(talk, target): ParticipantPath,
    RawQuery(raw): RawQuery,
) -> Result<Json<ParticipantDto>, ApiError> {
    Query::none(raw.as_deref())?;
    Ok(Json(ParticipantDto::from(&state.hub.remove_participant(&agent, talk, target).await?)))
}
