//! Typing and presence: the Hub's side of the [`signal`](crate::signal)s.

use std::collections::HashSet;

use super::Hub;
use crate::delivery::Standing;
use crate::error::{Error, Result};
use crate::id::{AgentId, MessageId, TalkId};
use crate::page::{Page, PageRequest};
use crate::rules;
use crate::signal::{Connection, Presence, PresenceWatch, SignalCounts, SignalMessage, TypingKey};
use crate::talk::TalkStatus;

use super::ParticipantFilter;

impl Hub {
    /// `agent` types in a talk (in the thread of `parent_id`, if given), or
    /// stopped typing (`typing` false). The talk's other subscribed
    /// participants get [`Delivery::Typing`](crate::Delivery::Typing) frames;
    /// see [`signal`](crate::signal) for when typing stops by itself.
    ///
    /// While the agent has a subscription, its standing comes from the
    /// dispatcher's routes, not from the store.
    ///
    /// # Errors
    /// `not_participant` when the agent is not active in the talk,
    /// `talk_closed` for a closed talk; without a subscription, `not_found`
    /// for a talk it was never in.
    pub async fn typing(
        &self,
        agent: &AgentId,
        talk_id: TalkId,
        parent_id: Option<MessageId>,
        typing: bool,
    ) -> Result<()> {
        let signals = &self.inner.signals;
        signals.start();
        self.may_type(agent, talk_id).await?;
        let key = TypingKey { talk_id, parent_id, agent_id: agent.clone() };
        // A renewal of typing shown lately need not travel yet: it expires
        // seconds later, and renewals come every few keystrokes.
        if typing && signals.typists().renewed_lately(&key, signals.now()) {
            return Ok(());
        }
        signals.publish(SignalMessage::Typing { talk_id, parent_id, agent_id: agent.clone(), typing });
        Ok(())
    }

    /// Whether `agent` may type in the talk: from the dispatcher's routes
    /// while they know the agent (it has a subscription) and have routed
    /// this Hub's own writes; else, and to tell a stranger from a former
    /// participant, from the store.
    async fn may_type(&self, agent: &AgentId, talk_id: TalkId) -> Result<()> {
        let dispatcher = self.inner.dispatcher.get();
        let current = dispatcher.filter(|dispatcher| {
            dispatcher.position() >= self.inner.committed_head.load(std::sync::atomic::Ordering::Acquire)
        });
        let standing = current.map_or(Standing::Unknown, |dispatcher| dispatcher.standing(agent, talk_id));
        match standing {
            Standing::Member { closed: Some(closed) } => rules::signals::may_type(talk_id, true, closed),
            Standing::Member { closed: None } => {
                // Read once; the routes keep it from then on.
                let talk = self.store().talk(talk_id).await?.ok_or(Error::NotFound("talk"))?;
                let closed = talk.status == TalkStatus::Closed;
                if let Some(dispatcher) = dispatcher {
                    dispatcher.note_closed(talk_id, closed);
                }
                rules::signals::may_type(talk_id, true, closed)
            }
            Standing::Unknown => {
                let visible = self.visible(agent, talk_id).await?;
                let active = visible.actor(agent).active().is_some();
                rules::signals::may_type(talk_id, active, visible.talk.status == TalkStatus::Closed)
            }
        }
    }

    /// Opens a connection of `agent` for presence: it is online while it
    /// holds one (on any node), and goes offline after the reconnect grace
    /// once the last is dropped. An adapter holds one per socket.
    pub fn connect(&self, agent: &AgentId) -> Connection {
        let signals = &self.inner.signals;
        signals.start();
        Connection::open(signals.clone(), agent.clone())
    }

    /// The presence of `agent`, as `actor` may see it.
    ///
    /// # Errors
    /// `not_found` unless `agent` is the actor or shares an active talk with
    /// it (both have an active record in one talk).
    pub async fn presence(&self, actor: &AgentId, agent: &AgentId) -> Result<Presence> {
        self.inner.signals.start();
        if !self.sharing(actor, std::slice::from_ref(agent)).await?.contains(agent) {
            return Err(Error::NotFound("agent"));
        }
        Ok(self.inner.signals.presence(agent))
    }

    /// The presence of a talk's active participants, in the order they
    /// joined, paged as [`Hub::participants`].
    ///
    /// # Errors
    /// As [`Hub::participants`].
    pub async fn talk_presence(&self, actor: &AgentId, talk_id: TalkId, page: &PageRequest) -> Result<Page<Presence>> {
        self.inner.signals.start();
        let participants = self.participants(actor, talk_id, ParticipantFilter::Active, page).await?;
        let signals = &self.inner.signals;
        Ok(Page {
            items: participants.items.iter().map(|p| signals.presence(&p.agent_id)).collect(),
            next_page_token: participants.next_page_token,
        })
    }

    /// A presence watch that watches nobody yet: give it agents with
    /// [`Hub::watch_presence`].
    pub fn presence_watch(&self) -> PresenceWatch {
        let signals = &self.inner.signals;
        signals.start();
        PresenceWatch::new(signals.clone())
    }

    /// Makes `watch` watch `agents` (instead of whom it watched), keeping
    /// those that are the actor or share an active talk with it (the others
    /// are dropped silently). [`PresenceWatch::next`] then gives the
    /// presence of each now, in the order given, each once, then each change.
    ///
    /// # Errors
    /// `invalid_request` for more agents than
    /// [`Limits::presence_watch_max`](crate::Limits::presence_watch_max).
    pub async fn watch_presence(&self, actor: &AgentId, watch: &PresenceWatch, agents: &[AgentId]) -> Result<()> {
        let max = self.inner.limits.presence_watch_max;
        if agents.len() > max {
            return Err(Error::invalid_request(format!("agent_ids: at most {max} agents, got {}", agents.len())));
        }
        let visible = self.sharing(actor, agents).await?;
        let mut seen = HashSet::new();
        let kept = agents.iter().filter(|agent| visible.contains(*agent) && seen.insert(*agent)).cloned().collect();
        watch.replace(kept);
        Ok(())
    }

    /// What typing came to on this node since the Hub started: frames
    /// delivered, dropped and coalesced.
    pub fn signal_counts(&self) -> SignalCounts {
        self.inner.signals.counts()
    }

    /// Which of `agents` `actor` may see the presence of: itself, and those
    /// that share an active talk with it.
    async fn sharing(&self, actor: &AgentId, agents: &[AgentId]) -> Result<HashSet<AgentId>> {
        let store = self.store();
        let active_talks = |records: Vec<crate::participant::Participant>| -> HashSet<TalkId> {
            records.into_iter().filter(|p| p.is_active()).map(|p| p.talk_id).collect()
        };
        let mine = active_talks(store.agent_memberships(actor, u64::MAX).await?);
        let mut visible = HashSet::new();
        for agent in agents {
            if visible.contains(agent) {
                continue;
            }
            let shares = agent == actor
                || (!mine.is_empty()
                    && !active_talks(store.agent_memberships(agent, u64::MAX).await?).is_disjoint(&mine));
            if shares {
                visible.insert(agent.clone());
            }
        }
        Ok(visible)
    }
}
