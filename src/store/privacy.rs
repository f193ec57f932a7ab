//! A visitor's data: the export and the erasure of one conversation (data-subject requests), and
//! the retention sweep that deletes conversations inactive for longer than the merchant keeps
//! them (`privacy.retention_days`).
//!
//! A conversation holds everything the engine knows about its visitor: its messages, the model
//! calls behind its replies, its session state (cart, products shown) and its handoff requests.
//! Deleting the conversation deletes all of them (foreign keys cascade). Orders are financial
//! records the merchant must keep; they lose their link to the conversation and keep only what
//! was bought and its status.

use crate::store::StoreError;
use agentpay_actors::ids::{ConversationId, MerchantId};
use serde_json::Value;
use sqlx::{PgPool, Row};

/// Everything stored for `merchant`'s conversation `id`, as one JSON document, or `NotFound`.
pub async fn export(
    pool: &PgPool,
    merchant: MerchantId,
    id: ConversationId,
) -> Result<Value, StoreError> {
    let row = sqlx::query(
        "SELECT jsonb_build_object( \
           'exported_at', now(), \
           'conversation', jsonb_build_object('id', c.id, 'merchant_id', c.merchant_id, \
              'origin', c.origin, 'created_at', c.created_at, 'updated_at', c.updated_at, \
              'last_seq', c.last_seq), \
           'session_state', c.state, \
           'messages', COALESCE((SELECT jsonb_agg(jsonb_build_object('seq', m.seq, \
              'end_seq', m.end_seq, 'role', m.role, 'client_id', m.client_id, \
              'reply_to_seq', m.reply_to_seq, 'text', m.text, 'status', m.status, \
              'created_at', m.created_at, 'completed_at', m.completed_at) ORDER BY m.seq) \
              FROM messages m WHERE m.conversation_id = c.id), '[]'::jsonb), \
           'orders', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', o.id, \
              'number', o.number, 'status', o.status, 'currency', o.currency, \
              'total_minor', o.total_minor, 'created_at', o.created_at, 'paid_at', o.paid_at, \
              'lines', COALESCE((SELECT jsonb_agg(jsonb_build_object( \
                 'external_id', l.external_id, 'sku', l.sku, 'title', l.title, \
                 'quantity', l.quantity, 'unit_price_minor', l.unit_price_minor) \
                 ORDER BY l.line_no) FROM order_lines l WHERE l.order_id = o.id), '[]'::jsonb)) \
              ORDER BY o.created_at) FROM orders o WHERE o.conversation_id = c.id), '[]'::jsonb), \
           'handoff_requests', COALESCE((SELECT jsonb_agg(jsonb_build_object( \
              'reason', h.reason, 'message', h.message, 'lang', h.lang, 'status', h.status, \
              'requests', h.requests, 'created_at', h.created_at, 'updated_at', h.updated_at) \
              ORDER BY h.created_at) FROM handoff_requests h WHERE h.conversation_id = c.id), \
              '[]'::jsonb) \
         ) AS doc FROM conversations c WHERE c.id = $1 AND c.merchant_id = $2",
    )
    .bind(id.0)
    .bind(merchant.0)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(row.try_get("doc")?)
}

/// Deletes `merchant`'s conversation `id` and everything of its visitor; `NotFound` when there
/// is no such conversation.
pub async fn erase(
    pool: &PgPool,
    merchant: MerchantId,
    id: ConversationId,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM conversations WHERE id = $1 AND merchant_id = $2")
        .bind(id.0)
        .bind(merchant.0)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes at most `limit` conversations with no activity (no durable event) for `days` days;
/// returns how many. There is deliberately no index on `updated_at`: it changes with every event,
/// and an index would cost every write its heap-only update to save an hourly scan.
pub async fn erase_inactive(pool: &PgPool, days: u32, limit: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations \
         WHERE updated_at < now() - make_interval(days => $1) LIMIT $2)",
    )
    .bind(i32::try_from(days).unwrap_or(i32::MAX))
    .bind(limit)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
