//! The `agentpay` crate: the edges of the engine (CLI, configuration, HTTP, storage, metrics).
//! The engine core lives in the `agentpay-actors` crate; this crate depends on it, never the
//! reverse.
//!
//! Map:
//! - [`cli`]: the `agentpay` command (`serve`, `migrate`, `merchant`, `config`, `import`, `eval`).
//! - [`config`]: layered, typed, validated settings; secrets from the environment only.
//! - [`telemetry`]: tracing setup (pretty or JSON logs).
//! - [`startup`]: `Application::build` / `run_until_stopped` (with graceful shutdown).
//! - [`engine`]: builds the conversation engine (`EngineDeps`: the Postgres store, models,
//!   catalog, metering, metrics observer) and its registries.
//! - [`http`]: routes, authentication (keys and visitors), errors, middleware (request ids,
//!   metrics, CORS), the conversation wire format (`http::wire`), the WebSocket session actor
//!   and the SSE fallback.
//! - [`llm`]: model providers (Anthropic, OpenAI, OpenAI-compatible) with tools, retries,
//!   breakers and fallback chains.
//! - [`metering`]: model prices and merchants' spend (the `Metering` port).
//! - [`merchants`]: merchant and API-key rules shared by the HTTP API and the CLI.
//! - [`store`]: Postgres pool, migrations and queries.
//! - [`catalog`]: products, imports (CSV, JSON, Polar), the embedding indexer, hybrid search and
//!   its relevance evaluation.
//! - [`embed`]: embedders (local all-MiniLM-L6-v2 with candle, OpenAI).
//! - [`metrics`]: the app's Prometheus registry.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod demo;
pub mod embed;
pub mod engine;
pub mod http;
pub mod intents;
pub mod llm;
pub mod merchants;
pub mod metering;
pub mod metrics;
pub mod payments;
pub mod startup;
pub mod store;
pub mod telemetry;
