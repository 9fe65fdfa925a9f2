//! Search through the Hub: words, prefixes, phrases, folding, visibility,
//! edits and deletes, pages, validation and highlights.

mod common;

use std::collections::BTreeSet;

use common::*;
use talk_core::{Hub, MessageId, PageRequest, ParticipantRef, SearchFilters, SearchHit, SearchRequest};

async fn search(hub: &Hub, who: &str, request: SearchRequest) -> Vec<SearchHit> {
    hub.search_messages(&agent(who), &request, &PageRequest::of_size(100)).await.expect("search").items
}

async fn found(hub: &Hub, who: &str, q: &str) -> Vec<MessageId> {
    search(hub, who, SearchRequest::new(q)).await.iter().map(|hit| hit.message.id).collect()
}

fn marked(hit: &SearchHit) -> String {
    hit.highlight.parts().into_iter().map(|(s, hit)| if hit { format!("[{s}]") } else { s.to_owned() }).collect()
}

#[tokio::test]
async fn search_finds_word_prefix_and_phrase() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let first = send(&hub, "a", talk.id, "The deployment rolled back").await;
    let second = send(&hub, "b", talk.id, "deploy again tomorrow, back rolled").await;
    send(&hub, "a", talk.id, "lunch?").await;
    assert_eq!(found(&hub, "a", "deploy").await, [second.id, first.id]);
    assert_eq!(found(&hub, "a", "deployment").await, [first.id]);
    assert_eq!(found(&hub, "a", r#""rolled back""#).await, [first.id]);
    assert_eq!(found(&hub, "a", r#"tomorrow "back rolled""#).await, [second.id]);
    let hits = search(&hub, "b", SearchRequest::new("deploy")).await;
    assert_eq!(marked(&hits[1]), "The [deploy]ment rolled back");
    assert_eq!(marked(&hits[0]), "[deploy] again tomorrow, back rolled");
    let phrase = search(&hub, "b", SearchRequest::new(r#""rolled back""#)).await;
    assert_eq!(marked(&phrase[0]), "The deployment [rolled back]");
    assert_eq!(phrase[0].message, hub.message(&agent("b"), first.id).await.expect("read"));
}

#[tokio::test]
async fn search_ignores_case_and_accents() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "Réunion au CAFÉ de Zürich").await;
    for q in ["reunion", "RÉUNION", "cafe", "Café", "zurich", r#""au cafe""#] {
        assert_eq!(found(&hub, "a", q).await, [m.id], "{q}");
    }
    let hits = search(&hub, "a", SearchRequest::new("cafe")).await;
    assert_eq!(marked(&hits[0]), "Réunion au [CAFÉ] de Zürich", "the original text is marked");
}

#[tokio::test]
async fn search_sees_only_active_talks() {
    let hub = hub();
    let mine = group(&hub, "a", &["b"]).await;
    let left = group(&hub, "a", &["b"]).await;
    let never = group(&hub, "c", &[]).await;
    let seen = send(&hub, "b", mine.id, "needle here").await;
    send(&hub, "b", left.id, "needle in a talk a left").await;
    send(&hub, "c", never.id, "needle elsewhere").await;
    hub.remove_participant(&agent("a"), left.id, ParticipantRef::Me).await.expect("leave");
    send(&hub, "b", left.id, "needle after a left").await;
    assert_eq!(found(&hub, "a", "needle").await, [seen.id]);
    let in_talk = |talk| SearchRequest {
        filters: SearchFilters { talk_id: Some(talk), ..SearchFilters::default() },
        ..SearchRequest::new("needle")
    };
    let page = PageRequest::first();
    assert_eq!(code(hub.search_messages(&agent("a"), &in_talk(never.id), &page).await), "not_found");
    assert_eq!(code(hub.search_messages(&agent("a"), &in_talk(left.id), &page).await), "not_participant");
    let hits = hub.search_messages(&agent("a"), &in_talk(mine.id), &page).await.expect("search one talk");
    assert_eq!(hits.items.iter().map(|h| h.message.id).collect::<Vec<_>>(), [seen.id]);
}

#[tokio::test]
async fn edited_message_found_by_new_text_only() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "first draft wording").await;
    hub.edit_message(&agent("a"), m.id, "final version".into()).await.expect("edit");
    assert!(found(&hub, "a", "draft").await.is_empty());
    assert_eq!(found(&hub, "a", "final").await, [m.id]);
    let hits = search(&hub, "a", SearchRequest::new("final")).await;
    assert_eq!(hits[0].message.text, "final version");
}

#[tokio::test]
async fn deleted_message_not_found() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let kept = send(&hub, "a", talk.id, "keep this secret").await;
    let gone = send(&hub, "a", talk.id, "drop this secret").await;
    hub.delete_message(&agent("a"), gone.id).await.expect("delete");
    assert_eq!(found(&hub, "a", "secret").await, [kept.id]);
    assert!(found(&hub, "a", "drop").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_never_skip_or_repeat_under_writes() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    for i in 0..30 {
        send(&hub, "a", talk.id, &format!("match before {i}")).await;
    }
    let writer = {
        let hub = (*hub).clone();
        tokio::spawn(async move {
            for i in 0..60 {
                send(&hub, "b", talk.id, &format!("match during {i}")).await;
                tokio::task::yield_now().await;
            }
        })
    };
    let request = SearchRequest::new("match");
    let mut page = PageRequest::of_size(4);
    let mut seen = Vec::new();
    loop {
        let got = hub.search_messages(&agent("a"), &request, &page).await.expect("a page");
        assert!(got.items.len() == 4 || !got.has_more(), "a page is full whenever more follow");
        seen.extend(got.items.iter().map(|hit| hit.message.seq));
        if !got.has_more() {
            break;
        }
        page = page.after(&got);
        tokio::task::yield_now().await;
    }
    writer.await.expect("writer");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, no repeat: {seen:?}");
    let first = seen[0];
    let all = hub.search_messages(&agent("a"), &request, &PageRequest::of_size(100)).await.expect("all").items;
    let expected: Vec<u64> = all.iter().map(|hit| hit.message.seq).filter(|&seq| seq <= first).collect();
    assert_eq!(seen, expected, "pages skipped a match");
    assert!(seen.len() >= 30);
}

#[tokio::test]
async fn search_refuses_bad_queries_and_foreign_page_tokens() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    for i in 0..3 {
        send(&hub, "a", talk.id, &format!("word {i}")).await;
    }
    let page = PageRequest::first();
    for q in [String::new(), "x".repeat(201), "!!! ...".to_owned(), "bell\u{7}".to_owned()] {
        assert_eq!(
            code(hub.search_messages(&agent("a"), &SearchRequest::new(q.clone()), &page).await),
            "invalid_request"
        );
    }
    assert!(hub.search_messages(&agent("a"), &SearchRequest::new("é".repeat(200)), &page).await.is_ok());
    let first = hub.search_messages(&agent("a"), &SearchRequest::new("word"), &PageRequest::of_size(1)).await;
    let next = PageRequest::of_size(1).after(&first.expect("first page"));
    assert!(hub.search_messages(&agent("a"), &SearchRequest::new("word"), &next).await.is_ok());
    let other_text = SearchRequest::new("words");
    assert_eq!(code(hub.search_messages(&agent("a"), &other_text, &next).await), "invalid_request");
    let other_filter = SearchRequest {
        filters: SearchFilters { has_media: true, ..SearchFilters::default() },
        ..SearchRequest::new("word")
    };
    assert_eq!(code(hub.search_messages(&agent("a"), &other_filter, &next).await), "invalid_request");
    let in_talk = SearchRequest {
        filters: SearchFilters { talk_id: Some(talk.id), ..SearchFilters::default() },
        ..SearchRequest::new("")
    };
    assert_eq!(
        code(hub.search_messages(&agent("z"), &in_talk, &page).await),
        "invalid_request",
        "syntax answers before visibility"
    );
    let distinct: BTreeSet<_> = found(&hub, "a", "word").await.into_iter().collect();
    assert_eq!(distinct.len(), 3);
}
