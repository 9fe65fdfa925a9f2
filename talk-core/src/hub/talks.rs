//! Talks: create (or find a pair's direct talk), list, read, rename, close, reopen.

use super::{Applied, Created, Hub, find_event};
use crate::error::{Error, Result};
use crate::event::{Event, EventData};
use crate::id::{AgentId, TalkId};
use crate::page::{ListKey, Page, PageRequest};
use crate::participant::Participant;
use crate::rules::{self, Actor, Decision, Fresh};
use crate::store::TalkAndRecords;
use crate::syntax;
use crate::talk::{AgentPair, NewTalk, Talk, TalkChanges, TalkKind, TalkStatus};

impl Hub {
    /// Creates a talk (`created`), or for a direct talk whose pair already
    /// has one, answers that talk, reopened and with both agents re-added.
    ///
    /// Events: `talk_created`, then `participant_joined` for the creator and
    /// each listed agent in request order. A found direct talk:
    /// `talk_reopened` and its system message if it was closed, then
    /// `participant_joined` and its system message for the caller, then for
    /// the other agent, each only if not active.
    pub async fn create_talk(&self, actor: &AgentId, input: NewTalk) -> Result<Created<Talk>> {
        let limits = &self.inner.limits;
        let plan = syntax::new_talk(actor, input, limits)?;
        let mut unknown = None;
        for agent in plan.members.iter().skip(1) {
            if !self.inner.directory.contains(agent).await {
                unknown = Some(agent);
                break;
            }
        }
        // A direct talk of a known pair may exist: then it is found, not created.
        let pair = match (plan.kind, unknown) {
            (TalkKind::Direct, None) => Some(
                AgentPair::new(actor.clone(), plan.members[1].clone())
                    .ok_or_else(|| Error::invariant("a direct talk needs two agents"))?,
            ),
            _ => None,
        };
        let (plan, pair) = (&plan, pair.as_ref());
        let applied = self
            .run(|fresh| async move {
                if let Some(pair) = pair
                    && let Some(talk) = self.store().direct_talk(pair).await?
                {
                    let other = &plan.members[1];
                    let mut active = [false; 2];
                    for (slot, agent) in active.iter_mut().zip([actor, other]) {
                        let records = self.store().agent_records(talk.id, agent).await?;
                        *slot = records.iter().any(Participant::is_active);
                    }
                    return rules::talks::revive_direct(&talk, plan, active, &fresh);
                }
                rules::talks::create(plan, unknown, limits, &fresh)
            })
            .await?;
        let events = match applied {
            Applied::Repeat(talk) => return Ok(Created { resource: talk, created: false }),
            Applied::Committed(events) => events,
        };
        if let Some(Event { data: EventData::TalkCreated(_), .. }) = events.first() {
            return Ok(Created { resource: created_talk(events)?, created: true });
        }
        // The pair's direct talk, revived: read it as it is now.
        let talk_id = events.first().map(|e| e.talk_id).ok_or_else(|| Error::invariant("a revival without events"))?;
        let talk = self.store().talk(talk_id).await?.ok_or(Error::NotFound("talk"))?;
        Ok(Created { resource: talk, created: false })
    }

    /// The talks in which the caller is an active participant, newest first,
    /// with `status` if given.
    pub async fn talks(&self, actor: &AgentId, status: Option<TalkStatus>, page: &PageRequest) -> Result<Page<Talk>> {
        let key = ListKey { kind: "t", scope: format!("{actor}|{status:?}") };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let talks = self.store().talks_of_agent(actor, status, keyset.cursor, keyset.size + 1).await?;
        Ok(key.page(talks, &keyset, |t| t.created_seq))
    }

    /// One talk; a former participant may read it too, and any agent a
    /// public talk.
    pub async fn talk(&self, actor: &AgentId, talk_id: TalkId) -> Result<Talk> {
        Ok(self.readable_talk(actor, talk_id).await?.talk)
    }

    /// Step 5 of reading a talk itself: the caller has (had) a record in
    /// it, or the talk is public (any agent reads a public talk).
    pub(super) async fn readable_talk(&self, actor: &AgentId, talk_id: TalkId) -> Result<TalkAndRecords> {
        match self.store().talk_and_records(talk_id, actor).await? {
            Some(read) if !read.records.is_empty() || read.talk.kind == TalkKind::Public => Ok(read),
            _ => Err(Error::NotFound("talk")),
        }
    }

    /// The directory: active public talks, newest first (by the `seq` of
    /// their creation), for any agent. With `q` (1 to
    /// [`Limits::query_max`](crate::Limits) characters), only those whose
    /// name has, for every word of `q`, a word equal to it or starting with
    /// it, words and folding being [`text::words`](crate::text::words)'s (as
    /// in message search: `gen` finds "General", `cafe` finds "Café"). A `q`
    /// without words keeps every public talk. A page token is bound to the
    /// folded words of `q`.
    pub async fn public_talks(&self, q: Option<&str>, page: &PageRequest) -> Result<Page<Talk>> {
        let limits = &self.inner.limits;
        let words = q.map(|q| syntax::directory_query(q, limits)).transpose()?.unwrap_or_default();
        let key = ListKey { kind: "d", scope: words.join(" ") };
        let keyset = key.keyset(page, limits)?;
        let talks = self.store().public_talks(&words, keyset.cursor, keyset.size + 1).await?;
        Ok(key.page(talks, &keyset, |t| t.created_seq))
    }

    /// Renames a talk or changes its detail. Events: `talk_updated`, and on a
    /// new name a system message `talk_renamed`.
    pub async fn update_talk(&self, actor: &AgentId, talk_id: TalkId, input: TalkChanges) -> Result<Talk> {
        let limits = &self.inner.limits;
        syntax::talk_changes(&input, limits)?;
        self.change_talk(actor, talk_id, |talk, actor, fresh| rules::talks::update(talk, actor, &input, limits, fresh))
            .await
    }

    /// Closes a talk. Events: `talk_closed`, system message `talk_closed`.
    pub async fn close_talk(&self, actor: &AgentId, talk_id: TalkId) -> Result<Talk> {
        self.change_talk(actor, talk_id, rules::talks::close).await
    }

    /// Reopens a talk: any active participant may; a talk without active
    /// participants, a former participant whose latest record left by itself,
    /// who joins again. Events: `talk_reopened`, `participant_joined` for a
    /// former participant, system message `talk_reopened`.
    pub async fn reopen_talk(&self, actor: &AgentId, talk_id: TalkId) -> Result<Talk> {
        self.change_talk(actor, talk_id, rules::talks::reopen).await
    }

    /// A command that changes a talk's own state by `rule`, answering the talk.
    async fn change_talk(
        &self,
        actor: &AgentId,
        talk_id: TalkId,
        rule: impl Fn(&Talk, &Actor<'_>, &Fresh<'_>) -> Result<Decision<Talk>>,
    ) -> Result<Talk> {
        let rule = &rule;
        self.run(|fresh| async move {
            let visible = self.visible(actor, talk_id).await?;
            rule(&visible.talk, &visible.actor(actor), &fresh)
        })
        .await?
        .answer(|events| {
            find_event(events, "talk change", |e| match e.data {
                EventData::TalkUpdated(t) | EventData::TalkClosed(t) | EventData::TalkReopened(t) => Some(t),
                _ => None,
            })
        })
    }
}

fn created_talk(events: Vec<Event>) -> Result<Talk> {
    find_event(events, "talk creation", |e| match e.data {
        EventData::TalkCreated(talk) => Some(talk),
        _ => None,
    })
}
