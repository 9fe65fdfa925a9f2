//! A policy with talk roles: the creator of a talk is its owner, and only
//! the owner renames it, closes it, or removes others (anyone may still
//! leave). Run: `cargo run --example talk_roles`.

#![allow(clippy::print_stdout, reason = "an example program reports on its standard output")]

use std::sync::Arc;

use talk_core::policy::{Command, Policy, PolicyError, Request, Verdict};
use talk_core::{AgentId, Hub, NewTalk, TalkChanges, TalkKind};
use talk_store_memory::MemoryStore;

/// Only a talk's owner (its creator) renames, closes, or removes others.
struct TalkRoles;

impl Policy for TalkRoles {
    fn check(&self, request: &Request<'_>) -> Result<Verdict, PolicyError> {
        let owners_only = match request.command {
            Command::UpdateTalk(changes) => changes.name.is_some(),
            Command::CloseTalk | Command::RemoveParticipant { .. } => true,
            _ => false,
        };
        let is_owner = request.talk.is_some_and(|talk| &talk.creator_id == request.actor);
        Ok(if owners_only && !is_owner {
            Verdict::Refuse("owner_only: only the talk's owner may do this".into())
        } else {
            Verdict::Allow
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let hub = Hub::builder(Arc::new(MemoryStore::new())).policy(Arc::new(TalkRoles)).build();
    let (owner, member) = (AgentId::parse("agent-owner")?, AgentId::parse("agent-member")?);
    let input = NewTalk {
        kind: TalkKind::Group,
        name: Some("Roles".into()),
        detail: None,
        participant_ids: vec![member.clone()],
    };
    let talk = hub.create_talk(&owner, input).await?.resource;
    let rename = |name: &str| TalkChanges { name: Some(name.into()), detail: None };

    match hub.update_talk(&member, talk.id, rename("Mine now")).await {
        Err(refused) => println!("member renames: {} ({refused})", refused.code()),
        Ok(_) => println!("member renames: allowed"),
    }
    let renamed = hub.update_talk(&owner, talk.id, rename("Owned")).await?;
    println!("owner renames: {}", renamed.name);
    let closed = hub.close_talk(&member, talk.id).await.map(|_| "allowed").unwrap_or_else(|e| e.code());
    println!("member closes: {closed}");
    Ok(())
}
