//! The group-commit writer against a real Postgres: many conversations' writes committed
//! together must give every caller exactly what a write stored alone would.

use crate::store_state::Fixture;
use agentpay_actors::ids::{ConversationId, MessageId};
use agentpay_actors::ports::store::{AppendOutcome, MessageStatus, PersistError, ReplyEnd};
use futures_util::FutureExt;
use futures_util::future::join_all;
use std::sync::atomic::Ordering;

#[actix_web::test]
async fn concurrent_writes_of_many_conversations_commit_together_with_exact_outcomes() {
    // `_app` keeps the test database for the whole test (dropping it drops the database).
    let Fixture {
        app: _app,
        pool,
        writer,
        merchant,
        commits,
        writes,
        ..
    } = Fixture::new().await;

    // 100 new conversations at once.
    let created = join_all((0..100u8).map(|i| {
        let writer = writer.clone();
        async move {
            writer
                .create_conversation(merchant, [i; 32], Some("https://shop.example".into()))
                .await
                .unwrap()
        }
    }))
    .await;
    let mut ids: Vec<ConversationId> = created.iter().map(|c| c.id).collect();
    ids.sort_by_key(|c| c.0);
    ids.dedup();
    assert_eq!(ids.len(), 100);
    assert!(
        created
            .iter()
            .all(|c| c.merchant_id == merchant && c.last_seq == 0)
    );

    // A message with its reply's start in each, plus one for a conversation that does not exist.
    let message_ids: Vec<MessageId> = ids.iter().map(|_| MessageId::new_random()).collect();
    let reply_ids: Vec<MessageId> = ids.iter().map(|_| MessageId::new_random()).collect();
    let missing = ConversationId::new_random();
    let mut appends: Vec<_> = ids
        .iter()
        .zip(&message_ids)
        .zip(&reply_ids)
        .map(|((&conv, &m), &r)| {
            let writer = writer.clone();
            async move {
                let text = format!("hello from {conv}");
                writer
                    .append(conv, m, "c1".into(), text, Some((r, Some(3))))
                    .await
            }
            .boxed()
        })
        .collect();
    appends.push({
        let writer = writer.clone();
        async move {
            writer
                .append(
                    missing,
                    MessageId::new_random(),
                    "c1".into(),
                    "x".into(),
                    None,
                )
                .await
        }
        .boxed()
    });
    let mut outcomes = join_all(appends).await;
    assert!(matches!(outcomes.pop(), Some(Err(PersistError::NotFound))));
    for (outcome, m) in outcomes.iter().zip(&message_ids) {
        assert_eq!(
            outcome.as_ref().unwrap(),
            &(
                AppendOutcome::Stored {
                    seq: 1,
                    message_id: *m
                },
                Some(2)
            )
        );
    }

    // The same client ids again: recognised, with the original message and sequence number.
    let again = join_all(ids.iter().map(|&conv| {
        let writer = writer.clone();
        async move {
            writer
                .append(
                    conv,
                    MessageId::new_random(),
                    "c1".into(),
                    "dup".into(),
                    None,
                )
                .await
                .unwrap()
        }
    }))
    .await;
    for (outcome, m) in again.iter().zip(&message_ids) {
        assert_eq!(
            outcome,
            &(
                AppendOutcome::Duplicate {
                    seq: 1,
                    message_id: *m
                },
                None
            )
        );
    }

    // Every reply ends.
    let ends = join_all(ids.iter().zip(&reply_ids).map(|(&conv, &r)| {
        let writer = writer.clone();
        async move {
            writer
                .finish_reply(
                    conv,
                    r,
                    ReplyEnd {
                        text: format!("reply in {conv}"),
                        status: MessageStatus::Complete,
                        charges: vec![],
                        state: None,
                        meta: Default::default(),
                    },
                )
                .await
                .unwrap()
        }
    }))
    .await;
    assert!(ends.iter().all(|&seq| seq == 3), "{ends:?}");

    // What Postgres holds: two messages per conversation, gap-free sequence numbers, each text
    // in its own conversation.
    let rows: Vec<(uuid::Uuid, i64, i64, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT c.id, c.last_seq, m.seq, m.status, m.text, m.agent_version \
         FROM conversations c JOIN messages m ON m.conversation_id = c.id ORDER BY c.id, m.seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 200);
    for pair in rows.chunks(2) {
        let (conv, last_seq) = (pair[0].0, pair[0].1);
        assert_eq!(last_seq, 3);
        assert_eq!((pair[0].2, pair[0].3.as_str()), (1, "complete"));
        assert_eq!(pair[0].4, format!("hello from {conv}"));
        assert_eq!((pair[1].2, pair[1].3.as_str()), (2, "complete"));
        assert_eq!(pair[1].4, format!("reply in {conv}"));
        assert_eq!(pair[1].5, Some(3));
    }

    // The writes were grouped: far fewer commits than writes.
    let (commits, writes) = (
        commits.load(Ordering::SeqCst),
        writes.load(Ordering::SeqCst),
    );
    assert_eq!(writes, 401, "every write is counted once");
    assert!(commits < 100, "{commits} commits for {writes} writes");
}
