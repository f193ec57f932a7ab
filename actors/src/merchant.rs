//! `MerchantActor`: one per merchant with live conversations. It holds the merchant's agent
//! configuration as a shared immutable snapshot; conversations take the snapshot when they start
//! and receive the new one when the merchant changes it, so a change applies to the next turn of
//! every live conversation without reconnecting. It stops when its last conversation leaves.

use crate::directory::Directory;
use crate::ids::{ConversationId, MerchantId};
use crate::ports::store::PersistError;
use actix::WeakRecipient;
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

pub use crate::ports::agent::{AgentConfigStore, AgentSnapshot};

/// Hooks for metrics.
pub trait MerchantObserver: Send + Sync + 'static {
    /// A merchant actor started.
    fn merchant_started(&self) {}
    /// A merchant actor stopped.
    fn merchant_stopped(&self) {}
    /// A configuration change was pushed to live conversations.
    fn config_reloaded(&self) {}
}

/// Pushed to member conversations when the configuration changes.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct ConfigChanged(pub Arc<AgentSnapshot>);

/// A conversation joins its merchant. Reply: the current snapshot.
#[derive(Message)]
#[rtype(result = "Result<Arc<AgentSnapshot>, PersistError>")]
pub struct Join {
    /// The conversation.
    pub conversation: ConversationId,
    /// Where changes go. Weak, so membership never keeps a conversation actor alive.
    pub recipient: WeakRecipient<ConfigChanged>,
}

/// A conversation leaves (it stopped). Fire-and-forget from `stopped()`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    /// The conversation.
    pub conversation: ConversationId,
}

/// Reload the configuration from the store and push it to members. Reply: the new version.
#[derive(Message)]
#[rtype(result = "Result<i64, PersistError>")]
pub struct Reload;

/// The merchant actor. See the module docs.
pub struct MerchantActor {
    /// The merchant; fixed.
    id: MerchantId,
    /// Back to the directory, to forget itself when empty.
    registry: Weak<MerchantRegistry>,
    /// The store.
    store: Arc<dyn AgentConfigStore>,
    /// Metrics hooks.
    observer: Arc<dyn MerchantObserver>,
    /// The snapshot in force; `None` until loaded.
    snapshot: Option<Arc<AgentSnapshot>>,
    /// Live conversations of this merchant.
    members: HashMap<ConversationId, WeakRecipient<ConfigChanged>>,
}

impl MerchantActor {
    fn retire(&mut self, ctx: &mut Context<Self>) {
        if let Some(r) = self.registry.upgrade() {
            r.actors.forget(self.id, &ctx.address());
        }
        ctx.stop();
    }

    fn push(&mut self) {
        let Some(snapshot) = self.snapshot.clone() else {
            return;
        };
        self.members.retain(|_, r| match r.upgrade() {
            Some(r) => {
                // do_send: a change must reach a busy conversation too; losing it only happens
                // when that conversation is gone.
                r.do_send(ConfigChanged(snapshot.clone()));
                true
            }
            None => false,
        });
    }
}

impl Actor for MerchantActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.observer.merchant_started();
        let store = self.store.clone();
        let id = self.id;
        ctx.wait(async move { store.load(id).await }.into_actor(self).map(|res, act, ctx| match res {
            Ok(s) => act.snapshot = Some(Arc::new(s)),
            Err(e) => {
                tracing::warn!(merchant_id = %act.id, error = %e, "could not load the agent configuration");
                act.retire(ctx);
            }
        }));
        // Members that vanished without a `Leave` (a crashed conversation) are dropped here.
        ctx.run_interval(Duration::from_secs(30), |act, ctx| {
            act.members.retain(|_, r| r.upgrade().is_some());
            if act.members.is_empty() {
                act.retire(ctx);
            }
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.observer.merchant_stopped();
    }
}

impl Handler<Join> for MerchantActor {
    type Result = Result<Arc<AgentSnapshot>, PersistError>;

    fn handle(&mut self, msg: Join, _: &mut Self::Context) -> Self::Result {
        let snapshot = self
            .snapshot
            .clone()
            .ok_or_else(|| PersistError::Unavailable("merchant configuration not loaded".into()))?;
        self.members.insert(msg.conversation, msg.recipient);
        Ok(snapshot)
    }
}

impl Handler<Leave> for MerchantActor {
    type Result = ();

    fn handle(&mut self, msg: Leave, ctx: &mut Self::Context) {
        self.members.remove(&msg.conversation);
        if self.members.is_empty() {
            self.retire(ctx);
        }
    }
}

impl Handler<Reload> for MerchantActor {
    type Result = AtomicResponse<Self, Result<i64, PersistError>>;

    fn handle(&mut self, _: Reload, _: &mut Self::Context) -> Self::Result {
        let store = self.store.clone();
        let id = self.id;
        AtomicResponse::new(Box::pin(
            async move { store.load(id).await }
                .into_actor(self)
                .map(|res, act, _| {
                    let s = res?;
                    let version = s.version;
                    act.snapshot = Some(Arc::new(s));
                    act.push();
                    act.observer.config_reloaded();
                    Ok(version)
                }),
        ))
    }
}

/// The directory of merchant actors.
pub struct MerchantRegistry {
    /// Live merchant actors.
    actors: Directory<MerchantId, MerchantActor>,
    /// The store.
    store: Arc<dyn AgentConfigStore>,
    /// Metrics hooks.
    observer: Arc<dyn MerchantObserver>,
    /// Self, for actors.
    me: Weak<MerchantRegistry>,
    /// Ask timeout.
    ask_timeout: Duration,
}

impl MerchantRegistry {
    /// A registry over this store.
    pub fn new(
        store: Arc<dyn AgentConfigStore>,
        observer: Arc<dyn MerchantObserver>,
        ask_timeout: Duration,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            actors: Directory::default(),
            store,
            observer,
            me: me.clone(),
            ask_timeout,
        })
    }

    fn get_or_start(&self, id: MerchantId) -> Addr<MerchantActor> {
        let start = |_| {
            let (me, store, observer) =
                (self.me.clone(), self.store.clone(), self.observer.clone());
            MerchantActor::create(move |_| MerchantActor {
                id,
                registry: me,
                store,
                observer,
                snapshot: None,
                members: HashMap::new(),
            })
        };
        self.actors.get_or_start(id, start).0
    }

    /// Joins a conversation to its merchant; returns the snapshot in force.
    pub async fn join(
        &self,
        merchant: MerchantId,
        conversation: ConversationId,
        recipient: WeakRecipient<ConfigChanged>,
    ) -> Result<Arc<AgentSnapshot>, PersistError> {
        for _ in 0..2 {
            let addr = self.get_or_start(merchant);
            let msg = Join {
                conversation,
                recipient: recipient.clone(),
            };
            match tokio::time::timeout(self.ask_timeout, addr.send(msg)).await {
                Ok(Ok(r)) => return r,
                Ok(Err(_)) => {
                    // The actor stopped between lookup and send: start a fresh one.
                    self.actors.forget(merchant, &addr);
                }
                Err(_) => return Err(PersistError::Unavailable("merchant actor timed out".into())),
            }
        }
        Err(PersistError::Unavailable(
            "merchant actor unavailable".into(),
        ))
    }

    /// Tells a live merchant actor that its conversation left.
    pub fn leave(&self, merchant: MerchantId, conversation: ConversationId) {
        if let Some(a) = self.actors.get(merchant) {
            a.do_send(Leave { conversation });
        }
    }

    /// Reloads a merchant's configuration into its live conversations (none live: nothing to
    /// do; conversations started later load the new one).
    pub async fn reload(&self, merchant: MerchantId) -> Result<(), PersistError> {
        let Some(addr) = self.actors.get(merchant) else {
            return Ok(());
        };
        match tokio::time::timeout(self.ask_timeout, addr.send(Reload)).await {
            Ok(Ok(r)) => r.map(|_| ()),
            Ok(Err(_)) => Ok(()),
            Err(_) => Err(PersistError::Unavailable("merchant actor timed out".into())),
        }
    }

    /// Live merchant actors.
    pub fn live(&self) -> usize {
        self.actors.len()
    }
}
