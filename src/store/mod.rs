//! Postgres access (sqlx): the pool, migrations, and one module of queries per aggregate.
//!
//! Handlers and the CLI never write SQL; they call the functions here. Every query that belongs
//! to a merchant takes its `MerchantId` and filters on it, so tenant isolation is enforced where
//! the data is read, not by callers remembering to check.

pub mod agent_configs;
pub mod conversations;
pub mod demo;
pub mod handoffs;
pub mod merchants;
pub mod migrations;
pub mod orders;
pub mod payment_accounts;
pub mod privacy;
pub mod products;
pub mod usage;

/// The group-commit writer of conversation writes, also reachable here (startup builds it, the
/// HTTP edge creates conversations through it).
pub use conversations::writer;

use crate::config::{DatabaseSettings, Secret, redact_database_url};
use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use std::str::FromStr;
use std::time::Duration;

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row matched (or it belongs to another merchant, which callers must not distinguish).
    #[error("not found")]
    NotFound,
    /// A uniqueness or state rule refused the change.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Builds connection options from `DATABASE_URL` and the settings.
pub fn connect_options(
    url: &Secret,
    settings: &DatabaseSettings,
) -> anyhow::Result<PgConnectOptions> {
    let mut opts = PgConnectOptions::from_str(url.expose()).with_context(|| {
        format!(
            "DATABASE_URL is not a valid Postgres URL ({})",
            redact_database_url(url.expose())
        )
    })?;
    opts = opts
        .application_name("agentpay")
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
    if settings.statement_timeout_ms > 0 {
        opts = opts.options([(
            "statement_timeout",
            settings.statement_timeout_ms.to_string(),
        )]);
    }
    Ok(opts)
}

/// A pooled connection idle longer than this is pinged before it is handed out.
const IDLE_PING_AFTER: Duration = Duration::from_secs(1);

/// Opens the pool and checks the database answers. Fails with a message naming the (redacted)
/// URL when it does not.
pub async fn connect(url: &Secret, settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    let opts = connect_options(url, settings)?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .min_connections(settings.min_connections)
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
        // A connection used within the last second is handed out as is; only one that sat idle
        // longer is pinged first. sqlx's default pings before every acquire: one extra round
        // trip (two context switches) per query, measured as the largest kernel cost of a turn.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_PING_AFTER {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(opts);
    let redacted = redact_database_url(url.expose());
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .with_context(|| format!("database unreachable at {redacted}"))?;
    Ok(pool)
}

/// Fails with a clear message unless the pgvector extension is available to this database.
pub async fn check_vector_available(pool: &PgPool) -> anyhow::Result<()> {
    let available: Option<String> = sqlx::query_scalar(
        "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'",
    )
    .fetch_optional(pool)
    .await
    .context("failed to list the database's available extensions")?;
    if available.is_none() {
        bail!(
            "the Postgres server has no `vector` extension (pgvector). Install pgvector 0.8 on the \
             server, or use the local Postgres from `scripts/pg.sh start`"
        );
    }
    Ok(())
}

/// Fails with a clear message unless the pgvector extension is installed in this database.
pub async fn check_vector_installed(pool: &PgPool) -> anyhow::Result<()> {
    let installed: Option<String> =
        sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            .fetch_optional(pool)
            .await
            .context("failed to list the database's installed extensions")?;
    if installed.is_none() {
        bail!(
            "the `vector` extension (pgvector) is not installed in this database. Run \
             `agentpay migrate` (it creates it), or `CREATE EXTENSION vector` as a superuser"
        );
    }
    Ok(())
}
