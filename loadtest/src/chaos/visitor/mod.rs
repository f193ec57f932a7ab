//! One chaos visitor: a conversation's client that chats through the agent and changes its cart
//! while the run breaks things, and keeps a [`History`] of everything it was acknowledged and
//! shown, checked against storage at the end (`check.rs`).
//!
//! How it behaves, like a careful widget:
//! - it sends messages (sometimes two in a row, the second queued behind the first's reply),
//!   each with its own `client_id`, and resends every unacknowledged one with the SAME
//!   `client_id` after an error (`unavailable`, `timeout`, `restarting`) or a reconnect;
//! - it reconnects after any close or broken connection with `?after=<the last seq it saw>`,
//!   with backoff while the server is down;
//! - it waits for each acknowledged message's reply to end, giving up after `patience` without
//!   any event; after reconnecting, and once more when the faults are over, it sends again every
//!   acknowledged message whose reply never started (its turn was lost: protocol §5);
//! - between messages it sends `cart_add` / `cart_remove` and knows the cart only from `cart`
//!   frames: a change whose result it never saw makes its knowledge uncertain until the next
//!   whole-cart frame of its own change.

mod cart;
mod connect;

use crate::chaos::{CATALOG, Counters};
use crate::client::{Conversation, Ws};
use crate::rng::Rng;
use cart::{CART_REFUSALS, CartOp};
pub(crate) use cart::{CartKnowledge, CartView};
pub(crate) use connect::connect;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// What visitors ask: product questions with none of the words that make the fake provider
/// look at the cart (so turns never change or show it; only the visitor's own frames do).
const QUESTIONS: &[&str] = &[
    "do you have a tent for two people?",
    "show me sleeping bags for cold nights",
    "I need a small camping stove",
    "any lanterns in stock?",
    "looking for a light backpack for day hikes",
    "what rain jackets do you sell?",
    "which tent is best for windy weather?",
    "something warm to sleep in, please",
];

/// How a visitor runs.
#[derive(Clone)]
pub(crate) struct VisitorPlan {
    /// Its number in the run.
    pub(crate) index: usize,
    /// Its conversation.
    pub(crate) conversation: Conversation,
    /// Its choices.
    pub(crate) rng: Rng,
    /// The source address of its sockets.
    pub(crate) source: IpAddr,
    /// Mean pause between turns.
    pub(crate) think: Duration,
    /// When the run starts (times in the history are offsets from it).
    pub(crate) run_started: Instant,
    /// No new message or cart change after this.
    pub(crate) stop_at: Instant,
    /// Everything is abandoned after this (outstanding replies, the cart's resolution).
    pub(crate) give_up_at: Instant,
    /// How long to wait for a reply with no event at all.
    pub(crate) patience: Duration,
    /// Notified to drop the connection (a client-side network failure).
    pub(crate) drop_signal: Arc<Notify>,
    /// The run's live counters.
    pub(crate) counters: Arc<Counters>,
}

/// A message the visitor sent.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    /// Its idempotency key.
    pub(crate) client_id: String,
    /// Its text.
    pub(crate) text: String,
    /// When it was first sent, since the run started.
    pub(crate) first_sent: Duration,
    /// Times it went on the wire.
    pub(crate) sends: u32,
    /// The sequence number of its first ack.
    pub(crate) acked: Option<i64>,
    /// When its first ack arrived, since the run started.
    pub(crate) acked_at: Option<Duration>,
    /// The visitor waited for its reply and gave up.
    pub(crate) gave_up: bool,
}

/// A durable event the visitor was shown, by its `seq`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shown {
    /// A stored visitor message (`user_message`).
    User {
        /// Its idempotency key.
        client_id: String,
    },
    /// A reply's start.
    Start {
        /// The reply's id.
        message_id: String,
        /// The message it answers.
        reply_to_seq: i64,
    },
    /// A reply's end.
    End {
        /// The reply's id.
        message_id: String,
        /// Its whole text.
        text: String,
        /// Whether it was cut short.
        interrupted: bool,
    },
}

/// Everything a visitor was acknowledged and shown.
#[derive(Debug, Clone)]
pub(crate) struct History {
    /// The conversation.
    pub(crate) conversation: Conversation,
    /// Messages in sending order.
    pub(crate) sent: Vec<Sent>,
    /// Every ack: the sequence number by `client_id`.
    pub(crate) acks: BTreeMap<String, i64>,
    /// Durable events shown, by `seq`.
    pub(crate) shown: BTreeMap<i64, Shown>,
    /// The largest `seq` shown (the `after` of a reconnect).
    pub(crate) last_seq: i64,
    /// What it knows of its cart.
    pub(crate) cart: CartKnowledge,
    /// Problems seen while running, by check (`duplicates`, `out_of_order`, `carts`).
    pub(crate) violations: Vec<(&'static str, String)>,
    /// Error frames and close codes seen, by name.
    pub(crate) errors: BTreeMap<String, u64>,
    /// Connections opened.
    pub(crate) connections: u64,
    /// Cart changes sent, and those whose result was seen.
    pub(crate) cart_ops: u64,
    /// Cart changes whose result was seen (a `cart` frame or a refusal).
    pub(crate) cart_ops_resolved: u64,
    /// The visitor stopped early (its conversation refused it for good).
    pub(crate) fatal: Option<String>,
    /// Acknowledged messages sent again because their reply never started (their turn was
    /// lost), by `client_id`.
    pub(crate) resent_lost: BTreeSet<String>,
}

/// What one read gave.
enum Step {
    /// A JSON frame.
    Event(Value),
    /// Nothing before the deadline.
    Idle,
    /// The connection is gone (closed, broken or dropped on purpose).
    Gone,
}

/// A visitor while it runs.
pub(crate) struct Visitor {
    plan: VisitorPlan,
    history: History,
    /// The connection, when open.
    ws: Option<Ws>,
    /// Connections opened so far; identifies the current one.
    conn: u64,
    /// The largest `seq` of a durable event on the current connection.
    conn_seq: i64,
    /// The `after` the current connection was opened with.
    conn_after: i64,
    /// When each unacknowledged message may go (again), and the connection it last went on.
    due: HashMap<usize, (Instant, Option<u64>)>,
    /// Reply text so far by message id (deltas applied).
    texts: HashMap<String, String>,
    /// Replies started and not yet seen ending.
    open_replies: HashSet<String>,
    /// The reply (message id) to each answered `seq`, and the replies seen ending.
    reply_to: HashMap<i64, String>,
    ended: HashSet<String>,
    /// The cart change waiting for its result.
    pending_cart: Option<CartOp>,
    /// The current connection may still deliver its subscription's `cart` frame.
    fresh: bool,
    /// A `pong` arrived since the last `ping`.
    ponged: bool,
    /// The last frames' types (and what was sent), to describe a cart violation.
    recent: std::collections::VecDeque<String>,
}

impl Visitor {
    /// A visitor for `plan`, not yet connected.
    pub(crate) fn new(plan: VisitorPlan) -> Self {
        let history = History {
            conversation: plan.conversation.clone(),
            sent: Vec::new(),
            acks: BTreeMap::new(),
            shown: BTreeMap::new(),
            last_seq: 0,
            cart: CartKnowledge::Known(CartView::default()),
            violations: Vec::new(),
            errors: BTreeMap::new(),
            connections: 0,
            cart_ops: 0,
            cart_ops_resolved: 0,
            fatal: None,
            resent_lost: BTreeSet::new(),
        };
        Self {
            plan,
            history,
            ws: None,
            conn: 0,
            conn_seq: 0,
            conn_after: 0,
            due: HashMap::new(),
            texts: HashMap::new(),
            open_replies: HashSet::new(),
            reply_to: HashMap::new(),
            ended: HashSet::new(),
            pending_cart: None,
            fresh: false,
            ponged: false,
            recent: std::collections::VecDeque::new(),
        }
    }

    /// Chats until `stop_at`, settles what is outstanding, and returns the history.
    pub(crate) async fn run(mut self) -> History {
        let mut n = 0usize;
        while Instant::now() < self.plan.stop_at && self.history.fatal.is_none() {
            let factor = 0.3 + 1.4 * self.plan.rng.unit();
            let pause = self.plan.think.mul_f64(factor);
            self.pump(Instant::now() + pause).await;
            if Instant::now() >= self.plan.stop_at {
                break;
            }
            let burst = if self.plan.rng.chance(0.15) { 2 } else { 1 };
            let mut batch = Vec::new();
            for _ in 0..burst {
                let text = QUESTIONS[self.plan.rng.index(QUESTIONS.len())];
                batch.push(self.history.sent.len());
                self.history.sent.push(Sent {
                    client_id: format!("v{}-m{n}", self.plan.index),
                    text: text.to_string(),
                    first_sent: Duration::ZERO,
                    sends: 0,
                    acked: None,
                    acked_at: None,
                    gave_up: false,
                });
                n += 1;
            }
            let until = self.plan.give_up_at;
            self.deliver(&batch, until).await;
            self.await_replies(&batch, until).await;
            if Instant::now() < self.plan.stop_at && self.plan.rng.chance(0.5) {
                self.cart_change(None).await;
            }
        }
        // Settle: every acknowledged message whose reply never started is sent again (same
        // client_id), as the protocol asks after a lost turn, and its reply awaited.
        let unanswered: Vec<usize> = (0..self.history.sent.len())
            .filter(|&i| {
                self.history.sent[i]
                    .acked
                    .is_some_and(|seq| !self.answered(seq))
            })
            .collect();
        if !unanswered.is_empty()
            && self.history.fatal.is_none()
            && self.ensure_connected(self.plan.give_up_at).await
        {
            self.resend_unstarted(&unanswered).await;
            let until = self.plan.give_up_at;
            self.await_replies(&unanswered, until).await;
        }
        // Settle: the cart's last change must be known before the check.
        while self.history.cart == CartKnowledge::Uncertain
            && Instant::now() < self.plan.give_up_at
            && self.history.fatal.is_none()
        {
            let id = CATALOG[self.plan.rng.index(CATALOG.len())].0.to_string();
            self.cart_change(Some(CartOp::Add { id, quantity: 1 }))
                .await;
        }
        if let Some(mut ws) = self.ws.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
        }
        self.history
    }

    fn elapsed(&self) -> Duration {
        Instant::now().duration_since(self.plan.run_started)
    }

    fn error(&mut self, name: impl Into<String>) {
        *self.history.errors.entry(name.into()).or_insert(0) += 1;
    }

    fn violation(&mut self, check: &'static str, what: String) {
        self.history.violations.push((check, what));
    }

    /// Opens a connection (with `after` once anything was seen), retrying with backoff until
    /// `until`; unacknowledged messages are due again on it. False when it could not.
    async fn ensure_connected(&mut self, until: Instant) -> bool {
        if self.ws.is_some() {
            return true;
        }
        let mut backoff = Duration::from_millis(100);
        while Instant::now() < until && self.history.fatal.is_none() {
            let after = self.history.last_seq;
            match connect(&self.plan.conversation, after, self.plan.source).await {
                Ok((ws, hello)) => {
                    self.note(format!("connect after={after}"));
                    self.on_event(&hello);
                    self.ws = Some(ws);
                    self.fresh = true;
                    self.conn += 1;
                    self.conn_seq = after;
                    self.conn_after = after;
                    self.history.connections += 1;
                    if self.history.connections > 1 {
                        self.plan
                            .counters
                            .reconnects
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    let now = Instant::now();
                    for (at, on) in self.due.values_mut() {
                        *at = (*at).min(now);
                        *on = None;
                    }
                    return true;
                }
                Err(e) => {
                    if e == "closed_4001" || e == "closed_4004" {
                        self.history.fatal =
                            Some(format!("the server refused the conversation: {e}"));
                    }
                    self.error(format!("connect {e}"));
                    tokio::time::sleep(
                        backoff.min(until.saturating_duration_since(Instant::now())),
                    )
                    .await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
        false
    }

    /// Reads one frame, at most until `until`. A drop signal drops the connection.
    async fn next(&mut self, until: Instant) -> Step {
        let signal = Arc::clone(&self.plan.drop_signal);
        loop {
            let Some(ws) = self.ws.as_mut() else {
                return Step::Gone;
            };
            let read = tokio::select! {
                _ = signal.notified() => None,
                r = tokio::time::timeout_at(until, ws.next()) => Some(r),
            };
            let Some(read) = read else {
                // No Close frame: the network failed.
                self.ws = None;
                self.plan
                    .counters
                    .client_drops
                    .fetch_add(1, Ordering::Relaxed);
                return self.gone();
            };
            match read {
                Err(_) => return Step::Idle,
                Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str(&t) {
                    Ok(v) => return Step::Event(v),
                    Err(_) => {
                        let what = format!("a frame that is not JSON: {t}");
                        self.violation("out_of_order", what);
                    }
                },
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let code = frame.map_or(0, |f| u16::from(f.code));
                    self.error(format!("close {code}"));
                    self.ws = None;
                    return self.gone();
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => {
                    self.error("connection broken");
                    self.ws = None;
                    return self.gone();
                }
            }
        }
    }

    /// The connection is gone: a cart change in flight becomes uncertain; messages are due
    /// again on the next connection.
    fn gone(&mut self) -> Step {
        if self.pending_cart.take().is_some() {
            self.history.cart = CartKnowledge::Uncertain;
        }
        Step::Gone
    }

    /// Reads and records frames until `until`, reconnecting as needed.
    async fn pump(&mut self, until: Instant) {
        while Instant::now() < until {
            if !self.ensure_connected(until).await {
                return;
            }
            if let Step::Event(v) = self.next(until).await {
                self.on_event(&v);
            }
        }
    }

    /// Sends the batch's messages until each is acknowledged (or `until`).
    async fn deliver(&mut self, batch: &[usize], until: Instant) {
        let now = Instant::now();
        for &i in batch {
            self.due.insert(i, (now, None));
        }
        loop {
            if batch.iter().all(|&i| self.history.sent[i].acked.is_some()) {
                return;
            }
            if Instant::now() >= until || self.history.fatal.is_some() {
                return;
            }
            if !self.ensure_connected(until).await {
                return;
            }
            let now = Instant::now();
            let mut wake = until;
            for &i in batch {
                let Some(&(at, on)) = self.due.get(&i) else {
                    continue;
                };
                if at <= now && on != Some(self.conn) {
                    let sent = &self.history.sent[i];
                    let frame = json!({"type": "user_message", "client_id": sent.client_id, "text": sent.text});
                    if !self.send(frame).await {
                        break;
                    }
                    let first = self.history.sent[i].sends == 0;
                    if first {
                        self.history.sent[i].first_sent = self.elapsed();
                        self.plan.counters.messages.fetch_add(1, Ordering::Relaxed);
                    }
                    self.history.sent[i].sends += 1;
                    // Resent on this connection only after an error, or after a long silence.
                    self.due
                        .insert(i, (now + Duration::from_secs(15), Some(self.conn)));
                    wake = wake.min(now + Duration::from_secs(15));
                } else {
                    wake = wake.min(at.max(now + Duration::from_millis(10)));
                }
            }
            if let Step::Event(v) = self.next(wake).await {
                self.on_event(&v);
            }
            // A due time reached on the same connection means no answer came: send again.
            let now = Instant::now();
            for (at, on) in self.due.values_mut() {
                if *at <= now {
                    *on = None;
                }
            }
        }
    }

    /// Waits for the replies to the batch's acknowledged messages, giving up after `patience`
    /// without any event.
    async fn await_replies(&mut self, batch: &[usize], until: Instant) {
        let mut progress = Instant::now();
        let mut seen =
            self.history.shown.len() + self.texts.values().map(String::len).sum::<usize>();
        loop {
            let waiting: Vec<usize> = batch
                .iter()
                .copied()
                .filter(|&i| {
                    self.history.sent[i]
                        .acked
                        .is_some_and(|seq| !self.answered(seq))
                })
                .collect();
            if waiting.is_empty() {
                return;
            }
            let limit = until.min(progress + self.plan.patience);
            if Instant::now() >= limit || self.history.fatal.is_some() {
                for i in waiting {
                    self.history.sent[i].gave_up = true;
                }
                return;
            }
            let was = self.conn;
            if !self.ensure_connected(limit).await {
                continue;
            }
            if self.conn != was {
                progress = Instant::now();
                self.resend_unstarted(&waiting).await;
            }
            if let Step::Event(v) = self.next(limit).await {
                self.on_event(&v);
                let now_seen =
                    self.history.shown.len() + self.texts.values().map(String::len).sum::<usize>();
                if now_seen != seen {
                    seen = now_seen;
                    progress = Instant::now();
                }
            }
        }
    }

    /// Sends again (same `client_id`) each of `batch`'s acknowledged messages whose reply never
    /// started: its turn may have been lost to a crash or an outage, and the protocol answers a
    /// message sent again if it has no reply.
    async fn resend_unstarted(&mut self, batch: &[usize]) {
        for &i in batch {
            let Some(seq) = self.history.sent[i].acked else {
                continue;
            };
            if self.reply_to.contains_key(&seq) {
                continue;
            }
            let sent = &self.history.sent[i];
            let frame =
                json!({"type": "user_message", "client_id": sent.client_id, "text": sent.text});
            if !self.send(frame).await {
                return;
            }
            self.history.sent[i].sends += 1;
            let client_id = self.history.sent[i].client_id.clone();
            self.history.resent_lost.insert(client_id);
        }
    }

    fn answered(&self, seq: i64) -> bool {
        self.reply_to
            .get(&seq)
            .is_some_and(|id| self.ended.contains(id))
    }

    /// Sends a frame; false (and the connection dropped) when it cannot.
    async fn send(&mut self, frame: Value) -> bool {
        let Some(ws) = self.ws.as_mut() else {
            return false;
        };
        let sent = tokio::time::timeout(
            Duration::from_secs(5),
            ws.send(Message::Text(frame.to_string().into())),
        )
        .await;
        if matches!(sent, Ok(Ok(()))) {
            return true;
        }
        self.error("send failed");
        self.ws = None;
        self.gone();
        false
    }

    /// Keeps the last frames' types for violation reports.
    fn note(&mut self, what: String) {
        if self.recent.len() >= 16 {
            self.recent.pop_front();
        }
        self.recent.push_back(what);
    }

    /// Records a frame.
    fn on_event(&mut self, v: &Value) {
        let kind = v["type"].as_str().unwrap_or_default();
        let short = |f: &str| {
            v[f].as_str()
                .unwrap_or_default()
                .chars()
                .take(8)
                .collect::<String>()
        };
        let detail = match kind {
            "error" => format!(" {}", short("code")),
            "delta" => format!(
                " {} @{}+{}",
                short("message_id"),
                v["index"],
                v["text"].as_str().unwrap_or_default().chars().count()
            ),
            "assistant_start" | "assistant_end" | "user_message" => {
                format!(" seq {} {}", v["seq"], short("message_id"))
            }
            "hello" => format!(" last_seq {}", v["last_seq"]),
            _ => String::new(),
        };
        self.note(format!("<{kind}{detail}"));
        let seq = v["seq"].as_i64();
        match kind {
            "hello" => {
                // A hello on an open connection starts a new subscription (the server's own
                // resubscription after `conversation_restarted`): a cart change in flight may
                // have died with the old actor, and the subscription's cart frame is not its
                // result.
                if self.pending_cart.take().is_some() {
                    self.history.cart = CartKnowledge::Uncertain;
                }
                self.fresh = true;
                let last = v["last_seq"].as_i64().unwrap_or(0);
                if last < self.history.last_seq {
                    let what = format!(
                        "{}: hello.last_seq {last} is below the seq {} already shown",
                        self.plan.conversation.id, self.history.last_seq
                    );
                    self.violation("lost", what);
                }
            }
            "ack" => {
                let client_id = v["client_id"].as_str().unwrap_or_default().to_string();
                let Some(seq) = seq else {
                    self.violation("out_of_order", format!("an ack without seq: {v}"));
                    return;
                };
                match self.history.acks.get(&client_id) {
                    Some(&first) if first != seq => {
                        let what = format!(
                            "{}: {client_id} acknowledged as seq {first}, then as {seq}",
                            self.plan.conversation.id
                        );
                        self.violation("duplicates", what);
                    }
                    Some(_) => {}
                    None => {
                        self.history.acks.insert(client_id.clone(), seq);
                        self.plan.counters.acked.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if let Some(i) = self
                    .history
                    .sent
                    .iter()
                    .position(|s| s.client_id == client_id)
                {
                    if self.history.sent[i].acked.is_none() {
                        self.history.sent[i].acked = Some(seq);
                        self.history.sent[i].acked_at = Some(self.elapsed());
                    }
                    self.due.remove(&i);
                }
            }
            "user_message" => {
                let shown = Shown::User {
                    client_id: v["client_id"].as_str().unwrap_or_default().to_string(),
                };
                self.durable(seq, shown, v);
            }
            "assistant_start" => {
                let message_id = v["message_id"].as_str().unwrap_or_default().to_string();
                let reply_to_seq = v["reply_to_seq"].as_i64().unwrap_or(0);
                self.open_replies.insert(message_id.clone());
                self.reply_to.insert(reply_to_seq, message_id.clone());
                self.texts.entry(message_id.clone()).or_default();
                let shown = Shown::Start {
                    message_id,
                    reply_to_seq,
                };
                self.durable(seq, shown, v);
            }
            "delta" => {
                let message_id = v["message_id"].as_str().unwrap_or_default().to_string();
                let index = v["index"].as_u64().unwrap_or(0) as usize;
                let piece = v["text"].as_str().unwrap_or_default();
                let text = self.texts.entry(message_id.clone()).or_default();
                let have = text.chars().count();
                if index > have {
                    let what = format!(
                        "{}: a delta of {message_id} at index {index}, with only {have} characters shown (frames: {:?})",
                        self.plan.conversation.id, self.recent
                    );
                    self.violation("out_of_order", what);
                    return;
                }
                let mut next: String = text.chars().take(index).collect();
                next.push_str(piece);
                *text = next;
            }
            "assistant_end" => {
                let message_id = v["message_id"].as_str().unwrap_or_default().to_string();
                self.open_replies.remove(&message_id);
                self.ended.insert(message_id.clone());
                let text = v["text"].as_str().unwrap_or_default().to_string();
                self.texts.insert(message_id.clone(), text.clone());
                let interrupted = v["interrupted"].as_bool().unwrap_or(false);
                self.plan.counters.replies.fetch_add(1, Ordering::Relaxed);
                let shown = Shown::End {
                    message_id,
                    text,
                    interrupted,
                };
                self.durable(seq, shown, v);
            }
            "cart" => self.on_cart(v),
            "pong" => self.ponged = true,
            "error" => self.on_error(v),
            _ => {}
        }
    }

    /// Records a durable event: increasing `seq` on each connection, above the `after` it
    /// was opened with, and the same event whenever a `seq` is shown again.
    fn durable(&mut self, seq: Option<i64>, shown: Shown, v: &Value) {
        let id = self.plan.conversation.id.clone();
        let Some(seq) = seq else {
            self.violation(
                "out_of_order",
                format!("{id}: a durable event without seq: {v}"),
            );
            return;
        };
        if seq <= self.conn_seq {
            let what = if seq <= self.conn_after {
                format!(
                    "{id}: seq {seq} replayed on a connection opened with after={}",
                    self.conn_after
                )
            } else {
                format!(
                    "{id}: seq {seq} after seq {} on one connection (frames: {:?})",
                    self.conn_seq, self.recent
                )
            };
            self.violation("out_of_order", what);
        }
        self.conn_seq = self.conn_seq.max(seq);
        self.history.last_seq = self.history.last_seq.max(seq);
        match self.history.shown.get(&seq) {
            Some(before) if *before != shown => {
                let what = format!("{id}: seq {seq} shown as {before:?}, then as {shown:?}");
                self.violation("duplicates", what);
            }
            Some(_) => {}
            None => {
                self.history.shown.insert(seq, shown);
            }
        }
    }

    fn on_error(&mut self, v: &Value) {
        let code = v["code"].as_str().unwrap_or_default().to_string();
        self.error(format!("error {code}"));
        if self.pending_cart.is_some() {
            if CART_REFUSALS.contains(&code.as_str()) {
                // Refused: the cart is unchanged.
                self.pending_cart = None;
                self.history.cart_ops_resolved += 1;
            } else if matches!(
                code.as_str(),
                "unavailable" | "timeout" | "restarting" | "conversation_restarted"
            ) {
                // Maybe changed, maybe not.
                self.pending_cart = None;
                self.history.cart = CartKnowledge::Uncertain;
            }
        }
        if matches!(
            code.as_str(),
            "unavailable" | "timeout" | "restarting" | "rate_limited"
        ) {
            let wait = v["retry_after_ms"].as_u64().unwrap_or(500).min(5000);
            let at = Instant::now() + Duration::from_millis(wait);
            for (due, on) in self.due.values_mut() {
                *due = at;
                *on = None;
            }
        }
    }
}
