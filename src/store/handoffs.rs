//! Handoff requests in Postgres: a visitor's request for a person, one open request per
//! conversation (a repeated request updates it and counts it). The operator side that lists and
//! closes them comes later; until then they are in the `handoff_requests` table.

use agentpay_actors::ports::store::PersistError;
use agentpay_actors::ports::{HandoffRequest, PortFuture, SupportDesk};
use sqlx::PgPool;

/// The [`SupportDesk`] over Postgres.
#[derive(Clone)]
pub struct PgSupportDesk {
    pool: PgPool,
}

impl PgSupportDesk {
    /// A desk writing to `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl SupportDesk for PgSupportDesk {
    fn request_handoff(&self, r: HandoffRequest) -> PortFuture<Result<(), PersistError>> {
        let pool = self.pool.clone();
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO handoff_requests (merchant_id, conversation_id, reason, message, lang) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (conversation_id) WHERE status = 'open' DO UPDATE \
                 SET reason = EXCLUDED.reason, message = EXCLUDED.message, \
                     lang = EXCLUDED.lang, requests = handoff_requests.requests + 1, \
                     updated_at = now()",
            )
            .bind(r.merchant.0)
            .bind(r.conversation.0)
            .bind(&r.reason)
            .bind(&r.message)
            .bind(&r.lang)
            .execute(&pool)
            .await
            .map(|_| ())
            .map_err(|e| PersistError::Unavailable(e.to_string()))
        })
    }
}
