//! Payments: the providers behind checkout ([`checkout`]: the offline simulated provider;
//! [`stripe`]: Stripe Checkout with Connect), and the provider's webhook events, verified
//! ([`signature`]), read ([`events`]) and applied to orders once each
//! (`crate::store::orders`), whatever their order and number.

pub mod checkout;
pub mod events;
pub mod signature;
pub mod stripe;

use crate::config::{PaymentProvider, Secrets, Settings};
use crate::metrics::Metrics;
use agentpay_actors::ports::PaymentGateway;
use anyhow::Context;
use sqlx::PgPool;
use std::sync::Arc;

/// The configured provider: the gateway checkouts use, and the Stripe client the onboarding
/// endpoint uses when the provider is Stripe.
#[derive(Clone, Default)]
pub struct Payments {
    /// Turns carts into orders and payment pages; `None` when checkout is off.
    pub gateway: Option<Arc<dyn PaymentGateway>>,
    /// Stripe Checkout and Connect, when `payments.provider = "stripe"`.
    pub stripe: Option<stripe::StripePayments>,
}

/// Builds `settings.payments.provider`; Stripe needs `STRIPE_SECRET_KEY`.
pub fn build(
    settings: &Settings,
    secrets: &Secrets,
    pool: PgPool,
    public_url: &str,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Payments> {
    let p = &settings.payments;
    Ok(match p.provider {
        PaymentProvider::None => Payments::default(),
        PaymentProvider::Simulated => Payments {
            gateway: Some(Arc::new(checkout::SimulatedPayments::new(
                pool,
                public_url,
                p.session_minutes,
                metrics,
            ))),
            stripe: None,
        },
        PaymentProvider::Stripe => {
            let key = secrets.stripe_secret_key.as_ref().context(
                "payments.provider = \"stripe\" needs STRIPE_SECRET_KEY in the environment \
                 (docs/payments.md)",
            )?;
            if secrets.stripe_webhook_secret.is_none() {
                tracing::warn!(
                    "STRIPE_WEBHOOK_SECRET is not set: Stripe's events are refused, so orders \
                     will not be marked paid"
                );
            }
            let stripe = stripe::StripePayments::new(p, key, pool, public_url, metrics)?;
            Payments {
                gateway: Some(Arc::new(stripe.clone())),
                stripe: Some(stripe),
            }
        }
    })
}
