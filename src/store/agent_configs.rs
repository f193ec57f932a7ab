//! Merchants' agent configurations: versioned JSON documents, one per merchant.

use super::StoreError;
use agentpay_actors::agent::AgentConfig;
use agentpay_actors::ids::MerchantId;
use agentpay_actors::merchant::{AgentConfigStore, AgentSnapshot};
use agentpay_actors::ports::PortFuture;
use agentpay_actors::ports::store::PersistError;
use sqlx::{PgPool, Row};

/// The merchant's snapshot: its name and configuration (defaults, version 0, when never saved).
pub async fn load(pool: &PgPool, merchant: MerchantId) -> Result<AgentSnapshot, StoreError> {
    let row = sqlx::query(
        "SELECT m.name, c.config, c.version FROM merchants m \
         LEFT JOIN agent_configs c ON c.merchant_id = m.id WHERE m.id = $1",
    )
    .bind(merchant.0)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    let config: Option<sqlx::types::Json<AgentConfig>> = row.try_get("config")?;
    let version: Option<i64> = row.try_get("version")?;
    Ok(AgentSnapshot {
        version: version.unwrap_or(0),
        store_name: row.try_get("name")?,
        config: config.map(|c| c.0).unwrap_or_default(),
    })
}

/// Replaces a merchant's configuration (already validated); returns the new version.
pub async fn save(
    pool: &PgPool,
    merchant: MerchantId,
    config: &AgentConfig,
) -> Result<i64, StoreError> {
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO agent_configs (merchant_id, config, version) VALUES ($1, $2, 1) \
         ON CONFLICT (merchant_id) DO UPDATE SET config = EXCLUDED.config, \
           version = agent_configs.version + 1, updated_at = now() \
         RETURNING version",
    )
    .bind(merchant.0)
    .bind(sqlx::types::Json(config))
    .fetch_one(pool)
    .await?;
    Ok(version)
}

/// The engine's `AgentConfigStore` on Postgres.
#[derive(Clone)]
pub struct PgAgentConfigStore {
    /// The pool.
    pub pool: PgPool,
}

impl AgentConfigStore for PgAgentConfigStore {
    fn load(&self, merchant: MerchantId) -> PortFuture<Result<AgentSnapshot, PersistError>> {
        let pool = self.pool.clone();
        Box::pin(async move {
            load(&pool, merchant).await.map_err(|e| match e {
                StoreError::NotFound => PersistError::NotFound,
                other => PersistError::Unavailable(other.to_string()),
            })
        })
    }
}
