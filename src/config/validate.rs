//! Startup validation of [`Settings`]: the ranges and relations between keys that serde cannot
//! check. Every error names the offending key.

use super::Settings;
use anyhow::{anyhow, bail};

impl Settings {
    /// Checks values serde cannot: ranges and relations between keys.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if !(0.0..=1.0).contains(&self.agent.intent_threshold) {
            bail!("configuration key `agent.intent_threshold` must be between 0 and 1");
        }
        if !(30..=1440).contains(&self.payments.session_minutes) {
            bail!("configuration key `payments.session_minutes` must be between 30 and 1440");
        }
        if self.catalog.price_cache_ttl_secs == 0 || self.catalog.price_cache_entries == 0 {
            bail!(
                "configuration keys `catalog.price_cache_ttl_secs` and \
                 `catalog.price_cache_entries` must be at least 1"
            );
        }
        if !self.demo.publishable_key.starts_with("pk_")
            || !(16..=100).contains(&self.demo.publishable_key.len())
        {
            bail!(
                "configuration key `demo.publishable_key` must start with pk_ and be 16-100 characters"
            );
        }
        if self.privacy.sweep_interval_secs == 0 {
            bail!("configuration key `privacy.sweep_interval_secs` must be at least 1");
        }
        let st = &self.payments.stripe;
        if st.platform_fee_bps > 5000 {
            bail!("configuration key `payments.stripe.platform_fee_bps` must be at most 5000");
        }
        if st.timeout_secs == 0 || !(1..=10).contains(&st.max_attempts) {
            bail!(
                "configuration keys `payments.stripe.timeout_secs` (at least 1) and \
                 `payments.stripe.max_attempts` (1 to 10) are out of range"
            );
        }
        if !st.base_url.starts_with("http://") && !st.base_url.starts_with("https://") {
            bail!("configuration key `payments.stripe.base_url` must be an http(s) URL");
        }
        if st.account_country.len() != 2
            || !st.account_country.chars().all(|c| c.is_ascii_uppercase())
        {
            bail!(
                "configuration key `payments.stripe.account_country` must be two capital letters"
            );
        }
        if self.conversation.turn_deadline_secs == 0 {
            bail!("configuration key `conversation.turn_deadline_secs` must be at least 1");
        }
        if self.conversation.max_tool_rounds > 10 {
            bail!("configuration key `conversation.max_tool_rounds` must be at most 10");
        }
        let d = &self.database;
        if d.max_connections == 0 {
            bail!("configuration key `database.max_connections` must be at least 1");
        }
        if d.min_connections > d.max_connections {
            bail!(
                "configuration key `database.min_connections` ({}) must not exceed \
                 `database.max_connections` ({})",
                d.min_connections,
                d.max_connections
            );
        }
        if d.acquire_timeout_ms == 0 {
            bail!("configuration key `database.acquire_timeout_ms` must be positive");
        }
        if d.write_lanes == 0 || d.write_lanes >= d.max_connections as usize {
            bail!(
                "configuration key `database.write_lanes` must be between 1 and \
                 database.max_connections - 1 ({}), so reads always find a connection",
                d.max_connections.saturating_sub(1)
            );
        }
        if d.write_batch_max == 0 {
            bail!("configuration key `database.write_batch_max` must be positive");
        }
        if self.readiness.timeout_ms == 0 {
            bail!("configuration key `readiness.timeout_ms` must be positive");
        }
        if self.server.max_body_bytes < 1024 {
            bail!("configuration key `server.max_body_bytes` must be at least 1024");
        }
        if self.server.host.trim().is_empty() {
            bail!("configuration key `server.host` must not be empty");
        }
        let url = &self.server.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            bail!("configuration key `server.public_url` must start with http:// or https://");
        }
        let c = &self.conversation;
        if c.max_message_bytes == 0 || c.max_message_bytes > 1 << 20 {
            bail!(
                "configuration key `conversation.max_message_bytes` must be between 1 and 1048576"
            );
        }
        if c.max_client_id_bytes == 0 || c.max_client_id_bytes > 255 {
            bail!("configuration key `conversation.max_client_id_bytes` must be between 1 and 255");
        }
        if c.ask_timeout_ms == 0 {
            bail!("configuration key `conversation.ask_timeout_ms` must be positive");
        }
        if c.history_tokens < 100 {
            bail!("configuration key `conversation.history_tokens` must be at least 100");
        }
        if c.history_messages == 0 {
            bail!("configuration key `conversation.history_messages` must be at least 1");
        }
        let w = &self.websocket;
        if w.heartbeat_interval_secs == 0 || w.client_timeout_secs <= w.heartbeat_interval_secs {
            bail!(
                "configuration key `websocket.client_timeout_secs` must exceed \
                 `websocket.heartbeat_interval_secs` (which must be positive)"
            );
        }
        if w.max_outbound_frames < 8 || w.subscriber_queue_events < 8 {
            bail!(
                "configuration keys `websocket.max_outbound_frames` and `websocket.subscriber_queue_events` must be at least 8"
            );
        }
        if w.max_frame_bytes < c.max_message_bytes {
            bail!(
                "configuration key `websocket.max_frame_bytes` must be at least `conversation.max_message_bytes`"
            );
        }
        let r = &self.rate_limit;
        for (key, v) in [
            ("api_requests_per_minute", r.api_requests_per_minute),
            ("chat_messages_per_minute", r.chat_messages_per_minute),
            (
                "conversations_per_minute_per_ip",
                r.conversations_per_minute_per_ip,
            ),
            (
                "connections_per_conversation",
                r.connections_per_conversation,
            ),
            ("connections_per_ip", r.connections_per_ip),
        ] {
            if v == 0 {
                bail!(
                    "configuration key `rate_limit.{key}` must be at least 1 (use rate_limit.enabled = false to turn limits off)"
                );
            }
        }
        for (i, p) in r.trusted_proxies.iter().enumerate() {
            if p.parse::<std::net::IpAddr>().is_err() {
                bail!(
                    "configuration key `rate_limit.trusted_proxies[{i}]` is not an IP address: {p:?}"
                );
            }
        }
        if r.sweep_interval_secs == 0 || r.check_timeout_ms == 0 {
            bail!(
                "configuration keys `rate_limit.sweep_interval_secs` and `rate_limit.check_timeout_ms` must be positive"
            );
        }
        let e = &self.embeddings;
        if e.batch_size == 0 || e.batch_size > 2048 {
            bail!("configuration key `embeddings.batch_size` must be between 1 and 2048");
        }
        if e.local.threads == 0 || e.local.threads > 64 {
            bail!("configuration key `embeddings.local.threads` must be between 1 and 64");
        }
        if e.query_cache_entries > 1_000_000 {
            bail!("configuration key `embeddings.query_cache_entries` must be at most 1000000");
        }
        if e.e5.timeout_ms == 0 || e.e5.model.trim().is_empty() {
            bail!(
                "configuration keys `embeddings.e5.timeout_ms` and `embeddings.e5.model` must be set"
            );
        }
        if e.index_interval_ms == 0 {
            bail!("configuration key `embeddings.index_interval_ms` must be positive");
        }
        if e.openai.dimensions == 0 || e.openai.dimensions > 2000 {
            bail!(
                "configuration key `embeddings.openai.dimensions` must be between 1 and 2000 \
                 (pgvector indexes at most 2000 dimensions)"
            );
        }
        let cat = &self.catalog;
        if cat.import_batch_rows == 0 || cat.import_batch_rows > 5000 {
            bail!("configuration key `catalog.import_batch_rows` must be between 1 and 5000");
        }
        if cat.search_candidates == 0 || cat.search_candidates > 1000 {
            bail!("configuration key `catalog.search_candidates` must be between 1 and 1000");
        }
        if !(cat.text_weight.is_finite() && (0.0..=10.0).contains(&cat.text_weight)) {
            bail!("configuration key `catalog.text_weight` must be between 0 and 10");
        }
        let weight = |w: f64| w.is_finite() && (0.0..=10.0).contains(&w);
        if ![
            cat.translated_weight,
            cat.attribute_boost,
            cat.feedback_weight,
        ]
        .into_iter()
        .all(weight)
        {
            bail!(
                "configuration keys `catalog.translated_weight`, `catalog.attribute_boost` and \
                 `catalog.feedback_weight` must be between 0 and 10"
            );
        }
        if cat.boost_depth == 0 || cat.boost_depth > 1000 {
            bail!("configuration key `catalog.boost_depth` must be between 1 and 1000");
        }
        if cat.hnsw_ef_search == 0 || cat.hnsw_ef_search > 1000 {
            bail!("configuration key `catalog.hnsw_ef_search` must be between 1 and 1000");
        }
        if cat.bulk_max_bytes < 1024 || cat.import_max_bytes < 1024 {
            bail!(
                "configuration keys `catalog.bulk_max_bytes` and `catalog.import_max_bytes` must be at least 1024"
            );
        }
        let sim = &self.llm.simulated;
        if !(sim.tokens_per_sec.is_finite() && sim.tokens_per_sec >= 0.0) {
            bail!("configuration key `llm.simulated.tokens_per_sec` must be a number >= 0");
        }
        if sim.reply_tokens == 0 {
            bail!("configuration key `llm.simulated.reply_tokens` must be at least 1");
        }
        let l = &self.llm;
        for (name, p) in [
            ("anthropic", &l.anthropic),
            ("openai", &l.openai),
            ("openai_compatible", &l.openai_compatible),
        ] {
            if !(p.base_url.starts_with("http://") || p.base_url.starts_with("https://")) {
                bail!(
                    "configuration key `llm.{name}.base_url` must start with http:// or https://"
                );
            }
            if p.model.trim().is_empty() || p.fast_model.trim().is_empty() {
                bail!("configuration keys `llm.{name}.model` and `.fast_model` must not be empty");
            }
        }
        for (key, v) in [
            ("connect_timeout_ms", l.connect_timeout_ms),
            ("first_byte_timeout_ms", l.first_byte_timeout_ms),
            ("idle_timeout_ms", l.idle_timeout_ms),
            ("retry_base_ms", l.retry_base_ms),
            ("breaker_cooldown_secs", l.breaker_cooldown_secs),
        ] {
            if v == 0 {
                bail!("configuration key `llm.{key}` must be positive");
            }
        }
        if l.retry_max_ms < l.retry_base_ms {
            bail!("configuration key `llm.retry_max_ms` must be at least `llm.retry_base_ms`");
        }
        if l.breaker_failures == 0 {
            bail!("configuration key `llm.breaker_failures` must be at least 1");
        }
        for (i, p) in l.prices.iter().enumerate() {
            if p.model.trim().is_empty() {
                bail!("configuration key `llm.prices[{i}].model` must not be empty");
            }
            for (kind, v) in [
                ("input", p.input),
                ("output", p.output),
                ("cache_write", p.cache_write),
                ("cache_read", p.cache_read),
            ] {
                if !(v.is_finite() && (0.0..=100_000.0).contains(&v)) {
                    bail!(
                        "configuration key `llm.prices[{i}].{kind}` must be a price in USD per million tokens, 0 to 100000"
                    );
                }
            }
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| anyhow!("configuration key `log.level` is not a valid filter: {e}"))?;
        Ok(())
    }
}
