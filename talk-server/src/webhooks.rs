//! The demo server's webhooks (`--webhook URL`): every event POSTed to each URL by a durable consumer of
//! its own, signed, in `seq` order, at least once (across restarts too), one
//! request in flight per URL, failures retried with capped exponential
//! backoff and jitter.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use sha2::Digest;
use talk_core::{Event, EventFormat, Hub};
use talk_http::WireFormat;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One request's limit, from connecting to the end of the answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The first pause after a failure, doubled each time up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Events read at a time.
const BATCH: usize = 100;

/// Where events go: an `http://` URL.
#[derive(Debug, Clone)]
pub struct Target {
    url: String,
    /// `host:port`, to connect to.
    address: String,
    /// The `Host` header.
    host: String,
    path: String,
}

/// Parses `--webhook URL`: `http://host[:port][/path][?query]`.
pub fn parse_target(url: &str) -> Result<Target, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(
            "only http:// URLs are supported (put a TLS-terminating proxy in front of an https receiver)".into()
        );
    }
    let authority = uri.authority().ok_or("the URL has no host")?;
    let address = format!("{}:{}", authority.host(), authority.port_u16().unwrap_or(80));
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    Ok(Target { url: url.to_owned(), address, host: authority.as_str().to_owned(), path })
}

/// The running senders, one per target.
pub struct Senders {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Senders {
    /// Stops every sender and lets its consumer go, so that the next start
    /// (or another node) takes over at once; a request under way is sent
    /// again then (at least once).
    pub async fn stop(self) {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts one sender per target, each with the durable consumer named
/// after its URL. Dropping the answer stops them too.
#[must_use = "dropping the senders stops them"]
pub fn start(hub: &Hub, targets: &[Target], secret: &str) -> Senders {
    let secret: Arc<[u8]> = secret.as_bytes().into();
    let (stop, stopped) = watch::channel(false);
    let tasks = targets
        .iter()
        .map(|target| tokio::spawn(send_until_stopped(hub.clone(), target.clone(), secret.clone(), stopped.clone())))
        .collect();
    Senders { stop, tasks }
}

/// The consumer of a URL: `webhook-` and the first 16 hex digits of its SHA-256.
fn consumer_name(url: &str) -> String {
    let digest = sha2::Sha256::digest(url.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("webhook-{hex}")
}

/// `sha256=<hex HMAC-SHA256 of body>`: the `X-Talk-Signature` header.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any key"));
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

async fn send_until_stopped(hub: Hub, target: Target, secret: Arc<[u8]>, mut stopped: watch::Receiver<bool>) {
    let name = consumer_name(&target.url);
    let mut consumer = loop {
        match hub.consumer(&name).await {
            Ok(consumer) => break consumer,
            Err(error) => {
                tracing::warn!(url = %target.url, %error, "webhook: the consumer is not available yet");
                tokio::select! {
                    () = tokio::time::sleep(MAX_BACKOFF) => {}
                    _ = stopped.changed() => return,
                }
            }
        }
    };
    tracing::info!(url = %target.url, consumer = %name, "webhook: sending every event");
    tokio::select! {
        () = send_forever(&mut consumer, &target, &secret) => {}
        _ = stopped.changed() => {}
    }
    if let Err(error) = consumer.release().await {
        tracing::warn!(url = %target.url, %error, "webhook: letting the consumer go failed; it goes when its lease runs out");
    }
}

async fn send_forever(consumer: &mut talk_core::Consumer, target: &Target, secret: &[u8]) -> ! {
    loop {
        let batch = match consumer.next(BATCH).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(url = %target.url, %error, "webhook: reading events failed");
                tokio::time::sleep(FIRST_BACKOFF).await;
                continue;
            }
        };
        let mut held = true;
        for event in &batch {
            if !deliver(target, secret, event, consumer).await {
                held = false; // another node took the consumer over: read again
                break;
            }
        }
        // One acknowledgement a batch: a crash before it sends the batch again.
        if let Some(last) = batch.last().filter(|_| held)
            && let Err(error) = consumer.ack(last.seq).await
        {
            tracing::warn!(url = %target.url, seq = last.seq, %error, "webhook: acknowledging failed");
        }
    }
}

/// Sends `event` until the receiver takes it: whether this handle still
/// holds the consumer.
async fn deliver(target: &Target, secret: &[u8], event: &Event, consumer: &mut talk_core::Consumer) -> bool {
    let body = match WireFormat.encode(event) {
        Ok(text) => Bytes::from(text.as_str().to_owned()),
        Err(error) => {
            tracing::error!(url = %target.url, %error, "webhook: an event could not be encoded; skipped");
            return true;
        }
    };
    let signed = signature(secret, &body);
    let mut backoff = FIRST_BACKOFF;
    loop {
        match tokio::time::timeout(REQUEST_TIMEOUT, post(target, body.clone(), event.seq, &signed)).await {
            Ok(Ok(status)) if status.is_success() => break,
            outcome => {
                let why = match outcome {
                    Ok(Ok(status)) => format!("answered {status}"),
                    Ok(Err(error)) => error,
                    Err(_) => format!("no answer within {REQUEST_TIMEOUT:?}"),
                };
                tracing::warn!(url = %target.url, seq = event.seq, %why, ?backoff, "webhook: delivery failed; retrying");
                // Keep the lease while retrying, and what was sent before.
                if consumer.ack(event.seq - 1).await.is_err() {
                    return false;
                }
                tokio::time::sleep(backoff.mul_f64(rand::random_range(0.5..=1.0))).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    true
}

/// One POST on a new connection: the answer's status.
async fn post(target: &Target, body: Bytes, seq: u64, signed: &str) -> Result<hyper::StatusCode, String> {
    let stream = TcpStream::connect(&target.address).await.map_err(|e| format!("connecting failed: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    let connection = tokio::spawn(connection);
    let request = Request::post(target.path.as_str())
        .header(hyper::header::HOST, target.host.as_str())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header("x-talk-delivery", seq.to_string())
        .header("x-talk-signature", signed)
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| format!("sending failed: {e}"))?;
    let status = response.status();
    // Read the answer to its end, so that the receiver is not cut off.
    let _ = response.into_body().collect().await;
    connection.abort();
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_http_urls() {
        let target = parse_target("http://127.0.0.1:9000/hooks?x=1").expect("valid");
        assert_eq!(
            (target.address.as_str(), target.host.as_str(), target.path.as_str()),
            ("127.0.0.1:9000", "127.0.0.1:9000", "/hooks?x=1")
        );
        assert_eq!(parse_target("http://example.com").expect("valid").address, "example.com:80");
        assert!(parse_target("https://example.com/").is_err());
        assert!(parse_target("not a url").is_err());
    }

    #[test]
    fn the_signature_is_the_hex_hmac_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn consumer_names_are_valid_and_one_per_url() {
        let name = consumer_name("http://a/");
        assert_eq!(name.len(), "webhook-".len() + 16);
        assert_ne!(name, consumer_name("http://b/"));
    }
}
