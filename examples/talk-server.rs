//! The demo server as a binary, `talk-server`, for tests that start it as
//! processes (the multi-node test). The program is the `server` example.

#[path = "server.rs"]
mod server;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    server::main()
}
