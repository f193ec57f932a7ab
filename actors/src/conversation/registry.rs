//! `ConversationRegistry`: the directory of live conversation actors.
//!
//! `get_or_start` finds the actor for a conversation or starts one (under an actix `Supervisor`,
//! on the caller's arbiter, so conversations spread over the HTTP workers); the actor loads its
//! state from the store. The find-or-start rules (one address per conversation, a dead address
//! replaced by a fresh actor rehydrated from the store, passivated actors forgetting themselves)
//! are the generic [`Directory`]'s.

use super::actor::ConversationActor;
use super::deps::EngineDeps;
use super::messages::{ConversationError, Shutdown};
use crate::directory::{AskFailure, Directory, Found};
use crate::ids::ConversationId;
use actix::prelude::*;
use std::sync::{Arc, Weak};
use std::time::Duration;

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
    actors: Directory<ConversationId, ConversationActor>,
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
            actors: Directory::default(),
            deps: Arc::new(deps),
            me: me.clone(),
            ask_timeout,
        })
    }

    /// The settings conversations run with.
    pub fn settings(&self) -> &super::deps::ConversationSettings {
        &self.deps.settings
    }

    /// The actor for `id`, started (and rehydrated) if none is alive. Must be called from
    /// within an actix system (an HTTP handler or an actor).
    pub fn get_or_start(&self, id: ConversationId) -> Addr<ConversationActor> {
        self.actors
            .get_or_start(id, |found| self.start(id, found))
            .0
    }

    fn start(&self, id: ConversationId, found: Found) -> Addr<ConversationActor> {
        if found == Found::Replaced {
            tracing::warn!(conversation_id = %id, "conversation actor was dead; starting a fresh one");
            self.deps.observer.actor_replaced();
        }
        let me = self.me.clone();
        let deps = self.deps.clone();
        Supervisor::start(move |_| ConversationActor::new(id, me, deps))
    }

    /// Removes `id` if it still maps to `addr` (a newer actor is left alone).
    pub(crate) fn forget(&self, id: ConversationId, addr: &Addr<ConversationActor>) {
        self.actors.forget(id, addr);
    }

    /// Sends `msg` to the conversation's live actor, if there is one; nothing is started (an
    /// unsubscribe or a cancel means nothing to a conversation that already stopped). Losing it
    /// is fine for the messages this is for: `do_send` ignores mailbox capacity, and a stopped
    /// actor has no subscriber or reply left to act on.
    pub fn tell<M>(&self, id: ConversationId, msg: M)
    where
        M: Message<Result = ()> + Send + 'static,
        ConversationActor: Handler<M>,
    {
        if let Some(addr) = self.actors.get(id) {
            addr.do_send(msg);
        }
    }

    /// Stops conversation `id` if it is live, waiting for it: its reply in progress is stored as
    /// interrupted and its connections are closed (1012), as at a shutdown. Nothing is started.
    /// Used before the conversation is deleted.
    pub async fn stop(&self, id: ConversationId) {
        if let Some(addr) = self.actors.get(id) {
            let _ = tokio::time::timeout(self.ask_timeout, addr.send(Shutdown)).await;
        }
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
        let start = |found| self.start(id, found);
        match self.actors.ask(id, self.ask_timeout, start, make).await {
            Ok(result) => result.map_err(AskError::from),
            Err(AskFailure::Timeout) => Err(AskError::Timeout),
            Err(AskFailure::Gone) => Err(AskError::Gone),
        }
    }

    /// Tells every live conversation to store its reply in progress as interrupted and close
    /// its subscribers, waiting at most `deadline` in all.
    pub async fn shutdown_all(&self, deadline: Duration) {
        let addrs = self.actors.addresses();
        let all = futures_util::future::join_all(addrs.iter().map(|a| a.send(Shutdown)));
        if tokio::time::timeout(deadline, all).await.is_err() {
            tracing::warn!(
                ?deadline,
                "some conversations did not finish shutting down in time"
            );
        }
    }
}
