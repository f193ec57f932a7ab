//! The `stripe` provider: Stripe Checkout Sessions on each merchant's connected account
//! (Connect), through async-stripe, and the merchant's onboarding (a connected account and its
//! Account Link).
//!
//! Every creating call carries an idempotency key derived from what it creates (the order, the
//! merchant), and a call that failed on the network, timed out or got 409/429/5xx is tried again
//! with the same key, so a retry never makes a second session or account: Stripe answers a
//! repeated key with the first result. How money reaches the merchant (direct or destination
//! charges, the platform fee) is `payments.stripe` (docs/decisions/0012).

use super::checkout::lines_of;
use crate::config::{ChargeType, PaymentSettings, Secret};
use crate::metrics::Metrics;
use crate::store::orders;
use crate::store::payment_accounts::{self, PaymentAccount};
use agentpay_actors::cart::Cart;
use agentpay_actors::ids::{ConversationId, MerchantId};
use agentpay_actors::ports::{CheckoutError, CheckoutLink, PaymentGateway, PortFuture};
use sqlx::PgPool;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use stripe::{AccountId, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionPaymentIntentDataTransferData,
    ProductData,
};
use stripe_connect::account::{CreateAccount, CreateAccountType};
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};

/// Why a Stripe operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StripeFailure {
    /// The merchant's set-up does not allow it yet (message says what to do).
    #[error("{0}")]
    NotReady(String),
    /// Stripe refused or could not be reached.
    #[error("Stripe: {0}")]
    Api(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// A merchant's onboarding link.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Onboarding {
    /// The connected account.
    pub account: PaymentAccount,
    /// Where the merchant completes onboarding at Stripe (valid a few minutes; ask again for a
    /// new one).
    pub onboarding_url: String,
    /// When the link expires.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Stripe Checkout and Connect over the platform's key. Cheap to clone.
#[derive(Clone)]
pub struct StripePayments {
    pool: PgPool,
    client: stripe::Client,
    charges: ChargeType,
    fee_bps: u32,
    max_attempts: u32,
    country: String,
    public_url: String,
    session: chrono::Duration,
    metrics: Arc<Metrics>,
}

/// A short message of a Stripe error, without anything secret (Stripe never echoes keys).
fn describe(e: &StripeError) -> String {
    match e {
        StripeError::Stripe(api, status) => format!(
            "{status} {}: {}",
            api.type_.as_str(),
            api.message.as_deref().unwrap_or("no message")
        ),
        StripeError::Timeout => "timed out".into(),
        StripeError::ClientError(m) => format!("could not reach Stripe: {m}"),
        StripeError::JSONDeserialize(m) => format!("unexpected response: {m}"),
        StripeError::ConfigError(m) => format!("client configuration: {m}"),
    }
}

/// Whether trying again with the same idempotency key may succeed.
fn retryable(e: &StripeError) -> bool {
    match e {
        StripeError::Timeout | StripeError::ClientError(_) => true,
        StripeError::Stripe(_, status) => matches!(status, 409 | 429 | 500..=599),
        _ => false,
    }
}

fn key(s: String) -> Result<IdempotencyKey, StripeFailure> {
    IdempotencyKey::new(s).map_err(|e| StripeFailure::Api(format!("idempotency key: {e}")))
}

impl StripePayments {
    /// A client of `settings.stripe.base_url` with the platform's `secret_key`; pages link back
    /// to `public_url`.
    pub fn new(
        settings: &PaymentSettings,
        secret_key: &Secret,
        pool: PgPool,
        public_url: &str,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let s = &settings.stripe;
        let client = stripe::ClientBuilder::new(secret_key.expose())
            .url(s.base_url.clone())
            .timeout(Duration::from_secs(s.timeout_secs))
            .build()
            .map_err(|e| anyhow::anyhow!("payments.stripe: {}", describe(&e)))?;
        Ok(Self {
            pool,
            client,
            charges: s.charges,
            fee_bps: s.platform_fee_bps,
            max_attempts: s.max_attempts,
            country: s.account_country.clone(),
            public_url: public_url.trim_end_matches('/').to_string(),
            session: chrono::Duration::minutes(
                i64::try_from(settings.session_minutes).unwrap_or(30),
            ),
            metrics,
        })
    }

    /// Runs `call` until it succeeds, fails for good, or `max_attempts` are spent; every
    /// attempt sends the same idempotency key (the caller's), so Stripe acts once.
    async fn retrying<T, F, Fut>(&self, operation: &str, mut call: F) -> Result<T, StripeFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StripeError>>,
    {
        let count = |outcome: &str| {
            self.metrics
                .payment_provider_requests_total
                .with_label_values(&[operation, outcome])
                .inc();
        };
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(v) => {
                    count("ok");
                    return Ok(v);
                }
                Err(e) if attempt < self.max_attempts && retryable(&e) => {
                    count("retry");
                    tracing::warn!(operation, attempt, error = %describe(&e), "Stripe call failed; retrying with the same idempotency key");
                    tokio::time::sleep(Duration::from_millis(200 << attempt.min(5))).await;
                    attempt += 1;
                }
                Err(e) => {
                    count("error");
                    return Err(StripeFailure::Api(describe(&e)));
                }
            }
        }
    }

    /// The platform's fee on `total_minor`.
    fn fee(&self, total_minor: i64) -> i64 {
        total_minor.saturating_mul(i64::from(self.fee_bps)) / 10_000
    }

    /// Makes an order of `cart` and its Checkout Session on the merchant's connected account.
    async fn checkout(
        &self,
        merchant: MerchantId,
        conversation: ConversationId,
        cart: Cart,
    ) -> Result<CheckoutLink, StripeFailure> {
        let (Some(first), Some(total)) = (cart.lines.first(), cart.total()) else {
            return Err(StripeFailure::NotReady("the cart is empty".into()));
        };
        let account = payment_accounts::account(&self.pool, merchant)
            .await?
            .filter(|a| a.provider == "stripe" && a.charges_enabled)
            .ok_or_else(|| {
                StripeFailure::NotReady(
                    "the merchant's Stripe account cannot take payments yet \
                     (POST /v1/merchant/payments/connect)"
                        .into(),
                )
            })?;
        let urls = payment_accounts::checkout_urls(&self.pool, merchant).await?;
        let currency = first.unit_price.currency.code().to_lowercase();
        let lines = lines_of(&cart);
        let order = orders::create(
            &self.pool,
            merchant,
            Some(conversation),
            &currency.to_uppercase(),
            "stripe",
            &lines,
        )
        .await?;
        let page = format!("{}/checkout/{}", self.public_url, order.id);
        let metadata = HashMap::from([
            ("order_id".to_string(), order.id.to_string()),
            ("order_number".to_string(), order.number.to_string()),
            ("conversation_id".to_string(), conversation.0.to_string()),
            ("merchant_id".to_string(), merchant.0.to_string()),
        ]);
        let items: Vec<CreateCheckoutSessionLineItems> = lines
            .iter()
            .map(|l| {
                let mut price = CreateCheckoutSessionLineItemsPriceData::new(
                    currency
                        .parse::<stripe_types::Currency>()
                        .unwrap_or_else(|e| match e {}),
                );
                price.product_data = Some(ProductData::new(l.title.clone()));
                price.unit_amount = Some(l.unit_price_minor);
                let mut item = CreateCheckoutSessionLineItems::new();
                item.price_data = Some(price);
                item.quantity = Some(u64::from(l.quantity));
                item
            })
            .collect();
        let mut intent = CreateCheckoutSessionPaymentIntentData::new();
        intent.metadata = Some(metadata.clone());
        let fee = self.fee(order.total_minor);
        if fee > 0 {
            intent.application_fee_amount = Some(fee);
        }
        if self.charges == ChargeType::Destination {
            intent.transfer_data = Some(CreateCheckoutSessionPaymentIntentDataTransferData::new(
                account.account_id.clone(),
            ));
        }
        // Stripe refuses an expiry under 30 minutes away: a retry sends the first attempt's
        // parameters (the same idempotency key), so leave it a minute of margin.
        let expires_at = chrono::Utc::now()
            + self
                .session
                .max(chrono::Duration::minutes(31))
                .min(chrono::Duration::minutes(1439));
        let request = CreateCheckoutSession::new()
            .mode(stripe_shared::CheckoutSessionMode::Payment)
            .line_items(items)
            .success_url(urls.success_url.unwrap_or_else(|| page.clone()))
            .cancel_url(urls.cancel_url.unwrap_or_else(|| page.clone()))
            .metadata(metadata)
            .client_reference_id(order.id.to_string())
            .expires_at(expires_at.timestamp())
            .payment_intent_data(intent);
        let idempotency = key(format!("agentpay-checkout-{}", order.id))?;
        let direct = self.charges == ChargeType::Direct;
        let created = self
            .retrying("checkout_session", || {
                let mut call = request
                    .customize()
                    .request_strategy(RequestStrategy::Idempotent(idempotency.clone()));
                if direct {
                    call = call.account_id(AccountId::from(account.account_id.as_str()));
                }
                call.send(&self.client)
            })
            .await;
        let session = match created {
            Ok(s) => s,
            Err(e) => {
                // No page: the order can never be paid.
                orders::abandon(&self.pool, order.id).await?;
                self.metrics
                    .orders_total
                    .with_label_values(&["canceled"])
                    .inc();
                return Err(e);
            }
        };
        let Some(url) = session.url.clone() else {
            orders::abandon(&self.pool, order.id).await?;
            self.metrics
                .orders_total
                .with_label_values(&["canceled"])
                .inc();
            return Err(StripeFailure::Api("the session has no URL".into()));
        };
        let expires = chrono::DateTime::from_timestamp(session.expires_at, 0).unwrap_or(expires_at);
        orders::attach_session(&self.pool, order.id, session.id.as_str(), &url, expires).await?;
        self.metrics.orders_total.with_label_values(&["open"]).inc();
        tracing::info!(order_id = %order.id, session_id = %session.id.as_str(), "Stripe Checkout Session created");
        Ok(CheckoutLink {
            order_id: order.id,
            number: order.number,
            url,
            expires_at: expires.timestamp(),
            total,
        })
    }

    /// `merchant`'s connected account (created on first call, reused after) and a fresh
    /// onboarding link back to `return_url` (or `refresh_url` when the link expired).
    pub async fn connect(
        &self,
        merchant: MerchantId,
        email: Option<String>,
        return_url: &str,
        refresh_url: &str,
    ) -> Result<Onboarding, StripeFailure> {
        let account = match payment_accounts::account(&self.pool, merchant).await? {
            Some(a) => a,
            None => {
                let kind = match self.charges {
                    ChargeType::Direct => CreateAccountType::Standard,
                    ChargeType::Destination => CreateAccountType::Express,
                };
                let mut create = CreateAccount::new()
                    .type_(kind)
                    .country(self.country.clone())
                    .metadata(HashMap::from([(
                        "agentpay_merchant_id".to_string(),
                        merchant.0.to_string(),
                    )]));
                if let Some(email) = email {
                    create = create.email(email);
                }
                // One account per merchant, however many times this is asked for at once.
                let idempotency = key(format!("agentpay-account-{}", merchant.0))?;
                let created = self
                    .retrying("account", || {
                        create
                            .customize()
                            .request_strategy(RequestStrategy::Idempotent(idempotency.clone()))
                            .send(&self.client)
                    })
                    .await?;
                tracing::info!(merchant_id = %merchant.0, account_id = %created.id.as_str(), "Stripe connected account created");
                payment_accounts::save_account(&self.pool, merchant, "stripe", created.id.as_str())
                    .await?
            }
        };
        let link = CreateAccountLink::new(
            account.account_id.clone(),
            CreateAccountLinkType::AccountOnboarding,
        )
        .return_url(return_url.to_string())
        .refresh_url(refresh_url.to_string());
        let link = self
            .retrying("account_link", || link.customize().send(&self.client))
            .await?;
        Ok(Onboarding {
            account,
            onboarding_url: link.url,
            expires_at: chrono::DateTime::from_timestamp(link.expires_at, 0)
                .unwrap_or_else(chrono::Utc::now),
        })
    }
}

impl PaymentGateway for StripePayments {
    fn provider(&self) -> &str {
        "stripe"
    }

    fn start_checkout(
        &self,
        merchant: MerchantId,
        conversation: ConversationId,
        cart: Cart,
    ) -> PortFuture<Result<CheckoutLink, CheckoutError>> {
        let this = self.clone();
        Box::pin(async move {
            if cart.lines.is_empty() {
                return Err(CheckoutError::EmptyCart);
            }
            this.checkout(merchant, conversation, cart)
                .await
                .map_err(|e| {
                    tracing::warn!(merchant_id = %merchant.0, error = %e, "Stripe checkout failed");
                    CheckoutError::Failed(e.to_string())
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_network_failures_and_transient_statuses_are_retried() {
        assert!(retryable(&StripeError::Timeout));
        assert!(retryable(&StripeError::ClientError("reset".into())));
        assert!(!retryable(&StripeError::JSONDeserialize("x".into())));
        assert!(!retryable(&StripeError::ConfigError("x".into())));
    }
}
