//! The demo server: the whole Talk API (HTTP + WebSocket) on one address,
//! by default `127.0.0.1:8080` on the SQLite database `talk.db`.
//!
//! ```text
//! cargo run --release --example server
//! cargo run --release --example server -- --help
//! ```
//!
//! It is the `talk-server` crate's program (`talk_server::main`), the same
//! as its `talk-server` binary.

fn main() -> std::process::ExitCode {
    talk_server::main()
}
