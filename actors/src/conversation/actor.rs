//! `ConversationActor`: one per live conversation, started under an actix `Supervisor` by the
//! [`ConversationRegistry`](super::registry::ConversationRegistry).
//!
//! It owns the session: recent turns for the model's context, the queue of turns waiting for a
//! reply, the reply in progress, and the subscribers (every WebSocket or SSE stream watching the
//! conversation). Guarantees, and how they are kept:
//! - one turn at a time, in arrival order: writes run under `ctx.wait` (`AtomicResponse`), so the
//!   mailbox is not processed while a write is in flight, and replies are started from a FIFO;
//! - persist before acknowledge: the `ack` is sent from the store write's completion;
//! - no double processing: the store refuses a `client_id` it has seen;
//! - resume: `Subscribe { after }` replays stored events and the reply in progress before the
//!   subscriber is added, inside the same atomic step.
//!
//! The model runs as a separate task that feeds the actor with `ReplyDelta`/`ReplyDone`
//! messages (`send().await`, so a slow actor slows the model task rather than queueing without
//! bound). The actor stops itself when idle with no subscribers (passivation) and is rehydrated
//! from the store on the next access.

use super::events::{CloseCause, ConversationEvent, Signal};
use super::messages::*;
use super::registry::{ConversationRegistry, EngineDeps};
use crate::ids::{ConversationId, MerchantId, MessageId};
use crate::merchant::{AgentSnapshot, ConfigChanged};
use crate::ports::metering::Charge;
use crate::ports::model::{ChatMessage, ModelEvent, ModelRequest, ModelRole, Usage};
use crate::ports::store::{AppendOutcome, MessageStatus, PersistError, Role, StoredMessage};
use actix::prelude::*;
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The text that makes a turn panic when `fault_injection` is on (tests only).
pub const FAULT_PANIC_TEXT: &str = "/fault panic";

/// How long replay writes into one subscriber may wait for it before giving up on it.
const REPLAY_SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Polite text stored when the model fails before producing any text.
/// The instructions of the `fast` model when it summarises older messages.
const SUMMARY_PROMPT: &str = "You summarise a conversation between a shop's assistant and a \
     visitor. Keep what the assistant needs later: what the visitor wants, sizes, budgets, \
     products and prices mentioned, promises made. Write at most 80 words, plain text.";

/// The reply when the merchant's model budget is spent (no model is called).
const OVER_BUDGET_REPLY: &str = "I'm sorry, I can't answer right now. Please try again later, \
     or contact the store directly.";

const MODEL_FAILURE_NOTICE: &str =
    "Sorry, the assistant could not answer just now. Please try again in a moment.";

/// A visitor turn waiting for its reply.
struct Turn {
    /// The user message's sequence number.
    seq: i64,
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
    /// The model task; aborted on cancel, shutdown and restart.
    task: Option<tokio::task::JoinHandle<()>>,
    /// When the model call started (time to first token).
    model_started: Option<Instant>,
    /// The provider and model that answered, when a fallback chain named them.
    served: Option<(String, String)>,
}

/// The conversation actor. See the module docs.
pub struct ConversationActor {
    /// The conversation; fixed for the actor's life.
    id: ConversationId,
    /// Back to the directory, to remove itself when it passivates. Weak: the registry owns
    /// the actors, not the other way round.
    registry: Weak<ConversationRegistry>,
    /// Store, model and settings, shared by every conversation.
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
    /// Recent messages for the model's context, oldest first, at most `history_messages`.
    history: VecDeque<ChatMessage>,
    /// A summary of the messages that left `history` (by the `fast` model), if any.
    summary: Option<String>,
    /// Messages that left `history` and are not in `summary` yet.
    to_summarize: Vec<ChatMessage>,
    /// Whether a summary is being written.
    summarizing: bool,
    /// Turns waiting for a reply, in arrival order.
    queue: VecDeque<Turn>,
    /// Texts of queued turns by seq (kept apart from `Turn` so the queue stays small to move).
    queued_text: HashMap<i64, String>,
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
    shutdown_done: Option<tokio::sync::oneshot::Sender<()>>,
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
            history: VecDeque::new(),
            summary: None,
            to_summarize: Vec::new(),
            summarizing: false,
            queue: VecDeque::new(),
            queued_text: HashMap::new(),
            reply: None,
            subscribers: HashMap::new(),
            next_subscriber: 1,
            last_activity: Instant::now(),
            retiring: false,
            shutting_down: false,
            shutdown_done: None,
        }
    }

    fn observer(&self) -> &dyn super::registry::EngineObserver {
        self.deps.observer.as_ref()
    }

    /// Sends to every subscriber; drops the ones whose channel is full or closed.
    fn broadcast(&mut self, event: ConversationEvent) {
        let event = Arc::new(event);
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
            && tx.try_send(Signal::Event(Arc::new(event))).is_err()
        {
            self.subscribers.remove(&id);
            self.observer().subscriber_dropped();
        }
    }

    /// Whether the merchant's model budget is spent (its agent configuration's caps against
    /// what the metering knows it spent).
    fn over_budget(&self) -> bool {
        match (&self.agent, self.merchant_id) {
            (Some(agent), Some(merchant)) => {
                let budget = agent.config.budget;
                (budget.daily_usd_cents.is_some() || budget.monthly_usd_cents.is_some())
                    && budget.exceeded(self.deps.metering.spent(merchant))
            }
            _ => false,
        }
    }

    fn remember(&mut self, role: Role, text: String) {
        self.history.push_back(ChatMessage::text(role, text));
        while self.history.len() > self.deps.settings.history_messages {
            if let Some(old) = self.history.pop_front() {
                self.to_summarize.push(old);
            }
        }
    }

    /// Folds the messages that left the history into the running summary, with the `fast`
    /// model, in the background: the next turns carry the summary in their system prompt. No
    /// turn waits for it; a failed summary keeps its messages for the next attempt.
    fn maybe_summarize(&mut self, ctx: &mut Context<Self>) {
        if self.summarizing || self.to_summarize.is_empty() || self.over_budget() {
            return;
        }
        self.summarizing = true;
        let batch = std::mem::take(&mut self.to_summarize);
        let mut excerpt = String::new();
        for m in &batch {
            let who = match m.role {
                Role::User => "Visitor",
                Role::Assistant => "Assistant",
            };
            excerpt.push_str(&format!("{who}: {}\n", m.joined_text()));
        }
        let previous = self.summary.clone().unwrap_or_else(|| "(none)".into());
        let request = ModelRequest {
            system: SUMMARY_PROMPT.into(),
            messages: vec![ChatMessage::text(
                Role::User,
                format!(
                    "Summary so far: {previous}\n\nNew messages:\n{excerpt}\nWrite the updated summary."
                ),
            )],
            tools: vec![],
            max_tokens: 200,
            preferred_provider: self
                .agent
                .as_ref()
                .and_then(|a| a.config.preferred_provider(ModelRole::Fast)),
        };
        let mut stream = self.deps.fast_model.stream(request);
        let fut = async move {
            let mut text = String::new();
            let mut usage = None;
            let mut served = None;
            while let Some(event) = stream.next().await {
                match event? {
                    ModelEvent::Delta(t) => text.push_str(&t),
                    ModelEvent::Usage(u) => usage = Some(u),
                    ModelEvent::Served { provider, model } => served = Some((provider, model)),
                    _ => {}
                }
            }
            Ok::<_, crate::ports::ModelError>((text, usage, served))
        };
        ctx.spawn(fut.into_actor(self).map(move |res, act, _| {
            act.summarizing = false;
            match res {
                Ok((text, usage, served)) if !text.trim().is_empty() => {
                    act.summary = Some(text.trim().to_string());
                    if let (Some(usage), Some(merchant)) = (usage, act.merchant_id) {
                        let (provider, model) = served.unwrap_or_else(|| {
                            let m = &act.deps.fast_model;
                            (m.provider().to_string(), m.model().to_string())
                        });
                        let cost_nanos = act.deps.metering.cost_nanos(&model, &usage);
                        let charge = Charge { provider, model, usage, cost_nanos };
                        act.deps.metering.record(merchant, &charge);
                        act.observer().cost(&charge.model, cost_nanos);
                    }
                }
                other => {
                    if let Err(e) = other {
                        tracing::warn!(conversation_id = %act.id, error = %e, "could not summarise older messages");
                    }
                    let mut batch = batch;
                    batch.append(&mut act.to_summarize);
                    act.to_summarize = batch;
                }
            }
        }));
    }

    /// Starts the next queued turn's reply unless one is in progress.
    fn maybe_start_next(&mut self, ctx: &mut Context<Self>) {
        if self.reply.is_some() || self.shutting_down || self.retiring {
            return;
        }
        let Some(turn) = self.queue.pop_front() else {
            return;
        };
        let text = self.queued_text.remove(&turn.seq).unwrap_or_default();
        if self.deps.settings.fault_injection && text.trim() == FAULT_PANIC_TEXT {
            // Test-only fault (conversation.fault_injection): a panic inside turn handling, to
            // prove the registry replaces the dead actor and nothing stored is lost.
            #[allow(clippy::panic)]
            {
                panic!("injected fault in conversation {}", self.id);
            }
        }
        let message_id = MessageId::new_random();
        self.reply = Some(Reply {
            message_id,
            seq: None,
            reply_to_seq: turn.seq,
            text: String::new(),
            chars: 0,
            task: None,
            model_started: None,
            served: None,
        });
        let store = self.deps.store.clone();
        let id = self.id;
        let version = self.agent.as_ref().map(|a| a.version);
        let started = async move {
            store
                .start_assistant_message(id, message_id, turn.seq, version)
                .await
        };
        ctx.wait(started.into_actor(self).map(move |res, act, ctx| match res {
            Ok(seq) => {
                act.last_seq = act.last_seq.max(seq);
                if let Some(r) = act.reply.as_mut() {
                    r.seq = Some(seq);
                }
                act.broadcast(ConversationEvent::AssistantStart {
                    message_id,
                    seq,
                    reply_to_seq: turn.seq,
                });
                act.spawn_model(ctx, message_id, text);
            }
            Err(e) => {
                tracing::warn!(conversation_id = %act.id, error = %e, "could not store the reply start");
                act.reply = None;
                act.broadcast(ConversationEvent::error(
                    "unavailable",
                    "the reply could not be started; please send your message again",
                ));
                act.maybe_start_next(ctx);
            }
        }));
    }

    fn spawn_model(&mut self, ctx: &mut Context<Self>, message_id: MessageId, user_text: String) {
        let task = self.start_model_task(ctx, message_id, &user_text);
        self.remember(Role::User, user_text);
        if let Some(r) = self.reply.as_mut() {
            r.task = Some(task);
            r.model_started = Some(Instant::now());
        }
    }

    /// Starts the model on the history plus `user_text` (not yet remembered) and returns the
    /// task streaming its reply into this actor as `ReplyDelta`s and a `ReplyDone`. The deltas
    /// wait in the mailbox until the actor handles them, so a task started while the user
    /// message is still being stored (the actor's atomic write) shows nothing before it commits.
    fn start_model_task(
        &mut self,
        ctx: &mut Context<Self>,
        message_id: MessageId,
        user_text: &str,
    ) -> tokio::task::JoinHandle<()> {
        let base = &self.deps.settings.system_prompt;
        let mut system = match &self.agent {
            Some(a) => a.config.system_prompt(base, &a.store_name),
            None => base.clone(),
        };
        if let Some(summary) = &self.summary {
            system.push_str("\n\nEarlier in this conversation (summary): ");
            system.push_str(summary);
        }
        let mut messages: Vec<ChatMessage> = self.history.iter().cloned().collect();
        messages.push(ChatMessage::text(Role::User, user_text));
        let excess = messages
            .len()
            .saturating_sub(self.deps.settings.history_messages);
        messages.drain(..excess);
        super::history::fit(&mut messages, self.deps.settings.history_tokens);
        // What did not fit has left the window for good: it goes to the summary.
        let left_out = (self.history.len() + 1).saturating_sub(messages.len());
        for _ in 0..left_out {
            if let Some(old) = self.history.pop_front() {
                self.to_summarize.push(old);
            }
        }
        let request = ModelRequest {
            system,
            messages,
            tools: vec![],
            max_tokens: self.deps.settings.max_reply_tokens,
            preferred_provider: self
                .agent
                .as_ref()
                .and_then(|a| a.config.preferred_provider(ModelRole::Main)),
        };
        let mut stream = if self.over_budget() {
            // No model call: the merchant's budget is spent. The typed outcome becomes a clear,
            // polite reply when the turn ends (`ReplyDone`).
            futures_util::stream::iter([Err(crate::ports::ModelError::OverBudget)]).boxed()
        } else {
            self.deps.model.stream(request)
        };
        let addr = ctx.address();
        actix::spawn(async move {
            let mut usage = None;
            let mut served = None;
            let outcome = loop {
                match stream.next().await {
                    Some(Ok(ModelEvent::Delta(text))) => {
                        if text.is_empty() {
                            continue;
                        }
                        // No timeout on purpose: awaiting the actor's mailbox is the
                        // backpressure that keeps a fast model from queueing without bound.
                        let served = served.take();
                        let delta = ReplyDelta {
                            message_id,
                            text,
                            served,
                        };
                        if addr.send(delta).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(ModelEvent::Usage(u))) => usage = Some(u),
                    Some(Ok(ModelEvent::Served { provider, model })) => {
                        served = Some((provider, model));
                    }
                    // Tool calls are routed by the shopping agent; a plain reply ignores them.
                    Some(Ok(ModelEvent::ToolCall(_) | ModelEvent::Stop(_))) => {}
                    Some(Err(e)) => break Err(e),
                    None => break Ok(usage),
                }
            };
            let _ = addr
                .send(ReplyDone {
                    message_id,
                    outcome,
                })
                .await;
        })
    }

    /// Ends the reply in progress: stores it, tells subscribers, starts the next turn.
    fn finish_reply(
        &mut self,
        ctx: &mut Context<Self>,
        status: MessageStatus,
        usage: Option<Usage>,
    ) {
        let Some(mut reply) = self.reply.take() else {
            return;
        };
        if let Some(task) = reply.task.take() {
            task.abort();
        }
        if reply.seq.is_none() {
            // Its start was never stored: nothing to end.
            return;
        }
        let store = self.deps.store.clone();
        let id = self.id;
        let message_id = reply.message_id;
        let text = reply.text;
        let interrupted = status == MessageStatus::Interrupted;
        let stored_text = text.clone();
        let charge = usage.map(|usage| {
            let (provider, model) = reply.served.take().unwrap_or_else(|| {
                let m = &self.deps.model;
                (m.provider().to_string(), m.model().to_string())
            });
            let cost_nanos = self.deps.metering.cost_nanos(&model, &usage);
            Charge {
                provider,
                model,
                usage,
                cost_nanos,
            }
        });
        if let (Some(c), Some(merchant)) = (&charge, self.merchant_id) {
            self.deps.metering.record(merchant, c);
            self.observer().cost(&c.model, c.cost_nanos);
        }
        let model_name = charge.as_ref().map(|c| c.model.clone());
        let fut = async move {
            store
                .finish_assistant_message(
                    id,
                    message_id,
                    stored_text,
                    status,
                    charge.into_iter().collect(),
                    None,
                )
                .await
        };
        ctx.wait(fut.into_actor(self).map(move |res, act, ctx| {
            match res {
                Ok(end_seq) => {
                    act.last_seq = act.last_seq.max(end_seq);
                    if let (Some(u), Some(model)) = (usage, &model_name) {
                        act.observer().tokens(model, &u);
                    }
                    act.observer().turn_finished(if interrupted { "interrupted" } else { "complete" });
                    act.remember(Role::Assistant, text.clone());
                    act.maybe_summarize(ctx);
                    act.broadcast(ConversationEvent::AssistantEnd {
                        message_id,
                        seq: end_seq,
                        text,
                        usage,
                        interrupted,
                    });
                }
                Err(e) => {
                    // The row stays `streaming`; a restart reloads and closes it as interrupted.
                    tracing::warn!(conversation_id = %act.id, error = %e, "could not store the reply end; restarting");
                    act.broadcast(ConversationEvent::error("unavailable", "the reply could not be stored"));
                    if act.shutting_down {
                        act.complete_shutdown(ctx);
                    } else {
                        ctx.stop();
                    }
                    return;
                }
            }
            if act.shutting_down {
                act.complete_shutdown(ctx);
                return;
            }
            act.maybe_start_next(ctx);
        }));
    }

    /// Stored messages → the durable events after `after`, in sequence order. Messages still
    /// streaming are left out: the live reply is replayed from memory.
    fn replay_events(messages: Vec<StoredMessage>, after: i64) -> Vec<(i64, ConversationEvent)> {
        let mut events = Vec::new();
        for m in messages {
            match m.role {
                Role::User => {
                    if m.seq > after {
                        events.push((
                            m.seq,
                            ConversationEvent::UserMessage {
                                message_id: m.id,
                                seq: m.seq,
                                client_id: m.client_id.unwrap_or_default(),
                                text: m.text,
                            },
                        ));
                    }
                }
                Role::Assistant => {
                    let Some(end_seq) = m.end_seq else { continue };
                    if m.seq > after {
                        events.push((
                            m.seq,
                            ConversationEvent::AssistantStart {
                                message_id: m.id,
                                seq: m.seq,
                                reply_to_seq: m.reply_to_seq.unwrap_or(0),
                            },
                        ));
                    }
                    if end_seq > after {
                        events.push((
                            end_seq,
                            ConversationEvent::AssistantEnd {
                                message_id: m.id,
                                seq: end_seq,
                                text: m.text,
                                usage: m.usage,
                                interrupted: m.status == MessageStatus::Interrupted,
                            },
                        ));
                    }
                }
            }
        }
        events.sort_by_key(|(seq, _)| *seq);
        events
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
        ctx.wait(async move { store.load(id, history).await }.into_actor(self).map(|res, act, ctx| match res {
            Ok(loaded) => {
                act.loaded = true;
                act.last_seq = loaded.last_seq;
                act.merchant_id = Some(loaded.merchant_id);
                act.join_merchant(ctx, loaded.merchant_id);
                act.history.clear();
                for m in loaded.recent {
                    act.remember(m.role, m.text);
                }
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
}

impl Actor for ConversationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Model tasks and edges `send` with backpressure; 64 leaves room for bursts of deltas.
        ctx.set_mailbox_capacity(64);
        self.observer().actor_started();
        self.load(ctx);
        let every = (self.deps.settings.idle_timeout / 4).max(Duration::from_millis(250));
        ctx.run_interval(every, |act, ctx| act.idle_check(ctx));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.observer().actor_stopped();
        if let Some(m) = self.merchant_id {
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
        self.observer().actor_restarted();
        if let Some(task) = self.reply.take().and_then(|mut r| r.task.take()) {
            task.abort();
        }
        self.loaded = false;
        self.queue.clear();
        self.queued_text.clear();
        self.subscribers.clear();
        self.history.clear();
    }
}

impl ConversationActor {
    fn idle_check(&mut self, ctx: &mut Context<Self>) {
        self.subscribers.retain(|_, tx| !tx.is_closed());
        let idle = self.subscribers.is_empty() && self.reply.is_none() && self.queue.is_empty();
        if idle && self.loaded && self.last_activity.elapsed() >= self.deps.settings.idle_timeout {
            tracing::debug!(conversation_id = %self.id, "passivating idle conversation");
            self.retire(ctx);
        }
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
        let store = self.deps.store.clone();
        let id = self.id;
        let limit = self.deps.settings.replay_limit;
        let sender = msg.sender;
        let fut = async move {
            let send = |tx: mpsc::Sender<Signal>, ev: ConversationEvent| async move {
                tokio::time::timeout(REPLAY_SEND_TIMEOUT, tx.send(Signal::Event(Arc::new(ev))))
                    .await
                    .map_err(|_| ConversationError::Unavailable("subscriber too slow".into()))?
                    .map_err(|_| ConversationError::Unavailable("subscriber gone".into()))
            };
            send(sender.clone(), hello).await?;
            if let Some(after) = after {
                let messages = store
                    .messages_after(id, after, limit)
                    .await
                    .map_err(|e| ConversationError::Unavailable(e.to_string()))?;
                for (_, ev) in Self::replay_events(messages, after) {
                    send(sender.clone(), ev).await?;
                }
            }
            Ok(sender)
        };
        let seen = msg.after;
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(move |res, act, _| {
            let sender = res?;
            if let Some(r) = act.reply.as_ref()
                && let Some(seq) = r.seq
            {
                // The reply in progress: its start unless the client has seen it, then its text
                // so far as one delta at index 0; the live deltas follow once subscribed.
                let mut catch_up = Vec::new();
                if seen.is_none_or(|a| seq > a) {
                    catch_up.push(ConversationEvent::AssistantStart {
                        message_id: r.message_id,
                        seq,
                        reply_to_seq: r.reply_to_seq,
                    });
                }
                if !r.text.is_empty() {
                    catch_up.push(ConversationEvent::Delta {
                        message_id: r.message_id,
                        text: r.text.clone(),
                        index: 0,
                    });
                }
                for ev in catch_up {
                    sender.try_send(Signal::Event(Arc::new(ev))).map_err(|_| {
                        ConversationError::Unavailable("subscriber too slow".into())
                    })?;
                }
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
        // instead of two before the first token. (The fault text always takes the queue path.)
        let start_now = self.reply.is_none()
            && self.queue.is_empty()
            && !(self.deps.settings.fault_injection && text.trim() == FAULT_PANIC_TEXT);
        let reply_id = MessageId::new_random();
        let version = self.agent.as_ref().map(|a| a.version);
        // The model starts now, while the message is being stored, so the commit overlaps the
        // model's own time to first token. Its output cannot overtake the commit: this handler
        // is atomic, so the task's first delta waits in the mailbox until the write is done,
        // and a failed or duplicate write aborts the task before anything is shown.
        let speculative =
            start_now.then(|| (self.start_model_task(ctx, reply_id, &text), Instant::now()));
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
            let mut speculative = speculative;
            let abort_speculative = |s: Option<(tokio::task::JoinHandle<()>, Instant)>| {
                if let Some((task, _)) = s {
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
                    match (started, speculative.take()) {
                        (Some(reply_seq), Some((task, model_started))) => {
                            act.last_seq = act.last_seq.max(reply_seq);
                            act.remember(Role::User, text);
                            act.reply = Some(Reply {
                                message_id: reply_id,
                                seq: Some(reply_seq),
                                reply_to_seq: seq,
                                text: String::new(),
                                chars: 0,
                                task: Some(task),
                                model_started: Some(model_started),
                                served: None,
                            });
                            act.broadcast(ConversationEvent::AssistantStart {
                                message_id: reply_id,
                                seq: reply_seq,
                                reply_to_seq: seq,
                            });
                        }
                        (_, unused) => {
                            abort_speculative(unused);
                            act.queue.push_back(Turn { seq });
                            act.queued_text.insert(seq, text);
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
                    abort_speculative(speculative);
                    act.send_to(subscriber, ConversationEvent::Ack { client_id, seq });
                    Ok(Posted {
                        seq,
                        message_id,
                        duplicate: true,
                    })
                }
                Err(e) => {
                    abort_speculative(speculative);
                    Err(match e {
                        PersistError::NotFound => ConversationError::NotFound,
                        PersistError::Unavailable(e) => ConversationError::Unavailable(e),
                    })
                }
            }
        })))
    }
}

impl Handler<CancelReply> for ConversationActor {
    type Result = ();

    fn handle(&mut self, _: CancelReply, ctx: &mut Self::Context) {
        self.last_activity = Instant::now();
        if self.reply.as_ref().is_some_and(|r| r.seq.is_some()) {
            self.finish_reply(ctx, MessageStatus::Interrupted, None);
        }
    }
}

impl Handler<ReplyDelta> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: ReplyDelta, _: &mut Self::Context) {
        let Some(reply) = self.reply.as_mut() else {
            return;
        };
        if reply.message_id != msg.message_id {
            return;
        }
        if msg.served.is_some() {
            reply.served = msg.served;
        }
        let index = reply.chars;
        if index == 0
            && let Some(t0) = reply.model_started
        {
            let m = &self.deps.model;
            let (provider, model) = match &reply.served {
                Some((p, m)) => (p.as_str(), m.as_str()),
                None => (m.provider(), m.model()),
            };
            self.deps
                .observer
                .first_token(provider, model, t0.elapsed().as_secs_f64());
        }
        reply.chars += msg.text.chars().count();
        reply.text.push_str(&msg.text);
        let message_id = reply.message_id;
        self.last_activity = Instant::now();
        self.broadcast(ConversationEvent::Delta {
            message_id,
            text: msg.text,
            index,
        });
    }
}

impl Handler<ReplyDone> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: ReplyDone, ctx: &mut Self::Context) {
        if self
            .reply
            .as_ref()
            .is_none_or(|r| r.message_id != msg.message_id)
        {
            return;
        }
        match msg.outcome {
            Ok(usage) => self.finish_reply(ctx, MessageStatus::Complete, usage),
            Err(crate::ports::ModelError::OverBudget) => {
                // Not a failure: the merchant's budget is spent, so the reply says so politely
                // and is complete.
                self.observer().over_budget();
                let message_id = msg.message_id;
                let text = OVER_BUDGET_REPLY.to_string();
                let delta = ReplyDelta {
                    message_id,
                    text,
                    served: None,
                };
                <Self as Handler<ReplyDelta>>::handle(self, delta, ctx);
                self.finish_reply(ctx, MessageStatus::Complete, None);
            }
            Err(e) => {
                tracing::warn!(conversation_id = %self.id, error = %e, "model failed");
                self.broadcast(ConversationEvent::error(
                    "model_error",
                    "the assistant's model failed; the reply is incomplete",
                ));
                if let Some(r) = self.reply.as_mut()
                    && r.text.is_empty()
                {
                    r.text = MODEL_FAILURE_NOTICE.to_string();
                }
                self.finish_reply(ctx, MessageStatus::Interrupted, None);
            }
        }
    }
}

impl Handler<Shutdown> for ConversationActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Shutdown, ctx: &mut Self::Context) -> Self::Result {
        let (done, finished) = tokio::sync::oneshot::channel();
        if self.shutting_down {
            // A second request: the first one completes the shutdown.
            return Box::pin(async {});
        }
        self.shutting_down = true;
        self.shutdown_done = Some(done);
        self.queue.clear();
        self.queued_text.clear();
        if self.reply.as_ref().is_some_and(|r| r.seq.is_some()) {
            // Stores the partial reply as interrupted; its completion finishes the shutdown, so
            // subscribers see the reply end before the close.
            self.finish_reply(ctx, MessageStatus::Interrupted, None);
        } else {
            self.complete_shutdown(ctx);
        }
        Box::pin(async move {
            let _ = finished.await;
        })
    }
}

impl ConversationActor {
    /// Tells subscribers to close with 1012 and stops for good.
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

impl Handler<ConfigChanged> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: ConfigChanged, _: &mut Self::Context) {
        // Applies from the next turn; a reply in progress keeps the prompt it started with.
        self.agent = Some(msg.0);
    }
}
