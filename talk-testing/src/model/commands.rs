//! The generated commands, and their resolution against what exists.
//!
//! A generated [`Cmd`] names talks, records and messages by a
//! [`proptest::sample::Index`] into what exists when it runs (so sequences
//! shrink well: dropping a command never makes a later one invalid), with a
//! scope that usually points at something the actor can see, sometimes at
//! anything, and sometimes at an id that names nothing. Resolving it gives an
//! [`Op`], which both the Hub and the model run.

use std::fmt;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::Union;

use super::plain::PMedia;
use super::state::{ClientId, EMOJI_SPELLINGS, Model, PartFilter};

/// The agents that act (all known to the directory).
pub(super) const AGENTS: [&str; 4] = ["agent-1", "agent-2", "agent-3", "agent-4"];
/// A well-formed agent id the directory does not know.
pub(super) const GHOST: &str = "ghost-9";

fn agent(i: u8) -> String {
    AGENTS.get(usize::from(i)).copied().unwrap_or(GHOST).to_owned()
}

/// The client-chosen UUIDs the generator uses.
pub(super) fn pool_uuid(i: u8) -> u128 {
    0x0190_0000_0000_7000_8000_0000_0000_0c00 + u128::from(i % 3)
}

/// Where a reference points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Something of the actor (own messages, talks it has a record in, …).
    Mine,
    /// Something the actor can see.
    Seen,
    /// Anything that exists.
    Any,
    /// An id that names nothing.
    Missing,
}

/// A reference to something that may exist when the command runs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pick {
    /// Where to look.
    pub(super) scope: Scope,
    /// Which one of those.
    pub(super) ix: Index,
}

impl Pick {
    fn from(&self, candidates: &[usize], fallback: &[usize]) -> Option<usize> {
        let list = if candidates.is_empty() { fallback } else { candidates };
        if list.is_empty() { None } else { Some(list[self.ix.index(list.len())]) }
    }
}

/// Talk names, details, texts and medias the generator uses: mostly valid,
/// some not (each invalid one answers `invalid_request`).
fn name_of(i: u8) -> String {
    match i % 16 {
        0..=7 => "alpha".to_owned(),
        8 | 9 => "beta".to_owned(),
        // For the directory: case, an accent, two words.
        10 => "Ålpha Beta".to_owned(),
        11 => "tab\tname".to_owned(),
        12 => String::new(),
        13 => "n".repeat(201),
        14 => "bell\u{7}".to_owned(),
        _ => "gamma".to_owned(),
    }
}

/// The `q` of a directory read: words, prefixes, case and accents, no
/// match, no words, and invalid ones (`None`: no `q`).
fn directory_query_of(i: u8) -> Option<String> {
    match i % 14 {
        0 | 1 => None,
        2 => Some("alpha".to_owned()),
        3 => Some("ALP".to_owned()),
        4 => Some("beta".to_owned()),
        5 => Some("alpha beta".to_owned()),
        6 => Some("bet, ålp!".to_owned()),
        7 => Some("gam".to_owned()),
        8 => Some("zeta".to_owned()),
        9 => Some("lpha".to_owned()),
        10 => Some("--".to_owned()),
        11 => Some(String::new()),
        12 => Some("q".repeat(201)),
        _ => Some("tab\u{1}".to_owned()),
    }
}

fn detail_of(i: u8) -> String {
    match i % 11 {
        0..=5 => String::new(),
        6..=8 => "about this".to_owned(),
        9 => "d".repeat(2001),
        _ => "esc\u{1b}".to_owned(),
    }
}

fn text_of(i: u8) -> String {
    match i % 16 {
        0..=7 => "hello".to_owned(),
        8..=10 => "bye".to_owned(),
        11 => "line one\nline two".to_owned(),
        12 => String::new(),
        13 => "x".repeat(4001),
        14 => "nul\u{0}".to_owned(),
        _ => "\u{1F600} grin".to_owned(),
    }
}

/// Search queries over the generated texts: words, prefixes, phrases,
/// case and accents, and some invalid ones.
fn search_query_of(i: u8) -> String {
    match i % 16 {
        0 => "hello".to_owned(),
        1 => "hel".to_owned(),
        2 => "HÉLLO".to_owned(),
        3 => "by".to_owned(),
        4 => "line".to_owned(),
        5 => r#""line two""#.to_owned(),
        6 => r#""two line""#.to_owned(),
        7 => r#""hell""#.to_owned(),
        8 => "grin".to_owned(),
        9 => "bye hello".to_owned(),
        10 => r#"one "LINE TWO"#.to_owned(),
        11 => "ello".to_owned(),
        12 => String::new(),
        13 => "q".repeat(201),
        14 => "?! …".to_owned(),
        _ => "tw".to_owned(),
    }
}

fn media(media_type: &str, url: &str, name: &str) -> PMedia {
    PMedia { media_type: media_type.to_owned(), url: url.to_owned(), name: name.to_owned() }
}

fn medias_of(i: u8) -> Vec<PMedia> {
    let good = media("image/png", "https://example.com/a.png", "a.png");
    match i % 20 {
        0..=13 => Vec::new(),
        14 | 15 => vec![good],
        16 => vec![good, media("application/pdf", "http://example.com/doc", "doc.pdf")],
        17 => vec![media("image/png", "ftp://example.com/a.png", "a.png")],
        18 => vec![media("png", "https://example.com/a.png", "dir/a.png")],
        _ => vec![good; 11],
    }
}

/// The parent of a send.
#[derive(Debug, Clone, Copy)]
pub(super) enum ParentArg {
    /// No parent.
    None,
    /// A message of the same talk (top-level, reply, system, deleted).
    Same(Index),
    /// Any message (usually of another talk).
    Any(Index),
    /// An id that names nothing.
    Missing,
}

/// The client-chosen id of a send.
#[derive(Debug, Clone, Copy)]
pub(super) enum IdArg {
    /// None.
    None,
    /// One of three fixed UUIDs.
    Pool(u8),
    /// The id of an existing message.
    OfMessage(Index),
}

/// How a resend differs from the first send.
#[derive(Debug, Clone, Copy)]
pub(super) enum ResendHow {
    /// The very same request.
    Same,
    /// Another text.
    OtherText,
    /// The same request in another talk.
    OtherTalk(Pick),
    /// The same request by another agent in the same talk.
    OtherAgent(u8),
}

/// What a read command reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum ReadArg {
    /// `GET /talks` (`None`: no filter, else closed or not).
    Talks(Option<bool>),
    /// `GET /talks/{id}`.
    Talk(Pick),
    /// `GET /talks/{id}/participants`.
    Participants(Pick, u8),
    /// `GET /talks/{id}/messages`.
    Messages(Pick, bool),
    /// `GET /messages/{id}`.
    Message(Pick),
    /// `GET /messages/{id}/replies`.
    Replies(Pick),
    /// `GET /messages/{id}/reactions/{emoji}`.
    Reactions(Pick, u8),
    /// The agent's events, of one talk or all.
    Feed(Option<Pick>),
    /// `GET /talks/public?q=` (see `directory_query_of`).
    Directory(u8),
    /// `GET /search/messages`: a query (see [`search_query_of`]), in one talk or all.
    Search(u8, Option<Pick>),
}

/// A generated command.
#[derive(Debug, Clone)]
pub(super) enum Cmd {
    /// Create a group talk, or a public one.
    CreateGroup { actor: u8, public: bool, name: Option<u8>, detail: Option<u8>, members: Vec<u8> },
    /// Create (or find) a direct talk.
    CreateDirect { actor: u8, others: Vec<u8>, name: Option<u8>, detail: Option<u8> },
    /// Add an agent.
    Add { actor: u8, talk: Pick, agent: u8 },
    /// Join a talk by oneself (`Mine` picks among public talks).
    Join { actor: u8, talk: Pick },
    /// Remove a record by id (usually another's).
    Remove { actor: u8, talk: Pick, target: Pick },
    /// Leave: `me` (`by_id` `None`) or one's own record by id.
    Leave { actor: u8, talk: Pick, by_id: Option<Index> },
    /// Close.
    Close { actor: u8, talk: Pick },
    /// Reopen.
    Reopen { actor: u8, talk: Pick },
    /// Rename or change the detail.
    Update { actor: u8, talk: Pick, name: Option<u8>, detail: Option<u8> },
    /// Send (or reply), mentioning agents.
    Send { actor: u8, talk: Pick, text: u8, medias: u8, parent: ParentArg, id: IdArg, mentions: Vec<u8> },
    /// Send again with the client-chosen id of an earlier send.
    Resend { which: Index, how: ResendHow },
    /// Edit, with new mentions or keeping them.
    Edit { actor: u8, msg: Pick, text: u8, mentions: Option<Vec<u8>> },
    /// Mark read, up to a message or the newest.
    MarkRead { actor: u8, talk: Pick, msg: Option<Pick> },
    /// Mark unread from a message.
    MarkUnread { actor: u8, talk: Pick, msg: Pick },
    /// `typing`, or its stop: ephemeral, it must change nothing.
    Typing { actor: u8, talk: Pick, stop: bool },
    /// Delete.
    Delete { actor: u8, msg: Pick },
    /// React.
    React { actor: u8, msg: Pick, emoji: u8 },
    /// Take a reaction back.
    Unreact { actor: u8, msg: Pick, emoji: u8 },
    /// Read something, page by page.
    Read { actor: u8, what: ReadArg, page_size: u8 },
}

fn actor() -> impl Strategy<Value = u8> {
    0u8..4
}

fn any_agent() -> impl Strategy<Value = u8> {
    prop_oneof![9 => 0u8..4, 1 => Just(4u8)]
}

/// Mentions: mostly none, else a few agents, now and then an unknown one or
/// the same one twice.
fn mentions() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![3 => Just(Vec::new()), 2 => proptest::collection::vec(any_agent(), 1..=3)]
}

fn pick() -> impl Strategy<Value = Pick> {
    let scope =
        prop_oneof![6 => Just(Scope::Mine), 2 => Just(Scope::Seen), 2 => Just(Scope::Any), 1 => Just(Scope::Missing)];
    (scope, any::<Index>()).prop_map(|(scope, ix)| Pick { scope, ix })
}

fn opt_u8(some_weight: u32) -> impl Strategy<Value = Option<u8>> {
    prop_oneof![some_weight => any::<u8>().prop_map(Some), 10u32.saturating_sub(some_weight).max(1) => Just(None)]
}

fn emoji() -> impl Strategy<Value = u8> {
    let n = EMOJI_SPELLINGS.len() as u8;
    prop_oneof![12 => 0u8..(n - 3), 1 => (n - 3)..n]
}

fn read_arg() -> impl Strategy<Value = ReadArg> {
    prop_oneof![
        prop_oneof![Just(None), Just(Some(false)), Just(Some(true))].prop_map(ReadArg::Talks),
        pick().prop_map(ReadArg::Talk),
        (pick(), 0u8..3).prop_map(|(p, f)| ReadArg::Participants(p, f)),
        (pick(), any::<bool>()).prop_map(|(p, r)| ReadArg::Messages(p, r)),
        pick().prop_map(ReadArg::Message),
        pick().prop_map(ReadArg::Replies),
        (pick(), emoji()).prop_map(|(p, e)| ReadArg::Reactions(p, e)),
        proptest::option::of(pick()).prop_map(ReadArg::Feed),
        any::<u8>().prop_map(ReadArg::Directory),
        (any::<u8>(), proptest::option::of(pick())).prop_map(|(q, p)| ReadArg::Search(q, p)),
    ]
}

fn create_group() -> impl Strategy<Value = Cmd> {
    (actor(), proptest::bool::weighted(0.4), opt_u8(9), opt_u8(3), proptest::collection::vec(any_agent(), 0..=4))
        .prop_map(|(actor, public, name, detail, members)| Cmd::CreateGroup { actor, public, name, detail, members })
}

fn create_direct() -> impl Strategy<Value = Cmd> {
    let others = prop_oneof![
        8 => proptest::collection::vec(any_agent(), 1..=1),
        1 => proptest::collection::vec(any_agent(), 0..=2),
    ];
    (actor(), others, opt_u8(2), opt_u8(2)).prop_map(|(actor, others, name, detail)| Cmd::CreateDirect {
        actor,
        others,
        name,
        detail,
    })
}

/// The strategy of a command that creates a talk.
pub(super) fn create_cmd() -> BoxedStrategy<Cmd> {
    prop_oneof![create_group(), create_direct()].boxed()
}

/// The strategy of one command.
pub(super) fn cmd() -> BoxedStrategy<Cmd> {
    let parent = prop_oneof![
        5 => Just(ParentArg::None),
        3 => any::<Index>().prop_map(ParentArg::Same),
        1 => any::<Index>().prop_map(ParentArg::Any),
        1 => Just(ParentArg::Missing),
    ];
    let id = prop_oneof![
        6 => Just(IdArg::None),
        3 => (0u8..3).prop_map(IdArg::Pool),
        1 => any::<Index>().prop_map(IdArg::OfMessage),
    ];
    let how = prop_oneof![
        4 => Just(ResendHow::Same),
        1 => Just(ResendHow::OtherText),
        1 => pick().prop_map(ResendHow::OtherTalk),
        1 => actor().prop_map(ResendHow::OtherAgent),
    ];
    let arms: Vec<(u32, BoxedStrategy<Cmd>)> = vec![
        (5, create_group().boxed()),
        (4, create_direct().boxed()),
        (5, (actor(), pick(), any_agent()).prop_map(|(actor, talk, agent)| Cmd::Add { actor, talk, agent }).boxed()),
        (3, (actor(), pick(), pick()).prop_map(|(actor, talk, target)| Cmd::Remove { actor, talk, target }).boxed()),
        (5, (actor(), pick()).prop_map(|(actor, talk)| Cmd::Join { actor, talk }).boxed()),
        (
            6,
            (actor(), pick(), proptest::option::weighted(0.4, any::<Index>()))
                .prop_map(|(actor, talk, by_id)| Cmd::Leave { actor, talk, by_id })
                .boxed(),
        ),
        (2, (actor(), pick()).prop_map(|(actor, talk)| Cmd::Close { actor, talk }).boxed()),
        (2, (actor(), pick()).prop_map(|(actor, talk)| Cmd::Reopen { actor, talk }).boxed()),
        (
            2,
            (actor(), pick(), opt_u8(6), opt_u8(5))
                .prop_map(|(actor, talk, name, detail)| Cmd::Update { actor, talk, name, detail })
                .boxed(),
        ),
        (
            12,
            (actor(), pick(), any::<u8>(), any::<u8>(), parent, id, mentions())
                .prop_map(|(actor, talk, text, medias, parent, id, mentions)| Cmd::Send {
                    actor,
                    talk,
                    text,
                    medias,
                    parent,
                    id,
                    mentions,
                })
                .boxed(),
        ),
        (2, (any::<Index>(), how).prop_map(|(which, how)| Cmd::Resend { which, how }).boxed()),
        (
            3,
            (actor(), pick(), any::<u8>(), proptest::option::weighted(0.5, mentions()))
                .prop_map(|(actor, msg, text, mentions)| Cmd::Edit { actor, msg, text, mentions })
                .boxed(),
        ),
        (
            5,
            (actor(), pick(), proptest::option::weighted(0.6, pick()))
                .prop_map(|(actor, talk, msg)| Cmd::MarkRead { actor, talk, msg })
                .boxed(),
        ),
        (3, (actor(), pick(), pick()).prop_map(|(actor, talk, msg)| Cmd::MarkUnread { actor, talk, msg }).boxed()),
        (3, (actor(), pick(), any::<bool>()).prop_map(|(actor, talk, stop)| Cmd::Typing { actor, talk, stop }).boxed()),
        (3, (actor(), pick()).prop_map(|(actor, msg)| Cmd::Delete { actor, msg }).boxed()),
        (7, (actor(), pick(), emoji()).prop_map(|(actor, msg, emoji)| Cmd::React { actor, msg, emoji }).boxed()),
        (3, (actor(), pick(), emoji()).prop_map(|(actor, msg, emoji)| Cmd::Unreact { actor, msg, emoji }).boxed()),
        (
            5,
            (actor(), read_arg(), 1u8..=3)
                .prop_map(|(actor, what, page_size)| Cmd::Read { actor, what, page_size })
                .boxed(),
        ),
    ];
    Union::new_weighted(arms).boxed()
}

/// A talk, participant or message of the model by index; `None` names nothing.
pub(super) type Ref = Option<usize>;

/// A resolved command: what both the Hub and the model run.
#[derive(Debug, Clone)]
pub(super) enum Op {
    /// `create_talk`: a direct talk, a public one, or (neither) a group talk.
    CreateTalk {
        actor: String,
        direct: bool,
        public: bool,
        name: Option<String>,
        detail: Option<String>,
        listed: Vec<String>,
    },
    /// `add_participant`.
    Add {
        actor: String,
        talk: Ref,
        agent: String,
    },
    /// `join_talk`.
    Join {
        actor: String,
        talk: Ref,
    },
    /// `remove_participant`: `target` `None` is `me`.
    Remove {
        actor: String,
        talk: Ref,
        target: Option<Ref>,
    },
    /// `close_talk`.
    Close {
        actor: String,
        talk: Ref,
    },
    /// `reopen_talk`.
    Reopen {
        actor: String,
        talk: Ref,
    },
    /// `update_talk`.
    Update {
        actor: String,
        talk: Ref,
        name: Option<String>,
        detail: Option<String>,
    },
    /// `send_message`.
    Send {
        actor: String,
        talk: Ref,
        text: String,
        medias: Vec<PMedia>,
        parent: Option<Ref>,
        id: Option<ClientId>,
        mentions: Vec<String>,
    },
    /// `edit_message_with`.
    Edit {
        actor: String,
        msg: Ref,
        text: String,
        mentions: Option<Vec<String>>,
    },
    /// `mark_read` (`msg` `None`: the newest).
    MarkRead {
        actor: String,
        talk: Ref,
        msg: Option<Ref>,
    },
    /// `mark_unread`.
    MarkUnread {
        actor: String,
        talk: Ref,
        msg: Ref,
    },
    /// `typing` (or its stop).
    Typing {
        actor: String,
        talk: Ref,
        typing: bool,
    },
    /// `delete_message`.
    Delete {
        actor: String,
        msg: Ref,
    },
    /// `add_reaction`.
    React {
        actor: String,
        msg: Ref,
        emoji: String,
    },
    /// `remove_reaction`.
    Unreact {
        actor: String,
        msg: Ref,
        emoji: String,
    },
    /// `talks`.
    Talks {
        actor: String,
        closed: Option<bool>,
        page_size: u32,
    },
    /// `talk`.
    Talk {
        actor: String,
        talk: Ref,
    },
    /// `participants`.
    Participants {
        actor: String,
        talk: Ref,
        filter: PartFilter,
        page_size: u32,
    },
    /// `messages`.
    Messages {
        actor: String,
        talk: Ref,
        include_replies: bool,
        page_size: u32,
    },
    Search {
        actor: String,
        q: String,
        talk: Option<Ref>,
        page_size: u32,
    },
    /// `message`.
    Message {
        actor: String,
        msg: Ref,
    },
    /// `replies`.
    Replies {
        actor: String,
        msg: Ref,
        page_size: u32,
    },
    /// `reactions`.
    Reactions {
        actor: String,
        msg: Ref,
        emoji: String,
        page_size: u32,
    },
    /// The store's `agent_events`, of one talk (`Some`) or all.
    Feed {
        agent: String,
        talk: Option<Ref>,
    },
    /// `public_talks`: the directory (it takes no agent).
    Directory {
        q: Option<String>,
        page_size: u32,
    },
}

impl Op {
    /// The Hub method (or store read) the command calls.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Op::CreateTalk { direct: true, .. } => "create_talk (direct)",
            Op::CreateTalk { public: true, .. } => "create_talk (public)",
            Op::CreateTalk { .. } => "create_talk (group)",
            Op::Add { .. } => "add_participant",
            Op::Join { .. } => "join_talk",
            Op::Remove { target: None, .. } => "remove_participant (me)",
            Op::Remove { .. } => "remove_participant (id)",
            Op::Close { .. } => "close_talk",
            Op::Reopen { .. } => "reopen_talk",
            Op::Update { .. } => "update_talk",
            Op::Send { id: Some(_), .. } => "send_message (client id)",
            Op::Send { parent: Some(_), .. } => "send_message (reply)",
            Op::Send { .. } => "send_message",
            Op::Edit { .. } => "edit_message",
            Op::MarkRead { .. } => "mark_read",
            Op::MarkUnread { .. } => "mark_unread",
            Op::Typing { .. } => "typing",
            Op::Delete { .. } => "delete_message",
            Op::React { .. } => "add_reaction",
            Op::Unreact { .. } => "remove_reaction",
            Op::Talks { .. } => "talks",
            Op::Talk { .. } => "talk",
            Op::Participants { .. } => "participants",
            Op::Messages { .. } => "messages",
            Op::Message { .. } => "message",
            Op::Replies { .. } => "replies",
            Op::Reactions { .. } => "reactions",
            Op::Feed { .. } => "agent_events",
            Op::Directory { .. } => "public_talks",
            Op::Search { .. } => "search_messages",
        }
    }

    /// Whether the command may change earlier events (a delete redacts).
    pub(super) fn rewrites_log(&self) -> bool {
        matches!(self, Op::Delete { .. })
    }
}

fn resolve_talk(model: &Model, actor: &str, pick: Pick) -> Ref {
    let all: Vec<usize> = (0..model.talk_count()).collect();
    match pick.scope {
        Scope::Mine => {
            let seen = model.talks_seen_by(actor);
            pick.from(&model.talks_active_for(actor), if seen.is_empty() { &all } else { &seen })
        }
        Scope::Seen => pick.from(&model.talks_seen_by(actor), &all),
        Scope::Any => pick.from(&all, &[]),
        Scope::Missing => None,
    }
}

/// The actor and talk of a talk-scoped command. With scope `Mine`, an actor
/// that is active in no talk is swapped for an active member of some talk,
/// so that most commands get past visibility and membership.
fn actor_and_talk(model: &Model, actor: u8, pick: Pick) -> (String, Ref) {
    let name = agent(actor);
    if pick.scope == Scope::Mine && model.talks_active_for(&name).is_empty() {
        let open: Vec<usize> = (0..model.talk_count()).filter(|&t| !model.active_agents(t).is_empty()).collect();
        if !open.is_empty() {
            let t = open[pick.ix.index(open.len())];
            let members = model.active_agents(t);
            return (members[usize::from(actor) % members.len()].clone(), Some(t));
        }
    }
    let t = resolve_talk(model, &name, pick);
    (name, t)
}

/// The actor and message of a message-scoped command; as [`actor_and_talk`].
fn actor_and_msg(model: &Model, actor: u8, pick: Pick) -> (String, Ref) {
    let name = agent(actor);
    if pick.scope == Scope::Mine && model.msgs_by(&name).is_empty() && model.talks_active_for(&name).is_empty() {
        let open: Vec<usize> =
            (0..model.msg_count()).filter(|&m| !model.active_agents(model.msg_talk(m)).is_empty()).collect();
        if !open.is_empty() {
            let m = open[pick.ix.index(open.len())];
            let members = model.active_agents(model.msg_talk(m));
            let who = match model.msg_author(m) {
                Some(author) if members.contains(&author) => author,
                _ => members[usize::from(actor) % members.len()].clone(),
            };
            return (who, Some(m));
        }
    }
    let m = resolve_msg(model, &name, pick);
    (name, m)
}

fn resolve_msg(model: &Model, actor: &str, pick: Pick) -> Ref {
    let all: Vec<usize> = (0..model.msg_count()).collect();
    match pick.scope {
        Scope::Mine => {
            let mut near = Vec::new();
            for t in model.talks_active_for(actor) {
                near.extend(model.msgs_in(t));
            }
            if near.is_empty() {
                near = model.msgs_seen_by(actor);
            }
            pick.from(&model.msgs_by(actor), if near.is_empty() { &all } else { &near })
        }
        Scope::Seen => pick.from(&model.msgs_seen_by(actor), &all),
        Scope::Any => pick.from(&all, &[]),
        Scope::Missing => None,
    }
}

/// Resolves a generated command against the model's current state.
pub(super) fn resolve(model: &Model, cmd: &Cmd) -> Op {
    match cmd {
        Cmd::CreateGroup { actor, public, name, detail, members } => Op::CreateTalk {
            actor: agent(*actor),
            direct: false,
            public: *public,
            name: name.map(name_of),
            detail: detail.map(detail_of),
            listed: members.iter().map(|&a| agent(a)).collect(),
        },
        Cmd::CreateDirect { actor, others, name, detail } => Op::CreateTalk {
            actor: agent(*actor),
            direct: true,
            public: false,
            name: name.map(name_of),
            detail: detail.map(detail_of),
            listed: others.iter().map(|&a| agent(a)).collect(),
        },
        Cmd::Add { actor, talk, agent: who } => {
            let (actor, talk) = actor_and_talk(model, *actor, *talk);
            Op::Add { talk, actor, agent: agent(*who) }
        }
        Cmd::Join { actor, talk } => {
            let actor = agent(*actor);
            let all: Vec<usize> = (0..model.talk_count()).collect();
            let talk = match talk.scope {
                Scope::Mine => talk.from(&model.public_talks(), &all),
                _ => resolve_talk(model, &actor, *talk),
            };
            Op::Join { actor, talk }
        }
        Cmd::Remove { actor, talk, target } => {
            let (actor, t) = actor_and_talk(model, *actor, *talk);
            let all: Vec<usize> = (0..model.part_count()).collect();
            let record = match (target.scope, t) {
                (Scope::Missing, _) => None,
                (Scope::Mine | Scope::Seen, Some(t)) => target.from(&model.others_records(t, &actor), &all),
                _ => target.from(&all, &[]),
            };
            Op::Remove { actor, talk: t, target: Some(record) }
        }
        Cmd::Leave { actor, talk, by_id } => {
            let (actor, t) = actor_and_talk(model, *actor, *talk);
            let target = by_id.map(|ix| {
                let own = t.map(|t| model.records(t, &actor)).unwrap_or_default();
                if own.is_empty() { None } else { Some(own[ix.index(own.len())]) }
            });
            Op::Remove { actor, talk: t, target }
        }
        Cmd::Close { actor, talk } => {
            let (actor, talk) = actor_and_talk(model, *actor, *talk);
            Op::Close { talk, actor }
        }
        Cmd::Reopen { actor, talk } => {
            let actor = agent(*actor);
            Op::Reopen { talk: resolve_talk(model, &actor, *talk), actor }
        }
        Cmd::Update { actor, talk: pick, name, detail } => {
            let (actor, talk) = actor_and_talk(model, *actor, *pick);
            let (name, detail) = match (name, detail) {
                // mostly a change; now and then neither (invalid_request)
                (None, None) if pick.ix.index(4) != 0 => (Some(0), None),
                other => (*other.0, *other.1),
            };
            Op::Update { talk, actor, name: name.map(name_of), detail: detail.map(detail_of) }
        }
        Cmd::Send { actor, talk, text, medias, parent, id, mentions } => {
            let (actor, t) = actor_and_talk(model, *actor, *talk);
            let all: Vec<usize> = (0..model.msg_count()).collect();
            let parent = match parent {
                ParentArg::None => None,
                ParentArg::Same(ix) => {
                    let same = t.map(|t| model.msgs_in(t)).unwrap_or_default();
                    Some(if same.is_empty() { None } else { Some(same[ix.index(same.len())]) })
                }
                ParentArg::Any(ix) => Some(if all.is_empty() { None } else { Some(all[ix.index(all.len())]) }),
                ParentArg::Missing => Some(None),
            };
            let id = match id {
                IdArg::None => None,
                IdArg::Pool(i) => Some(ClientId::Fresh(pool_uuid(*i))),
                IdArg::OfMessage(ix) => Some(if all.is_empty() {
                    ClientId::Fresh(pool_uuid(0))
                } else {
                    ClientId::Of(all[ix.index(all.len())])
                }),
            };
            let mentions = mentions.iter().map(|&a| agent(a)).collect();
            Op::Send { actor, talk: t, text: text_of(*text), medias: medias_of(*medias), parent, id, mentions }
        }
        Cmd::Resend { which, how } => {
            let sends = model.client_sends();
            if sends.is_empty() {
                let actor = agent(0);
                let talks = model.talks_seen_by(&actor);
                let talk = if talks.is_empty() { None } else { Some(talks[which.index(talks.len())]) };
                return Op::Send {
                    actor,
                    talk,
                    text: "hello".to_owned(),
                    medias: Vec::new(),
                    parent: None,
                    id: Some(ClientId::Fresh(pool_uuid(0))),
                    mentions: Vec::new(),
                };
            }
            let first = &sends[which.index(sends.len())];
            let id = Some(match model.client_uuid(first.msg) {
                Some(u) => ClientId::Fresh(u),
                None => ClientId::Of(first.msg),
            });
            let parent = first.parent.map(Some);
            let mut op = Op::Send {
                actor: first.author.clone(),
                talk: Some(first.talk),
                text: first.text.clone(),
                medias: first.medias.clone(),
                parent,
                id,
                // The same set in another order: still the same request.
                mentions: first.mentions.iter().rev().cloned().collect(),
            };
            if let Op::Send { actor, talk, text, .. } = &mut op {
                match how {
                    ResendHow::Same => {}
                    ResendHow::OtherText => *text = if text == "bye" { "hello".to_owned() } else { "bye".to_owned() },
                    ResendHow::OtherTalk(pick) => {
                        let other = resolve_talk(model, actor, *pick);
                        if other != Some(first.talk) {
                            *talk = other;
                        }
                    }
                    ResendHow::OtherAgent(a) => *actor = agent(*a),
                }
            }
            op
        }
        Cmd::Edit { actor, msg, text, mentions } => {
            let (actor, msg) = actor_and_msg(model, *actor, *msg);
            let mentions = mentions.as_ref().map(|m| m.iter().map(|&a| agent(a)).collect());
            Op::Edit { msg, actor, text: text_of(*text), mentions }
        }
        Cmd::MarkRead { actor, talk, msg } => {
            let (actor, talk) = actor_and_talk(model, *actor, *talk);
            let msg = msg.map(|p| resolve_read_msg(model, &actor, talk, p));
            Op::MarkRead { actor, talk, msg }
        }
        Cmd::MarkUnread { actor, talk, msg } => {
            let (actor, talk) = actor_and_talk(model, *actor, *talk);
            let msg = resolve_read_msg(model, &actor, talk, *msg);
            Op::MarkUnread { actor, talk, msg }
        }
        Cmd::Typing { actor, talk, stop } => {
            let (actor, talk) = actor_and_talk(model, *actor, *talk);
            Op::Typing { actor, talk, typing: !stop }
        }
        Cmd::Delete { actor, msg } => {
            let (actor, msg) = actor_and_msg(model, *actor, *msg);
            Op::Delete { msg, actor }
        }
        Cmd::React { actor, msg, emoji } => {
            let (actor, msg) = actor_and_msg(model, *actor, *msg);
            Op::React { msg, actor, emoji: emoji_of(*emoji) }
        }
        Cmd::Unreact { actor, msg, emoji } => {
            let (actor, msg) = actor_and_msg(model, *actor, *msg);
            Op::Unreact { msg, actor, emoji: emoji_of(*emoji) }
        }
        Cmd::Read { actor, what, page_size } => {
            let actor = agent(*actor);
            let page_size = u32::from(*page_size);
            match what {
                ReadArg::Talks(closed) => Op::Talks { actor, closed: *closed, page_size },
                ReadArg::Talk(p) => Op::Talk { talk: resolve_talk(model, &actor, *p), actor },
                ReadArg::Participants(p, f) => Op::Participants {
                    talk: resolve_talk(model, &actor, *p),
                    actor,
                    filter: match f % 3 {
                        0 => PartFilter::Active,
                        1 => PartFilter::Left,
                        _ => PartFilter::All,
                    },
                    page_size,
                },
                ReadArg::Messages(p, include_replies) => Op::Messages {
                    talk: resolve_talk(model, &actor, *p),
                    actor,
                    include_replies: *include_replies,
                    page_size,
                },
                ReadArg::Message(p) => Op::Message { msg: resolve_msg(model, &actor, *p), actor },
                ReadArg::Replies(p) => Op::Replies { msg: resolve_msg(model, &actor, *p), actor, page_size },
                ReadArg::Reactions(p, e) => {
                    Op::Reactions { msg: resolve_msg(model, &actor, *p), actor, emoji: emoji_of(*e), page_size }
                }
                ReadArg::Feed(p) => Op::Feed { talk: p.map(|p| resolve_talk(model, &actor, p)), agent: actor },
                ReadArg::Directory(q) => Op::Directory { q: directory_query_of(*q), page_size },
                ReadArg::Search(q, p) => Op::Search {
                    talk: p.map(|p| resolve_talk(model, &actor, p)),
                    actor,
                    q: search_query_of(*q),
                    page_size,
                },
            }
        }
    }
}

fn emoji_of(i: u8) -> String {
    EMOJI_SPELLINGS[usize::from(i) % EMOJI_SPELLINGS.len()].0.to_owned()
}

/// A message for `read`/`unread` in `talk`: mostly one of that talk, now
/// and then any the actor sees (maybe of another talk) or none.
fn resolve_read_msg(model: &Model, actor: &str, talk: Ref, pick: Pick) -> Ref {
    match (pick.scope, talk) {
        (Scope::Mine, Some(t)) => {
            let same = model.msgs_in(t);
            if same.is_empty() { None } else { Some(same[pick.ix.index(same.len())]) }
        }
        _ => resolve_msg(model, actor, pick),
    }
}

/// Runs a resolved command on the model.
pub(super) fn run_on_model(model: &mut Model, op: &Op) -> super::plain::Outcome {
    match op {
        Op::CreateTalk { actor, direct, public, name, detail, listed } => {
            model.create_talk(actor, *direct, *public, name.as_deref(), detail.as_deref(), listed)
        }
        Op::Add { actor, talk, agent } => model.add(actor, *talk, agent),
        Op::Join { actor, talk } => model.join(actor, *talk),
        Op::Remove { actor, talk, target } => model.remove(actor, *talk, *target),
        Op::Close { actor, talk } => model.close(actor, *talk),
        Op::Reopen { actor, talk } => model.reopen(actor, *talk),
        Op::Update { actor, talk, name, detail } => model.update_talk(actor, *talk, name.as_deref(), detail.as_deref()),
        Op::Send { actor, talk, text, medias, parent, id, mentions } => {
            model.send(actor, *talk, text, medias, *parent, *id, mentions)
        }
        Op::Edit { actor, msg, text, mentions } => model.edit(actor, *msg, text, mentions.as_deref()),
        Op::MarkRead { actor, talk, msg } => model.mark_read(actor, *talk, *msg),
        Op::MarkUnread { actor, talk, msg } => model.mark_unread(actor, *talk, *msg),
        Op::Typing { actor, talk, .. } => model.typing(actor, *talk),
        Op::Delete { actor, msg } => model.delete(actor, *msg),
        Op::React { actor, msg, emoji } => model.react(actor, *msg, emoji),
        Op::Unreact { actor, msg, emoji } => model.unreact(actor, *msg, emoji),
        Op::Talks { actor, closed, .. } => model.talks_of(actor, *closed),
        Op::Talk { actor, talk } => model.talk(actor, *talk),
        Op::Participants { actor, talk, filter, .. } => model.participants(actor, *talk, *filter),
        Op::Messages { actor, talk, include_replies, .. } => model.messages(actor, *talk, *include_replies),
        Op::Message { actor, msg } => model.message(actor, *msg),
        Op::Replies { actor, msg, .. } => model.replies(actor, *msg),
        Op::Reactions { actor, msg, emoji, .. } => model.reactors(actor, *msg, emoji),
        Op::Feed { agent, talk } => model.feed(agent, *talk),
        Op::Directory { q, .. } => model.directory(q.as_deref()),
        Op::Search { actor, q, talk, .. } => model.search(actor, q, *talk),
    }
}

/// A string as a trace shows it: quoted, long ones cut.
fn short(s: &str) -> String {
    let n = s.chars().count();
    if n > 24 {
        let head: String = s.chars().take(8).collect();
        format!("{head:?}…({n} chars)")
    } else {
        format!("{s:?}")
    }
}

fn r(prefix: char, reference: Ref) -> String {
    match reference {
        Some(i) => format!("{prefix}{i}"),
        None => format!("{prefix}<missing>"),
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::CreateTalk { actor, direct, public, name, detail, listed } => write!(
                f,
                "{actor}: create {} talk name={} detail={} participants={listed:?}",
                if *direct {
                    "direct"
                } else if *public {
                    "public"
                } else {
                    "group"
                },
                name.as_deref().map(short).unwrap_or_else(|| "none".into()),
                detail.as_deref().map(short).unwrap_or_else(|| "none".into()),
            ),
            Op::Add { actor, talk, agent } => write!(f, "{actor}: add {agent} to {}", r('t', *talk)),
            Op::Join { actor, talk } => write!(f, "{actor}: join {}", r('t', *talk)),
            Op::Remove { actor, talk, target } => match target {
                None => write!(f, "{actor}: remove `me` from {}", r('t', *talk)),
                Some(p) => write!(f, "{actor}: remove {} from {}", r('p', *p), r('t', *talk)),
            },
            Op::Close { actor, talk } => write!(f, "{actor}: close {}", r('t', *talk)),
            Op::Reopen { actor, talk } => write!(f, "{actor}: reopen {}", r('t', *talk)),
            Op::Update { actor, talk, name, detail } => write!(
                f,
                "{actor}: update {} name={} detail={}",
                r('t', *talk),
                name.as_deref().map(short).unwrap_or_else(|| "none".into()),
                detail.as_deref().map(short).unwrap_or_else(|| "none".into()),
            ),
            Op::Send { actor, talk, text, medias, parent, id, mentions } => {
                write!(f, "{actor}: send to {} text={} medias={}", r('t', *talk), short(text), medias.len())?;
                if !mentions.is_empty() {
                    write!(f, " mentions={mentions:?}")?;
                }
                if let Some(p) = parent {
                    write!(f, " parent={}", r('m', *p))?;
                }
                match id {
                    Some(ClientId::Of(m)) => write!(f, " id=<id of m{m}>"),
                    Some(ClientId::Fresh(u)) => write!(f, " id=<client {:x}>", u & 0xfff),
                    None => Ok(()),
                }
            }
            Op::Edit { actor, msg, text, mentions } => {
                write!(f, "{actor}: edit {} text={} mentions={mentions:?}", r('m', *msg), short(text))
            }
            Op::MarkRead { actor, talk, msg } => match msg {
                Some(m) => write!(f, "{actor}: read {} up to {}", r('t', *talk), r('m', *m)),
                None => write!(f, "{actor}: read {} up to the newest", r('t', *talk)),
            },
            Op::MarkUnread { actor, talk, msg } => write!(f, "{actor}: unread {} from {}", r('t', *talk), r('m', *msg)),
            Op::Typing { actor, talk, typing } => {
                write!(f, "{actor}: {} in {}", if *typing { "types" } else { "stops typing" }, r('t', *talk))
            }
            Op::Delete { actor, msg } => write!(f, "{actor}: delete {}", r('m', *msg)),
            Op::React { actor, msg, emoji } => write!(f, "{actor}: react {} {emoji:?}", r('m', *msg)),
            Op::Unreact { actor, msg, emoji } => write!(f, "{actor}: unreact {} {emoji:?}", r('m', *msg)),
            Op::Talks { actor, closed, page_size } => {
                write!(f, "{actor}: list talks closed={closed:?} (pages of {page_size})")
            }
            Op::Talk { actor, talk } => write!(f, "{actor}: read {}", r('t', *talk)),
            Op::Participants { actor, talk, filter, page_size } => {
                write!(f, "{actor}: list participants of {} {filter:?} (pages of {page_size})", r('t', *talk))
            }
            Op::Messages { actor, talk, include_replies, page_size } => write!(
                f,
                "{actor}: list messages of {} include_replies={include_replies} (pages of {page_size})",
                r('t', *talk)
            ),
            Op::Message { actor, msg } => write!(f, "{actor}: read {}", r('m', *msg)),
            Op::Replies { actor, msg, page_size } => {
                write!(f, "{actor}: list replies of {} (pages of {page_size})", r('m', *msg))
            }
            Op::Reactions { actor, msg, emoji, page_size } => {
                write!(f, "{actor}: list reactions {emoji:?} of {} (pages of {page_size})", r('m', *msg))
            }
            Op::Search { actor, q, talk, page_size } => {
                write!(f, "{actor}: search {} (pages of {page_size})", short(q))?;
                match talk {
                    Some(t) => write!(f, " in {}", r('t', *t)),
                    None => Ok(()),
                }
            }
            Op::Feed { agent, talk } => match talk {
                None => write!(f, "{agent}: events of all talks"),
                Some(t) => write!(f, "{agent}: events of {}", r('t', *t)),
            },
            Op::Directory { q, page_size } => {
                write!(
                    f,
                    "list public talks q={} (pages of {page_size})",
                    q.as_deref().map(short).unwrap_or("none".into())
                )
            }
        }
    }
}
