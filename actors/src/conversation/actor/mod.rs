//! `ConversationActor`: one per live conversation, started under an actix `Supervisor` by the
//! [`ConversationRegistry`](super::registry::ConversationRegistry).
//!
//! It sequences turns, persists, and forwards events; it does not decide what to say (the turn
//! pipeline, [`crate::agent::Turn`], does). It owns the session: the model's context window, the
//! session state (cart, products last shown), the queue of turns waiting for a reply, the reply
//! in progress, and the subscribers (every WebSocket or SSE stream watching the conversation).
//! Guarantees, and how they are kept:
//! - one turn at a time, in arrival order: writes run under `ctx.wait` (`AtomicResponse`), so the
//!   mailbox is not processed while a write is in flight, and replies are started from a FIFO;
//! - persist before acknowledge: the `ack` is sent from the store write's completion;
//! - no double processing: the store refuses a `client_id` it has seen;
//! - resume: `Subscribe { after }` replays stored events and the reply in progress before the
//!   subscriber is added, inside the same atomic step;
//! - the session state changes only when the reply that changed it is stored.
//!
//! Each turn runs as a task that feeds the actor its events (`turns.rs`). The actor stops itself
//! when idle with no subscribers (passivation) and is rehydrated from the store on the next
//! access.

mod turns;

use super::context::ContextWindow;
use super::deps::{EngineDeps, EngineObserver};
use super::events::{CloseCause, ConversationEvent, SharedEvent, Signal};
use super::messages::*;
use super::registry::ConversationRegistry;
use super::replay;
use super::state::SessionState;
use crate::agent::AgentEvent;
use crate::ids::{ConversationId, MerchantId, MessageId};
use crate::merchant::{AgentSnapshot, ConfigChanged};
use crate::ports::metering::Charge;
use crate::ports::store::{
    AppendOutcome, MessageStatus, PersistError, ReplyEnd, ReplyMeta, Role, StoredMessage,
};
use actix::prelude::*;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// How long replay writes into one subscriber may wait for it before giving up on it.
const REPLAY_SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a retired actor restarted by its supervisor waits before stopping again.
const RETIRED_LINGER: Duration = Duration::from_millis(200);

/// A visitor turn waiting for its reply, or a notice the conversation says on its own.
struct QueuedTurn {
    /// The user message's sequence number (for a notice: the last one stored).
    seq: i64,
    /// Its text (for a notice: what the conversation says).
    text: String,
    /// For a notice: the events it carries (an order's change); `None` for a visitor turn.
    notice: Option<Vec<AgentEvent>>,
}

/// The reply being generated.
struct Reply {
    /// Its id.
    message_id: MessageId,
    /// Its start sequence number; `None` until the start is stored.
    seq: Option<i64>,
    /// The user message it answers.
    reply_to_seq: i64,
    /// Text so far.
    text: String,
    /// `text.chars().count()`, kept to index deltas without rescanning.
    chars: usize,
    /// The turn's task; aborted on cancel, shutdown and restart.
    task: Option<tokio::task::JoinHandle<()>>,
    /// When the turn started (time to first token).
    started: Instant,
    /// Who serves the model call in progress, as the turn announced it.
    serving: Option<(String, String)>,
    /// The turn's model calls so far, stored with the reply.
    charges: Vec<Charge>,
    /// The session state the turn ended with, when it changed it.
    state: Option<SessionState>,
    /// What the reply showed besides its text (cards, cart, intent), stored with it.
    meta: ReplyMeta,
}

impl Reply {
    /// A reply whose start is being stored.
    fn pending(message_id: MessageId, reply_to_seq: i64) -> Self {
        Self {
            message_id,
            seq: None,
            reply_to_seq,
            text: String::new(),
            chars: 0,
            task: None,
            started: Instant::now(),
            serving: None,
            charges: Vec::new(),
            state: None,
            meta: ReplyMeta::default(),
        }
    }
}

/// The conversation actor. See the module docs.
pub struct ConversationActor {
    /// The conversation; fixed for the actor's life.
    id: ConversationId,
    /// Back to the directory, to remove itself when it passivates. Weak: the registry owns
    /// the actors, not the other way round.
    registry: Weak<ConversationRegistry>,
    /// Store, model, tools and settings, shared by every conversation.
    deps: Arc<EngineDeps>,
    /// True once the state is loaded from the store; requests before that are refused.
    loaded: bool,
    /// The conversation's merchant, once loaded.
    merchant_id: Option<MerchantId>,
    /// The merchant's agent configuration in force; replaced by `ConfigChanged`, read at the
    /// start of each turn.
    agent: Option<Arc<AgentSnapshot>>,
    /// The last sequence number stored.
    last_seq: i64,
    /// What the model sees of the conversation (recent messages, summary).
    context: ContextWindow,
    /// The session state as last stored (cart, products last shown).
    session: SessionState,
    /// Turns waiting for a reply, in arrival order.
    queue: VecDeque<QueuedTurn>,
    /// The reply in progress.
    reply: Option<Reply>,
    /// Everyone watching: bounded channels. A full or closed channel drops its subscriber
    /// (it resubscribes with `after` and loses nothing).
    subscribers: HashMap<SubscriberId, mpsc::Sender<Signal>>,
    /// Next subscriber id.
    next_subscriber: SubscriberId,
    /// Last request or event, for passivation.
    last_activity: Instant,
    /// Set when the actor stops for good (passivation, shutdown, not found): it must not be
    /// restarted by its supervisor and must not serve requests any more.
    retiring: bool,
    /// Set on server shutdown: new turns are refused.
    shutting_down: bool,
    /// Completed when the shutdown is done (reply stored, subscribers told).
    shutdown_done: Option<oneshot::Sender<()>>,
}

impl ConversationActor {
    /// A new, unloaded actor for `id`; `started` loads it.
    pub(crate) fn new(
        id: ConversationId,
        registry: Weak<ConversationRegistry>,
        deps: Arc<EngineDeps>,
    ) -> Self {
        Self {
            id,
            registry,
            deps,
            loaded: false,
            merchant_id: None,
            agent: None,
            last_seq: 0,
            context: ContextWindow::default(),
            session: SessionState::default(),
            queue: VecDeque::new(),
            reply: None,
            subscribers: HashMap::new(),
            next_subscriber: 1,
            last_activity: Instant::now(),
            retiring: false,
            shutting_down: false,
            shutdown_done: None,
        }
    }

    fn observer(&self) -> &dyn EngineObserver {
        self.deps.observer.as_ref()
    }

    /// Sends to every subscriber; drops the ones whose channel is full or closed.
    fn broadcast(&mut self, event: ConversationEvent) {
        let event: Arc<SharedEvent> = event.into();
        let mut dropped = Vec::new();
        for (id, tx) in &self.subscribers {
            if tx.try_send(Signal::Event(event.clone())).is_err() {
                dropped.push(*id);
            }
        }
        for id in dropped {
            self.subscribers.remove(&id);
            self.observer().subscriber_dropped();
        }
    }

    /// Sends to one subscriber, if it is still there.
    fn send_to(&mut self, id: Option<SubscriberId>, event: ConversationEvent) {
        let Some(id) = id else { return };
        if let Some(tx) = self.subscribers.get(&id)
            && tx.try_send(Signal::Event(event.into())).is_err()
        {
            self.subscribers.remove(&id);
            self.observer().subscriber_dropped();
        }
    }

    fn retire(&mut self, ctx: &mut Context<Self>) {
        self.retiring = true;
        if let Some(registry) = self.registry.upgrade() {
            registry.forget(self.id, &ctx.address());
        }
        ctx.stop();
    }

    fn load(&mut self, ctx: &mut Context<Self>) {
        let store = self.deps.store.clone();
        let id = self.id;
        let history = self.deps.settings.history_messages;
        ctx.wait(async move { store.load(id, history).await }.into_actor(self).map(move |res, act, ctx| match res {
            Ok(loaded) => {
                act.loaded = true;
                act.last_seq = loaded.last_seq;
                act.merchant_id = Some(loaded.merchant_id);
                act.join_merchant(ctx, loaded.merchant_id);
                act.context.clear();
                for m in loaded.recent {
                    act.context.remember(m.role, m.text, history);
                }
                act.session = loaded.state;
                act.last_activity = Instant::now();
            }
            Err(PersistError::NotFound) => {
                tracing::warn!(conversation_id = %act.id, "conversation not found; stopping");
                act.retire(ctx);
            }
            Err(PersistError::Unavailable(e)) => {
                // Refuse requests for a moment, then stop; the next access retries the load.
                tracing::warn!(conversation_id = %act.id, error = %e, "could not load the conversation");
                ctx.run_later(Duration::from_secs(1), |act, ctx| act.retire(ctx));
            }
        }));
    }

    /// Takes the merchant's configuration snapshot and subscribes to its changes.
    fn join_merchant(&mut self, ctx: &mut Context<Self>, merchant: MerchantId) {
        let merchants = self.deps.merchants.clone();
        let id = self.id;
        let recipient = ctx.address().downgrade().recipient();
        ctx.wait(async move { merchants.join(merchant, id, recipient).await }.into_actor(self).map(|res, act, _| match res {
            Ok(snapshot) => act.agent = Some(snapshot),
            Err(e) => {
                // Replies still work, with the deployment's base prompt.
                tracing::warn!(conversation_id = %act.id, error = %e, "could not load the merchant's agent configuration");
            }
        }));
    }

    fn not_ready(&self) -> Option<ConversationError> {
        if self.shutting_down {
            Some(ConversationError::ShuttingDown)
        } else if !self.loaded || self.retiring {
            Some(ConversationError::Unavailable(
                "the conversation is not loaded".into(),
            ))
        } else {
            None
        }
    }

    fn idle_check(&mut self, ctx: &mut Context<Self>) {
        self.subscribers.retain(|_, tx| !tx.is_closed());
        let idle = self.subscribers.is_empty() && self.reply.is_none() && self.queue.is_empty();
        if idle && self.loaded && self.last_activity.elapsed() >= self.deps.settings.idle_timeout {
            tracing::debug!(conversation_id = %self.id, "passivating idle conversation");
            self.retire(ctx);
        }
    }

    /// Tells subscribers the conversation is closing and stops for good.
    fn complete_shutdown(&mut self, ctx: &mut Context<Self>) {
        for tx in self.subscribers.values() {
            let _ = tx.try_send(Signal::Close(CloseCause::ServerRestarting));
        }
        self.subscribers.clear();
        if let Some(done) = self.shutdown_done.take() {
            let _ = done.send(());
        }
        self.retire(ctx);
    }
}

impl Actor for ConversationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Turn tasks and edges `send` with backpressure; 64 leaves room for bursts of deltas.
        ctx.set_mailbox_capacity(64);
        self.observer().actor_started();
        if self.retiring {
            // It stopped for good, but its supervisor restarted it because something (a request
            // in flight) still held its address. It must not load: loading closes the replies
            // left streaming, and the actor that replaced it may be streaming one now. It
            // refuses what reaches it (`not_ready`) and stops again; the supervisor lets it go
            // once nobody holds the address.
            ctx.run_later(RETIRED_LINGER, |_, ctx| ctx.stop());
            return;
        }
        self.load(ctx);
        let every = (self.deps.settings.idle_timeout / 4).max(Duration::from_millis(250));
        ctx.run_interval(every, |act, ctx| act.idle_check(ctx));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.observer().actor_stopped();
        // Once per join: a retired actor restarted by its supervisor does not join again, and
        // leaving again would unregister the actor that replaced it.
        if let Some(m) = self.merchant_id.take() {
            self.deps.merchants.leave(m, self.id);
        }
    }
}

impl Drop for ConversationActor {
    fn drop(&mut self) {
        if let Some(task) = self.reply.as_mut().and_then(|r| r.task.take()) {
            task.abort();
        }
    }
}

impl Supervised for ConversationActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        // Same struct, fresh state: everything is reloaded from the store in `started`.
        // Subscribers are dropped; their channels close and they resubscribe with `after`.
        // (A retired actor restarted only because its address is still held is no crash.)
        if !self.retiring {
            self.observer().actor_restarted();
        }
        if let Some(task) = self.reply.take().and_then(|mut r| r.task.take()) {
            task.abort();
        }
        self.loaded = false;
        self.queue.clear();
        self.subscribers.clear();
        self.context.clear();
        self.session = SessionState::default();
    }
}

impl Handler<Subscribe> for ConversationActor {
    type Result = AtomicResponse<Self, Result<(SubscriberId, i64), ConversationError>>;

    fn handle(&mut self, msg: Subscribe, _: &mut Self::Context) -> Self::Result {
        if let Some(e) = self.not_ready() {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        self.last_activity = Instant::now();
        let hello = ConversationEvent::Hello {
            conversation_id: self.id,
            last_seq: self.last_seq,
            assistant_name: self.agent.as_ref().map(|a| a.config.assistant_name.clone()),
            greeting: self.agent.as_ref().map(|a| a.config.greeting.clone()),
        };
        let after = msg.after.filter(|a| *a < self.last_seq);
        let seen = msg.after;
        // The reply in progress, from memory (its stored row is left out of the replay): its
        // start unless the client has seen it, then its text so far as one delta at index 0.
        // The state cannot change before the replay is done (this handler is atomic), so what
        // is taken now is what the live deltas continue from.
        let live = self.reply.as_ref().and_then(|r| {
            let seq = r.seq?;
            let start = seen
                .is_none_or(|a| seq > a)
                .then_some(ConversationEvent::AssistantStart {
                    message_id: r.message_id,
                    seq,
                    reply_to_seq: r.reply_to_seq,
                });
            let text = (!r.text.is_empty()).then(|| ConversationEvent::Delta {
                message_id: r.message_id,
                text: r.text.clone(),
                index: 0,
            });
            Some((seq, start.into_iter().chain(text)))
        });
        let store = self.deps.store.clone();
        let id = self.id;
        let limit = self.deps.settings.replay_limit;
        let sender = msg.sender;
        let fut = async move {
            let send = |tx: mpsc::Sender<Signal>, ev: ConversationEvent| async move {
                tokio::time::timeout(REPLAY_SEND_TIMEOUT, tx.send(Signal::Event(ev.into())))
                    .await
                    .map_err(|_| ConversationError::Unavailable("subscriber too slow".into()))?
                    .map_err(|_| ConversationError::Unavailable("subscriber gone".into()))
            };
            send(sender.clone(), hello).await?;
            let mut live = live;
            if let Some(after) = after {
                let messages = store
                    .messages_after(id, after, limit)
                    .await
                    .map_err(|e| ConversationError::Unavailable(e.to_string()))?;
                for ev in replay::events_after(messages, after) {
                    // The live reply takes its place by `seq`: visitor messages stored while it
                    // streams come after its start.
                    if let Some((_, catch_up)) =
                        live.take_if(|(seq, _)| ev.seq().is_some_and(|s| s > *seq))
                    {
                        for c in catch_up {
                            send(sender.clone(), c).await?;
                        }
                    }
                    send(sender.clone(), ev).await?;
                }
            }
            for c in live.into_iter().flat_map(|(_, catch_up)| catch_up) {
                send(sender.clone(), c).await?;
            }
            Ok(sender)
        };
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(move |res, act, _| {
            let sender = res?;
            if !act.session.cart.is_empty() {
                // The cart as it stands, whatever the client saw before.
                let cart = ConversationEvent::Cart {
                    cart: act.session.cart.clone(),
                };
                sender
                    .try_send(Signal::Event(cart.into()))
                    .map_err(|_| ConversationError::Unavailable("subscriber too slow".into()))?;
            }
            if let Some((&id, _)) = act.subscribers.iter().find(|(_, tx)| tx.same_channel(&sender)) {
                // One channel, one subscription: with two, an event dropped for one (full)
                // would leave the channel open through the other, and its reader would never
                // learn it missed something.
                tracing::warn!(conversation_id = %act.id, "a channel subscribed twice; keeping one subscription");
                return Ok((id, act.last_seq));
            }
            let id = act.next_subscriber;
            act.next_subscriber += 1;
            act.subscribers.insert(id, sender);
            Ok((id, act.last_seq))
        })))
    }
}

impl Handler<Unsubscribe> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Self::Context) {
        self.subscribers.remove(&msg.id);
        self.last_activity = Instant::now();
    }
}

impl Handler<PostUserMessage> for ConversationActor {
    type Result = AtomicResponse<Self, Result<Posted, ConversationError>>;

    fn handle(&mut self, msg: PostUserMessage, ctx: &mut Self::Context) -> Self::Result {
        if let Some(e) = self.not_ready() {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        self.last_activity = Instant::now();
        let store = self.deps.store.clone();
        let id = self.id;
        let message_id = MessageId::new_random();
        let (client_id, text) = (msg.client_id, msg.text);
        let (c, t) = (client_id.clone(), text.clone());
        // When idle, the message and the start of its reply go in one transaction: one commit
        // instead of two before the first token. (An injected fault takes the queue path.)
        let start_now = self.reply.is_none() && self.queue.is_empty() && !self.faulty(&text);
        let reply_id = MessageId::new_random();
        let version = self.agent.as_ref().map(|a| a.version);
        // The turn starts now, while the message is being stored, so the commit overlaps the
        // model's own time to first token. Nothing it does can overtake the commit: this
        // handler is atomic, so its first event waits in the mailbox until the write is done;
        // its tools wait for `commit`; and a failed or duplicate write aborts it.
        let early = start_now.then(|| {
            let (commit, committed) = oneshot::channel();
            let task = self.start_turn(ctx, reply_id, &text, Some(committed));
            (task, Instant::now(), commit)
        });
        let fut = async move {
            if start_now {
                store
                    .append_and_start(id, message_id, c, t, reply_id, version)
                    .await
            } else {
                store
                    .append_user_message(id, message_id, c, t)
                    .await
                    .map(|o| (o, None))
            }
        };
        let subscriber = msg.subscriber;
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(move |res, act, ctx| {
            let mut early = early;
            let abort = |e: Option<(tokio::task::JoinHandle<()>, Instant, oneshot::Sender<()>)>| {
                if let Some((task, _, _)) = e {
                    task.abort();
                }
            };
            match res {
                Ok((AppendOutcome::Stored { seq, message_id }, started)) => {
                    act.last_seq = act.last_seq.max(seq);
                    act.send_to(
                        subscriber,
                        ConversationEvent::Ack {
                            client_id: client_id.clone(),
                            seq,
                        },
                    );
                    act.broadcast(ConversationEvent::UserMessage {
                        message_id,
                        seq,
                        client_id,
                        text: text.clone(),
                    });
                    match (started, early.take()) {
                        (Some(reply_seq), Some((task, started, commit))) => {
                            let _ = commit.send(());
                            act.begin_reply(
                                ctx,
                                reply_id,
                                reply_seq,
                                seq,
                                text,
                                Some((task, started)),
                            );
                        }
                        (_, unused) => {
                            abort(unused);
                            act.queue.push_back(QueuedTurn {
                                seq,
                                text,
                                notice: None,
                            });
                            act.maybe_start_next(ctx);
                        }
                    }
                    Ok(Posted {
                        seq,
                        message_id,
                        duplicate: false,
                    })
                }
                Ok((AppendOutcome::Duplicate { seq, message_id }, _)) => {
                    abort(early);
                    act.send_to(subscriber, ConversationEvent::Ack { client_id, seq });
                    act.answer_if_unanswered(ctx, seq);
                    Ok(Posted {
                        seq,
                        message_id,
                        duplicate: true,
                    })
                }
                Err(e) => {
                    abort(early);
                    Err(match e {
                        PersistError::NotFound => ConversationError::NotFound,
                        PersistError::Unavailable(e) => ConversationError::Unavailable(e),
                    })
                }
            }
        })))
    }
}

impl ConversationActor {
    /// Whether the turn of user message `seq` is in progress or waiting here.
    fn turn_pending(&self, seq: i64) -> bool {
        self.reply.as_ref().is_some_and(|r| r.reply_to_seq == seq)
            || self
                .queue
                .iter()
                .any(|q| q.notice.is_none() && q.seq == seq)
    }

    /// A message sent again (same `client_id`) that has no reply gets one now. Its turn was
    /// lost after it was acknowledged: the server died before the reply started, or the store
    /// was down and the client was told `unavailable`, "send it again". Sending again must then
    /// get the answer, not only a second acknowledgement.
    ///
    /// A reply to it left `streaming` that this actor is not producing is an orphan: its start
    /// was committed while the store's answer was lost (or a write of an earlier life of this
    /// actor landed after its load), so no text will ever reach it. It does not count as the
    /// answer: it is closed as interrupted (its end shown to the subscribers) and the turn runs.
    ///
    /// The look-up runs under `ctx.wait`: nothing else happens in this actor until it is
    /// decided, so no reply can start or end between the read and the decision (a read that
    /// predates a reply that has since ended would answer the message twice), and a second
    /// resend waits for the first one's decision.
    fn answer_if_unanswered(&mut self, ctx: &mut Context<Self>, seq: i64) {
        if self.turn_pending(seq) || self.shutting_down || self.retiring {
            return;
        }
        let store = self.deps.store.clone();
        let id = self.id;
        let live = self.reply.as_ref().map(|r| r.message_id);
        let look = async move {
            let messages = store.messages_after(id, seq - 1, 200).await?;
            let Some(user) = messages
                .iter()
                .find(|m| m.seq == seq && m.role == Role::User)
            else {
                return Ok(None);
            };
            let replies: Vec<&StoredMessage> = messages
                .iter()
                .filter(|m| m.role == Role::Assistant && m.reply_to_seq == Some(seq))
                .collect();
            let orphan =
                |m: &StoredMessage| m.status == MessageStatus::Streaming && Some(m.id) != live;
            if replies.iter().any(|m| !orphan(m)) {
                return Ok(None);
            }
            let mut closed = Vec::new();
            for m in replies {
                let end = ReplyEnd {
                    text: m.text.clone(),
                    status: MessageStatus::Interrupted,
                    charges: Vec::new(),
                    state: None,
                    meta: ReplyMeta::default(),
                };
                let end_seq = store.finish_assistant_message(id, m.id, end).await?;
                closed.push((m.id, end_seq, m.text.clone()));
            }
            Ok::<_, PersistError>(Some((user.text.clone(), closed)))
        };
        ctx.wait(look.into_actor(self).map(move |res, act, ctx| {
            let (text, closed) = match res {
                Ok(Some(found)) => found,
                // Answered (or not stored here): nothing to do.
                Ok(None) => return,
                Err(e) => {
                    // The client is acknowledged; a later resend (or the next load, which
                    // closes every `streaming` reply) tries again.
                    tracing::warn!(conversation_id = %act.id, seq, error = %e, "could not check a resent message for its reply");
                    return;
                }
            };
            for (message_id, end_seq, text) in closed {
                tracing::info!(conversation_id = %act.id, seq, "closed a reply start whose store answer was lost");
                act.last_seq = act.last_seq.max(end_seq);
                // Its end only: its start (an older `seq`) was never shown, and showing it now
                // would break the order of `seq` on every connection. A replay shows both.
                act.broadcast(ConversationEvent::AssistantEnd {
                    message_id,
                    seq: end_seq,
                    text,
                    usage: None,
                    interrupted: true,
                    intent: None,
                    handled_by: None,
                });
            }
            // A test's injected fault is a message whose turn kills the actor: sending it again
            // must not kill it again.
            if act.turn_pending(seq) || act.shutting_down || act.retiring || act.faulty(&text) {
                return;
            }
            tracing::info!(conversation_id = %act.id, seq, "answering a resent message whose turn was lost");
            act.queue.push_back(QueuedTurn {
                seq,
                text,
                notice: None,
            });
            act.maybe_start_next(ctx);
        }));
    }
}

impl Handler<CancelReply> for ConversationActor {
    type Result = ();

    fn handle(&mut self, _: CancelReply, ctx: &mut Self::Context) {
        self.last_activity = Instant::now();
        if self.reply.as_ref().is_some_and(|r| r.seq.is_some()) {
            self.finish_reply(ctx, MessageStatus::Interrupted);
        }
    }
}

impl Handler<Shutdown> for ConversationActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Shutdown, ctx: &mut Self::Context) -> Self::Result {
        let (done, finished) = oneshot::channel();
        if self.shutting_down {
            // A second request: the first one completes the shutdown.
            return Box::pin(async {});
        }
        self.shutting_down = true;
        self.shutdown_done = Some(done);
        self.queue.clear();
        if self.reply.as_ref().is_some_and(|r| r.seq.is_some()) {
            // Stores the partial reply as interrupted; its completion finishes the shutdown, so
            // subscribers see the reply end before the close.
            self.finish_reply(ctx, MessageStatus::Interrupted);
        } else {
            self.complete_shutdown(ctx);
        }
        Box::pin(async move {
            let _ = finished.await;
        })
    }
}

impl Handler<ChangeCart> for ConversationActor {
    type Result =
        AtomicResponse<Self, Result<Result<crate::cart::Cart, CartChangeError>, ConversationError>>;

    fn handle(&mut self, msg: ChangeCart, _: &mut Self::Context) -> Self::Result {
        if let Some(e) = self.not_ready() {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        if self.reply.is_some() || !self.queue.is_empty() {
            // The turn in progress holds its own copy of the cart; changing it now would be
            // lost when the turn ends.
            return AtomicResponse::new(Box::pin(fut::ready(Ok(Err(CartChangeError::Busy)))));
        }
        self.last_activity = Instant::now();
        let tools = self.tool_context();
        let mut state = self.session.clone();
        let store = self.deps.store.clone();
        let id = self.id;
        let fut = async move {
            match msg.op {
                CartOp::Add(req) => {
                    if let Err(refusal) = tools.add_to_cart(&mut state, req).await {
                        return Ok(Err(CartChangeError::Refused(refusal)));
                    }
                }
                CartOp::Remove(req) => {
                    use crate::agent::shop::RemoveOutcome;
                    if let RemoveOutcome::NotInCart | RemoveOutcome::AlreadyEmpty =
                        tools.remove_from_cart(&mut state, req)
                    {
                        return Ok(Err(CartChangeError::NotInCart));
                    }
                }
            }
            store
                .save_state(id, state.clone())
                .await
                .map_err(|e| ConversationError::Unavailable(e.to_string()))?;
            Ok(Ok(state))
        };
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(|res, act, _| {
            let state = match res? {
                Ok(state) => state,
                Err(refused) => return Ok(Err(refused)),
            };
            let cart = state.cart.clone();
            act.session = state;
            act.broadcast(ConversationEvent::Cart { cart: cart.clone() });
            Ok(Ok(cart))
        })))
    }
}

impl Handler<ConfigChanged> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: ConfigChanged, _: &mut Self::Context) {
        // Applies from the next turn; a reply in progress keeps the prompt it started with.
        self.agent = Some(msg.0);
    }
}
