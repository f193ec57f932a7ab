//! `ModelClient`: a streaming chat model. Implementations: the simulated model (in this crate,
//! for tests and load), and the real providers in the `agentpay` crate.

use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};

/// Who says a message: the one role type of the engine, shared by the model port (a chat
/// message's author) and the store (a stored message's author).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The visitor.
    User,
    /// The shopping assistant.
    Assistant,
}

impl Role {
    /// The spelling shared by the database and every provider's wire format.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// What a model is for. A merchant may prefer a provider per role; the deployment configures a
/// chain per role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelRole {
    /// Replies to visitors (with tools).
    Main,
    /// Cheap calls: classification, summaries.
    Fast,
}

impl ModelRole {
    /// Every role.
    pub const ALL: [ModelRole; 2] = [Self::Main, Self::Fast];

    /// Its configuration spelling (`main`, `fast`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::Fast => "fast",
        }
    }
}

/// A model provider the engine can talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Anthropic Messages API.
    Anthropic,
    /// OpenAI Chat Completions.
    Openai,
    /// A local or self-hosted OpenAI-compatible server (llama.cpp, Ollama, vLLM).
    OpenaiCompatible,
    /// The offline simulated model.
    Simulated,
}

impl ProviderKind {
    /// Every provider.
    pub const ALL: [ProviderKind; 4] = [
        Self::Anthropic,
        Self::Openai,
        Self::OpenaiCompatible,
        Self::Simulated,
    ];

    /// Its name in configuration, metrics and logs; what [`ModelClient::provider`] returns.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::Openai => "openai",
            Self::OpenaiCompatible => "openai_compatible",
            Self::Simulated => "simulated",
        }
    }

    /// Parses [`ProviderKind::as_str`]'s spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// One piece of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// The assistant calls a tool (only in assistant messages).
    ToolUse {
        /// The provider's id for the call; its result names it.
        id: String,
        /// The tool's name.
        name: String,
        /// Its input, a JSON object.
        input: serde_json::Value,
    },
    /// The result of a tool call (only in user messages, answering a `ToolUse`).
    ToolResult {
        /// The call it answers.
        tool_use_id: String,
        /// What the tool returned, as text (usually JSON).
        content: String,
        /// True when the tool failed; `content` then says why.
        #[serde(default)]
        is_error: bool,
    },
}

/// One message of the model's context: an author and content blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    /// Who said it.
    pub role: Role,
    /// What was said: text, tool calls (assistant) or tool results (user).
    pub content: Vec<ContentBlock>,
}

impl ChatMessage {
    /// A message of plain text.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![ContentBlock::Text { text: text.into() }],
        }
    }

    /// Its text blocks joined (tool calls and results left out).
    pub fn joined_text(&self) -> String {
        let mut out = String::new();
        for block in &self.content {
            if let ContentBlock::Text { text } = block {
                out.push_str(text);
            }
        }
        out
    }

    /// Characters of its content, for the token estimate (tool inputs and results count).
    pub fn content_chars(&self) -> usize {
        self.content
            .iter()
            .map(|b| match b {
                ContentBlock::Text { text } => text.chars().count(),
                ContentBlock::ToolUse { name, input, .. } => {
                    name.len() + input.to_string().chars().count()
                }
                ContentBlock::ToolResult { content, .. } => content.chars().count(),
            })
            .sum()
    }
}

/// A tool the model may call: a name, what it does, and a JSON Schema for its input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// The tool's name (`search_products`).
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of its input object.
    pub input_schema: serde_json::Value,
}

/// A streaming chat request.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    /// The system prompt. It is the stable prefix of every call of a conversation: providers
    /// that cache prompts mark it (with the tools) as cacheable.
    pub system: String,
    /// What changes from turn to turn and stays out of the cacheable prefix: the cart, the
    /// products shown, the conversation's summary. Sent after `system` (Anthropic: a second,
    /// uncached system block; OpenAI: the end of the system message); empty for none.
    pub context: String,
    /// The conversation so far, oldest first, ending with the visitor's message (or, inside a
    /// tool loop, with the results of the tools the model called).
    pub messages: Vec<ChatMessage>,
    /// Tools the model may call; empty for plain replies.
    pub tools: Vec<ToolSpec>,
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// The provider to try first when a fallback chain has it (the merchant's choice).
    pub preferred_provider: Option<ProviderKind>,
}

/// Token usage of one model call. `input_tokens` counts the prompt tokens read neither from nor
/// into the provider's prompt cache; the total prompt is the sum of the three input kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens, uncached.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Prompt tokens written into the provider's cache (billed at a premium).
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Prompt tokens read from the provider's cache (billed at a discount).
    #[serde(default)]
    pub cache_read_tokens: u64,
}

/// A complete tool call: its arguments assembled from the stream and parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id for the call (to answer it with a result).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// Its input, a JSON object.
    pub input: serde_json::Value,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its answer.
    EndTurn,
    /// It reached `max_tokens`.
    MaxTokens,
    /// It wants tool results before going on.
    ToolUse,
    /// It hit a stop sequence.
    StopSequence,
    /// It declined to answer.
    Refusal,
    /// Something else, as the provider named it.
    Other(String),
}

/// One item of a model stream.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEvent {
    /// A piece of reply text.
    Delta(String),
    /// A complete tool call (after all of its argument fragments arrived).
    ToolCall(ToolCall),
    /// The call's usage (sent once, at the end).
    Usage(Usage),
    /// Why the model stopped (the last event of a complete stream).
    Stop(StopReason),
    /// Which provider and model are answering, when it is not the client's own (a fallback
    /// chain sends it first, naming the link that answered).
    Served {
        /// The provider.
        provider: String,
        /// The model.
        model: String,
    },
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
    /// The provider failed on its side (HTTP 5xx other than overload, 408, 409).
    #[error("provider error {status}: {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// The provider could not be reached.
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    /// The merchant's model budget is spent: no call was made.
    #[error("over budget")]
    OverBudget,
}

impl ModelError {
    /// Whether the same request may succeed if sent again (after a pause).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Overloaded
                | Self::Timeout
                | Self::BrokenStream(_)
                | Self::Server { .. }
                | Self::Unreachable(_)
        )
    }

    /// The provider's own wait hint, when it gave one.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::RateLimited {
                retry_after_ms: Some(ms),
            } => Some(std::time::Duration::from_millis(*ms)),
            _ => None,
        }
    }

    /// Whether another provider may succeed where this one failed (everything but a request
    /// the caller must fix or a budget the merchant must raise).
    pub fn may_fall_back(&self) -> bool {
        !matches!(self, Self::BadRequest(_) | Self::OverBudget)
    }
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
    /// Whether it calls tools reliably. A model that does not (a small local one) is only asked
    /// to word replies the offline agent composed; it is never offered tools.
    fn supports_tools(&self) -> bool {
        true
    }
}
