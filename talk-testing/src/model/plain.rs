//! Plain, comparable forms of talks, participants, messages, events and
//! answers. Both sides of the model test are turned into these: the Hub's
//! results (with its ids mapped to the model's names `t0`, `p3`, `m7`) and
//! the model's own.
//!
//! Timestamps are not compared as values (the Hub reads its clock as often
//! as it likes): equality checks only whether the optional ones are set.
//! `tm_update` and `tm_close` are [`Stamp`]s: the model counts how often
//! each should have moved, and the runner checks separately that the Hub's
//! values move exactly then (equal for the same count, later for a higher
//! one).

use talk_core::Timestamp;

/// A `tm_update` or `tm_close`: on the model's side the number of times it
/// has moved, on the Hub's side the time. Always equal as far as `==` goes;
/// the runner checks stamps on their own.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stamp {
    /// The model's count.
    Gen(u32),
    /// The Hub's value.
    At(Timestamp),
}

impl PartialEq for Stamp {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Stamp {}

/// A media entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PMedia {
    /// `type`.
    pub(super) media_type: String,
    /// `url`.
    pub(super) url: String,
    /// `name`.
    pub(super) name: String,
}

/// A talk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PTalk {
    /// `t<n>`.
    pub(super) id: String,
    /// `direct`, `group` or `public`.
    pub(super) kind: &'static str,
    /// The pair of a direct talk, the lesser agent first.
    pub(super) pair: Option<(String, String)>,
    /// Name.
    pub(super) name: String,
    /// Detail.
    pub(super) detail: String,
    /// `active` or `closed`.
    pub(super) status: &'static str,
    /// Creator.
    pub(super) creator: String,
    /// Active participants.
    pub(super) member_count: u32,
    /// `seq` of its `talk_created`.
    pub(super) created_seq: u64,
    /// `tm_update`.
    pub(super) tm_update: Stamp,
    /// `tm_close`.
    pub(super) tm_close: Option<Stamp>,
}

/// A participant record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PPart {
    /// `p<n>`.
    pub(super) id: String,
    /// Its talk.
    pub(super) talk: String,
    /// Its agent.
    pub(super) agent: String,
    /// `active` or `left`.
    pub(super) status: &'static str,
    /// `left` or `removed` once ended.
    pub(super) left_reason: Option<&'static str>,
    /// `seq` of its own `participant_joined`.
    pub(super) seq: u64,
    /// First `seq` of its span.
    pub(super) joined_seq: u64,
    /// Last `seq` of its span.
    pub(super) left_seq: Option<u64>,
    /// `tm_left`.
    pub(super) tm_left: Option<Stamp>,
}

/// The `system` object of a system message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PSystem {
    /// `event`.
    pub(super) event: &'static str,
    /// `agent_id`.
    pub(super) agent: String,
    /// `actor_id`.
    pub(super) actor: Option<String>,
    /// `name`.
    pub(super) name: Option<String>,
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PReaction {
    /// Canonical emoji.
    pub(super) emoji: String,
    /// Exact count.
    pub(super) count: u32,
    /// Agents in the order they reacted.
    pub(super) agents: Vec<String>,
}

/// The text every system message is compared as (its English wording is
/// not the model's business; it must only be non-empty).
pub(super) const SYSTEM_TEXT: &str = "<system text>";

/// A message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PMsg {
    /// `m<n>`.
    pub(super) id: String,
    /// Its talk.
    pub(super) talk: String,
    /// Its parent.
    pub(super) parent: Option<String>,
    /// `normal` or `system`.
    pub(super) kind: &'static str,
    /// Author (`None` for system messages).
    pub(super) agent: Option<String>,
    /// Text ([`SYSTEM_TEXT`] for a system message with a non-empty text).
    pub(super) text: String,
    /// Medias.
    pub(super) medias: Vec<PMedia>,
    /// Mentions, in the order first named.
    pub(super) mentions: Vec<String>,
    /// The `system` object.
    pub(super) system: Option<PSystem>,
    /// Reaction summaries.
    pub(super) reactions: Vec<PReaction>,
    /// Replies.
    pub(super) reply_count: u32,
    /// `seq` of its `message_created`.
    pub(super) seq: u64,
    /// `tm_update`.
    pub(super) tm_update: Stamp,
    /// `tm_edit` (moves on every edit).
    pub(super) tm_edit: Option<Stamp>,
    /// `tm_delete`.
    pub(super) tm_delete: Option<Stamp>,
}

/// What an event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PData {
    /// `talk_created` and the other talk events: the type name and the talk.
    Talk(&'static str, PTalk),
    /// `participant_joined` / `participant_left`.
    Participant(&'static str, PPart),
    /// `message_created` / `message_updated` / `message_deleted`.
    Message(&'static str, PMsg),
    /// `reaction_added` / `reaction_removed`: message, emoji, agent.
    Reaction(&'static str, String, String, String),
    /// `talk_read`: the reader and its marker.
    Read(String, u64),
}

/// An event of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PEvent {
    /// Its `seq`.
    pub(super) seq: u64,
    /// Its talk.
    pub(super) talk: String,
    /// Its payload.
    pub(super) data: PData,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// A talk; `created` for `create_talk`.
    Talk(PTalk, Option<bool>),
    /// A participant record.
    Participant(PPart),
    /// A participant record of `join_talk`, and whether the call made it.
    Joined(PPart, bool),
    /// A message; `created` for `send_message`.
    Message(PMsg, Option<bool>),
    /// A list of talks.
    Talks(Vec<PTalk>),
    /// A list of participant records.
    Participants(Vec<PPart>),
    /// A list of messages.
    Messages(Vec<PMsg>),
    /// The agents that reacted with one emoji, in order.
    Reactors(Vec<String>),
    /// The `seq`s of an agent's events.
    Seqs(Vec<u64>),
    /// A read state: agent, `last_read_seq`, `last_read_message_id`, unread
    /// and mention counts.
    Read(String, u64, Option<String>, u64, u64),
    /// Taken, with nothing to answer (typing).
    Taken,
}

/// What a command answers: a value, or an error code (or, for the Hub, a
/// broken page chain described in words).
pub(super) type Outcome = Result<Answer, String>;

/// A short, one-line summary of an outcome for traces.
pub(super) fn summary(outcome: &Outcome) -> String {
    match outcome {
        Err(code) => format!("error {code}"),
        Ok(Answer::Talk(t, created)) => format!(
            "talk {} {} members={}{}",
            t.id,
            t.status,
            t.member_count,
            created.map(|c| if c { " (created)" } else { " (found)" }).unwrap_or("")
        ),
        Ok(Answer::Participant(p)) => format!("participant {} {} {} {:?}", p.id, p.agent, p.status, p.left_reason),
        Ok(Answer::Joined(p, created)) => {
            format!("participant {} {} {}{}", p.id, p.agent, p.status, if *created { " (created)" } else { " (found)" })
        }
        Ok(Answer::Message(m, created)) => format!(
            "message {}{}{}",
            m.id,
            if m.tm_delete.is_some() { " (deleted)" } else { "" },
            created.map(|c| if c { " (created)" } else { " (stored)" }).unwrap_or("")
        ),
        Ok(Answer::Talks(list)) => format!("talks {:?}", list.iter().map(|t| t.id.as_str()).collect::<Vec<_>>()),
        Ok(Answer::Participants(list)) => {
            format!("participants {:?}", list.iter().map(|p| p.id.as_str()).collect::<Vec<_>>())
        }
        Ok(Answer::Messages(list)) => format!("messages {:?}", list.iter().map(|m| m.id.as_str()).collect::<Vec<_>>()),
        Ok(Answer::Reactors(list)) => format!("reactors {list:?}"),
        Ok(Answer::Taken) => "taken".to_owned(),
        Ok(Answer::Seqs(list)) => format!("{} events", list.len()),
        Ok(Answer::Read(agent, seq, _, unread, mentions)) => {
            format!("{agent} read to {seq}, unread={unread} mentions={mentions}")
        }
    }
}

/// Every stamp in a talk, keyed by what it belongs to (`t3.update`,
/// `t3.close`).
fn talk_stamps(t: &PTalk, out: &mut Vec<(String, Stamp)>) {
    out.push((format!("{}.tm_update", t.id), t.tm_update));
    if let Some(close) = t.tm_close {
        out.push((format!("{}.tm_close", t.id), close));
    }
}

fn msg_stamps(m: &PMsg, out: &mut Vec<(String, Stamp)>) {
    out.push((format!("{}.tm_update", m.id), m.tm_update));
    if let Some(edit) = m.tm_edit {
        out.push((format!("{}.tm_edit", m.id), edit));
    }
    if let Some(delete) = m.tm_delete {
        out.push((format!("{}.tm_delete", m.id), delete));
    }
}

fn part_stamps(p: &PPart, out: &mut Vec<(String, Stamp)>) {
    if let Some(left) = p.tm_left {
        out.push((format!("{}.tm_left", p.id), left));
    }
}

/// The stamps of an answer, in a fixed order.
pub(super) fn answer_stamps(answer: &Answer) -> Vec<(String, Stamp)> {
    let mut out = Vec::new();
    match answer {
        Answer::Talk(t, _) => talk_stamps(t, &mut out),
        Answer::Message(m, _) => msg_stamps(m, &mut out),
        Answer::Talks(list) => list.iter().for_each(|t| talk_stamps(t, &mut out)),
        Answer::Messages(list) => list.iter().for_each(|m| msg_stamps(m, &mut out)),
        Answer::Participant(p) | Answer::Joined(p, _) => part_stamps(p, &mut out),
        Answer::Participants(list) => list.iter().for_each(|p| part_stamps(p, &mut out)),
        Answer::Reactors(_) | Answer::Seqs(_) | Answer::Read(..) | Answer::Taken => {}
    }
    out
}

/// The stamps of an event's payload.
pub(super) fn event_stamps(event: &PEvent) -> Vec<(String, Stamp)> {
    let mut out = Vec::new();
    match &event.data {
        PData::Talk(_, t) => talk_stamps(t, &mut out),
        PData::Message(_, m) => msg_stamps(m, &mut out),
        PData::Participant(_, p) => part_stamps(p, &mut out),
        PData::Reaction(..) | PData::Read(..) => {}
    }
    out
}

/// What the runner knows of each stamp: for each key and model count, the
/// Hub's time.
#[derive(Debug, Default)]
pub(super) struct Clocks {
    seen: Vec<(String, u32, Timestamp)>,
}

impl Clocks {
    /// Checks the Hub's stamps (`hub`) against the model's (`model`), pair by
    /// pair: the same count always shows the same time, a higher count a
    /// later one.
    pub(super) fn check(&mut self, hub: &[(String, Stamp)], model: &[(String, Stamp)]) -> Result<(), String> {
        for ((key, got), (_, want)) in hub.iter().zip(model) {
            let (Stamp::At(at), Stamp::Gen(generation)) = (*got, *want) else { continue };
            let mut known = false;
            for (k, g, a) in &self.seen {
                if k != key {
                    continue;
                }
                let fine = match g.cmp(&generation) {
                    std::cmp::Ordering::Equal => *a == at,
                    std::cmp::Ordering::Less => *a < at,
                    std::cmp::Ordering::Greater => *a > at,
                };
                if !fine {
                    let expected = match g.cmp(&generation) {
                        std::cmp::Ordering::Equal => "the same time",
                        std::cmp::Ordering::Less => "a later time",
                        std::cmp::Ordering::Greater => "an earlier time",
                    };
                    return Err(format!(
                        "{key}: by the model it has moved {generation} time(s) now and {g} time(s) when the hub \
                         showed {a}, so it should show {expected}, but it shows {at}"
                    ));
                }
                known |= *g == generation;
            }
            if !known {
                self.seen.push((key.clone(), generation, at));
            }
        }
        Ok(())
    }
}
