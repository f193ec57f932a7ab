//! The typed settings: [`Settings`] and one struct per `[section]` of `config/default.toml`,
//! each with `deny_unknown_fields`. Loading lives in the parent module, range checks in
//! `validate`.

use serde::{Deserialize, Serialize};

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
    /// How turns are answered.
    pub agent: AgentSettings,
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
    /// `[payments]`
    pub payments: PaymentSettings,
    /// `[demo]`
    pub demo: DemoSettings,
    /// `[privacy]`
    pub privacy: PrivacySettings,
}

/// `[privacy]`: how long visitors' conversations are kept (docs/security.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySettings {
    /// Conversations with no activity for this many days are deleted with their messages,
    /// cart and handoff requests (orders stay, without the link); 0 keeps them for ever.
    pub retention_days: u32,
    /// Seconds between two retention sweeps.
    pub sweep_interval_secs: u64,
}

/// `[demo]`: the offline demo store at `/demo`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Serve the demo store (and create its merchant and catalog on first start).
    pub enabled: bool,
    /// The demo merchant's publishable key (public by design; must start with `pk_`).
    pub publishable_key: String,
}

/// `[embeddings]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSettings {
    /// `e5` (multilingual-e5-small behind scripts/embedder.sh), `local` (all-MiniLM-L6-v2
    /// with candle), `openai`, or `none` (full-text search only).
    pub provider: EmbeddingProvider,
    /// Products embedded per call.
    pub batch_size: usize,
    /// Milliseconds between two looks for products to embed when there was nothing to do.
    pub index_interval_ms: u64,
    /// Query vectors kept in memory (least recently used dropped first); 0 turns the cache off.
    pub query_cache_entries: usize,
    /// `[embeddings.e5]`
    pub e5: E5EmbeddingSettings,
    /// `[embeddings.local]`
    pub local: LocalEmbeddingSettings,
    /// `[embeddings.openai]`
    pub openai: OpenAiEmbeddingSettings,
}

/// Embedding providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingProvider {
    /// multilingual-e5-small (4-bit) behind the local OpenAI-compatible server that
    /// `scripts/embedder.sh start` runs: the default; queries in any of ~100 languages.
    E5,
    /// all-MiniLM-L6-v2 on the CPU (scripts/models.sh fetch); English only.
    Local,
    /// OpenAI embeddings (`OPENAI_API_KEY`).
    Openai,
    /// No vectors: search is full-text only.
    None,
}

/// `[embeddings.e5]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct E5EmbeddingSettings {
    /// The embeddings server's base URL (`scripts/embedder.sh url`).
    pub base_url: String,
    /// The model name it serves; also the key its vectors are stored under.
    pub model: String,
    /// Milliseconds allowed per request (a batch of passages takes seconds on two cores).
    pub timeout_ms: u64,
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
    /// For a query in another language than English: the weight of the vector list of its
    /// English words (the query as typed has weight 1).
    pub translated_weight: f64,
    /// Entity boost: each attribute of a candidate that names what the query asks for (a
    /// colour, a material, "waterproof") adds this share of the best fused score.
    pub attribute_boost: f64,
    /// The fused candidates the boost reorders.
    pub boost_depth: usize,
    /// Correct query words the catalog does not use to its closest words (full-text stage).
    pub spelling: bool,
    /// Pseudo-relevance feedback: the weight of a vector list searched again with the query's
    /// vector moved towards the best fused candidates' (0: off).
    pub feedback_weight: f64,
    /// Seconds a product's price and stock stay in the pricing cache (writes on this node drop
    /// them at once; other nodes see a write at most this late).
    pub price_cache_ttl_secs: u64,
    /// Products kept in the pricing cache per merchant.
    pub price_cache_entries: usize,
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

/// `[agent]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    /// `rules` or `model`.
    pub mode: AgentMode,
    /// Below this confidence (0 to 1), the `fast` model decides a message's intent when a
    /// real model is configured.
    pub intent_threshold: f32,
}

/// How turns are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentMode {
    /// The local understanding and the offline agent answer (the `fast` model decides unsure
    /// messages when a real model is configured).
    Rules,
    /// Every turn goes to the `main` model with the shopping tools.
    Model,
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
    /// Seconds a turn's model calls may take together before the turn gives up on the model
    /// (the offline agent answers, in rules mode).
    pub turn_deadline_secs: u64,
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
    /// Anthropic: mark the stable prefix (tools, system prompt) and a tool loop's prompt as
    /// cacheable. OpenAI caches repeated prefixes by itself.
    pub prompt_caching: bool,
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
    /// Whether the `main` model calls tools reliably. When false the offline agent acts (search,
    /// cart) and the model only words its replies (docs/agent.md).
    pub tools: bool,
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

impl Settings {
    /// The effective configuration as TOML, for the startup log and `agentpay config`. It holds
    /// no secret: secrets are not part of `Settings`.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("<unprintable: {e}>"))
    }
}

/// `[payments]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettings {
    /// Who takes payments.
    pub provider: PaymentProvider,
    /// Minutes a payment page stays valid.
    pub session_minutes: u64,
    /// `[payments.stripe]`
    pub stripe: StripeSettings,
}

/// `[payments.stripe]`: Stripe Checkout on each merchant's connected account.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StripeSettings {
    /// The API's base URL (tests point it at a fake).
    pub base_url: String,
    /// How a payment reaches the merchant's connected account (docs/decisions/0012).
    pub charges: ChargeType,
    /// The platform's fee, in basis points of the order total (0 for none).
    pub platform_fee_bps: u32,
    /// Seconds each attempt of an API call may take.
    pub timeout_secs: u64,
    /// Attempts of a call that failed on the network or with a retryable status, all with the
    /// same idempotency key.
    pub max_attempts: u32,
    /// Country of newly created connected accounts (ISO 3166-1 alpha-2).
    pub account_country: String,
}

/// How a payment reaches a merchant's connected account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeType {
    /// The session and the charge live on the merchant's account (`Stripe-Account` header);
    /// the platform takes an application fee. Standard accounts.
    Direct,
    /// The charge is on the platform and transferred to the merchant's account
    /// (`transfer_data[destination]`), less the fee. Express accounts.
    Destination,
}

/// Who takes payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentProvider {
    /// The engine's own payment page (offline, no account): paying goes through the same
    /// webhook handling as Stripe's events.
    Simulated,
    /// Stripe Checkout on each merchant's connected account (Connect), with
    /// `STRIPE_SECRET_KEY` and `STRIPE_WEBHOOK_SECRET`.
    Stripe,
    /// No checkout: the agent says checkout is not configured.
    None,
}
