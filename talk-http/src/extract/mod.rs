//! The syntax of the wire: path ids, JSON bodies and query parameters, each
//! refused in the API's order ("Which check answers first"): path ids
//! (`invalid_id`), then for a body `415` → `413` → `invalid_json`, then
//! field syntax (`invalid_request`) of the query and the body. Values are
//! checked by the Hub.
//!
//! A handler takes them in that order: [`IdPath`], then [`ApiQuery`] (or
//! [`NoQuery`]) for an endpoint without a body, or [`JsonBody`], which
//! checks the query itself once the body is framed.

mod path;
mod query;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) use self::path::{AgentPath, IdPath, MessagePath, ParticipantPath, ReactionPath, TalkPath};
pub(crate) use self::query::{ApiQuery, NoQuery, PageQuery, list_query};
use crate::error::ApiError;
use crate::state::AppState;

// ------------------------------------------------------------------ bodies

/// Whether the request says its body is JSON: `application/json`, with any
/// parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// What a JSON document is, as error messages call it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Document {
    /// An HTTP request body.
    Body,
    /// A WebSocket client frame.
    Frame,
}

impl Document {
    fn noun(self) -> &'static str {
        match self {
            Self::Body => "body",
            Self::Frame => "frame",
        }
    }
}

/// Parses a JSON document into `T`: a document that is not JSON is
/// `invalid_json`; JSON of the wrong shape (not an object, a missing,
/// unknown or mistyped field) is `invalid_request` naming the field.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8], document: Document) -> Result<T, ApiError> {
    let noun = document.noun();
    // Syntax first, over the whole document: a later syntax error must not
    // hide behind an earlier field error.
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::invalid_json(format!("the {noun} is not valid JSON: {error}")))?;
    check_shape(&value, noun).map_err(ApiError::invalid_request)?;
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.inner().to_string();
        ApiError::invalid_request(if path == "." { inner } else { format!("{path}: {inner}") })
    })
}

/// What serde alone would let through: serde reads a struct from an array
/// too (its fields by position). Every request is an object, and no field
/// of any request is an array of arrays, so an array where an object is
/// expected is refused here, naming where.
fn check_shape(value: &Value, noun: &str) -> Result<(), String> {
    fn walk(value: &Value, path: &str) -> Result<(), String> {
        match value {
            Value::Object(map) => map.iter().try_for_each(|(key, value)| walk(value, &format!("{path}{key}."))),
            Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
                let at = format!("{}[{i}]", path.trim_end_matches('.'));
                if item.is_array() {
                    Err(format!("{at}: expected an object or a value, not an array"))
                } else {
                    walk(item, &format!("{at}."))
                }
            }),
            _ => Ok(()),
        }
    }
    if !value.is_object() {
        return Err(format!("the {noun} must be a JSON object"));
    }
    walk(value, "")
}

/// A JSON request body: `415` without a JSON content type, `413` over the
/// limit, `invalid_json`, then `invalid_request` for its fields.
///
/// The endpoints with a body take no query parameter but `token`: the query
/// is checked here, after the body's framing (step 3 of "Which check
/// answers first") and with the body's fields (step 4), as an extractor
/// before the body could not.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let limit = state.options.body_limit;
        let uri = request.uri().clone();
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large(limit)
            } else {
                ApiError::invalid_json(format!("the body could not be read: {}", rejection.body_text()))
            }
        })?;
        let body = parse_json(&bytes, Document::Body)?;
        query::parse_query::<()>(uri.query())?;
        Ok(Self(body))
    }
}

/// A JSON body that may be left out: an empty body, with any content type
/// or none, counts as `{}` (as for endpoints without a body); a body that
/// is there is read as [`JsonBody`] reads it.
pub(crate) struct OptionalJsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        if is_json(request.headers()) {
            let limit = state.options.body_limit;
            let uri = request.uri().clone();
            let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large(limit)
                } else {
                    ApiError::invalid_json(format!("the body could not be read: {}", rejection.body_text()))
                }
            })?;
            let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
            let body = parse_json(bytes, Document::Body)?;
            query::parse_query::<()>(uri.query())?;
            return Ok(Self(body));
        }
        // Not JSON: only an empty body is fine.
        let declared = request.headers().get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
        if declared.is_some_and(|length| length.trim() != "0") {
            return Err(ApiError::unsupported_media_type());
        }
        let uri = request.uri().clone();
        let bytes = Bytes::from_request(request, state).await.map_err(|_| ApiError::unsupported_media_type())?;
        if !bytes.is_empty() {
            return Err(ApiError::unsupported_media_type());
        }
        let body = parse_json(b"{}", Document::Body)?;
        query::parse_query::<()>(uri.query())?;
        Ok(Self(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Option<Vec<Item>>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        url: String,
    }

    fn refusal(json: &str) -> (&'static str, String) {
        let error = parse_json::<Body>(json.as_bytes(), Document::Body).expect_err("refused");
        (error.code(), error.message().to_owned())
    }

    #[test]
    fn syntax_errors_win_over_field_errors() {
        assert_eq!(refusal(r#"{"nope": 1, "name": }"#).0, "invalid_json");
        assert_eq!(refusal(r#"{"name": "a"} x"#).0, "invalid_json");
        assert_eq!(refusal("").0, "invalid_json");
    }

    #[test]
    fn field_errors_name_the_field() {
        let (code, message) = refusal(r#"{"name": "a", "nope": 1}"#);
        assert_eq!(code, "invalid_request");
        assert!(message.contains("nope"), "{message}");
        let (code, message) = refusal(r#"{"name": 1}"#);
        assert_eq!(code, "invalid_request");
        assert!(message.starts_with("name:"), "{message}");
        let (_, message) = refusal(r#"{"name": "a", "items": [{"url": 2}]}"#);
        assert!(message.starts_with("items[0].url:"), "{message}");
        let (code, message) = refusal(r#"["a"]"#);
        assert_eq!(code, "invalid_request");
        assert!(message.contains("object"), "{message}");
        let (_, message) = refusal(r#"{"name": "a", "items": [["u"]]}"#);
        assert!(message.starts_with("items[0]:"), "{message}");
        let (_, message) = refusal(r#"{}"#);
        assert!(message.contains("name"), "{message}");
    }
}
