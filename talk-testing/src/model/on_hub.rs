//! The Hub side of the model test: each generated operation run on the Hub,
//! its answer in the shape the model answers in.

use super::*;

/// What the Hub answered, before its ids are mapped.
pub(super) enum Raw {
    Talk(Talk, Option<bool>),
    Participant(Participant),
    Joined(Participant, bool),
    Message(Message, Option<bool>),
    Talks(Vec<Talk>),
    Participants(Vec<Participant>),
    Messages(Vec<Message>),
    Reactors(Vec<Reaction>),
    Seqs(Vec<u64>),
    Read(ReadState),
    Taken,
}

/// Reads every page of a list, checking that the pages chain properly:
/// at most `size` items, full when another page follows, and a token that
/// never leads to an empty page.
macro_rules! all_pages {
    ($size:expr, $request:ident => $call:expr) => {{
        let size: u32 = $size;
        let mut $request = PageRequest::of_size(size);
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let page = match $call.await {
                Ok(page) => page,
                Err(e) if first => break Err(e.code().to_owned()),
                Err(e) => break Err(format!("broken paging: a later page answered {}", e.code())),
            };
            let n = page.items.len();
            if !first && n == 0 {
                break Err("broken paging: a next_page_token led to an empty page".to_owned());
            }
            first = false;
            if n > size as usize || (page.has_more() && n < size as usize) {
                break Err(format!("broken paging: a page of size {size} held {n} items, more: {}", page.has_more()));
            }
            let next = $request.after(&page);
            let more = page.has_more();
            items.extend(page.items);
            if !more {
                break Ok(items);
            }
            if items.len() > 100_000 {
                break Err("broken paging: the list does not end".to_owned());
            }
            $request = next;
        }
    }};
}

pub(super) async fn run_on_hub(hub: &Hub, store: &dyn Store, op: &Op, ids: &Ids) -> Result<Raw, String> {
    let code = |e: talk_core::Error| e.code().to_owned();
    match op {
        Op::CreateTalk { actor, direct, public, name, detail, listed } => {
            let kind = match (direct, public) {
                (true, _) => TalkKind::Direct,
                (false, true) => TalkKind::Public,
                (false, false) => TalkKind::Group,
            };
            let input = NewTalk {
                kind,
                name: name.clone(),
                detail: detail.clone(),
                participant_ids: listed.iter().map(|a| agent_id(a)).collect(),
            };
            hub.create_talk(&agent_id(actor), input).await.map(|c| Raw::Talk(c.resource, Some(c.created))).map_err(code)
        }
        Op::Add { actor, talk, agent } => hub
            .add_participant(&agent_id(actor), ids.talk_id(*talk), &agent_id(agent))
            .await
            .map(Raw::Participant)
            .map_err(code),
        Op::Join { actor, talk } => hub
            .join_talk(&agent_id(actor), ids.talk_id(*talk))
            .await
            .map(|c| Raw::Joined(c.resource, c.created))
            .map_err(code),
        Op::Remove { actor, talk, target } => {
            let target = match target {
                None => ParticipantRef::Me,
                Some(p) => ParticipantRef::Id(ids.part_id(*p)),
            };
            hub.remove_participant(&agent_id(actor), ids.talk_id(*talk), target)
                .await
                .map(Raw::Participant)
                .map_err(code)
        }
        Op::Close { actor, talk } => {
            hub.close_talk(&agent_id(actor), ids.talk_id(*talk)).await.map(|t| Raw::Talk(t, None)).map_err(code)
        }
        Op::Reopen { actor, talk } => {
            hub.reopen_talk(&agent_id(actor), ids.talk_id(*talk)).await.map(|t| Raw::Talk(t, None)).map_err(code)
        }
        Op::Update { actor, talk, name, detail } => {
            let changes = TalkChanges { name: name.clone(), detail: detail.clone() };
            hub.update_talk(&agent_id(actor), ids.talk_id(*talk), changes)
                .await
                .map(|t| Raw::Talk(t, None))
                .map_err(code)
        }
        Op::Send { actor, talk, text, medias, parent, id, mentions } => {
            let input = NewMessage {
                mentions: mentions.iter().map(|a| agent_id(a)).collect(),
                text: text.clone(),
                parent_id: parent.map(|p| ids.msg_id(p)),
                medias: medias
                    .iter()
                    .map(|m| Media { media_type: m.media_type.clone(), url: m.url.clone(), name: m.name.clone() })
                    .collect(),
                id: id.map(|c| match c {
                    ClientId::Of(m) => ids.msg_id(Some(m)),
                    ClientId::Fresh(u) => MessageId(Uuid::from_u128(u)),
                }),
            };
            hub.send_message(&agent_id(actor), ids.talk_id(*talk), input)
                .await
                .map(|c| Raw::Message(c.resource, Some(c.created)))
                .map_err(code)
        }
        Op::Edit { actor, msg, text, mentions } => {
            let edit = MessageEdit {
                text: text.clone(),
                mentions: mentions.as_ref().map(|m| m.iter().map(|a| agent_id(a)).collect()),
            };
            hub.edit_message_with(&agent_id(actor), ids.msg_id(*msg), edit)
                .await
                .map(|m| Raw::Message(m, None))
                .map_err(code)
        }
        Op::MarkRead { actor, talk, msg } => hub
            .mark_read(&agent_id(actor), ids.talk_id(*talk), msg.map(|m| ids.msg_id(m)))
            .await
            .map(Raw::Read)
            .map_err(code),
        Op::Typing { actor, talk, typing } => {
            hub.typing(&agent_id(actor), ids.talk_id(*talk), None, *typing).await.map(|()| Raw::Taken).map_err(code)
        }
        Op::MarkUnread { actor, talk, msg } => {
            hub.mark_unread(&agent_id(actor), ids.talk_id(*talk), ids.msg_id(*msg)).await.map(Raw::Read).map_err(code)
        }
        Op::Delete { actor, msg } => {
            hub.delete_message(&agent_id(actor), ids.msg_id(*msg)).await.map(|m| Raw::Message(m, None)).map_err(code)
        }
        Op::React { actor, msg, emoji } => hub
            .add_reaction(&agent_id(actor), ids.msg_id(*msg), emoji)
            .await
            .map(|m| Raw::Message(m, None))
            .map_err(code),
        Op::Unreact { actor, msg, emoji } => hub
            .remove_reaction(&agent_id(actor), ids.msg_id(*msg), emoji)
            .await
            .map(|m| Raw::Message(m, None))
            .map_err(code),
        Op::Talks { actor, closed, page_size } => {
            let actor = agent_id(actor);
            let status = closed.map(|c| if c { TalkStatus::Closed } else { TalkStatus::Active });
            all_pages!(*page_size, request => hub.talks(&actor, status, &request)).map(Raw::Talks)
        }
        Op::Talk { actor, talk } => {
            hub.talk(&agent_id(actor), ids.talk_id(*talk)).await.map(|t| Raw::Talk(t, None)).map_err(code)
        }
        Op::Participants { actor, talk, filter, page_size } => {
            let actor = agent_id(actor);
            let filter = match filter {
                PartFilter::Active => ParticipantFilter::Active,
                PartFilter::Left => ParticipantFilter::Left,
                PartFilter::All => ParticipantFilter::All,
            };
            let talk = ids.talk_id(*talk);
            all_pages!(*page_size, request => hub.participants(&actor, talk, filter, &request)).map(Raw::Participants)
        }
        Op::Messages { actor, talk, include_replies, page_size } => {
            let actor = agent_id(actor);
            let talk = ids.talk_id(*talk);
            all_pages!(*page_size, request => hub.messages(&actor, talk, message_filter(*include_replies), &request))
                .map(Raw::Messages)
        }
        Op::Message { actor, msg } => {
            hub.message(&agent_id(actor), ids.msg_id(*msg)).await.map(|m| Raw::Message(m, None)).map_err(code)
        }
        Op::Replies { actor, msg, page_size } => {
            let actor = agent_id(actor);
            let msg = ids.msg_id(*msg);
            all_pages!(*page_size, request => hub.replies(&actor, msg, &request)).map(Raw::Messages)
        }
        Op::Reactions { actor, msg, emoji, page_size } => {
            let actor = agent_id(actor);
            let msg = ids.msg_id(*msg);
            all_pages!(*page_size, request => hub.reactions(&actor, msg, emoji, &request)).map(Raw::Reactors)
        }
        Op::Directory { q, page_size } => {
            all_pages!(*page_size, request => hub.public_talks(q.as_deref(), &request)).map(Raw::Talks)
        }
        Op::Search { actor, q, talk, page_size } => {
            let actor = agent_id(actor);
            let filters = SearchFilters { talk_id: talk.map(|t| ids.talk_id(t)), ..SearchFilters::default() };
            let search = SearchRequest { filters, ..SearchRequest::new(q.clone()) };
            let hits = all_pages!(*page_size, request => hub.search_messages(&actor, &search, &request));
            hits.map(|hits| Raw::Messages(hits.into_iter().map(|hit| hit.message).collect()))
        }
        Op::Feed { agent, talk } => {
            let talk = talk.map(|t| ids.talk_id(t));
            store
                .agent_events(&agent_id(agent), talk, 0, LOG_LIMIT)
                .await
                .map(|events| Raw::Seqs(events.iter().map(|e| e.seq).collect()))
                .map_err(|e| format!("store.agent_events failed: {e}"))
        }
    }
}

/// The Hub's name for the model's `include_replies`.
fn message_filter(include_replies: bool) -> MessageFilter {
    if include_replies { MessageFilter::WithReplies } else { MessageFilter::TopLevel }
}
