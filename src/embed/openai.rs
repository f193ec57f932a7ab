//! OpenAI embeddings (`POST {base}/v1/embeddings`), for example `text-embedding-3-small` shortened
//! with `dimensions`. Any OpenAI-compatible server that serves `/v1/embeddings` works too; the
//! local multilingual-e5-small server (`scripts/embedder.sh`) is one, told with `input_type`
//! whether a text is a query or a passage.

use agentpay_actors::ports::{EmbedError, EmbedKind, Embedder, PortFuture};
use serde::Deserialize;
use std::time::Duration;

/// multilingual-e5-small's vector length.
pub const E5_DIMENSIONS: usize = 384;

/// An OpenAI embeddings client.
#[derive(Clone)]
pub struct OpenAiEmbedder {
    client: reqwest::Client,
    url: String,
    /// None for a local server that needs none.
    api_key: Option<String>,
    model: String,
    dimensions: usize,
    key: String,
    timeout: Duration,
    /// A retrieval model's server (e5): sends `input_type` and no `dimensions`.
    asymmetric: bool,
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
            api_key: Some(api_key),
            model,
            dimensions,
            key,
            timeout,
            asymmetric: false,
        }
    }

    /// A client for the local multilingual-e5-small server (`scripts/embedder.sh`): no key,
    /// 384 dimensions, `input_type` "query" or "passage" on every request; its vectors are
    /// stored under the model's name.
    pub fn e5(client: reqwest::Client, base_url: &str, model: String, timeout: Duration) -> Self {
        Self {
            client,
            url: format!("{}/v1/embeddings", base_url.trim_end_matches('/')),
            api_key: None,
            key: model.clone(),
            model,
            dimensions: E5_DIMENSIONS,
            timeout,
            asymmetric: true,
        }
    }

    async fn call(&self, texts: Vec<String>, kind: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = texts.len();
        let body = if self.asymmetric {
            let input_type = match kind {
                EmbedKind::Query => "query",
                EmbedKind::Passage => "passage",
            };
            serde_json::json!({
                "model": self.model,
                "input": texts,
                "input_type": input_type,
                "encoding_format": "float",
            })
        } else {
            serde_json::json!({
                "model": self.model,
                "input": texts,
                "dimensions": self.dimensions,
                "encoding_format": "float",
            })
        };
        let mut request = self
            .client
            .post(&self.url)
            .timeout(self.timeout)
            .json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
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
                    "the embeddings provider returned {} dimensions, expected {} ({})",
                    bad.embedding.len(),
                    self.dimensions,
                    if self.asymmetric {
                        "is embeddings.e5.base_url a multilingual-e5-small server?"
                    } else {
                        "embeddings.openai.dimensions"
                    }
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

    fn embed(
        &self,
        texts: Vec<String>,
        kind: EmbedKind,
    ) -> PortFuture<Result<Vec<Vec<f32>>, EmbedError>> {
        let this = self.clone();
        Box::pin(async move { this.call(texts, kind).await })
    }
}
