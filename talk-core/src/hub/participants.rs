//! Participants: list, add, and leave or remove.

use super::{Created, Hub, find_event};
use crate::error::{Error, Result};
use crate::id::{AgentId, ParticipantId, TalkId};
use crate::page::{ListKey, Page, PageRequest};
use crate::participant::{Participant, ParticipantStatus};
use crate::rules;

/// Which participant record a `remove_participant` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantRef {
    /// A record by id.
    Id(ParticipantId),
    /// The caller's latest record in the talk.
    Me,
}

/// Which records `participants` lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ParticipantFilter {
    /// Active records (the default).
    #[default]
    Active,
    /// Records that ended.
    Left,
    /// All records.
    All,
}

impl Hub {
    /// The participant records of a talk, in the order they joined.
    pub async fn participants(
        &self,
        actor: &AgentId,
        talk_id: TalkId,
        filter: ParticipantFilter,
        page: &PageRequest,
    ) -> Result<Page<Participant>> {
        let key = ListKey { kind: "p", scope: format!("{talk_id}|{filter:?}") };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let visible = self.visible(actor, talk_id).await?;
        visible.actor(actor).require_active()?;
        let status = match filter {
            ParticipantFilter::Active => Some(ParticipantStatus::Active),
            ParticipantFilter::Left => Some(ParticipantStatus::Left),
            ParticipantFilter::All => None,
        };
        let items = self.store().participants(talk_id, status, keyset.cursor, keyset.size + 1).await?;
        Ok(key.page(items, &keyset, |p| p.seq))
    }

    /// Adds an agent to a talk. Events: `participant_joined`, system message
    /// `participant_joined`.
    pub async fn add_participant(&self, actor: &AgentId, talk_id: TalkId, agent: &AgentId) -> Result<Participant> {
        self.run(|fresh| async move {
            let visible = self.visible(actor, talk_id).await?;
            let agent_records = self.store().agent_records(talk_id, agent).await?;
            let known = self.inner.directory.contains(agent).await;
            let limits = &self.inner.limits;
            rules::participants::add(&visible.talk, &visible.actor(actor), agent, &agent_records, known, limits, &fresh)
        })
        .await?
        .answer(participant_of)
    }

    /// The caller joins a public talk by itself (`created`), or, already an
    /// active participant, answers its record (a repeat, no event). Events:
    /// `participant_joined`, system message `participant_joined` whose
    /// actor is the agent itself. A talk that is not public: `not_found`
    /// for an agent never in it, `not_participant` for a former one; a
    /// closed public talk: `talk_closed`.
    pub async fn join_talk(&self, actor: &AgentId, talk_id: TalkId) -> Result<Created<Participant>> {
        let applied = self
            .run(|fresh| async move {
                // Not `visible`: an agent never in a public talk may join it.
                let read = self.store().talk_and_records(talk_id, actor).await?.ok_or(Error::NotFound("talk"))?;
                rules::participants::join(&read.talk, &read.actor(actor), &self.inner.limits, &fresh)
            })
            .await?;
        match applied {
            super::Applied::Repeat(record) => Ok(Created { resource: record, created: false }),
            super::Applied::Committed(events) => Ok(Created { resource: participant_of(events)?, created: true }),
        }
    }

    /// Ends a record: the caller's own (it leaves) or another's (removed).
    /// Events: system message `participant_left` / `participant_removed`,
    /// `participant_left`, and when no active participant remains in an
    /// active talk: `talk_closed` and its system message.
    pub async fn remove_participant(
        &self,
        actor: &AgentId,
        talk_id: TalkId,
        target: ParticipantRef,
    ) -> Result<Participant> {
        self.run(|fresh| async move {
            let visible = self.visible(actor, talk_id).await?;
            let record = match target {
                ParticipantRef::Me => visible.records.last().cloned(),
                ParticipantRef::Id(id) => self.store().participant(id).await?.filter(|p| p.talk_id == talk_id),
            };
            let record = record.ok_or(Error::NotFound("participant"))?;
            rules::participants::remove(&visible.talk, &visible.actor(actor), &record, &fresh)
        })
        .await?
        .answer(participant_of)
    }
}

fn participant_of(events: Vec<crate::event::Event>) -> Result<Participant> {
    find_event(events, "membership change", |e| e.data.into_participant())
}
