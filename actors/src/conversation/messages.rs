//! Messages a `ConversationActor` handles, one struct per request, with documented replies.

use super::events::Signal;
use crate::ids::MessageId;
use actix::prelude::*;
use tokio::sync::mpsc;

/// Identifies one subscriber of one conversation.
pub type SubscriberId = u64;

/// Why a request to a conversation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversationError {
    /// The conversation could not be loaded or written; nothing changed. Retry later.
    #[error("conversation storage unavailable: {0}")]
    Unavailable(String),
    /// The conversation does not exist.
    #[error("conversation not found")]
    NotFound,
    /// The conversation is shutting down with the server.
    #[error("the server is restarting")]
    ShuttingDown,
}

/// Starts a subscription. The actor first pushes `hello`, then every durable event after
/// `after` (when given), then the reply in progress (its start if newer than `after`, its text
/// so far as one delta), and only then adds the subscriber, so nothing is missed or repeated.
/// Reply: the subscriber id and the last sequence number.
#[derive(Message)]
#[rtype(result = "Result<(SubscriberId, i64), ConversationError>")]
pub struct Subscribe {
    /// Replay durable events after this sequence number; `None`: live events only.
    pub after: Option<i64>,
    /// Where events go. Bounded: a subscriber that lets it fill is dropped (slow consumer).
    pub sender: mpsc::Sender<Signal>,
}

/// Ends a subscription. Fire-and-forget is fine: a vanished subscriber is also dropped on the
/// next failed send.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    /// The subscription to end.
    pub id: SubscriberId,
}

/// What `PostUserMessage` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The message's sequence number (the original one for a duplicate).
    pub seq: i64,
    /// The message's id.
    pub message_id: MessageId,
    /// True when this `client_id` was stored before: nothing new was processed.
    pub duplicate: bool,
}

/// A visitor message. The actor stores it (durable) before anything else, sends `ack` to the
/// posting subscriber, `user_message` to every subscriber, and queues the reply; turns are
/// answered one at a time in arrival order. A `client_id` already stored is acknowledged again
/// with its original `seq` and not processed twice.
#[derive(Message)]
#[rtype(result = "Result<Posted, ConversationError>")]
pub struct PostUserMessage {
    /// The posting subscriber, which receives the `ack`.
    pub subscriber: Option<SubscriberId>,
    /// The visitor's idempotency key.
    pub client_id: String,
    /// The text (already validated for size by the edge).
    pub text: String,
}

/// Stops the reply in progress; its partial text is stored as interrupted. No-op when idle.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CancelReply;

/// The server is shutting down: store the reply in progress as interrupted, tell subscribers to
/// close with 1012, and stop.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Internal: the next event of the turn in progress, from its task. The task `send`s and
/// awaits each one (backpressure: a slow actor slows the turn instead of queueing without bound).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct TurnEvent {
    /// The reply the turn writes; events of an older, cancelled turn are ignored.
    pub message_id: MessageId,
    /// The event.
    pub event: crate::agent::AgentEvent,
}

/// A cart change a client asks for directly (the widget's "add to cart" button), outside any
/// turn, with the same validation as the agent's tools. Refused while a reply is in progress.
#[derive(Message)]
#[rtype(result = "Result<Result<crate::cart::Cart, CartChangeError>, ConversationError>")]
pub struct ChangeCart {
    /// The change.
    pub op: CartOp,
}

/// A direct cart change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartOp {
    /// Add a product (or more of it).
    Add(crate::agent::shop::AddRequest),
    /// Remove a product, or some of its units.
    Remove(crate::agent::shop::RemoveRequest),
}

/// Why a direct cart change was refused; the cart is unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum CartChangeError {
    /// A reply is in progress: try again when it ends.
    Busy,
    /// The product, variant, stock or cart refused it.
    Refused(crate::agent::shop::AddRefusal),
    /// That product is not in the cart.
    NotInCart,
}

/// An order of this conversation changed (paid, expired, …): the conversation tells the visitor
/// in a reply of its own, in their language, after any turn in progress, with an `order`
/// event; the reply is stored, so a client that resumes later sees it too.
///
/// Sent with `ConversationRegistry::ask`, which starts the conversation if it was passivated, so
/// the notice is stored even when the visitor is away.
#[derive(Message)]
#[rtype(result = "Result<(), ConversationError>")]
pub struct OrderChanged(pub crate::ports::payments::OrderUpdate);
