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
