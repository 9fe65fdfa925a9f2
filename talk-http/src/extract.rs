//! The syntax of the wire: path ids, JSON bodies and query parameters, each
//! refused in the API's order ("Which check answers first"): path ids
//! (`invalid_id`), then for a body `415` → `413` → `invalid_json`, then
//! field syntax (`invalid_request`). Values are checked by the Hub.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use talk_core::{MessageId, PageRequest, ParticipantId, ParticipantRef, TalkId};

use crate::error::ApiError;
use crate::state::AppState;

// --------------------------------------------------------------- path ids

/// The named parameters of the matched route, percent-decoded.
async fn path_params(parts: &mut Parts) -> Result<Vec<(String, String)>, ApiError> {
    Path::<Vec<(String, String)>>::from_request_parts(parts, &())
        .await
        .map(|Path(params)| params)
        .map_err(|rejection| ApiError::invalid_id(format!("the path is not valid: {}", rejection.body_text())))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, ApiError> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .ok_or_else(|| ApiError::invalid_id(format!("the path has no {name}")))
}

fn parse_id<T: std::str::FromStr<Err = talk_core::Error>>(value: &str) -> Result<T, ApiError> {
    value.parse().map_err(|e: talk_core::Error| ApiError::invalid_id(e.to_string()))
}

/// `{id}` of `/v1.0/talks/{id}…`.
pub(crate) struct TalkPath(pub(crate) TalkId);

impl<S: Send + Sync> FromRequestParts<S> for TalkPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let params = path_params(parts).await?;
        Ok(Self(parse_id(param(&params, "id")?)?))
    }
}

/// `{id}` and `{participant_id}` (a record id or `me`) of
/// `/v1.0/talks/{id}/participants/{participant_id}`.
pub(crate) struct ParticipantPath(pub(crate) TalkId, pub(crate) ParticipantRef);

impl<S: Send + Sync> FromRequestParts<S> for ParticipantPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let params = path_params(parts).await?;
        let talk = parse_id(param(&params, "id")?)?;
        let participant = match param(&params, "participant_id")? {
            "me" => ParticipantRef::Me,
            id => ParticipantRef::Id(parse_id::<ParticipantId>(id)?),
        };
        Ok(Self(talk, participant))
    }
}

/// `{id}` of `/v1.0/messages/{id}…`.
pub(crate) struct MessagePath(pub(crate) MessageId);

impl<S: Send + Sync> FromRequestParts<S> for MessagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let params = path_params(parts).await?;
        Ok(Self(parse_id(param(&params, "id")?)?))
    }
}

/// `{id}` and `{emoji}` (percent-decoded; the Hub reads the emoji) of
/// `/v1.0/messages/{id}/reactions/{emoji}`.
pub(crate) struct ReactionPath(pub(crate) MessageId, pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for ReactionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let params = path_params(parts).await?;
        let message = parse_id(param(&params, "id")?)?;
        Ok(Self(message, param(&params, "emoji")?.to_owned()))
    }
}

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
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let limit = state.options.body_limit;
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large(limit)
            } else {
                ApiError::invalid_json(format!("the body could not be read: {}", rejection.body_text()))
            }
        })?;
        parse_json(&bytes, Document::Body).map(Self)
    }
}

// ------------------------------------------------------------------- query

/// The query parameters of a request, checked against the names its
/// endpoint takes: an unknown or repeated name is `invalid_request`.
/// `token` is always accepted (and never read here).
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `raw` for an endpoint that takes the parameters `allowed`.
    pub(crate) fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if name == "token" {
                continue;
            }
            if !allowed.contains(&name.as_ref()) {
                let known = if allowed.is_empty() {
                    "this endpoint takes none but token".to_owned()
                } else {
                    format!("expected one of {}", allowed.join(", "))
                };
                return Err(ApiError::invalid_request(format!("unknown query parameter {name:?}: {known}")));
            }
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(ApiError::invalid_request(format!("query parameter {name} is given more than once")));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// A request that takes no parameter but `token`.
    pub(crate) fn none(raw: Option<&str>) -> Result<(), ApiError> {
        Self::parse(raw, &[]).map(|_| ())
    }

    /// The value of a parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// A whole number parameter.
    pub(crate) fn number<N: std::str::FromStr>(&self, name: &str) -> Result<Option<N>, ApiError> {
        self.get(name)
            .map(|value| {
                value
                    .parse()
                    .map_err(|_| ApiError::invalid_request(format!("{name} must be a whole number, not {value:?}")))
            })
            .transpose()
    }

    /// One of a few words.
    pub(crate) fn choice<V: Copy>(&self, name: &str, choices: &[(&str, V)]) -> Result<Option<V>, ApiError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        choices.iter().find(|(word, _)| *word == value).map(|(_, v)| Some(*v)).ok_or_else(|| {
            let words: Vec<&str> = choices.iter().map(|(word, _)| *word).collect();
            ApiError::invalid_request(format!("{name} must be one of {}, not {value:?}", words.join(", ")))
        })
    }

    /// `page_size` and `page_token` (the Hub checks the size's range and the token).
    pub(crate) fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest { size: self.number("page_size")?, token: self.get("page_token").map(str::to_owned) })
    }
}

/// The names of the paging parameters.
pub(crate) const PAGE: [&str; 2] = ["page_size", "page_token"];

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

    #[test]
    fn query_refuses_unknown_and_repeated_names() {
        assert!(Query::parse(Some("token=x&page_size=3"), &PAGE).is_ok());
        assert_eq!(Query::parse(Some("pagesize=3"), &PAGE).err().map(|e| e.code()), Some("invalid_request"));
        assert!(Query::parse(Some("page_size=3&page_size=4"), &PAGE).is_err());
        let query = Query::parse(Some("page_size=abc"), &PAGE).expect("names are fine");
        assert!(query.page().is_err());
    }
}
