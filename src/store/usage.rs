//! Model usage and cost totals, from the totals stored with each reply (`messages.cost_nanos`,
//! with its usage summed over the turn's model calls). Always scoped to one merchant.
//!
//! A reply's provider and model are those of its turn's last model call, so a turn that called
//! two models is counted under the last one; each call, with its own model, is a row of
//! `model_calls`.

use super::StoreError;
use agentpay_actors::ids::{ConversationId, MerchantId};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Serialize;
use sqlx::{PgPool, Row};

/// Totals of replies, by provider and model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModelTotals {
    /// The provider.
    pub provider: String,
    /// The model.
    pub model: String,
    /// Replies it served.
    pub replies: i64,
    /// Uncached prompt tokens.
    pub input_tokens: i64,
    /// Generated tokens.
    pub output_tokens: i64,
    /// Prompt tokens written into the provider's cache.
    pub cache_write_tokens: i64,
    /// Prompt tokens read from the provider's cache.
    pub cache_read_tokens: i64,
    /// Cost in nano-USD.
    pub cost_nanos: i64,
}

/// The start of `now`'s UTC day and UTC month.
pub fn period_starts(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = now.date_naive();
    let today = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default());
    let first = day.with_day(1).unwrap_or(day);
    let month = Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).unwrap_or_default());
    (today, month)
}

/// What `merchant` spent (nano-USD) since the start of `now`'s UTC day and month.
pub async fn spend_since(
    pool: &PgPool,
    merchant: MerchantId,
    now: DateTime<Utc>,
) -> Result<(i64, i64), StoreError> {
    let (today, month) = period_starts(now);
    let row = sqlx::query(
        "SELECT COALESCE(SUM(m.cost_nanos) FILTER (WHERE m.completed_at >= $2), 0)::int8 AS today, \
                COALESCE(SUM(m.cost_nanos), 0)::int8 AS month \
         FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE c.merchant_id = $1 AND m.cost_nanos IS NOT NULL AND m.completed_at >= $3",
    )
    .bind(merchant.0)
    .bind(today)
    .bind(month)
    .fetch_one(pool)
    .await?;
    Ok((row.try_get("today")?, row.try_get("month")?))
}

/// Totals per provider and model, over the calls of `model_calls k`: a reply whose turn called
/// two models (the `fast` one to classify, the `main` one to answer) counts under both.
const TOTALS: &str = "k.provider AS provider, k.model AS model, \
     count(DISTINCT k.message_id)::int8 AS replies, \
     COALESCE(SUM(k.input_tokens), 0)::int8 AS input_tokens, \
     COALESCE(SUM(k.output_tokens), 0)::int8 AS output_tokens, \
     COALESCE(SUM(k.cache_write_tokens), 0)::int8 AS cache_write_tokens, \
     COALESCE(SUM(k.cache_read_tokens), 0)::int8 AS cache_read_tokens, \
     COALESCE(SUM(k.cost_nanos), 0)::int8 AS cost_nanos";

fn totals_from(rows: &[sqlx::postgres::PgRow]) -> Result<Vec<ModelTotals>, sqlx::Error> {
    rows.iter()
        .map(|r| {
            Ok(ModelTotals {
                provider: r.try_get("provider")?,
                model: r.try_get("model")?,
                replies: r.try_get("replies")?,
                input_tokens: r.try_get("input_tokens")?,
                output_tokens: r.try_get("output_tokens")?,
                cache_write_tokens: r.try_get("cache_write_tokens")?,
                cache_read_tokens: r.try_get("cache_read_tokens")?,
                cost_nanos: r.try_get("cost_nanos")?,
            })
        })
        .collect()
}

/// `merchant`'s model calls made in `[from, to)`, by provider and model.
pub async fn merchant_totals(
    pool: &PgPool,
    merchant: MerchantId,
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
) -> Result<Vec<ModelTotals>, StoreError> {
    let sql = format!(
        "SELECT {TOTALS} FROM model_calls k \
         WHERE k.merchant_id = $1 \
           AND ($2::timestamptz IS NULL OR k.created_at >= $2) AND k.created_at < $3 \
         GROUP BY 1, 2 ORDER BY 1, 2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(merchant.0)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
    Ok(totals_from(&rows)?)
}

/// One conversation's replies, by provider and model; `NotFound` when it is not `merchant`'s.
pub async fn conversation_totals(
    pool: &PgPool,
    merchant: MerchantId,
    conversation: ConversationId,
) -> Result<Vec<ModelTotals>, StoreError> {
    let owned: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM conversations WHERE id = $1 AND merchant_id = $2")
            .bind(conversation.0)
            .bind(merchant.0)
            .fetch_optional(pool)
            .await?;
    if owned.is_none() {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "SELECT {TOTALS} FROM model_calls k \
         WHERE k.conversation_id = $1 GROUP BY 1, 2 ORDER BY 1, 2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(conversation.0)
        .fetch_all(pool)
        .await?;
    Ok(totals_from(&rows)?)
}
