//! `PaymentGateway`: turns a visitor's cart (revalidated against the catalog just before) into
//! an order and a payment page, and what the agent learns back (`OrderUpdate`). The `agentpay`
//! crate implements it: orders in Postgres, the session at the configured provider (the
//! offline simulated provider's own page, or Stripe Checkout).

use super::PortFuture;
use crate::cart::Cart;
use crate::ids::{ConversationId, MerchantId};
use crate::money::Money;
use crate::order::OrderStatus;
use serde::{Deserialize, Serialize};

/// A payment page for a new order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutLink {
    /// The order (also the checkout's id on the wire).
    pub order_id: uuid::Uuid,
    /// The order's number, as visitors quote it.
    pub number: i64,
    /// Where the visitor pays.
    pub url: String,
    /// When the page expires, in Unix seconds.
    pub expires_at: i64,
    /// What the visitor pays.
    pub total: Money,
}

/// An order's new status, for the conversation it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderUpdate {
    /// The order.
    pub order_id: uuid::Uuid,
    /// Its number.
    pub number: i64,
    /// Its status now.
    pub status: OrderStatus,
    /// Its total.
    pub total: Money,
}

/// Why a checkout could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    /// Nothing to pay for.
    #[error("the cart is empty")]
    EmptyCart,
    /// The order or the payment page could not be made; nothing was charged.
    #[error("checkout failed: {0}")]
    Failed(String),
}

/// A payment provider behind the engine's orders.
pub trait PaymentGateway: Send + Sync + 'static {
    /// Provider name for logs and metrics (`stripe`, `simulated`).
    fn provider(&self) -> &str;

    /// Makes an order of `cart` (at the prices it holds, which the caller has just checked
    /// against the catalog) for `merchant`'s `conversation`, and its payment page.
    fn start_checkout(
        &self,
        merchant: MerchantId,
        conversation: ConversationId,
        cart: Cart,
    ) -> PortFuture<Result<CheckoutLink, CheckoutError>>;
}
