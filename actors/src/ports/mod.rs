//! Ports: what the engine needs from the outside, as traits. The `agentpay` crate implements
//! them for real (Postgres, HTTP providers); tests implement them in memory.
//!
//! Async methods return boxed `'static` futures so the ports are object-safe (`Arc<dyn …>`) and
//! their futures can be moved into actor contexts.

pub mod agent;
pub mod catalog;
pub mod clock;
pub mod metering;
pub mod model;
pub mod payments;
pub mod store;
pub mod support;

use futures_util::future::BoxFuture;

pub use agent::{AgentConfigStore, AgentSnapshot};
pub use catalog::{
    CatalogSearch, EmbedError, EmbedKind, Embedder, ProductDetail, ProductHit, SearchError,
    SearchFilters, SearchMode, SearchQuery, VariantDetail,
};
pub use metering::{Charge, FreeMetering, Metering, Spend};
pub use model::{
    ChatMessage, ContentBlock, ModelClient, ModelError, ModelEvent, ModelRequest, ModelRole,
    ModelStream, ProviderKind, Role, ToolCall, ToolSpec, Usage,
};
pub use payments::{CheckoutError, CheckoutLink, OrderUpdate, PaymentGateway};
pub use store::{
    AppendOutcome, ConversationStore, LoadedConversation, MessageStatus, PersistError,
    StoredMessage,
};
pub use support::{HandoffRequest, OrderBook, OrderSummary, SupportDesk};

/// A boxed future returned by a port.
pub type PortFuture<T> = BoxFuture<'static, T>;

pub use clock::{Clock, FixedClock, SystemClock};
