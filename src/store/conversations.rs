//! Conversations and messages in Postgres: the `ConversationStore` port for the engine, and the
//! queries the HTTP edge needs (create, authorise, list).
//!
//! Sequence numbers come from `conversations.last_seq`, incremented in the same transaction as
//! the message write, so they are gap-free per conversation and strictly ordered. The row lock
//! taken by that `UPDATE` also serialises concurrent writers to one conversation.

use super::StoreError;
use super::writer::Writer;
use agentpay_actors::ids::{ConversationId, MerchantId, MessageId};
use agentpay_actors::ports::PortFuture;
use agentpay_actors::ports::metering::Charge;
use agentpay_actors::ports::model::Usage;
use agentpay_actors::ports::store::{
    AppendOutcome, ConversationStore, LoadedConversation, MessageStatus, PersistError, Role,
    StoredMessage,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Row, Transaction, postgres::PgRow};
use uuid::Uuid;

/// A conversation's header row.
#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// Its merchant.
    pub merchant_id: MerchantId,
    /// The last sequence number used.
    pub last_seq: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

pub(crate) fn conversation_from_row(row: &PgRow) -> Result<Conversation, sqlx::Error> {
    Ok(Conversation {
        id: ConversationId(row.try_get("id")?),
        merchant_id: MerchantId(row.try_get("merchant_id")?),
        last_seq: row.try_get("last_seq")?,
        created_at: row.try_get("created_at")?,
    })
}

fn message_from_row(row: &PgRow) -> Result<StoredMessage, sqlx::Error> {
    let role: String = row.try_get("role")?;
    let status: String = row.try_get("status")?;
    let usage: Option<sqlx::types::Json<Usage>> = row.try_get("usage")?;
    Ok(StoredMessage {
        id: MessageId(row.try_get("id")?),
        seq: row.try_get("seq")?,
        end_seq: row.try_get("end_seq")?,
        role: if role == "user" {
            Role::User
        } else {
            Role::Assistant
        },
        client_id: row.try_get("client_id")?,
        reply_to_seq: row.try_get("reply_to_seq")?,
        text: row.try_get("text")?,
        status: MessageStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown message status {status}").into())
        })?,
        usage: usage.map(|u| u.0),
        agent_version: row.try_get("agent_version")?,
        created_at: row.try_get("created_at")?,
    })
}

const MESSAGE_COLUMNS: &str = "id, seq, end_seq, role, client_id, reply_to_seq, text, status, usage, \
     agent_version, created_at";

/// Creates a conversation for a merchant; `token_hash` is the visitor token's digest.
pub async fn create(
    pool: &PgPool,
    merchant: MerchantId,
    token_hash: &[u8; 32],
    origin: Option<&str>,
) -> Result<Conversation, StoreError> {
    let row = sqlx::query(
        "INSERT INTO conversations (id, merchant_id, visitor_token_hash, origin) VALUES ($1, $2, $3, $4) \
         RETURNING id, merchant_id, last_seq, created_at",
    )
    .bind(Uuid::new_v4())
    .bind(merchant.0)
    .bind(&token_hash[..])
    .bind(origin)
    .fetch_one(pool)
    .await?;
    Ok(conversation_from_row(&row)?)
}

/// One conversation, with its visitor token digest (for authorisation by the caller).
pub async fn get_with_token(
    pool: &PgPool,
    id: ConversationId,
) -> Result<(Conversation, Vec<u8>), StoreError> {
    let row = sqlx::query(
        "SELECT id, merchant_id, last_seq, created_at, visitor_token_hash FROM conversations WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    let hash: Vec<u8> = row.try_get("visitor_token_hash")?;
    Ok((conversation_from_row(&row)?, hash))
}

/// Messages with an event after `after`, by sequence, at most `limit`.
pub async fn list_messages(
    pool: &PgPool,
    id: ConversationId,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredMessage>, sqlx::Error> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 \
         AND (seq > $2 OR end_seq > $2) ORDER BY seq LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(message_from_row).collect()
}

/// The reply to a user message, when one is stored (started or finished).
pub async fn reply_to(
    pool: &PgPool,
    id: ConversationId,
    user_seq: i64,
) -> Result<Option<StoredMessage>, sqlx::Error> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND reply_to_seq = $2 \
         ORDER BY seq DESC LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .bind(user_seq)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(message_from_row).transpose()
}

/// The engine's `ConversationStore` on Postgres.
#[derive(Clone)]
pub struct PgConversationStore {
    /// The pool; cheap to clone.
    pool: PgPool,
    /// The group-commit writer every write goes through.
    writer: Writer,
}

impl PgConversationStore {
    /// A store on this pool; its writes go through `writer` (group commit).
    pub fn new(pool: PgPool, writer: Writer) -> Self {
        Self { pool, writer }
    }
}

/// Runs `fut` as its own Tokio task and waits for it (see `load`).
fn spawned<T: Send + 'static>(
    fut: impl Future<Output = Result<T, PersistError>> + Send + 'static,
) -> PortFuture<Result<T, PersistError>> {
    let task = tokio::spawn(fut);
    Box::pin(async move {
        task.await
            .unwrap_or_else(|e| Err(PersistError::Unavailable(format!("store task failed: {e}"))))
    })
}

fn unavailable(e: sqlx::Error) -> PersistError {
    PersistError::Unavailable(e.to_string())
}

/// Takes the next sequence number (locking the conversation row until commit).
async fn next_seq(
    tx: &mut Transaction<'_, Postgres>,
    id: ConversationId,
) -> Result<i64, PersistError> {
    sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq",
    )
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await
    .map_err(unavailable)?
    .ok_or(PersistError::NotFound)
}

/// Stores a user message and, when `reply` is given, the start of its reply, in one statement
/// (one round trip, one commit): the conversation row is locked and its sequence number bumped
/// by one or two, unless a message with `client_id` is already stored. Returns `None` when a
/// concurrent writer stored the same `client_id` first (the unique index refused ours); the
/// caller then takes the locked path, [`append_locked`], which finds it.
async fn append_fast(
    pool: &PgPool,
    id: ConversationId,
    message_id: MessageId,
    client_id: &str,
    text: &str,
    reply: Option<(MessageId, Option<i64>)>,
) -> Result<Option<(AppendOutcome, Option<i64>)>, PersistError> {
    let (reply_id, agent_version) = reply.unzip();
    let row: Result<Option<(bool, i64, Uuid)>, sqlx::Error> = sqlx::query_as(
        "WITH dup AS ( \
             SELECT seq, id FROM messages WHERE conversation_id = $1 AND client_id = $2 \
         ), bump AS ( \
             UPDATE conversations \
             SET last_seq = last_seq + CASE WHEN $5::uuid IS NULL THEN 1 ELSE 2 END, updated_at = now() \
             WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM dup) \
             RETURNING last_seq \
         ), user_seq AS ( \
             SELECT CASE WHEN $5::uuid IS NULL THEN last_seq ELSE last_seq - 1 END AS seq FROM bump \
         ), ins AS ( \
             INSERT INTO messages (id, conversation_id, seq, role, client_id, text, status, \
                                   reply_to_seq, agent_version) \
             SELECT $3, $1, u.seq, 'user', $2, $4, 'complete', NULL, NULL FROM user_seq u \
             UNION ALL \
             SELECT $5, $1, u.seq + 1, 'assistant', NULL, '', 'streaming', u.seq, $6 \
             FROM user_seq u WHERE $5::uuid IS NOT NULL \
         ) \
         SELECT true, seq, id FROM dup \
         UNION ALL SELECT false, seq, $3 FROM user_seq",
    )
    .bind(id.0)
    .bind(client_id)
    .bind(message_id.0)
    .bind(text)
    .bind(reply_id.map(|r| r.0))
    .bind(agent_version.flatten())
    .fetch_optional(pool)
    .await;
    match row {
        Ok(None) => Err(PersistError::NotFound),
        Ok(Some((true, seq, existing))) => Ok(Some((
            AppendOutcome::Duplicate {
                seq,
                message_id: MessageId(existing),
            },
            None,
        ))),
        Ok(Some((false, seq, _))) => Ok(Some((
            AppendOutcome::Stored { seq, message_id },
            reply.map(|_| seq + 1),
        ))),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(unavailable(e)),
    }
}

/// The locked path of [`append_fast`]: the conversation row is locked first, so a concurrent
/// duplicate waits and then sees the first one. A duplicate rolls back.
async fn append_locked(
    pool: &PgPool,
    id: ConversationId,
    message_id: MessageId,
    client_id: &str,
    text: &str,
    reply: Option<(MessageId, Option<i64>)>,
) -> Result<(AppendOutcome, Option<i64>), PersistError> {
    let mut tx = pool.begin().await.map_err(unavailable)?;
    let seq = next_seq(&mut tx, id).await?;
    let existing: Option<(i64, Uuid)> = sqlx::query_as(
        "SELECT seq, id FROM messages WHERE conversation_id = $1 AND client_id = $2",
    )
    .bind(id.0)
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(unavailable)?;
    if let Some((seq, existing_id)) = existing {
        tx.rollback().await.map_err(unavailable)?;
        let message_id = MessageId(existing_id);
        return Ok((AppendOutcome::Duplicate { seq, message_id }, None));
    }
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, role, client_id, text, status) \
         VALUES ($1, $2, $3, 'user', $4, $5, 'complete')",
    )
    .bind(message_id.0)
    .bind(id.0)
    .bind(seq)
    .bind(client_id)
    .bind(text)
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    let reply_seq = match reply {
        Some((reply_id, version)) => {
            Some(insert_reply_start(&mut tx, id, reply_id, seq, version).await?)
        }
        None => None,
    };
    tx.commit().await.map_err(unavailable)?;
    Ok((AppendOutcome::Stored { seq, message_id }, reply_seq))
}

/// [`append_fast`], falling back to [`append_locked`] after a concurrent duplicate.
pub(crate) async fn append(
    pool: &PgPool,
    id: ConversationId,
    message_id: MessageId,
    client_id: &str,
    text: &str,
    reply: Option<(MessageId, Option<i64>)>,
) -> Result<(AppendOutcome, Option<i64>), PersistError> {
    match append_fast(pool, id, message_id, client_id, text, reply).await? {
        Some(done) => Ok(done),
        None => append_locked(pool, id, message_id, client_id, text, reply).await,
    }
}

/// Inside `tx`: stores the start of a reply to `reply_to_seq`; returns its sequence number.
async fn insert_reply_start(
    tx: &mut Transaction<'_, Postgres>,
    id: ConversationId,
    reply_id: MessageId,
    reply_to_seq: i64,
    agent_version: Option<i64>,
) -> Result<i64, PersistError> {
    let seq = next_seq(tx, id).await?;
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, role, reply_to_seq, status, agent_version) \
         VALUES ($1, $2, $3, 'assistant', $4, 'streaming', $5)",
    )
    .bind(reply_id.0)
    .bind(id.0)
    .bind(seq)
    .bind(reply_to_seq)
    .bind(agent_version)
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    Ok(seq)
}

/// Stores the start of a reply to `reply_to_seq` with the next sequence number, in one
/// statement; `None` when the conversation does not exist.
pub(crate) async fn start_reply_in<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    id: ConversationId,
    message_id: MessageId,
    reply_to_seq: i64,
    agent_version: Option<i64>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH bump AS ( \
             UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() \
             WHERE id = $1 RETURNING last_seq \
         ), ins AS ( \
             INSERT INTO messages (id, conversation_id, seq, role, reply_to_seq, status, \
                                   agent_version) \
             SELECT $2, $1, last_seq, 'assistant', $3, 'streaming', $4 FROM bump \
         ) \
         SELECT last_seq FROM bump",
    )
    .bind(id.0)
    .bind(message_id.0)
    .bind(reply_to_seq)
    .bind(agent_version)
    .fetch_optional(executor)
    .await
}

/// [`start_reply_in`] as its own commit.
pub(crate) async fn start_reply(
    pool: &PgPool,
    id: ConversationId,
    message_id: MessageId,
    reply_to_seq: i64,
    agent_version: Option<i64>,
) -> Result<i64, PersistError> {
    start_reply_in(pool, id, message_id, reply_to_seq, agent_version)
        .await
        .map_err(unavailable)?
        .ok_or(PersistError::NotFound)
}

/// Stores the end of a reply with the next sequence number, in one statement (one commit).
pub(crate) async fn finish_reply(
    pool: &PgPool,
    id: ConversationId,
    message_id: MessageId,
    text: &str,
    status: MessageStatus,
    charge: Option<Charge>,
) -> Result<i64, PersistError> {
    sqlx::query_scalar(
        "WITH bump AS ( \
             UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() \
             WHERE id = $1 \
               AND EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1 AND id = $2) \
             RETURNING last_seq \
         ) \
         UPDATE messages m SET text = $3, status = $4, usage = $5, end_seq = b.last_seq, \
             completed_at = now(), provider = $6, model = $7, cost_nanos = $8 \
         FROM bump b WHERE m.conversation_id = $1 AND m.id = $2 \
         RETURNING b.last_seq",
    )
    .bind(id.0)
    .bind(message_id.0)
    .bind(text)
    .bind(status.as_str())
    .bind(charge.as_ref().map(|c| sqlx::types::Json(c.usage)))
    .bind(charge.as_ref().map(|c| c.provider.as_str()))
    .bind(charge.as_ref().map(|c| c.model.as_str()))
    .bind(charge.as_ref().map(|c| c.cost_nanos))
    .fetch_optional(pool)
    .await
    .map_err(unavailable)?
    .ok_or(PersistError::NotFound)
}

impl ConversationStore for PgConversationStore {
    fn load(
        &self,
        id: ConversationId,
        history: usize,
    ) -> PortFuture<Result<LoadedConversation, PersistError>> {
        let pool = self.pool.clone();
        // The queries run as their own task, on the runtime, not inside the actor: when a
        // worker stops with a load still waiting, the task (and its pool connection) is dropped
        // by the runtime, never outside it; and the actor waits on a small handle instead of
        // holding the whole query state (~13 KB, heap-profiled) while the load waits its turn.
        spawned(async move {
            let mut tx = pool.begin().await.map_err(unavailable)?;
            let merchant: Uuid = sqlx::query_scalar(
                "SELECT merchant_id FROM conversations WHERE id = $1 FOR UPDATE",
            )
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?
            .ok_or(PersistError::NotFound)?;
            // Replies left streaming by a process that died end now, as interrupted.
            let stale: Vec<Uuid> = sqlx::query_scalar(
                "SELECT id FROM messages WHERE conversation_id = $1 AND status = 'streaming' ORDER BY seq",
            )
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(unavailable)?;
            for message in stale {
                let seq = next_seq(&mut tx, id).await?;
                sqlx::query(
                    "UPDATE messages SET status = 'interrupted', end_seq = $3, completed_at = now() \
                     WHERE conversation_id = $1 AND id = $2",
                )
                .bind(id.0)
                .bind(message)
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
            }
            let last_seq: i64 =
                sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1")
                    .bind(id.0)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(unavailable)?;
            let sql = format!(
                "SELECT * FROM (SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 \
                 AND status <> 'streaming' ORDER BY seq DESC LIMIT $2) m ORDER BY seq"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id.0)
                .bind(i64::try_from(history).unwrap_or(i64::MAX))
                .fetch_all(&mut *tx)
                .await
                .map_err(unavailable)?;
            let recent = rows
                .iter()
                .map(message_from_row)
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            tx.commit().await.map_err(unavailable)?;
            Ok(LoadedConversation {
                merchant_id: MerchantId(merchant),
                last_seq,
                recent,
                state: Default::default(),
            })
        })
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
        text: String,
        status: MessageStatus,
        charges: Vec<Charge>,
        _state: Option<agentpay_actors::conversation::SessionState>,
    ) -> PortFuture<Result<i64, PersistError>> {
        // INTERIM (replaced in this change by the state-persisting write path).
        let writer = self.writer.clone();
        let charge = charges.into_iter().last();
        Box::pin(async move {
            writer
                .finish_reply(id, message_id, text, status, charge)
                .await
        })
    }

    fn save_state(
        &self,
        _id: ConversationId,
        _state: agentpay_actors::conversation::SessionState,
    ) -> PortFuture<Result<(), PersistError>> {
        // INTERIM (replaced in this change by the state-persisting write path).
        Box::pin(async {
            Err(PersistError::Unavailable(
                "state is not persisted yet".into(),
            ))
        })
    }

    fn messages_after(
        &self,
        id: ConversationId,
        after: i64,
        limit: usize,
    ) -> PortFuture<Result<Vec<StoredMessage>, PersistError>> {
        let pool = self.pool.clone();
        spawned(async move {
            list_messages(&pool, id, after, i64::try_from(limit).unwrap_or(i64::MAX))
                .await
                .map_err(unavailable)
        })
    }
}
