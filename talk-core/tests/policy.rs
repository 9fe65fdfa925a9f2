//! The embedder's policy: asked after the repeats step and before
//! authorship, inside the retry loop; a refusal writes nothing; a rewrite is
//! what is stored and delivered.

mod common;

use std::sync::{Arc, Mutex, PoisonError};

use common::*;
use talk_core::policy::{Command, Policy, PolicyError, Request, Rewrite, Verdict};
use talk_core::{EventData, Hub, ManualClock, MessageId, NewMessage, NewTalk, Store, TalkChanges, TalkKind};
use talk_store_memory::MemoryStore;
use talk_testing::{ForwardingStore, StoreMethod};

/// What a policy was asked: the command's name and the talk's name as read.
type Asked = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A policy that records what it is asked and answers with `decide`.
struct Recording<F> {
    asked: Asked,
    decide: F,
}

impl<F: Fn(&Request<'_>) -> Result<Verdict, PolicyError> + Send + Sync + 'static> Policy for Recording<F> {
    fn check(&self, request: &Request<'_>) -> Result<Verdict, PolicyError> {
        let command = format!("{:?}", request.command);
        let name = command.split([' ', '(', '{']).next().unwrap_or_default().to_owned();
        let talk = request.talk.map(|t| t.name.clone());
        self.asked.lock().unwrap_or_else(PoisonError::into_inner).push((name, talk));
        (self.decide)(request)
    }
}

fn hub_with_policy(
    store: Arc<dyn Store>,
    decide: impl Fn(&Request<'_>) -> Result<Verdict, PolicyError> + Send + Sync + 'static,
) -> (TestHub, Asked) {
    let asked = Asked::default();
    let policy = Recording { asked: asked.clone(), decide };
    let hub = Hub::builder(store.clone()).clock(Arc::new(ManualClock::default())).policy(Arc::new(policy)).build();
    (TestHub::new(hub, store), asked)
}

fn commands(asked: &Asked) -> Vec<String> {
    asked.lock().unwrap_or_else(PoisonError::into_inner).iter().map(|(c, _)| c.clone()).collect()
}

/// Refuses every send that says "spam".
fn no_spam(request: &Request<'_>) -> Result<Verdict, PolicyError> {
    Ok(match request.command {
        Command::SendMessage { text, .. } if text.contains("spam") => {
            Verdict::Refuse("no_spam: keep it on topic".into())
        }
        _ => Verdict::Allow,
    })
}

#[tokio::test]
async fn policy_refusal_writes_nothing() {
    let (hub, _) = hub_with_policy(Arc::new(MemoryStore::new()), no_spam);
    let talk = group(&hub, "a", &["b"]).await;
    let before = head(&hub).await;
    let refused = hub.send_message(&agent("a"), talk.id, text("buy spam")).await.unwrap_err();
    assert_eq!((refused.code(), refused.to_string().as_str()), ("forbidden", "no_spam: keep it on topic"));
    assert_eq!(head(&hub).await, before, "no event");
    assert!(main_view(&hub, "a", talk.id).await.iter().all(|m| !m.text.contains("spam")), "no message");
    // A client-chosen id that was refused is not taken.
    let id = MessageId(uuid::Uuid::now_v7());
    let refused = NewMessage { id: Some(id), ..text("spam again") };
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, refused).await), "forbidden");
    let allowed = hub.send_message(&agent("a"), talk.id, NewMessage { id: Some(id), ..text("on topic") }).await;
    assert!(allowed.expect("the id is free").created);
}

#[tokio::test]
async fn repeats_never_reach_the_policy_and_refusal_comes_before_not_author() {
    // Allows what the test sets up, then refuses everything else.
    let open = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let gate = open.clone();
    let (hub, asked) = hub_with_policy(Arc::new(MemoryStore::new()), move |_| {
        Ok(if gate.load(std::sync::atomic::Ordering::SeqCst) { Verdict::Allow } else { Verdict::Refuse("no".into()) })
    });
    let talk = group(&hub, "a", &["b"]).await;
    let message = send(&hub, "a", talk.id, "hello").await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    open.store(false, std::sync::atomic::Ordering::SeqCst);
    asked.lock().unwrap().clear();

    // A repeat changes nothing: it answers without asking.
    assert!(hub.close_talk(&agent("a"), talk.id).await.is_ok(), "a repeat close answers without asking");
    assert!(commands(&asked).is_empty());
    // Not the author: the policy answers first (it is asked before step 8).
    assert_eq!(code(hub.delete_message(&agent("b"), message.id).await), "forbidden");
    // Step 6 answers before the policy: a stranger is not found, not refused.
    assert_eq!(code(hub.close_talk(&agent("z"), talk.id).await), "not_found");
    assert_eq!(commands(&asked), ["DeleteMessage"]);
}

#[tokio::test]
async fn a_create_is_asked_with_its_members_and_no_talk() {
    let (hub, asked) = hub_with_policy(Arc::new(MemoryStore::new()), |request| {
        Ok(match request.command {
            Command::CreateTalk { members, .. } if members.len() > 2 => Verdict::Refuse("small talks only".into()),
            _ => Verdict::Allow,
        })
    });
    let input = |others: &[&str]| NewTalk {
        kind: TalkKind::Group,
        name: Some("Project Discussion".into()),
        detail: None,
        participant_ids: others.iter().map(|a| agent(a)).collect(),
    };
    assert_eq!(code(hub.create_talk(&agent("a"), input(&["b", "c"])).await), "forbidden");
    assert!(hub.create_talk(&agent("a"), input(&["b"])).await.is_ok());
    let seen = asked.lock().unwrap().clone();
    assert_eq!(seen, [("CreateTalk".to_owned(), None), ("CreateTalk".to_owned(), None)]);
}

#[tokio::test]
async fn policy_rewrite_is_what_is_stored_and_delivered() {
    let (hub, _) = hub_with_policy(Arc::new(MemoryStore::new()), |request| {
        Ok(match request.command {
            // A send's mentions become the moderators'; an edit keeps them.
            Command::SendMessage { text, .. } => {
                Verdict::Rewrite(Rewrite { text: text.replace("darn", "d**n"), mentions: Some(vec![agent("b")]) })
            }
            Command::EditMessage { text, .. } => Verdict::Rewrite(Rewrite::text(text.replace("darn", "d**n"))),
            _ => Verdict::Allow,
        })
    });
    let talk = group(&hub, "a", &["b"]).await;
    let id = MessageId(uuid::Uuid::now_v7());
    let request = NewMessage { id: Some(id), ..text("darn it") };
    let sent = hub.send_message(&agent("a"), talk.id, request.clone()).await.unwrap();
    assert_eq!((sent.resource.text.as_str(), sent.resource.mentions.clone()), ("d**n it", vec![agent("b")]));
    assert_eq!(hub.message(&agent("b"), id).await.unwrap().text, "d**n it", "stored rewritten");
    let delivered = all_events(&hub).await;
    let Some(EventData::MessageCreated(logged)) = delivered.last().map(|e| &e.data) else { panic!("created") };
    assert_eq!(logged.text, "d**n it", "delivered rewritten");
    // The retry of the client's own request still answers the stored message.
    let retried = hub.send_message(&agent("a"), talk.id, request).await.unwrap();
    assert!(!retried.created);
    assert_eq!(retried.resource.text, "d**n it");

    let edited = hub.edit_message(&agent("a"), id, "darn, again".into()).await.unwrap();
    assert_eq!((edited.text.as_str(), edited.mentions.clone()), ("d**n, again", vec![agent("b")]));
}

#[tokio::test]
async fn policy_rewrite_into_an_invalid_text_is_internal_and_writes_nothing() {
    let (hub, _) = hub_with_policy(Arc::new(MemoryStore::new()), |request| {
        Ok(match request.command {
            Command::SendMessage { .. } => Verdict::Rewrite(Rewrite::text("")),
            Command::CloseTalk => Verdict::Rewrite(Rewrite::text("close has no text")),
            _ => Verdict::Allow,
        })
    });
    let talk = group(&hub, "a", &[]).await;
    let before = head(&hub).await;
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, text("x")).await), "internal");
    assert_eq!(code(hub.close_talk(&agent("a"), talk.id).await), "internal");
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn policy_error_is_internal_and_writes_nothing() {
    let (hub, _) = hub_with_policy(Arc::new(MemoryStore::new()), |request| match request.command {
        Command::UpdateTalk(_) => Err(PolicyError("the roles service is down".into())),
        _ => Ok(Verdict::Allow),
    });
    let talk = group(&hub, "a", &[]).await;
    let before = head(&hub).await;
    let rename = TalkChanges { name: Some("new".into()), detail: None };
    let failed = hub.update_talk(&agent("a"), talk.id, rename).await.unwrap_err();
    assert_eq!(failed.code(), "internal");
    assert_eq!(failed.to_string(), "internal error", "the reason stays out of the answer");
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn policy_sees_current_state_on_retry() {
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let forwarding = Arc::new(ForwardingStore::new(memory.clone()));
    let (hub, asked) = hub_with_policy(forwarding.clone(), |_| Ok(Verdict::Allow));
    let talk = group(&hub, "a", &["b"]).await;
    // The send's first attempt races a rename that commits just before it
    // applies: the attempt conflicts, and the policy is asked again, on the
    // renamed talk.
    let renamer = Hub::builder(memory).clock(Arc::new(ManualClock::default())).build();
    let raced = Arc::new(std::sync::atomic::AtomicBool::new(false));
    forwarding.set_async_hook(move |method| {
        let first = method == StoreMethod::Apply && !raced.swap(true, std::sync::atomic::Ordering::SeqCst);
        let renamer = renamer.clone();
        Box::pin(async move {
            if first {
                let rename = TalkChanges { name: Some("Renamed".into()), detail: None };
                renamer.update_talk(&agent("b"), talk.id, rename).await.expect("rename");
            }
            Ok(())
        })
    });
    asked.lock().unwrap().clear();
    let sent = hub.send_message(&agent("a"), talk.id, text("hello")).await.unwrap();
    assert!(sent.created);
    let seen = asked.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("SendMessage".to_owned(), Some("Project Discussion".to_owned())),
            ("SendMessage".to_owned(), Some("Renamed".to_owned()))
        ]
    );
}
