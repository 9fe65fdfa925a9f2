//! Every baseline of the suite, in one place. Each does the same logical
//! work as the path it is compared to, with nothing of Talk's in between.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// Fan-out with bare tokio channels: one producer pushes the same shared
/// bytes into `n` bounded channels, one task per receiver; answers the time
/// from the push until every receiver holds the bytes. This is the work the
/// dispatcher does for one event of a talk with `n` subscribers, without
/// reading the log or routing.
pub async fn channel_fan_out(n: usize, rounds: usize, bytes: Arc<str>) -> Vec<Duration> {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
    let mut senders = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, mut rx) = mpsc::channel::<Arc<str>>(1024);
        senders.push(tx);
        let done = done_tx.clone();
        tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                std::hint::black_box(&frame);
                let _ = done.send(());
            }
        });
    }
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for tx in &senders {
            let _ = tx.try_send(bytes.clone());
        }
        for _ in 0..n {
            let _ = done_rx.recv().await;
        }
        samples.push(start.elapsed());
    }
    samples
}
