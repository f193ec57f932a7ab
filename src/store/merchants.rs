//! Queries on `merchants` and `api_keys`. Every key query is scoped by merchant id.

use super::StoreError;
use crate::merchants::{ApiKeyInfo, KeyKind, KeyMaterial, Merchant};
use agentpay_actors::{ApiKeyId, Currency, MerchantId};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row, postgres::PgRow};
use uuid::Uuid;

fn merchant_from_row(row: &PgRow) -> Result<Merchant, StoreError> {
    let currency: String = row.try_get("currency")?;
    Ok(Merchant {
        id: MerchantId(row.try_get("id")?),
        name: row.try_get("name")?,
        currency: currency
            .parse::<Currency>()
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?,
        allowed_origins: row.try_get("allowed_origins")?,
        catalog_language: row.try_get("catalog_language")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn key_from_row(row: &PgRow) -> Result<ApiKeyInfo, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(ApiKeyInfo {
        id: ApiKeyId(row.try_get("id")?),
        kind: KeyKind::from_db(&kind).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Decode(
                format!("unknown key kind {kind}").into(),
            ))
        })?,
        prefix: row.try_get("key_prefix")?,
        label: row.try_get("label")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Inserts a merchant and its first two keys in one transaction.
pub async fn insert_with_keys(
    pool: &PgPool,
    name: &str,
    currency: Currency,
    origins: &[String],
    secret: &KeyMaterial,
    publishable: &KeyMaterial,
) -> Result<(Merchant, ApiKeyInfo, ApiKeyInfo), StoreError> {
    let mut tx = pool.begin().await?;
    let id = Uuid::new_v4();
    let row = sqlx::query(
        "INSERT INTO merchants (id, name, currency, allowed_origins) VALUES ($1, $2, $3, $4) \
         RETURNING id, name, currency, allowed_origins, catalog_language::text AS catalog_language, created_at, updated_at",
    )
    .bind(id)
    .bind(name)
    .bind(currency.code())
    .bind(origins)
    .fetch_one(&mut *tx)
    .await?;
    let merchant = merchant_from_row(&row)?;
    let mut infos = Vec::with_capacity(2);
    for (kind, material) in [
        (KeyKind::Secret, secret),
        (KeyKind::Publishable, publishable),
    ] {
        let row = sqlx::query(
            "INSERT INTO api_keys (id, merchant_id, kind, key_prefix, key_hash) \
             VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, kind, key_prefix, label, created_at, revoked_at",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(kind.as_str())
        .bind(&material.prefix)
        .bind(&material.hash[..])
        .fetch_one(&mut *tx)
        .await?;
        infos.push(key_from_row(&row)?);
    }
    tx.commit().await?;
    let publishable_info = infos.pop().ok_or(StoreError::NotFound)?;
    let secret_info = infos.pop().ok_or(StoreError::NotFound)?;
    Ok((merchant, secret_info, publishable_info))
}

/// One merchant by id.
pub async fn get(pool: &PgPool, id: MerchantId) -> Result<Merchant, StoreError> {
    let row = sqlx::query("SELECT id, name, currency, allowed_origins, catalog_language::text AS catalog_language, created_at, updated_at FROM merchants WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    merchant_from_row(&row)
}

/// Every merchant, oldest first (operators' listing).
pub async fn list(pool: &PgPool, limit: i64) -> Result<Vec<Merchant>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, currency, allowed_origins, catalog_language::text AS catalog_language, created_at, updated_at FROM merchants \
         ORDER BY created_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(merchant_from_row).collect()
}

/// Updates the given fields; `None` leaves a field unchanged. A new catalog language (a Postgres
/// text search configuration) re-indexes the merchant's products for full-text search in the
/// same transaction; an unknown one is `Conflict`.
pub async fn update(
    pool: &PgPool,
    id: MerchantId,
    name: Option<&str>,
    currency: Option<Currency>,
    origins: Option<&[String]>,
    catalog_language: Option<&str>,
) -> Result<Merchant, StoreError> {
    let mut tx = pool.begin().await?;
    if let Some(language) = catalog_language {
        let known: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = $1)")
                .bind(language)
                .fetch_one(&mut *tx)
                .await?;
        if !known {
            return Err(StoreError::Conflict(format!(
                "{language:?} is not a text search configuration of this database"
            )));
        }
    }
    let row = sqlx::query(
        "UPDATE merchants SET \
           name = COALESCE($2, name), \
           currency = COALESCE($3, currency), \
           allowed_origins = COALESCE($4, allowed_origins), \
           catalog_language = COALESCE($5::text::regconfig, catalog_language), \
           updated_at = now() \
         WHERE id = $1 \
         RETURNING id, name, currency, allowed_origins, catalog_language::text AS catalog_language, created_at, updated_at",
    )
    .bind(id.0)
    .bind(name)
    .bind(currency.map(|c| c.code().to_string()))
    .bind(origins)
    .bind(catalog_language)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    if catalog_language.is_some() {
        sqlx::query(
            "UPDATE products SET search_language = m.catalog_language FROM merchants m \
             WHERE m.id = $1 AND products.merchant_id = $1 \
               AND products.search_language <> m.catalog_language",
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    merchant_from_row(&row)
}

/// The owner of an active (not revoked) key, found by the key's digest.
pub async fn find_by_key_hash(
    pool: &PgPool,
    hash: &[u8; 32],
) -> Result<Option<(Merchant, ApiKeyId, KeyKind)>, StoreError> {
    let row = sqlx::query(
        "SELECT m.id, m.name, m.currency, m.allowed_origins, \
                m.catalog_language::text AS catalog_language, m.created_at, m.updated_at, \
                k.id AS key_id, k.kind \
         FROM api_keys k JOIN merchants m ON m.id = k.merchant_id \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
    )
    .bind(&hash[..])
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let kind: String = row.try_get("kind")?;
    let kind = KeyKind::from_db(&kind).ok_or_else(|| {
        StoreError::Database(sqlx::Error::Decode(
            format!("unknown key kind {kind}").into(),
        ))
    })?;
    Ok(Some((
        merchant_from_row(&row)?,
        ApiKeyId(row.try_get("key_id")?),
        kind,
    )))
}

/// A merchant's keys, newest first.
pub async fn list_keys(pool: &PgPool, merchant: MerchantId) -> Result<Vec<ApiKeyInfo>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, key_prefix, label, created_at, revoked_at FROM api_keys \
         WHERE merchant_id = $1 ORDER BY created_at DESC, id",
    )
    .bind(merchant.0)
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_from_row).collect()
}

/// One key of a merchant; another merchant's key is `NotFound`.
pub async fn get_key(
    pool: &PgPool,
    merchant: MerchantId,
    key: ApiKeyId,
) -> Result<ApiKeyInfo, StoreError> {
    let row = sqlx::query(
        "SELECT id, kind, key_prefix, label, created_at, revoked_at FROM api_keys \
         WHERE merchant_id = $1 AND id = $2",
    )
    .bind(merchant.0)
    .bind(key.0)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    key_from_row(&row)
}

/// Stores a new key for a merchant.
pub async fn insert_key(
    pool: &PgPool,
    merchant: MerchantId,
    kind: KeyKind,
    material: &KeyMaterial,
    label: Option<&str>,
) -> Result<ApiKeyInfo, StoreError> {
    let row = sqlx::query(
        "INSERT INTO api_keys (id, merchant_id, kind, key_prefix, key_hash, label) \
         SELECT $1, id, $3, $4, $5, $6 FROM merchants WHERE id = $2 \
         RETURNING id, kind, key_prefix, label, created_at, revoked_at",
    )
    .bind(Uuid::new_v4())
    .bind(merchant.0)
    .bind(kind.as_str())
    .bind(&material.prefix)
    .bind(&material.hash[..])
    .bind(label)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    key_from_row(&row)
}

/// Revokes one of a merchant's keys. Refuses to revoke its last active secret key (the merchant
/// would lock itself out); revoking an already revoked key is a no-op that returns it.
pub async fn revoke_key(
    pool: &PgPool,
    merchant: MerchantId,
    key: ApiKeyId,
) -> Result<ApiKeyInfo, StoreError> {
    let mut tx = pool.begin().await?;
    // Lock the merchant's keys so two concurrent revocations cannot both pass the check.
    let rows =
        sqlx::query("SELECT id, kind, revoked_at FROM api_keys WHERE merchant_id = $1 FOR UPDATE")
            .bind(merchant.0)
            .fetch_all(&mut *tx)
            .await?;
    let mut target = None;
    let mut active_secrets = 0;
    for row in &rows {
        let id: Uuid = row.try_get("id")?;
        let kind: String = row.try_get("kind")?;
        let revoked: Option<DateTime<Utc>> = row.try_get("revoked_at")?;
        if kind == "secret" && revoked.is_none() {
            active_secrets += 1;
        }
        if id == key.0 {
            target = Some((kind, revoked));
        }
    }
    let (kind, revoked) = target.ok_or(StoreError::NotFound)?;
    if revoked.is_none() {
        if kind == "secret" && active_secrets <= 1 {
            return Err(StoreError::Conflict(
                "this is the merchant's last active secret key; issue a new one before revoking it"
                    .into(),
            ));
        }
        sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.0)
            .bind(key.0)
            .execute(&mut *tx)
            .await?;
    }
    let row = sqlx::query(
        "SELECT id, kind, key_prefix, label, created_at, revoked_at FROM api_keys \
         WHERE merchant_id = $1 AND id = $2",
    )
    .bind(merchant.0)
    .bind(key.0)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    key_from_row(&row)
}
