//! Row shapes shared by the reads and the writer: the conversation header and the message row.
//! A leaf: it imports neither side.

use agentpay_actors::ids::{ConversationId, MerchantId, MessageId};
use agentpay_actors::ports::model::Usage;
use agentpay_actors::ports::store::{MessageStatus, PersistError, ReplyMeta, Role, StoredMessage};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Row, postgres::PgRow};

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

/// The columns [`conversation_from_row`] reads.
pub(crate) const CONVERSATION_COLUMNS: &str = "id, merchant_id, last_seq, created_at";

/// Decodes [`CONVERSATION_COLUMNS`].
pub(crate) fn conversation_from_row(row: &PgRow) -> Result<Conversation, sqlx::Error> {
    Ok(Conversation {
        id: ConversationId(row.try_get("id")?),
        merchant_id: MerchantId(row.try_get("merchant_id")?),
        last_seq: row.try_get("last_seq")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The columns [`message_from_row`] reads.
pub(crate) const MESSAGE_COLUMNS: &str = "id, seq, end_seq, role, client_id, reply_to_seq, text, \
     status, usage, agent_version, created_at, meta";

/// Decodes [`MESSAGE_COLUMNS`].
pub(crate) fn message_from_row(row: &PgRow) -> Result<StoredMessage, sqlx::Error> {
    let role: String = row.try_get("role")?;
    let status: String = row.try_get("status")?;
    let usage: Option<sqlx::types::Json<Usage>> = row.try_get("usage")?;
    let meta: Option<sqlx::types::Json<ReplyMeta>> = row.try_get("meta")?;
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
        meta: meta.map(|m| m.0).unwrap_or_default(),
    })
}

/// A database failure as the engine's port sees it.
pub(crate) fn unavailable(e: sqlx::Error) -> PersistError {
    PersistError::Unavailable(e.to_string())
}
