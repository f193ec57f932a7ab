//! Group commit: the durable writes of many conversations share one statement per kind and one
//! commit (decision 0007). Every conversation write goes through here: creation, a visitor
//! message (with its reply's start), a reply's start, a reply's end (with its model calls'
//! charges and the session state) and the session state saved outside a turn.
//!
//! Every turn writes twice (the visitor's message with its reply's start, then the reply's end)
//! and every new conversation once, each a synchronous commit. Profiled at saturation, Postgres
//! spent most of its CPU per statement and per commit (round trips, wake-ups, WAL flushes), not
//! per row (docs/benchmarks.md). So a lane gathers the writes that arrive while its previous
//! commit is in flight and stores them together ([`batch`]):
//!
//! - a write that finds its lane idle is a batch of one: a single statement, committed at once,
//!   so there is no added latency at low load;
//! - under load, batches grow by themselves (whatever queued during the previous commit), so
//!   the cost per write falls as the rate rises instead of the queue growing;
//! - nothing is acknowledged before its batch commits; a batch that fails as a whole (a
//!   concurrent duplicate, a lost connection, a refused row) is retried write by write, so
//!   each caller gets its own exact outcome and one failing write does not fail the others.
//!
//! Writes of one conversation always go to the same lane, and a lane never puts two writes of
//! one conversation in one batch, so per-conversation order holds and two lanes never lock the
//! same conversation row.

mod batch;
mod single;

use super::rows::Conversation;
use crate::store::StoreError;
use agentpay_actors::conversation::SessionState;
use agentpay_actors::ids::{ConversationId, MerchantId, MessageId};
use agentpay_actors::ports::store::{AppendOutcome, PersistError, ReplyEnd};
use batch::{Done, Outcome, Request, WriteError};
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Writes queued per lane before callers wait for room.
const LANE_CAPACITY: usize = 4096;

/// One queued write and where its outcome goes.
struct Op {
    /// The write.
    request: Request,
    /// Answered once the write's batch committed or failed; a caller that went away is ignored.
    done: oneshot::Sender<Outcome>,
}

/// Told after each commit how many writes it stored (1 for a write stored alone).
pub type CommitObserver = Arc<dyn Fn(usize) + Send + Sync>;

/// The group-commit writer: a few lanes, each a task with its own queue. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    /// For writes that find the lanes gone (runtime shutting down).
    pool: PgPool,
    /// Each lane's queue; the lane tasks live as long as the runtime.
    lanes: Arc<[mpsc::Sender<Op>]>,
    /// Round-robin counter spreading creations (which have no conversation yet) over lanes.
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
    /// is shutting down), the write is stored alone, directly.
    async fn submit(&self, request: Request) -> Outcome {
        let lane = &self.lanes[self.lane_for(&request)];
        let (done, outcome) = oneshot::channel();
        match lane.send(Op { request, done }).await {
            Ok(()) => outcome.await.unwrap_or(Err(WriteError::Stopped)),
            Err(mpsc::error::SendError(op)) => run_one(&self.pool, &op.request).await,
        }
    }

    /// Creates a conversation for `merchant`; `token_hash` is the visitor token's digest.
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
            Ok(Done::Created(c)) => Ok(c),
            Ok(_) => Err(StoreError::Database(sqlx::Error::Protocol(
                "unexpected writer outcome".into(),
            ))),
            Err(WriteError::NotFound) => Err(StoreError::NotFound),
            Err(WriteError::Database(e)) => Err(StoreError::Database(e)),
            Err(WriteError::Stopped) => Err(StoreError::Database(sqlx::Error::PoolClosed)),
        }
    }

    /// Stores a user message (unless its `client_id` is already stored in the conversation)
    /// and, with `reply` (its id and agent version), the start of its reply. Returns the
    /// outcome and the reply's start sequence number.
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
        match persist(self.submit(request).await)? {
            Done::Appended(outcome, reply_seq) => Ok((outcome, reply_seq)),
            _ => Err(unexpected()),
        }
    }

    /// Stores the start of a reply to `reply_to_seq`; returns its sequence number.
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
        match persist(self.submit(request).await)? {
            Done::Seq(seq) => Ok(seq),
            _ => Err(unexpected()),
        }
    }

    /// Stores the end of a reply: its text and status, one `model_calls` row per charge (the
    /// message keeps their totals), and `state` when the turn changed it, in one statement.
    /// Returns the end's sequence number.
    pub async fn finish_reply(
        &self,
        conversation: ConversationId,
        message_id: MessageId,
        end: ReplyEnd,
    ) -> Result<i64, PersistError> {
        let ReplyEnd {
            text,
            status,
            charges,
            state,
            meta,
        } = end;
        let state = state.as_ref().map(state_document).transpose()?;
        // The last line of defence: Postgres text cannot hold NUL, whatever produced the reply.
        let text = if text.contains('\0') {
            text.replace('\0', "\u{FFFD}")
        } else {
            text
        };
        let meta = if meta.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(&meta)
                    .map_err(|e| PersistError::Unavailable(e.to_string()))?,
            )
        };
        let request = Request::Finish {
            conversation,
            message_id,
            text,
            status,
            charges,
            state,
            meta,
        };
        match persist(self.submit(request).await)? {
            Done::Seq(seq) => Ok(seq),
            _ => Err(unexpected()),
        }
    }

    /// Stores the session state outside a turn.
    pub async fn save_state(
        &self,
        conversation: ConversationId,
        state: SessionState,
    ) -> Result<(), PersistError> {
        let request = Request::SaveState {
            conversation,
            state: state_document(&state)?,
        };
        match persist(self.submit(request).await)? {
            Done::Saved => Ok(()),
            _ => Err(unexpected()),
        }
    }
}

/// The JSON document stored for `state`.
fn state_document(state: &SessionState) -> Result<String, PersistError> {
    serde_json::to_string(state)
        .map_err(|e| PersistError::Unavailable(format!("the session state does not encode: {e}")))
}

/// An outcome as the engine's port sees it.
fn persist(outcome: Outcome) -> Result<Done, PersistError> {
    match outcome {
        Ok(done) => Ok(done),
        Err(WriteError::NotFound) => Err(PersistError::NotFound),
        Err(WriteError::Database(e)) => Err(PersistError::Unavailable(e.to_string())),
        Err(WriteError::Stopped) => Err(PersistError::Unavailable(
            "the database writer stopped".into(),
        )),
    }
}

/// An outcome of another kind than the write's (cannot happen: each write's outcome is built
/// from its own kind).
fn unexpected() -> PersistError {
    PersistError::Unavailable("unexpected writer outcome".into())
}

/// One lane: takes the first queued write, gathers what else is queued (up to `max_batch`, at
/// most one write per conversation), stores them together, answers each, repeats.
async fn lane(
    pool: PgPool,
    mut rx: mpsc::Receiver<Op>,
    max_batch: usize,
    observer: CommitObserver,
) {
    // A write of a conversation already in the batch waits here for the next batch, keeping
    // its conversation's order.
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

/// Stores a batch and answers its writes. A batch that fails as a whole is stored write by
/// write instead.
async fn run(pool: &PgPool, batch: Vec<Op>, observer: &CommitObserver) {
    if batch.len() > 1 {
        let requests: Vec<&Request> = batch.iter().map(|op| &op.request).collect();
        match batch::store(pool, &requests).await {
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
        let outcome = run_one(pool, &op.request).await;
        observer(1);
        let _ = op.done.send(outcome);
    }
}

/// One write as a batch of one. A visitor message refused by the unique index on its
/// `client_id` was stored concurrently by another process (within a process, one lane orders a
/// conversation's writes); that row is committed by the time the index refuses ours, so a second
/// attempt finds it and answers `Duplicate`.
async fn run_one(pool: &PgPool, request: &Request) -> Outcome {
    let mut result = batch::store(pool, &[request]).await;
    if let Err(sqlx::Error::Database(e)) = &result
        && e.is_unique_violation()
        && matches!(request, Request::Append { .. })
    {
        result = batch::store(pool, &[request]).await;
    }
    match result {
        Ok(mut outcomes) => outcomes.pop().unwrap_or(Err(WriteError::Stopped)),
        Err(e) => Err(WriteError::Database(e)),
    }
}
