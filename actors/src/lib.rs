//! `agentpay-actors`: the engine core.
//!
//! This crate holds what the engine is made of, independent of how it is reached: identifiers,
//! money, and the ports (traits) the engine needs from the outside world. The `agentpay` crate
//! implements those ports with Postgres, HTTP and providers; this crate never depends on sqlx,
//! reqwest or actix-web, so its logic is tested with in-memory fakes.
//!
//! Modules:
//! - [`ids`]: newtype identifiers (`MerchantId`, `ConversationId`, ...).
//! - [`money`]: integer minor units with an ISO 4217 currency code.
//! - [`ports`]: traits the edges implement (`Clock` so far; conversation storage, catalog search,
//!   model clients and payments arrive with their issues).

pub mod ids;
pub mod money;
pub mod ports;

pub use ids::{ApiKeyId, ConversationId, MerchantId};
pub use money::{Currency, CurrencyError, Money};
