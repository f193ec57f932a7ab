//! `ModelClient`: a streaming chat model. Implementations: the simulated model (in this crate,
//! for tests and load), and the real providers in the `agentpay` crate.

use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};

/// Who says a chat message to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// The visitor.
    User,
    /// The assistant.
    Assistant,
}

/// One message of the model's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Who said it.
    pub role: ChatRole,
    /// What was said.
    pub text: String,
}

/// A streaming chat request.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    /// The system prompt.
    pub system: String,
    /// The conversation so far, oldest first, ending with the visitor's message.
    pub messages: Vec<ChatMessage>,
    /// Most tokens to generate.
    pub max_tokens: u32,
}

/// Token usage of one model call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
}

/// One item of a model stream.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEvent {
    /// A piece of reply text.
    Delta(String),
    /// The call's usage (sent once, at the end).
    Usage(Usage),
}

/// A model failure, typed so callers can decide to retry, fall back or apologise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The provider asks us to slow down.
    #[error("rate limited (retry after {retry_after_ms:?} ms)")]
    RateLimited {
        /// The provider's hint, when it gave one.
        retry_after_ms: Option<u64>,
    },
    /// The provider is overloaded.
    #[error("provider overloaded")]
    Overloaded,
    /// Our credentials were refused.
    #[error("authentication failed")]
    Authentication,
    /// The provider refused the request as malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The stream broke midway.
    #[error("stream broken: {0}")]
    BrokenStream(String),
}

/// The stream a model call returns.
pub type ModelStream = BoxStream<'static, Result<ModelEvent, ModelError>>;

/// A streaming chat model.
pub trait ModelClient: Send + Sync + 'static {
    /// Provider name for metrics and logs (`simulated`, `anthropic`, …).
    fn provider(&self) -> &str;
    /// Model name for metrics and logs.
    fn model(&self) -> &str;
    /// Starts a streaming call. Errors before the first token come as the stream's first item.
    fn stream(&self, request: ModelRequest) -> ModelStream;
}
