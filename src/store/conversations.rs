//! Conversations and messages in Postgres: the `ConversationStore` port for the engine, and the
//! queries the HTTP edge needs (create, authorise, list).
//!
//! Sequence numbers come from `conversations.last_seq`, incremented in the same transaction as
//! the message write, so they are gap-free per conversation and strictly ordered. The row lock
//! taken by that `UPDATE` also serialises concurrent writers to one conversation.

use super::StoreError;
use agentpay_actors::ids::{ConversationId, MerchantId, MessageId};
use agentpay_actors::ports::PortFuture;
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

fn conversation_from_row(row: &PgRow) -> Result<Conversation, sqlx::Error> {
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
}

impl PgConversationStore {
    /// A store on this pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
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

/// Inside `tx`: stores a user message with the next sequence number, or finds the message
/// already stored under `client_id` (the conversation row is locked first, so a concurrent
/// duplicate waits and then sees the first one). The caller rolls back on a duplicate.
async fn insert_user_message(
    tx: &mut Transaction<'_, Postgres>,
    id: ConversationId,
    message_id: MessageId,
    client_id: &str,
    text: &str,
) -> Result<AppendOutcome, PersistError> {
    let seq = next_seq(tx, id).await?;
    let existing: Option<(i64, Uuid)> = sqlx::query_as(
        "SELECT seq, id FROM messages WHERE conversation_id = $1 AND client_id = $2",
    )
    .bind(id.0)
    .bind(client_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(unavailable)?;
    if let Some((seq, existing_id)) = existing {
        return Ok(AppendOutcome::Duplicate {
            seq,
            message_id: MessageId(existing_id),
        });
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
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    Ok(AppendOutcome::Stored { seq, message_id })
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

impl ConversationStore for PgConversationStore {
    fn load(
        &self,
        id: ConversationId,
        history: usize,
    ) -> PortFuture<Result<LoadedConversation, PersistError>> {
        let pool = self.pool.clone();
        Box::pin(async move {
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
        let pool = self.pool.clone();
        Box::pin(async move {
            let mut tx = pool.begin().await.map_err(unavailable)?;
            let outcome = insert_user_message(&mut tx, id, message_id, &client_id, &text).await?;
            // A duplicate rolls back, returning the sequence number it took.
            match outcome {
                AppendOutcome::Stored { .. } => tx.commit().await.map_err(unavailable)?,
                AppendOutcome::Duplicate { .. } => tx.rollback().await.map_err(unavailable)?,
            }
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
        let pool = self.pool.clone();
        Box::pin(async move {
            let mut tx = pool.begin().await.map_err(unavailable)?;
            let outcome = insert_user_message(&mut tx, id, message_id, &client_id, &text).await?;
            let AppendOutcome::Stored { seq, .. } = outcome else {
                tx.rollback().await.map_err(unavailable)?;
                return Ok((outcome, None));
            };
            let reply_seq = insert_reply_start(&mut tx, id, reply_id, seq, agent_version).await?;
            tx.commit().await.map_err(unavailable)?;
            Ok((outcome, Some(reply_seq)))
        })
    }

    fn start_assistant_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        reply_to_seq: i64,
        agent_version: Option<i64>,
    ) -> PortFuture<Result<i64, PersistError>> {
        let pool = self.pool.clone();
        Box::pin(async move {
            let mut tx = pool.begin().await.map_err(unavailable)?;
            let seq =
                insert_reply_start(&mut tx, id, message_id, reply_to_seq, agent_version).await?;
            tx.commit().await.map_err(unavailable)?;
            Ok(seq)
        })
    }

    fn finish_assistant_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        text: String,
        status: MessageStatus,
        usage: Option<Usage>,
    ) -> PortFuture<Result<i64, PersistError>> {
        let pool = self.pool.clone();
        Box::pin(async move {
            let mut tx = pool.begin().await.map_err(unavailable)?;
            let seq = next_seq(&mut tx, id).await?;
            sqlx::query(
                "UPDATE messages SET text = $3, status = $4, usage = $5, end_seq = $6, completed_at = now() \
                 WHERE conversation_id = $1 AND id = $2",
            )
            .bind(id.0)
            .bind(message_id.0)
            .bind(&text)
            .bind(status.as_str())
            .bind(usage.map(sqlx::types::Json))
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
            tx.commit().await.map_err(unavailable)?;
            Ok(seq)
        })
    }

    fn messages_after(
        &self,
        id: ConversationId,
        after: i64,
        limit: usize,
    ) -> PortFuture<Result<Vec<StoredMessage>, PersistError>> {
        let pool = self.pool.clone();
        Box::pin(async move {
            list_messages(&pool, id, after, i64::try_from(limit).unwrap_or(i64::MAX))
                .await
                .map_err(unavailable)
        })
    }
}
