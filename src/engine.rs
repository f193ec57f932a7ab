//! Builds the conversation engine from settings: the Postgres store, the model, the metrics
//! observer, and the `ConversationRegistry` every edge (WebSocket, SSE, HTTP) talks to.

use crate::config::{AgentMode, Settings};
use crate::metrics::Metrics;
use crate::store::agent_configs::PgAgentConfigStore;
use crate::store::conversations::PgConversationStore;
use crate::store::handoffs::PgSupportDesk;
use crate::store::writer::Writer;
use agentpay_actors::agent::RulesDeps;
use agentpay_actors::conversation::{
    ConversationRegistry, ConversationSettings, EngineDeps, EngineObserver, PanicOnText,
};
use agentpay_actors::merchant::{MerchantObserver, MerchantRegistry};
use agentpay_actors::ports::ModelClient;
use agentpay_actors::ports::model::ModelError;
use agentpay_actors::understanding::Understander;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

/// The models of both roles.
pub struct Models {
    /// Replies.
    pub main: Arc<dyn ModelClient>,
    /// Cheap calls (summaries).
    pub fast: Arc<dyn ModelClient>,
}

/// The model for `role` (see `crate::llm::build`), reporting failed attempts and skipped
/// providers to Prometheus.
pub fn model(
    settings: &Settings,
    secrets: &crate::config::Secrets,
    metrics: Arc<Metrics>,
    role: crate::llm::Role,
) -> anyhow::Result<Arc<dyn ModelClient>> {
    crate::llm::build(
        &settings.llm,
        secrets,
        Arc::new(ChainMetrics(metrics)),
        role,
    )
}

/// Counts provider failures and breaker skips.
struct ChainMetrics(Arc<Metrics>);

impl crate::llm::reliable::ChainObserver for ChainMetrics {
    fn attempt_failed(&self, provider: &str, error: &ModelError) {
        self.0.llm_error(provider, error);
    }

    fn skipped(&self, provider: &str) {
        self.0
            .llm_breaker_skips_total
            .with_label_values(&[provider])
            .inc();
    }
}

/// The merchants' registry, built once at startup.
pub fn merchants(
    settings: &Settings,
    pool: PgPool,
    metrics: Arc<Metrics>,
) -> Arc<MerchantRegistry> {
    MerchantRegistry::new(
        Arc::new(PgAgentConfigStore { pool }),
        Arc::new(MetricsObserver(metrics)),
        Duration::from_millis(settings.conversation.ask_timeout_ms),
    )
}

/// The pricing caches carts and checkouts read through, built once at startup.
pub fn pricing(
    settings: &Settings,
    catalog: Arc<dyn agentpay_actors::ports::CatalogSearch>,
    metrics: Arc<Metrics>,
) -> Arc<agentpay_actors::pricing::PricingCache> {
    agentpay_actors::pricing::PricingCache::new(
        catalog,
        agentpay_actors::pricing::PricingSettings {
            ttl: Duration::from_secs(settings.catalog.price_cache_ttl_secs),
            capacity: settings.catalog.price_cache_entries,
            idle: Duration::from_secs(settings.conversation.idle_timeout_secs.max(60)),
            ask_timeout: Duration::from_millis(settings.conversation.ask_timeout_ms),
        },
        Arc::new(MetricsObserver(metrics)),
    )
}

/// The text that makes a turn panic when `conversation.fault_injection` is on (tests only).
pub const FAULT_PANIC_TEXT: &str = "/fault panic";

/// What the conversation engine is built from, besides the settings.
pub struct EngineParts {
    /// The database (conversation reads).
    pub pool: PgPool,
    /// The group-commit writer (every conversation write).
    pub writer: Writer,
    /// The models of both roles.
    pub models: Models,
    /// Prices and spend.
    pub metering: Arc<dyn agentpay_actors::ports::Metering>,
    /// The merchants' catalogs, for the agent's tools.
    pub catalog: Arc<dyn agentpay_actors::ports::CatalogSearch>,
    /// Prometheus.
    pub metrics: Arc<Metrics>,
    /// The merchants' registry.
    pub merchants: Arc<MerchantRegistry>,
    /// Prices and stock of products in carts, cached per merchant.
    pub pricing: Arc<agentpay_actors::pricing::PricingCache>,
    /// Turns carts into orders and payment pages; `None` when checkout is off.
    pub payments: Option<Arc<dyn agentpay_actors::ports::PaymentGateway>>,
}

/// The conversations' registry, built once at startup (outside `HttpServer::new`).
pub fn registry(settings: &Settings, parts: EngineParts) -> Arc<ConversationRegistry> {
    let c = &settings.conversation;
    let desk = Arc::new(PgSupportDesk::new(parts.pool.clone()));
    let fast = parts.models.fast.clone();
    let pool = parts.pool.clone();
    let mut deps =
        EngineDeps::builder(Arc::new(PgConversationStore::new(parts.pool, parts.writer)))
            .model(parts.models.main)
            .fast_model(parts.models.fast)
            .catalog(Arc::new(agentpay_actors::pricing::PricedCatalog::new(
                parts.catalog,
                parts.pricing,
            )))
            .metering(parts.metering)
            .observer(Arc::new(MetricsObserver(parts.metrics)))
            .merchants(parts.merchants)
            .settings(ConversationSettings {
                idle_timeout: Duration::from_secs(c.idle_timeout_secs),
                history_messages: c.history_messages,
                history_tokens: c.history_tokens,
                replay_limit: c.replay_limit,
                system_prompt: c.system_prompt.clone(),
                max_reply_tokens: c.max_reply_tokens,
                max_tool_rounds: c.max_tool_rounds,
                turn_deadline: Duration::from_secs(c.turn_deadline_secs),
                delta_flush: Duration::from_millis(settings.websocket.flush_interval_ms),
            })
            .desk(desk);
    if settings.agent.mode == AgentMode::Rules {
        deps = deps.rules(RulesDeps {
            understander: Understander::shared(),
            classifier: crate::llm::is_real(&settings.llm, crate::llm::Role::Fast).then_some(fast),
            threshold: settings.agent.intent_threshold,
            model_routes: crate::llm::is_real(&settings.llm, crate::llm::Role::Main),
        });
    }
    if let Some(gateway) = parts.payments {
        deps = deps.payments(gateway);
    }
    deps = deps.orders(Arc::new(crate::store::orders::PgOrderBook::new(pool)));
    if c.fault_injection {
        // Test-only (refused in production by the configuration's validation).
        deps = deps.faults(Arc::new(PanicOnText(FAULT_PANIC_TEXT.into())));
    }
    ConversationRegistry::new(deps.build(), Duration::from_millis(c.ask_timeout_ms))
}

impl agentpay_actors::pricing::PricingObserver for MetricsObserver {
    fn lookup(&self, hits: usize, misses: usize) {
        let c = &self.0.pricing_cache_lookups_total;
        c.with_label_values(&["hit"]).inc_by(hits as u64);
        c.with_label_values(&["miss"]).inc_by(misses as u64);
    }
    fn invalidated(&self) {
        self.0.pricing_cache_invalidations_total.inc();
    }
}

/// Forwards engine events to Prometheus.
struct MetricsObserver(Arc<Metrics>);

impl EngineObserver for MetricsObserver {
    fn actor_started(&self) {
        self.0.actor_event("conversation", "start");
        self.0
            .live_actors
            .with_label_values(&["conversation"])
            .inc();
    }
    fn actor_stopped(&self) {
        self.0.actor_event("conversation", "stop");
        self.0
            .live_actors
            .with_label_values(&["conversation"])
            .dec();
    }
    fn actor_restarted(&self) {
        self.0.actor_event("conversation", "restart");
    }
    fn actor_replaced(&self) {
        self.0.actor_event("conversation", "replace");
        // The dead actor never ran `stopped`.
        self.0
            .live_actors
            .with_label_values(&["conversation"])
            .dec();
    }
    fn subscriber_dropped(&self) {
        self.0.subscribers_dropped_total.inc();
    }
    fn turn_understood(&self, intent: &str, handled_by: &str) {
        self.0
            .turns_by_intent_total
            .with_label_values(&[intent, handled_by])
            .inc();
    }
    fn intervention(&self, kind: &str) {
        self.0
            .agent_interventions_total
            .with_label_values(&[kind])
            .inc();
    }
    fn turn_finished(&self, outcome: &'static str) {
        self.0.turns_total.with_label_values(&[outcome]).inc();
    }
    fn first_token(&self, provider: &str, model: &str, seconds: f64) {
        self.0
            .llm_ttft_seconds
            .with_label_values(&[provider, model])
            .observe(seconds);
    }
    fn tokens(&self, model: &str, usage: &agentpay_actors::ports::Usage) {
        for (kind, n) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_write", usage.cache_write_tokens),
            ("cache_read", usage.cache_read_tokens),
        ] {
            self.0
                .llm_tokens_total
                .with_label_values(&[model, kind])
                .inc_by(n);
        }
    }

    fn cost(&self, model: &str, nanos: i64) {
        self.0
            .llm_cost_usd_total
            .with_label_values(&[model])
            .inc_by(nanos.max(0) as f64 / 1e9);
    }

    fn over_budget(&self) {
        self.0.llm_over_budget_replies_total.inc();
    }
}

impl agentpay_actors::checkout::CheckoutObserver for MetricsObserver {
    fn checkout_started(&self) {
        self.0.actor_event("checkout", "start");
        self.0.live_actors.with_label_values(&["checkout"]).inc();
    }
    fn checkout_stopped(&self) {
        self.0.actor_event("checkout", "stop");
        self.0.live_actors.with_label_values(&["checkout"]).dec();
    }
}

/// The checkout actors over the configured provider (none when checkout is off), telling the
/// edge through `hooks`.
pub fn checkouts(
    gateway: Option<Arc<dyn agentpay_actors::ports::PaymentGateway>>,
    hooks: Arc<dyn agentpay_actors::checkout::CheckoutHooks>,
    metrics: Arc<Metrics>,
) -> Option<Arc<agentpay_actors::checkout::Checkouts>> {
    gateway.map(|g| {
        agentpay_actors::checkout::Checkouts::new(
            g,
            hooks,
            Arc::new(MetricsObserver(metrics)),
            // Stripe retries its events for hours; the actor waits a little past the expiry
            // for the last word, then the edge tells conversations itself.
            Duration::from_secs(300),
        )
    })
}

impl MerchantObserver for MetricsObserver {
    fn merchant_started(&self) {
        self.0.actor_event("merchant", "start");
        self.0.live_actors.with_label_values(&["merchant"]).inc();
    }
    fn merchant_stopped(&self) {
        self.0.actor_event("merchant", "stop");
        self.0.live_actors.with_label_values(&["merchant"]).dec();
    }
    fn config_reloaded(&self) {
        self.0.config_reloads_total.inc();
    }
}
