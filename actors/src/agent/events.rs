//! What a turn yields, in order. The conversation actor persists what must survive (text, the
//! model calls' charges, the session state at the end) and forwards the rest to subscribers;
//! the edges turn them into wire frames.

use super::shop::Card;
use crate::cart::Cart;
use crate::conversation::SessionState;
use crate::ports::metering::Charge;
use crate::ports::model::ModelError;

/// One tool call of a turn and its result, as stored with the reply.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToolRecord {
    /// The tool.
    pub name: String,
    /// What the model asked.
    pub input: serde_json::Value,
    /// What the tool answered.
    pub result: serde_json::Value,
    /// True when the tool refused or failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

/// Who decided a turn's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandledBy {
    /// Local rules and templates; no model was called.
    Rules,
    /// A model.
    Model,
}

impl HandledBy {
    /// Its wire and metrics spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rules => "rules",
            Self::Model => "model",
        }
    }
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutcome {
    /// The reply is whole.
    Complete,
    /// The merchant's model budget is spent: the reply is the polite notice the turn streamed,
    /// and no model was called.
    OverBudget,
    /// The model failed; the reply holds what was streamed before.
    Failed(ModelError),
}

/// One event of a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// The next piece of the reply's text.
    TextDelta(String),
    /// A model call is about to stream: who serves it (for time-to-first-token labels).
    Serving {
        /// The provider.
        provider: String,
        /// The model.
        model: String,
    },
    /// Products to show as cards, best first, with the catalog's prices (and the variant
    /// that matches what was asked).
    ProductsShown(Vec<Card>),
    /// The cart changed; this is the whole new cart.
    CartChanged(Cart),
    /// A checkout started: the order's payment page.
    CheckoutStarted(crate::ports::payments::CheckoutLink),
    /// An order of this conversation changed status (paid, expired, …).
    OrderChanged(crate::ports::payments::OrderUpdate),
    /// A model call finished: its usage and cost (one per call; a tool loop makes several).
    ModelCall(Charge),
    /// A tool ran for the model.
    ToolUsed(ToolRecord),
    /// The guard stopped the model's text (a price, a discount or the instructions); the
    /// guard's phrase was said instead.
    Guarded(super::guard::Violation),
    /// The model failed and the offline agent answered instead; why.
    FellBack(String),
    /// The turn is over. Always the last event.
    Finished {
        /// How it ended.
        outcome: TurnOutcome,
        /// What the visitor wanted, when understood (the intent label).
        intent: Option<String>,
        /// Who decided the reply.
        handled_by: HandledBy,
        /// The session state after the turn, when the turn changed it.
        state: Option<SessionState>,
    },
}
