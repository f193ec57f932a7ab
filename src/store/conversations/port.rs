//! [`PgConversationStore`]: the engine's `ConversationStore` port on Postgres. Reads go to
//! [`super::reads`], writes to the group-commit [`Writer`]; nothing here writes SQL.

use super::reads;
use super::rows::unavailable;
use super::writer::Writer;
use agentpay_actors::conversation::SessionState;
use agentpay_actors::ids::{ConversationId, MessageId};
use agentpay_actors::ports::PortFuture;
use agentpay_actors::ports::store::{
    AppendOutcome, ConversationStore, LoadedConversation, PersistError, ReplyEnd, StoredMessage,
};
use sqlx::PgPool;

/// The engine's `ConversationStore` on Postgres.
#[derive(Clone)]
pub struct PgConversationStore {
    /// The pool, for reads; cheap to clone.
    pool: PgPool,
    /// The group-commit writer every write goes through; shared with the HTTP edge.
    writer: Writer,
}

impl PgConversationStore {
    /// A store reading from this pool and writing through `writer` (group commit).
    pub fn new(pool: PgPool, writer: Writer) -> Self {
        Self { pool, writer }
    }
}

/// Runs `fut` as its own Tokio task and waits for it. Reads run this way, on the runtime, not
/// inside the actor: when a worker stops with a read still waiting, the task (and its pool
/// connection) is dropped by the runtime, never outside it; and the actor waits on a small
/// handle instead of holding the whole query state (~13 KB, heap-profiled) while the read waits
/// its turn. Writes need not: the writer's lanes already run them as tasks.
fn spawned<T: Send + 'static>(
    fut: impl Future<Output = Result<T, PersistError>> + Send + 'static,
) -> PortFuture<Result<T, PersistError>> {
    let task = tokio::spawn(fut);
    Box::pin(async move {
        task.await
            .unwrap_or_else(|e| Err(PersistError::Unavailable(format!("store task failed: {e}"))))
    })
}

impl ConversationStore for PgConversationStore {
    fn load(
        &self,
        id: ConversationId,
        history: usize,
    ) -> PortFuture<Result<LoadedConversation, PersistError>> {
        let pool = self.pool.clone();
        spawned(async move { reads::load(&pool, id, history).await })
    }

    fn append_user_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        client_id: String,
        text: String,
    ) -> PortFuture<Result<AppendOutcome, PersistError>> {
        let writer = self.writer.clone();
        Box::pin(async move {
            let (outcome, _) = writer.append(id, message_id, client_id, text, None).await?;
            Ok(outcome)
        })
    }

    fn append_and_start(
        &self,
        id: ConversationId,
        message_id: MessageId,
        client_id: String,
        text: String,
        reply_id: MessageId,
        agent_version: Option<i64>,
    ) -> PortFuture<Result<(AppendOutcome, Option<i64>), PersistError>> {
        let writer = self.writer.clone();
        Box::pin(async move {
            let reply = Some((reply_id, agent_version));
            writer.append(id, message_id, client_id, text, reply).await
        })
    }

    fn start_assistant_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        reply_to_seq: i64,
        agent_version: Option<i64>,
    ) -> PortFuture<Result<i64, PersistError>> {
        let writer = self.writer.clone();
        Box::pin(async move {
            writer
                .start_reply(id, message_id, reply_to_seq, agent_version)
                .await
        })
    }

    fn finish_assistant_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        end: ReplyEnd,
    ) -> PortFuture<Result<i64, PersistError>> {
        let writer = self.writer.clone();
        Box::pin(async move { writer.finish_reply(id, message_id, end).await })
    }

    fn save_state(
        &self,
        id: ConversationId,
        state: SessionState,
    ) -> PortFuture<Result<(), PersistError>> {
        let writer = self.writer.clone();
        Box::pin(async move { writer.save_state(id, state).await })
    }

    fn messages_after(
        &self,
        id: ConversationId,
        after: i64,
        limit: usize,
    ) -> PortFuture<Result<Vec<StoredMessage>, PersistError>> {
        let pool = self.pool.clone();
        spawned(async move {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            reads::list_messages(&pool, id, after, limit)
                .await
                .map_err(unavailable)
        })
    }
}
