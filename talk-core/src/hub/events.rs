//! Events: subscriptions (replayed, then live), the catch-up read, retention.

use super::{Attempts, Hub};
use crate::delivery::{Refused, Scope, Start, Subscription};
use crate::error::{Error, Result, StoreError};
use crate::event::Event;
use crate::id::{AgentId, ParticipantId};
use crate::page::PageRequest;
use crate::syntax;

/// A page of an agent's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// The `since` of the next page: the last event's `seq`, or the `since`
    /// asked for when there was none.
    pub next_since: u64,
}

impl Hub {
    /// Subscribes `agent` to the events it sees, in one talk or in all its
    /// talks (including talks it joins later): with `since`, the events after
    /// it are replayed from the log first, then [`Delivery::Subscribed`]
    /// marks where live delivery goes on, with no gap and no duplicate.
    ///
    /// A single-talk subscription ends after the agent's own
    /// `participant_left`. Subscribing to a talk the agent has left works only
    /// with a `since` before its own `participant_left`: the replay runs up to
    /// it and ends. A `since` below the log's low-water mark gives
    /// [`Delivery::ResyncRequired`], then live events.
    ///
    /// # Errors
    /// `not_found` for a talk that does not exist or that the agent was never
    /// in; `not_participant` for a talk it has left (without a usable `since`).
    ///
    /// [`Delivery::Subscribed`]: crate::Delivery::Subscribed
    /// [`Delivery::ResyncRequired`]: crate::Delivery::ResyncRequired
    pub async fn subscribe(&self, agent: &AgentId, scope: Scope, since: Option<u64>) -> Result<Subscription> {
        let store = self.inner.store.clone();
        let low_water = store.low_water_mark().await?;
        let resync = since.is_some_and(|since| since < low_water);
        let dispatcher = self.dispatcher().await?;
        let mut attempts = Attempts { policy: self.inner.retry, done: 0 };
        loop {
            // A single-talk subscription ends at the leave of the agent's
            // latest record, never at an earlier one its replay runs through.
            let ends_with = match scope {
                Scope::Talk(talk_id) => {
                    let visible = self.visible(agent, talk_id).await?;
                    let latest = visible.records.last().ok_or(Error::NotFound("talk"))?;
                    if !latest.is_active() {
                        // A talk the agent has left: replay up to that leave, and end.
                        let until = latest.left_seq.filter(|&left| since.is_some_and(|since| !resync && since < left));
                        let Some(until) = until else { return Err(Error::NotParticipant) };
                        let start = Start::ReplayOnly { since: since.unwrap_or(0), until };
                        return Ok(self.subscription(agent, scope, Some(latest.id), start));
                    }
                    Some(latest.id)
                }
                Scope::All => None,
            };
            let earliest = dispatcher.position();
            let head = store.head().await?;
            let memberships = store.agent_memberships(agent, earliest).await?;
            match dispatcher.register(agent, scope, &memberships, head) {
                Ok(registration) => {
                    let start = Start::Live { registration, dispatcher, since, resync };
                    return Ok(self.subscription(agent, scope, ends_with, start));
                }
                // It left since it was read: read again, and replay to the leave.
                Err(Refused::NotMember) => continue,
                Err(Refused::Moved) => {
                    attempts.pause(StoreError::Unavailable("the dispatcher kept moving".into())).await?;
                }
            }
        }
    }

    fn subscription(
        &self,
        agent: &AgentId,
        scope: Scope,
        ends_with: Option<ParticipantId>,
        start: Start,
    ) -> Subscription {
        Subscription::new(agent.clone(), scope, ends_with, self.inner.store.clone(), self.inner.delivery.page, start)
    }

    /// The events `agent` sees after `since`, oldest first, at most a page:
    /// the catch-up read without a subscription. The answer's `next_since`
    /// is the `since` to pass next.
    ///
    /// # Errors
    /// `resync_required` when `since` is below the log's low-water mark;
    /// `invalid_request` for a page size out of range, or a page token
    /// (the next page starts after `next_since`).
    pub async fn events(&self, agent: &AgentId, since: u64, page: &PageRequest) -> Result<EventPage> {
        let size = syntax::page_size(page.size, &self.inner.limits)?;
        if page.token.is_some() {
            return Err(Error::invalid_request("events continue after a since, not a page_token"));
        }
        let store = self.store();
        let events = store.agent_events(agent, None, since, size as usize).await?;
        // The mark is read after the events: if retention pruned past
        // `since` before they were read, they may skip some, and the mark
        // shows it.
        if since < store.low_water_mark().await? {
            return Err(Error::ResyncRequired { since });
        }
        let next_since = events.last().map_or(since, |e| e.seq);
        // A read receipt of a large talk reaches its reader only.
        let events = events.into_iter().filter(|e| e.data.reaches(agent)).collect();
        Ok(EventPage { events, next_since })
    }

    /// Removes the events with `seq ≤ through` from the log and moves the
    /// low-water mark there, never past an event a live reader still needs
    /// (see [`HubBuilder::retain_events`](crate::HubBuilder::retain_events)
    /// for automatic retention).
    pub async fn prune_events(&self, through: u64) -> Result<()> {
        Ok(self.inner.store.prune_events(through).await?)
    }
}
