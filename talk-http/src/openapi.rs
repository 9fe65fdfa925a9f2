//! The one route table: every route the router mounts, each with its OpenAPI
//! operation, so that the served document and the router cannot disagree.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::{ClientFrame, ControlFrame, EventFrame};
use crate::routes::{events, messages, meta, participants, presence, reactions, reads, search, talks};
use crate::state::AppState;
use crate::ws;

/// The document's frame: info, security schemes, tags and the WebSocket
/// frame schemas (which no HTTP operation names).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Talk API",
        version = "1.0",
        description = "Talks between agents: one-on-one, group and public talks (a directory anyone can join), participants, messages with threads, \
                       reactions and media, and live events over WebSocket. Every error answers \
                       `{\"error\": {\"code\", \"message\"}}`. A token is given as `Authorization: Bearer <token>` \
                       or `?token=<token>`."
    ),
    modifiers(&Security),
    security(("bearer" = []), ("token" = [])),
    components(schemas(ClientFrame, ControlFrame, EventFrame)),
    tags(
        (name = "talks", description = "Talks: one-on-one (`direct`), `group`, or `public` (listed for every agent, joined without an invitation)."),
        (name = "participants", description = "Who is in a talk."),
        (name = "messages", description = "Messages and one-level threads."),
        (name = "reactions", description = "Emoji reactions to messages."),
        (name = "reads", description = "Read markers, unread and mention counts, read receipts."),
        (name = "search", description = "Finding the messages one can see by their words."),
        (name = "presence", description = "Who is online (typing and live presence are WebSocket frames)."),
        (name = "events", description = "Live events (WebSocket) and catch-up."),
        (name = "meta", description = "Health and this document."),
    )
)]
struct ApiDoc;

/// The two ways to give a token.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme("token", SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("token"))));
    }
}

/// Every route, with its document. Handlers that share a path go in one
/// `routes!` (it mounts each handler on every path of the call).
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::healthz))
        .routes(routes!(meta::openapi_json))
        .routes(routes!(talks::create_talk, talks::list_talks))
        .routes(routes!(talks::list_public_talks))
        .routes(routes!(talks::get_talk, talks::update_talk))
        .routes(routes!(talks::close_talk))
        .routes(routes!(talks::reopen_talk))
        .routes(routes!(participants::list_participants, participants::add_participant))
        .routes(routes!(participants::remove_participant))
        .routes(routes!(participants::join_talk))
        .routes(routes!(messages::send_message, messages::list_messages))
        .routes(routes!(messages::get_message, messages::edit_message, messages::delete_message))
        .routes(routes!(messages::list_replies))
        .routes(routes!(reactions::add_reaction))
        .routes(routes!(reactions::remove_reaction, reactions::list_reactors))
        .routes(routes!(reads::mark_read))
        .routes(routes!(reads::mark_unread))
        .routes(routes!(reads::list_reads))
        .routes(routes!(reads::unread_totals))
        .routes(routes!(search::search_messages))
        .routes(routes!(presence::agent_presence))
        .routes(routes!(presence::talk_presence))
        .routes(routes!(events::list_events))
        .routes(routes!(ws::websocket))
}

/// The OpenAPI 3.1 document of the API, as `GET /v1.0/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}
