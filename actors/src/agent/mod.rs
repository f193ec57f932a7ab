//! The agent: what the assistant says and does in one turn, apart from the conversation actor
//! that sequences, persists and broadcasts turns.
//!
//! - [`config`]: a merchant's agent configuration, validated, and its system prompt.
//! - [`events`]: [`AgentEvent`], what a turn yields (text, products, cart, model calls, the
//!   final record).
//! - [`shop`]: the shop operations (search, product, cart, orders, handoff) with their
//!   validation, scoped to the conversation's merchant.
//! - [`tools`]: the tools a model may call ([`Toolbox`]), JSON wrappers of the shop operations.
//! - [`rules`]: the offline agent: acts on an understood message and answers from catalog
//!   facts, the cart and the merchant's configuration, in the visitor's language
//!   ([`phrases`]).
//! - [`turn`]: [`Turn`], the turn pipeline: one turn from the conversation's snapshot to a
//!   stream of events: rules first (understanding, then the offline agent; the `fast` model
//!   decides unsure messages when one is configured), or every turn through the `main` model
//!   with its tool loop.
//!
//! Decision record: docs/decisions/0009-turn-pipeline.md.

pub mod config;
pub mod events;
pub mod guard;
mod model_turn;
pub mod phrases;
pub mod routing;
pub mod rules;
pub mod shop;
pub mod tools;
pub mod turn;

#[cfg(test)]
mod rules_tests;

pub use config::*;
pub use events::{AgentEvent, HandledBy, TurnOutcome};
pub use tools::{Tool, ToolContext, ToolOutput, Toolbox};
pub use turn::{Decision, EventSink, RulesDeps, Turn, TurnDeps, TurnInput, decide};
