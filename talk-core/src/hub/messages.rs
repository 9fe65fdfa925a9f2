//! Messages: send, list, read, thread, edit, delete.

use super::{Created, Hub, find_event};
use crate::error::Result;
use crate::event::EventData;
use crate::id::{AgentId, MessageId, TalkId};
use crate::message::{Message, MessageEdit, NewMessage};
use crate::page::{ListKey, Page, PageRequest};
use crate::rules;
use crate::syntax;

/// Which messages of a talk `messages` lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MessageFilter {
    /// Top-level messages: the main view (the default).
    #[default]
    TopLevel,
    /// Every message, replies included.
    WithReplies,
}

impl Hub {
    /// Sends a message (`created`), or answers the stored one for a retried
    /// client-chosen id. Event: `message_created`.
    pub async fn send_message(&self, actor: &AgentId, talk_id: TalkId, input: NewMessage) -> Result<Created<Message>> {
        syntax::new_message(&input, &self.inner.limits)?;
        let unknown = self.first_unknown(&input.mentions).await;
        let listed = self.inner.limits.reactors_listed_per_emoji;
        let key = &self.secret_key().await?;
        let input = &input;
        let applied = self
            .run(|fresh| async move {
                let visible = self.visible(actor, talk_id).await?;
                let taken = match input.id {
                    Some(id) => self.store().message(id, listed).await?,
                    None => None,
                };
                let parent = match input.parent_id {
                    Some(id) => self.store().message(id, 0).await?,
                    None => None,
                };
                let actor = visible.actor(actor);
                rules::messages::send(
                    &visible.talk,
                    &actor,
                    input,
                    taken.as_ref(),
                    parent.as_ref(),
                    unknown,
                    key,
                    &fresh,
                )
            })
            .await?;
        let created = matches!(applied, super::Applied::Committed(_));
        let message = applied.answer(|events| {
            find_event(events, "send", |e| match e.data {
                EventData::MessageCreated(m) => Some(m),
                _ => None,
            })
        })?;
        Ok(Created { resource: message, created })
    }

    /// The messages of a talk, newest first: top-level ones, or all.
    pub async fn messages(
        &self,
        actor: &AgentId,
        talk_id: TalkId,
        filter: MessageFilter,
        page: &PageRequest,
    ) -> Result<Page<Message>> {
        let include_replies = filter == MessageFilter::WithReplies;
        let key = ListKey { kind: "m", scope: format!("{talk_id}|{include_replies}") };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let visible = self.visible(actor, talk_id).await?;
        visible.actor(actor).require_active()?;
        let listed = self.inner.limits.reactors_listed_per_emoji;
        let items = self.store().messages(talk_id, include_replies, keyset.cursor, keyset.size + 1, listed).await?;
        Ok(key.page(items, &keyset, |m| m.seq))
    }

    /// One message.
    pub async fn message(&self, actor: &AgentId, message_id: MessageId) -> Result<Message> {
        let (visible, message) = self.visible_message(actor, message_id).await?;
        visible.actor(actor).require_active()?;
        Ok(message)
    }

    /// The replies to a message, oldest first.
    pub async fn replies(&self, actor: &AgentId, message_id: MessageId, page: &PageRequest) -> Result<Page<Message>> {
        let key = ListKey { kind: "r", scope: message_id.to_string() };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let (visible, _) = self.visible_message(actor, message_id).await?;
        visible.actor(actor).require_active()?;
        let listed = self.inner.limits.reactors_listed_per_emoji;
        let items = self.store().replies(message_id, keyset.cursor, keyset.size + 1, listed).await?;
        Ok(key.page(items, &keyset, |m| m.seq))
    }

    /// Edits the text of one's own message, keeping its mentions. Event: `message_updated`.
    pub async fn edit_message(&self, actor: &AgentId, message_id: MessageId, text: String) -> Result<Message> {
        self.edit_message_with(actor, message_id, MessageEdit { text, mentions: None }).await
    }

    /// Edits one's own message: its text, and its mentions when given.
    /// Event: `message_updated`.
    pub async fn edit_message_with(
        &self,
        actor: &AgentId,
        message_id: MessageId,
        input: MessageEdit,
    ) -> Result<Message> {
        syntax::message_text(&input.text, &self.inner.limits)?;
        let unknown = match &input.mentions {
            Some(mentions) => {
                syntax::mentions(mentions, &self.inner.limits)?;
                self.first_unknown(mentions).await
            }
            None => None,
        };
        let input = &input;
        let applied = self
            .run(|fresh| async move {
                let (visible, message) = self.visible_message(actor, message_id).await?;
                rules::messages::edit(&visible.talk, &visible.actor(actor), &message, input, unknown, &fresh)
            })
            .await?;
        match applied {
            super::Applied::Repeat(message) => Ok(message),
            super::Applied::Committed(_) => self.current_message(message_id).await,
        }
    }

    /// Deletes one's own message, leaving a tombstone; its content goes from
    /// every earlier event too. Event: `message_deleted`.
    pub async fn delete_message(&self, actor: &AgentId, message_id: MessageId) -> Result<Message> {
        let applied = self
            .run(|fresh| async move {
                let (visible, message) = self.visible_message(actor, message_id).await?;
                rules::messages::delete(&visible.talk, &visible.actor(actor), &message, &fresh)
            })
            .await?;
        match applied {
            super::Applied::Repeat(message) => Ok(message),
            super::Applied::Committed(_) => self.current_message(message_id).await,
        }
    }
}
