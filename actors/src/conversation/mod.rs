//! Conversations: the supervised actor per conversation, its messages and events, and the
//! registry that finds or starts actors.

pub mod actor;
pub mod events;
pub mod history;
pub mod messages;
pub mod registry;

#[cfg(test)]
mod tests;

pub use actor::{ConversationActor, FAULT_PANIC_TEXT};
pub use events::{PROTOCOL_VERSION, ServerEvent, Signal};
pub use messages::{
    CancelReply, ConversationError, PostUserMessage, Posted, Shutdown, Subscribe, SubscriberId,
    Unsubscribe,
};
pub use registry::{
    AskError, ConversationRegistry, ConversationSettings, EngineDeps, EngineObserver, NoopObserver,
};
