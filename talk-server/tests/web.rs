//! The web app and its agents list: served by default (the page, its files
//! with their content types and `Cache-Control: no-cache`, and
//! `GET /demo/agents` with every agent's token), and neither with `--no-web`.

mod common;

use common::{get_plain, start};

/// The header `name`'s value, if the answer has it.
fn header<'a>(headers: &'a [String], name: &str) -> Option<&'a str> {
    headers.iter().find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
}

#[test]
fn the_app_and_the_agents_list_are_served() {
    let server = start(&["--listen", "127.0.0.1:0", "--db", ":memory:"]);
    assert!(server.announcement.contains(&format!("Web app: http://{}/", server.address)), "{}", server.announcement);

    let (status, headers, body) = get_plain(server.address, "/");
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    // The page carries its stylesheet and its script: no request for either.
    assert!(body.contains("<style>") && body.contains(r#"<script type="module">"#), "{body}");
    assert!(!body.contains(r#"src="/app/"#) && !body.contains(r#"href="/app/"#), "{body}");

    for (path, content_type) in [
        ("/app/app.css", "text/css; charset=utf-8"),
        ("/app/js/main.js", "text/javascript; charset=utf-8"),
        ("/app/js/live.js", "text/javascript; charset=utf-8"),
    ] {
        let (status, headers, body) = get_plain(server.address, path);
        assert_eq!((status, header(&headers, "content-type")), (200, Some(content_type)), "{path}");
        assert_eq!(header(&headers, "cache-control"), Some("no-cache"), "{path}");
        assert!(!body.is_empty(), "{path}");
    }
    let (status, _, body) = get_plain(server.address, "/app/js/nothing.js");
    assert_eq!(status, 404);
    assert!(body.contains(r#""code":"not_found""#), "{body}");

    let (status, headers, body) = get_plain(server.address, "/demo/agents");
    assert_eq!((status, header(&headers, "content-type")), (200, Some("application/json")));
    let listed: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let listed: Vec<(String, String)> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|agent| (agent["agent_id"].as_str().unwrap().to_owned(), agent["token"].as_str().unwrap().to_owned()))
        .collect();
    let exported: Vec<(String, String)> = ["agent-id-1", "agent-id-2", "agent-id-3", "agent-id-4", "agent-123"]
        .iter()
        .map(|agent| {
            let variable = format!("TOKEN_{}", agent.to_ascii_uppercase().replace('-', "_"));
            ((*agent).to_owned(), server.export(&variable).to_owned())
        })
        .collect();
    assert_eq!(listed, exported);

    let (status, body) = common::request(server.address, "POST", "/", "", Some("{}"));
    assert_eq!(status, 405);
    assert!(body.contains(r#""code":"method_not_allowed""#), "{body}");

    // The API is served beside it as before.
    assert_eq!(get_plain(server.address, "/healthz").0, 200);
}

#[test]
fn no_web_serves_neither_the_app_nor_the_agents_list() {
    let server = start(&["--listen", "127.0.0.1:0", "--db", ":memory:", "--no-web"]);
    assert!(!server.announcement.contains("Web app"), "{}", server.announcement);
    for path in ["/", "/app/js/main.js", "/app/app.css", "/demo/agents"] {
        let (status, _, body) = get_plain(server.address, path);
        assert_eq!(status, 404, "{path}");
        assert!(body.contains(r#""code":"not_found""#), "{path}: {body}");
    }
    assert_eq!(get_plain(server.address, "/healthz").0, 200);
}
