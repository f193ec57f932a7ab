//! `ConversationRegistry`: the directory of live conversation actors.
//!
//! `get_or_start` finds the actor for a conversation or starts one (under an actix `Supervisor`,
//! on the caller's arbiter, so conversations spread over the HTTP workers); the actor loads its
//! state from the store. An address whose actor died (a panic kills an actix actor outright) is
//! noticed by `connected()` and replaced by a fresh actor rehydrated from the store. Actors that
//! passivate remove themselves with `forget`.

use super::actor::ConversationActor;
use super::messages::{ConversationError, Shutdown};
use crate::ids::ConversationId;
use crate::ports::model::ModelClient;
use crate::ports::store::ConversationStore;
use actix::prelude::*;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Conversation behaviour settings.
#[derive(Debug, Clone)]
pub struct ConversationSettings {
    /// A conversation with no subscriber and no activity for this long stops (passivates).
    pub idle_timeout: Duration,
    /// Messages of history given to the model.
    pub history_messages: usize,
    /// Estimated tokens of history (the new message included) given to the model; older
    /// messages are left out to fit.
    pub history_tokens: usize,
    /// Most stored messages replayed to a resuming subscriber (older ones: use the messages API).
    pub replay_limit: usize,
    /// The system prompt.
    pub system_prompt: String,
    /// Most tokens per reply.
    pub max_reply_tokens: u32,
    /// Honour the test-only fault text (`/fault panic`). Never on in production.
    pub fault_injection: bool,
}

/// Hooks for metrics; the engine core knows nothing of Prometheus.
pub trait EngineObserver: Send + Sync + 'static {
    /// A conversation actor started (including rehydration).
    fn actor_started(&self) {}
    /// A conversation actor stopped.
    fn actor_stopped(&self) {}
    /// A supervisor restarted a conversation actor.
    fn actor_restarted(&self) {}
    /// The registry replaced a dead actor.
    fn actor_replaced(&self) {}
    /// A subscriber was dropped because its channel was full or closed.
    fn subscriber_dropped(&self) {}
    /// A turn ended (`complete` or `interrupted`).
    fn turn_finished(&self, _outcome: &'static str) {}
    /// The first token of a reply arrived, `seconds` after the model call started.
    fn first_token(&self, _provider: &str, _model: &str, _seconds: f64) {}
    /// A model call's usage.
    fn tokens(&self, _model: &str, _usage: &crate::ports::Usage) {}
    /// A reply's cost was recorded.
    fn cost(&self, _model: &str, _nanos: i64) {}
    /// A turn was answered without the model because the merchant's budget is spent.
    fn over_budget(&self) {}
}

/// An observer that records nothing.
#[derive(Debug, Default)]
pub struct NoopObserver;
impl EngineObserver for NoopObserver {}

/// What every conversation actor shares.
pub struct EngineDeps {
    /// Durable state.
    pub store: Arc<dyn ConversationStore>,
    /// The model for replies (the `main` role).
    pub model: Arc<dyn ModelClient>,
    /// The model for cheap calls (the `fast` role: classification, summaries).
    pub fast_model: Arc<dyn ModelClient>,
    /// Behaviour settings.
    pub settings: ConversationSettings,
    /// Metrics hooks.
    pub observer: Arc<dyn EngineObserver>,
    /// The merchants' actors, for agent configuration snapshots.
    pub merchants: Arc<crate::merchant::MerchantRegistry>,
    /// Prices and spend, for cost records and budgets.
    pub metering: Arc<dyn crate::ports::Metering>,
}

/// Why an ask to a conversation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    /// The conversation refused or failed the request.
    #[error(transparent)]
    Conversation(#[from] ConversationError),
    /// No answer within the ask timeout.
    #[error("the conversation did not answer in time")]
    Timeout,
    /// The actor was gone twice in a row.
    #[error("the conversation actor is unavailable")]
    Gone,
}

/// The directory. See the module docs.
pub struct ConversationRegistry {
    /// Live actors by conversation.
    actors: DashMap<ConversationId, Addr<ConversationActor>>,
    /// Shared with every actor.
    deps: Arc<EngineDeps>,
    /// Handed to actors so they can `forget` themselves without keeping the registry alive.
    me: Weak<ConversationRegistry>,
    /// Timeout of every ask made through [`ConversationRegistry::ask`].
    ask_timeout: Duration,
}

impl ConversationRegistry {
    /// A registry over these dependencies.
    pub fn new(deps: EngineDeps, ask_timeout: Duration) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            actors: DashMap::new(),
            deps: Arc::new(deps),
            me: me.clone(),
            ask_timeout,
        })
    }

    /// The settings conversations run with.
    pub fn settings(&self) -> &ConversationSettings {
        &self.deps.settings
    }

    /// The actor for `id`, started (and rehydrated) if none is alive. Must be called from
    /// within an actix system (an HTTP handler or an actor).
    pub fn get_or_start(&self, id: ConversationId) -> Addr<ConversationActor> {
        match self.actors.entry(id) {
            Entry::Occupied(mut e) => {
                if e.get().connected() {
                    e.get().clone()
                } else {
                    tracing::warn!(conversation_id = %id, "conversation actor was dead; starting a fresh one");
                    self.deps.observer.actor_replaced();
                    let addr = self.start(id);
                    e.insert(addr.clone());
                    addr
                }
            }
            Entry::Vacant(e) => {
                let addr = self.start(id);
                e.insert(addr.clone());
                addr
            }
        }
    }

    fn start(&self, id: ConversationId) -> Addr<ConversationActor> {
        let me = self.me.clone();
        let deps = self.deps.clone();
        Supervisor::start(move |_| ConversationActor::new(id, me, deps))
    }

    /// Removes `id` if it still maps to `addr` (a newer actor is left alone).
    pub(crate) fn forget(&self, id: ConversationId, addr: &Addr<ConversationActor>) {
        self.actors.remove_if(&id, |_, a| a == addr);
    }

    /// Live conversation actors.
    pub fn live(&self) -> usize {
        self.actors.len()
    }

    /// Sends a message built by `make` to the conversation, with the ask timeout. If the actor
    /// turns out to be dead, the registry replaces it and the message is sent once more.
    pub async fn ask<M, R>(&self, id: ConversationId, make: impl Fn() -> M) -> Result<R, AskError>
    where
        M: Message<Result = Result<R, ConversationError>> + Send + 'static,
        R: Send + 'static,
        ConversationActor: Handler<M>,
    {
        for _ in 0..2 {
            let addr = self.get_or_start(id);
            match tokio::time::timeout(self.ask_timeout, addr.send(make())).await {
                Err(_) => return Err(AskError::Timeout),
                Ok(Ok(result)) => return result.map_err(AskError::from),
                Ok(Err(MailboxError::Timeout)) => return Err(AskError::Timeout),
                Ok(Err(MailboxError::Closed)) => {
                    self.actors
                        .remove_if(&id, |_, a| !a.connected() || a == &addr);
                }
            }
        }
        Err(AskError::Gone)
    }

    /// Tells every live conversation to store its reply in progress as interrupted and close
    /// its subscribers with 1012, waiting at most `deadline` in all.
    pub async fn shutdown_all(&self, deadline: Duration) {
        let addrs: Vec<_> = self.actors.iter().map(|e| e.value().clone()).collect();
        let all = futures_util::future::join_all(addrs.iter().map(|a| a.send(Shutdown)));
        if tokio::time::timeout(deadline, all).await.is_err() {
            tracing::warn!(
                ?deadline,
                "some conversations did not finish shutting down in time"
            );
        }
    }
}
