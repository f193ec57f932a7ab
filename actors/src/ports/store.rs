//! `ConversationStore`: durable conversation state. The engine persists before it acknowledges,
//! so everything a visitor was told was received is in here.
//!
//! Sequence numbers: each conversation has one counter. A user message takes a number when it is
//! stored (its `ack`); an assistant message takes one when it starts (`assistant_start`) and
//! another when it ends (`assistant_end`, kept as `end_seq`). Every durable event therefore has
//! its own number, and "everything after N" is well defined.

use super::PortFuture;
use super::model::Usage;
use crate::ids::{ConversationId, MerchantId, MessageId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use super::model::Role;

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Finished normally (user messages are complete once stored).
    Complete,
    /// An assistant reply still being generated.
    Streaming,
    /// Cut short (cancelled, provider failure after text, shutdown, crash); `text` holds what was
    /// produced.
    Interrupted,
}

impl MessageStatus {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Streaming => "streaming",
            Self::Interrupted => "interrupted",
        }
    }

    /// Parses the database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "complete" => Some(Self::Complete),
            "streaming" => Some(Self::Streaming),
            "interrupted" => Some(Self::Interrupted),
            _ => None,
        }
    }
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredMessage {
    /// Its id.
    pub id: MessageId,
    /// The sequence number it took when stored (user) or started (assistant).
    pub seq: i64,
    /// The sequence number of an assistant message's end; `None` while streaming and for user
    /// messages.
    pub end_seq: Option<i64>,
    /// Who wrote it.
    pub role: Role,
    /// The visitor's idempotency key (user messages).
    pub client_id: Option<String>,
    /// For an assistant message, the `seq` of the user message it answers.
    pub reply_to_seq: Option<i64>,
    /// The text (partial for interrupted replies).
    pub text: String,
    /// Where it stands.
    pub status: MessageStatus,
    /// Model usage of an assistant message.
    pub usage: Option<Usage>,
    /// The merchant's agent configuration version an assistant message was produced with.
    pub agent_version: Option<i64>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// What an assistant reply showed besides its text.
    pub meta: ReplyMeta,
}

/// The end of a reply, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyEnd {
    /// The whole text (partial for an interrupted reply).
    pub text: String,
    /// `Complete` or `Interrupted`.
    pub status: MessageStatus,
    /// What its model calls cost, one per call.
    pub charges: Vec<crate::ports::metering::Charge>,
    /// The session state, when the turn changed it.
    pub state: Option<crate::conversation::SessionState>,
    /// What it showed besides its text.
    pub meta: ReplyMeta,
}

/// What a reply showed besides its text, stored with it so a resuming client sees it again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplyMeta {
    /// The visitor's intent, when understood.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// `rules` or `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled_by: Option<String>,
    /// The product cards shown, in order (the last list when several).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<crate::agent::shop::Card>,
    /// The cart after the turn, when the turn showed or changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cart: Option<crate::cart::Cart>,
    /// The tools the model called, in order, with their results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<crate::agent::events::ToolRecord>,
    /// What the guard stopped (`price`, `discount`, `prompt`), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    /// Why the model's answer was replaced by the offline agent's, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The checkout the reply started, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<crate::ports::payments::CheckoutLink>,
    /// The order change the reply announces, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<crate::ports::payments::OrderUpdate>,
}

impl ReplyMeta {
    /// True when there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A conversation's state when its actor starts.
#[derive(Debug, Clone)]
pub struct LoadedConversation {
    /// The merchant it belongs to.
    pub merchant_id: MerchantId,
    /// The last sequence number used.
    pub last_seq: i64,
    /// The most recent messages, oldest first, for the model's context.
    pub recent: Vec<StoredMessage>,
    /// The session state (cart, products last shown) as last persisted.
    pub state: crate::conversation::SessionState,
}

/// The result of storing a user message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Stored now with this sequence number.
    Stored {
        /// Its sequence number.
        seq: i64,
        /// Its id.
        message_id: MessageId,
    },
    /// A message with the same `client_id` was stored before; nothing was written.
    Duplicate {
        /// The original sequence number.
        seq: i64,
        /// The original id.
        message_id: MessageId,
    },
}

/// A store failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersistError {
    /// The conversation does not exist.
    #[error("conversation not found")]
    NotFound,
    /// The store could not be reached or refused the write; nothing was stored.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Durable conversation state.
pub trait ConversationStore: Send + Sync + 'static {
    /// Loads a conversation for its actor. Assistant messages left `Streaming` by a process that
    /// died are closed as `Interrupted` (taking an end sequence number) first, so a resuming
    /// client sees them end. `history` bounds `recent`.
    fn load(
        &self,
        id: ConversationId,
        history: usize,
    ) -> PortFuture<Result<LoadedConversation, PersistError>>;

    /// Stores a user message with the next sequence number, unless its `client_id` is already
    /// stored in this conversation.
    fn append_user_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        client_id: String,
        text: String,
    ) -> PortFuture<Result<AppendOutcome, PersistError>>;

    /// Stores a user message and, in the same transaction, the start of the reply to it (one
    /// commit instead of two on the path to the first token). A duplicate `client_id` stores
    /// nothing and starts nothing. Returns the outcome and the reply's start sequence number.
    fn append_and_start(
        &self,
        id: ConversationId,
        message_id: MessageId,
        client_id: String,
        text: String,
        reply_id: MessageId,
        agent_version: Option<i64>,
    ) -> PortFuture<Result<(AppendOutcome, Option<i64>), PersistError>>;

    /// Stores the start of an assistant reply to `reply_to_seq`, produced with the agent
    /// configuration `agent_version`; returns its sequence number.
    fn start_assistant_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        reply_to_seq: i64,
        agent_version: Option<i64>,
    ) -> PortFuture<Result<i64, PersistError>>;

    /// Stores the end of an assistant reply, with what its model calls cost and, when the turn
    /// changed it, the session state, all in one transaction; returns the end's sequence
    /// number.
    fn finish_assistant_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        end: ReplyEnd,
    ) -> PortFuture<Result<i64, PersistError>>;

    /// Stores the session state outside a turn (a cart change from a widget button).
    fn save_state(
        &self,
        id: ConversationId,
        state: crate::conversation::SessionState,
    ) -> PortFuture<Result<(), PersistError>>;

    /// Messages with any event after `after` (`seq > after` or `end_seq > after`), by `seq`,
    /// at most `limit`.
    fn messages_after(
        &self,
        id: ConversationId,
        after: i64,
        limit: usize,
    ) -> PortFuture<Result<Vec<StoredMessage>, PersistError>>;
}
