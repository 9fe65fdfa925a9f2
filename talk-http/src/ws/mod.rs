//! `GET /v1.0/ws`: live events over a WebSocket.
//!
//! One connection is three kinds of task:
//!
//! - the **reader** (the connection's own task) reads client frames,
//!   answers `subscribe` and `unsubscribe`, and owns the subscriptions;
//! - one **forwarder** per subscription pulls from its
//!   [`Subscription`](talk_core::Subscription) and pushes frames into the
//!   connection's one bounded outbound queue;
//! - the **writer** owns the socket's sending half: it writes the queue,
//!   pings, and sends the close frame when a subscription lags.
//!
//! Typing and presence frames are ephemeral: they go through a second,
//! small queue that the writer takes only when no event frame waits, and a
//! typing frame that finds it full is dropped, so that a storm of typing
//! never delays an event. Presence frames wait for room instead (the Hub's
//! watch keeps the latest per agent meanwhile). The connection holds a
//! presence [`Connection`](talk_core::Connection) for its life: the agent
//! is online while it has a socket open.
//!
//! Memory per connection is bounded: the outbound queue holds at most
//! [`Options::outbound_frames`](crate::Options::outbound_frames) frames, and each
//! subscription's queue in the Hub is bounded too. A client that does not
//! keep up fills both; the Hub then ends the subscription as lagged and the
//! socket closes with `4008 lagged`. The count of them is bounded too: a
//! socket holds at most
//! [`Options::max_subscriptions_per_socket`](crate::Options::max_subscriptions_per_socket)
//! single-talk subscriptions, and an agent at most
//! [`Options::max_sockets_per_agent`](crate::Options::max_sockets_per_agent)
//! sockets on this node (`slots`).
//!
//! And it is small while idle: what the tasks tell each other besides
//! frames (the close frame, the subscriptions that ended by themselves,
//! whether the peer was heard) sits in one small shared `Signals`, not in
//! channels, each of which would hold a block of 32 slots (1–2 KiB) from the
//! start for a message or two in the connection's life.

mod slots;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use talk_core::{AgentId, Delivery, EndReason, Hub, MessageId, PresenceWatch, Scope, Subscription, TalkId};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

use crate::auth::Caller;
use crate::dto::{ClientFrame, ControlFrame, ErrorBody, PresenceDto, UnsubscribeReason};
use crate::encoder::WireFormat;
use crate::error::ApiError;
use crate::extract::{Document, NoQuery, parse_json};
use crate::rate_limit::Limiter;
use crate::state::{AppState, Options};

use self::slots::SocketSlot;
pub(crate) use self::slots::SocketSlots;

/// Close code of a connection whose subscription could not keep up.
pub(crate) const CLOSE_LAGGED: u16 = 4008;
/// Close code when the store failed under a subscription (resubscribe with `since`).
const CLOSE_UNAVAILABLE: u16 = 1011;
/// Close code when an event could not be encoded.
const CLOSE_INTERNAL: u16 = 1011;
/// Close code when the Hub shuts down.
const CLOSE_GOING_AWAY: u16 = 1001;
/// Typing and presence frames a connection holds unsent.
const EPHEMERAL_FRAMES: usize = 64;

/// The frames a writer feeds before the socket is written, in bytes: the
/// queued frames of one wake-up go out in one write (see [`write`]), up to
/// this much; a lone frame is written at once by the flush that follows it.
const WRITE_BUFFER: usize = 8 * 1024;

/// Opens a WebSocket for live events.
#[utoipa::path(
    get,
    path = "/v1.0/ws",
    tag = "events",
    description = "Upgrades to a WebSocket. Client frames: `ClientFrame`; server frames: `EventFrame` and `ControlFrame`.",
    responses(
        (status = 101, description = "Switching protocols: the WebSocket is open."),
        (status = 400, description = "`invalid_request`: not a WebSocket upgrade, or an unknown query parameter.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no upgrade.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the agent has as many WebSockets open on this server as it may (or is over its rate limit); no upgrade.", body = ErrorBody),
    )
)]
pub(crate) async fn websocket(
    State(state): State<AppState>,
    Caller(agent): Caller,
    _: NoQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::invalid_request(format!("this endpoint takes a WebSocket upgrade: {}", rejection.body_text()))
    })?;
    // Held for the socket's life; given back if the upgrade never completes.
    let slot = state.sockets.take(&agent)?;
    let options = state.options.clone();
    let limit = options.max_client_message;
    Ok(upgrade
        .read_buffer_size(4096)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| run(socket, state.hub, agent, slot, options, state.limiter)))
}

fn control(frame: &ControlFrame) -> Message {
    Message::Text(control_text(frame))
}

fn control_text(frame: &ControlFrame) -> Utf8Bytes {
    // Plain data with string keys: serialising cannot fail.
    serde_json::to_string(frame).unwrap_or_default().into()
}

/// Pushes the presence a watch gives into the connection's ephemeral queue.
async fn forward_presence(watch: Arc<PresenceWatch>, ephemeral: mpsc::Sender<Message>) {
    loop {
        let presence = watch.next().await;
        let frame = ControlFrame::Presence(PresenceDto::from(&presence));
        if ephemeral.send(control(&frame)).await.is_err() {
            return;
        }
    }
}

fn error_frame(error: &ApiError) -> Message {
    control(&ControlFrame::Error { code: error.code().to_owned(), message: error.message().to_owned() })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a connection's tasks tell each other besides frames.
#[derive(Default)]
struct Signals {
    /// The close frame the writer is to send; the first one asked for wins.
    close: Mutex<Option<CloseFrame>>,
    /// Wakes the writer when `close` is set.
    closing: Notify,
    /// Whether `close` is set: read by the writer before each frame, so
    /// that it polls `closing` only while it waits.
    close_asked: AtomicBool,
    /// Subscriptions that ended by themselves, as `(scope, generation)`:
    /// the reader forgets them before it handles the next client frame.
    ended: Mutex<Vec<(Scope, u64)>>,
    /// Whether anything arrived from the peer since the last ping.
    heard: AtomicBool,
}

/// What a forwarder uses.
#[derive(Clone)]
struct Outlets {
    out: mpsc::Sender<Message>,
    /// Typing and presence frames: taken after `out`.
    ephemeral: mpsc::Sender<Message>,
    signals: Arc<Signals>,
}

impl Outlets {
    fn close(&self, code: u16, reason: &'static str) {
        // The first reason wins; the writer closes once.
        let mut close = lock(&self.signals.close);
        if close.is_none() {
            *close = Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) });
            drop(close);
            self.signals.close_asked.store(true, Ordering::Release);
            self.signals.closing.notify_one();
        }
    }
}

/// Pushes one subscription's items into the connection's queue, in order.
async fn forward(mut subscription: Subscription, scope: Scope, generation: u64, outlets: Outlets) {
    while let Some(item) = subscription.next().await {
        let frame = match item {
            // Encoded once per event, by the first socket that sends it.
            Delivery::Event(shared) => match shared.encoded(&WireFormat) {
                Ok(text) => Message::Text(text),
                // Counted and logged by the format: close rather than skip
                // the event; the client resumes before it.
                Err(_) => return outlets.close(CLOSE_INTERNAL, "internal"),
            },
            Delivery::Typing(shared) => {
                // Encoded once per frame; dropped when the queue is full.
                let text = shared.encoded(|typing| control_text(&ControlFrame::from(typing)));
                let _ = outlets.ephemeral.try_send(Message::Text(text));
                continue;
            }
            Delivery::Subscribed { seq } => control(&ControlFrame::Subscribed { talk_id: scope, seq }),
            Delivery::ResyncRequired { seq } => control(&ControlFrame::ResyncRequired { talk_id: scope, seq }),
            Delivery::Ended(EndReason::Left) => {
                // Forget the subscription before the client can hear it ended,
                // so that a subscribe right after is not refused.
                lock(&outlets.signals.ended).push((scope, generation));
                let frame = ControlFrame::Unsubscribed { talk_id: scope, reason: UnsubscribeReason::Left };
                let _ = outlets.out.send(control(&frame)).await;
                return;
            }
            Delivery::Ended(EndReason::Lagged { .. }) => return outlets.close(CLOSE_LAGGED, "lagged"),
            Delivery::Ended(EndReason::Unavailable { .. }) => return outlets.close(CLOSE_UNAVAILABLE, "unavailable"),
            Delivery::Ended(EndReason::Shutdown) => return outlets.close(CLOSE_GOING_AWAY, "shutdown"),
        };
        // Straight into the queue when it has room (no await); else wait
        // for the writer to make some.
        let frame = match outlets.out.try_send(frame) {
            Ok(()) => continue,
            Err(mpsc::error::TrySendError::Full(frame)) => frame,
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        };
        if outlets.out.send(frame).await.is_err() {
            return;
        }
    }
}

/// How the writer ended.
enum WriterEnd {
    /// It sent a close frame: wait a little for the client's answer.
    Closed,
    /// The peer is gone, dead or too slow to take a frame: drop it.
    Dropped,
}

/// Writes the outbound queue, pings, and closes. Whatever is queued when
/// the writer wakes goes out together: each frame is fed to the socket's
/// write buffer, then one flush writes them all.
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Message>,
    mut ephemeral: mpsc::Receiver<Message>,
    signals: Arc<Signals>,
    interval: Duration,
) -> WriterEnd {
    let patience = interval * 2;
    let mut ping = tokio::time::interval_at(Instant::now() + interval, interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ping_outstanding = false;
    // Waited on from the start, not made anew per frame: a close asked for
    // before it is first polled is kept by `Notify` as a permit.
    let closing = signals.closing.notified();
    tokio::pin!(closing);
    loop {
        let message = tokio::select! {
            biased;
            // A queued frame first while no close is asked: polling
            // `closing` (a lock) for every frame costs more than the frame's
            // own queue hop.
            message = out.recv(), if !signals.close_asked.load(Ordering::Acquire) => match message {
                Some(message) => message,
                None => return WriterEnd::Dropped,
            },
            () = &mut closing => {
                let frame = lock(&signals.close).take();
                let _ = timeout(patience, sink.send(Message::Close(frame))).await;
                return WriterEnd::Closed;
            }
            _ = ping.tick() => {
                // Nothing heard from the peer since the last ping: it is gone.
                if ping_outstanding && !signals.heard.load(Ordering::Acquire) {
                    return WriterEnd::Dropped;
                }
                signals.heard.store(false, Ordering::Release);
                ping_outstanding = true;
                Message::Ping(Bytes::new())
            }
            // Typing and presence only when no event frame waits.
            Some(message) = ephemeral.recv(), if !signals.close_asked.load(Ordering::Acquire) => message,
        };
        let written = timeout(patience, async {
            sink.feed(message).await?;
            while let Ok(queued) = out.try_recv() {
                sink.feed(queued).await?;
            }
            while let Ok(queued) = ephemeral.try_recv() {
                sink.feed(queued).await?;
            }
            sink.flush().await
        });
        match written.await {
            Ok(Ok(())) => {}
            _ => return WriterEnd::Dropped,
        }
    }
}

/// The reader's state: the subscriptions of the connection.
struct Connection {
    hub: Hub,
    agent: AgentId,
    outlets: Outlets,
    subscriptions: HashMap<Scope, (u64, JoinHandle<()>)>,
    generation: u64,
    /// The most single-talk subscriptions the connection may hold.
    max_subscriptions: usize,
    /// The per-agent rate limit, which `subscribe` frames count against.
    limiter: Option<Arc<Limiter>>,
    /// The presence this connection follows (`presence_subscribe`), and
    /// the task that forwards it.
    presence: Option<(Arc<PresenceWatch>, JoinHandle<()>)>,
}

impl Connection {
    async fn reply(&self, message: Message) {
        let _ = self.outlets.out.send(message).await;
    }

    /// Handles one client message; answers whether to go on reading.
    async fn on_message(&mut self, message: Message) {
        match message {
            Message::Text(text) => match parse_json::<ClientFrame>(text.as_bytes(), Document::Frame) {
                Ok(ClientFrame::Subscribe { talk_id, since }) => self.subscribe(talk_id, since).await,
                Ok(ClientFrame::Unsubscribe { talk_id }) => self.unsubscribe(talk_id).await,
                Ok(ClientFrame::Typing { talk_id, parent_id }) => self.typing(talk_id, parent_id, true).await,
                Ok(ClientFrame::TypingStop { talk_id, parent_id }) => self.typing(talk_id, parent_id, false).await,
                Ok(ClientFrame::PresenceSubscribe { agent_ids }) => self.presence_subscribe(&agent_ids).await,
                Err(error) => self.reply(error_frame(&error)).await,
            },
            Message::Binary(_) => {
                self.reply(error_frame(&ApiError::invalid_request("frames must be JSON text, not binary"))).await;
            }
            // Pings are answered by the socket; pongs and closes need nothing here.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => {}
        }
    }

    async fn subscribe(&mut self, scope: Scope, since: Option<u64>) {
        if let Some(Err(error)) = self.limiter.as_ref().map(|limiter| limiter.check(&self.agent)) {
            let message = format!("{}; retry in {} s", error.message(), error.retry_after().unwrap_or(1));
            return self.reply(control(&ControlFrame::Error { code: error.code().to_owned(), message })).await;
        }
        // One "*" or single-talk subscriptions, each talk once: no event
        // is ever delivered twice on one socket.
        let taken = match scope {
            Scope::All => self.subscriptions.keys().next().copied(),
            Scope::Talk(_) => [scope, Scope::All].into_iter().find(|s| self.subscriptions.contains_key(s)),
        };
        if let Some(held) = taken {
            return self.reply(error_frame(&ApiError::already_subscribed(held))).await;
        }
        // Before the Hub is asked: a socket at its cap learns it whatever
        // the talk, and costs no read.
        if matches!(scope, Scope::Talk(_)) && self.subscriptions.len() >= self.max_subscriptions {
            return self.reply(error_frame(&ApiError::too_many_subscriptions(self.max_subscriptions))).await;
        }
        match self.hub.subscribe(&self.agent, scope, since).await {
            Ok(subscription) => {
                self.generation += 1;
                let generation = self.generation;
                let task = tokio::spawn(forward(subscription, scope, generation, self.outlets.clone()));
                self.subscriptions.insert(scope, (generation, task));
            }
            Err(error) => self.reply(error_frame(&ApiError::from(error))).await,
        }
    }

    async fn unsubscribe(&mut self, scope: Scope) {
        // Not subscribed: a repeat, answered the same way.
        if let Some((_, task)) = self.subscriptions.remove(&scope) {
            task.abort();
            // Wait until the forwarder is gone, so that none of its frames
            // follows the answer.
            let _ = task.await;
        }
        let frame = ControlFrame::Unsubscribed { talk_id: scope, reason: UnsubscribeReason::Request };
        self.reply(control(&frame)).await;
    }

    /// Typing (or its stop) in a talk that a subscription of this socket
    /// covers: the Hub answers from its routes, never from the store.
    async fn typing(&mut self, talk: TalkId, parent: Option<MessageId>, typing: bool) {
        let covered = [Scope::All, Scope::Talk(talk)].iter().any(|scope| self.subscriptions.contains_key(scope));
        if !covered {
            let error = ApiError::invalid_request(format!(
                "talk_id: typing needs a subscription covering talk {talk} on this socket (subscribe to it or to \"*\")"
            ));
            return self.reply(error_frame(&error)).await;
        }
        if let Err(error) = self.hub.typing(&self.agent, talk, parent, typing).await {
            self.reply(error_frame(&ApiError::from(error))).await;
        }
    }

    /// Follows the presence of `agents` instead of those followed before.
    async fn presence_subscribe(&mut self, agents: &[AgentId]) {
        let watch = match &self.presence {
            Some((watch, _)) => watch.clone(),
            None => Arc::new(self.hub.presence_watch()),
        };
        if let Err(error) = self.hub.watch_presence(&self.agent, &watch, agents).await {
            return self.reply(error_frame(&ApiError::from(error))).await;
        }
        if self.presence.is_none() {
            let task = tokio::spawn(forward_presence(watch.clone(), self.outlets.ephemeral.clone()));
            self.presence = Some((watch, task));
        }
    }

    /// Forgets the subscriptions whose forwarders ended by themselves.
    fn forget_ended(&mut self) {
        let ended = std::mem::take(&mut *lock(&self.outlets.signals.ended));
        for (scope, generation) in ended {
            if self.subscriptions.get(&scope).is_some_and(|(current, _)| *current == generation) {
                self.subscriptions.remove(&scope);
            }
        }
    }

    fn stop(&mut self) {
        for (_, (_, task)) in self.subscriptions.drain() {
            task.abort();
        }
        if let Some((_, task)) = self.presence.take() {
            task.abort();
        }
    }
}

/// Serves one WebSocket until either side ends it.
async fn run(
    socket: WebSocket,
    hub: Hub,
    agent: AgentId,
    slot: SocketSlot,
    options: Arc<Options>,
    limiter: Option<Arc<Limiter>>,
) {
    let (sink, mut stream) = socket.split();
    let (out, out_rx) = mpsc::channel(options.outbound_frames);
    let (ephemeral, ephemeral_rx) = mpsc::channel(EPHEMERAL_FRAMES);
    let signals = Arc::new(Signals { heard: AtomicBool::new(true), ..Signals::default() });
    let mut writer = tokio::spawn(write(sink, out_rx, ephemeral_rx, signals.clone(), options.ping_interval));
    // The agent is online while it holds this.
    let online = hub.connect(&agent);
    let mut connection = Connection {
        hub,
        agent,
        outlets: Outlets { out, ephemeral, signals: signals.clone() },
        subscriptions: HashMap::new(),
        generation: 0,
        max_subscriptions: options.max_subscriptions_per_socket,
        limiter,
        presence: None,
    };
    let writer_end = loop {
        tokio::select! {
            biased;
            end = &mut writer => break end.ok(),
            message = stream.next() => match message {
                Some(Ok(message)) => {
                    signals.heard.store(true, Ordering::Release);
                    connection.forget_ended();
                    // Boxed for the time of one frame: held inline, its state
                    // (that of a subscribe, ~0.8 KiB) would sit in every idle
                    // connection's task.
                    Box::pin(connection.on_message(message)).await;
                }
                // The peer closed (its close was answered) or the socket failed.
                Some(Err(_)) | None => break None,
            },
        }
    };
    connection.stop();
    match writer_end {
        Some(WriterEnd::Closed) => {
            // Read until the client answers the close, a little while at most.
            let _ = timeout(options.close_grace, drain(&mut stream)).await;
        }
        Some(WriterEnd::Dropped) => {}
        None => writer.abort(),
    }
    // The socket is closed: its slot is free, and the agent's presence knows.
    drop(online);
    drop(slot);
}

async fn drain(stream: &mut SplitStream<WebSocket>) {
    while let Some(Ok(_)) = stream.next().await {}
}
