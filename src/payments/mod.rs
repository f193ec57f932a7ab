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
use std::sync::{Arc, OnceLock, Weak};

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

/// The checkout actors' way back into the edge: telling a conversation (started if passivated)
/// and settling a session past its time. Holds the application state weakly, attached once it
/// exists (it is built after the actors).
#[derive(Default)]
pub struct EdgeHooks {
    state: OnceLock<Weak<crate::http::state::AppState>>,
}

impl EdgeHooks {
    /// Attaches the application state.
    pub fn attach(&self, state: &actix_web::web::Data<crate::http::state::AppState>) {
        let _ = self.state.set(Arc::downgrade(&state.clone().into_inner()));
    }

    fn state(&self) -> Option<Arc<crate::http::state::AppState>> {
        self.state.get().and_then(Weak::upgrade)
    }
}

impl agentpay_actors::checkout::CheckoutHooks for EdgeHooks {
    fn tell(
        &self,
        conversation: agentpay_actors::ids::ConversationId,
        update: agentpay_actors::ports::OrderUpdate,
    ) {
        if let Some(state) = self.state() {
            actix_web::rt::spawn(async move { notify(&state, conversation, update).await });
        }
    }

    fn due(&self, order: uuid::Uuid) {
        if let Some(state) = self.state() {
            actix_web::rt::spawn(async move {
                if let Err(e) = crate::http::routes::checkout::settle_if_due(&state, order).await {
                    tracing::warn!(order_id = %order, error = %e, "could not settle a payment page past its time");
                }
            });
        }
    }
}

/// Tells `conversation` that its order changed; the conversation is started if it was
/// passivated, so the notice is stored even when the visitor is away.
pub async fn notify(
    state: &crate::http::state::AppState,
    conversation: agentpay_actors::ids::ConversationId,
    update: agentpay_actors::ports::OrderUpdate,
) {
    let asked = state
        .registry
        .ask(conversation, || {
            agentpay_actors::conversation::messages::OrderChanged(update.clone())
        })
        .await;
    if let Err(e) = asked {
        tracing::warn!(conversation_id = %conversation.0, order_id = %update.order_id, error = %e, "could not tell the conversation about its order");
    }
}
