//! The HTTP fallback's event machinery: Server-Sent Events framing, and following one exchange
//! (a visitor message and its reply) over a conversation subscription.
//!
//! `routes/conversations.rs` posts the message, then either waits for the reply's end (JSON) or
//! hands the subscription to [`reply_stream`] (SSE). Both use [`ReplyWatch`] to pick the events
//! of their exchange out of everything the conversation broadcasts, and a [`Subscription`] that
//! ends when dropped, so a client that hangs up mid-stream releases its place at once.
//!
//! SSE events are framed from [`Frame`]: `event:` is the frame kind, `id:` the sequence number
//! of a durable frame, `data:` the same JSON a WebSocket client gets (`docs/protocol.md` §7).

use super::wire::Frame;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use agentpay_actors::conversation::{
    ConversationEvent, ConversationRegistry, SharedEvent, Signal, SubscriberId, Unsubscribe,
};
use agentpay_actors::ids::{ConversationId, MessageId};
use futures_util::Stream;
use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::Arc;
use tokio::sync::mpsc;

/// One SSE event carrying `frame`. The frame's JSON is written straight into the event: the
/// text of a delta is copied once, from the shared event into these bytes.
pub fn encode(frame: &Frame<'_>) -> web::Bytes {
    let mut buf = Vec::with_capacity(64);
    buf.extend_from_slice(b"event: ");
    buf.extend_from_slice(frame.kind().as_bytes());
    if let Some(seq) = frame.seq() {
        // Writing into a Vec cannot fail.
        let _ = write!(buf, "\nid: {seq}");
    }
    buf.extend_from_slice(b"\ndata: ");
    // JSON text never contains a raw newline (serde_json escapes them), so one `data:` line
    // carries the whole frame.
    frame.write_json(&mut buf);
    buf.extend_from_slice(b"\n\n");
    web::Bytes::from(buf)
}

/// A conversation subscription that ends when dropped.
pub struct Subscription {
    /// Where the conversation lives.
    registry: Arc<ConversationRegistry>,
    /// The conversation subscribed to.
    conversation: ConversationId,
    /// Our subscription.
    id: SubscriberId,
}

impl Subscription {
    /// Takes ownership of subscription `id` to `conversation`.
    pub fn new(
        registry: Arc<ConversationRegistry>,
        conversation: ConversationId,
        id: SubscriberId,
    ) -> Self {
        Self {
            registry,
            conversation,
            id,
        }
    }

    /// The subscription's id (for `PostUserMessage`, so its ack comes back here).
    pub fn id(&self) -> SubscriberId {
        self.id
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Told, not asked: losing it only delays the clean-up, since the closed channel is
        // dropped on the conversation's next send anyway.
        self.registry
            .tell(self.conversation, Unsubscribe { id: self.id });
    }
}

/// Tracks which events belong to the reply of one user message.
pub struct ReplyWatch {
    /// The sequence number of the user message.
    user_seq: i64,
    /// The reply's id, once its start passed (or the stored reply's, for a resent message).
    message_id: Option<MessageId>,
}

impl ReplyWatch {
    /// Watches the exchange of the user message stored under `user_seq`; `reply` is its reply's
    /// id when already known (a resent message whose reply exists).
    pub fn new(user_seq: i64, reply: Option<MessageId>) -> Self {
        Self {
            user_seq,
            message_id: reply,
        }
    }

    /// True if `ev` belongs to this exchange; learns the reply id when its start passes.
    pub fn relevant(&mut self, ev: &ConversationEvent) -> bool {
        match ev {
            ConversationEvent::AssistantStart {
                message_id,
                reply_to_seq,
                ..
            } if *reply_to_seq == self.user_seq => {
                self.message_id = Some(*message_id);
                true
            }
            ConversationEvent::Delta { message_id, .. }
            | ConversationEvent::Products { message_id, .. }
            | ConversationEvent::AssistantEnd { message_id, .. } => {
                Some(*message_id) == self.message_id
            }
            // A cart change while our reply runs is our turn's.
            ConversationEvent::Cart { .. } | ConversationEvent::Checkout { .. } => {
                self.message_id.is_some()
            }
            ConversationEvent::Ack { seq, .. } | ConversationEvent::UserMessage { seq, .. } => {
                *seq == self.user_seq
            }
            ConversationEvent::Error { .. } => true,
            _ => false,
        }
    }

    /// True if `ev` ends this exchange (the reply's end).
    pub fn is_end(&self, ev: &ConversationEvent) -> bool {
        matches!(ev, ConversationEvent::AssistantEnd { message_id, .. } if Some(*message_id) == self.message_id)
    }
}

/// The state of one SSE answer.
struct ReplyStream {
    /// The conversation's signals for our subscription.
    rx: mpsc::Receiver<Signal>,
    /// Picks our exchange's events.
    watch: ReplyWatch,
    /// Events to send before reading `rx` (the ack; a resent message's stored reply end).
    queued: VecDeque<Arc<SharedEvent>>,
    /// When the reply must have ended (`conversation.reply_timeout_secs`).
    deadline: tokio::time::Instant,
    /// Set after the last event: the stream ends.
    done: bool,
    /// Held for the stream's life; dropping the stream (end or hang-up) unsubscribes.
    _subscription: Subscription,
}

impl ReplyStream {
    async fn next_event(&mut self) -> Option<web::Bytes> {
        if self.done {
            return None;
        }
        if let Some(ev) = self.queued.pop_front() {
            self.done = self.watch.is_end(&ev);
            return Some(encode(&Frame::from(&*ev)));
        }
        loop {
            let ev = match tokio::time::timeout_at(self.deadline, self.rx.recv()).await {
                Ok(Some(Signal::Event(ev))) => ev,
                Ok(Some(Signal::Close(_)) | None) => {
                    self.done = true;
                    return Some(encode(&Frame::error(
                        "unavailable",
                        "the conversation closed before the reply ended",
                    )));
                }
                Err(_) => {
                    self.done = true;
                    return Some(encode(&Frame::error(
                        "timeout",
                        "the reply did not finish in time",
                    )));
                }
            };
            // The ack went first (queued); `hello` opens every subscription.
            if matches!(
                **ev,
                ConversationEvent::Ack { .. } | ConversationEvent::Hello { .. }
            ) {
                continue;
            }
            if self.watch.relevant(&ev) {
                self.done = self.watch.is_end(&ev);
                return Some(encode(&Frame::from(&*ev)));
            }
        }
    }
}

/// The SSE stream of one exchange: `first` (the ack, then a resent message's stored reply end
/// if any), then the exchange's live events until the reply's end, an `error` event when the
/// conversation closes, or a `timeout` error at `deadline`.
pub fn reply_stream(
    subscription: Subscription,
    rx: mpsc::Receiver<Signal>,
    watch: ReplyWatch,
    first: Vec<Arc<SharedEvent>>,
    deadline: tokio::time::Instant,
) -> impl Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static {
    let state = ReplyStream {
        rx,
        watch,
        queued: first.into(),
        deadline,
        done: false,
        _subscription: subscription,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        let bytes = s.next_event().await?;
        Some((Ok(bytes), s))
    })
}

/// A `text/event-stream` response over `events`, unbuffered by proxies.
pub fn response(
    events: impl Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_named_by_its_frame_kind_and_a_durable_one_carries_its_seq() {
        let ack = ConversationEvent::Ack {
            client_id: "c-1".into(),
            seq: 7,
        };
        assert_eq!(
            encode(&Frame::from(&ack)),
            "event: ack\nid: 7\ndata: {\"type\":\"ack\",\"client_id\":\"c-1\",\"seq\":7}\n\n"
        );
        let id = MessageId::new_random();
        let delta = ConversationEvent::Delta {
            message_id: id,
            text: "a\nb".into(),
            index: 0,
        };
        let bytes = encode(&Frame::from(&delta));
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with("event: delta\ndata: {"), "{text}");
        assert!(!text.contains("id:"), "a delta is not durable: {text}");
        // The newline in the text stays escaped: the event is three lines and a blank one.
        assert_eq!(text.matches('\n').count(), 3, "{text}");
    }
}
