//! `GET /v1.0/events`: catch-up without a WebSocket.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use talk_core::PageRequest;

use crate::auth::Caller;
use crate::dto::{ErrorBody, EventFrame, EventList};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// `GET /v1.0/events`: not a list of pages like the others (`since` is
/// the position), so it takes no `page_token`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// The last `seq` the client saw (0 for everything kept).
    since: u64,
    /// 1–100, default 50.
    page_size: Option<u32>,
}

/// The caller's events after `since`, oldest first, as the WebSocket sends them.
#[utoipa::path(
    get,
    path = "/v1.0/events",
    tag = "events",
    params(EventsQuery),
    responses(
        (status = 200, description = "A page of events; `next_page_token` is the decimal `seq` to pass as the next `since`.", body = EventList),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 410, description = "`resync_required`: `since` is older than the events the store keeps.", body = ErrorBody),
    )
)]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    Caller(agent): Caller,
    ApiQuery(EventsQuery { since, page_size }): ApiQuery<EventsQuery>,
) -> Result<Json<EventList>, ApiError> {
    let page = state.hub.events(&agent, since, &PageRequest { size: page_size, token: None }).await?;
    Ok(Json(EventList {
        result: page.events.iter().map(EventFrame::from).collect(),
        next_page_token: page.next_since.to_string(),
    }))
}
