//! Shared application state handed to every handler as `web::Data<AppState>`.
//!
//! Built once in startup, outside `HttpServer::new` (whose closure runs once per worker), so
//! every worker shares one pool and one metrics registry.

use crate::config::Settings;
use crate::metrics::Metrics;
use agentpay_actors::conversation::ConversationRegistry;
use sqlx::PgPool;
use std::sync::Arc;

/// What handlers share.
pub struct AppState {
    /// The Postgres pool (cheap to clone; shared by all workers).
    pub pool: PgPool,
    /// The validated settings, read-only for the process lifetime.
    pub settings: Arc<Settings>,
    /// SHA-256 of `AGENTPAY_ADMIN_TOKEN`; `None` disables the operator endpoints. Only the digest
    /// is kept, so the token itself is not in memory longer than startup.
    pub admin_token_hash: Option<[u8; 32]>,
    /// SHA-256 of `AGENTPAY_METRICS_TOKEN`; `None` leaves `/metrics` open.
    pub metrics_token_hash: Option<[u8; 32]>,
    /// The app's metrics registry.
    pub metrics: Arc<Metrics>,
    /// Base URL for links this server returns.
    pub public_url: String,
    /// The conversation directory (one per process).
    pub registry: Arc<ConversationRegistry>,
    /// The merchant directory (agent configuration snapshots).
    pub merchants: Arc<agentpay_actors::merchant::MerchantRegistry>,
    /// Rate limits and abuse controls.
    pub limits: crate::http::limits::Limits,
    /// `/v1` requests being handled now (see `server.max_inflight_requests`).
    pub in_flight: Arc<std::sync::atomic::AtomicUsize>,
    /// Recent publishable-key lookups.
    pub key_cache: Arc<crate::http::auth::KeyCache>,
    /// The group-commit writer for conversation writes.
    pub writer: crate::store::writer::Writer,
    /// Catalog search (and the embedder it uses).
    pub catalog: crate::catalog::search::PgCatalogSearch,
    /// The background embedding indexer, when an embedder is configured.
    pub indexer: Option<crate::catalog::indexer::IndexerHandle>,
    /// The Stripe webhook endpoint's signing secret, when configured.
    pub stripe_webhook_secret: Option<crate::config::Secret>,
    /// Stripe Checkout and Connect, when `payments.provider = "stripe"` (merchant onboarding).
    pub stripe: Option<crate::payments::stripe::StripePayments>,
    /// The live checkout attempts (none when checkout is off): provider events reach the
    /// attempt that holds their order.
    pub checkouts: Option<Arc<agentpay_actors::checkout::Checkouts>>,
    /// The pricing caches; product writes drop the merchant's cached prices.
    pub pricing: Arc<agentpay_actors::pricing::PricingCache>,
    /// The secret the simulated provider signs its own events with (drawn at start-up).
    pub simulated_webhook_secret: String,
}
