//! Authentication: the embedder's [`Authenticator`] maps a token to an
//! agent id; [`StaticTokens`] is a fixed map.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use talk_core::AgentId;

use crate::error::ApiError;
use crate::state::AppState;

/// Tells which agent a token belongs to. Identity and tokens belong to the
/// embedding application: plug in whatever it uses (sessions, JWTs, API
/// keys). Tokens reach it as given by the client, through
/// `Authorization: Bearer <token>` or `?token=<token>`.
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// The agent the token belongs to; `None` for an unknown token (`401`).
    async fn authenticate(&self, token: &str) -> Option<AgentId>;
}

/// A fixed map of tokens to agents.
#[derive(Clone, Default)]
pub struct StaticTokens {
    tokens: HashMap<String, AgentId>,
}

impl StaticTokens {
    /// A map of these `(token, agent)` pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, AgentId)>) -> Self {
        Self { tokens: pairs.into_iter().collect() }
    }

    /// Adds (or replaces) a token.
    pub fn insert(&mut self, token: impl Into<String>, agent: AgentId) {
        self.tokens.insert(token.into(), agent);
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

impl fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the tokens themselves.
        f.debug_struct("StaticTokens").field("tokens", &self.tokens.len()).finish()
    }
}

#[async_trait]
impl Authenticator for StaticTokens {
    async fn authenticate(&self, token: &str) -> Option<AgentId> {
        self.tokens.get(token).cloned()
    }
}

/// The authenticated agent of a request: the first extractor of every
/// endpoint that needs a token, so that `401` answers before any other
/// check of the request.
pub(crate) struct Caller(pub(crate) AgentId);

/// The token of a request: `Authorization: Bearer` first, else `?token=`.
///
/// A header of another scheme (`Basic …`, which a proxy in front of the
/// server may add) is not the client's when `?token=` is given: it is then
/// ignored. Without `?token=` it is refused, so that a client that sent
/// the wrong scheme learns why.
fn token(parts: &Parts) -> Result<Option<String>, ApiError> {
    let header = parts.headers.get(AUTHORIZATION);
    let bearer = header.and_then(|value| value.to_str().ok()).and_then(|value| {
        let value = value.trim();
        let scheme = value.split(' ').next().unwrap_or(value);
        scheme.eq_ignore_ascii_case("bearer").then(|| value[scheme.len()..].trim())
    });
    if let Some(token) = bearer {
        return Ok((!token.is_empty()).then(|| token.to_owned()));
    }
    let query = parts.uri.query().unwrap_or("");
    let query_token = form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "token");
    match (query_token, header) {
        (Some((_, token)), _) => Ok((!token.is_empty()).then(|| token.into_owned())),
        (None, Some(_)) => Err(malformed_header()),
        (None, None) => Ok(None),
    }
}

fn malformed_header() -> ApiError {
    ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = token(parts)? else {
            return Err(ApiError::unauthenticated(
                "a token is required: `Authorization: Bearer <token>` or `?token=<token>`",
            ));
        };
        let Some(agent) = state.auth.authenticate(&token).await else {
            return Err(ApiError::unauthenticated("the token is not valid"));
        };
        // Right after authentication: a limited agent learns nothing more.
        if let Some(limiter) = &state.limiter {
            limiter.check(&agent)?;
        }
        Ok(Self(agent))
    }
}
