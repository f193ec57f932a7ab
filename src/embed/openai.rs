//! OpenAI embeddings (`POST {base}/v1/embeddings`), for example `text-embedding-3-small` shortened
//! with `dimensions`. Any OpenAI-compatible server that serves `/v1/embeddings` works too.

use agentpay_actors::ports::{EmbedError, Embedder, PortFuture};
use serde::Deserialize;
use std::time::Duration;

/// An OpenAI embeddings client.
#[derive(Clone)]
pub struct OpenAiEmbedder {
    client: reqwest::Client,
    url: String,
    api_key: String,
    model: String,
    dimensions: usize,
    key: String,
    timeout: Duration,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("dimensions", &self.dimensions)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// A client for `model` at `base_url` returning `dimensions`-long vectors.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        api_key: String,
        model: String,
        dimensions: usize,
        timeout: Duration,
    ) -> Self {
        let key = format!("openai-{model}-{dimensions}");
        Self {
            client,
            url: format!("{}/v1/embeddings", base_url.trim_end_matches('/')),
            api_key,
            model,
            dimensions,
            key,
            timeout,
        }
    }

    async fn call(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = texts.len();
        let body = serde_json::json!({
            "model": self.model,
            "input": texts,
            "dimensions": self.dimensions,
            "encoding_format": "float",
        });
        let request = self
            .client
            .post(&self.url)
            .bearer_auth(&self.api_key)
            .timeout(self.timeout)
            .json(&body);
        let response = request.send().await.map_err(|e| EmbedError::Provider {
            message: if e.is_timeout() {
                "the embeddings request timed out".into()
            } else {
                format!(
                    "the embeddings provider is unreachable: {}",
                    e.without_url()
                )
            },
            retryable: true,
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| EmbedError::Provider {
            message: format!("the embeddings response broke off: {}", e.without_url()),
            retryable: true,
        })?;
        if !status.is_success() {
            let code = status.as_u16();
            return Err(EmbedError::Provider {
                message: format!(
                    "the embeddings provider answered {code}: {}",
                    crate::llm::http::error_message(&text)
                ),
                retryable: code == 408 || code == 409 || code == 429 || code >= 500,
            });
        }
        let parsed: Response = serde_json::from_str(&text).map_err(|e| EmbedError::Provider {
            message: format!("the embeddings response is not what OpenAI sends: {e}"),
            retryable: false,
        })?;
        let mut items = parsed.data;
        items.sort_by_key(|i| i.index);
        if items.len() != wanted || items.iter().enumerate().any(|(n, i)| i.index != n) {
            return Err(EmbedError::Provider {
                message: format!(
                    "the embeddings response has {} vectors for {wanted} texts",
                    items.len()
                ),
                retryable: false,
            });
        }
        if let Some(bad) = items.iter().find(|i| i.embedding.len() != self.dimensions) {
            return Err(EmbedError::Provider {
                message: format!(
                    "the embeddings provider returned {} dimensions, configured {} \
                     (embeddings.openai.dimensions)",
                    bad.embedding.len(),
                    self.dimensions
                ),
                retryable: false,
            });
        }
        Ok(items.into_iter().map(|i| i.embedding).collect())
    }
}

impl Embedder for OpenAiEmbedder {
    fn key(&self) -> &str {
        &self.key
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn embed(&self, texts: Vec<String>) -> PortFuture<Result<Vec<Vec<f32>>, EmbedError>> {
        let this = self.clone();
        Box::pin(async move { this.call(texts).await })
    }
}
