//! The public talk directory (`Store::public_talks`): which talks, in which
//! order, matched by which words, paged how.

use super::support::*;
use talk_core::text;

/// Creates a public talk named `name` with its creator as member.
async fn seed_public(store: &dyn Store, name: &str) -> Talk {
    let creator = agent("alice");
    let talk = public_talk(&creator, name);
    apply(store, create_talk(&talk, &[participant(talk.id, &creator)]), "creating a public talk").await;
    read_talk(store, talk.id).await
}

/// The names `public_talks` lists for `q` (folded by `text::words`, each once).
async fn names(store: &dyn Store, q: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text::words(q) {
        if !words.contains(&word) {
            words.push(word);
        }
    }
    store.public_talks(&words, None, ALL).await.must("public_talks").into_iter().map(|t| t.name).collect()
}

/// `public_talks` lists active public talks only (not group, direct or
/// closed ones), newest first, keyset on `created_seq < before`, at most
/// `limit`.
pub async fn public_talks_list_active_public_talks_newest_first_with_keyset_pages(store: Arc<dyn Store>) {
    let s = store.as_ref();
    assert!(s.public_talks(&[], None, ALL).await.must("public_talks").is_empty());
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(seed_public(s, &format!("room {i}")).await);
        seed_group(s, "alice", &["bob"]).await;
    }
    let pair = direct_talk(&agent("alice"), &agent("bob"));
    apply(s, create_talk(&pair, &[participant(pair.id, &agent("alice"))]), "a direct talk").await;
    let shut = seed_public(s, "room shut").await;
    apply(s, ChangeSetBuilder::new().close_talk(&closed(&shut, at(5))).build(), "closing").await;
    made.reverse();
    let all = s.public_talks(&[], None, ALL).await.must("public_talks");
    assert_eq!(all, made, "active public talks, newest first, as stored");
    let fetch = |before, limit| async move { s.public_talks(&[], before, limit).await.must("a page") };
    let paged = read_pages("public_talks", Order::Descending, 3, |t: &Talk| t.created_seq, fetch).await;
    assert_eq!(paged, made);
    assert!(s.public_talks(&[], None, 0).await.must("public_talks").is_empty());
    let oldest = made.last().map(|t| t.created_seq);
    assert!(s.public_talks(&[], oldest, ALL).await.must("public_talks").is_empty());
    let words = vec!["room".to_owned()];
    let two = s.public_talks(&words, made.first().map(|t| t.created_seq), 2).await.must("public_talks");
    assert_eq!(two, made[1..3], "words and a cursor together");
}

/// A name matches when each word is one of the name's words or a prefix of
/// one, after folding (case and accents): `text::words` of the name.
pub async fn public_talks_match_every_word_as_a_word_or_a_prefix_folded(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let made = ["Café Society", "General chat", "generalists", "offgeneral", "ÅNGSTRÖM-units", "日本語 チャット"];
    for name in made.into_iter().chain(["one two three four five six"]) {
        seed_public(s, name).await;
    }
    assert_eq!(names(s, "GENERAL").await, ["generalists", "General chat"]);
    assert_eq!(names(s, "gen chat").await, ["General chat"]);
    assert_eq!(names(s, "cafe").await, ["Café Society"]);
    assert_eq!(names(s, "CAFÉ SOC").await, ["Café Society"]);
    assert_eq!(names(s, "angstrom unit").await, ["ÅNGSTRÖM-units"]);
    assert_eq!(names(s, "チャット").await, ["日本語 チャット"]);
    assert!(names(s, "eneral").await.is_empty(), "inside a word is no match");
    assert!(names(s, "general nothing").await.is_empty(), "every word must match");
    assert!(names(s, "societyx").await.is_empty(), "a word longer than the name's");
    // Many words (a store may read them differently from a few).
    assert_eq!(names(s, "six fiv FOUR thr two one").await, ["one two three four five six"]);
    assert!(names(s, "six fiv four thr two one seven").await.is_empty());
    assert!(names(s, "one two three four x").await.is_empty());
    assert_eq!(names(s, "").await.len(), 7, "no words: every public talk");
}

/// The directory follows writes: a rename is found by its new name only, a
/// closed talk leaves, a reopened one comes back in its place.
pub async fn public_talks_follow_renames_closes_and_reopens(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let older = seed_public(s, "first").await;
    let talk = seed_public(s, "Old Name").await;
    let renamed = Talk { name: "Nouveau Café".into(), ..touched(&talk, at(1)) };
    apply(s, ChangeSetBuilder::new().update_talk(&renamed).build(), "renaming").await;
    assert_eq!(names(s, "nouveau cafe").await, ["Nouveau Café"]);
    assert!(names(s, "old").await.is_empty(), "the old name is gone");
    let shut = closed(&renamed, at(2));
    apply(s, ChangeSetBuilder::new().close_talk(&shut).build(), "closing").await;
    assert_eq!(names(s, "").await, ["first"]);
    let reopened = Talk { status: TalkStatus::Active, tm_close: None, ..touched(&shut, at(3)) };
    apply(s, ChangeSetBuilder::new().update_talk(&reopened).build(), "reopening").await;
    let listed = s.public_talks(&[], None, ALL).await.must("public_talks");
    assert_eq!(ids(&listed, |t| t.id), [talk.id, older.id], "back in its place, by created_seq");
}

/// Pages of `public_talks` with words never skip or repeat while talks
/// (matching and not, public and not) are created.
pub async fn public_talks_pages_never_skip_or_repeat_while_talks_are_created(store: Arc<dyn Store>) {
    for i in 0..15 {
        seed_public(store.as_ref(), &format!("lobby {i}")).await;
        seed_public(store.as_ref(), &format!("other {i}")).await;
    }
    let writer_store = store.clone();
    let writer = tokio::spawn(async move {
        for i in 0..30 {
            let creator = agent("bob");
            let talk = match i % 3 {
                0 => public_talk(&creator, &format!("lobby during {i}")),
                1 => public_talk(&creator, &format!("other during {i}")),
                _ => group_talk(&creator, &format!("lobby group {i}")),
            };
            apply(writer_store.as_ref(), create_talk(&talk, &[participant(talk.id, &creator)]), "a writer").await;
            tokio::task::yield_now().await;
        }
    });
    let words = vec!["lobby".to_owned()];
    let fetch = |before, limit| {
        let (store, words) = (store.clone(), words.clone());
        async move { store.public_talks(&words, before, limit).await.must("a page of public talks") }
    };
    let seen: Vec<u64> = read_pages("public_talks", Order::Descending, 3, |t: &Talk| t.created_seq, &fetch)
        .await
        .iter()
        .map(|t| t.created_seq)
        .collect();
    writer.await.unwrap_or_else(|e| panic!("the writer failed: {e}"));
    let first = *seen.first().unwrap_or_else(|| panic!("the first page was empty"));
    let all: Vec<u64> = fetch(None, ALL).await.iter().map(|t| t.created_seq).filter(|&k| k <= first).collect();
    assert_eq!(seen, all, "pages skipped a talk");
    assert!(seen.len() >= 15);
}
