//! The cross-node notifier: a dedicated `LISTEN` connection plus a slow
//! poll of the safe head, reconnecting by itself.

use std::sync::Arc;
use std::time::Duration;

use talk_core::Notifier;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_postgres::{Client, Notification};

use crate::error::{ConnectError, Error};
use crate::{PostgresStore, Shared, sql};

/// How a [`PostgresNotifier`] listens, polls and reconnects.
#[derive(Debug, Clone)]
pub struct NotifierOptions {
    /// How often the safe head is read as a safety net, whatever the
    /// listener hears (default 1 s): the longest a commit can go unnoticed
    /// while the listening connection is down.
    pub poll_interval: Duration,
    /// The first wait before reconnecting the listener after a failed
    /// attempt (default 100 ms); it doubles on each failure.
    pub reconnect_min: Duration,
    /// The longest wait between reconnection attempts (default 5 s).
    pub reconnect_max: Duration,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
        }
    }
}

/// The [`Notifier`] for several nodes sharing one PostgreSQL database: every
/// node's [`watch`](Notifier::watch) sees the heads committed by every node.
///
/// - A dedicated connection runs `LISTEN talk_events`. Every
///   [`PostgresStore`] writer sends `NOTIFY talk_events, '<schema>:<head>'`
///   inside the transaction that commits a batch; PostgreSQL delivers it at
///   commit only, so it never announces what did not commit, and since
///   writers commit in `seq` order, every `seq` up to the announced head is
///   committed. Notifications for other schemas are ignored.
/// - Every [`poll_interval`](NotifierOptions::poll_interval), the safe head
///   is read through the store's pool, so a notification lost with a broken
///   connection delays a wake-up by at most that long.
/// - When the listening connection drops, it is made again at once, then
///   with a doubling backoff; the head is read again right after each
///   `LISTEN`, so nothing committed meanwhile is missed.
/// - [`publish`](Notifier::publish) feeds the local watch directly, so this
///   node's own commits wake its dispatcher without a round trip.
///
/// The announced head only grows. Dropping the notifier stops its task and
/// closes its connection.
pub struct PostgresNotifier {
    sender: Arc<watch::Sender<u64>>,
    task: JoinHandle<()>,
}

impl PostgresNotifier {
    /// Starts listening for the commits to `store`'s schema, with the
    /// default [`NotifierOptions`]. Answers once `LISTEN` is in place and the
    /// current head is announced.
    ///
    /// # Errors
    /// [`ConnectError::Connect`] when the listening connection cannot be made.
    pub async fn start(store: &PostgresStore) -> Result<Self, ConnectError> {
        Self::start_with(store, NotifierOptions::default()).await
    }

    /// As [`PostgresNotifier::start`], with `options`.
    ///
    /// # Errors
    /// [`ConnectError::Connect`] when the listening connection cannot be
    /// made; [`ConnectError::InvalidOptions`] for a zero interval.
    pub async fn start_with(store: &PostgresStore, options: NotifierOptions) -> Result<Self, ConnectError> {
        if options.poll_interval.is_zero() || options.reconnect_min.is_zero() {
            return Err(ConnectError::InvalidOptions("the poll interval and the reconnection wait must not be zero"));
        }
        let shared = Arc::clone(&store.shared);
        let sender = Arc::new(watch::Sender::new(0));
        let listener = listen(&shared, &sender).await.map_err(|error| match error {
            Error::Postgres(source) => ConnectError::Connect(source),
            other => ConnectError::Pool(Box::new(other)),
        })?;
        let task = tokio::spawn(run(shared, Arc::clone(&sender), options, listener));
        Ok(Self { sender, task })
    }
}

impl Drop for PostgresNotifier {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for PostgresNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresNotifier").field("head", &*self.sender.borrow()).finish_non_exhaustive()
    }
}

impl Notifier for PostgresNotifier {
    fn publish(&self, head: u64) {
        publish(&self.sender, head);
    }

    fn watch(&self) -> watch::Receiver<u64> {
        self.sender.subscribe()
    }
}

/// Moves the announced head up to `head`; a lower value changes nothing.
fn publish(sender: &watch::Sender<u64>, head: u64) {
    sender.send_if_modified(|current| {
        let newer = head > *current;
        if newer {
            *current = head;
        }
        newer
    });
}

/// The listening connection and the task driving it (which ends when the
/// connection does).
struct Listener {
    _client: Client,
    driver: JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Connects, `LISTEN`s, then reads and announces the head.
async fn listen(shared: &Shared, sender: &Arc<watch::Sender<u64>>) -> Result<Listener, Error> {
    let prefix = format!("{}:", shared.schema);
    let heads = Arc::clone(sender);
    let sink = Box::new(move |notification: Notification| {
        if notification.channel() != sql::CHANNEL {
            return;
        }
        if let Some(head) = notification.payload().strip_prefix(&prefix).and_then(|h| h.parse().ok()) {
            publish(&heads, head);
        }
    });
    let name = format!("{} listener", shared.application_name);
    let (client, driver) = shared.connector.connect(&name, Some(sink)).await?;
    let listener = Listener { _client: client, driver };
    listener._client.batch_execute(&format!("LISTEN {}", sql::CHANNEL)).await?;
    let head: i64 = listener._client.query_one(sql::HEAD, &[]).await?.try_get(0)?;
    publish(sender, u64::try_from(head).unwrap_or(0));
    Ok(listener)
}

/// Reads the safe head through the pool and announces it.
async fn poll_head(shared: &Shared, sender: &watch::Sender<u64>) -> Result<(), Error> {
    let client = shared.pool.get().await?;
    let statement = client.prepare_cached(sql::HEAD).await?;
    let head: i64 = client.query_one(&statement, &[]).await?.try_get(0)?;
    publish(sender, u64::try_from(head).unwrap_or(0));
    Ok(())
}

/// The notifier's task: keeps a listener, polls, reconnects.
async fn run(shared: Arc<Shared>, sender: Arc<watch::Sender<u64>>, options: NotifierOptions, listener: Listener) {
    let mut listener = Some(listener);
    let mut backoff = options.reconnect_min;
    let mut retry_at = Instant::now();
    let mut poll = tokio::time::interval_at(Instant::now() + options.poll_interval, options.poll_interval);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        match listener.as_mut() {
            Some(current) => {
                tokio::select! {
                    _ = &mut current.driver => {
                        // The connection ended: make it again at once.
                        listener = None;
                        retry_at = Instant::now();
                        backoff = options.reconnect_min;
                    }
                    _ = poll.tick() => {
                        // A failed (or slow) poll only waits for the next one.
                        let _ = tokio::time::timeout(options.poll_interval, poll_head(&shared, &sender)).await;
                    }
                }
            }
            None => {
                tokio::select! {
                    _ = tokio::time::sleep_until(retry_at) => match tokio::time::timeout(shared.call_timeout, listen(&shared, &sender)).await {
                        Ok(Ok(made)) => {
                            listener = Some(made);
                            backoff = options.reconnect_min;
                        }
                        Ok(Err(_)) | Err(_) => {
                            retry_at = Instant::now() + backoff;
                            backoff = (backoff * 2).min(options.reconnect_max.max(options.reconnect_min));
                        }
                    },
                    _ = poll.tick() => {
                        let _ = tokio::time::timeout(options.poll_interval, poll_head(&shared, &sender)).await;
                    }
                }
            }
        }
    }
}
