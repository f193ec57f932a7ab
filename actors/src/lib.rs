//! `agentpay-actors`: the engine core.
//!
//! This crate holds what the engine is made of, independent of how it is reached: identifiers,
//! money, the conversation actors, and the ports (traits) the engine needs from the outside
//! world. The `agentpay` crate implements those ports with Postgres, HTTP and providers; this
//! crate never depends on sqlx, reqwest or actix-web, so its logic is tested with in-memory
//! fakes.
//!
//! Modules:
//! - [`ids`]: newtype identifiers (`MerchantId`, `ConversationId`, `MessageId`, ...).
//! - [`money`]: integer minor units with an ISO 4217 currency code.
//! - [`cart`]: the cart (lines at catalog prices, integer totals).
//! - [`ports`]: traits the edges implement (`ConversationStore`, `ModelClient` with content
//!   blocks and tools, `CatalogSearch`, `Embedder`, `AgentConfigStore`, `Metering`,
//!   `PaymentGateway`, `Clock`).
//! - [`agent`]: the merchant's agent configuration and the turn pipeline (`agent::Turn`: one
//!   turn as a stream of `AgentEvent`s, with its tools).
//! - [`model`]: model implementations that live in the core (the simulated model).
//! - [`directory`]: find-or-start of per-key actors (`Directory`).
//! - [`conversation`]: `ConversationActor` (sequences turns, persists, broadcasts), its
//!   messages, domain events and session state, `EngineDeps`, `ConversationRegistry`.
//! - [`order`]: `OrderStatus`, the status machine of orders and payment events.
//! - [`merchant`]: `MerchantActor` (one per merchant with live conversations) and its registry.
//! - [`ratelimit`]: `RateLimiterActor` (GCRA rates and concurrency slots by scope and key).
//! - `memory` (tests): an in-memory `ConversationStore` and `AgentConfigStore`.

pub mod agent;
pub mod cart;
pub mod checkout;
pub mod conversation;
pub mod directory;
pub mod ids;
pub mod merchant;
pub mod model;
pub mod money;
pub mod order;
pub mod ports;
pub mod pricing;
pub mod ratelimit;
pub mod understanding;

#[cfg(test)]
pub(crate) mod memory;

pub use ids::{ApiKeyId, ConversationId, MerchantId, MessageId};
pub use money::{Currency, CurrencyError, Money};
