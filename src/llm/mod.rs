//! Model providers: Anthropic Messages, OpenAI Chat Completions and OpenAI-compatible servers,
//! each streaming over SSE (`sse`), behind the engine's `ModelClient` port; the history as the
//! providers accept it (`history`: tool uses paired with their results); and the reliability
//! around them (`reliable`: retries before the first token, circuit breakers, fallback chain).
//!
//! [`build`] turns `[llm]` into the `ModelClient` the conversations use: one provider, or the
//! chain `llm.chain` names. The simulated model stays for tests, load runs and the offline demo.

pub mod anthropic;
pub mod history;
pub mod http;
pub mod openai;
pub mod reliable;
pub mod sse;

use crate::config::{LlmProvider, LlmSettings, Secrets};
use agentpay_actors::model::{SimulatedModel, SimulatedModelSettings};
use agentpay_actors::ports::ModelClient;
use anyhow::Context;
use reliable::{Breaker, BreakerPolicy, ChainObserver, FallbackChain, Link, RetryPolicy};
use std::sync::Arc;
use std::time::Duration;

pub use agentpay_actors::ports::ModelRole as Role;

/// One provider's client for `role`, from its settings and key.
pub fn provider(
    which: LlmProvider,
    role: Role,
    settings: &LlmSettings,
    secrets: &Secrets,
) -> anyhow::Result<Arc<dyn ModelClient>> {
    let model = |p: &crate::config::ProviderSettings| match role {
        Role::Main => p.model.clone(),
        Role::Fast => p.fast_model.clone(),
    };
    let timeouts = http::Timeouts {
        connect: Duration::from_millis(settings.connect_timeout_ms),
        first_byte: Duration::from_millis(settings.first_byte_timeout_ms),
        idle: Duration::from_millis(settings.idle_timeout_ms),
    };
    Ok(match which {
        LlmProvider::Simulated => {
            let s = &settings.simulated;
            Arc::new(SimulatedModel::new(SimulatedModelSettings {
                ttft: Duration::from_millis(s.ttft_ms),
                tokens_per_sec: s.tokens_per_sec,
                reply_tokens: s.reply_tokens,
            }))
        }
        LlmProvider::Anthropic => {
            let key = secrets.anthropic_api_key.clone().context(
                "llm.provider or llm.chain uses anthropic, but ANTHROPIC_API_KEY is not set",
            )?;
            let p = &settings.anthropic;
            Arc::new(
                anthropic::AnthropicClient::new(&p.base_url, &model(p), key, timeouts)?
                    .with_caching(settings.prompt_caching),
            )
        }
        LlmProvider::Openai => {
            let key = secrets
                .openai_api_key
                .clone()
                .context("llm.provider or llm.chain uses openai, but OPENAI_API_KEY is not set")?;
            let p = &settings.openai;
            Arc::new(
                openai::OpenAiClient::new(
                    &p.base_url,
                    &model(p),
                    Some(key),
                    openai::Dialect::OpenAi,
                    timeouts,
                )?
                .with_tools(p.tools),
            )
        }
        LlmProvider::OpenaiCompatible => {
            let p = &settings.openai_compatible;
            Arc::new(
                openai::OpenAiClient::new(
                    &p.base_url,
                    &model(p),
                    secrets.openai_compatible_api_key.clone(),
                    openai::Dialect::Compatible,
                    timeouts,
                )?
                .with_tools(p.tools),
            )
        }
    })
}

/// The providers `role` tries, in order.
pub fn chain(settings: &LlmSettings, role: Role) -> Vec<LlmProvider> {
    match role {
        Role::Fast if !settings.fast_chain.is_empty() => settings.fast_chain.clone(),
        _ if !settings.chain.is_empty() => settings.chain.clone(),
        _ => vec![settings.provider],
    }
}

/// Whether `role` has a real model (any provider but the simulated one).
pub fn is_real(settings: &LlmSettings, role: Role) -> bool {
    chain(settings, role)
        .iter()
        .any(|p| *p != LlmProvider::Simulated)
}

/// The model for `role`: its chain (`llm.chain`, or `llm.fast_chain` for the fast role when
/// set), else `llm.provider`, either way with retries and a circuit breaker per provider.
pub fn build(
    settings: &LlmSettings,
    secrets: &Secrets,
    observer: Arc<dyn ChainObserver>,
    role: Role,
) -> anyhow::Result<Arc<dyn ModelClient>> {
    let names = chain(settings, role);
    if names == [LlmProvider::Simulated] {
        // Nothing to retry or fall back to: the simulated model never fails.
        return provider(LlmProvider::Simulated, role, settings, secrets);
    }
    let breaker = BreakerPolicy {
        failure_threshold: settings.breaker_failures,
        cooldown: Duration::from_secs(settings.breaker_cooldown_secs),
    };
    let links = names
        .iter()
        .map(|&name| {
            Ok(Link {
                client: provider(name, role, settings, secrets)?,
                breaker: Arc::new(Breaker::new(breaker)),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let retry = RetryPolicy {
        max_retries: settings.max_retries,
        base_backoff: Duration::from_millis(settings.retry_base_ms),
        max_backoff: Duration::from_millis(settings.retry_max_ms),
    };
    Ok(Arc::new(FallbackChain::new(links, retry, observer)))
}

/// A model's text as the engine keeps it: a NUL character (which a model may emit, and which
/// Postgres text cannot hold) becomes U+FFFD, so what the visitor is shown is what is stored.
pub(crate) fn clean_text(text: &str) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text.to_string()
    }
}
