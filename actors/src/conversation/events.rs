//! What a conversation tells its subscribers. `ServerEvent` is also the wire format of the
//! WebSocket protocol v1 and of the SSE fallback (`docs/protocol.md`): it serializes to
//! `{"type": "...", ...}`.

use crate::ids::{ConversationId, MessageId};
use crate::ports::model::Usage;
use serde::Serialize;

/// The protocol version spoken by the WebSocket and SSE edges.
pub const PROTOCOL_VERSION: u32 = 1;

/// A server → client event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// First frame of a subscription.
    Hello {
        /// The conversation.
        conversation_id: ConversationId,
        /// The last sequence number stored when the subscription started.
        last_seq: i64,
        /// Protocol version.
        protocol: u32,
        /// The assistant's name (merchant configuration).
        #[serde(skip_serializing_if = "Option::is_none")]
        assistant_name: Option<String>,
        /// The greeting to show (merchant configuration).
        #[serde(skip_serializing_if = "Option::is_none")]
        greeting: Option<String>,
    },
    /// The sender's message is stored (durable) under `seq`.
    Ack {
        /// The sender's idempotency key.
        client_id: String,
        /// Its sequence number.
        seq: i64,
    },
    /// A visitor message, to every subscriber (so other tabs see it).
    UserMessage {
        /// Its id.
        message_id: MessageId,
        /// Its sequence number.
        seq: i64,
        /// The sender's idempotency key.
        client_id: String,
        /// The text.
        text: String,
    },
    /// An assistant reply starts.
    AssistantStart {
        /// The reply's id.
        message_id: MessageId,
        /// Its start sequence number.
        seq: i64,
        /// The sequence number of the user message it answers.
        reply_to_seq: i64,
    },
    /// Reply text. `index` is the character offset of `text` in the reply: a client sets
    /// `reply = reply[..index] + text`, which makes resumed and live deltas compose exactly.
    Delta {
        /// The reply's id.
        message_id: MessageId,
        /// The text.
        text: String,
        /// Character (Unicode scalar) offset of `text` in the reply.
        index: usize,
    },
    /// The reply is finished and stored; `text` is the whole reply.
    AssistantEnd {
        /// The reply's id.
        message_id: MessageId,
        /// The end's sequence number.
        seq: i64,
        /// The whole reply text.
        text: String,
        /// Model usage, when a model ran.
        usage: Option<Usage>,
        /// True when the reply was cut short (cancel, failure, shutdown, crash).
        interrupted: bool,
    },
    /// Something went wrong; the connection stays usable.
    Error {
        /// Stable machine code.
        code: String,
        /// Human explanation.
        message: String,
        /// When to retry, for rate limits and overload.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// Answer to a client `ping`.
    Pong,
}

impl ServerEvent {
    /// An `error` event.
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self::Error {
            code: code.to_string(),
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The sequence number of a durable event.
    pub fn seq(&self) -> Option<i64> {
        match self {
            Self::Ack { seq, .. }
            | Self::UserMessage { seq, .. }
            | Self::AssistantStart { seq, .. }
            | Self::AssistantEnd { seq, .. } => Some(*seq),
            Self::Hello { .. } | Self::Delta { .. } | Self::Error { .. } | Self::Pong => None,
        }
    }

    /// The `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Ack { .. } => "ack",
            Self::UserMessage { .. } => "user_message",
            Self::AssistantStart { .. } => "assistant_start",
            Self::Delta { .. } => "delta",
            Self::AssistantEnd { .. } => "assistant_end",
            Self::Error { .. } => "error",
            Self::Pong => "pong",
        }
    }
}

/// What a subscriber's channel carries. Small on purpose (24 bytes): every connection's channel
/// allocates its slots in blocks, so the slot size is per-connection memory. Events are shared
/// between subscribers behind an `Arc`.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// An event to forward.
    Event(std::sync::Arc<ServerEvent>),
    /// The conversation is going away (server shutdown): close with this WebSocket code.
    Close {
        /// WebSocket close code (1012: restarting).
        code: u16,
        /// Reason text.
        reason: &'static str,
    },
}
