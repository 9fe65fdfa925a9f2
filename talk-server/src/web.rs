//! The demo server's web app: the page at `/`, its files at `/app/...`
//! (embedded in the binary: no separate process, nothing fetched from
//! elsewhere), and the demo-only sign-in list `GET /demo/agents`.
//!
//! The app is a client of the public API only (`/v1.0/...` and
//! `/v1.0/ws`): the agents list is how it picks a token, nothing more.
//!
//! Its source is `web/index.html`, `web/app.css` and the modules of
//! `web/js/`, which `scripts/bundle-web.sh` bundles into `web/bundle.js`
//! (committed). The page served at `/` is `index.html` with the stylesheet
//! and the bundle inlined: loading the app is one request. The files stay
//! served under `/app/` as they are, for development and tests.
//! `--no-web` leaves all of this out; an application that embeds Talk mounts
//! `talk_http::router` without it.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::LazyLock;

/// One file of the app, as it is served.
struct Asset {
    /// Its path under `/app/`.
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The page's source, which loads the stylesheet and the modules by name.
const INDEX: &str = include_str!("../web/index.html");
const STYLE: &str = include_str!("../web/app.css");
const BUNDLE: &str = include_str!("../web/bundle.js");

/// How `index.html` names the stylesheet and the entry module, which the
/// page served inlines.
const STYLESHEET_LINK: &str = r#"<link rel="stylesheet" href="/app/app.css">"#;
const MODULE_SCRIPT: &str = r#"<script type="module" src="/app/js/main.js"></script>"#;

/// The page served at `/`: the source with its stylesheet and the bundle of
/// its modules inlined.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    INDEX
        .replace(STYLESHEET_LINK, &format!("<style>\n{STYLE}</style>"))
        .replace(MODULE_SCRIPT, &format!("<script type=\"module\">\n{BUNDLE}</script>"))
});

/// Every file under `/app/`: each file of `web/` but `index.html` (a test
/// checks it), so a new module of the app is added here too.
const ASSETS: &[Asset] = &[
    Asset { path: "app.css", content_type: CSS, body: include_str!("../web/app.css") },
    Asset { path: "js/main.js", content_type: JS, body: include_str!("../web/js/main.js") },
    Asset { path: "js/api.js", content_type: JS, body: include_str!("../web/js/api.js") },
    Asset { path: "js/dom.js", content_type: JS, body: include_str!("../web/js/dom.js") },
    Asset { path: "js/errors.js", content_type: JS, body: include_str!("../web/js/errors.js") },
    Asset { path: "js/live.js", content_type: JS, body: include_str!("../web/js/live.js") },
    Asset { path: "js/state.js", content_type: JS, body: include_str!("../web/js/state.js") },
    Asset { path: "js/events.js", content_type: JS, body: include_str!("../web/js/events.js") },
    Asset { path: "js/layout.js", content_type: JS, body: include_str!("../web/js/layout.js") },
    Asset { path: "js/signin.js", content_type: JS, body: include_str!("../web/js/signin.js") },
    Asset { path: "js/talk_list.js", content_type: JS, body: include_str!("../web/js/talk_list.js") },
    Asset { path: "js/new_talk.js", content_type: JS, body: include_str!("../web/js/new_talk.js") },
    Asset { path: "js/directory.js", content_type: JS, body: include_str!("../web/js/directory.js") },
    Asset { path: "js/search.js", content_type: JS, body: include_str!("../web/js/search.js") },
    Asset { path: "js/talk_view.js", content_type: JS, body: include_str!("../web/js/talk_view.js") },
    Asset { path: "js/message.js", content_type: JS, body: include_str!("../web/js/message.js") },
    Asset { path: "js/composer.js", content_type: JS, body: include_str!("../web/js/composer.js") },
    Asset { path: "js/reactions.js", content_type: JS, body: include_str!("../web/js/reactions.js") },
    Asset { path: "js/thread.js", content_type: JS, body: include_str!("../web/js/thread.js") },
    Asset { path: "js/participants.js", content_type: JS, body: include_str!("../web/js/participants.js") },
    Asset { path: "js/receipts.js", content_type: JS, body: include_str!("../web/js/receipts.js") },
    Asset { path: "js/typing.js", content_type: JS, body: include_str!("../web/js/typing.js") },
    Asset { path: "js/presence.js", content_type: JS, body: include_str!("../web/js/presence.js") },
    Asset { path: "bundle.js", content_type: JS, body: BUNDLE },
];

/// The routes of the app and of the agents list, to merge beside the API's
/// router (which answers every other path).
pub(crate) fn router(agents: &[(talk_core::AgentId, String)]) -> Router {
    let list: Vec<serde_json::Value> =
        agents.iter().map(|(agent, token)| serde_json::json!({ "agent_id": agent.as_str(), "token": token })).collect();
    let list = Bytes::from(serde_json::Value::Array(list).to_string());
    Router::new()
        .route("/", get(|| async { file(HTML, PAGE.as_str()) }))
        .route("/app/{*path}", get(asset))
        .route("/demo/agents", get(move || async move { file("application/json", list) }))
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "only GET is served here")
        })
}

/// A file under `/app/`, by its path.
async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.path == path) {
        Some(asset) => file(asset.content_type, asset.body),
        None => not_found(&path),
    }
}

/// A file, to be revalidated at every use (the app changes with the binary).
fn file(content_type: &'static str, body: impl Into<Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body.into(),
    )
        .into_response()
}

/// A file of the app that does not exist.
fn not_found(path: &str) -> Response {
    error(StatusCode::NOT_FOUND, "not_found", &format!("no file /app/{path}"))
}

/// An error in the API's one shape.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    /// The files of `web/` below `dir`, as paths relative to `web/`.
    fn files(root: &std::path::Path, dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("a directory of the app") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                files(root, &path, found);
            } else {
                let relative = path.strip_prefix(root).expect("below web/");
                found.push(relative.to_str().expect("a UTF-8 name").replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_of_the_app_is_served() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = Vec::new();
        files(&root, &root, &mut on_disk);
        on_disk.retain(|path| path != "index.html");
        on_disk.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|asset| asset.path.to_owned()).collect();
        served.sort();
        assert_eq!(served, on_disk);
    }

    #[test]
    fn the_page_inlines_the_stylesheet_and_the_bundle() {
        let page = super::PAGE.as_str();
        assert!(!page.contains(super::STYLESHEET_LINK) && !page.contains(super::MODULE_SCRIPT), "both inlined");
        assert!(page.contains(super::STYLE) && page.contains(super::BUNDLE));
        // Nothing in them ends their element early.
        assert!(!super::STYLE.contains("</style") && !super::BUNDLE.contains("</script"));
    }

    #[test]
    fn content_types_follow_the_file_names() {
        for asset in ASSETS {
            let expected = match asset.path.rsplit_once('.').map(|(_, extension)| extension) {
                Some("js") => super::JS,
                Some("css") => super::CSS,
                other => panic!("{}: no content type for {other:?}", asset.path),
            };
            assert_eq!(asset.content_type, expected, "{}", asset.path);
        }
    }
}
