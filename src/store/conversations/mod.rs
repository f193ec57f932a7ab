//! Conversations and messages in Postgres: the engine's `ConversationStore` port and the queries
//! the HTTP edge needs.
//!
//! Writes and reads take separate paths, and the modules form a chain without cycles:
//!
//! - [`writer`]: the group-commit writer (decision 0007). It owns every conversation write:
//!   creation, visitor messages (with their reply's start), reply starts, reply ends (with their
//!   model calls' charges and the session state) and session state saved outside a turn. A write
//!   stored alone is a batch of one.
//! - [`reads`]: every read: an actor's `load` (which also closes replies a dead process left
//!   streaming), messages after a sequence number, a conversation with its token digest, the
//!   reply to a message.
//! - `port`: [`PgConversationStore`], the `ConversationStore` port over the two.
//! - [`rows`]: the row shapes both sides share (a leaf; it imports neither).
//!
//! Sequence numbers come from `conversations.last_seq`, incremented in the statement that
//! writes the message, so they are gap-free per conversation and strictly ordered. The row lock
//! taken by that `UPDATE` also serialises writers of one conversation in different processes;
//! within a process the writer's lanes keep them in order.

mod port;
pub mod reads;
pub mod rows;
pub mod writer;

pub use port::PgConversationStore;
pub use reads::{ConversationAccess, get_with_token, list_messages, reply_to};
pub use rows::Conversation;
