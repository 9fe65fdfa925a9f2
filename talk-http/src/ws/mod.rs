//! `GET /v1.0/ws`: live events over a WebSocket.
//!
//! One connection is two tasks:
//!
//! - the **reader** (the connection's own task) reads client frames and
//!   answers them: it asks the Hub for subscriptions and hands each to the
//!   writer, and keeps which scopes are held;
//! - the **writer** owns the socket's sending half and the subscriptions:
//!   it polls them itself (no task between a subscription and its socket,
//!   so a delivered event costs one wake-up), writes what they give and the
//!   reader's answers, pings, and sends the close frame when a subscription
//!   lags.
//!
//! Typing frames come from the subscriptions, which give them only when no
//! event waits; a typing frame the Hub finds no room for is dropped, so
//! that a storm of typing never delays an event. Presence frames come from
//! a small task that follows the connection's presence watch, through the
//! reader's queue (the Hub's watch keeps the latest per agent while it is
//! full). The connection holds a presence
//! [`Connection`](talk_core::Connection) for its life: the agent is online
//! while it has a socket open.
//!
//! Memory per connection is bounded: the writer reads a subscription only
//! when the socket took what came before, so a client that does not keep
//! up fills its subscriptions' queues in the Hub, which are bounded; the
//! Hub then ends the subscription as lagged and the socket closes with
//! `4008 lagged`. The reader's answers and the presence frames wait in a
//! queue of at most
//! [`Options::outbound_frames`](crate::Options::outbound_frames) frames.
//! The count of subscriptions is bounded too: a socket holds at most
//! [`Options::max_subscriptions_per_socket`](crate::Options::max_subscriptions_per_socket)
//! single-talk subscriptions, and an agent at most
//! [`Options::max_sockets_per_agent`](crate::Options::max_sockets_per_agent)
//! sockets on this node (`slots`).
//!
//! And it is small while idle: what the tasks tell each other besides
//! frames (the subscriptions that ended by themselves, whether the peer was
//! heard) sits in one small shared `Signals`, not in channels, each of
//! which would hold a block of 32 slots (1–2 KiB) from the start for a
//! message or two in the connection's life.

mod live;
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
use futures::{FutureExt, SinkExt, StreamExt};
use talk_core::{AgentId, Delivery, EndReason, Hub, MessageId, PresenceWatch, Scope, TalkId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

use crate::auth::Caller;
use crate::dto::{ClientFrame, ControlFrame, ErrorBody, PresenceDto, UnsubscribeReason};
use crate::encoder::WireFormat;
use crate::error::ApiError;
use crate::extract::{Document, NoQuery, parse_json};
use crate::rate_limit::Limiter;
use crate::state::{AppState, Options};

use self::live::{Item, Live, Served};
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
/// The most frames a writer feeds before it flushes.
const BATCH_FRAMES: usize = 64;

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

/// Hands the presence a watch gives to the writer.
async fn forward_presence(watch: Arc<PresenceWatch>, outbound: mpsc::Sender<Outbound>) {
    loop {
        let update = watch.next().await;
        let frame = ControlFrame::Presence(PresenceDto::from(&update));
        if outbound.send(Outbound::Frame(control(&frame))).await.is_err() {
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
    /// Subscriptions that ended by themselves, as `(scope, generation)`:
    /// the reader forgets them before it handles the next client frame.
    ended: Mutex<Vec<(Scope, u64)>>,
    /// Whether anything arrived from the peer since the last ping.
    heard: AtomicBool,
}

/// What the reader hands the writer, in order.
enum Outbound {
    /// An answer to a client frame, or a presence frame.
    Frame(Message),
    /// A subscription to serve from now on. Boxed: the queue's slots are
    /// as large as its largest item, and a subscription is large.
    Subscribe(Box<Served>),
    /// The end of the subscription to `scope` (if it is still served), then
    /// the `unsubscribed` answer: none of its frames follows the answer.
    Unsubscribe(Scope),
}

/// What the writer does next.
enum Step {
    /// Sends a frame.
    Send(Message),
    /// Nothing to send (a subscription ended, an unsubscribe of nothing).
    Skip,
    /// Sends this close frame and stops.
    Close(CloseFrame),
}

fn close(code: u16, reason: &'static str) -> Step {
    Step::Close(CloseFrame { code, reason: Utf8Bytes::from_static(reason) })
}

/// Where the writer's frames come from.
struct Sources {
    /// The subscriptions.
    live: Live,
    outbound: mpsc::Receiver<Outbound>,
    signals: Arc<Signals>,
}

impl Sources {
    /// Waits for the next step; `None` when the reader is gone.
    async fn next(&mut self) -> Option<Step> {
        enum Ready {
            Live(Item),
            Outbound(Option<Outbound>),
        }
        // The reader's first: a flood of events never holds back an answer.
        let ready = tokio::select! {
            biased;
            outbound = self.outbound.recv() => Ready::Outbound(outbound),
            Some(item) = self.live.next(), if !self.live.is_empty() => Ready::Live(item),
        };
        Some(match ready {
            Ready::Live(item) => self.delivery_step(item),
            Ready::Outbound(outbound) => self.outbound_step(outbound?),
        })
    }

    /// The next step that is ready now, without waiting: the events first
    /// (the reader's are taken at least once a wake-up by `next`).
    fn ready(&mut self) -> Option<Step> {
        if let Some(Some(item)) = self.live.next().now_or_never() {
            return Some(self.delivery_step(item));
        }
        self.outbound.try_recv().ok().map(|outbound| self.outbound_step(outbound))
    }

    fn outbound_step(&mut self, outbound: Outbound) -> Step {
        match outbound {
            Outbound::Frame(message) => Step::Send(message),
            Outbound::Subscribe(served) => {
                self.live.push(*served);
                Step::Skip
            }
            Outbound::Unsubscribe(scope) => {
                // Not served (a repeat): answered the same way.
                self.live.remove(scope);
                let frame = ControlFrame::Unsubscribed { talk_id: scope, reason: UnsubscribeReason::Request };
                Step::Send(control(&frame))
            }
        }
    }

    fn delivery_step(&mut self, (scope, generation, delivery): Item) -> Step {
        let frame = match delivery {
            // Encoded once per event, by the first socket that sends it.
            Delivery::Event(shared) => match shared.encoded(&WireFormat) {
                Ok(text) => return Step::Send(Message::Text(text)),
                // Counted and logged by the format: close rather than skip
                // the event; the client resumes before it.
                Err(_) => return close(CLOSE_INTERNAL, "internal"),
            },
            // Encoded once per frame.
            Delivery::Typing(shared) => {
                return Step::Send(Message::Text(shared.encoded(|typing| control_text(&ControlFrame::from(typing)))));
            }
            Delivery::Subscribed { seq } => ControlFrame::Subscribed { talk_id: scope, seq },
            Delivery::ResyncRequired { seq } => ControlFrame::ResyncRequired { talk_id: scope, seq },
            Delivery::Ended(EndReason::Left) => {
                // Forget the subscription before the client can hear it ended,
                // so that a subscribe right after is not refused.
                lock(&self.signals.ended).push((scope, generation));
                ControlFrame::Unsubscribed { talk_id: scope, reason: UnsubscribeReason::Left }
            }
            Delivery::Ended(EndReason::Lagged { .. }) => return close(CLOSE_LAGGED, "lagged"),
            Delivery::Ended(EndReason::Unavailable { .. }) => return close(CLOSE_UNAVAILABLE, "unavailable"),
            Delivery::Ended(EndReason::Shutdown) => return close(CLOSE_GOING_AWAY, "shutdown"),
        };
        Step::Send(control(&frame))
    }
}

/// How the writer ended.
enum WriterEnd {
    /// It sent a close frame: wait a little for the client's answer.
    Closed,
    /// The peer is gone, dead or too slow to take a frame: drop it.
    Dropped,
}

/// Writes what the sources give, pings, and closes. Whatever is ready when
/// the writer wakes goes out together: each frame is fed to the socket's
/// write buffer, then one flush writes them all.
async fn write(mut sink: SplitSink<WebSocket, Message>, mut sources: Sources, interval: Duration) -> WriterEnd {
    let patience = interval * 2;
    let mut ping = tokio::time::interval_at(Instant::now() + interval, interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ping_outstanding = false;
    loop {
        let first = tokio::select! {
            biased;
            step = sources.next() => match step {
                Some(step) => step,
                None => return WriterEnd::Dropped,
            },
            _ = ping.tick() => {
                // Nothing heard from the peer since the last ping: it is gone.
                if ping_outstanding && !sources.signals.heard.load(Ordering::Acquire) {
                    return WriterEnd::Dropped;
                }
                sources.signals.heard.store(false, Ordering::Release);
                ping_outstanding = true;
                Step::Send(Message::Ping(Bytes::new()))
            }
        };
        let written = timeout(patience, async {
            let mut step = Some(first);
            let mut fed = 0;
            while let Some(next) = step {
                match next {
                    Step::Send(message) => {
                        sink.feed(message).await?;
                        fed += 1;
                    }
                    Step::Skip => {}
                    Step::Close(frame) => {
                        sink.flush().await?;
                        return Ok(Some(frame));
                    }
                }
                step = if fed < BATCH_FRAMES { sources.ready() } else { None };
            }
            sink.flush().await.map(|()| None)
        });
        match written.await {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(frame))) => {
                let _ = timeout(patience, sink.send(Message::Close(Some(frame)))).await;
                return WriterEnd::Closed;
            }
            _ => return WriterEnd::Dropped,
        }
    }
}

/// The reader's state: which scopes the connection holds.
struct Connection {
    hub: Hub,
    agent: AgentId,
    /// To the writer.
    outbound: mpsc::Sender<Outbound>,
    signals: Arc<Signals>,
    /// The scopes held, each with the generation of its subscription.
    subscriptions: HashMap<Scope, u64>,
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
        let _ = self.outbound.send(Outbound::Frame(message)).await;
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
                self.subscriptions.insert(scope, generation);
                let served = Box::new(Served { scope, generation, subscription });
                let _ = self.outbound.send(Outbound::Subscribe(served)).await;
            }
            Err(error) => self.reply(error_frame(&ApiError::from(error))).await,
        }
    }

    async fn unsubscribe(&mut self, scope: Scope) {
        // The writer ends the subscription and answers (a repeat too).
        self.subscriptions.remove(&scope);
        let _ = self.outbound.send(Outbound::Unsubscribe(scope)).await;
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
            let task = tokio::spawn(forward_presence(watch.clone(), self.outbound.clone()));
            self.presence = Some((watch, task));
        }
    }

    /// Forgets the subscriptions that ended by themselves (the writer tells).
    fn forget_ended(&mut self) {
        let ended = std::mem::take(&mut *lock(&self.signals.ended));
        for (scope, generation) in ended {
            if self.subscriptions.get(&scope) == Some(&generation) {
                self.subscriptions.remove(&scope);
            }
        }
    }

    fn stop(&mut self) {
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
    let (outbound, outbound_rx) = mpsc::channel(options.outbound_frames);
    let signals = Arc::new(Signals { heard: AtomicBool::new(true), ..Signals::default() });
    let sources = Sources { live: Live::new(), outbound: outbound_rx, signals: signals.clone() };
    let mut writer = tokio::spawn(write(sink, sources, options.ping_interval));
    // The agent is online while it holds this.
    let online = hub.connect(&agent);
    let mut connection = Connection {
        hub,
        agent,
        outbound,
        signals: signals.clone(),
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
