//! `search_messages`: words, prefixes and phrases over the folded text,
//! each filter, the index kept by edits and deletes, visibility as part of
//! the query, keyset pages.

use super::support::*;
use talk_core::SearchFilters;
use talk_core::store::SearchQuery;

/// The ids of what `agent` finds with `q` (and the filters of `query`), newest first.
async fn found(store: &dyn Store, who: &str, q: &str, filters: SearchFilters) -> Vec<MessageId> {
    let query = SearchQuery { terms: SearchQuery::terms_of(q), filters };
    let hits = store.search_messages(&agent(who), &query, None, ALL, LISTED).await.must("search_messages");
    ids(&hits, |m| m.id)
}

async fn find(store: &dyn Store, who: &str, q: &str) -> Vec<MessageId> {
    found(store, who, q, SearchFilters::default()).await
}

/// Sends a message with its own `tm_create`.
async fn send_at(store: &dyn Store, m: Message) -> Message {
    apply(store, ChangeSetBuilder::new().insert_message(&m).build(), "sending a message").await;
    read_message(store, m.id).await
}

/// A word matches whole or as a prefix of a word of the text; every term
/// must hold; a quoted phrase matches whole words in order.
pub async fn search_finds_words_prefixes_and_phrases(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let talk = group.talk.id;
    let deploy = send(store, talk, "alice", "The deployment rolled back, sadly.").await;
    let rolled = send(store, talk, "alice", "back it rolled, then deploy again").await;
    let other = send(store, talk, "alice", "lunch at noon").await;
    assert_eq!(find(store, "alice", "deploy").await, [rolled.id, deploy.id], "a whole word and a prefix, newest first");
    assert_eq!(find(store, "alice", "deployment").await, [deploy.id], "a whole word");
    assert_eq!(find(store, "alice", "deploym rol").await, [deploy.id], "every word must match");
    assert_eq!(find(store, "alice", r#""rolled back""#).await, [deploy.id], "a phrase: whole words in order");
    assert_eq!(find(store, "alice", r#""back it""#).await, [rolled.id]);
    assert_eq!(find(store, "alice", r#""roll back""#).await, Vec::<MessageId>::new(), "a phrase's words are whole");
    assert_eq!(find(store, "alice", r#""deploy""#).await, [rolled.id], "a quoted word is whole");
    assert_eq!(find(store, "alice", r#"again "then deploy""#).await, [rolled.id], "a word and a phrase");
    assert_eq!(find(store, "alice", "noon").await, [other.id]);
    assert_eq!(find(store, "alice", "oon").await, Vec::<MessageId>::new(), "a prefix, not any part of a word");
    assert_eq!(find(store, "alice", "sadly back").await, [deploy.id], "words in any order");
}

/// Text and query are folded alike: case, accents and compatibility forms.
pub async fn search_folds_case_and_accents(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let talk = group.talk.id;
    let cafe = send(store, talk, "alice", "Un CAFÉ crème à Zürich").await;
    let plain = send(store, talk, "alice", "cafe creme").await;
    let wide = send(store, talk, "alice", "ＡＢＣ ﬁle").await;
    assert_eq!(find(store, "alice", "café").await, [plain.id, cafe.id]);
    assert_eq!(find(store, "alice", "CAFE").await, [plain.id, cafe.id]);
    assert_eq!(find(store, "alice", r#""cafe CRÈME""#).await, [plain.id, cafe.id]);
    assert_eq!(find(store, "alice", "zurich").await, [cafe.id]);
    assert_eq!(find(store, "alice", "abc file").await, [wide.id]);
    assert_eq!(find(store, "alice", "Zu\u{308}rich").await, [cafe.id], "a decomposed accent folds the same");
}

/// Each filter keeps what it names: talk, author, thread, medias, and
/// `tm_create` strictly before or after a time.
pub async fn search_filters_by_talk_author_thread_media_and_time(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let one = seed_group(store, "alice", &["bob"]).await;
    let two = seed_group(store, "alice", &[]).await;
    let a1 = send_at(store, Message { tm_create: at(10), ..message(one.talk.id, &agent("alice"), "report one") }).await;
    let b1 = send_at(store, Message { tm_create: at(20), ..message(one.talk.id, &agent("bob"), "report two") }).await;
    let r1 = send_at(store, Message { tm_create: at(30), ..reply(&a1, &agent("bob"), "report reply") }).await;
    let m2 = send_at(
        store,
        Message { tm_create: at(40), medias: vec![media("a.png")], ..message(two.talk.id, &agent("alice"), "report") },
    )
    .await;
    let all = find(store, "alice", "report").await;
    assert_eq!(all, [m2.id, r1.id, b1.id, a1.id]);
    let by = |filters: SearchFilters| found(store, "alice", "report", filters);
    assert_eq!(by(SearchFilters { talk_id: Some(one.talk.id), ..Default::default() }).await, [r1.id, b1.id, a1.id]);
    assert_eq!(by(SearchFilters { agent_id: Some(agent("bob")), ..Default::default() }).await, [r1.id, b1.id]);
    assert_eq!(by(SearchFilters { parent_id: Some(a1.id), ..Default::default() }).await, [r1.id]);
    assert_eq!(by(SearchFilters { has_media: true, ..Default::default() }).await, [m2.id]);
    assert_eq!(by(SearchFilters { before: Some(at(30)), ..Default::default() }).await, [b1.id, a1.id], "exclusive");
    assert_eq!(by(SearchFilters { after: Some(at(20)), ..Default::default() }).await, [m2.id, r1.id], "exclusive");
    let both = SearchFilters {
        talk_id: Some(one.talk.id),
        agent_id: Some(agent("bob")),
        after: Some(at(10)),
        before: Some(at(30)),
        ..Default::default()
    };
    assert_eq!(by(both).await, [b1.id], "filters combine");
}

/// An edit re-indexes the message in the same change set: its new text
/// finds it, its old text no longer does.
pub async fn search_finds_an_edited_message_by_its_new_text_only(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "the old wording").await;
    let changed = edited(&m, "a fresh phrasing", at(5));
    apply(store, ChangeSetBuilder::new().update_message(&changed).build(), "editing").await;
    assert_eq!(find(store, "alice", "old").await, Vec::<MessageId>::new(), "the old text is gone from the index");
    assert_eq!(find(store, "alice", "fresh").await, [m.id]);
    assert_eq!(find(store, "alice", r#""fresh phrasing""#).await, [m.id]);
    let hits = store.search_messages(&agent("alice"), &SearchQuery::text("fresh"), None, ALL, LISTED).await;
    let hits = hits.must("search_messages");
    assert_eq!(hits, [read_message(store, m.id).await], "a hit is the message as a read answers it");
}

/// A deleted message is never found, nor are system messages.
pub async fn search_never_finds_deleted_or_system_messages(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let kept = send(store, group.talk.id, "alice", "secret plan kept").await;
    let gone = send(store, group.talk.id, "alice", "secret plan dropped").await;
    apply(store, ChangeSetBuilder::new().delete_message(&tombstone(&gone, at(5))).build(), "deleting").await;
    assert_eq!(find(store, "alice", "secret").await, [kept.id]);
    assert_eq!(find(store, "alice", "dropped").await, Vec::<MessageId>::new());
    let system = Message {
        kind: MessageKind::System,
        agent_id: None,
        system: Some(SystemInfo {
            event: SystemEvent::TalkRenamed,
            agent_id: agent("alice"),
            actor_id: Some(agent("alice")),
            name: Some("secret".to_owned()),
        }),
        ..message(group.talk.id, &agent("alice"), "alice renamed the talk to secret")
    };
    send_at(store, system).await;
    assert_eq!(find(store, "alice", "secret").await, [kept.id], "system messages are not searched");
}

/// Only talks where the agent has an active record are searched, all of
/// their messages (from before it joined too); the join is part of the
/// query, so a page is full whenever that many messages are found, however
/// many newer matches lie in talks the agent cannot see.
pub async fn search_sees_only_talks_with_an_active_record(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let mine = seed_group(store, "alice", &[]).await;
    let left = seed_group(store, "alice", &[]).await;
    let never = seed_group(store, "carol", &[]).await;
    let early = send(store, mine.talk.id, "alice", "match early").await;
    let late_joiner = send(store, mine.talk.id, "alice", "match before bob joined").await;
    add_member(store, mine.talk.id, "bob").await;
    let in_left = send(store, left.talk.id, "alice", "match in a talk left").await;
    end_member(store, &left.members[0], LeftReason::Left).await;
    for i in 0..10 {
        send(store, never.talk.id, "carol", &format!("match {i} unseen")).await;
        send(store, left.talk.id, "bob", &format!("match {i} after leaving")).await;
    }
    assert_eq!(find(store, "alice", "match").await, [late_joiner.id, early.id]);
    assert_eq!(find(store, "bob", "match").await, [late_joiner.id, early.id], "messages from before joining");
    assert!(find(store, "carol", "early").await.is_empty());
    assert!(find(store, "dave", "match").await.is_empty(), "an agent in no talk finds nothing");
    let page = store.search_messages(&agent("alice"), &SearchQuery::text("match"), None, 2, LISTED).await;
    assert_eq!(ids(&page.must("search_messages"), |m| m.id), [late_joiner.id, early.id], "the page is full");
    let only_left = SearchFilters { talk_id: Some(left.talk.id), ..SearchFilters::default() };
    let filtered = SearchQuery { filters: only_left, ..SearchQuery::text("match") };
    let hits = store.search_messages(&agent("alice"), &filtered, None, ALL, LISTED).await.must("search_messages");
    assert!(hits.is_empty(), "a talk left is not searched even when named: {:?} ({in_left:?})", ids(&hits, |m| m.id));
}

/// Pages are keyset on `seq`, newest first, exclusive cursor, even when
/// every message shares one `tm_create`.
pub async fn search_pages_are_keyset_on_seq_with_ties(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let mut expected = Vec::new();
    for i in 0..11 {
        expected.push(send(store, group.talk.id, "alice", &format!("tie {i}")).await.id);
        send(store, group.talk.id, "alice", "noise").await;
    }
    expected.reverse();
    let query = SearchQuery::text("tie");
    let fetch = |before, limit| {
        let query = query.clone();
        async move { store.search_messages(&agent("alice"), &query, before, limit, LISTED).await.must("search") }
    };
    let paged = read_pages("search_messages", Order::Descending, 3, |m: &Message| m.seq, fetch).await;
    assert_eq!(ids(&paged, |m| m.id), expected, "pages read every match once, newest first");
    let third = read_message(store, expected[2]).await;
    let after_third = store.search_messages(&agent("alice"), &query, Some(third.seq), 2, LISTED).await;
    assert_eq!(ids(&after_third.must("search"), |m| m.id), expected[3..5], "the cursor is exclusive");
}

/// A query that matches nothing answers an empty list.
pub async fn search_without_a_match_answers_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    send(store, group.talk.id, "alice", "something").await;
    assert!(find(store, "alice", "nothing").await.is_empty());
    assert!(find(store, "alice", "something else").await.is_empty());
    let none = store.search_messages(&agent("alice"), &SearchQuery::text("something"), None, 0, LISTED).await;
    assert!(none.must("search").is_empty(), "a limit of 0 answers nothing");
}
