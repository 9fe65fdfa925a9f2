//! The reference model test: random command sequences run through the
//! [`Hub`] on a store and through a separately written, deliberately plain
//! model of API.md, every answer and the whole event log compared.
//!
//! The model (vectors and loops, in `model/state.rs`) shares no code with
//! talk-core's rules: it is the one place where the rules are written twice,
//! so that it can disagree with them. Any store crate runs the test against
//! its store with [`run_model_test`]:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn make_store() -> Arc<dyn talk_core::Store> { unimplemented!() }
//! // In a store crate's `tests/model.rs`, inside a `#[test]` function:
//! talk_testing::model::run_model_test(make_store);
//! ```
//!
//! What one case does: build a fresh store with the factory, a Hub on it
//! (a [`ManualClock`], a [`StaticDirectory`] of four agents, at most
//! [`PARTICIPANTS_MAX`] participants per talk and [`DISTINCT_EMOJI_MAX`]
//! emoji per message), then for each generated command — create group,
//! public and direct talks, add, join, remove, leave, close, reopen, rename,
//! send, reply,
//! send with client-chosen ids and resend them, edit, delete, react,
//! unreact, and reads of every list (the public talk directory with a `q`
//! too) page by page, searches included —
//!
//! 1. resolve the command's references against what exists (now and then an
//!    id that names nothing, or a fifth agent the directory does not know);
//! 2. run it on the Hub and on the model;
//! 3. compare the store's event log with the model's (type, talk, `seq` and
//!    the payload's key fields, redactions included) — the new events after
//!    each command, the whole log after a delete and at the end;
//! 4. compare the answers: the plain form of the value (ids, status,
//!    counters, texts, reactions, `created`), or the error code.
//!
//! A failure names the first command that differs, both answers, and the
//! resolved sequence up to it, after proptest has shrunk it.
//!
//! Environment: `PROPTEST_CASES` (sequences, default 256); proptest's other
//! variables (`PROPTEST_RNG_SEED`, `PROPTEST_MAX_SHRINK_ITERS`, …) apply
//! too; `TALK_MODEL_STATS=1` prints to stderr how often each command
//! answered each outcome, to see what the generator reaches.

mod commands;
mod on_hub;
mod plain;
mod state;

use on_hub::{Raw, run_on_hub};

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use uuid::Uuid;

use self::commands::{AGENTS, Cmd, Op, Ref};
use self::plain::{
    Answer, Clocks, Outcome, PData, PEvent, PMedia, PMsg, PPart, PReaction, PSystem, PTalk, SYSTEM_TEXT, Stamp,
};
use self::state::{ClientId, Intro, Model, PartFilter};
use talk_core::{
    AgentId, Delivery, Event, EventData, Hub, LeftReason, Limits, ManualClock, Media, Message, MessageEdit,
    MessageFilter, MessageId, MessageKind, NewMessage, NewTalk, PageRequest, Participant, ParticipantFilter,
    ParticipantId, ParticipantRef, ParticipantStatus, Reaction, ReadState, Scope, SearchFilters, SearchRequest,
    StaticDirectory, Store, Subscription, SystemEvent, Talk, TalkChanges, TalkId, TalkKind, TalkStatus,
};

/// The participant limit the model test sets (low, so that it is reached).
pub const PARTICIPANTS_MAX: usize = 3;
/// The distinct-emoji limit the model test sets (low, so that it is reached).
pub const DISTINCT_EMOJI_MAX: usize = 2;

/// How many events a log read asks for (more than any case makes).
const LOG_LIMIT: usize = 1_000_000;

/// How many sequences the model test runs, and how long they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelConfig {
    /// Random command sequences to run.
    pub cases: u32,
    /// The longest sequence.
    pub max_commands: usize,
}

impl ModelConfig {
    /// `PROPTEST_CASES` sequences (256 when unset) of at most 60 commands.
    pub fn from_env() -> Self {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(256);
        Self { cases, max_commands: 60 }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self::from_env()
    }
}

/// Runs the model test with [`ModelConfig::from_env`]: `factory` makes a
/// fresh, empty store for each case (it runs inside the case's Tokio
/// runtime, so it may spawn). Panics with the shrunk failing sequence and
/// the first difference between the Hub and the model.
pub fn run_model_test<F>(factory: F)
where
    F: Fn() -> Arc<dyn Store>,
{
    run_model_test_with(ModelConfig::from_env(), factory);
}

/// Runs the model test with an explicit configuration; see [`run_model_test`].
pub fn run_model_test_with<F>(config: ModelConfig, factory: F)
where
    F: Fn() -> Arc<dyn Store>,
{
    let proptest_config = Config { cases: config.cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(proptest_config);
    // Every sequence starts with a talk creation: before the first talk
    // exists, every command answers `not_found`, which says little.
    let rest = proptest::collection::vec(commands::cmd(), 0..config.max_commands.max(1));
    let strategy = (commands::create_cmd(), rest).prop_map(|(first, mut rest)| {
        rest.insert(0, first);
        rest
    });
    let stats = RefCell::new(BTreeMap::new());
    let result = runner.run(&strategy, |cmds| run_case(&factory, &cmds, &stats).map_err(TestCaseError::fail));
    if std::env::var_os("TALK_MODEL_STATS").is_some() {
        eprintln!("model test: what the model answered, by command (all cases, shrinking included)");
        for ((kind, answer), n) in stats.borrow().iter() {
            eprintln!("{n:8}  {kind:<28} {answer}");
        }
    }
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, cmds)) => {
            let (cmds, reason) = minimize(&factory, cmds, reason.to_string());
            let generated: Vec<String> = cmds.iter().enumerate().map(|(k, c)| format!("  #{k} {c:?}")).collect();
            panic!(
                "the Hub disagrees with the reference model\n{reason}\n\nshrunk sequence as generated ({} commands):\n{}",
                cmds.len(),
                generated.join("\n")
            );
        }
        Err(TestError::Abort(why)) => panic!("the model test aborted: {why}"),
    }
}

/// Shrinks a failing sequence further than proptest's single pass of
/// deletions: drops any command whose removal keeps the case failing, until
/// none can go.
fn minimize<F>(factory: &F, mut cmds: Vec<Cmd>, mut reason: String) -> (Vec<Cmd>, String)
where
    F: Fn() -> Arc<dyn Store>,
{
    let scratch = RefCell::new(BTreeMap::new());
    loop {
        let mut shrunk = false;
        let mut k = 0;
        while k < cmds.len() && cmds.len() > 1 {
            let mut fewer = cmds.clone();
            fewer.remove(k);
            let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(factory, &fewer, &scratch)));
            match failed {
                Ok(Err(why)) => {
                    cmds = fewer;
                    reason = why;
                    shrunk = true;
                }
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    cmds = fewer;
                    reason = format!("the case panicked: {what}");
                    shrunk = true;
                }
                Ok(Ok(())) => k += 1,
            }
        }
        if !shrunk {
            return (cmds, reason);
        }
    }
}

/// How often each command answered each outcome, for `TALK_MODEL_STATS`.
type Stats = RefCell<BTreeMap<(&'static str, String), u64>>;

/// Runs one command sequence; `Err` describes the first difference.
fn run_case<F>(factory: &F, cmds: &[Cmd], stats: &Stats) -> Result<(), String>
where
    F: Fn() -> Arc<dyn Store>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a Tokio runtime: {e}"))?;
    let store = {
        let _inside = runtime.enter();
        factory()
    };
    let mut limits = Limits::default();
    limits.participants_per_talk_max = PARTICIPANTS_MAX;
    limits.distinct_emoji_per_message_max = DISTINCT_EMOJI_MAX;
    let directory = StaticDirectory::new(AGENTS.iter().map(|a| agent_id(a)));
    let hub = Hub::builder(store.clone())
        .clock(Arc::new(ManualClock::default()))
        .directory(Arc::new(directory))
        .limits(limits)
        .build();
    let mut model = Model::new(AGENTS.iter().map(|a| (*a).to_owned()).collect(), PARTICIPANTS_MAX, DISTINCT_EMOJI_MAX);
    let mut ids = Ids::default();
    let mut clocks = Clocks::default();
    let mut trace: Vec<String> = Vec::new();
    runtime.block_on(async {
        let mut live = Vec::new();
        for agent in AGENTS {
            let agent = agent_id(agent);
            let subscription = hub
                .subscribe(&agent, Scope::All, None)
                .await
                .map_err(|e| format!("subscribing {agent} live failed: {e}"))?;
            live.push(subscription);
        }
        for (k, cmd) in cmds.iter().enumerate() {
            let op = commands::resolve(&model, cmd);
            let before = model.events().len();
            let raw = run_on_hub(&hub, store.as_ref(), &op, &ids).await;
            let expected = commands::run_on_model(&mut model, &op);
            let from = if op.rewrites_log() || k + 1 == cmds.len() { 0 } else { before };
            let report = |trace: &[String], why: String| {
                format!(
                    "first difference at command #{k} of {}: {op}\n  (generated as {cmd:?})\n{why}\n\nthe sequence up to it, resolved, with the model's answers:\n{}\n  #{k} {op}",
                    cmds.len(),
                    trace.join("\n")
                )
            };
            if let Err(why) = compare_log(store.as_ref(), &model, &mut ids, &mut clocks, from).await {
                return Err(report(&trace, format!("event log: {why}\n  the model answered: {expected:?}")));
            }
            if let Err(why) = compare_counts(&hub, &model, &ids).await {
                return Err(report(&trace, format!("counts: {why}\n  the model answered: {expected:?}")));
            }
            let actual: Outcome = raw.map(|raw| ids.answer(raw));
            if actual != expected {
                return Err(report(&trace, format!("answers differ:\n  hub:   {actual:?}\n  model: {expected:?}")));
            }
            if let (Ok(got), Ok(want)) = (&actual, &expected)
                && let Err(why) = clocks.check(&plain::answer_stamps(got), &plain::answer_stamps(want)) {
                    return Err(report(&trace, format!("timestamps of the answer: {why}\n  hub:   {got:?}")));
                }
            let label = match &expected {
                Ok(_) => format!("ok, {} events", model.events().len() - before),
                Err(code) => code.clone(),
            };
            *stats.borrow_mut().entry((op.kind(), label)).or_insert(0) += 1;
            trace.push(format!("  #{k} {op}  →  {}", plain::summary(&expected)));
        }
        for subscription in &mut live {
            compare_live_with_replay(&hub, store.as_ref(), subscription).await.map_err(|why| {
                format!("live delivery: {why}\n\nthe sequence, resolved:\n{}", trace.join("\n"))
            })?;
        }
        Ok(())
    })
}

/// Every agent's unread and mention counts in each of its talks (the talk
/// list's counts) and its totals, on the Hub and by the model.
async fn compare_counts(hub: &Hub, model: &Model, ids: &Ids) -> Result<(), String> {
    for agent in AGENTS {
        let who = agent_id(agent);
        let mut got = Vec::new();
        let mut page = PageRequest::of_size(100);
        loop {
            let listed = hub.talks_with_counts(&who, None, &page).await.map_err(|e| format!("{agent}'s talks: {e}"))?;
            for item in &listed.items {
                let counts = item.counts.ok_or_else(|| format!("{agent}: no counts in a talk it is active in"))?;
                got.push((name_of(&ids.talks, 't', item.resource.id.0), counts.unread_count, counts.mention_count));
            }
            if !listed.has_more() {
                break;
            }
            page = page.after(&listed);
        }
        got.sort();
        let want = model.all_counts(agent);
        if got != want {
            return Err(format!("{agent}'s counts by talk: hub {got:?}, model {want:?}"));
        }
        let totals = hub.unread_totals(&who).await.map_err(|e| format!("{agent}'s totals: {e}"))?;
        let want_totals = (
            want.iter().filter(|(_, unread, _)| *unread > 0).count() as u64,
            want.iter().map(|(_, unread, _)| unread).sum::<u64>(),
            want.iter().map(|(_, _, mentions)| mentions).sum::<u64>(),
        );
        if (totals.talks, totals.messages, totals.mentions) != want_totals {
            return Err(format!("{agent}'s totals: hub {totals:?}, model {want_totals:?}"));
        }
    }
    Ok(())
}

/// The stream a live subscriber received (subscribed before the first
/// command) must equal the replay of the same agent's events from the log,
/// and both what the store says the agent sees: `(seq, type)` of each event,
/// in order. Payloads may differ where a later delete redacted them.
async fn compare_live_with_replay(hub: &Hub, store: &dyn Store, live: &mut Subscription) -> Result<(), String> {
    let agent = live.agent().clone();
    let visible: Vec<(u64, &'static str)> = store
        .agent_events(&agent, None, 0, usize::MAX)
        .await
        .map_err(|e| format!("reading {agent}'s events: {e}"))?
        .iter()
        .map(|e| (e.seq, e.data.type_name()))
        .collect();
    let last = visible.last().map_or(0, |(seq, _)| *seq);
    let received = drain(live, last).await.map_err(|why| format!("{agent}'s live subscription: {why}"))?;
    let mut replay =
        hub.subscribe(&agent, Scope::All, Some(0)).await.map_err(|e| format!("replaying {agent}'s events: {e}"))?;
    let replayed = drain(&mut replay, last).await.map_err(|why| format!("{agent}'s replay: {why}"))?;
    if received != visible {
        return Err(format!("{agent} received live {received:?}\n  but the log says it sees {visible:?}"));
    }
    if replayed != visible {
        return Err(format!("{agent}'s replay gave {replayed:?}\n  but the log says it sees {visible:?}"));
    }
    Ok(())
}

/// The events a subscription delivers until it has delivered `last`.
async fn drain(subscription: &mut Subscription, last: u64) -> Result<Vec<(u64, &'static str)>, String> {
    let mut events = Vec::new();
    while subscription.last_seq() < last {
        let item = tokio::time::timeout(std::time::Duration::from_secs(10), subscription.next())
            .await
            .map_err(|_| format!("nothing more came after seq {}", subscription.last_seq()))?;
        match item {
            Some(Delivery::Event(shared)) => events.push((shared.event.seq, shared.event.data.type_name())),
            // Typing is no event: a subscription gives a typing frame of an
            // actor's `typing` whenever its event queue is empty at the
            // moment, which depends on the dispatcher's pace.
            Some(Delivery::Subscribed { .. } | Delivery::Typing(_)) => {}
            Some(other) => return Err(format!("unexpected {other:?} after seq {}", subscription.last_seq())),
            None => return Err(format!("ended after seq {}", subscription.last_seq())),
        }
    }
    Ok(events)
}

fn agent_id(s: &str) -> AgentId {
    AgentId::parse(s).unwrap_or_else(|e| panic!("the model test's agent id {s:?} is invalid: {e}"))
}

// ------------------------------------------------------------ the ids

const MISSING_TALK: u128 = 0x0000_dead_0000_7000_8000_0000_0000_0001;
const MISSING_PART: u128 = 0x0000_dead_0000_7000_8000_0000_0000_0002;
const MISSING_MSG: u128 = 0x0000_dead_0000_7000_8000_0000_0000_0003;

/// The Hub's UUID of each model entity, learnt from the events that
/// introduce them.
#[derive(Debug, Default)]
struct Ids {
    talks: Vec<Option<Uuid>>,
    parts: Vec<Option<Uuid>>,
    msgs: Vec<Option<Uuid>>,
}

fn bind(slot: &mut Vec<Option<Uuid>>, ix: usize, id: Uuid) {
    if slot.len() <= ix {
        slot.resize(ix + 1, None);
    }
    if slot[ix].is_none() && !slot.contains(&Some(id)) {
        slot[ix] = Some(id);
    }
}

fn name_of(slot: &[Option<Uuid>], prefix: char, id: Uuid) -> String {
    match slot.iter().position(|s| *s == Some(id)) {
        Some(i) => format!("{prefix}{i}"),
        None => format!("{prefix}?{id}"),
    }
}

fn hub_uuid(slot: &[Option<Uuid>], reference: Ref, missing: u128) -> Uuid {
    reference.and_then(|i| slot.get(i).copied().flatten()).unwrap_or(Uuid::from_u128(missing))
}

fn system_event(event: SystemEvent) -> &'static str {
    match event {
        SystemEvent::ParticipantJoined => "participant_joined",
        SystemEvent::ParticipantLeft => "participant_left",
        SystemEvent::ParticipantRemoved => "participant_removed",
        SystemEvent::TalkClosed => "talk_closed",
        SystemEvent::TalkReopened => "talk_reopened",
        SystemEvent::TalkRenamed => "talk_renamed",
    }
}

impl Ids {
    fn talk_id(&self, t: Ref) -> TalkId {
        TalkId(hub_uuid(&self.talks, t, MISSING_TALK))
    }

    fn part_id(&self, p: Ref) -> ParticipantId {
        ParticipantId(hub_uuid(&self.parts, p, MISSING_PART))
    }

    fn msg_id(&self, m: Ref) -> MessageId {
        MessageId(hub_uuid(&self.msgs, m, MISSING_MSG))
    }

    /// Learns the id of what the model's event `k` introduces from the Hub's event.
    fn learn(&mut self, model: &Model, k: usize, event: &Event) -> Result<(), String> {
        match (model.intro(k), &event.data) {
            (Some(Intro::Talk(ix)), EventData::TalkCreated(t)) => bind(&mut self.talks, ix, t.id.0),
            (Some(Intro::Part(ix)), EventData::ParticipantJoined(p)) => bind(&mut self.parts, ix, p.id.0),
            (Some(Intro::Msg(ix)), EventData::MessageCreated(m)) => {
                if let Some(chosen) = model.client_uuid(ix)
                    && m.id.0.as_u128() != chosen
                {
                    return Err(format!(
                        "message m{ix} was sent with the client-chosen id {}, the hub stored {}",
                        Uuid::from_u128(chosen),
                        m.id
                    ));
                }
                bind(&mut self.msgs, ix, m.id.0);
            }
            _ => {}
        }
        Ok(())
    }

    fn talk(&self, t: &Talk) -> PTalk {
        PTalk {
            id: name_of(&self.talks, 't', t.id.0),
            kind: match t.kind {
                TalkKind::Direct => "direct",
                TalkKind::Group => "group",
                TalkKind::Public => "public",
            },
            pair: t.direct_pair.as_ref().map(|p| {
                let [a, b] = p.agents();
                (a.to_string(), b.to_string())
            }),
            name: t.name.clone(),
            detail: t.detail.clone(),
            status: match t.status {
                TalkStatus::Active => "active",
                TalkStatus::Closed => "closed",
            },
            creator: t.creator_id.to_string(),
            member_count: t.member_count,
            created_seq: t.created_seq,
            tm_update: Stamp::At(t.tm_update),
            tm_close: t.tm_close.map(Stamp::At),
        }
    }

    fn part(&self, p: &Participant) -> PPart {
        PPart {
            id: name_of(&self.parts, 'p', p.id.0),
            talk: name_of(&self.talks, 't', p.talk_id.0),
            agent: p.agent_id.to_string(),
            status: match p.status {
                ParticipantStatus::Active => "active",
                ParticipantStatus::Left => "left",
            },
            left_reason: p.left_reason.map(|r| match r {
                LeftReason::Left => "left",
                LeftReason::Removed => "removed",
            }),
            seq: p.seq,
            joined_seq: p.joined_seq,
            left_seq: p.left_seq,
            tm_left: p.tm_left.map(Stamp::At),
        }
    }

    fn msg(&self, m: &Message) -> PMsg {
        let system = m.kind == MessageKind::System;
        PMsg {
            id: name_of(&self.msgs, 'm', m.id.0),
            talk: name_of(&self.talks, 't', m.talk_id.0),
            parent: m.parent_id.map(|p| name_of(&self.msgs, 'm', p.0)),
            kind: if system { "system" } else { "normal" },
            agent: m.agent_id.as_ref().map(ToString::to_string),
            text: match (system, m.text.is_empty()) {
                (true, false) => SYSTEM_TEXT.to_owned(),
                (true, true) => "<empty system text>".to_owned(),
                (false, _) => m.text.clone(),
            },
            medias: m
                .medias
                .iter()
                .map(|x| PMedia { media_type: x.media_type.clone(), url: x.url.clone(), name: x.name.clone() })
                .collect(),
            mentions: m.mentions.iter().map(ToString::to_string).collect(),
            system: m.system.as_ref().map(|s| PSystem {
                event: system_event(s.event),
                agent: s.agent_id.to_string(),
                actor: s.actor_id.as_ref().map(ToString::to_string),
                name: s.name.clone(),
            }),
            reactions: m
                .reactions
                .iter()
                .map(|r| PReaction {
                    emoji: r.emoji.as_str().to_owned(),
                    count: r.count,
                    agents: r.agent_ids.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            reply_count: m.reply_count,
            seq: m.seq,
            tm_update: Stamp::At(m.tm_update),
            tm_edit: m.tm_edit.map(Stamp::At),
            tm_delete: m.tm_delete.map(Stamp::At),
        }
    }

    fn event(&self, e: &Event) -> PEvent {
        let data = match &e.data {
            EventData::TalkCreated(t)
            | EventData::TalkUpdated(t)
            | EventData::TalkClosed(t)
            | EventData::TalkReopened(t) => PData::Talk(e.data.type_name(), self.talk(t)),
            EventData::ParticipantJoined(p) | EventData::ParticipantLeft(p) => {
                PData::Participant(e.data.type_name(), self.part(p))
            }
            EventData::MessageCreated(m) | EventData::MessageUpdated(m) | EventData::MessageDeleted(m) => {
                PData::Message(e.data.type_name(), self.msg(m))
            }
            EventData::ReactionAdded(r) | EventData::ReactionRemoved(r) => PData::Reaction(
                e.data.type_name(),
                name_of(&self.msgs, 'm', r.message_id.0),
                r.emoji.as_str().to_owned(),
                r.agent_id.to_string(),
            ),
            EventData::TalkRead(r) => PData::Read(r.agent_id.to_string(), r.last_read_seq),
        };
        PEvent { seq: e.seq, talk: name_of(&self.talks, 't', e.talk_id.0), data }
    }

    fn answer(&self, raw: Raw) -> Answer {
        match raw {
            Raw::Talk(t, created) => Answer::Talk(self.talk(&t), created),
            Raw::Participant(p) => Answer::Participant(self.part(&p)),
            Raw::Joined(p, created) => Answer::Joined(self.part(&p), created),
            Raw::Message(m, created) => Answer::Message(self.msg(&m), created),
            Raw::Talks(list) => Answer::Talks(list.iter().map(|t| self.talk(t)).collect()),
            Raw::Participants(list) => Answer::Participants(list.iter().map(|p| self.part(p)).collect()),
            Raw::Messages(list) => Answer::Messages(list.iter().map(|m| self.msg(m)).collect()),
            Raw::Reactors(list) => Answer::Reactors(list.iter().map(|r| r.agent_id.to_string()).collect()),
            Raw::Seqs(list) => Answer::Seqs(list),
            Raw::Taken => Answer::Taken,
            Raw::Read(state) => {
                let counts = state.counts.unwrap_or_default();
                Answer::Read(
                    state.agent_id.to_string(),
                    state.last_read_seq,
                    state.last_read_message_id.map(|m| name_of(&self.msgs, 'm', m.0)),
                    counts.unread_count,
                    counts.mention_count,
                )
            }
        }
    }
}

/// Compares the store's log after event `from` (0-based) with the model's.
async fn compare_log(
    store: &dyn Store,
    model: &Model,
    ids: &mut Ids,
    clocks: &mut Clocks,
    from: usize,
) -> Result<(), String> {
    let events = store.events(from as u64, LOG_LIMIT).await.map_err(|e| format!("store.events failed: {e}"))?;
    let expected = &model.events()[from..];
    for k in 0..events.len().max(expected.len()) {
        match (events.get(k), expected.get(k)) {
            (Some(event), Some(want)) => {
                ids.learn(model, from + k, event)?;
                let got = ids.event(event);
                if got != *want {
                    return Err(format!("event seq {} differs:\n  hub:   {got:?}\n  model: {want:?}", want.seq));
                }
                clocks
                    .check(&plain::event_stamps(&got), &plain::event_stamps(want))
                    .map_err(|why| format!("timestamps of event seq {}: {why}\n  hub: {got:?}", want.seq))?;
                if k > 0 && events[k - 1].tm_create > event.tm_create {
                    return Err(format!("event seq {} happened before event seq {}", event.seq, event.seq - 1));
                }
            }
            (Some(event), None) => {
                return Err(format!("the hub logged an event the model does not have: {:?}", ids.event(event)));
            }
            (None, Some(want)) => return Err(format!("the hub did not log {want:?}")),
            (None, None) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typing frame that reaches the live subscriber between two events
    /// is not a difference between the live stream and the log.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_typing_frame_between_events_is_not_an_unexpected_item() {
        let hub = Hub::builder(Arc::new(talk_store_memory::MemoryStore::new())).build();
        let (one, two) = (agent_id("agent-1"), agent_id("agent-2"));
        let input =
            NewTalk { kind: TalkKind::Group, name: Some("t".into()), detail: None, participant_ids: vec![two.clone()] };
        let talk = hub.create_talk(&one, input).await.unwrap_or_else(|e| panic!("{e}")).resource.id;
        let mut live = hub.subscribe(&one, Scope::All, None).await.unwrap_or_else(|e| panic!("{e}"));
        let first = hub.send_message(&two, talk, NewMessage { text: "one".into(), ..NewMessage::default() }).await;
        let first = first.unwrap_or_else(|e| panic!("{e}")).resource.seq;
        // Once the first message is through, the Hub's routes are current:
        // the typing frame is queued at once, before the next event exists.
        drain(&mut live, first).await.unwrap_or_else(|why| panic!("{why}"));
        hub.typing(&two, talk, None, true).await.unwrap_or_else(|e| panic!("{e}"));
        let sender = hub.clone();
        let second = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let input = NewMessage { text: "two".into(), ..NewMessage::default() };
            sender.send_message(&two, talk, input).await.map(|created| created.resource.seq)
        });
        let received = drain(&mut live, first + 1).await;
        let second = second.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(received, Ok(vec![(second, "message_created")]));
    }
}
