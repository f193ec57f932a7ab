//! The conversation store's session state and per-call cost records against a real Postgres:
//! what a reply's end or a state save writes is what a fresh store (a restarted process) loads,
//! every model call of a turn is stored with the reply keeping the totals, and writes batched
//! together keep their own outcomes.

use crate::helpers::{TestApp, spawn_app};
use agentpay::store::conversations::PgConversationStore;
use agentpay::store::usage;
use agentpay::store::writer::Writer;
use agentpay_actors::conversation::SessionState;
use agentpay_actors::ids::{ConversationId, MerchantId, MessageId};
use agentpay_actors::ports::metering::Charge;
use agentpay_actors::ports::model::Usage;
use agentpay_actors::ports::store::{
    AppendOutcome, ConversationStore, MessageStatus, PersistError, ReplyEnd,
};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A migrated database with a merchant, and a store with its own writer on it (also used by
/// the writer's tests).
pub(crate) struct Fixture {
    /// Holds the database (dropped with it).
    pub(crate) app: TestApp,
    pub(crate) pool: PgPool,
    pub(crate) writer: Writer,
    pub(crate) store: PgConversationStore,
    pub(crate) merchant: MerchantId,
    /// Commits of `writer`, and the writes they stored.
    pub(crate) commits: Arc<AtomicUsize>,
    pub(crate) writes: Arc<AtomicUsize>,
}

impl Fixture {
    pub(crate) async fn new() -> Self {
        let app = spawn_app().await;
        let merchant = app.create_merchant("State Shop", &[]).await;
        let merchant = MerchantId(merchant.id.parse().unwrap());
        let pool = PgPool::connect(&app.db.url).await.unwrap();
        let (commits, writes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (c, w) = (commits.clone(), writes.clone());
        let writer = Writer::start(
            pool.clone(),
            2,
            64,
            Arc::new(move |n| {
                c.fetch_add(1, Ordering::SeqCst);
                w.fetch_add(n, Ordering::SeqCst);
            }),
        );
        let store = PgConversationStore::new(pool.clone(), writer.clone());
        Self {
            app,
            pool,
            writer,
            store,
            merchant,
            commits,
            writes,
        }
    }

    /// A store as a restarted process has it: its own pool and writer, nothing in memory.
    async fn restarted(&self) -> PgConversationStore {
        let pool = PgPool::connect(&self.app.db.url).await.unwrap();
        let writer = Writer::start(pool.clone(), 1, 64, Arc::new(|_| {}));
        PgConversationStore::new(pool, writer)
    }

    /// (commits, writes) so far.
    fn counts(&self) -> (usize, usize) {
        (
            self.commits.load(Ordering::SeqCst),
            self.writes.load(Ordering::SeqCst),
        )
    }

    async fn conversation(&self) -> ConversationId {
        let mut hash = [0u8; 32];
        hash[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        hash[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        self.writer
            .create_conversation(self.merchant, hash, None)
            .await
            .unwrap()
            .id
    }

    /// A visitor message and its reply's start (sequence numbers 1 and 2 in a new
    /// conversation); returns the reply's id.
    async fn turn(&self, conversation: ConversationId, client_id: &str) -> MessageId {
        let reply = MessageId::new_random();
        let (outcome, reply_seq) = self
            .store
            .append_and_start(
                conversation,
                MessageId::new_random(),
                client_id.into(),
                "Do you have red shoes?".into(),
                reply,
                Some(1),
            )
            .await
            .unwrap();
        assert!(matches!(outcome, AppendOutcome::Stored { .. }));
        assert!(reply_seq.is_some());
        reply
    }

    /// A conversation with one turn whose reply has started.
    async fn started(&self) -> (ConversationId, MessageId) {
        let conversation = self.conversation().await;
        (conversation, self.turn(conversation, "k-1").await)
    }
}

/// A session state with `quantity` of product `sku` in the cart and it last shown.
fn state(sku: &str, quantity: u32) -> SessionState {
    serde_json::from_value(json!({
        "cart": {"lines": [{
            "external_id": sku, "title": format!("Shoe {sku}"), "quantity": quantity,
            "unit_price": {"amount_minor": 4999, "currency": "USD"}
        }]},
        "last_shown": [{
            "external_id": sku, "title": format!("Shoe {sku}"),
            "price": {"amount_minor": 4999, "currency": "USD"}
        }]
    }))
    .unwrap()
}

fn charge(provider: &str, model: &str, input: u64, output: u64, cost_nanos: i64) -> Charge {
    Charge {
        provider: provider.into(),
        model: model.into(),
        usage: Usage {
            input_tokens: input,
            output_tokens: output,
            cache_write_tokens: input / 10,
            cache_read_tokens: input * 2,
        },
        cost_nanos,
    }
}

/// (call_index, provider, model, input, output, cache_write, cache_read, cost) of a reply's
/// stored model calls, in order.
type CallRow = (i32, String, String, i64, i64, i64, i64, i64);

async fn calls_of(pool: &PgPool, reply: MessageId) -> Vec<CallRow> {
    sqlx::query_as(
        "SELECT call_index, provider, model, input_tokens, output_tokens, cache_write_tokens, \
                cache_read_tokens, cost_nanos \
         FROM model_calls WHERE message_id = $1 ORDER BY call_index",
    )
    .bind(reply.0)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// (status, provider, model, cost_nanos, usage) of a message.
type MessageTotals = (
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<serde_json::Value>,
);

async fn totals_of(pool: &PgPool, message: MessageId) -> MessageTotals {
    sqlx::query_as("SELECT status, provider, model, cost_nanos, usage FROM messages WHERE id = $1")
        .bind(message.0)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_state_stored_with_a_reply_end_is_loaded_by_a_restarted_store() {
    let f = Fixture::new().await;
    let (conversation, reply) = f.started().await;
    let end = f
        .store
        .finish_assistant_message(
            conversation,
            reply,
            ReplyEnd {
                text: "Here are two red shoes.".into(),
                status: MessageStatus::Complete,
                charges: vec![charge("anthropic", "claude-test", 100, 20, 5_000)],
                state: Some(state("red-1", 2)),
                meta: Default::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(end, 3);

    let loaded = f.restarted().await.load(conversation, 10).await.unwrap();
    assert_eq!(loaded.state, state("red-1", 2));
    assert_eq!(loaded.merchant_id, f.merchant);
    assert_eq!(loaded.last_seq, 3);
    assert_eq!(loaded.recent.len(), 2);
    assert_eq!(loaded.recent[1].text, "Here are two red shoes.");

    // A later reply that did not change the state leaves it as it was.
    let reply = f.turn(conversation, "k-2").await;
    f.store
        .finish_assistant_message(
            conversation,
            reply,
            ReplyEnd {
                text: "Anything else?".into(),
                status: MessageStatus::Complete,
                charges: vec![],
                state: None,
                meta: Default::default(),
            },
        )
        .await
        .unwrap();
    let loaded = f.restarted().await.load(conversation, 10).await.unwrap();
    assert_eq!(loaded.state, state("red-1", 2));
    assert_eq!(loaded.last_seq, 6);
}

#[actix_web::test]
async fn save_state_stores_the_state_outside_a_turn_without_taking_a_sequence_number() {
    let f = Fixture::new().await;
    let conversation = f.conversation().await;
    f.store
        .save_state(conversation, state("blue-7", 1))
        .await
        .unwrap();
    let loaded = f.restarted().await.load(conversation, 10).await.unwrap();
    assert_eq!(loaded.state, state("blue-7", 1));
    assert_eq!(loaded.last_seq, 0, "a state change is not an event");

    // Emptying the cart is stored too.
    f.store
        .save_state(conversation, SessionState::default())
        .await
        .unwrap();
    let loaded = f.restarted().await.load(conversation, 10).await.unwrap();
    assert_eq!(loaded.state, SessionState::default());

    let missing = f
        .store
        .save_state(ConversationId::new_random(), state("x", 1))
        .await;
    assert_eq!(missing, Err(PersistError::NotFound));
}

#[actix_web::test]
async fn every_model_call_of_a_turn_is_stored_and_the_reply_keeps_the_totals() {
    let f = Fixture::new().await;
    let (conversation, reply) = f.started().await;
    // A fast-model call, a main-model call, then the main model again through a fallback.
    let charges = vec![
        charge("anthropic", "claude-fast", 10, 5, 100),
        charge("anthropic", "claude-main", 200, 50, 2_000),
        charge("openai", "gpt-fallback", 30, 7, 300),
    ];
    f.store
        .finish_assistant_message(
            conversation,
            reply,
            ReplyEnd {
                text: "Done.".into(),
                status: MessageStatus::Complete,
                charges,
                state: None,
                meta: Default::default(),
            },
        )
        .await
        .unwrap();

    assert_eq!(
        calls_of(&f.pool, reply).await,
        vec![
            (
                0,
                "anthropic".into(),
                "claude-fast".into(),
                10,
                5,
                1,
                20,
                100
            ),
            (
                1,
                "anthropic".into(),
                "claude-main".into(),
                200,
                50,
                20,
                400,
                2_000
            ),
            (2, "openai".into(), "gpt-fallback".into(), 30, 7, 3, 60, 300),
        ]
    );
    let owners: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "SELECT DISTINCT conversation_id, merchant_id FROM model_calls WHERE message_id = $1",
    )
    .bind(reply.0)
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert_eq!(owners, vec![(conversation.0, f.merchant.0)]);

    // The reply: usage and cost summed, provider and model of the last call.
    let (status, provider, model, cost, usage) = totals_of(&f.pool, reply).await;
    assert_eq!(status, "complete");
    assert_eq!(
        (provider.as_deref(), model.as_deref(), cost),
        (Some("openai"), Some("gpt-fallback"), Some(2_400))
    );
    assert_eq!(
        usage.unwrap(),
        json!({"input_tokens": 240, "output_tokens": 62, "cache_write_tokens": 24,
               "cache_read_tokens": 480})
    );
    // So spend and usage totals count the whole turn once.
    let (today, month) = usage::spend_since(&f.pool, f.merchant, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!((today, month), (2_400, 2_400));
    let totals = usage::conversation_totals(&f.pool, f.merchant, conversation)
        .await
        .unwrap();
    // By model, each call under the model that served it; the reply counts under each.
    let by_model: Vec<(&str, i64, i64, i64)> = totals
        .iter()
        .map(|t| (t.model.as_str(), t.replies, t.input_tokens, t.cost_nanos))
        .collect();
    assert_eq!(
        by_model,
        vec![
            ("claude-fast", 1, 10, 100),
            ("claude-main", 1, 200, 2_000),
            ("gpt-fallback", 1, 30, 300)
        ]
    );
    assert_eq!(totals.iter().map(|t| t.cost_nanos).sum::<i64>(), 2_400);

    // A reply without a model call (over budget) stores no call and no cost.
    let reply = f.turn(conversation, "k-2").await;
    f.store
        .finish_assistant_message(
            conversation,
            reply,
            ReplyEnd {
                text: "I can't answer right now.".into(),
                status: MessageStatus::Complete,
                charges: vec![],
                state: None,
                meta: Default::default(),
            },
        )
        .await
        .unwrap();
    assert!(calls_of(&f.pool, reply).await.is_empty());
    let (_, provider, model, cost, usage) = totals_of(&f.pool, reply).await;
    assert_eq!((provider, model, cost, usage), (None, None, None, None));
}

#[actix_web::test]
async fn a_batch_of_many_conversations_stores_each_finish_with_its_own_charges_and_state() {
    let f = Fixture::new().await;
    // 40 conversations with a reply in progress, 10 without.
    let turns = join_all((0..40).map(|_| f.started())).await;
    let idle = join_all((0..10).map(|_| f.conversation())).await;
    let (commits_before, writes_before) = f.counts();

    // Reply ends (with 0, 1 or 2 model calls, and a state every other one), state saves, and
    // one of each for something that does not exist, all at once.
    let mut writes: Vec<BoxFuture<'_, Result<i64, PersistError>>> = vec![];
    for (i, &(conversation, reply)) in turns.iter().enumerate() {
        let charges: Vec<Charge> = (0..i % 3)
            .map(|n| {
                charge(
                    "anthropic",
                    &format!("model-{n}"),
                    i as u64,
                    1,
                    (i * 10 + n) as i64,
                )
            })
            .collect();
        let changed = (i % 2 == 0).then(|| state(&format!("p-{i}"), 1 + i as u32 % 5));
        let store = f.store.clone();
        writes.push(
            async move {
                store
                    .finish_assistant_message(
                        conversation,
                        reply,
                        ReplyEnd {
                            text: format!("reply {i}"),
                            status: MessageStatus::Complete,
                            charges,
                            state: changed,
                            meta: Default::default(),
                        },
                    )
                    .await
            }
            .boxed(),
        );
    }
    for (i, &conversation) in idle.iter().enumerate() {
        let store = f.store.clone();
        writes.push(
            async move {
                store
                    .save_state(conversation, state(&format!("idle-{i}"), 3))
                    .await
                    .map(|()| 0)
            }
            .boxed(),
        );
    }
    let store = f.store.clone();
    writes.push(
        async move {
            store
                .finish_assistant_message(
                    ConversationId::new_random(),
                    MessageId::new_random(),
                    ReplyEnd {
                        text: "lost".into(),
                        status: MessageStatus::Complete,
                        charges: vec![charge("anthropic", "m", 1, 1, 1)],
                        state: Some(state("lost", 1)),
                        meta: Default::default(),
                    },
                )
                .await
        }
        .boxed(),
    );
    let store = f.store.clone();
    writes.push(
        async move {
            store
                .save_state(ConversationId::new_random(), state("lost", 1))
                .await
                .map(|()| 0)
        }
        .boxed(),
    );
    let outcomes = join_all(writes).await;

    let (missing_save, missing_finish) = (&outcomes[51], &outcomes[50]);
    assert_eq!(missing_finish, &Err(PersistError::NotFound));
    assert_eq!(missing_save, &Err(PersistError::NotFound));
    for (i, outcome) in outcomes[..40].iter().enumerate() {
        assert_eq!(outcome, &Ok(3), "reply {i}");
    }
    assert!(outcomes[40..50].iter().all(|o| o == &Ok(0)));
    let (commits, writes) = f.counts();
    let (commits, writes) = (commits - commits_before, writes - writes_before);
    assert_eq!(writes, 52);
    assert!(commits < 20, "{commits} commits for {writes} writes");

    // What a restarted process finds.
    let restarted = f.restarted().await;
    for (i, &(conversation, reply)) in turns.iter().enumerate() {
        let loaded = restarted.load(conversation, 10).await.unwrap();
        let expected = if i % 2 == 0 {
            state(&format!("p-{i}"), 1 + i as u32 % 5)
        } else {
            SessionState::default()
        };
        assert_eq!(loaded.state, expected, "conversation {i}");
        assert_eq!(loaded.recent[1].text, format!("reply {i}"));
        let calls = calls_of(&f.pool, reply).await;
        let models: Vec<&str> = calls.iter().map(|c| c.2.as_str()).collect();
        let expected: Vec<String> = (0..i % 3).map(|n| format!("model-{n}")).collect();
        assert_eq!(models, expected, "calls of reply {i}");
        let (_, _, model, cost, _) = totals_of(&f.pool, reply).await;
        assert_eq!(model, expected.last().cloned());
        let expected_cost = (0..i % 3).map(|n| (i * 10 + n) as i64).sum::<i64>();
        assert_eq!(cost, (i % 3 > 0).then_some(expected_cost));
    }
    for (i, &conversation) in idle.iter().enumerate() {
        let loaded = restarted.load(conversation, 10).await.unwrap();
        assert_eq!(loaded.state, state(&format!("idle-{i}"), 3));
    }
    let stray: i64 =
        sqlx::query_scalar("SELECT count(*) FROM model_calls WHERE conversation_id <> ALL($1)")
            .bind(turns.iter().map(|t| t.0.0).collect::<Vec<_>>())
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(stray, 0, "nothing stored for the reply that does not exist");
}

#[actix_web::test]
async fn a_reply_end_the_database_refuses_fails_alone_and_stores_none_of_its_calls() {
    let f = Fixture::new().await;
    let turns = join_all((0..20).map(|_| f.started())).await;
    let ends = join_all(turns.iter().enumerate().map(|(i, &(conversation, reply))| {
        // A negative cost breaks the tables' checks: that write fails, not its batch.
        let cost = if i == 7 { -1 } else { 1_000 };
        f.store.finish_assistant_message(
            conversation,
            reply,
            ReplyEnd {
                text: format!("reply {i}"),
                status: MessageStatus::Complete,
                charges: vec![
                    charge("anthropic", "claude-fast", 1, 1, 10),
                    charge("anthropic", "claude-main", 5, 5, cost),
                ],
                state: Some(state(&format!("p-{i}"), 1)),
                meta: Default::default(),
            },
        )
    }))
    .await;
    for (i, (end, &(conversation, reply))) in ends.iter().zip(&turns).enumerate() {
        let loaded = f.restarted().await.load(conversation, 10).await.unwrap();
        if i == 7 {
            assert!(matches!(end, Err(PersistError::Unavailable(_))), "{end:?}");
            assert!(calls_of(&f.pool, reply).await.is_empty());
            assert_eq!(loaded.state, SessionState::default());
            // The load closed the reply left streaming, as interrupted.
            assert_eq!(loaded.recent[1].status, MessageStatus::Interrupted);
        } else {
            assert_eq!(end, &Ok(3), "reply {i}");
            assert_eq!(calls_of(&f.pool, reply).await.len(), 2);
            assert_eq!(loaded.state, state(&format!("p-{i}"), 1));
        }
    }
}

#[actix_web::test]
async fn a_stored_state_that_does_not_parse_loads_as_the_empty_state() {
    let f = Fixture::new().await;
    let conversation = f.conversation().await;
    for document in [
        r#"{"cart": {"lines": 5}}"#,
        r#"{"cart": {"lines": [{"external_id": "x"}]}}"#,
        "[1, 2]",
        "null",
    ] {
        sqlx::query("UPDATE conversations SET state = $2::jsonb WHERE id = $1")
            .bind(conversation.0)
            .bind(document)
            .execute(&f.pool)
            .await
            .unwrap();
        let loaded = f.restarted().await.load(conversation, 10).await;
        assert_eq!(
            loaded.map(|l| l.state).as_ref(),
            Ok(&SessionState::default()),
            "{document}"
        );
    }
    // The next state written replaces the bad document.
    f.store
        .save_state(conversation, state("ok", 1))
        .await
        .unwrap();
    let loaded = f.restarted().await.load(conversation, 10).await.unwrap();
    assert_eq!(loaded.state, state("ok", 1));
}

#[actix_web::test]
async fn two_processes_storing_the_same_client_id_at_once_store_it_once() {
    let f = Fixture::new().await;
    let other = f.restarted().await;
    let conversations = join_all((0..30).map(|_| f.conversation())).await;
    // One conversation at a time, so each process stores the message alone (a batch of one)
    // and the two statements race in Postgres.
    let mut pairs = vec![];
    for &conversation in &conversations {
        let (x, y) = futures_util::join!(
            f.store.append_user_message(
                conversation,
                MessageId::new_random(),
                "same".into(),
                "hi".into()
            ),
            other.append_user_message(
                conversation,
                MessageId::new_random(),
                "same".into(),
                "hi".into()
            ),
        );
        pairs.push((x.unwrap(), y.unwrap()));
    }
    for (x, y) in pairs {
        let stored: Vec<_> = [x, y]
            .into_iter()
            .filter(|o| matches!(o, AppendOutcome::Stored { .. }))
            .collect();
        assert_eq!(stored.len(), 1, "{x:?} {y:?}");
        let (AppendOutcome::Stored { seq, message_id }
        | AppendOutcome::Duplicate { seq, message_id }) = x;
        let (AppendOutcome::Stored {
            seq: s,
            message_id: m,
        }
        | AppendOutcome::Duplicate {
            seq: s,
            message_id: m,
        }) = y;
        assert_eq!(
            (seq, message_id),
            (s, m),
            "both callers get the stored message"
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(count, 30);
}
