//! Conversation reads: an actor's load, the messages after a sequence number, a conversation
//! with its visitor token digest, the reply to a message. Writes go through
//! [`super::writer`]; the one exception is `load`'s closing of replies a dead process left
//! streaming (see [`load`]).

use super::rows::{
    CONVERSATION_COLUMNS, Conversation, MESSAGE_COLUMNS, conversation_from_row, message_from_row,
    unavailable,
};
use crate::store::StoreError;
use agentpay_actors::conversation::SessionState;
use agentpay_actors::ids::{ConversationId, MerchantId};
use agentpay_actors::ports::store::{LoadedConversation, PersistError, StoredMessage};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Row, Transaction};
use uuid::Uuid;

/// What authorising access to a conversation needs, read in one query.
#[derive(Debug, Clone)]
pub struct ConversationAccess {
    /// The conversation.
    pub conversation: Conversation,
    /// Its visitor token's SHA-256 digest.
    pub token_hash: Vec<u8>,
    /// Its merchant's allowed browser origins (empty: any).
    pub allowed_origins: Vec<String>,
}

/// One conversation, with its visitor token digest and its merchant's allowed origins (for
/// authorisation by the caller), in one query.
pub async fn get_with_token(
    pool: &PgPool,
    id: ConversationId,
) -> Result<ConversationAccess, StoreError> {
    let columns: Vec<String> = CONVERSATION_COLUMNS
        .split(", ")
        .map(|c| format!("c.{c}"))
        .collect();
    let sql = format!(
        "SELECT {}, c.visitor_token_hash, m.allowed_origins FROM conversations c \
         JOIN merchants m ON m.id = c.merchant_id WHERE c.id = $1",
        columns.join(", ")
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(ConversationAccess {
        conversation: conversation_from_row(&row)?,
        token_hash: row.try_get("visitor_token_hash")?,
        allowed_origins: row.try_get("allowed_origins")?,
    })
}

/// Messages with an event after `after` (`seq > after` or `end_seq > after`), by sequence, at
/// most `limit`.
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

/// Loads a conversation for its actor: merchant, last sequence number, the `history` most
/// recent finished messages and the session state.
///
/// Replies a dead process left `streaming` are closed first, as interrupted, each taking an end
/// sequence number, so a resuming client sees them end. That is the one conversation write
/// outside the writer: it runs before the actor's first write, under the conversation's row
/// lock, and is rare; putting it in a lane would hold the lane for a multi-statement read.
pub async fn load(
    pool: &PgPool,
    id: ConversationId,
    history: usize,
) -> Result<LoadedConversation, PersistError> {
    let mut tx = pool.begin().await.map_err(unavailable)?;
    let (merchant, state): (Uuid, Json<serde_json::Value>) =
        sqlx::query_as("SELECT merchant_id, state FROM conversations WHERE id = $1 FOR UPDATE")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?
            .ok_or(PersistError::NotFound)?;
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
    let last_seq: i64 = sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1")
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
        state: session_state(id, state.0),
    })
}

/// The stored session state document as a [`SessionState`]. A document that does not parse
/// (written by a newer version, or edited by hand) loads as the empty state, logged here once
/// per load: losing a cart is better than a conversation that cannot start. The next state
/// written replaces it.
fn session_state(id: ConversationId, document: serde_json::Value) -> SessionState {
    match serde_json::from_value(document) {
        Ok(state) => state,
        Err(e) => {
            tracing::warn!(
                conversation_id = %id,
                error = %e,
                "the stored session state does not parse; the conversation starts with an empty one"
            );
            SessionState::default()
        }
    }
}

/// Inside `tx`: takes the next sequence number (the row is already locked by `load`).
async fn next_seq(
    tx: &mut Transaction<'_, Postgres>,
    id: ConversationId,
) -> Result<i64, PersistError> {
    sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 \
         RETURNING last_seq",
    )
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await
    .map_err(unavailable)?
    .ok_or(PersistError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_document_that_does_not_parse_loads_as_the_empty_state() {
        let id = ConversationId::new_random();
        let bad = serde_json::json!({"cart": {"lines": "not a list"}});
        assert_eq!(session_state(id, bad), SessionState::default());
        assert_eq!(
            session_state(id, serde_json::Value::Null),
            SessionState::default()
        );
        // Fields of a newer version are ignored; missing ones take their defaults.
        let newer = serde_json::json!({"last_shown": [], "wishlist": ["x"]});
        assert_eq!(session_state(id, newer), SessionState::default());
    }
}
