//! The agent: what the assistant says and does in one turn, apart from the conversation actor
//! that sequences, persists and broadcasts turns.
//!
//! - [`config`]: a merchant's agent configuration, validated, and its system prompt.
//! - [`events`]: [`AgentEvent`], what a turn yields (text, products, cart, model calls, the
//!   final record).
//! - [`tools`]: the tools a turn may call ([`Toolbox`]), each scoped to the conversation's
//!   merchant and acting on the turn's copy of the session state.
//! - [`turn`]: [`Turn`], the turn pipeline: one turn from the conversation's snapshot to a
//!   stream of events, with a tool loop over the `main` model.
//!
//! Decision record: docs/decisions/0009-turn-pipeline.md.

pub mod config;
pub mod events;
pub mod tools;
pub mod turn;

pub use config::*;
pub use events::{AgentEvent, HandledBy, TurnOutcome};
pub use tools::{Tool, ToolContext, ToolOutput, Toolbox};
pub use turn::{EventSink, Turn, TurnDeps, TurnInput};
