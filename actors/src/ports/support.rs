//! Where the agent hands a visitor to people (`SupportDesk`) and looks up orders (`OrderBook`).
//! `agentpay` stores handoff requests in Postgres; the operator side that answers them, and the
//! orders themselves (checkout, #15), come later.

use super::PortFuture;
use super::store::PersistError;
use crate::ids::{ConversationId, MerchantId};
use crate::money::Money;
use serde::Serialize;

/// A visitor's request for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandoffRequest {
    /// The merchant.
    pub merchant: MerchantId,
    /// The conversation.
    pub conversation: ConversationId,
    /// Why (`human_handoff`, `payment_issue`, …: the intent that asked).
    pub reason: String,
    /// The visitor's message, as written.
    pub message: String,
    /// The visitor's language code.
    pub lang: String,
}

/// Records handoff requests for the merchant's people.
pub trait SupportDesk: Send + Sync + 'static {
    /// Records `request` durably; an open request of the same conversation is updated rather
    /// than repeated.
    fn request_handoff(&self, request: HandoffRequest) -> PortFuture<Result<(), PersistError>>;
}

/// An order as the visitor may be told about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderSummary {
    /// The order number.
    pub number: String,
    /// Where it stands (`paid`, `shipped`, …).
    pub status: String,
    /// Its total.
    pub total: Money,
}

/// Finds a merchant's orders by number.
pub trait OrderBook: Send + Sync + 'static {
    /// The order `number` of `merchant`, if there is one.
    fn find(
        &self,
        merchant: MerchantId,
        number: String,
    ) -> PortFuture<Result<Option<OrderSummary>, PersistError>>;
}
