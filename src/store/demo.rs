//! The demo store's merchant, created once with a fixed id and publishable key (the demo runs
//! offline on a developer's machine; its key is public by design, like every publishable key).

use super::StoreError;
use agentpay_actors::ids::MerchantId;
use sqlx::PgPool;

/// Creates the demo merchant `id` named `name` and its publishable key (by hash) unless they
/// exist. True when the merchant was created now.
pub async fn ensure_merchant(
    pool: &PgPool,
    id: MerchantId,
    name: &str,
    key_prefix: &str,
    key_hash: &[u8; 32],
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let created = sqlx::query(
        "INSERT INTO merchants (id, name, currency) VALUES ($1, $2, 'USD') \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.0)
    .bind(name)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    sqlx::query(
        "INSERT INTO api_keys (id, merchant_id, kind, key_prefix, key_hash, label) \
         VALUES ($1, $2, 'publishable', $3, $4, 'demo store') ON CONFLICT (key_hash) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(id.0)
    .bind(key_prefix)
    .bind(&key_hash[..])
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// How many products `merchant` has.
pub async fn product_count(pool: &PgPool, merchant: MerchantId) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM products WHERE merchant_id = $1")
            .bind(merchant.0)
            .fetch_one(pool)
            .await?,
    )
}

/// A product on the storefront.
#[derive(Debug, Clone)]
pub struct ShelfItem {
    /// Its id.
    pub external_id: String,
    /// Its title.
    pub title: String,
    /// Brand, if any.
    pub brand: Option<String>,
    /// Category path ("Shoes > Running").
    pub category: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217.
    pub currency: String,
}

/// Up to `limit` of `merchant`'s active products, by category then title.
pub async fn shelf(
    pool: &PgPool,
    merchant: MerchantId,
    limit: i64,
) -> Result<Vec<ShelfItem>, StoreError> {
    let rows: Vec<(String, String, Option<String>, String, i64, String)> = sqlx::query_as(
        "SELECT external_id, title, brand, array_to_string(category, ' > '), price_minor, \
         currency::text FROM products WHERE merchant_id = $1 AND active \
         ORDER BY category, title LIMIT $2",
    )
    .bind(merchant.0)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(external_id, title, brand, category, price_minor, currency)| ShelfItem {
                external_id,
                title,
                brand,
                category,
                price_minor,
                currency,
            },
        )
        .collect())
}
