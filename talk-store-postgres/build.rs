//! Compiles the PostgreSQL test suites only when `TALK_TEST_POSTGRES_URL`
//! names a server (`cfg(talk_postgres_tests)`); without it, each suite is one
//! test that says it was skipped. The library itself does not change.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=TALK_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(talk_postgres_tests)");
    if std::env::var("TALK_TEST_POSTGRES_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=talk_postgres_tests");
    }
}
