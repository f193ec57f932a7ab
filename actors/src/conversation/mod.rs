//! Conversations: the supervised actor per conversation, its messages and events, the
//! dependencies every actor shares, and the registry that finds or starts actors.
//!
//! - [`actor`]: `ConversationActor` (sequences turns, persists, broadcasts).
//! - [`deps`]: `EngineDeps` and its builder, settings, the metrics observer, test faults.
//! - [`context`]: the model's context window and the running summary.
//! - [`events`]: the domain events subscribers receive.
//! - [`messages`]: what the actor handles.
//! - [`registry`]: `ConversationRegistry`, over the generic `Directory`.
//! - [`replay`]: stored messages → the events a resuming subscriber missed.
//! - [`state`]: the session state (cart, products last shown).

pub mod actor;
pub mod context;
pub mod deps;
pub mod events;
pub mod history;
pub mod messages;
pub mod registry;
pub mod replay;
pub mod state;

#[cfg(test)]
mod tests;

pub use actor::ConversationActor;
pub use deps::{
    ConversationSettings, EngineDeps, EngineDepsBuilder, EngineObserver, FaultInjector, MemoryDesk,
    NoopObserver, PanicOnText,
};
pub use events::{CloseCause, ConversationEvent, SharedEvent, Signal};
pub use messages::{
    CancelReply, CartChangeError, CartOp, ChangeCart, ConversationError, PostUserMessage, Posted,
    Shutdown, Subscribe, SubscriberId, Unsubscribe,
};
pub use registry::{AskError, ConversationRegistry};
pub use state::{SessionState, ShownProduct};
