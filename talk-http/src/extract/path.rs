//! Path ids: [`IdPath<T>`] reads a route's named path parameters into a
//! struct, which derives `utoipa::IntoParams` too, so that the OpenAPI
//! document and the parsing share one definition of each parameter.

use std::fmt::Display;
use std::str::FromStr;

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use talk_core::{AgentId, MessageId, ParticipantRef, TalkId};
use utoipa::IntoParams;

use crate::error::ApiError;

/// The path parameters of the matched route (percent-decoded), read into
/// `T`: one of the structs below. A value that does not parse is
/// `400 invalid_id`.
pub(crate) struct IdPath<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(params)) => Ok(Self(params)),
            // The message of the id's own parser ("… is not a valid talk id").
            Err(PathRejection::FailedToDeserializePathParams(error)) => match error.into_kind() {
                ErrorKind::DeserializeError { message, .. } | ErrorKind::Message(message) => {
                    Err(ApiError::invalid_id(message))
                }
                kind => Err(ApiError::invalid_id(format!("the path is not valid: {kind}"))),
            },
            Err(rejection) => Err(ApiError::invalid_id(format!("the path is not valid: {}", rejection.body_text()))),
        }
    }
}

/// Reads a value with its `FromStr`, whose error names what is wrong.
fn parsed<'de, D: Deserializer<'de>, T: FromStr<Err: Display>>(deserializer: D) -> Result<T, D::Error> {
    String::deserialize(deserializer)?.parse().map_err(D::Error::custom)
}

/// `{id}` of `/v1.0/talks/{id}…`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TalkPath {
    /// The talk.
    #[serde(deserialize_with = "parsed")]
    #[param(value_type = Uuid)]
    pub(crate) id: TalkId,
}

/// `{agent_id}` of `/v1.0/agents/{agent_id}…`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct AgentPath {
    /// The agent.
    #[serde(deserialize_with = "parsed")]
    #[param(value_type = String)]
    pub(crate) agent_id: AgentId,
}

/// `{id}` of `/v1.0/messages/{id}…`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct MessagePath {
    /// The message.
    #[serde(deserialize_with = "parsed")]
    #[param(value_type = Uuid)]
    pub(crate) id: MessageId,
}

/// `{id}` and `{participant_id}` of `/v1.0/talks/{id}/participants/{participant_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ParticipantPath {
    /// The talk.
    #[serde(deserialize_with = "parsed")]
    #[param(value_type = Uuid)]
    pub(crate) id: TalkId,
    /// A participant record id of this talk, or `me` for the caller's latest record.
    #[serde(deserialize_with = "participant_ref")]
    #[param(value_type = String)]
    pub(crate) participant_id: ParticipantRef,
}

/// A participant record id, or `me`.
fn participant_ref<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ParticipantRef, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text == "me" {
        return Ok(ParticipantRef::Me);
    }
    text.parse().map(ParticipantRef::Id).map_err(D::Error::custom)
}

/// `{id}` and `{emoji}` of `/v1.0/messages/{id}/reactions/{emoji}` (the
/// Hub reads the emoji).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ReactionPath {
    /// The message.
    #[serde(deserialize_with = "parsed")]
    #[param(value_type = Uuid)]
    pub(crate) id: MessageId,
    /// The emoji, percent-encoded, or a shortcode.
    pub(crate) emoji: String,
}
