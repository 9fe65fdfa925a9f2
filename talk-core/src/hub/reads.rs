//! Read state: markers, unread and mention counts, read receipts.

use super::{Applied, Hub};
use crate::error::{Error, Result};
use crate::id::{AgentId, MessageId, TalkId};
use crate::page::{ListKey, Page, PageRequest};
use crate::read::{ReadCounts, ReadMarker, ReadState, UnreadTotals};
use crate::rules;
use crate::store::TalkAndRecords;
use crate::talk::{Talk, TalkStatus};

/// A resource with the caller's counts in its talk: `None` when the caller
/// has no active record there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithCounts<T> {
    /// The resource.
    pub resource: T,
    /// The caller's counts.
    pub counts: Option<ReadCounts>,
}

impl Hub {
    /// Moves the caller's read marker forward to `message_id` (default: the
    /// talk's newest message). A marker already at or past it is a repeat,
    /// without an event. Allowed on a closed talk. Event: `talk_read`.
    ///
    /// # Errors
    /// `not_found`, `not_participant`; `invalid_request` when the message is
    /// not one of this talk.
    pub async fn mark_read(
        &self,
        actor: &AgentId,
        talk_id: TalkId,
        message_id: Option<MessageId>,
    ) -> Result<ReadState> {
        let limits = &self.inner.limits;
        let applied = self
            .run(|fresh| async move {
                let (visible, marker) = self.own_marker(actor, talk_id).await?;
                let found = match message_id {
                    Some(id) => self.store().message(id, 0).await?,
                    None => self.store().messages(talk_id, true, None, 1, 0).await?.pop(),
                };
                rules::reads::read(
                    &visible.talk,
                    &visible.actor(actor),
                    &marker,
                    message_id,
                    found.as_ref(),
                    limits,
                    &fresh,
                )
            })
            .await?;
        self.read_state_after(actor, talk_id, applied).await
    }

    /// "Mark unread from here": moves the caller's marker to just before
    /// `message_id`, back or forward, never below its record's join. A
    /// marker already there is a repeat, without an event. Allowed on a
    /// closed talk. Event: `talk_read`.
    ///
    /// # Errors
    /// As [`Hub::mark_read`].
    pub async fn mark_unread(&self, actor: &AgentId, talk_id: TalkId, message_id: MessageId) -> Result<ReadState> {
        let limits = &self.inner.limits;
        let applied = self
            .run(|fresh| async move {
                let (visible, marker) = self.own_marker(actor, talk_id).await?;
                let found = self.store().message(message_id, 0).await?;
                let actor = visible.actor(actor);
                // The newest message at or below where the marker goes, for the receipt.
                let before = match (&found, actor.active()) {
                    (Some(target), Some(record)) if target.talk_id == talk_id => {
                        let to = rules::reads::unread_seq(record, target);
                        self.store().messages(talk_id, true, Some(to + 1), 1, 0).await?.pop()
                    }
                    _ => None,
                };
                rules::reads::unread(
                    &visible.talk,
                    &actor,
                    &marker,
                    message_id,
                    found.as_ref(),
                    before.as_ref(),
                    limits,
                    &fresh,
                )
            })
            .await?;
        self.read_state_after(actor, talk_id, applied).await
    }

    /// Every active participant's read state in a talk, without the counts,
    /// in the order they joined (read receipts).
    ///
    /// # Errors
    /// `not_found`, `not_participant`, `invalid_request` for a bad page.
    pub async fn read_states(&self, actor: &AgentId, talk_id: TalkId, page: &PageRequest) -> Result<Page<ReadState>> {
        let key = ListKey { kind: "rs", scope: talk_id.to_string() };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let visible = self.visible(actor, talk_id).await?;
        visible.actor(actor).require_active()?;
        let markers = self.store().read_markers(talk_id, keyset.cursor, keyset.size + 1).await?;
        let page = key.page(markers, &keyset, |m| m.participant_seq);
        Ok(Page {
            items: page.items.iter().map(|m| ReadState::of(m, None)).collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// The caller's totals over the talks where it has an active record.
    pub async fn unread_totals(&self, actor: &AgentId) -> Result<UnreadTotals> {
        let numbers = self.store().read_numbers(actor, None).await?;
        Ok(UnreadTotals::of(numbers.iter().map(|n| n.counts())))
    }

    /// [`Hub::talks`] with the caller's counts in each talk.
    pub async fn talks_with_counts(
        &self,
        actor: &AgentId,
        status: Option<TalkStatus>,
        page: &PageRequest,
    ) -> Result<Page<WithCounts<Talk>>> {
        let talks = self.talks(actor, status, page).await?;
        let ids: Vec<TalkId> = talks.items.iter().map(|t| t.id).collect();
        let numbers = self.store().read_numbers(actor, Some(&ids)).await?;
        let items = talks
            .items
            .into_iter()
            .map(|talk| {
                let counts = numbers.iter().find(|n| n.talk_id == talk.id).map(|n| n.counts());
                WithCounts { resource: talk, counts }
            })
            .collect();
        Ok(Page { items, next_page_token: talks.next_page_token })
    }

    /// [`Hub::talk`] with the caller's counts: `None` for a former participant.
    pub async fn talk_with_counts(&self, actor: &AgentId, talk_id: TalkId) -> Result<WithCounts<Talk>> {
        let visible = self.readable_talk(actor, talk_id).await?;
        let counts = self.counts_in(actor, &visible).await?;
        Ok(WithCounts { resource: visible.talk, counts })
    }

    /// The caller's counts in a talk it sees: `None` without an active record.
    async fn counts_in(&self, actor: &AgentId, visible: &TalkAndRecords) -> Result<Option<ReadCounts>> {
        if visible.actor(actor).active().is_none() {
            return Ok(None);
        }
        let numbers = self.store().read_numbers(actor, Some(&[visible.talk.id])).await?;
        Ok(numbers.first().map(|n| n.counts()))
    }

    /// The talk (steps 5 and 6) and the marker of the caller's active record.
    async fn own_marker(&self, actor: &AgentId, talk_id: TalkId) -> Result<(TalkAndRecords, ReadMarker)> {
        let visible = self.visible(actor, talk_id).await?;
        let record = visible.actor(actor).require_active()?.id;
        let marker = self
            .store()
            .read_marker(record)
            .await?
            .ok_or_else(|| Error::invariant("an active participant record without its read marker"))?;
        Ok((visible, marker))
    }

    /// The caller's read state, counts included, after a `read` or `unread`.
    async fn read_state_after(
        &self,
        actor: &AgentId,
        talk_id: TalkId,
        applied: Applied<ReadMarker>,
    ) -> Result<ReadState> {
        let visible = self.visible(actor, talk_id).await?;
        let marker = match applied {
            Applied::Repeat(marker) => marker,
            Applied::Committed(_) => {
                let record = visible.actor(actor).require_active()?.id;
                self.store().read_marker(record).await?.ok_or(Error::NotFound("participant"))?
            }
        };
        let counts = self.counts_in(actor, &visible).await?;
        Ok(ReadState::of(&marker, counts))
    }
}
