//! The `talk-server` binary: Talk's demo server (`talk-server --help`).

fn main() -> std::process::ExitCode {
    talk_server::main()
}
