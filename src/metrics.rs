//! Prometheus metrics from the app's own registry (never the global one, so several app
//! instances, as in tests, do not collide).
//!
//! Names follow `promtool check metrics`: `agentpay_` namespace, base units, counters end in
//! `_total`. Labels are bounded: routes are templates (`/v1/merchant/keys/{id}`), never raw paths.

use anyhow::Context;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use sqlx::PgPool;

/// The `kind` label values of `agentpay_llm_errors_total`.
const LLM_ERROR_KINDS: [&str; 9] = [
    "rate_limited",
    "overloaded",
    "authentication",
    "bad_request",
    "timeout",
    "broken_stream",
    "server",
    "unreachable",
    "over_budget",
];

/// The app's metrics.
pub struct Metrics {
    /// Registry the `/metrics` endpoint renders.
    registry: Registry,
    /// HTTP requests by route template, method and status.
    pub http_requests_total: IntCounterVec,
    /// HTTP request duration by route template and method.
    pub http_request_duration_seconds: HistogramVec,
    /// Database pool connections by state (`idle`, `in_use`), refreshed at scrape time.
    db_pool_connections: IntGaugeVec,
    /// Live actors by kind.
    pub live_actors: IntGaugeVec,
    /// Actor lifecycle events by kind and event (`start`, `stop`, `restart`, `replace`).
    pub actor_events_total: IntCounterVec,
    /// Finished turns by outcome (`complete`, `interrupted`).
    pub turns_total: IntCounterVec,
    /// Turns by the visitor's intent and who handled them (`rules` or `model`).
    pub turns_by_intent_total: IntCounterVec,
    /// `agentpay_agent_interventions_total{kind}`: the guard stopped a model's `price`,
    /// `discount` or `prompt`, or the offline agent answered after the model failed
    /// (`fallback`).
    pub agent_interventions_total: IntCounterVec,
    /// `agentpay_payment_webhook_events_total{type,outcome}`: provider events received, by type
    /// and what applying them did (`applied`, `unchanged`, `duplicate`, `unmatched`, `ignored`,
    /// `account`, `invalid`).
    pub payment_webhook_events_total: IntCounterVec,
    /// `agentpay_payment_webhook_signature_failures_total{reason}`: deliveries refused for their
    /// signature (`missing`, `malformed`, `stale`, `mismatch`).
    pub payment_webhook_signature_failures_total: IntCounterVec,
    /// `agentpay_orders_total{status}`: orders reaching each status (`open` when created).
    pub orders_total: IntCounterVec,
    /// `agentpay_payment_provider_requests_total{operation,outcome}`: calls to the payment
    /// provider's API (`checkout_session`, `account`, `account_link`) by outcome (`ok`, `retry`,
    /// `error`).
    pub payment_provider_requests_total: IntCounterVec,
    /// `agentpay_pricing_cache_lookups_total{result}`: product price reads by carts and
    /// checkouts, `hit` (from memory) or `miss` (loaded from the catalog).
    pub pricing_cache_lookups_total: IntCounterVec,
    /// `agentpay_pricing_cache_invalidations_total`: merchants' cached prices dropped after a
    /// catalog write.
    pub pricing_cache_invalidations_total: prometheus::IntCounter,
    /// Subscribers dropped because their queue was full or closed.
    pub subscribers_dropped_total: prometheus::IntCounter,
    /// Open WebSocket connections.
    pub websocket_connections: IntGauge,
    /// WebSocket closes by code.
    pub websocket_closes_total: IntCounterVec,
    /// Agent configuration changes pushed to live conversations.
    pub config_reloads_total: prometheus::IntCounter,
    /// Requests refused by a limit, by scope.
    pub rate_limit_rejections_total: IntCounterVec,
    /// Time a limit check takes.
    pub rate_limit_check_duration_seconds: prometheus::Histogram,
    /// Time to first token by provider and model.
    pub llm_ttft_seconds: HistogramVec,
    /// Model tokens by model and kind (`input`, `output`).
    pub llm_tokens_total: IntCounterVec,
    /// WebSocket frames sent by event type.
    pub websocket_frames_sent_total: IntCounterVec,
    /// `websocket_frames_sent_total{type="delta"}`, resolved once (the hottest label).
    pub websocket_delta_frames_sent: prometheus::IntCounter,
    /// Deltas merged into a pending frame instead of going out alone.
    pub websocket_deltas_coalesced_total: prometheus::IntCounter,
    /// Reply text found missing on a connection, each healed by a new subscription.
    pub websocket_text_gaps_total: prometheus::IntCounter,
    /// Connections closed because they read too slowly.
    pub websocket_slow_consumer_disconnects_total: prometheus::IntCounter,
    /// Model cost in USD by model.
    pub llm_cost_usd_total: prometheus::CounterVec,
    /// Replies given without the model because the merchant's budget was spent.
    pub llm_over_budget_replies_total: prometheus::IntCounter,
    /// Model calls that failed before their first token, by provider and kind.
    pub llm_errors_total: IntCounterVec,
    /// Calls that skipped a provider because its circuit breaker was open.
    pub llm_breaker_skips_total: IntCounterVec,
    /// Commits of the group-commit writer.
    pub db_write_commits_total: prometheus::IntCounter,
    /// Writes stored by the group-commit writer (over commits: the mean batch size).
    pub db_writes_total: prometheus::IntCounter,
    /// API requests being handled now.
    pub http_requests_in_flight: IntGauge,
    /// API requests refused at once with 503 because too many were in flight.
    pub http_requests_shed_total: prometheus::IntCounter,
    /// Catalog search time by mode, including the query's embedding.
    pub catalog_search_duration_seconds: HistogramVec,
    /// Active products without a current vector for the configured model.
    pub catalog_embeddings_pending: IntGauge,
    /// Products embedded by the indexer.
    pub catalog_products_embedded_total: prometheus::IntCounter,
    /// Indexer batches that failed.
    pub catalog_embedding_errors_total: prometheus::IntCounter,
    /// Imported rows by outcome (`written`, `rejected`).
    pub catalog_import_rows_total: IntCounterVec,
    /// Query vectors found in the query cache (`hit`) or asked of the model (`miss`).
    pub catalog_query_cache_total: IntCounterVec,
    /// Hybrid searches answered by full-text alone because the embedder failed.
    pub catalog_search_degraded_total: prometheus::IntCounter,
    /// Reads of a merchant's spelling vocabulary (its first, and one per refresh).
    pub catalog_vocabulary_reads_total: prometheus::IntCounter,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new(db_max_connections: u32) -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("agentpay".into()), None)
            .context("failed to create the metrics registry")?;
        let http_requests_total = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route template, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let http_request_duration_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request duration").buckets(
                vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ],
            ),
            &["route", "method"],
        )?;
        let db_pool_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let db_pool_max_connections = IntGauge::new(
            "db_pool_max_connections",
            "Most connections the database pool may open",
        )?;
        db_pool_max_connections.set(i64::from(db_max_connections));
        let build_info = IntGaugeVec::new(
            Opts::new("build_info", "Build information; the value is always 1"),
            &["version", "profile"],
        )?;
        let profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), profile])
            .set(1);

        let live_actors =
            IntGaugeVec::new(Opts::new("actors_live", "Live actors by kind"), &["kind"])?;
        let actor_events_total = IntCounterVec::new(
            Opts::new(
                "actor_events_total",
                "Actor lifecycle events by kind and event",
            ),
            &["kind", "event"],
        )?;
        let turns_total = IntCounterVec::new(
            Opts::new(
                "conversation_turns_total",
                "Finished conversation turns by outcome",
            ),
            &["outcome"],
        )?;
        let turns_by_intent_total = IntCounterVec::new(
            Opts::new(
                "conversation_turns_by_intent_total",
                "Understood turns by intent and by who handled them (rules or model)",
            ),
            &["intent", "handled_by"],
        )?;
        let agent_interventions_total = IntCounterVec::new(
            Opts::new(
                "agent_interventions_total",
                "Model answers the guard stopped (price, discount, prompt) or the offline agent \
                 replaced after a model failure (fallback)",
            ),
            &["kind"],
        )?;
        for kind in ["price", "discount", "prompt", "fallback"] {
            agent_interventions_total.with_label_values(&[kind]);
        }
        let payment_webhook_events_total = IntCounterVec::new(
            Opts::new(
                "payment_webhook_events_total",
                "Payment provider events received, by type and outcome",
            ),
            &["type", "outcome"],
        )?;
        let payment_webhook_signature_failures_total = IntCounterVec::new(
            Opts::new(
                "payment_webhook_signature_failures_total",
                "Payment webhook deliveries refused for their signature, by reason",
            ),
            &["reason"],
        )?;
        payment_webhook_events_total.with_label_values(&["checkout.session.completed", "applied"]);
        for reason in ["missing", "malformed", "stale", "mismatch"] {
            payment_webhook_signature_failures_total.with_label_values(&[reason]);
        }
        let orders_total = IntCounterVec::new(
            Opts::new("orders_total", "Orders reaching each status"),
            &["status"],
        )?;
        for status in agentpay_actors::order::OrderStatus::ALL {
            orders_total.with_label_values(&[status.as_str()]);
        }
        let payment_provider_requests_total = IntCounterVec::new(
            Opts::new(
                "payment_provider_requests_total",
                "Calls to the payment provider's API by operation and outcome",
            ),
            &["operation", "outcome"],
        )?;
        for op in ["checkout_session", "account", "account_link"] {
            for outcome in ["ok", "retry", "error"] {
                payment_provider_requests_total.with_label_values(&[op, outcome]);
            }
        }
        let pricing_cache_lookups_total = IntCounterVec::new(
            Opts::new(
                "pricing_cache_lookups_total",
                "Product price reads by carts and checkouts, from memory (hit) or loaded (miss)",
            ),
            &["result"],
        )?;
        for result in ["hit", "miss"] {
            pricing_cache_lookups_total.with_label_values(&[result]);
        }
        let pricing_cache_invalidations_total = prometheus::IntCounter::new(
            "pricing_cache_invalidations_total",
            "Merchants' cached prices dropped after a catalog write",
        )?;
        let subscribers_dropped_total = prometheus::IntCounter::new(
            "conversation_subscribers_dropped_total",
            "Subscribers dropped because their event queue was full or closed",
        )?;
        let websocket_connections =
            IntGauge::new("websocket_connections", "Open WebSocket connections")?;
        let websocket_closes_total = IntCounterVec::new(
            Opts::new(
                "websocket_closes_total",
                "WebSocket connections closed by the server, by close code",
            ),
            &["code"],
        )?;
        let config_reloads_total = prometheus::IntCounter::new(
            "agent_config_reloads_total",
            "Agent configuration changes pushed to live conversations",
        )?;
        let rate_limit_rejections_total = IntCounterVec::new(
            Opts::new(
                "rate_limit_rejections_total",
                "Requests refused by a limit, by scope",
            ),
            &["scope"],
        )?;
        let rate_limit_check_duration_seconds = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "rate_limit_check_duration_seconds",
                "Time a rate-limit check takes",
            )
            .buckets(vec![
                0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01,
            ]),
        )?;
        let llm_ttft_seconds = HistogramVec::new(
            HistogramOpts::new(
                "llm_ttft_seconds",
                "Time from a model call to its first token",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["provider", "model"],
        )?;
        let llm_tokens_total = IntCounterVec::new(
            Opts::new("llm_tokens_total", "Model tokens by model and kind"),
            &["model", "kind"],
        )?;
        let websocket_frames_sent_total = IntCounterVec::new(
            Opts::new(
                "websocket_frames_sent_total",
                "WebSocket frames sent, by event type",
            ),
            &["type"],
        )?;
        let websocket_deltas_coalesced_total = prometheus::IntCounter::new(
            "websocket_deltas_coalesced_total",
            "Deltas merged into a pending frame instead of going out alone",
        )?;
        let websocket_text_gaps_total = prometheus::IntCounter::new(
            "websocket_text_gaps_total",
            "Reply text found missing on a connection, each healed by a new subscription",
        )?;
        let websocket_slow_consumer_disconnects_total = prometheus::IntCounter::new(
            "websocket_slow_consumer_disconnects_total",
            "WebSocket connections closed because they read too slowly",
        )?;
        let llm_cost_usd_total = prometheus::CounterVec::new(
            Opts::new("llm_cost_usd_total", "Model cost in USD, by model"),
            &["model"],
        )?;
        let llm_over_budget_replies_total = prometheus::IntCounter::new(
            "llm_over_budget_replies_total",
            "Replies given without calling the model because the merchant's budget was spent",
        )?;
        let llm_errors_total = IntCounterVec::new(
            Opts::new(
                "llm_errors_total",
                "Model call attempts that failed before their first token, by provider and kind",
            ),
            &["provider", "kind"],
        )?;
        let llm_breaker_skips_total = IntCounterVec::new(
            Opts::new(
                "llm_breaker_skips_total",
                "Model calls that skipped a provider because its circuit breaker was open",
            ),
            &["provider"],
        )?;
        let db_write_commits_total = prometheus::IntCounter::new(
            "db_write_commits_total",
            "Commits of the group-commit writer",
        )?;
        let db_writes_total = prometheus::IntCounter::new(
            "db_writes_total",
            "Conversation writes stored by the group-commit writer",
        )?;
        let http_requests_in_flight =
            IntGauge::new("http_requests_in_flight", "API requests being handled now")?;
        let http_requests_shed_total = prometheus::IntCounter::new(
            "http_requests_shed_total",
            "API requests refused at once with 503 because too many were in flight",
        )?;
        let catalog_search_duration_seconds = HistogramVec::new(
            prometheus::HistogramOpts::new(
                "catalog_search_duration_seconds",
                "Catalog search time by mode, including the query's embedding",
            )
            .buckets(vec![
                0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["mode"],
        )?;
        let catalog_embeddings_pending = IntGauge::new(
            "catalog_embeddings_pending",
            "Active products without a current vector for the configured embedding model",
        )?;
        let catalog_products_embedded_total = prometheus::IntCounter::new(
            "catalog_products_embedded_total",
            "Products embedded by the background indexer",
        )?;
        let catalog_embedding_errors_total = prometheus::IntCounter::new(
            "catalog_embedding_errors_total",
            "Embedding batches of the background indexer that failed",
        )?;
        let catalog_import_rows_total = IntCounterVec::new(
            Opts::new(
                "catalog_import_rows_total",
                "Catalog import rows by outcome (written, rejected)",
            ),
            &["outcome"],
        )?;
        let catalog_query_cache_total = IntCounterVec::new(
            Opts::new(
                "catalog_query_cache_total",
                "Query vectors found in the query cache (hit) or asked of the embedding model (miss)",
            ),
            &["outcome"],
        )?;
        let catalog_search_degraded_total = prometheus::IntCounter::new(
            "catalog_search_degraded_total",
            "Hybrid searches answered by full-text alone because the embedding model failed",
        )?;
        let catalog_vocabulary_reads_total = prometheus::IntCounter::new(
            "catalog_vocabulary_reads_total",
            "Reads of a merchant's spelling vocabulary from its catalog (the first, then one per refresh)",
        )?;
        registry.register(Box::new(catalog_vocabulary_reads_total.clone()))?;
        for outcome in ["hit", "miss"] {
            catalog_query_cache_total.with_label_values(&[outcome]);
        }
        registry.register(Box::new(catalog_query_cache_total.clone()))?;
        registry.register(Box::new(catalog_search_degraded_total.clone()))?;
        for mode in ["hybrid", "vector", "text"] {
            catalog_search_duration_seconds.with_label_values(&[mode]);
        }
        for outcome in ["written", "rejected"] {
            catalog_import_rows_total.with_label_values(&[outcome]);
        }
        registry.register(Box::new(catalog_search_duration_seconds.clone()))?;
        registry.register(Box::new(catalog_embeddings_pending.clone()))?;
        registry.register(Box::new(catalog_products_embedded_total.clone()))?;
        registry.register(Box::new(catalog_embedding_errors_total.clone()))?;
        registry.register(Box::new(catalog_import_rows_total.clone()))?;
        // Bounded label sets start at zero, so dashboards and alerts see the series before the
        // first event.
        for scope in [
            "api",
            "chat",
            "create_conversation",
            "connections_per_conversation",
            "connections_per_ip",
        ] {
            rate_limit_rejections_total.with_label_values(&[scope]);
        }
        for provider in ["anthropic", "openai", "openai_compatible"] {
            llm_breaker_skips_total.with_label_values(&[provider]);
            for kind in LLM_ERROR_KINDS {
                llm_errors_total.with_label_values(&[provider, kind]);
            }
        }
        for code in [
            "1002", "1009", "1011", "1012", "4001", "4003", "4004", "4008",
        ] {
            websocket_closes_total.with_label_values(&[code]);
        }
        for outcome in ["complete", "interrupted"] {
            turns_total.with_label_values(&[outcome]);
        }
        for intent in agentpay_actors::understanding::Intent::ALL {
            for by in ["rules", "model"] {
                turns_by_intent_total.with_label_values(&[intent.as_str(), by]);
            }
        }
        registry.register(Box::new(llm_cost_usd_total.clone()))?;
        registry.register(Box::new(llm_over_budget_replies_total.clone()))?;
        registry.register(Box::new(llm_errors_total.clone()))?;
        registry.register(Box::new(llm_breaker_skips_total.clone()))?;
        registry.register(Box::new(db_write_commits_total.clone()))?;
        registry.register(Box::new(db_writes_total.clone()))?;
        registry.register(Box::new(http_requests_in_flight.clone()))?;
        registry.register(Box::new(http_requests_shed_total.clone()))?;
        registry.register(Box::new(llm_ttft_seconds.clone()))?;
        registry.register(Box::new(llm_tokens_total.clone()))?;
        registry.register(Box::new(websocket_frames_sent_total.clone()))?;
        registry.register(Box::new(websocket_deltas_coalesced_total.clone()))?;
        registry.register(Box::new(websocket_text_gaps_total.clone()))?;
        registry.register(Box::new(websocket_slow_consumer_disconnects_total.clone()))?;
        registry.register(Box::new(config_reloads_total.clone()))?;
        registry.register(Box::new(rate_limit_rejections_total.clone()))?;
        registry.register(Box::new(rate_limit_check_duration_seconds.clone()))?;
        registry.register(Box::new(live_actors.clone()))?;
        registry.register(Box::new(actor_events_total.clone()))?;
        registry.register(Box::new(turns_total.clone()))?;
        registry.register(Box::new(turns_by_intent_total.clone()))?;
        registry.register(Box::new(agent_interventions_total.clone()))?;
        registry.register(Box::new(payment_webhook_events_total.clone()))?;
        registry.register(Box::new(payment_webhook_signature_failures_total.clone()))?;
        registry.register(Box::new(orders_total.clone()))?;
        registry.register(Box::new(payment_provider_requests_total.clone()))?;
        registry.register(Box::new(pricing_cache_lookups_total.clone()))?;
        registry.register(Box::new(pricing_cache_invalidations_total.clone()))?;
        registry.register(Box::new(subscribers_dropped_total.clone()))?;
        registry.register(Box::new(websocket_connections.clone()))?;
        registry.register(Box::new(websocket_closes_total.clone()))?;
        registry.register(Box::new(http_requests_total.clone()))?;
        registry.register(Box::new(http_request_duration_seconds.clone()))?;
        registry.register(Box::new(db_pool_connections.clone()))?;
        registry.register(Box::new(db_pool_max_connections))?;
        registry.register(Box::new(build_info))?;
        Ok(Self {
            registry,
            http_requests_total,
            http_request_duration_seconds,
            db_pool_connections,
            live_actors,
            actor_events_total,
            turns_total,
            turns_by_intent_total,
            agent_interventions_total,
            payment_webhook_events_total,
            payment_webhook_signature_failures_total,
            orders_total,
            payment_provider_requests_total,
            pricing_cache_lookups_total,
            pricing_cache_invalidations_total,
            subscribers_dropped_total,
            websocket_connections,
            websocket_closes_total,
            config_reloads_total,
            rate_limit_rejections_total,
            rate_limit_check_duration_seconds,
            llm_ttft_seconds,
            llm_tokens_total,
            websocket_delta_frames_sent: websocket_frames_sent_total.with_label_values(&["delta"]),
            websocket_frames_sent_total,
            websocket_deltas_coalesced_total,
            websocket_text_gaps_total,
            websocket_slow_consumer_disconnects_total,
            llm_cost_usd_total,
            llm_over_budget_replies_total,
            llm_errors_total,
            llm_breaker_skips_total,
            db_write_commits_total,
            db_writes_total,
            http_requests_in_flight,
            http_requests_shed_total,
            catalog_search_duration_seconds,
            catalog_embeddings_pending,
            catalog_products_embedded_total,
            catalog_embedding_errors_total,
            catalog_import_rows_total,
            catalog_query_cache_total,
            catalog_search_degraded_total,
            catalog_vocabulary_reads_total,
        })
    }

    /// Records one finished HTTP request.
    pub fn observe_http(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        self.http_requests_total
            .with_label_values(&[route, method, status.as_str()])
            .inc();
        self.http_request_duration_seconds
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// Counts a model call attempt that failed before its first token.
    pub fn llm_error(&self, provider: &str, error: &agentpay_actors::ports::model::ModelError) {
        use agentpay_actors::ports::model::ModelError as E;
        let kind = match error {
            E::RateLimited { .. } => "rate_limited",
            E::Overloaded => "overloaded",
            E::Authentication => "authentication",
            E::BadRequest(_) => "bad_request",
            E::Timeout => "timeout",
            E::BrokenStream(_) => "broken_stream",
            E::Server { .. } => "server",
            E::Unreachable(_) => "unreachable",
            E::OverBudget => "over_budget",
        };
        self.llm_errors_total
            .with_label_values(&[provider, kind])
            .inc();
    }

    /// Counts an actor lifecycle event.
    pub fn actor_event(&self, kind: &str, event: &str) {
        self.actor_events_total
            .with_label_values(&[kind, event])
            .inc();
    }

    /// Renders the registry in the Prometheus text format, refreshing the pool gauges first.
    pub fn render(&self, pool: &PgPool) -> anyhow::Result<String> {
        let size = i64::from(pool.size());
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        self.db_pool_connections
            .with_label_values(&["idle"])
            .set(idle);
        self.db_pool_connections
            .with_label_values(&["in_use"])
            .set((size - idle).max(0));
        let mut buf = Vec::with_capacity(8 * 1024);
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .context("failed to encode metrics")?;
        String::from_utf8(buf).context("metrics are not UTF-8")
    }
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
