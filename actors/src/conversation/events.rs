//! What a conversation tells its subscribers: domain events, in the order they happened. The
//! core knows nothing of their wire shape; the edges (`agentpay::http::wire`) turn them into
//! WebSocket frames, SSE events and JSON, with the protocol version and close codes.

use crate::agent::shop::Card;
use crate::cart::Cart;
use crate::ids::{ConversationId, MessageId};
use crate::ports::model::Usage;

/// A conversation → subscriber event.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationEvent {
    /// First event of a subscription.
    Hello {
        /// The conversation.
        conversation_id: ConversationId,
        /// The last sequence number stored when the subscription started.
        last_seq: i64,
        /// The assistant's name (merchant configuration).
        assistant_name: Option<String>,
        /// The greeting to show (merchant configuration).
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
        /// Model usage, summed over the turn's model calls, when a model ran.
        usage: Option<Usage>,
        /// True when the reply was cut short (cancel, failure, shutdown, crash).
        interrupted: bool,
        /// The visitor's intent, when understood.
        intent: Option<String>,
        /// Who handled the turn (`rules` or `model`), when known.
        handled_by: Option<String>,
    },
    /// Product cards the reply shows (not durable by itself: stored with the reply's end and
    /// replayed before it).
    Products {
        /// The reply's id.
        message_id: MessageId,
        /// The cards, best first.
        items: Vec<Card>,
    },
    /// The whole cart, after it changed or when a client (re)subscribes.
    Cart {
        /// The cart.
        cart: Cart,
    },
    /// A checkout started: the order's payment page.
    Checkout {
        /// The link.
        link: crate::ports::payments::CheckoutLink,
    },
    /// An order of this conversation changed status.
    Order {
        /// The change.
        update: crate::ports::payments::OrderUpdate,
    },
    /// Something went wrong; the subscription stays usable.
    Error {
        /// Stable machine code (`unavailable`, `model_error`).
        code: &'static str,
        /// Human explanation.
        message: String,
    },
}

impl ConversationEvent {
    /// An `Error` event.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::Error {
            code,
            message: message.into(),
        }
    }

    /// The sequence number of a durable event.
    pub fn seq(&self) -> Option<i64> {
        match self {
            Self::Ack { seq, .. }
            | Self::UserMessage { seq, .. }
            | Self::AssistantStart { seq, .. }
            | Self::AssistantEnd { seq, .. } => Some(*seq),
            Self::Hello { .. }
            | Self::Delta { .. }
            | Self::Error { .. }
            | Self::Products { .. }
            | Self::Cart { .. }
            | Self::Checkout { .. }
            | Self::Order { .. } => None,
        }
    }
}

/// Why a conversation ends its subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCause {
    /// The server is shutting down: reconnect (with `after`) shortly.
    ServerRestarting,
}

/// An event as subscribers receive it: one allocation shared by all of them (behind an `Arc`),
/// with room for the wire encoding the first edge to send it makes, so a frame is encoded once
/// however many connections watch the conversation. The core never looks at the encoding.
#[derive(Debug)]
pub struct SharedEvent {
    event: ConversationEvent,
    encoded: std::sync::OnceLock<bytes::Bytes>,
}

impl SharedEvent {
    /// The event, not yet encoded.
    pub fn new(event: ConversationEvent) -> Self {
        Self {
            event,
            encoded: std::sync::OnceLock::new(),
        }
    }

    /// The event's encoding: made by `encode` the first time, shared (not copied) after.
    pub fn encoded(&self, encode: impl FnOnce(&ConversationEvent) -> bytes::Bytes) -> bytes::Bytes {
        self.encoded.get_or_init(|| encode(&self.event)).clone()
    }
}

impl std::ops::Deref for SharedEvent {
    type Target = ConversationEvent;

    fn deref(&self) -> &ConversationEvent {
        &self.event
    }
}

impl PartialEq for SharedEvent {
    fn eq(&self, other: &Self) -> bool {
        self.event == other.event
    }
}

impl From<ConversationEvent> for std::sync::Arc<SharedEvent> {
    fn from(event: ConversationEvent) -> Self {
        std::sync::Arc::new(SharedEvent::new(event))
    }
}

/// What a subscriber's channel carries. Small on purpose (16 bytes): every connection's channel
/// allocates its slots in blocks, so the slot size is per-connection memory. Events are shared
/// between subscribers behind an `Arc`.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// An event to forward.
    Event(std::sync::Arc<SharedEvent>),
    /// The conversation is going away.
    Close(CloseCause),
}
