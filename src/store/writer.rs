//! Group commit: the durable writes of many conversations share one transaction.
//!
//! Every turn writes twice (the visitor's message with its reply's start, then the reply's end)
//! and every new conversation once, each a synchronous commit. Profiled at saturation, Postgres
//! spent most of its CPU per statement and per commit (round trips, wake-ups, WAL flushes), not
//! per row (docs/benchmarks.md). The writer gathers the writes that arrive while a commit is in
//! flight and stores them with one statement per kind in one transaction:
//!
//! - a write that finds its lane idle runs alone, as a single statement, at once: no added
//!   latency at low load;
//! - under load, batches grow by themselves (whatever queued during the previous commit), so
//!   the cost per write falls as the rate rises instead of the queue growing;
//! - nothing is acknowledged before its batch commits; a batch that fails as a whole (a
//!   concurrent duplicate, a lost connection) is retried write by write, so each caller gets
//!   its own exact outcome.
//!
//! Writes of one conversation always go to the same lane, and a lane never puts two writes of
//! one conversation in one batch, so per-conversation order holds and two lanes never lock the
//! same conversation row.

use super::StoreError;
use super::conversations::{self, Conversation};
use agentpay_actors::ids::{ConversationId, MerchantId, MessageId};
use agentpay_actors::ports::metering::Charge;
use agentpay_actors::ports::store::{AppendOutcome, MessageStatus, PersistError};
use sqlx::{PgPool, Row};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Writes queued per lane before callers wait for room.
const LANE_CAPACITY: usize = 4096;

/// One durable write.
#[derive(Debug)]
enum Request {
    Create {
        merchant: MerchantId,
        token_hash: [u8; 32],
        origin: Option<String>,
    },
    Append {
        conversation: ConversationId,
        message_id: MessageId,
        client_id: String,
        text: String,
        reply: Option<(MessageId, Option<i64>)>,
    },
    Start {
        conversation: ConversationId,
        message_id: MessageId,
        reply_to_seq: i64,
        agent_version: Option<i64>,
    },
    Finish {
        conversation: ConversationId,
        message_id: MessageId,
        text: String,
        status: MessageStatus,
        charge: Option<Charge>,
    },
}

impl Request {
    fn conversation(&self) -> Option<ConversationId> {
        match self {
            Self::Create { .. } => None,
            Self::Append { conversation, .. }
            | Self::Start { conversation, .. }
            | Self::Finish { conversation, .. } => Some(*conversation),
        }
    }
}

/// What a write returns to its caller.
enum Outcome {
    Created(Result<Conversation, StoreError>),
    Appended(Result<(AppendOutcome, Option<i64>), PersistError>),
    Seq(Result<i64, PersistError>),
}

struct Op {
    request: Request,
    done: oneshot::Sender<Outcome>,
}

/// Told after each commit how many writes it stored (1 for a write stored alone).
pub type CommitObserver = Arc<dyn Fn(usize) + Send + Sync>;

/// The group-commit writer: a few lanes, each a task with its own queue.
#[derive(Clone)]
pub struct Writer {
    pool: PgPool,
    lanes: Arc<[mpsc::Sender<Op>]>,
    next: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("lanes", &self.lanes.len())
            .finish()
    }
}

impl Writer {
    /// Starts `lanes` lane tasks on the current Tokio runtime, each committing up to
    /// `max_batch` writes at once; `observer` hears of every commit.
    pub fn start(pool: PgPool, lanes: usize, max_batch: usize, observer: CommitObserver) -> Self {
        let lanes: Arc<[mpsc::Sender<Op>]> = (0..lanes.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(LANE_CAPACITY);
                tokio::spawn(lane(pool.clone(), rx, max_batch.max(1), observer.clone()));
                tx
            })
            .collect();
        Self {
            pool,
            lanes,
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn lane_for(&self, request: &Request) -> usize {
        let n = self.lanes.len();
        match request.conversation() {
            Some(c) => (c.0.as_u64_pair().1 % n as u64) as usize,
            None => self.next.fetch_add(1, Ordering::Relaxed) % n,
        }
    }

    /// Queues `request` and waits for its batch to commit. When the lanes are gone (the runtime
    /// is shutting down), the write runs directly instead.
    async fn submit(&self, request: Request) -> Outcome {
        let lane = &self.lanes[self.lane_for(&request)];
        let (done, outcome) = oneshot::channel();
        match lane.send(Op { request, done }).await {
            Ok(()) => match outcome.await {
                Ok(outcome) => outcome,
                Err(_) => Outcome::Seq(Err(PersistError::Unavailable(
                    "the database writer stopped".into(),
                ))),
            },
            Err(mpsc::error::SendError(op)) => run_single(&self.pool, op.request).await,
        }
    }

    /// Creates a conversation (see [`conversations::create`]).
    pub async fn create_conversation(
        &self,
        merchant: MerchantId,
        token_hash: [u8; 32],
        origin: Option<String>,
    ) -> Result<Conversation, StoreError> {
        let request = Request::Create {
            merchant,
            token_hash,
            origin,
        };
        match self.submit(request).await {
            Outcome::Created(r) => r,
            _ => Err(StoreError::Database(sqlx::Error::PoolClosed)),
        }
    }

    /// Stores a user message and, with `reply`, the start of its reply.
    pub async fn append(
        &self,
        conversation: ConversationId,
        message_id: MessageId,
        client_id: String,
        text: String,
        reply: Option<(MessageId, Option<i64>)>,
    ) -> Result<(AppendOutcome, Option<i64>), PersistError> {
        let request = Request::Append {
            conversation,
            message_id,
            client_id,
            text,
            reply,
        };
        match self.submit(request).await {
            Outcome::Appended(r) => r,
            Outcome::Seq(Err(e)) => Err(e),
            _ => Err(PersistError::Unavailable(
                "unexpected writer outcome".into(),
            )),
        }
    }

    /// Stores the start of a reply.
    pub async fn start_reply(
        &self,
        conversation: ConversationId,
        message_id: MessageId,
        reply_to_seq: i64,
        agent_version: Option<i64>,
    ) -> Result<i64, PersistError> {
        let request = Request::Start {
            conversation,
            message_id,
            reply_to_seq,
            agent_version,
        };
        seq_outcome(self.submit(request).await)
    }

    /// Stores the end of a reply.
    pub async fn finish_reply(
        &self,
        conversation: ConversationId,
        message_id: MessageId,
        text: String,
        status: MessageStatus,
        charge: Option<Charge>,
    ) -> Result<i64, PersistError> {
        let request = Request::Finish {
            conversation,
            message_id,
            text,
            status,
            charge,
        };
        seq_outcome(self.submit(request).await)
    }
}

fn seq_outcome(outcome: Outcome) -> Result<i64, PersistError> {
    match outcome {
        Outcome::Seq(r) => r,
        _ => Err(PersistError::Unavailable(
            "unexpected writer outcome".into(),
        )),
    }
}

/// One lane: takes the first queued write, gathers what else is queued (up to `max_batch`, at
/// most one write per conversation), commits them together, answers each, repeats.
async fn lane(
    pool: PgPool,
    mut rx: mpsc::Receiver<Op>,
    max_batch: usize,
    observer: CommitObserver,
) {
    let mut carry: Option<Op> = None;
    loop {
        let first = match carry.take() {
            Some(op) => op,
            None => match rx.recv().await {
                Some(op) => op,
                None => return,
            },
        };
        let mut seen: HashSet<ConversationId> = first.request.conversation().into_iter().collect();
        let mut batch = vec![first];
        while batch.len() < max_batch {
            let Ok(op) = rx.try_recv() else { break };
            if let Some(c) = op.request.conversation()
                && !seen.insert(c)
            {
                carry = Some(op);
                break;
            }
            batch.push(op);
        }
        run(&pool, batch, &observer).await;
    }
}

async fn run(pool: &PgPool, batch: Vec<Op>, observer: &CommitObserver) {
    if batch.len() > 1 {
        let requests: Vec<&Request> = batch.iter().map(|op| &op.request).collect();
        match run_batch(pool, &requests).await {
            Ok(outcomes) => {
                observer(batch.len());
                for (op, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = op.done.send(outcome);
                }
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, writes = batch.len(), "batch failed; storing its writes one by one");
            }
        }
    }
    for op in batch {
        let outcome = run_single(pool, op.request).await;
        observer(1);
        let _ = op.done.send(outcome);
    }
}

/// One write on its own (a single statement, its own commit).
async fn run_single(pool: &PgPool, request: Request) -> Outcome {
    match request {
        Request::Create {
            merchant,
            token_hash,
            origin,
        } => Outcome::Created(
            conversations::create(pool, merchant, &token_hash, origin.as_deref()).await,
        ),
        Request::Append {
            conversation,
            message_id,
            client_id,
            text,
            reply,
        } => Outcome::Appended(
            conversations::append(pool, conversation, message_id, &client_id, &text, reply).await,
        ),
        Request::Start {
            conversation,
            message_id,
            reply_to_seq,
            agent_version,
        } => Outcome::Seq(
            conversations::start_reply(pool, conversation, message_id, reply_to_seq, agent_version)
                .await,
        ),
        Request::Finish {
            conversation,
            message_id,
            text,
            status,
            charge,
        } => Outcome::Seq(
            conversations::finish_reply(pool, conversation, message_id, &text, status, charge)
                .await,
        ),
    }
}

/// A conversation to create: its place in the batch, new id, merchant, token digest, origin.
type NewConversation<'a> = (usize, Uuid, MerchantId, &'a [u8; 32], Option<&'a str>);

/// Every write of the batch in one transaction, one statement per kind. Any error fails the
/// whole batch (rolled back); the caller then stores the writes one by one.
async fn run_batch(pool: &PgPool, requests: &[&Request]) -> Result<Vec<Outcome>, sqlx::Error> {
    let mut outcomes: Vec<Option<Outcome>> = requests.iter().map(|_| None).collect();
    let mut tx = pool.begin().await?;

    // New conversations.
    let creates: Vec<NewConversation<'_>> = requests
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r {
            Request::Create {
                merchant,
                token_hash,
                origin,
            } => Some((i, Uuid::new_v4(), *merchant, token_hash, origin.as_deref())),
            _ => None,
        })
        .collect();
    if !creates.is_empty() {
        let rows = sqlx::query(
            "INSERT INTO conversations (id, merchant_id, visitor_token_hash, origin) \
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bytea[], $4::text[]) \
             RETURNING id, merchant_id, last_seq, created_at",
        )
        .bind(creates.iter().map(|c| c.1).collect::<Vec<_>>())
        .bind(creates.iter().map(|c| c.2.0).collect::<Vec<_>>())
        .bind(creates.iter().map(|c| c.3.to_vec()).collect::<Vec<_>>())
        .bind(creates.iter().map(|c| c.4).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
        let mut created: HashMap<Uuid, Conversation> = HashMap::new();
        for row in &rows {
            let c = conversations::conversation_from_row(row)?;
            created.insert(c.id.0, c);
        }
        for (i, id, ..) in &creates {
            let c = created.remove(id).ok_or(sqlx::Error::RowNotFound)?;
            outcomes[*i] = Some(Outcome::Created(Ok(c)));
        }
    }

    // Visitor messages (with their reply's start when the conversation was idle).
    let appends: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Request::Append { .. }))
        .map(|(i, _)| i)
        .collect();
    if !appends.is_empty() {
        let (mut convs, mut client_ids, mut ids, mut texts, mut reply_ids, mut versions) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for &i in &appends {
            if let Request::Append {
                conversation,
                message_id,
                client_id,
                text,
                reply,
            } = requests[i]
            {
                convs.push(conversation.0);
                client_ids.push(client_id.as_str());
                ids.push(message_id.0);
                texts.push(text.as_str());
                reply_ids.push(reply.map(|r| r.0.0));
                versions.push(reply.and_then(|r| r.1));
            }
        }
        let rows = sqlx::query(
            "WITH input AS ( \
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], \
                                      $5::uuid[], $6::int8[]) \
                     AS t(conv, client_id, msg_id, body, reply_id, agent_version) \
             ), dup AS ( \
                 SELECT i.conv, m.seq, m.id FROM input i \
                 JOIN messages m ON m.conversation_id = i.conv AND m.client_id = i.client_id \
             ), bump AS ( \
                 UPDATE conversations c \
                 SET last_seq = c.last_seq + CASE WHEN i.reply_id IS NULL THEN 1 ELSE 2 END, \
                     updated_at = now() \
                 FROM input i \
                 WHERE c.id = i.conv AND NOT EXISTS (SELECT 1 FROM dup d WHERE d.conv = i.conv) \
                 RETURNING c.id AS conv, \
                     CASE WHEN i.reply_id IS NULL THEN c.last_seq ELSE c.last_seq - 1 END AS seq \
             ), ins AS ( \
                 INSERT INTO messages (id, conversation_id, seq, role, client_id, text, status, \
                                       reply_to_seq, agent_version) \
                 SELECT i.msg_id, i.conv, b.seq, 'user', i.client_id, i.body, 'complete', \
                        NULL, NULL \
                 FROM bump b JOIN input i ON i.conv = b.conv \
                 UNION ALL \
                 SELECT i.reply_id, i.conv, b.seq + 1, 'assistant', NULL, '', 'streaming', \
                        b.seq, i.agent_version \
                 FROM bump b JOIN input i ON i.conv = b.conv WHERE i.reply_id IS NOT NULL \
             ) \
             SELECT conv, true AS duplicate, seq, id FROM dup \
             UNION ALL SELECT conv, false, seq, NULL::uuid FROM bump",
        )
        .bind(convs)
        .bind(client_ids)
        .bind(ids)
        .bind(texts)
        .bind(reply_ids)
        .bind(versions)
        .fetch_all(&mut *tx)
        .await?;
        let mut by_conv: HashMap<Uuid, (bool, i64, Option<Uuid>)> = HashMap::new();
        for row in &rows {
            by_conv.insert(
                row.try_get("conv")?,
                (
                    row.try_get("duplicate")?,
                    row.try_get("seq")?,
                    row.try_get("id")?,
                ),
            );
        }
        for &i in &appends {
            if let Request::Append {
                conversation,
                message_id,
                reply,
                ..
            } = requests[i]
            {
                let outcome = match by_conv.get(&conversation.0) {
                    None => Err(PersistError::NotFound),
                    Some((true, seq, existing)) => Ok((
                        AppendOutcome::Duplicate {
                            seq: *seq,
                            message_id: MessageId(existing.ok_or(sqlx::Error::RowNotFound)?),
                        },
                        None,
                    )),
                    Some((false, seq, _)) => Ok((
                        AppendOutcome::Stored {
                            seq: *seq,
                            message_id: *message_id,
                        },
                        reply.map(|_| seq + 1),
                    )),
                };
                outcomes[i] = Some(Outcome::Appended(outcome));
            }
        }
    }

    // Starts of queued replies (rare under load: only when a visitor sent while a reply ran).
    for (i, r) in requests.iter().enumerate() {
        if let Request::Start {
            conversation,
            message_id,
            reply_to_seq,
            agent_version,
        } = r
        {
            let seq = conversations::start_reply_in(
                &mut *tx,
                *conversation,
                *message_id,
                *reply_to_seq,
                *agent_version,
            )
            .await?;
            outcomes[i] = Some(Outcome::Seq(seq.ok_or(PersistError::NotFound)));
        }
    }

    // Ends of replies.
    let finishes: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Request::Finish { .. }))
        .map(|(i, _)| i)
        .collect();
    if !finishes.is_empty() {
        let (mut convs, mut ids, mut texts, mut statuses, mut usages) =
            (vec![], vec![], vec![], vec![], vec![]);
        let (mut providers, mut models, mut costs) = (vec![], vec![], vec![]);
        for &i in &finishes {
            if let Request::Finish {
                conversation,
                message_id,
                text,
                status,
                charge,
            } = requests[i]
            {
                convs.push(conversation.0);
                ids.push(message_id.0);
                texts.push(text.as_str());
                statuses.push(status.as_str());
                usages.push(
                    charge
                        .as_ref()
                        .map(|c| serde_json::to_string(&c.usage))
                        .transpose()
                        .map_err(|e| sqlx::Error::Encode(e.into()))?,
                );
                providers.push(charge.as_ref().map(|c| c.provider.as_str()));
                models.push(charge.as_ref().map(|c| c.model.as_str()));
                costs.push(charge.as_ref().map(|c| c.cost_nanos));
            }
        }
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "WITH input AS ( \
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
                                      $6::text[], $7::text[], $8::int8[]) \
                     AS t(conv, msg_id, body, status, usage, provider, model, cost_nanos) \
             ), bump AS ( \
                 UPDATE conversations c SET last_seq = c.last_seq + 1, updated_at = now() \
                 FROM input i \
                 WHERE c.id = i.conv AND EXISTS ( \
                     SELECT 1 FROM messages m WHERE m.conversation_id = i.conv AND m.id = i.msg_id) \
                 RETURNING c.id AS conv, c.last_seq \
             ) \
             UPDATE messages m SET text = i.body, status = i.status, usage = i.usage::jsonb, \
                 end_seq = b.last_seq, completed_at = now(), provider = i.provider, \
                 model = i.model, cost_nanos = i.cost_nanos \
             FROM bump b JOIN input i ON i.conv = b.conv \
             WHERE m.conversation_id = b.conv AND m.id = i.msg_id \
             RETURNING b.conv, b.last_seq",
        )
        .bind(convs)
        .bind(ids)
        .bind(texts)
        .bind(statuses)
        .bind(usages)
        .bind(providers)
        .bind(models)
        .bind(costs)
        .fetch_all(&mut *tx)
        .await?;
        let by_conv: HashMap<Uuid, i64> = rows.into_iter().collect();
        for &i in &finishes {
            if let Some(c) = requests[i].conversation() {
                let seq = by_conv.get(&c.0).copied().ok_or(PersistError::NotFound);
                outcomes[i] = Some(Outcome::Seq(seq));
            }
        }
    }

    tx.commit().await?;
    outcomes
        .into_iter()
        .map(|o| o.ok_or(sqlx::Error::RowNotFound))
        .collect()
}
