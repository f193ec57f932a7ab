//! How the conversation actor drives turns: it starts the turn pipeline as a task, takes the
//! turn's events (text, model calls, the final record) as messages, and stores the reply with
//! its charges and the session state. One path starts a reply ([`ConversationActor::begin_reply`])
//! and one path meters a model call ([`ConversationActor::meter`]), for turns and summaries
//! alike.

use super::{ConversationActor, QueuedTurn, Reply};
use crate::agent::{AgentEvent, EventSink, ToolContext, Turn, TurnDeps, TurnInput, TurnOutcome};
use crate::conversation::events::ConversationEvent;
use crate::conversation::messages::TurnEvent;
use crate::ids::{MerchantId, MessageId};
use crate::ports::metering::{Charge, total_usage};
use crate::ports::model::{ModelError, ModelRole, Role};
use crate::ports::store::{MessageStatus, ReplyEnd};
use actix::prelude::*;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Stored as the reply when the model fails before producing any text.
const MODEL_FAILURE_NOTICE: &str =
    "Sorry, the assistant could not answer just now. Please try again in a moment.";

/// Sends a turn's events straight into the conversation actor's mailbox, reply text in batches
/// (`ConversationSettings::delta_flush`): one actor message, one fan-out and one frame per
/// batch instead of per token. Text is held until the reader flushes it (see [`EventSink`]);
/// it never overtakes or trails the other events, which send it first.
struct ActorSink {
    /// The actor.
    addr: Addr<ConversationActor>,
    /// The reply the turn writes.
    message_id: MessageId,
    /// Whether the turn's final record went out.
    finished: bool,
    /// Text held back for the next batch.
    pending: String,
    /// When the last batch went out; `None` before the first.
    sent_at: Option<Instant>,
    /// The batching interval.
    interval: std::time::Duration,
}

impl ActorSink {
    fn new(
        addr: Addr<ConversationActor>,
        message_id: MessageId,
        interval: std::time::Duration,
    ) -> Self {
        Self {
            addr,
            message_id,
            finished: false,
            pending: String::new(),
            sent_at: None,
            interval,
        }
    }

    async fn send(&mut self, event: AgentEvent) -> bool {
        let message_id = self.message_id;
        // No timeout on purpose: awaiting the actor's mailbox is the backpressure that keeps a
        // fast model from queueing without bound.
        self.addr
            .send(TurnEvent { message_id, event })
            .await
            .is_ok()
    }
}

impl EventSink for ActorSink {
    async fn emit(&mut self, event: AgentEvent) -> bool {
        if let AgentEvent::TextDelta(text) = event {
            if self.pending.is_empty() {
                self.pending = text;
            } else {
                self.pending.push_str(&text);
            }
            return true;
        }
        self.finished |= matches!(event, AgentEvent::Finished { .. });
        self.flush().await && self.send(event).await
    }

    fn ready(&self) -> bool {
        !self.pending.is_empty() && self.sent_at.is_none_or(|at| at.elapsed() >= self.interval)
    }

    fn due(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        Some(
            self.sent_at
                .map_or_else(Instant::now, |at| at + self.interval * 2),
        )
    }

    async fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        self.sent_at = Some(Instant::now());
        let text = std::mem::take(&mut self.pending);
        self.send(AgentEvent::TextDelta(text)).await
    }
}

impl ConversationActor {
    /// Whether an injected test fault applies to `text` (never outside tests: no injector).
    pub(super) fn faulty(&self, text: &str) -> bool {
        self.deps.faults.as_ref().is_some_and(|f| f.panic_on(text))
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

    /// Records a model call's cost against the merchant and in the metrics.
    fn meter(&self, charge: &Charge) {
        if let Some(merchant) = self.merchant_id {
            self.deps.metering.record(merchant, charge);
        }
        self.observer().cost(&charge.model, charge.cost_nanos);
        self.observer().tokens(&charge.model, &charge.usage);
    }

    /// What the tools of this conversation act on: its merchant's catalog, desk and orders.
    pub(super) fn tool_context(&self) -> ToolContext {
        ToolContext {
            merchant: self.merchant_id.unwrap_or(MerchantId(uuid::Uuid::nil())),
            conversation: self.id,
            catalog: self.deps.catalog.clone(),
            desk: self.deps.desk.clone(),
            orders: self.deps.orders.clone(),
            payments: self.deps.payments.clone(),
        }
    }

    /// Starts the turn on `user_text` (not yet remembered) as a task feeding this actor with
    /// `TurnEvent`s. With `committed`, the turn's side effects wait for the visitor's message to
    /// be stored (see `PostUserMessage`).
    pub(super) fn start_turn(
        &mut self,
        ctx: &mut Context<Self>,
        message_id: MessageId,
        user_text: &str,
        committed: Option<oneshot::Receiver<()>>,
    ) -> tokio::task::JoinHandle<()> {
        let settings = &self.deps.settings;
        let agent = self.agent.as_deref();
        let input = TurnInput {
            system: self.context.system_prompt(&settings.system_prompt, agent),
            context: self.context.summary().unwrap_or_default().to_string(),
            messages: self.context.window(user_text, settings),
            state: self.session.clone(),
            preferred_provider: agent.and_then(|a| a.config.preferred_provider(ModelRole::Main)),
            over_budget: self.over_budget(),
            text: user_text.to_string(),
            agent: agent.map_or_else(Default::default, |a| std::sync::Arc::new(a.config.clone())),
        };
        let deps = TurnDeps {
            model: self.deps.model.clone(),
            tools: self.deps.tools.clone(),
            tool_context: self.tool_context(),
            metering: self.deps.metering.clone(),
            max_tokens: settings.max_reply_tokens,
            max_tool_rounds: settings.max_tool_rounds,
            deadline: settings.turn_deadline,
            rules: self.deps.rules.clone(),
        };
        let mut turn = Turn::new(input, deps);
        if let Some(committed) = committed {
            turn = turn.after_commit(committed);
        }
        let mut sink = ActorSink::new(ctx.address(), message_id, settings.delta_flush);
        actix::spawn(async move {
            turn.run(&mut sink).await;
            if !sink.finished {
                // The turn stopped without a record (it found nobody listening, or its commit
                // never came): the actor has aborted or is aborting it; this only matters if it
                // has not, so the reply never hangs.
                let event = AgentEvent::Finished {
                    outcome: TurnOutcome::Failed(ModelError::BrokenStream(
                        "the turn ended without finishing".into(),
                    )),
                    intent: None,
                    handled_by: crate::agent::HandledBy::Model,
                    state: None,
                };
                let _ = sink.emit(event).await;
            }
        })
    }

    /// Installs the reply whose start is stored at `reply_seq` and tells subscribers: the one
    /// path every reply starts by. `running` is the turn already started early, if any.
    pub(super) fn begin_reply(
        &mut self,
        ctx: &mut Context<Self>,
        reply_id: MessageId,
        reply_seq: i64,
        user_seq: i64,
        text: String,
        running: Option<(tokio::task::JoinHandle<()>, Instant)>,
    ) {
        let (task, started) = match running {
            Some(r) => r,
            None => (self.start_turn(ctx, reply_id, &text, None), Instant::now()),
        };
        self.context
            .remember(Role::User, text, self.deps.settings.history_messages);
        self.last_seq = self.last_seq.max(reply_seq);
        let mut reply = Reply::pending(reply_id, user_seq);
        reply.seq = Some(reply_seq);
        reply.task = Some(task);
        reply.started = started;
        self.reply = Some(reply);
        self.broadcast(ConversationEvent::AssistantStart {
            message_id: reply_id,
            seq: reply_seq,
            reply_to_seq: user_seq,
        });
    }

    /// Installs a notice's reply (stored at `reply_seq`) and says it: its `events`, then `text`,
    /// through the same path as a turn's events, so it is streamed, stored and replayed alike.
    fn begin_notice(
        &mut self,
        ctx: &mut Context<Self>,
        reply_id: MessageId,
        reply_seq: i64,
        after_seq: i64,
        text: String,
        events: Vec<AgentEvent>,
    ) {
        let mut sink = ActorSink::new(ctx.address(), reply_id, self.deps.settings.delta_flush);
        let task = actix::spawn(async move {
            for ev in events {
                if !sink.emit(ev).await {
                    return;
                }
            }
            if sink.emit(AgentEvent::TextDelta(text)).await {
                let _ = sink
                    .emit(AgentEvent::Finished {
                        outcome: TurnOutcome::Complete,
                        intent: None,
                        handled_by: crate::agent::HandledBy::Rules,
                        state: None,
                    })
                    .await;
            }
        });
        self.last_seq = self.last_seq.max(reply_seq);
        let mut reply = Reply::pending(reply_id, after_seq);
        reply.seq = Some(reply_seq);
        reply.task = Some(task);
        self.reply = Some(reply);
        self.broadcast(ConversationEvent::AssistantStart {
            message_id: reply_id,
            seq: reply_seq,
            reply_to_seq: after_seq,
        });
    }

    /// Starts the next queued turn's reply unless one is in progress.
    pub(super) fn maybe_start_next(&mut self, ctx: &mut Context<Self>) {
        if self.reply.is_some() || self.shutting_down || self.retiring {
            return;
        }
        let Some(QueuedTurn { seq, text, notice }) = self.queue.pop_front() else {
            return;
        };
        if notice.is_none() && self.faulty(&text) {
            // Test-only fault: a panic inside turn handling, to prove the registry replaces
            // the dead actor and nothing stored is lost.
            #[allow(clippy::panic)]
            {
                panic!("injected fault in conversation {}", self.id);
            }
        }
        let message_id = MessageId::new_random();
        self.reply = Some(Reply::pending(message_id, seq));
        let store = self.deps.store.clone();
        let id = self.id;
        let version = self.agent.as_ref().map(|a| a.version);
        let started = async move {
            store
                .start_assistant_message(id, message_id, seq, version)
                .await
        };
        ctx.wait(started.into_actor(self).map(move |res, act, ctx| match res {
            Ok(reply_seq) => match notice {
                Some(events) => act.begin_notice(ctx, message_id, reply_seq, seq, text, events),
                None => act.begin_reply(ctx, message_id, reply_seq, seq, text, None),
            },
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

    /// Folds the messages that left the context window into the running summary, with the
    /// `fast` model, in the background. A failed summary keeps its messages for the next try.
    fn maybe_summarize(&mut self, ctx: &mut Context<Self>) {
        if self.over_budget() {
            return;
        }
        let Some(job) = self.context.summary_job(self.agent.as_deref()) else {
            return;
        };
        let run = job.run(self.deps.fast_model.clone(), self.deps.metering.clone());
        ctx.spawn(run.into_actor(self).map(|(result, charge, batch), act, _| {
            if let Some(charge) = &charge {
                act.meter(charge);
            }
            let summary = result.unwrap_or_else(|e| {
                tracing::warn!(conversation_id = %act.id, error = %e, "could not summarise older messages");
                None
            });
            act.context.summary_done(batch, summary);
        }));
    }

    /// Ends the reply in progress: stores it with its charges and state, tells subscribers,
    /// starts the next turn.
    pub(super) fn finish_reply(&mut self, ctx: &mut Context<Self>, status: MessageStatus) {
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
        let usage = total_usage(&reply.charges);
        let state = reply.state;
        let (stored_text, stored_state) = (text.clone(), state.clone());
        let charges = reply.charges;
        let meta = reply.meta;
        let (intent, handled_by) = (meta.intent.clone(), meta.handled_by.clone());
        let fut = async move {
            store
                .finish_assistant_message(
                    id,
                    message_id,
                    ReplyEnd {
                        text: stored_text,
                        status,
                        charges,
                        state: stored_state,
                        meta,
                    },
                )
                .await
        };
        ctx.wait(fut.into_actor(self).map(move |res, act, ctx| {
            match res {
                Ok(end_seq) => {
                    act.last_seq = act.last_seq.max(end_seq);
                    if let Some(state) = state {
                        act.session = state;
                    }
                    act.observer().turn_finished(if interrupted { "interrupted" } else { "complete" });
                    act.context.remember(Role::Assistant, text.clone(), act.deps.settings.history_messages);
                    act.maybe_summarize(ctx);
                    act.broadcast(ConversationEvent::AssistantEnd {
                        message_id,
                        seq: end_seq,
                        text,
                        usage,
                        interrupted,
                        intent,
                        handled_by,
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

    /// Appends reply text and forwards it.
    fn on_text(&mut self, text: String) {
        let Some(reply) = self.reply.as_mut() else {
            return;
        };
        let index = reply.chars;
        if index == 0 {
            let m = &self.deps.model;
            let (provider, model) = match &reply.serving {
                Some((p, m)) => (p.as_str(), m.as_str()),
                None => (m.provider(), m.model()),
            };
            self.deps
                .observer
                .first_token(provider, model, reply.started.elapsed().as_secs_f64());
        }
        reply.chars += text.chars().count();
        reply.text.push_str(&text);
        let message_id = reply.message_id;
        self.last_activity = Instant::now();
        self.broadcast(ConversationEvent::Delta {
            message_id,
            text,
            index,
        });
    }
}

impl Handler<TurnEvent> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: TurnEvent, ctx: &mut Self::Context) {
        if self
            .reply
            .as_ref()
            .is_none_or(|r| r.message_id != msg.message_id)
        {
            // An older turn's event, after a cancel.
            return;
        }
        match msg.event {
            AgentEvent::TextDelta(text) if text.is_empty() => {}
            AgentEvent::TextDelta(text) => self.on_text(text),
            AgentEvent::Serving { provider, model } => {
                if let Some(r) = self.reply.as_mut() {
                    r.serving = Some((provider, model));
                }
            }
            AgentEvent::ModelCall(charge) => {
                self.meter(&charge);
                if let Some(r) = self.reply.as_mut() {
                    r.charges.push(charge);
                }
            }
            AgentEvent::ProductsShown(items) => {
                if let Some(r) = self.reply.as_mut() {
                    r.meta.products = items.clone();
                    let message_id = r.message_id;
                    self.broadcast(ConversationEvent::Products { message_id, items });
                }
            }
            AgentEvent::CheckoutStarted(link) => {
                if let Some(r) = self.reply.as_mut() {
                    r.meta.checkout = Some(link.clone());
                    self.broadcast(ConversationEvent::Checkout { link });
                }
            }
            AgentEvent::OrderChanged(update) => {
                if let Some(r) = self.reply.as_mut() {
                    r.meta.order = Some(update.clone());
                    self.broadcast(ConversationEvent::Order { update });
                }
            }
            AgentEvent::ToolUsed(record) => {
                if let Some(r) = self.reply.as_mut() {
                    r.meta.tools.push(record);
                }
            }
            AgentEvent::Guarded(violation) => {
                self.observer().intervention(violation.as_str());
                if let Some(r) = self.reply.as_mut() {
                    r.meta.guard = Some(violation.as_str().to_string());
                }
            }
            AgentEvent::FellBack(why) => {
                self.observer().intervention("fallback");
                if let Some(r) = self.reply.as_mut() {
                    r.meta.fallback = Some(why);
                }
            }
            AgentEvent::CartChanged(cart) => {
                if let Some(r) = self.reply.as_mut() {
                    r.meta.cart = Some(cart.clone());
                    self.broadcast(ConversationEvent::Cart { cart });
                }
            }
            AgentEvent::Finished {
                outcome,
                state,
                intent,
                handled_by,
            } => {
                if let Some(intent) = &intent {
                    self.deps
                        .observer
                        .turn_understood(intent, handled_by.as_str());
                }
                if let Some(r) = self.reply.as_mut() {
                    r.state = state;
                    r.meta.intent = intent;
                    r.meta.handled_by = Some(handled_by.as_str().to_string());
                }
                match outcome {
                    TurnOutcome::Complete => self.finish_reply(ctx, MessageStatus::Complete),
                    TurnOutcome::OverBudget => {
                        // Not a failure: the budget is spent and the reply says so politely.
                        self.observer().over_budget();
                        self.finish_reply(ctx, MessageStatus::Complete);
                    }
                    TurnOutcome::Failed(e) => {
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
                        self.finish_reply(ctx, MessageStatus::Interrupted);
                    }
                }
            }
        }
    }
}

impl Handler<crate::conversation::messages::OrderChanged> for ConversationActor {
    type Result = Result<(), crate::conversation::messages::ConversationError>;

    fn handle(
        &mut self,
        msg: crate::conversation::messages::OrderChanged,
        ctx: &mut Self::Context,
    ) -> Self::Result {
        let update = msg.0;
        let agent = self.agent.as_deref();
        let lang = self
            .session
            .lang
            .or_else(|| {
                agent
                    .and_then(|a| a.config.languages.first())
                    .and_then(|l| crate::understanding::Lang::from_tag(l))
            })
            .unwrap_or(crate::understanding::Lang::En);
        let key = match update.status {
            crate::order::OrderStatus::Open => return Ok(()),
            crate::order::OrderStatus::Paid => "order_paid",
            crate::order::OrderStatus::Expired => "order_expired",
            crate::order::OrderStatus::Canceled => "order_canceled",
            crate::order::OrderStatus::Refunded => "order_refunded",
            crate::order::OrderStatus::Disputed => "order_disputed",
        };
        let number = update.number.to_string();
        let total = crate::agent::phrases::money(update.total, lang);
        let text = crate::agent::phrases::say(lang, key, &[("number", &number), ("total", &total)]);
        self.last_activity = Instant::now();
        self.queue.push_back(QueuedTurn {
            seq: self.last_seq,
            text,
            notice: Some(vec![AgentEvent::OrderChanged(update)]),
        });
        self.maybe_start_next(ctx);
        Ok(())
    }
}
