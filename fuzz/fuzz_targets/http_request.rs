//! Request decoding and validation: an arbitrary method, path (with `{T}`
//! and `{M}` standing for a real talk and message) and body, through the
//! whole router. Every answer is JSON, never a 5xx; every error is in the
//! one shape; a refused request writes nothing.
#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static WORLD: OnceLock<common::World> = OnceLock::new();

const METHODS: [&str; 5] = ["GET", "POST", "PATCH", "DELETE", "PUT"];

fuzz_target!(|data: &[u8]| {
    let world = WORLD.get_or_init(common::World::new);
    let Some((&selector, rest)) = data.split_first() else { return };
    let method = METHODS[usize::from(selector) % METHODS.len()];
    let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let (path, body) = rest.split_at(split);
    let body = body.get(1..).unwrap_or(&[]);
    let Ok(path) = std::str::from_utf8(path) else { return };
    let path =
        format!("/v1.0/{}", path.trim_start_matches('/')).replace("{T}", &world.talk).replace("{M}", &world.message);
    let before = world.head();
    let (status, json) = world.call(method, &path, body);
    if status == 0 {
        return; // Not a request http can even build (a bad URI).
    }
    assert!(status < 500, "{method} {path}: {status} {json}");
    if status >= 400 {
        let error = json.as_object().expect("an error object");
        assert_eq!(error.len(), 1, "{json}");
        assert!(json["error"]["code"].is_string() && json["error"]["message"].is_string(), "{json}");
        assert_eq!(world.head(), before, "{method} {path} was refused but wrote");
    }
});
