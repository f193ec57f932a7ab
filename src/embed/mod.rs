//! Embedders: the local all-MiniLM-L6-v2 model (candle) and OpenAI embeddings, behind the
//! engine's `Embedder` port, chosen by `[embeddings]`.

pub mod local;
pub mod openai;

use crate::config::{EmbeddingProvider, Secrets, Settings};
use agentpay_actors::ports::Embedder;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

/// The configured embedder, or `None` for `embeddings.provider = "none"`. Fails with a message
/// naming the fix when the local model is missing or the OpenAI key is not set.
pub fn build(settings: &Settings, secrets: &Secrets) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    let e = &settings.embeddings;
    match e.provider {
        EmbeddingProvider::None => Ok(None),
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
            let timeouts = crate::llm::http::Timeouts {
                connect: Duration::from_millis(settings.llm.connect_timeout_ms),
                first_byte: Duration::from_millis(e.openai.timeout_ms),
                idle: Duration::from_millis(e.openai.timeout_ms),
            };
            let client = crate::llm::http::client(&timeouts)?;
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
