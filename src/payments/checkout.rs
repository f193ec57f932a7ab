//! The [`PaymentGateway`] of the engine: an order in Postgres from the (just revalidated) cart,
//! then its payment page at the provider, recorded on the order.
//!
//! The `simulated` provider's page is the engine's own (`/checkout/{order}`,
//! `crate::http::routes::checkout`): paying there makes a Stripe-shaped event, signs it with a
//! secret drawn at start-up, and hands it to the same verification and handling as Stripe's
//! webhooks, so the offline demo store completes purchases with no account anywhere.

use crate::metrics::Metrics;
use crate::store::orders::{self, NewLine};
use agentpay_actors::cart::Cart;
use agentpay_actors::ids::{ConversationId, MerchantId};
use agentpay_actors::ports::{CheckoutError, CheckoutLink, PaymentGateway, PortFuture};
use sqlx::PgPool;
use std::sync::Arc;

/// Orders and payment pages over Postgres and the simulated provider.
pub struct SimulatedPayments {
    pool: PgPool,
    /// The engine's public URL (links visitors open).
    public_url: String,
    /// How long a payment page stays valid.
    session: chrono::Duration,
    metrics: Arc<Metrics>,
}

impl SimulatedPayments {
    /// Pages under `public_url`, valid `session_minutes`.
    pub fn new(
        pool: PgPool,
        public_url: &str,
        session_minutes: u64,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            pool,
            public_url: public_url.trim_end_matches('/').to_string(),
            session: chrono::Duration::minutes(i64::try_from(session_minutes).unwrap_or(30)),
            metrics,
        }
    }
}

/// The order lines of `cart`, at the prices it holds.
pub fn lines_of(cart: &Cart) -> Vec<NewLine> {
    cart.lines
        .iter()
        .map(|l| NewLine {
            external_id: l.external_id.clone(),
            sku: l.sku.clone(),
            title: match &l.variant {
                Some(v) => format!("{} ({v})", l.title),
                None => l.title.clone(),
            },
            quantity: l.quantity,
            unit_price_minor: l.unit_price.amount_minor,
        })
        .collect()
}

impl PaymentGateway for SimulatedPayments {
    fn provider(&self) -> &str {
        "simulated"
    }

    fn start_checkout(
        &self,
        merchant: MerchantId,
        conversation: ConversationId,
        cart: Cart,
    ) -> PortFuture<Result<CheckoutLink, CheckoutError>> {
        let pool = self.pool.clone();
        let public_url = self.public_url.clone();
        let session = self.session;
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let (Some(first), Some(total)) = (cart.lines.first(), cart.total()) else {
                return Err(CheckoutError::EmptyCart);
            };
            let currency = first.unit_price.currency.code().to_string();
            let failed = |e: crate::store::StoreError| CheckoutError::Failed(e.to_string());
            let order = orders::create(
                &pool,
                merchant,
                Some(conversation),
                &currency,
                "simulated",
                &lines_of(&cart),
            )
            .await
            .map_err(failed)?;
            let expires_at = chrono::Utc::now() + session;
            let url = format!("{public_url}/checkout/{}", order.id);
            orders::attach_session(
                &pool,
                order.id,
                &format!("sim_{}", order.id),
                &url,
                expires_at,
            )
            .await
            .map_err(failed)?;
            metrics.orders_total.with_label_values(&["open"]).inc();
            Ok(CheckoutLink {
                order_id: order.id,
                number: order.number,
                url,
                expires_at: expires_at.timestamp(),
                total,
            })
        })
    }
}
