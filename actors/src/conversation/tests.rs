//! Actor tests with the in-memory store and the simulated model, on a paused clock.

use super::*;

/// The text that makes a turn panic in these tests.
const FAULT_PANIC_TEXT: &str = "/fault panic";
use crate::ids::ConversationId;
use crate::memory::MemoryStore;
use crate::model::{SimulatedModel, SimulatedModelSettings};
use crate::ports::store::{MessageStatus, Role};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

struct NoMerchantMetrics;
impl crate::merchant::MerchantObserver for NoMerchantMetrics {}

fn registry(
    store: Arc<MemoryStore>,
    reply_tokens: usize,
    idle: Duration,
) -> Arc<ConversationRegistry> {
    registry_with(
        store,
        Arc::new(crate::memory::MemoryAgentStore::default()),
        reply_tokens,
        idle,
    )
}

fn registry_with(
    store: Arc<MemoryStore>,
    agents: Arc<crate::memory::MemoryAgentStore>,
    reply_tokens: usize,
    idle: Duration,
) -> Arc<ConversationRegistry> {
    let model = SimulatedModel::new(SimulatedModelSettings {
        ttft: Duration::from_millis(50),
        tokens_per_sec: 100.0,
        reply_tokens,
    });
    ConversationRegistry::new(
        EngineDeps::builder(store)
            .model(Arc::new(model))
            .settings(ConversationSettings {
                idle_timeout: idle,
                history_messages: 20,
                history_tokens: 4000,
                replay_limit: 1000,
                system_prompt: "test".into(),
                max_reply_tokens: 256,
                max_tool_rounds: 3,
                turn_deadline: Duration::from_secs(60),
                delta_flush: Duration::ZERO,
            })
            .merchants(crate::merchant::MerchantRegistry::new(
                agents,
                Arc::new(NoMerchantMetrics),
                Duration::from_secs(5),
            ))
            .faults(Arc::new(PanicOnText(FAULT_PANIC_TEXT.into())))
            .build(),
        Duration::from_secs(5),
    )
}

fn setup(reply_tokens: usize) -> (Arc<MemoryStore>, Arc<ConversationRegistry>, ConversationId) {
    tokio::time::pause();
    let store = Arc::new(MemoryStore::default());
    let id = ConversationId::new_random();
    store.create(id);
    let reg = registry(store.clone(), reply_tokens, Duration::from_secs(60));
    (store, reg, id)
}

async fn subscribe(
    reg: &ConversationRegistry,
    id: ConversationId,
    after: Option<i64>,
) -> (SubscriberId, mpsc::Receiver<Signal>) {
    let (tx, rx) = mpsc::channel(1024);
    let (sid, _) = reg
        .ask(id, || Subscribe {
            after,
            sender: tx.clone(),
        })
        .await
        .unwrap();
    (sid, rx)
}

async fn post(
    reg: &ConversationRegistry,
    id: ConversationId,
    sid: Option<SubscriberId>,
    client_id: &str,
    text: &str,
) -> Posted {
    reg.ask(id, || PostUserMessage {
        subscriber: sid,
        client_id: client_id.into(),
        text: text.into(),
    })
    .await
    .unwrap()
}

/// Posts a message the store does not confirm: the sender is told `unavailable`.
async fn post_unavailable(
    reg: &ConversationRegistry,
    id: ConversationId,
    sid: SubscriberId,
    client_id: &str,
    text: &str,
) {
    let res = reg
        .ask(id, || PostUserMessage {
            subscriber: Some(sid),
            client_id: client_id.into(),
            text: text.into(),
        })
        .await;
    assert!(
        matches!(
            res,
            Err(AskError::Conversation(ConversationError::Unavailable(_)))
        ),
        "{res:?}"
    );
}

async fn next_event(rx: &mut mpsc::Receiver<Signal>) -> ConversationEvent {
    match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
        Ok(Some(Signal::Event(ev))) => (**ev).clone(),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Events until (and including) the `n`th assistant_end.
async fn until_end(rx: &mut mpsc::Receiver<Signal>, n: usize) -> Vec<ConversationEvent> {
    let mut out = Vec::new();
    let mut ends = 0;
    while ends < n {
        let ev = next_event(rx).await;
        if matches!(ev, ConversationEvent::AssistantEnd { .. }) {
            ends += 1;
        }
        out.push(ev);
    }
    out
}

/// Applies the protocol's delta rule: reply = reply[..index] + text.
fn apply(reply: &mut String, index: usize, text: &str) {
    let keep: String = reply.chars().take(index).collect();
    *reply = keep + text;
}

#[actix::test]
async fn a_posted_message_is_acked_stored_and_answered_with_streamed_deltas() {
    let (store, reg, id) = setup(12);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    assert!(matches!(
        next_event(&mut rx).await,
        ConversationEvent::Hello { last_seq: 0, .. }
    ));
    let posted = post(&reg, id, Some(sid), "c1", "hello").await;
    assert_eq!(posted.seq, 1);
    let events = until_end(&mut rx, 1).await;
    assert_eq!(
        events[0],
        ConversationEvent::Ack {
            client_id: "c1".into(),
            seq: 1
        }
    );
    assert!(
        matches!(&events[1], ConversationEvent::UserMessage { seq: 1, text, .. } if text == "hello")
    );
    assert!(matches!(
        events[2],
        ConversationEvent::AssistantStart {
            seq: 2,
            reply_to_seq: 1,
            ..
        }
    ));
    let mut streamed = String::new();
    let mut deltas = 0;
    for ev in &events[3..events.len() - 1] {
        let ConversationEvent::Delta { text, index, .. } = ev else {
            panic!("{ev:?}")
        };
        assert_eq!(
            *index,
            streamed.chars().count(),
            "indexes are character offsets"
        );
        streamed.push_str(text);
        deltas += 1;
    }
    assert_eq!(deltas, 12);
    let ConversationEvent::AssistantEnd {
        seq,
        text,
        interrupted,
        usage,
        ..
    } = events.last().unwrap()
    else {
        panic!()
    };
    assert_eq!((*seq, *interrupted), (3, false));
    assert_eq!(text, &streamed);
    assert_eq!(usage.unwrap().output_tokens, 12);
    let stored = store.messages(id);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].role, Role::Assistant);
    assert_eq!(stored[1].text, streamed);
    assert_eq!(stored[1].status, MessageStatus::Complete);
}

#[actix::test]
async fn a_resent_client_id_is_acknowledged_with_its_original_seq_and_answered_once() {
    let (store, reg, id) = setup(3);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await;
    let first = post(&reg, id, Some(sid), "same", "hi").await;
    let again = post(&reg, id, Some(sid), "same", "hi").await;
    assert_eq!(first.seq, again.seq);
    assert!(!first.duplicate && again.duplicate);
    let events = until_end(&mut rx, 1).await;
    let acks = events
        .iter()
        .filter(|e| matches!(e, ConversationEvent::Ack { seq: 1, .. }))
        .count();
    assert_eq!(acks, 2, "both sends are acknowledged");
    // Nothing else arrives: one reply only.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(rx.try_recv().is_err());
    assert_eq!(store.messages(id).len(), 2, "one user message, one reply");
}

#[actix::test]
async fn a_resent_message_whose_reply_start_was_committed_unseen_is_answered() {
    // The store commits the message and its reply's start but the answer is lost: the visitor
    // is told `unavailable` and sends again. The orphaned start (no text will ever come) must
    // not count as the answer.
    let (store, reg, id) = setup(4);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await; // hello
    store
        .lose_start_answers
        .store(true, std::sync::atomic::Ordering::SeqCst);
    post_unavailable(&reg, id, sid, "c1", "hello").await;
    let stored = store.messages(id);
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[1].status, MessageStatus::Streaming);
    store
        .lose_start_answers
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let again = post(&reg, id, Some(sid), "c1", "hello").await;
    assert!(again.duplicate && again.seq == 1);
    // The orphan ends (interrupted, empty), then a real reply answers message 1.
    let events = until_end(&mut rx, 2).await;
    let ends: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ConversationEvent::AssistantEnd {
                seq,
                text,
                interrupted,
                ..
            } => Some((*seq, text.split_whitespace().count(), *interrupted)),
            _ => None,
        })
        .collect();
    assert_eq!(ends, vec![(3, 0, true), (5, 4, false)], "{events:?}");
    // The orphan's start (seq 2, older than what was shown) is not shown live: sequence numbers
    // keep increasing on the subscription.
    let seqs: Vec<i64> = events.iter().filter_map(ConversationEvent::seq).collect();
    assert!(seqs.is_sorted(), "{seqs:?}");
    assert!(
        events.iter().any(|e| matches!(
            e,
            ConversationEvent::AssistantStart {
                seq: 4,
                reply_to_seq: 1,
                ..
            }
        )),
        "{events:?}"
    );
    let stored = store.messages(id);
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert_eq!(stored[1].status, MessageStatus::Interrupted);
    assert_eq!(stored[2].status, MessageStatus::Complete);
    assert_eq!(stored[2].reply_to_seq, Some(1));
    // Sending it a third time changes nothing: it is answered.
    post(&reg, id, Some(sid), "c1", "hello").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(store.messages(id).len(), 3);
}

#[actix::test]
async fn a_message_resent_twice_after_its_turn_was_lost_is_answered_once() {
    use crate::ports::store::ConversationStore;
    let (store, reg, id) = setup(3);
    // Acknowledged, then the server died before the reply started: no reply stored.
    store
        .append_user_message(
            id,
            crate::ids::MessageId::new_random(),
            "lost".into(),
            "hi".into(),
        )
        .await
        .unwrap();
    // The first resend's look-up is slow, the second's slower still: it reads the store before
    // the first one's reply starts and comes back after that reply has ended.
    store
        .read_delays
        .lock()
        .unwrap()
        .extend([Duration::from_secs(1), Duration::from_secs(10)]);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await;
    assert!(post(&reg, id, Some(sid), "lost", "hi").await.duplicate);
    assert!(post(&reg, id, Some(sid), "lost", "hi").await.duplicate);
    until_end(&mut rx, 1).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    let replies = store
        .messages(id)
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .count();
    assert_eq!(replies, 1, "answered once");
    while let Ok(signal) = rx.try_recv() {
        if let Signal::Event(ev) = signal {
            assert!(
                !matches!(**ev, ConversationEvent::AssistantStart { .. }),
                "a second reply started: {ev:?}"
            );
        }
    }
}

#[actix::test]
async fn two_subscribers_see_the_same_events_in_the_same_order() {
    let (_, reg, id) = setup(5);
    let (sa, mut a) = subscribe(&reg, id, None).await;
    let (_, mut b) = subscribe(&reg, id, None).await;
    next_event(&mut a).await;
    next_event(&mut b).await;
    post(&reg, id, Some(sa), "c1", "one").await;
    let ea = until_end(&mut a, 1).await;
    let eb = until_end(&mut b, 1).await;
    // The sender also gets its ack; otherwise the streams are identical.
    let without_ack: Vec<_> = ea
        .into_iter()
        .filter(|e| !matches!(e, ConversationEvent::Ack { .. }))
        .collect();
    assert_eq!(without_ack, eb);
}

#[actix::test]
async fn messages_sent_during_a_reply_are_answered_in_order() {
    let (store, reg, id) = setup(30);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await;
    let mut seqs = Vec::new();
    for (i, t) in ["first", "second", "third"].iter().enumerate() {
        seqs.push(post(&reg, id, Some(sid), &format!("c{i}"), t).await.seq);
    }
    let events = until_end(&mut rx, 3).await;
    let answered: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            ConversationEvent::AssistantStart { reply_to_seq, .. } => Some(*reply_to_seq),
            _ => None,
        })
        .collect();
    assert_eq!(answered, seqs, "each answered once, in arrival order");
    let replies: Vec<_> = store
        .messages(id)
        .into_iter()
        .filter(|m| m.role == Role::Assistant)
        .collect();
    assert!(replies[0].text.contains("\"first\"") && replies[2].text.contains("\"third\""));
}

#[actix::test]
async fn a_subscriber_resuming_mid_reply_ends_with_exactly_the_full_text() {
    let (_, reg, id) = setup(40);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await;
    post(&reg, id, Some(sid), "c1", "tell me").await;
    // Read up to a few deltas, then "disconnect".
    let mut seen_seq = 0;
    let mut reply = String::new();
    let mut deltas = 0;
    while deltas < 5 {
        match next_event(&mut rx).await {
            ConversationEvent::Delta { text, index, .. } => {
                apply(&mut reply, index, &text);
                deltas += 1;
            }
            ev => seen_seq = ev.seq().unwrap_or(seen_seq),
        }
    }
    drop(rx);
    // Reconnect with the last sequence number seen.
    let (_, mut rx2) = subscribe(&reg, id, Some(seen_seq)).await;
    assert!(matches!(
        next_event(&mut rx2).await,
        ConversationEvent::Hello { .. }
    ));
    let events = until_end(&mut rx2, 1).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ConversationEvent::AssistantStart { .. })),
        "start was seen already"
    );
    for ev in &events {
        if let ConversationEvent::Delta { text, index, .. } = ev {
            apply(&mut reply, *index, text);
        }
    }
    let ConversationEvent::AssistantEnd { text, .. } = events.last().unwrap() else {
        panic!()
    };
    assert_eq!(&reply, text, "no gaps, no repeats");
}

#[actix::test]
async fn a_resume_during_a_reply_shows_its_start_before_the_messages_sent_after_it() {
    let (_, reg, id) = setup(60);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await;
    let first = post(&reg, id, Some(sid), "c1", "first").await.seq;
    // The reply to "first" streams; "second" is stored meanwhile, after the reply's start.
    loop {
        if let ConversationEvent::Delta { .. } = next_event(&mut rx).await {
            break;
        }
    }
    let second = post(&reg, id, Some(sid), "c2", "second").await.seq;
    assert_eq!(second, first + 2, "stored after the reply's start");
    // A client that saw only its own first message reconnects.
    let (_, mut rx2) = subscribe(&reg, id, Some(first)).await;
    assert!(matches!(
        next_event(&mut rx2).await,
        ConversationEvent::Hello { .. }
    ));
    let events = until_end(&mut rx2, 2).await;
    let seqs: Vec<i64> = events.iter().filter_map(ConversationEvent::seq).collect();
    assert_eq!(
        seqs,
        (first + 1..=first + 5).collect::<Vec<_>>(),
        "durable events in order, each once"
    );
    let mut reply = String::new();
    for ev in &events {
        match ev {
            ConversationEvent::Delta { text, index, .. } => apply(&mut reply, *index, text),
            ConversationEvent::AssistantEnd { text, .. } => {
                assert_eq!(&reply, text, "the caught-up reply is whole");
                break;
            }
            _ => {}
        }
    }
}

#[actix::test]
async fn a_passivated_actor_whose_address_is_still_held_leaves_its_successor_alone() {
    tokio::time::pause();
    let store = Arc::new(MemoryStore::default());
    let id = ConversationId::new_random();
    store.create(id);
    let reg = registry(store.clone(), 200, Duration::from_secs(1));
    // Someone (a request in flight) holds the first actor's address while it passivates: its
    // supervisor restarts it instead of letting it go.
    let held = reg.get_or_start(id);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(reg.live(), 0, "passivated and forgotten");
    // The conversation goes on with a fresh actor: a long reply (2 s) streams meanwhile.
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await;
    let posted = post(&reg, id, Some(sid), "c1", "a long one").await;
    let events = until_end(&mut rx, 1).await;
    let ConversationEvent::AssistantEnd {
        seq, interrupted, ..
    } = events.last().unwrap()
    else {
        panic!()
    };
    assert!(!interrupted, "the reply was not cut");
    assert_eq!(*seq, posted.seq + 2, "no number taken by anyone else");
    let reply = store
        .messages(id)
        .into_iter()
        .find(|m| m.role == Role::Assistant)
        .unwrap();
    assert_eq!(reply.status, MessageStatus::Complete);
    assert_eq!(reply.end_seq, Some(*seq));
    drop(held);
}

#[actix::test]
async fn a_channel_subscribed_twice_gets_each_event_once() {
    let (_, reg, id) = setup(5);
    let (tx, mut rx) = mpsc::channel(1024);
    let subscribe = |tx: mpsc::Sender<Signal>| {
        let reg = reg.clone();
        async move {
            reg.ask(id, || Subscribe {
                after: None,
                sender: tx.clone(),
            })
            .await
            .unwrap()
            .0
        }
    };
    let first = subscribe(tx.clone()).await;
    let second = subscribe(tx).await;
    assert_eq!(first, second, "one subscription per channel");
    post(&reg, id, Some(first), "c1", "hi").await;
    let mut starts = 0;
    let mut hellos = 0;
    loop {
        match next_event(&mut rx).await {
            ConversationEvent::Hello { .. } => hellos += 1,
            ConversationEvent::AssistantStart { .. } => starts += 1,
            ConversationEvent::AssistantEnd { .. } => break,
            _ => {}
        }
    }
    assert_eq!(
        (hellos, starts),
        (2, 1),
        "each subscribe says hello; live events come once"
    );
}

#[actix::test]
async fn cancel_stores_the_partial_reply_as_interrupted() {
    let (store, reg, id) = setup(200);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await;
    post(&reg, id, Some(sid), "c1", "long please").await;
    let mut partial = String::new();
    while partial.chars().count() < 20 {
        if let ConversationEvent::Delta { text, index, .. } = next_event(&mut rx).await {
            apply(&mut partial, index, &text);
        }
    }
    reg.get_or_start(id).send(CancelReply).await.unwrap();
    let events = until_end(&mut rx, 1).await;
    let ConversationEvent::AssistantEnd {
        text, interrupted, ..
    } = events.last().unwrap()
    else {
        panic!()
    };
    assert!(*interrupted);
    assert!(text.starts_with(&partial) && text.len() < 600);
    let stored = store.messages(id);
    assert_eq!(stored[1].status, MessageStatus::Interrupted);
    assert_eq!(&stored[1].text, text);
    // The conversation keeps working.
    post(&reg, id, Some(sid), "c2", "again").await;
    let events = until_end(&mut rx, 1).await;
    assert!(matches!(
        events.last(),
        Some(ConversationEvent::AssistantEnd {
            interrupted: false,
            ..
        })
    ));
}

#[actix::test]
async fn an_idle_conversation_passivates_and_is_rehydrated_on_next_use() {
    tokio::time::pause();
    let store = Arc::new(MemoryStore::default());
    let id = ConversationId::new_random();
    store.create(id);
    let reg = registry(store.clone(), 3, Duration::from_secs(10));
    post(&reg, id, None, "c1", "hi").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(reg.live(), 1);
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(reg.live(), 0, "passivated");
    // Rehydrated with its sequence: the next message continues the numbering.
    let posted = post(&reg, id, None, "c2", "back").await;
    assert_eq!(posted.seq, 4);
    let again = post(&reg, id, None, "c1", "hi").await;
    assert!(again.duplicate && again.seq == 1);
}

#[actix::test]
async fn a_panicking_turn_is_replaced_by_a_fresh_actor_and_nothing_stored_is_lost() {
    let (store, reg, id) = setup(3);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await;
    let first = reg.get_or_start(id);
    post(&reg, id, Some(sid), "boom", FAULT_PANIC_TEXT).await;
    // The subscriber's channel closes when the actor dies.
    let mut closed = false;
    for _ in 0..10 {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(None) => {
                closed = true;
                break;
            }
            Ok(Some(_)) => continue,
            Err(_) => break,
        }
    }
    assert!(closed, "the dead actor's subscribers are released");
    assert!(!first.connected(), "the actor is dead");
    // The registry replaces it; the stored message is there and the next message is answered.
    let (sid, mut rx) = subscribe(&reg, id, Some(0)).await;
    let ConversationEvent::Hello { last_seq, .. } = next_event(&mut rx).await else {
        panic!()
    };
    assert_eq!(last_seq, 1);
    assert!(matches!(
        next_event(&mut rx).await,
        ConversationEvent::UserMessage { seq: 1, .. }
    ));
    post(&reg, id, Some(sid), "after", "still there?").await;
    let events = until_end(&mut rx, 1).await;
    assert!(matches!(
        events.last(),
        Some(ConversationEvent::AssistantEnd {
            interrupted: false,
            ..
        })
    ));
    assert_eq!(store.messages(id).len(), 3);
}

/// Delegates to the simulated model and records every system prompt it is given.
struct RecordingModel {
    inner: SimulatedModel,
    prompts: std::sync::Mutex<Vec<String>>,
}

impl crate::ports::ModelClient for RecordingModel {
    fn provider(&self) -> &str {
        "recording"
    }
    fn model(&self) -> &str {
        "recording"
    }
    fn stream(&self, request: crate::ports::ModelRequest) -> crate::ports::ModelStream {
        self.prompts
            .lock()
            .unwrap()
            .push(format!("{}\n{}", request.system, request.context));
        self.inner.stream(request)
    }
}

#[actix::test]
async fn a_configuration_change_reaches_the_next_turn_of_a_live_conversation() {
    tokio::time::pause();
    let store = Arc::new(MemoryStore::default());
    let agents = Arc::new(crate::memory::MemoryAgentStore::default());
    let merchant = crate::ids::MerchantId(uuid::Uuid::nil());
    agents.set(merchant, crate::agent::AgentConfig::default());
    let model = Arc::new(RecordingModel {
        inner: SimulatedModel::new(SimulatedModelSettings {
            ttft: Duration::from_millis(10),
            tokens_per_sec: 0.0,
            reply_tokens: 3,
        }),
        prompts: Default::default(),
    });
    let merchants = crate::merchant::MerchantRegistry::new(
        agents.clone(),
        Arc::new(NoMerchantMetrics),
        Duration::from_secs(5),
    );
    let reg = ConversationRegistry::new(
        EngineDeps::builder(store.clone())
            .model(model.clone())
            .settings(ConversationSettings {
                idle_timeout: Duration::from_secs(60),
                history_messages: 20,
                history_tokens: 4000,
                replay_limit: 1000,
                system_prompt: "Base.".into(),
                max_reply_tokens: 64,
                max_tool_rounds: 3,
                turn_deadline: Duration::from_secs(60),
                delta_flush: Duration::ZERO,
            })
            .merchants(merchants.clone())
            .build(),
        Duration::from_secs(5),
    );
    let id = ConversationId::new_random();
    store.create(id);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    let ConversationEvent::Hello { greeting, .. } = next_event(&mut rx).await else {
        panic!()
    };
    assert_eq!(greeting.as_deref(), Some("Hi! How can I help you today?"));
    post(&reg, id, Some(sid), "1", "hi").await;
    until_end(&mut rx, 1).await;

    let changed = crate::agent::AgentConfig {
        extra_instructions: "Always mention the tent sale.".into(),
        ..Default::default()
    };
    agents.set(merchant, changed);
    merchants.reload(merchant).await.unwrap();

    post(&reg, id, Some(sid), "2", "and now?").await;
    until_end(&mut rx, 1).await;
    let prompts = model.prompts.lock().unwrap().clone();
    assert_eq!(prompts.len(), 2);
    assert!(!prompts[0].contains("tent sale"));
    assert!(
        prompts[1].contains("Always mention the tent sale."),
        "{}",
        prompts[1]
    );
    let versions: Vec<_> = store
        .messages(id)
        .iter()
        .filter_map(|m| m.agent_version)
        .collect();
    assert_eq!(versions, vec![1, 2]);
    assert_eq!(merchants.live(), 1);
    // When its last conversation passivates, the merchant actor stops too.
    drop(rx);
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(reg.live(), 0);
    assert_eq!(merchants.live(), 0);
}

#[actix::test]
async fn the_model_starts_during_a_slow_commit_but_nothing_shows_before_the_ack() {
    let (store, reg, id) = setup(5);
    // The commit takes longer than the model's time to first token (50 ms) and its whole reply.
    *store.commit_delay.lock().unwrap() = Duration::from_millis(500);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await; // hello
    let t0 = tokio::time::Instant::now();
    post(&reg, id, Some(sid), "c1", "hello").await;
    let events = until_end(&mut rx, 1).await;
    assert!(
        matches!(events[0], ConversationEvent::Ack { seq: 1, .. }),
        "{events:?}"
    );
    assert!(matches!(
        events[1],
        ConversationEvent::UserMessage { seq: 1, .. }
    ));
    assert!(matches!(
        events[2],
        ConversationEvent::AssistantStart { seq: 2, .. }
    ));
    let deltas: Vec<_> = events[3..events.len() - 1]
        .iter()
        .map(|e| match e {
            ConversationEvent::Delta { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    // Every token once, after the start; the model's whole reply was ready when the commit
    // ended, and what is ready goes as one batch.
    assert_eq!(deltas.len(), 1, "{deltas:?}");
    let ConversationEvent::AssistantEnd { text, .. } = events.last().unwrap() else {
        panic!()
    };
    assert_eq!(*text, deltas.concat());
    // The model ran while the commit did: the reply ended well before commit + model time
    // (500 ms + 50 ms + 5 tokens at 100/s = 600 ms).
    assert!(
        t0.elapsed() < Duration::from_millis(590),
        "{:?}",
        t0.elapsed()
    );
}

#[actix::test]
async fn a_failed_commit_stops_the_model_and_shows_nothing_of_its_reply() {
    let (store, reg, id) = setup(5);
    *store.commit_delay.lock().unwrap() = Duration::from_millis(500);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await; // hello
    store
        .fail_writes
        .store(true, std::sync::atomic::Ordering::SeqCst);
    post_unavailable(&reg, id, sid, "c1", "hello").await;
    // Long past the model's whole reply: nothing of it reached the subscriber.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        rx.try_recv().is_err(),
        "no start, delta or end of an unstored turn"
    );
    // The next message is answered normally, with only its own reply.
    store
        .fail_writes
        .store(false, std::sync::atomic::Ordering::SeqCst);
    post(&reg, id, Some(sid), "c2", "hello again").await;
    let events = until_end(&mut rx, 1).await;
    assert!(
        matches!(events[0], ConversationEvent::Ack { seq: 1, .. }),
        "{events:?}"
    );
    let deltas: String = events
        .iter()
        .filter_map(|e| match e {
            ConversationEvent::Delta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let ConversationEvent::AssistantEnd { text, .. } = events.last().unwrap() else {
        panic!()
    };
    assert_eq!(&deltas, text);
    assert_eq!(text.split_whitespace().count(), 5);
    let messages = store.messages(id);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].status, MessageStatus::Complete);
}

#[actix::test]
async fn messages_that_leave_the_history_are_summarised_by_the_fast_model_into_the_prompt() {
    tokio::time::pause();
    let store = Arc::new(MemoryStore::default());
    let model = Arc::new(RecordingModel {
        inner: SimulatedModel::new(SimulatedModelSettings {
            ttft: Duration::from_millis(10),
            tokens_per_sec: 0.0,
            reply_tokens: 3,
        }),
        prompts: Default::default(),
    });
    let fast = Arc::new(RecordingModel {
        inner: SimulatedModel::new(SimulatedModelSettings {
            ttft: Duration::from_millis(10),
            tokens_per_sec: 0.0,
            reply_tokens: 4,
        }),
        prompts: Default::default(),
    });
    let reg = ConversationRegistry::new(
        EngineDeps::builder(store.clone())
            .model(model.clone())
            .fast_model(fast.clone())
            .settings(ConversationSettings {
                idle_timeout: Duration::from_secs(60),
                // Two messages of history: one turn's question and answer.
                history_messages: 2,
                history_tokens: 4000,
                replay_limit: 1000,
                system_prompt: "Base.".into(),
                max_reply_tokens: 64,
                max_tool_rounds: 3,
                turn_deadline: Duration::from_secs(60),
                delta_flush: Duration::ZERO,
            })
            .build(),
        Duration::from_secs(5),
    );
    let id = ConversationId::new_random();
    store.create(id);
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await; // hello
    for (i, text) in [
        "I need boots in size 44",
        "Under 100 euros",
        "Waterproof please",
    ]
    .iter()
    .enumerate()
    {
        post(&reg, id, Some(sid), &format!("c{i}"), text).await;
        until_end(&mut rx, 1).await;
        tokio::time::sleep(Duration::from_millis(100)).await; // the summary runs in the background
    }
    let prompts = model.prompts.lock().unwrap().clone();
    assert_eq!(prompts.len(), 3);
    assert!(!prompts[0].contains("summary"), "{}", prompts[0]);
    // By the third turn the first exchange has left the history: its summary is in the prompt.
    assert!(
        prompts[2].contains("Earlier in this conversation (summary): This is a simulated"),
        "{}",
        prompts[2]
    );
    let summaries = fast.prompts.lock().unwrap().clone();
    assert!(!summaries.is_empty());
    assert!(summaries[0].contains("You summarise a conversation"));
}

/// Calls `tool` on a visitor's message, then answers from the tool's result; records the
/// results it read.
struct ToolThenText {
    tool: &'static str,
    results: std::sync::Mutex<Vec<String>>,
}

impl crate::ports::ModelClient for ToolThenText {
    fn provider(&self) -> &str {
        "scripted"
    }
    fn model(&self) -> &str {
        "scripted"
    }
    fn stream(&self, request: crate::ports::ModelRequest) -> crate::ports::ModelStream {
        use crate::ports::{ContentBlock, ModelEvent, ToolCall, Usage};
        use futures_util::StreamExt;
        let last = request.messages.last().cloned();
        let result = last.and_then(|m| {
            m.content.into_iter().find_map(|b| match b {
                ContentBlock::ToolResult { content, .. } => Some(content),
                _ => None,
            })
        });
        let usage = ModelEvent::Usage(Usage {
            input_tokens: 10,
            output_tokens: 5,
            ..Usage::default()
        });
        let events = match result {
            Some(content) => {
                self.results.lock().unwrap().push(content);
                vec![ModelEvent::Delta("Here you go.".into()), usage]
            }
            None => vec![
                ModelEvent::ToolCall(ToolCall {
                    id: "call_1".into(),
                    name: self.tool.into(),
                    input: serde_json::json!({"query": "tent"}),
                }),
                usage,
            ],
        };
        futures_util::stream::iter(events.into_iter().map(Ok)).boxed()
    }
}

/// The tent every search finds.
fn tent() -> crate::ports::ProductHit {
    crate::ports::ProductHit {
        external_id: "tent-2p".into(),
        title: "Trail Tent 2P".into(),
        brand: None,
        category: vec![],
        price: crate::Money {
            amount_minor: 19_900,
            currency: "USD".parse().unwrap(),
        },
        compare_at_price: None,
        stock: None,
        in_stock: true,
        url: None,
        image_url: None,
        score: 1.0,
    }
}

/// A catalog where every search finds the same tent.
struct TentCatalog;

impl crate::ports::CatalogSearch for TentCatalog {
    fn search(
        &self,
        _merchant: crate::ids::MerchantId,
        _query: crate::ports::SearchQuery,
    ) -> crate::ports::PortFuture<Result<Vec<crate::ports::ProductHit>, crate::ports::SearchError>>
    {
        Box::pin(async { Ok(vec![tent()]) })
    }

    fn products(
        &self,
        _merchant: crate::ids::MerchantId,
        external_ids: Vec<String>,
    ) -> crate::ports::PortFuture<Result<Vec<crate::ports::ProductDetail>, crate::ports::SearchError>>
    {
        let found = external_ids
            .iter()
            .filter(|id| *id == "tent-2p")
            .map(|_| crate::ports::ProductDetail {
                hit: tent(),
                description: String::new(),
                tags: vec![],
                attributes: Default::default(),
                variants: vec![],
            })
            .collect();
        Box::pin(async move { Ok(found) })
    }
}

fn tool_registry(store: Arc<MemoryStore>, model: Arc<ToolThenText>) -> Arc<ConversationRegistry> {
    ConversationRegistry::new(
        EngineDeps::builder(store)
            .model(model)
            .catalog(Arc::new(TentCatalog))
            .build(),
        Duration::from_secs(5),
    )
}

#[actix::test]
async fn a_tool_changed_session_state_is_stored_with_the_reply_and_rehydrated() {
    tokio::time::pause();
    let store = Arc::new(MemoryStore::default());
    let id = ConversationId::new_random();
    store.create(id);

    // A search shows the tent: the state records it, stored with the reply; both model calls
    // are metered into the reply's usage.
    let model = Arc::new(ToolThenText {
        tool: "search_products",
        results: Default::default(),
    });
    let reg = tool_registry(store.clone(), model.clone());
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    post(&reg, id, Some(sid), "1", "do you sell tents?").await;
    let events = until_end(&mut rx, 1).await;
    let Some(ConversationEvent::AssistantEnd { text, usage, .. }) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(text, "Here you go.");
    assert_eq!(usage.unwrap().output_tokens, 10, "two calls of 5 tokens");
    assert!(model.results.lock().unwrap()[0].contains("Trail Tent 2P"));
    assert_eq!(store.state(id).last_shown[0].external_id, "tent-2p");
    let stored = store.messages(id);
    assert_eq!(stored[1].usage.unwrap().input_tokens, 20);

    // A cart stored for the conversation is what a fresh actor's turns see.
    let mut state = store.state(id);
    state
        .cart
        .add(crate::cart::CartLine {
            external_id: "tent-2p".into(),
            sku: None,
            title: "Trail Tent 2P".into(),
            variant: None,
            quantity: 2,
            unit_price: state.last_shown[0].price,
        })
        .unwrap();
    crate::ports::ConversationStore::save_state(store.as_ref(), id, state)
        .await
        .unwrap();
    let model = Arc::new(ToolThenText {
        tool: "view_cart",
        results: Default::default(),
    });
    let reg = tool_registry(store.clone(), model.clone());
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    post(&reg, id, Some(sid), "2", "what's in my cart?").await;
    until_end(&mut rx, 1).await;
    let seen = model.results.lock().unwrap()[0].clone();
    assert!(seen.contains("\"quantity\":2"), "{seen}");
    assert!(seen.contains("398.00 USD"), "{seen}");
}

/// A model that says `pieces` (each after its pause).
struct Paced {
    pieces: Vec<(Duration, &'static str)>,
}

impl crate::ports::ModelClient for Paced {
    fn provider(&self) -> &str {
        "paced"
    }
    fn model(&self) -> &str {
        "paced"
    }
    fn stream(&self, _: crate::ports::ModelRequest) -> crate::ports::ModelStream {
        use crate::ports::{ModelEvent, Usage};
        use futures_util::StreamExt;
        let pieces = self.pieces.clone();
        let text = futures_util::stream::iter(pieces).then(|(pause, t)| async move {
            tokio::time::sleep(pause).await;
            Ok(ModelEvent::Delta(t.to_string()))
        });
        let end = futures_util::stream::iter([Ok(ModelEvent::Usage(Usage::default()))]);
        text.chain(end).boxed()
    }
}

/// The deltas of one reply with the time each arrived, after posting `text`.
async fn timed_deltas(
    model: Arc<dyn crate::ports::ModelClient>,
    flush: Duration,
) -> (Vec<(Duration, usize, String)>, String) {
    let store = Arc::new(MemoryStore::default());
    let id = ConversationId::new_random();
    store.create(id);
    let reg = ConversationRegistry::new(
        EngineDeps::builder(store)
            .model(model)
            .settings(ConversationSettings {
                delta_flush: flush,
                ..ConversationSettings::default()
            })
            .build(),
        Duration::from_secs(5),
    );
    let (sid, mut rx) = subscribe(&reg, id, None).await;
    next_event(&mut rx).await;
    post(&reg, id, Some(sid), "b1", "go").await;
    let mut start = None;
    let mut deltas = Vec::new();
    loop {
        let ev = next_event(&mut rx).await;
        let now = tokio::time::Instant::now();
        match ev {
            ConversationEvent::AssistantStart { .. } => start = Some(now),
            ConversationEvent::Delta { text, index, .. } => {
                deltas.push((now - start.unwrap(), index, text));
            }
            ConversationEvent::AssistantEnd { text, .. } => return (deltas, text),
            _ => {}
        }
    }
}

#[actix::test]
async fn reply_text_reaches_subscribers_in_batches_with_the_first_piece_at_once() {
    tokio::time::pause();
    // 100 tokens at 200 per second, batched every 25 ms: about a frame per 6 tokens, not 100.
    let model = Arc::new(SimulatedModel::new(SimulatedModelSettings {
        ttft: Duration::ZERO,
        tokens_per_sec: 200.0,
        reply_tokens: 100,
    }));
    let (deltas, whole) = timed_deltas(model.clone(), Duration::from_millis(25)).await;
    assert!(deltas.len() <= 25, "{} deltas for 100 tokens", deltas.len());
    assert_eq!(deltas[0].0, Duration::ZERO, "the first piece never waits");
    let mut text = String::new();
    for (_, index, t) in &deltas {
        assert_eq!(*index, text.chars().count(), "contiguous, in order");
        apply(&mut text, *index, t);
    }
    assert_eq!(text, whole, "every token delivered");
    for w in deltas.windows(2) {
        assert!(
            w[1].0 - w[0].0 <= Duration::from_millis(50),
            "{:?}",
            w[1].0 - w[0].0
        );
    }
    // Batching off: one delta per token.
    let (deltas, _) = timed_deltas(model, Duration::ZERO).await;
    assert_eq!(deltas.len(), 100);
}

#[actix::test]
async fn held_back_text_goes_out_when_the_model_stalls() {
    tokio::time::pause();
    let model = Arc::new(Paced {
        pieces: vec![
            (Duration::ZERO, "One "),
            (Duration::from_millis(5), "two "),
            (Duration::from_millis(5), "three "),
            (Duration::from_secs(3), "four."),
        ],
    });
    let (deltas, whole) = timed_deltas(model, Duration::from_millis(50)).await;
    let texts: Vec<&str> = deltas.iter().map(|d| d.2.as_str()).collect();
    assert_eq!(texts, ["One ", "two three ", "four."]);
    // "two three " waited for more text, but not for the stalled model: twice the interval.
    assert!(
        deltas[1].0 <= Duration::from_millis(101),
        "{:?}",
        deltas[1].0
    );
    assert!(deltas[2].0 >= Duration::from_secs(3));
    assert_eq!(whole, "One two three four.");
}
