//! Configuration: typed settings, loaded in layers, validated at startup.
//!
//! Precedence (later wins):
//! 1. `config/default.toml`, compiled into the binary, so every key has a default that matches
//!    the code;
//! 2. `{config_dir}/{env}.toml`, where `env` is `AGENTPAY_ENV` (`development` by default, `test`,
//!    `production`) and `config_dir` is `--config-dir` / `AGENTPAY_CONFIG_DIR`, falling back to
//!    the source tree's `config/` folder when it exists (never the working directory);
//! 3. environment variables `AGENTPAY__SECTION__KEY` (for example `AGENTPAY__SERVER__PORT=8081`).
//!
//! Every key of every layer is checked against `default.toml`: an unknown key stops startup with
//! a message naming the key and where it came from. Secrets (`DATABASE_URL`,
//! `AGENTPAY_ADMIN_TOKEN`) are read only from the environment, held in [`Secret`], and never
//! printed.

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Value;

/// The compiled-in defaults: every key the settings accept.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Prefix of environment variables that override configuration keys.
const ENV_PREFIX: &str = "AGENTPAY__";

/// Which deployment this process is: selects the `{env}.toml` layer and log defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine (the default).
    Development,
    /// The black-box test suite.
    Test,
    /// A deployed server.
    Production,
}

impl Environment {
    /// Reads `AGENTPAY_ENV`; unset means development.
    pub fn from_value(value: Option<&str>) -> anyhow::Result<Self> {
        match value.map(str::trim) {
            None | Some("") | Some("development") | Some("dev") => Ok(Self::Development),
            Some("test") => Ok(Self::Test),
            Some("production") | Some("prod") => Ok(Self::Production),
            Some(other) => bail!(
                "AGENTPAY_ENV={other:?} is not valid: expected development, test or production"
            ),
        }
    }

    /// The file name of this environment's layer.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// A secret value: never shown by `Debug`, `Display` or serialization.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// All settings, typed. Built by [`Settings::load`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Postgres pool and migrations.
    pub database: DatabaseSettings,
    /// The `/ready` probe.
    pub readiness: ReadinessSettings,
    /// Logging.
    pub log: LogSettings,
    /// Conversation engine.
    pub conversation: ConversationConfig,
    /// WebSocket connections.
    pub websocket: WebSocketSettings,
    /// Model providers.
    pub llm: LlmSettings,
    /// Rate limits and abuse controls.
    pub rate_limit: RateLimitSettings,
    /// Product embeddings.
    pub embeddings: EmbeddingSettings,
    /// Catalog import and search.
    pub catalog: CatalogSettings,
}

/// `[embeddings]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSettings {
    /// `local` (all-MiniLM-L6-v2 with candle), `openai`, or `none` (full-text search only).
    pub provider: EmbeddingProvider,
    /// Products embedded per call.
    pub batch_size: usize,
    /// Milliseconds between two looks for products to embed when there was nothing to do.
    pub index_interval_ms: u64,
    /// `[embeddings.local]`
    pub local: LocalEmbeddingSettings,
    /// `[embeddings.openai]`
    pub openai: OpenAiEmbeddingSettings,
}

/// Embedding providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingProvider {
    /// all-MiniLM-L6-v2 on the CPU (scripts/models.sh fetch).
    Local,
    /// OpenAI embeddings (`OPENAI_API_KEY`).
    Openai,
    /// No vectors: search is full-text only.
    None,
}

/// `[embeddings.local]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LocalEmbeddingSettings {
    /// Folder with model.safetensors, tokenizer.json and config.json (relative to the working
    /// directory when not absolute).
    pub model_dir: String,
    /// Forward passes run in parallel when embedding a batch (each uses about one core).
    pub threads: usize,
}

/// `[embeddings.openai]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiEmbeddingSettings {
    /// Base URL (tests point it at a local server).
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Vector length asked for (at most 2000, pgvector's HNSW limit).
    pub dimensions: usize,
    /// Milliseconds allowed per request.
    pub timeout_ms: u64,
}

/// `[catalog]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSettings {
    /// Largest import upload in bytes.
    pub import_max_bytes: u64,
    /// Rows written per statement during an import.
    pub import_batch_rows: usize,
    /// Largest JSON body of `POST /v1/products/bulk`, in bytes.
    pub bulk_max_bytes: usize,
    /// Candidates each retrieval stage hands to the fusion.
    pub search_candidates: usize,
    /// pgvector's `hnsw.ef_search` for catalog searches (recall against speed).
    pub hnsw_ef_search: u32,
    /// The `k` of reciprocal rank fusion: score = sum of weight / (k + rank).
    pub rrf_k: u32,
    /// The full-text stage's weight in the fusion (the vector stage's is 1).
    pub text_weight: f64,
}

/// `[rate_limit]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Master switch.
    pub enabled: bool,
    /// Merchant API requests per minute per key.
    pub api_requests_per_minute: u32,
    /// Visitor messages per minute per conversation.
    pub chat_messages_per_minute: u32,
    /// Conversation creations per minute per IP.
    pub conversations_per_minute_per_ip: u32,
    /// WebSocket connections per conversation.
    pub connections_per_conversation: u32,
    /// WebSocket connections per IP.
    pub connections_per_ip: u32,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<String>,
    /// Sweep interval in seconds.
    pub sweep_interval_secs: u64,
    /// Check timeout in milliseconds.
    pub check_timeout_ms: u64,
}

/// `[conversation]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationConfig {
    /// Idle seconds before an actor passivates.
    pub idle_timeout_secs: u64,
    /// History messages given to the model.
    pub history_messages: usize,
    /// Estimated tokens of history given to the model.
    pub history_tokens: usize,
    /// Most messages replayed on resume.
    pub replay_limit: usize,
    /// Largest visitor message in bytes.
    pub max_message_bytes: usize,
    /// Longest client_id in bytes.
    pub max_client_id_bytes: usize,
    /// The system prompt.
    pub system_prompt: String,
    /// Most tokens per model call.
    pub max_reply_tokens: u32,
    /// Most rounds of tool calls in one turn before the model must answer.
    pub max_tool_rounds: usize,
    /// Milliseconds per actor request.
    pub ask_timeout_ms: u64,
    /// Seconds the HTTP fallback waits for a reply.
    pub reply_timeout_secs: u64,
    /// Test-only fault injection (refused in production).
    pub fault_injection: bool,
}

/// `[websocket]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebSocketSettings {
    /// Seconds between pings.
    pub heartbeat_interval_secs: u64,
    /// Seconds of client silence before closing.
    pub client_timeout_secs: u64,
    /// Delta coalescing interval in milliseconds.
    pub flush_interval_ms: u64,
    /// Outbound frames before a connection counts as too slow.
    pub max_outbound_frames: usize,
    /// Largest client frame in bytes.
    pub max_frame_bytes: usize,
    /// Events buffered between a conversation and a connection.
    pub subscriber_queue_events: usize,
}

/// `[llm]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// The provider answering every role when no chain is configured.
    pub provider: LlmProvider,
    /// Providers tried in order for replies; empty: just `provider`.
    pub chain: Vec<LlmProvider>,
    /// Providers tried in order for the `fast` role; empty: the same as for replies.
    pub fast_chain: Vec<LlmProvider>,
    /// Milliseconds to connect to a provider.
    pub connect_timeout_ms: u64,
    /// Milliseconds from the request to the response head.
    pub first_byte_timeout_ms: u64,
    /// Milliseconds allowed between two chunks of a streamed answer.
    pub idle_timeout_ms: u64,
    /// Retries per provider, only before the first token.
    pub max_retries: u32,
    /// The first retry's wait in milliseconds (doubling, with jitter).
    pub retry_base_ms: u64,
    /// The longest wait between retries, `retry-after` included.
    pub retry_max_ms: u64,
    /// Failed calls in a row that open a provider's circuit breaker.
    pub breaker_failures: u32,
    /// Seconds an open breaker skips its provider.
    pub breaker_cooldown_secs: u64,
    /// Prices per model.
    pub prices: Vec<ModelPrice>,
    /// `[llm.simulated]`
    pub simulated: SimulatedSettings,
    /// `[llm.anthropic]`
    pub anthropic: ProviderSettings,
    /// `[llm.openai]`
    pub openai: ProviderSettings,
    /// `[llm.openai_compatible]`
    pub openai_compatible: ProviderSettings,
}

/// One model's prices in USD per million tokens.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// The model's name as its provider reports it.
    pub model: String,
    /// Uncached prompt tokens.
    pub input: f64,
    /// Generated tokens.
    pub output: f64,
    /// Prompt tokens written into the provider's cache.
    pub cache_write: f64,
    /// Prompt tokens read from the provider's cache.
    pub cache_read: f64,
}

/// `[llm.<provider>]` of an HTTP provider.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Base URL (tests point it at a local server).
    pub base_url: String,
    /// Model name (the `main` role: replies).
    pub model: String,
    /// Model name for the `fast` role (classification, summaries).
    pub fast_model: String,
}

/// Model providers: the core's one provider enum (`simulated`, `anthropic`, `openai`,
/// `openai_compatible`; the last reads `OPENAI_COMPATIBLE_API_KEY` if its server wants one).
pub use agentpay_actors::ports::ProviderKind as LlmProvider;

/// `[llm.simulated]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedSettings {
    /// Milliseconds to the first token.
    pub ttft_ms: u64,
    /// Tokens per second.
    pub tokens_per_sec: f64,
    /// Tokens per reply.
    pub reply_tokens: usize,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Interface to bind.
    pub host: String,
    /// TCP port; 0 picks a free one.
    pub port: u16,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds in-flight requests get after a shutdown signal.
    pub shutdown_timeout_secs: u64,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// SO_SNDBUF for accepted connections; 0 keeps the kernel default.
    pub socket_send_buffer_bytes: usize,
    /// Public base URL; empty means derived from host and port.
    pub public_url: String,
    /// Most `/v1` requests handled at once; more get 503 `overloaded` at once. 0: no limit.
    pub max_inflight_requests: usize,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Most pool connections.
    pub max_connections: u32,
    /// Idle connections kept.
    pub min_connections: u32,
    /// Milliseconds to wait for a connection.
    pub acquire_timeout_ms: u64,
    /// Apply migrations when serving starts.
    pub migrate_on_startup: bool,
    /// Per-statement limit in milliseconds; 0 disables it.
    pub statement_timeout_ms: u64,
    /// Group-commit lanes (concurrent write transactions).
    pub write_lanes: usize,
    /// Most writes one lane commits together.
    pub write_batch_max: usize,
}

/// `[readiness]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessSettings {
    /// Milliseconds `/ready` waits for the database.
    pub timeout_ms: u64,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// Default filter when `RUST_LOG` is unset.
    pub level: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Secrets, read only from the environment.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// `DATABASE_URL`.
    pub database_url: Option<Secret>,
    /// `AGENTPAY_ADMIN_TOKEN`; when unset the operator endpoints refuse every request.
    pub admin_token: Option<Secret>,
    /// `ANTHROPIC_API_KEY`.
    pub anthropic_api_key: Option<Secret>,
    /// `OPENAI_API_KEY`.
    pub openai_api_key: Option<Secret>,
    /// `OPENAI_COMPATIBLE_API_KEY` (most self-hosted servers want none).
    pub openai_compatible_api_key: Option<Secret>,
}

impl Secrets {
    /// Reads the secrets from an environment snapshot. Empty values count as unset.
    pub fn from_env(env: &BTreeMap<String, String>) -> Self {
        let get = |k: &str| {
            env.get(k)
                .filter(|v| !v.trim().is_empty())
                .map(|v| Secret::new(v.trim()))
        };
        Self {
            database_url: get("DATABASE_URL"),
            admin_token: get("AGENTPAY_ADMIN_TOKEN"),
            anthropic_api_key: get("ANTHROPIC_API_KEY"),
            openai_api_key: get("OPENAI_API_KEY"),
            openai_compatible_api_key: get("OPENAI_COMPATIBLE_API_KEY"),
        }
    }

    /// `DATABASE_URL`, or an error that says how to get one.
    pub fn require_database_url(&self) -> anyhow::Result<&Secret> {
        self.database_url.as_ref().ok_or_else(|| {
            anyhow!(
                "DATABASE_URL is not set. Start the local Postgres with `scripts/pg.sh start` \
                 (it prints the URL) or use `scripts/run.sh`, which does it for you"
            )
        })
    }
}

/// Where the configuration came from, for the startup log.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The typed settings.
    pub settings: Settings,
    /// Secrets from the environment.
    pub secrets: Secrets,
    /// The environment selected by `AGENTPAY_ENV`.
    pub environment: Environment,
    /// Layers applied, in order, for the startup log.
    pub sources: Vec<String>,
}

/// Inputs of [`Settings::load`]: an explicit environment snapshot, so tests never race on the
/// process environment.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The environment variables to read (usually `std::env::vars()`).
    pub env: BTreeMap<String, String>,
    /// `--config-dir`, which wins over `AGENTPAY_CONFIG_DIR`.
    pub config_dir: Option<PathBuf>,
}

impl LoadOptions {
    /// Options from the real process environment.
    pub fn from_process(config_dir: Option<PathBuf>) -> Self {
        Self {
            env: std::env::vars().collect(),
            config_dir,
        }
    }
}

/// The config folder of the source tree, used when neither `--config-dir` nor
/// `AGENTPAY_CONFIG_DIR` is given. Compiled in, so it never depends on the working directory.
fn source_config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

impl Settings {
    /// Loads and validates the settings (precedence in the module docs).
    pub fn load(opts: &LoadOptions) -> anyhow::Result<LoadedConfig> {
        let environment =
            Environment::from_value(opts.env.get("AGENTPAY_ENV").map(String::as_str))?;
        let defaults: Value = toml::from_str(DEFAULT_TOML).context("built-in default.toml")?;
        let mut merged = defaults.clone();
        let mut sources = vec!["built-in default.toml".to_string()];

        let explicit_dir = opts
            .config_dir
            .clone()
            .or_else(|| opts.env.get("AGENTPAY_CONFIG_DIR").map(PathBuf::from));
        let dir = explicit_dir.clone().unwrap_or_else(source_config_dir);
        if explicit_dir.is_some() && !dir.is_dir() {
            bail!("config folder {} does not exist", dir.display());
        }
        let file = dir.join(format!("{}.toml", environment.as_str()));
        if file.is_file() {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("failed to read {}", file.display()))?;
            let layer: Value = toml::from_str(&text)
                .map_err(|e| anyhow!("{} is not valid TOML: {e}", file.display()))?;
            check_known_keys(&defaults, &layer, "", &file.display().to_string())?;
            merge(&mut merged, layer);
            sources.push(file.display().to_string());
        }

        let mut env_keys: Vec<_> = opts
            .env
            .iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        env_keys.sort();
        for (name, raw) in env_keys {
            apply_env_override(&defaults, &mut merged, name, raw)?;
            sources.push(format!("env {name}"));
        }

        let de = merged;
        let settings: Settings = serde_path_to_error::deserialize(de)
            .map_err(|e| anyhow!("configuration key `{}` is invalid: {}", e.path(), e.inner()))?;
        settings.validate()?;
        if settings.conversation.fault_injection && environment == Environment::Production {
            bail!(
                "configuration key `conversation.fault_injection` is for tests and must not be \
                 true in production"
            );
        }
        Ok(LoadedConfig {
            settings,
            secrets: Secrets::from_env(&opts.env),
            environment,
            sources,
        })
    }

    /// Checks values serde cannot: ranges and relations between keys.
    fn validate(&self) -> anyhow::Result<()> {
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

    /// The effective configuration as TOML, for the startup log and `agentpay config`. It holds
    /// no secret: secrets are not part of `Settings`.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("<unprintable: {e}>"))
    }
}

/// Fails on any key of `layer` that `defaults` does not have.
fn check_known_keys(
    defaults: &Value,
    layer: &Value,
    prefix: &str,
    origin: &str,
) -> anyhow::Result<()> {
    let (Value::Table(known), Value::Table(given)) = (defaults, layer) else {
        return Ok(());
    };
    for (key, value) in given {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match known.get(key) {
            None => bail!("unknown configuration key `{path}` in {origin}"),
            Some(Value::Table(_)) if !value.is_table() => {
                bail!("configuration key `{path}` in {origin} must be a table")
            }
            Some(sub) => check_known_keys(sub, value, &path, origin)?,
        }
    }
    Ok(())
}

/// Deep-merges `layer` into `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut Value, layer: Value) {
    match (base, layer) {
        (Value::Table(b), Value::Table(l)) => {
            for (k, v) in l {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_table() && v.is_table() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, l) => *b = l,
    }
}

/// Applies one `AGENTPAY__SECTION__KEY=value`. The value is parsed as the type of the key's
/// default (integer, float, bool, string, or array as TOML), so `AGENTPAY__SERVER__PORT=8081` is
/// a number and a string key keeps digits as text.
fn apply_env_override(
    defaults: &Value,
    merged: &mut Value,
    name: &str,
    raw: &str,
) -> anyhow::Result<()> {
    let rest = &name[ENV_PREFIX.len()..];
    let parts: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
    let path = parts.join(".");
    if parts.iter().any(String::is_empty) {
        bail!(
            "environment variable {name} does not name a configuration key (expected AGENTPAY__SECTION__KEY)"
        );
    }
    let mut default = defaults;
    for p in &parts {
        default = default.get(p.as_str()).ok_or_else(|| {
            anyhow!("unknown configuration key `{path}` in environment variable {name}")
        })?;
    }
    let value = match default {
        Value::Table(_) => {
            bail!("environment variable {name} names the section `{path}`, not a key")
        }
        Value::String(_) => Value::String(raw.to_string()),
        Value::Integer(_) => Value::Integer(raw.trim().parse().map_err(|_| {
            anyhow!("configuration key `{path}` (from {name}) must be an integer, got {raw:?}")
        })?),
        Value::Float(_) => Value::Float(raw.trim().parse().map_err(|_| {
            anyhow!("configuration key `{path}` (from {name}) must be a number, got {raw:?}")
        })?),
        Value::Boolean(_) => Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => {
                bail!("configuration key `{path}` (from {name}) must be true or false, got {raw:?}")
            }
        }),
        Value::Array(_) => {
            let doc: toml::Table = toml::from_str(&format!("v = {raw}")).map_err(|_| {
                anyhow!("configuration key `{path}` (from {name}) must be a TOML array such as [\"a\", \"b\"], got {raw:?}")
            })?;
            doc.get("v").cloned().unwrap_or(Value::Array(vec![]))
        }
        Value::Datetime(_) => Value::String(raw.to_string()),
    };
    let mut target = merged;
    for (i, p) in parts.iter().enumerate() {
        let Value::Table(t) = target else {
            bail!("configuration key `{path}` cannot be set");
        };
        if i == parts.len() - 1 {
            t.insert(p.clone(), value);
            break;
        }
        target = t
            .entry(p.clone())
            .or_insert_with(|| Value::Table(Default::default()));
    }
    Ok(())
}

/// A Postgres URL with its password replaced by `***`, for logs.
pub fn redact_database_url(url: &str) -> String {
    // postgres://user:password@host:port/db?params
    let Some(scheme_end) = url.find("://") else {
        return "<unparseable DATABASE_URL>".to_string();
    };
    let after = &url[scheme_end + 3..];
    // Credentials end at the last '@' before the path.
    let authority_end = after.find('/').unwrap_or(after.len());
    let (redacted, tail) = match after[..authority_end].rfind('@') {
        Some(at) => {
            let creds = &after[..at];
            let user = match creds.find(':') {
                Some(colon) => format!("{}:***", &creds[..colon]),
                None => creds.to_string(),
            };
            (user, &after[at..])
        }
        None => (String::new(), after),
    };
    // A password may also travel as a query parameter.
    let tail = match tail.find("password=") {
        Some(i) => {
            let end = tail[i..].find('&').map(|e| i + e).unwrap_or(tail.len());
            format!("{}password=***{}", &tail[..i], &tail[end..])
        }
        None => tail.to_string(),
    };
    format!("{}://{}{}", &url[..scheme_end], redacted, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> LoadOptions {
        LoadOptions {
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            config_dir: None,
        }
    }

    #[test]
    fn defaults_load_and_validate() {
        let c = Settings::load(&opts(&[])).unwrap();
        assert_eq!(c.settings.server.port, 8080);
        assert_eq!(c.environment, Environment::Development);
    }

    #[test]
    fn an_environment_variable_overrides_a_key_with_its_type() {
        let c = Settings::load(&opts(&[
            ("AGENTPAY__SERVER__PORT", "8181"),
            ("AGENTPAY__DATABASE__MIGRATE_ON_STARTUP", "false"),
            ("AGENTPAY__SERVER__HOST", "0.0.0.0"),
        ]))
        .unwrap();
        assert_eq!(c.settings.server.port, 8181);
        assert!(!c.settings.database.migrate_on_startup);
        assert_eq!(c.settings.server.host, "0.0.0.0");
    }

    #[test]
    fn a_misspelled_environment_key_is_refused_by_name() {
        let err = Settings::load(&opts(&[("AGENTPAY__SERVER__PROT", "1")])).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("server.prot"), "{msg}");
        assert!(msg.contains("AGENTPAY__SERVER__PROT"), "{msg}");
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = Settings::load(&opts(&[("AGENTPAY__SERVER__PORT", "eighty")])).unwrap_err();
        assert!(err.to_string().contains("server.port"), "{err}");
        let err = Settings::load(&opts(&[("AGENTPAY__LOG__FORMAT", "xml")])).unwrap_err();
        assert!(err.to_string().contains("log.format"), "{err}");
        let err = Settings::load(&opts(&[("AGENTPAY__SERVER__PORT", "70000")])).unwrap_err();
        assert!(err.to_string().contains("server.port"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_a_file_names_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("test.toml"), "[server]\nprot = 1\n").unwrap();
        let mut o = opts(&[("AGENTPAY_ENV", "test")]);
        o.config_dir = Some(dir.path().to_path_buf());
        let err = Settings::load(&o).unwrap_err().to_string();
        assert!(
            err.contains("server.prot") && err.contains("test.toml"),
            "{err}"
        );
    }

    #[test]
    fn the_environment_layer_file_applies() {
        let c = Settings::load(&opts(&[("AGENTPAY_ENV", "test")])).unwrap();
        assert_eq!(c.settings.server.port, 0);
        let c = Settings::load(&opts(&[("AGENTPAY_ENV", "production")])).unwrap();
        assert_eq!(c.settings.log.format, LogFormat::Json);
    }

    #[test]
    fn test_only_fault_injection_is_refused_in_production() {
        let on = ("AGENTPAY__CONVERSATION__FAULT_INJECTION", "true");
        let err = Settings::load(&opts(&[("AGENTPAY_ENV", "production"), on]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("conversation.fault_injection"), "{err}");
        assert!(Settings::load(&opts(&[("AGENTPAY_ENV", "test"), on])).is_ok());
    }

    #[test]
    fn min_connections_above_max_is_refused() {
        let err =
            Settings::load(&opts(&[("AGENTPAY__DATABASE__MIN_CONNECTIONS", "99")])).unwrap_err();
        assert!(
            err.to_string().contains("database.min_connections"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let c = Settings::load(&opts(&[
            ("DATABASE_URL", "postgres://u:hunter2@h/db"),
            ("AGENTPAY_ADMIN_TOKEN", "tok-very-secret"),
        ]))
        .unwrap();
        let dbg = format!("{:?}", c);
        assert!(
            !dbg.contains("hunter2") && !dbg.contains("tok-very-secret"),
            "{dbg}"
        );
        assert!(!c.settings.to_toml().contains("hunter2"));
    }

    #[test]
    fn database_urls_are_redacted() {
        assert_eq!(
            redact_database_url("postgres://app:s3cret@db:5432/agentpay"),
            "postgres://app:***@db:5432/agentpay"
        );
        assert_eq!(
            redact_database_url("postgres://postgres@127.0.0.1:54329/agentpay"),
            "postgres://postgres@127.0.0.1:54329/agentpay"
        );
        assert_eq!(
            redact_database_url("postgres://u@h/db?password=x&sslmode=require"),
            "postgres://u@h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact_database_url("postgres://h/db?password=x"),
            "postgres://h/db?password=***"
        );
        assert_eq!(
            redact_database_url("postgres://u:p%40ss@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
