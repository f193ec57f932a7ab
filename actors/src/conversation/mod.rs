//! Conversations: the supervised actor per conversation, its messages and events, and the
//! registry that finds or starts actors.

pub mod actor;
pub mod events;
pub mod history;
pub mod messages;
pub mod registry;
pub mod state;

#[cfg(test)]
mod tests;

pub use actor::{ConversationActor, FAULT_PANIC_TEXT};
pub use events::{CloseCause, ConversationEvent, Signal};
pub use messages::{
    CancelReply, ConversationError, PostUserMessage, Posted, Shutdown, Subscribe, SubscriberId,
    Unsubscribe,
};
pub use registry::{
    AskError, ConversationRegistry, ConversationSettings, EngineDeps, EngineObserver, NoopObserver,
};
pub use state::{SessionState, ShownProduct};
