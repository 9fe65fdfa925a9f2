//! A subscription: a replay from the log, then live events from the
//! dispatcher, with no gap and no duplicate.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use futures::Stream;
use tokio::sync::mpsc;

use super::dispatcher::{Dispatcher, Registration};
use super::{Delivery, EndReason, EndSlot, Scope, SharedEvent};
use crate::event::{Event, EventData};
use crate::id::{AgentId, ParticipantId, TalkId};
use crate::signal::SharedTyping;
use crate::store::{Store, StoreError};

/// A page of the replay being read: its events and the log's low-water
/// mark read after them.
type PageRead = Pin<Box<dyn Future<Output = Result<(Vec<Event>, u64), StoreError>> + Send>>;

/// Where a subscription is.
enum Phase {
    /// Replaying `(after, until]` from the store.
    Replay { after: u64, until: u64 },
    /// Receiving from the dispatcher.
    Live,
    /// Nothing more.
    Done,
}

/// A stream of the events an agent sees, replayed then live. Get items with
/// [`Subscription::next`], or poll it as a [`Stream`] (a socket's writer
/// polls its subscriptions itself, with no task between); dropping it
/// unsubscribes.
pub struct Subscription {
    agent: AgentId,
    scope: Scope,
    /// For a single talk: the agent's record whose `participant_left` ends
    /// the subscription (its latest when it subscribed).
    ends_with: Option<ParticipantId>,
    store: Arc<dyn Store>,
    page: usize,
    dispatcher: Option<(Arc<Dispatcher>, u64)>,
    receiver: Option<mpsc::Receiver<Arc<SharedEvent>>>,
    /// Typing frames, read only when no event is waiting.
    typing: Option<mpsc::Receiver<Arc<SharedTyping>>>,
    end: Option<Arc<EndSlot>>,
    phase: Phase,
    /// The replay's page being read, while one is. In a `Mutex` only so that
    /// a `Subscription` stays `Sync` (the future is not): it is reached
    /// through `get_mut`, never locked.
    reading: Option<Mutex<PageRead>>,
    /// Announced when the replay is done.
    after_replay: Option<Delivery>,
    buffer: VecDeque<Delivery>,
    /// The last `seq` queued in `buffer` (or the `since` asked for): nothing
    /// at or below it is queued again.
    queued_through: u64,
    /// The last `seq` handed to the caller (or the `since` asked for).
    last_seq: u64,
}

// A `Subscription` may be held in shared state and moved between tasks.
const _: fn() = || {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Subscription>();
};

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("agent", &self.agent)
            .field("scope", &self.scope)
            .field("last_seq", &self.last_seq)
            .field("queued_through", &self.queued_through)
            .finish_non_exhaustive()
    }
}

/// How a subscription starts.
pub(crate) enum Start {
    /// Registered live at `registration.position`; replay from `since` first.
    Live { registration: Registration, dispatcher: Arc<Dispatcher>, since: Option<u64>, resync: bool },
    /// A talk the agent has left: replay `(since, until]` and end.
    ReplayOnly { since: u64, until: u64 },
}

impl Subscription {
    pub(crate) fn new(
        agent: AgentId,
        scope: Scope,
        ends_with: Option<ParticipantId>,
        store: Arc<dyn Store>,
        page: usize,
        start: Start,
    ) -> Self {
        let mut subscription = Self {
            agent,
            scope,
            ends_with,
            store,
            page: page.max(1),
            dispatcher: None,
            receiver: None,
            typing: None,
            end: None,
            phase: Phase::Done,
            reading: None,
            after_replay: None,
            buffer: VecDeque::new(),
            queued_through: 0,
            last_seq: 0,
        };
        match start {
            Start::Live { registration, dispatcher, since, resync } => {
                let position = registration.position;
                subscription.dispatcher = Some((dispatcher, registration.id));
                subscription.receiver = Some(registration.receiver);
                subscription.typing = Some(registration.typing);
                subscription.end = Some(registration.end);
                match since {
                    Some(since) if !resync => {
                        subscription.queued_through = since;
                        subscription.last_seq = since;
                        subscription.phase = Phase::Replay { after: since, until: position };
                        subscription.after_replay = Some(Delivery::Subscribed { seq: position });
                    }
                    _ => {
                        subscription.queued_through = position;
                        subscription.last_seq = position;
                        subscription.phase = Phase::Live;
                        subscription.buffer.push_back(if resync {
                            Delivery::ResyncRequired { seq: position }
                        } else {
                            Delivery::Subscribed { seq: position }
                        });
                    }
                }
            }
            Start::ReplayOnly { since, until } => {
                subscription.queued_through = since;
                subscription.last_seq = since;
                subscription.phase = Phase::Replay { after: since, until };
            }
        }
        subscription
    }

    /// The agent.
    pub fn agent(&self) -> &AgentId {
        &self.agent
    }

    /// The scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The `seq` of the last event [`next`](Subscription::next) returned (or
    /// where the subscription started: its `since`, or the position it went
    /// live at). Subscribing again with it as `since` goes on without a gap.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The next item: events in `seq` order, each once, with `Subscribed`
    /// after the replay, and typing frames while live (after any event
    /// waiting); `Ended` last, then `None`. Cancel-safe: a call dropped
    /// before it returns loses nothing.
    pub async fn next(&mut self) -> Option<Delivery> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                if let Delivery::Event(shared) = &item {
                    self.last_seq = shared.event.seq;
                }
                return Poll::Ready(Some(item));
            }
            match self.phase {
                Phase::Done => return Poll::Ready(None),
                Phase::Replay { after, until } => ready!(self.poll_replay(cx, after, until)),
                Phase::Live => ready!(self.poll_live(cx)),
            }
        }
    }

    /// Queues one item: an event (ending a single-talk subscription after
    /// the `participant_left` of the agent's record it follows).
    fn push_event(&mut self, shared: Arc<SharedEvent>) {
        if shared.event.seq <= self.queued_through {
            return;
        }
        self.queued_through = shared.event.seq;
        let own_left = matches!(&shared.event.data, EventData::ParticipantLeft(p) if Some(p.id) == self.ends_with);
        self.buffer.push_back(Delivery::Event(shared));
        if own_left {
            self.finish(EndReason::Left);
        }
    }

    fn finish(&mut self, reason: EndReason) {
        self.buffer.push_back(Delivery::Ended(reason));
        self.phase = Phase::Done;
        self.receiver = None;
        self.typing = None;
        self.unregister();
    }

    fn unregister(&mut self) {
        if let Some((dispatcher, id)) = self.dispatcher.take() {
            dispatcher.unregister(&self.agent, id);
        }
    }

    /// Reads the replay's next page into `buffer` (or moves on to live).
    fn poll_replay(&mut self, cx: &mut Context<'_>, after: u64, until: u64) -> Poll<()> {
        if after >= until {
            if self.receiver.is_none() {
                // A replay-only subscription that did not meet the agent's
                // own `participant_left` (the log was pruned): it ends anyway.
                self.finish(EndReason::Left);
                return Poll::Ready(());
            }
            self.phase = Phase::Live;
            if let Some(announce) = self.after_replay.take() {
                self.buffer.push_back(announce);
            }
            return Poll::Ready(());
        }
        let reading = self.reading.get_or_insert_with(|| {
            let talk = match self.scope {
                Scope::Talk(talk) => Some(talk),
                Scope::All => None,
            };
            Mutex::new(read_page(self.store.clone(), self.agent.clone(), talk, after, self.page))
        });
        let reading = reading.get_mut().unwrap_or_else(PoisonError::into_inner);
        let page = ready!(reading.as_mut().poll(cx));
        self.reading = None;
        match page {
            Ok((_, low_water)) if low_water > after => self.resync(until),
            Ok((events, _)) => {
                let mut next = until;
                if let Some(last) = events.last() {
                    next = last.seq.min(until);
                }
                for event in events.into_iter().take_while(|e| e.seq <= until) {
                    if !event.data.reaches(&self.agent) {
                        continue;
                    }
                    self.push_event(Arc::new(SharedEvent::new(event)));
                    if matches!(self.phase, Phase::Done) {
                        return Poll::Ready(());
                    }
                }
                self.phase = Phase::Replay { after: next, until };
            }
            Err(_) => {
                let resume_after = self.queued_through;
                self.finish(EndReason::Unavailable { resume_after });
            }
        }
        Poll::Ready(())
    }

    /// The replay found events it needed pruned: the subscriber resyncs
    /// from the current state, and live events after `until` follow (a
    /// replay-only subscription ends).
    fn resync(&mut self, until: u64) {
        self.after_replay = None;
        self.queued_through = until;
        self.buffer.push_back(Delivery::ResyncRequired { seq: until });
        if self.receiver.is_some() {
            self.phase = Phase::Live;
        } else {
            self.finish(EndReason::Left);
        }
    }

    /// Takes what the dispatcher sent into `buffer`: an event first, else a
    /// typing frame.
    fn poll_live(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(receiver) = self.receiver.as_mut() else {
            self.phase = Phase::Done;
            return Poll::Ready(());
        };
        let received = match receiver.poll_recv(cx) {
            Poll::Ready(received) => received,
            Poll::Pending => {
                return match self.typing.as_mut().map(|typing| typing.poll_recv(cx)) {
                    Some(Poll::Ready(Some(typing))) => {
                        self.buffer.push_back(Delivery::Typing(typing));
                        Poll::Ready(())
                    }
                    // The typing queue is gone with its dispatcher: events
                    // tell the rest.
                    Some(Poll::Ready(None)) => {
                        self.typing = None;
                        Poll::Pending
                    }
                    Some(Poll::Pending) | None => Poll::Pending,
                };
            }
        };
        match received {
            Some(shared) => self.push_event(shared),
            None => {
                let reason = match self.end.as_ref().and_then(|slot| slot.take()) {
                    Some(EndReason::Lagged { .. }) => EndReason::Lagged { resume_after: self.queued_through },
                    Some(reason) => reason,
                    None => EndReason::Shutdown,
                };
                if !matches!(self.phase, Phase::Done) {
                    self.finish(reason);
                }
            }
        }
        Poll::Ready(())
    }
}

impl Stream for Subscription {
    type Item = Delivery;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        self.get_mut().poll_item(cx)
    }
}

/// Reads one page of an agent's events after `after`, then the low-water
/// mark: if retention pruned past `after` before the page was read, the
/// page may skip events; then the mark is past `after` too.
fn read_page(store: Arc<dyn Store>, agent: AgentId, talk: Option<TalkId>, after: u64, page: usize) -> PageRead {
    Box::pin(async move {
        let events = store.agent_events(&agent, talk, after, page).await?;
        let low_water = store.low_water_mark().await?;
        Ok((events, low_water))
    })
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.unregister();
    }
}
