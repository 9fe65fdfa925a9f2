//! [`ApiError`]: every error the API answers, in one shape:
//! `{"error": {"code", "message"}}`.

use std::fmt;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use talk_core::{ErrorKind, Scope};

use crate::dto::{ErrorBody, ErrorDetail};

/// An error answer of the API: a status, a stable `code` and a message.
///
/// Every failure the adapter answers is one of these: a [`talk_core::Error`]
/// from the Hub (mapped by its [kind](talk_core::Error::kind): invalid input
/// → 400, forbidden → 403, not found → 404, conflict → 409, gone → 410,
/// unavailable → 503 with `Retry-After`, internal → 500), and the adapter's
/// own refusals (401, unknown routes, wrong methods, body and query syntax).
/// A 5xx answer never carries internal details: its message is fixed and
/// the cause is logged instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u32>,
}

/// Seconds a client is asked to wait after `503 unavailable`.
const RETRY_AFTER_SECONDS: u32 = 1;

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    /// `429 rate_limited`, with `Retry-After: seconds`, for an embedder that
    /// limits request rates in its own middleware and wants the API's error
    /// shape.
    pub fn rate_limited(retry_after_seconds: u32) -> Self {
        Self {
            retry_after: Some(retry_after_seconds),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests, retry later")
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable error code (`error.code` of the body).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message (`error.message` of the body).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `Retry-After` header of the answer, in seconds, if it has one
    /// (`429 rate_limited`, `503 unavailable`).
    pub fn retry_after(&self) -> Option<u32> {
        self.retry_after
    }

    pub(crate) fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub(crate) fn not_found_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take this method")
    }

    pub(crate) fn invalid_id(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_id", message)
    }

    pub(crate) fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// A WebSocket `subscribe` that overlaps a subscription the socket
    /// holds (`held`): one `"*"` or single talks, each once.
    pub(crate) fn already_subscribed(held: Scope) -> Self {
        let held = match held {
            Scope::All => "every talk (\"*\")".to_owned(),
            Scope::Talk(talk) => format!("talk {talk}"),
        };
        Self::new(StatusCode::CONFLICT, "already_subscribed", format!("this connection already follows {held}"))
    }

    /// A WebSocket `subscribe` over the socket's cap on single-talk
    /// subscriptions.
    pub(crate) fn too_many_subscriptions(cap: usize) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "limit_exceeded",
            format!(
                "this connection follows {cap} talks, the most it may: unsubscribe from one first, or follow \"*\""
            ),
        )
    }

    /// A WebSocket upgrade over the agent's cap on open sockets (on this
    /// server node).
    pub(crate) fn too_many_sockets(cap: usize) -> Self {
        Self {
            retry_after: Some(RETRY_AFTER_SECONDS),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("this agent has {cap} WebSockets open on this server, the most it may: close one first"),
            )
        }
    }

    pub(crate) fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON, with Content-Type: application/json",
        )
    }

    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// The body of the answer.
    pub(crate) fn body(&self) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message.clone() } }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The status of each kind of Hub error. Exhaustive on purpose: a new kind
/// in talk-core fails to compile here until it has a status.
fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Gone => StatusCode::GONE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Writes an error and its sources on one line, for the log.
struct Chain<'a>(&'a dyn std::error::Error);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl From<talk_core::Error> for ApiError {
    fn from(error: talk_core::Error) -> Self {
        let status = status_of(error.kind());
        let code = error.code();
        match error.kind() {
            ErrorKind::Internal => {
                tracing::error!(error = %Chain(&error), "internal error");
                Self::new(status, code, "internal error")
            }
            ErrorKind::Unavailable => {
                tracing::warn!(error = %Chain(&error), "unavailable");
                Self {
                    retry_after: Some(RETRY_AFTER_SECONDS),
                    ..Self::new(status, code, "the service is busy, retry later")
                }
            }
            _ => Self::new(status, code, error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use talk_core::store::StoreError;
    use talk_core::{AgentId, Error, MessageId, TalkId};

    use super::*;

    fn answer(error: Error) -> (u16, &'static str) {
        let api = ApiError::from(error);
        (api.status().as_u16(), api.code())
    }

    #[test]
    fn every_hub_error_code_maps_to_its_documented_status() {
        let agent = AgentId::parse("a").expect("valid agent id");
        let talk = TalkId(uuid::Uuid::nil());
        let message = MessageId(uuid::Uuid::nil());
        let cases = [
            (Error::InvalidRequest("x".into()), 400, "invalid_request"),
            (Error::InvalidEmoji("x".into()), 400, "invalid_emoji"),
            (Error::InvalidParent("x".into()), 400, "invalid_parent"),
            (Error::UnknownAgent(agent.clone()), 400, "unknown_agent"),
            (Error::NotParticipant, 403, "not_participant"),
            (Error::NotAuthor, 403, "not_author"),
            (Error::Forbidden("x".into()), 403, "forbidden"),
            (Error::NotFound("talk"), 404, "not_found"),
            (Error::TalkClosed(talk), 409, "talk_closed"),
            (Error::MessageDeleted(message), 409, "message_deleted"),
            (Error::AlreadyParticipant(agent), 409, "already_participant"),
            (Error::DirectTalkFull, 409, "direct_talk_full"),
            (Error::LimitExceeded("x".into()), 409, "limit_exceeded"),
            (Error::IdConflict, 409, "id_conflict"),
            (Error::ResyncRequired { since: 1 }, 410, "resync_required"),
            (Error::Unavailable("x".into()), 503, "unavailable"),
            (Error::Internal("x".into()), 500, "internal"),
        ];
        for (error, status, code) in cases {
            assert_eq!(answer(error), (status, code));
        }
    }

    #[test]
    fn server_errors_never_show_internals() {
        let secret = "connection to db.internal:5432 refused";
        let internal = ApiError::from(Error::Internal(secret.into()));
        assert!(!internal.message().contains("5432"));
        let busy = ApiError::from(Error::from(StoreError::Unavailable(secret.into())));
        assert!(!busy.message().contains("5432"));
        assert_eq!(busy.retry_after, Some(RETRY_AFTER_SECONDS));
    }
}
