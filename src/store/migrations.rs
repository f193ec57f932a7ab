//! The schema migrations, compiled into the binary from `migrations/`.
//!
//! They are listed by hand rather than with `sqlx::migrate!()` so the build does not compile
//! sqlx's proc-macro crate (and a second copy of sqlx-core for it). A unit test checks the list
//! matches the folder, so a new file cannot be forgotten.

use anyhow::Context;
use sqlx::PgPool;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

/// (version, description, SQL) of every migration, in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "merchants and keys",
        include_str!("../../migrations/0001_merchants_and_keys.sql"),
    ),
    (
        2,
        "conversations",
        include_str!("../../migrations/0002_conversations.sql"),
    ),
    (
        3,
        "agent configs",
        include_str!("../../migrations/0003_agent_configs.sql"),
    ),
    (
        4,
        "model costs",
        include_str!("../../migrations/0004_model_costs.sql"),
    ),
    (
        5,
        "catalog",
        include_str!("../../migrations/0005_catalog.sql"),
    ),
    (
        6,
        "session state and model calls",
        include_str!("../../migrations/0006_session_state_and_model_calls.sql"),
    ),
    (
        7,
        "reply meta and handoffs",
        include_str!("../../migrations/0007_reply_meta_and_handoffs.sql"),
    ),
    (
        8,
        "orders and payments",
        include_str!("../../migrations/0008_orders_and_payments.sql"),
    ),
    (
        9,
        "checkout settings",
        include_str!("../../migrations/0009_checkout_settings.sql"),
    ),
];

/// The migrator over [`MIGRATIONS`].
pub fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    (*description).into(),
                    MigrationType::Simple,
                    AssertSqlSafe(*sql).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The versions this binary expects to find applied.
pub fn expected_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|(v, _, _)| *v).collect()
}

/// Applies pending migrations (under Postgres' advisory lock, so concurrent starts are safe).
pub async fn run(pool: &PgPool) -> anyhow::Result<()> {
    migrator()
        .run(pool)
        .await
        .context("failed to apply database migrations")
}

/// True when every migration of this binary is applied successfully.
pub async fn all_applied(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let applied: Vec<i64> = match sqlx::query_scalar(
        "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(pool)
    .await
    {
        Ok(v) => v,
        // 42P01: the migrations table does not exist yet, so nothing is applied.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => return Ok(false),
        Err(e) => return Err(e),
    };
    Ok(expected_versions().iter().all(|v| applied.contains(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_migrations_folder_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        assert_eq!(files.len(), MIGRATIONS.len(), "{files:?}");
        for (file, (version, _, _)) in files.iter().zip(MIGRATIONS) {
            let prefix: i64 = file.split('_').next().unwrap().parse().unwrap();
            assert_eq!(prefix, *version, "{file}");
        }
    }
}
