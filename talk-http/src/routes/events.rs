//! `GET /v1.0/events`: catch-up without a WebSocket.

use axum::Json;
use axum::extract::{RawQuery, State};

use talk_core::PageRequest;

use crate::auth::Caller;
use crate::dto::{ErrorBody, EventFrame, EventList};
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;

/// The caller's events after `since`, oldest first, as the WebSocket sends them.
#[utoipa::path(
    get,
    path = "/v1.0/events",
    tag = "events",
    params(
        ("since" = u64, Query, description = "The last `seq` the client saw (0 for everything kept)."),
        ("page_size" = Option<u32>, Query, description = "1–100, default 50."),
    ),
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
    RawQuery(raw): RawQuery,
) -> Result<Json<EventList>, ApiError> {
    let query = Query::parse(raw.as_deref(), &["since", "page_size"])?;
    let since = query.number::<u64>("since")?.ok_or_else(|| ApiError::invalid_request("since is required"))?;
    let page = state.hub.events(&agent, since, &PageRequest { size: query.number("page_size")?, token: None }).await?;
    Ok(Json(EventList {
        result: page.events.iter().map(EventFrame::from).collect(),
        next_page_token: page.next_since.to_string(),
    }))
}
