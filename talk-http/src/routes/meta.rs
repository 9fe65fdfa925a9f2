//! `GET /healthz`, `GET /v1.0/openapi.json`, and the answers for unknown
//! routes and methods.

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::dto::Health;
use crate::error::ApiError;
use crate::state::AppState;

/// Whether the server is up. No token.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The server is up.", body = Health))
)]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// This document. No token.
#[utoipa::path(
    get,
    path = "/v1.0/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", content_type = "application/json"))
)]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], state.openapi.clone())
}

/// `404 not_found` for a path no route matches.
pub(crate) async fn unknown_route() -> ApiError {
    ApiError::not_found_route()
}

/// `405 method_not_allowed` for a known path with another method (with `Allow`).
pub(crate) async fn unknown_method() -> ApiError {
    ApiError::method_not_allowed()
}
