//! The cross-node notifier: a dedicated `LISTEN` connection plus a slow
//! poll of the safe head, reconnecting by itself; and the nodes' signal bus
//! (typing and presence) on a channel of its own.

use std::sync::Arc;
use std::time::Duration;

use talk_core::Notifier;
use talk_core::signal::{SignalBus, SignalMessage};
use tokio::sync::{broadcast, mpsc, watch};
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
///
/// It is the nodes' [`SignalBus`] too (give it to
/// [`HubBuilder::signal_bus`](talk_core::HubBuilder::signal_bus)): typing
/// and presence travel on the `talk_signals` channel, never in a
/// transaction and never stored. A node sends what it publishes in batches
/// (as many messages as are waiting, up to [`SIGNAL_PAYLOAD_BYTES`] of JSON
/// in one `NOTIFY`, under PostgreSQL's 8 000-byte payload limit), hears it
/// at once itself, and ignores its own batches when they come back. Best
/// effort, like the bus: a batch that finds the database unreachable, or
/// more than [`SIGNAL_QUEUE`] messages waiting, is dropped.
pub struct PostgresNotifier {
    sender: Arc<watch::Sender<u64>>,
    task: JoinHandle<()>,
    signals: broadcast::Sender<SignalMessage>,
    outgoing: mpsc::Sender<SignalMessage>,
    sending: JoinHandle<()>,
}

/// The most bytes of JSON in one `NOTIFY` of signals.
pub const SIGNAL_PAYLOAD_BYTES: usize = 7_000;
/// The most signal messages waiting to be sent.
pub const SIGNAL_QUEUE: usize = 4_096;

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
        let signals = broadcast::Sender::new(SIGNAL_QUEUE);
        let hearing = Hearing { heads: Arc::clone(&sender), signals: signals.clone(), bus: uuid::Uuid::now_v7() };
        let listener = listen(&shared, &hearing).await.map_err(|error| match error {
            Error::Postgres(source) => ConnectError::Connect(source),
            other => ConnectError::Pool(Box::new(other)),
        })?;
        let (outgoing, queue) = mpsc::channel(SIGNAL_QUEUE);
        let sending = tokio::spawn(send_signals(Arc::clone(&shared), hearing.bus, queue));
        let task = tokio::spawn(run(shared, hearing, options, listener));
        Ok(Self { sender, task, signals, outgoing, sending })
    }
}

impl Drop for PostgresNotifier {
    fn drop(&mut self) {
        self.task.abort();
        self.sending.abort();
    }
}

impl SignalBus for PostgresNotifier {
    fn publish(&self, message: SignalMessage) {
        // This node hears it at once; the others through the channel.
        let _ = self.signals.send(message.clone());
        let _ = self.outgoing.try_send(message);
    }

    fn receive(&self) -> broadcast::Receiver<SignalMessage> {
        self.signals.subscribe()
    }
}

/// Where the listener puts what it hears.
#[derive(Clone)]
struct Hearing {
    heads: Arc<watch::Sender<u64>>,
    signals: broadcast::Sender<SignalMessage>,
    /// This notifier's id in signal payloads, to skip its own.
    bus: uuid::Uuid,
}

/// Sends the signals waiting, in batches: `<schema>:<bus>:<JSON array>`.
async fn send_signals(shared: Arc<Shared>, bus: uuid::Uuid, mut queue: mpsc::Receiver<SignalMessage>) {
    let prefix = format!("{}:{bus}:", shared.schema);
    let mut held: Option<String> = None;
    loop {
        let first = match held.take() {
            Some(first) => first,
            None => match queue.recv().await {
                Some(message) => serde_json::to_string(&message).unwrap_or_default(),
                None => return,
            },
        };
        let mut payload = format!("{prefix}[{first}");
        while let Ok(message) = queue.try_recv() {
            let json = serde_json::to_string(&message).unwrap_or_default();
            if payload.len() + json.len() + 2 > SIGNAL_PAYLOAD_BYTES {
                held = Some(json);
                break;
            }
            payload.push(',');
            payload.push_str(&json);
        }
        payload.push(']');
        if payload.len() > SIGNAL_PAYLOAD_BYTES + prefix.len() {
            continue;
        }
        // Best effort: a batch the database does not take is dropped.
        let _ = tokio::time::timeout(shared.call_timeout, notify_signals(&shared, &payload)).await;
    }
}

async fn notify_signals(shared: &Shared, payload: &str) -> Result<(), Error> {
    let client = shared.pool.get().await?;
    let statement = client.prepare_cached("SELECT pg_notify($1, $2)").await?;
    client.execute(&statement, &[&sql::SIGNAL_CHANNEL, &payload]).await?;
    Ok(())
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
async fn listen(shared: &Shared, hearing: &Hearing) -> Result<Listener, Error> {
    let prefix = format!("{}:", shared.schema);
    let own = format!("{}:", hearing.bus);
    let heard = hearing.clone();
    let sink = Box::new(move |notification: Notification| {
        let Some(payload) = notification.payload().strip_prefix(&prefix) else { return };
        match notification.channel() {
            sql::CHANNEL => {
                if let Ok(head) = payload.parse() {
                    publish(&heard.heads, head);
                }
            }
            sql::SIGNAL_CHANNEL if !payload.starts_with(&own) => {
                // Another node's batch: `<bus>:<JSON array>`.
                let batch = payload.split_once(':').map(|(_, json)| json).unwrap_or_default();
                for message in serde_json::from_str::<Vec<SignalMessage>>(batch).unwrap_or_default() {
                    let _ = heard.signals.send(message);
                }
            }
            _ => {}
        }
    });
    let name = format!("{} listener", shared.application_name);
    let (client, driver) = shared.connector.connect(&name, Some(sink)).await?;
    let listener = Listener { _client: client, driver };
    listener._client.batch_execute(&format!("LISTEN {}; LISTEN {}", sql::CHANNEL, sql::SIGNAL_CHANNEL)).await?;
    let head: i64 = listener._client.query_one(sql::HEAD, &[]).await?.try_get(0)?;
    publish(&hearing.heads, u64::try_from(head).unwrap_or(0));
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
async fn run(shared: Arc<Shared>, hearing: Hearing, options: NotifierOptions, listener: Listener) {
    let sender = Arc::clone(&hearing.heads);
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
                    _ = tokio::time::sleep_until(retry_at) => match tokio::time::timeout(shared.call_timeout, listen(&shared, &hearing)).await {
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
