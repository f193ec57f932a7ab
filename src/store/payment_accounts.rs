//! Merchants' payment set-up: their connected account at the provider (Stripe Connect), its
//! readiness as `account.updated` events report it, and where Checkout sends visitors back to.

use super::StoreError;
use agentpay_actors::ids::MerchantId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Row};

/// A merchant's connected account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentAccount {
    /// The provider (`stripe`).
    pub provider: String,
    /// Its id there (`acct_…`).
    pub account_id: String,
    /// Whether it can take payments.
    pub charges_enabled: bool,
    /// Whether onboarding was completed.
    pub details_submitted: bool,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn account_from(r: &sqlx::postgres::PgRow) -> Result<PaymentAccount, sqlx::Error> {
    Ok(PaymentAccount {
        provider: r.try_get("provider")?,
        account_id: r.try_get("account_id")?,
        charges_enabled: r.try_get("charges_enabled")?,
        details_submitted: r.try_get("details_submitted")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// `merchant`'s connected account, if it has one.
pub async fn account(
    pool: &PgPool,
    merchant: MerchantId,
) -> Result<Option<PaymentAccount>, StoreError> {
    let row = sqlx::query(
        "SELECT provider, account_id, charges_enabled, details_submitted, updated_at \
         FROM payment_accounts WHERE merchant_id = $1",
    )
    .bind(merchant.0)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(account_from).transpose()?)
}

/// Records `account_id` as `merchant`'s account unless it already has one; the account kept.
pub async fn save_account(
    pool: &PgPool,
    merchant: MerchantId,
    provider: &str,
    account_id: &str,
) -> Result<PaymentAccount, StoreError> {
    sqlx::query(
        "INSERT INTO payment_accounts (merchant_id, provider, account_id) VALUES ($1, $2, $3) \
         ON CONFLICT (merchant_id) DO NOTHING",
    )
    .bind(merchant.0)
    .bind(provider)
    .bind(account_id)
    .execute(pool)
    .await?;
    account(pool, merchant).await?.ok_or(StoreError::NotFound)
}

/// Where Checkout sends a merchant's visitors back to; `None` means the engine's order page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckoutUrls {
    /// After paying (may hold Stripe's `{CHECKOUT_SESSION_ID}`).
    pub success_url: Option<String>,
    /// After giving up.
    pub cancel_url: Option<String>,
}

/// `merchant`'s return URLs.
pub async fn checkout_urls(
    pool: &PgPool,
    merchant: MerchantId,
) -> Result<CheckoutUrls, StoreError> {
    let row =
        sqlx::query("SELECT success_url, cancel_url FROM checkout_settings WHERE merchant_id = $1")
            .bind(merchant.0)
            .fetch_optional(pool)
            .await?;
    Ok(match row {
        Some(r) => CheckoutUrls {
            success_url: r.try_get("success_url")?,
            cancel_url: r.try_get("cancel_url")?,
        },
        None => CheckoutUrls::default(),
    })
}

/// Replaces `merchant`'s return URLs.
pub async fn set_checkout_urls(
    pool: &PgPool,
    merchant: MerchantId,
    urls: &CheckoutUrls,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkout_settings (merchant_id, success_url, cancel_url) VALUES ($1, $2, $3) \
         ON CONFLICT (merchant_id) DO UPDATE SET success_url = $2, cancel_url = $3, \
         updated_at = now()",
    )
    .bind(merchant.0)
    .bind(&urls.success_url)
    .bind(&urls.cancel_url)
    .execute(pool)
    .await?;
    Ok(())
}
