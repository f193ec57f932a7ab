//! Ports: what the engine needs from the outside, as traits. The `agentpay` crate implements
//! them for real (Postgres, HTTP providers); tests implement them in memory.
//!
//! Async methods return boxed `'static` futures so the ports are object-safe (`Arc<dyn …>`) and
//! their futures can be moved into actor contexts.

pub mod catalog;
pub mod metering;
pub mod model;
pub mod store;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

pub use catalog::{
    CatalogSearch, EmbedError, Embedder, ProductHit, SearchError, SearchFilters, SearchMode,
    SearchQuery,
};
pub use metering::{Charge, FreeMetering, Metering, Spend};
pub use model::{
    ChatMessage, ContentBlock, ModelClient, ModelError, ModelEvent, ModelRequest, ModelRole,
    ModelStream, ProviderKind, Role, ToolCall, ToolSpec, Usage,
};
pub use store::{
    AppendOutcome, ConversationStore, LoadedConversation, MessageStatus, PersistError,
    StoredMessage,
};

/// A boxed future returned by a port.
pub type PortFuture<T> = BoxFuture<'static, T>;

/// The time source. Engine code asks a `Clock` instead of calling `Utc::now()` so tests can
/// control time.
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
