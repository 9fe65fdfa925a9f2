//! Reactions: add and remove one's own, list who reacted with an emoji.

use super::Hub;
use crate::error::Result;
use crate::id::{AgentId, MessageId};
use crate::message::Message;
use crate::page::{ListKey, Page, PageRequest};
use crate::reaction::{Emoji, Reaction};
use crate::rules;

impl Hub {
    /// Adds the caller's reaction; answers the message. Event: `reaction_added`.
    pub async fn add_reaction(&self, actor: &AgentId, message_id: MessageId, emoji: &str) -> Result<Message> {
        let emoji = Emoji::parse(emoji)?;
        self.run(|fresh| async move {
            let (visible, message) = self.visible_message(actor, message_id).await?;
            let exists = self.reacted(&message, emoji, actor).await?;
            let limits = &self.inner.limits;
            rules::reactions::add(&visible.talk, &visible.actor(actor), &message, emoji, exists, limits, &fresh)
        })
        .await?;
        self.current_message(message_id).await
    }

    /// Removes the caller's reaction; answers the message. Event: `reaction_removed`.
    pub async fn remove_reaction(&self, actor: &AgentId, message_id: MessageId, emoji: &str) -> Result<Message> {
        let emoji = Emoji::parse(emoji)?;
        self.run(|fresh| async move {
            let (visible, message) = self.visible_message(actor, message_id).await?;
            let exists = self.reacted(&message, emoji, actor).await?;
            rules::reactions::remove(&visible.talk, &visible.actor(actor), &message, emoji, exists, &fresh)
        })
        .await?;
        self.current_message(message_id).await
    }

    /// The agents that reacted to a message with one emoji, in order.
    pub async fn reactions(
        &self,
        actor: &AgentId,
        message_id: MessageId,
        emoji: &str,
        page: &PageRequest,
    ) -> Result<Page<Reaction>> {
        let emoji = Emoji::parse(emoji)?;
        let key = ListKey { kind: "e", scope: format!("{message_id}|{emoji}") };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let (visible, _) = self.visible_message(actor, message_id).await?;
        visible.actor(actor).require_active()?;
        let items = self.store().reactions(message_id, &emoji, keyset.cursor, keyset.size + 1).await?;
        Ok(key.page(items, &keyset, |r| r.seq))
    }
}
