//! One log line per request: method, path, status, latency. The path is
//! logged without its query string, so a `?token=` never reaches a log.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Logs each request at `info` under the target `talk_http::access`.
pub(crate) async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // `path()` has no query: tokens given as `?token=` stay out of the log.
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(
        target: "talk_http::access",
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}
