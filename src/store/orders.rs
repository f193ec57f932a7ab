//! Orders and payment events in Postgres.
//!
//! [`apply_event`] is the one path every provider event takes, in one transaction: the event id
//! is recorded first (a redelivery finds it and changes nothing), then its order is found (by our
//! id in the session's metadata, the provider's session id, or the payment id) and locked, and
//! its status moves by [`OrderStatus::then`], so any number of deliveries in any order reach the
//! same final status. An event whose order is not known yet (a refund delivered before the
//! payment that names its payment id) is kept `unmatched` and applied when an event names both
//! the order and that payment.

use super::StoreError;
use crate::payments::events::{Effect, OrderRef, ProviderEvent};
use agentpay_actors::ids::{ConversationId, MerchantId};
use agentpay_actors::order::OrderStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Row, Transaction};

/// An order as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// Our id.
    pub id: uuid::Uuid,
    /// Its number ("order 1042").
    pub number: i64,
    /// The merchant.
    pub merchant_id: uuid::Uuid,
    /// The conversation it came from.
    pub conversation_id: Option<uuid::Uuid>,
    /// Its status.
    pub status: OrderStatus,
    /// ISO 4217.
    pub currency: String,
    /// Its total, in minor units.
    pub total_minor: i64,
    /// The payment provider.
    pub provider: String,
    /// The payment page, while open.
    pub checkout_url: Option<String>,
    /// When the payment page expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
}

const ORDER_COLUMNS: &str = "id, number, merchant_id, conversation_id, status, currency, \
     total_minor, provider, checkout_url, expires_at, created_at, paid_at";

fn order_from(r: &sqlx::postgres::PgRow) -> Result<Order, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(Order {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        merchant_id: r.try_get("merchant_id")?,
        conversation_id: r.try_get("conversation_id")?,
        status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Open),
        currency: r.try_get("currency")?,
        total_minor: r.try_get("total_minor")?,
        provider: r.try_get("provider")?,
        checkout_url: r.try_get("checkout_url")?,
        expires_at: r.try_get("expires_at")?,
        created_at: r.try_get("created_at")?,
        paid_at: r.try_get("paid_at")?,
    })
}

/// One line of a new order, at the price charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    /// The product.
    pub external_id: String,
    /// The variant.
    pub sku: Option<String>,
    /// Its title.
    pub title: String,
    /// Units.
    pub quantity: u32,
    /// The unit price, in minor units.
    pub unit_price_minor: i64,
}

/// Stores a new open order of `lines` in `currency` for `merchant`'s `conversation`.
pub async fn create(
    pool: &PgPool,
    merchant: MerchantId,
    conversation: Option<ConversationId>,
    currency: &str,
    provider: &str,
    lines: &[NewLine],
) -> Result<Order, StoreError> {
    let total: i64 = lines
        .iter()
        .map(|l| l.unit_price_minor * i64::from(l.quantity))
        .sum();
    let mut tx = pool.begin().await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO orders (id, merchant_id, conversation_id, currency, total_minor, provider) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ORDER_COLUMNS}"
    )))
    .bind(uuid::Uuid::new_v4())
    .bind(merchant.0)
    .bind(conversation.map(|c| c.0))
    .bind(currency)
    .bind(total)
    .bind(provider)
    .fetch_one(&mut *tx)
    .await?;
    let order = order_from(&row)?;
    for (i, l) in lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_lines (order_id, line_no, external_id, sku, title, quantity, \
             unit_price_minor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(order.id)
        .bind(i32::try_from(i).unwrap_or(i32::MAX))
        .bind(&l.external_id)
        .bind(&l.sku)
        .bind(&l.title)
        .bind(i32::try_from(l.quantity).unwrap_or(i32::MAX))
        .bind(l.unit_price_minor)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(order)
}

/// Records the provider's checkout session of `order`.
pub async fn attach_session(
    pool: &PgPool,
    order: uuid::Uuid,
    session_id: &str,
    url: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE orders SET provider_session_id = $2, checkout_url = $3, expires_at = $4, \
         updated_at = now() WHERE id = $1",
    )
    .bind(order)
    .bind(session_id)
    .bind(url)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Cancels open order `id` whose payment page could not be made (it can never be paid).
pub async fn abandon(pool: &PgPool, id: uuid::Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE orders SET status = 'canceled', updated_at = now() WHERE id = $1 AND status = 'open'",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// `merchant`'s order `id`.
pub async fn find(
    pool: &PgPool,
    merchant: MerchantId,
    id: uuid::Uuid,
) -> Result<Order, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 AND merchant_id = $2"
    )))
    .bind(id)
    .bind(merchant.0)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(order_from(&row)?)
}

/// Order `id`, whoever's it is (its payment page is reached by its unguessable id).
pub async fn find_any(pool: &PgPool, id: uuid::Uuid) -> Result<Order, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(order_from(&row)?)
}

/// The lines of order `id`, in order.
pub async fn lines(pool: &PgPool, id: uuid::Uuid) -> Result<Vec<NewLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT external_id, sku, title, quantity, unit_price_minor FROM order_lines \
         WHERE order_id = $1 ORDER BY line_no",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(NewLine {
                external_id: r.try_get("external_id")?,
                sku: r.try_get("sku")?,
                title: r.try_get("title")?,
                quantity: u32::try_from(r.try_get::<i32, _>("quantity")?).unwrap_or(0),
                unit_price_minor: r.try_get("unit_price_minor")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// `merchant`'s orders, newest first, at most `limit`.
pub async fn list(
    pool: &PgPool,
    merchant: MerchantId,
    limit: i64,
) -> Result<Vec<Order>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE merchant_id = $1 \
         ORDER BY created_at DESC LIMIT $2"
    )))
    .bind(merchant.0)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(order_from).collect::<Result<_, _>>()?)
}

/// What applying an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The event was seen before: nothing changed.
    Duplicate,
    /// The engine does not act on its type.
    Ignored,
    /// Its order is not known (yet): kept to apply later.
    Unmatched,
    /// Its order's status stands (the event changes nothing, e.g. an expiry after payment).
    Unchanged {
        /// The order.
        order: Order,
    },
    /// Its order moved.
    Changed {
        /// The order after the event.
        order: Order,
        /// The status before.
        from: OrderStatus,
    },
    /// A connected account's readiness was recorded.
    Account,
}

impl Applied {
    /// Its metrics label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Unmatched => "unmatched",
            Self::Unchanged { .. } => "unchanged",
            Self::Changed { .. } => "applied",
            Self::Account => "account",
        }
    }
}

/// Finds and locks the order `r` names.
/// An event from a connected `account` (Connect) only finds orders of the merchant that account
/// belongs to.
async fn lock_order(
    tx: &mut Transaction<'_, Postgres>,
    r: &OrderRef,
    account: Option<&str>,
) -> Result<Option<Order>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders \
         WHERE (id = $1 OR provider_session_id = $2 OR payment_intent_id = $3) \
         AND ($4::text IS NULL OR merchant_id = \
              (SELECT merchant_id FROM payment_accounts WHERE account_id = $4)) \
         ORDER BY (id = $1) DESC NULLS LAST LIMIT 1 FOR UPDATE"
    )))
    .bind(r.order_id)
    .bind(&r.session_id)
    .bind(&r.payment_intent)
    .bind(account)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(order_from).transpose()
}

/// Applies `event` from `provider` (see the module docs).
pub async fn apply_event(
    pool: &PgPool,
    provider: &str,
    event: &ProviderEvent,
) -> Result<Applied, StoreError> {
    let mut tx = pool.begin().await?;
    let fresh = sqlx::query(
        "INSERT INTO payment_events (provider, event_id, type, outcome) VALUES ($1, $2, $3, 'received') \
         ON CONFLICT DO NOTHING",
    )
    .bind(provider)
    .bind(&event.id)
    .bind(&event.kind)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        return Ok(Applied::Duplicate);
    }
    let record = |outcome: &'static str, order: Option<uuid::Uuid>| {
        sqlx::query(
            "UPDATE payment_events SET outcome = $3, order_id = $4 \
             WHERE provider = $1 AND event_id = $2",
        )
        .bind(provider)
        .bind(&event.id)
        .bind(outcome)
        .bind(order)
    };
    let applied = match &event.effect {
        Effect::Ignored => Applied::Ignored,
        Effect::Account {
            account_id,
            charges_enabled,
            details_submitted,
        } => {
            sqlx::query(
                "UPDATE payment_accounts SET charges_enabled = $2, details_submitted = $3, \
                 updated_at = now() WHERE account_id = $1",
            )
            .bind(account_id)
            .bind(charges_enabled)
            .bind(details_submitted)
            .execute(&mut *tx)
            .await?;
            Applied::Account
        }
        Effect::Order { order: r, status } => {
            match lock_order(&mut tx, r, event.account.as_deref()).await? {
                None => {
                    sqlx::query(
                        "UPDATE payment_events SET outcome = 'unmatched', pending_status = $3, \
                     payment_intent = $4, account = $5 WHERE provider = $1 AND event_id = $2",
                    )
                    .bind(provider)
                    .bind(&event.id)
                    .bind(status.map(OrderStatus::as_str))
                    .bind(&r.payment_intent)
                    .bind(&event.account)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    return Ok(Applied::Unmatched);
                }
                Some(order) => {
                    let from = order.status;
                    let mut to = status.map_or(from, |s| from.then(s));
                    // Events that named this payment before its order was known.
                    if let Some(pi) = &r.payment_intent {
                        let pending: Vec<(String, String)> = sqlx::query_as(
                            "UPDATE payment_events SET outcome = 'applied', order_id = $2 \
                         WHERE outcome = 'unmatched' AND payment_intent = $1 AND provider = $3 \
                         AND (account IS NULL OR account = \
                         (SELECT account_id FROM payment_accounts WHERE merchant_id = $4)) \
                         RETURNING event_id, COALESCE(pending_status, '')",
                        )
                        .bind(pi)
                        .bind(order.id)
                        .bind(provider)
                        .bind(order.merchant_id)
                        .fetch_all(&mut *tx)
                        .await?;
                        for (_, s) in pending {
                            if let Some(s) = OrderStatus::parse(&s) {
                                to = to.then(s);
                            }
                        }
                    }
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE orders SET status = $2, \
                     payment_intent_id = COALESCE(payment_intent_id, $3), \
                     paid_at = CASE WHEN $2 = 'paid' AND paid_at IS NULL THEN now() ELSE paid_at END, \
                     updated_at = now() WHERE id = $1 RETURNING {ORDER_COLUMNS}"
                )))
                .bind(order.id)
                .bind(to.as_str())
                .bind(&r.payment_intent)
                .fetch_one(&mut *tx)
                .await?;
                    let order = order_from(&row)?;
                    if to == from {
                        Applied::Unchanged { order }
                    } else {
                        Applied::Changed { order, from }
                    }
                }
            }
        }
    };
    let order_id = match &applied {
        Applied::Unchanged { order } | Applied::Changed { order, .. } => Some(order.id),
        _ => None,
    };
    record(applied.as_str(), order_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(applied)
}

/// The agent's view of orders (the `order_status` intent and tool): a merchant's order by its
/// number.
#[derive(Clone)]
pub struct PgOrderBook {
    pool: PgPool,
}

impl PgOrderBook {
    /// Orders read from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl agentpay_actors::ports::OrderBook for PgOrderBook {
    fn find(
        &self,
        merchant: MerchantId,
        number: String,
    ) -> agentpay_actors::ports::PortFuture<
        Result<
            Option<agentpay_actors::ports::OrderSummary>,
            agentpay_actors::ports::store::PersistError,
        >,
    > {
        let pool = self.pool.clone();
        Box::pin(async move {
            let digits: String = number.chars().filter(char::is_ascii_digit).collect();
            let Ok(n) = digits.parse::<i64>() else {
                return Ok(None);
            };
            let row = sqlx::query(
                "SELECT number, status, currency, total_minor FROM orders \
                 WHERE merchant_id = $1 AND number = $2",
            )
            .bind(merchant.0)
            .bind(n)
            .fetch_optional(&pool)
            .await
            .map_err(|e| agentpay_actors::ports::store::PersistError::Unavailable(e.to_string()))?;
            let Some(r) = row else { return Ok(None) };
            let currency: String = r.try_get("currency").unwrap_or_default();
            let total = agentpay_actors::money::Money {
                amount_minor: r.try_get("total_minor").unwrap_or(0),
                currency: currency.parse().map_err(|_| {
                    agentpay_actors::ports::store::PersistError::Unavailable("bad currency".into())
                })?,
            };
            Ok(Some(agentpay_actors::ports::OrderSummary {
                number: r.try_get::<i64, _>("number").unwrap_or(n).to_string(),
                status: r.try_get("status").unwrap_or_default(),
                total,
            }))
        })
    }
}
