//! `CheckoutActor`: one per checkout attempt, supervised. It turns the cart into an order and a
//! payment session through the configured provider (the [`PaymentGateway`] it wraps), answers
//! the conversation with the link, then holds the session until it is settled: the provider's
//! events (applied by the edge) reach it as [`Settled`] and it tells the conversation; when the
//! session's time is up it asks the edge to settle it with the provider ([`CheckoutHooks::due`]:
//! the simulated provider expires the order through the webhook path; Stripe sends its own
//! `checkout.session.expired`). It stops once the order is final or a grace period after the
//! expiry.
//!
//! [`Checkouts`] is itself the [`PaymentGateway`] the agent is given, so the agent's checkout
//! code does not change with the actor. Nothing is lost when a checkout actor is gone (a restart,
//! another node): the order and its session are in the database, and the edge tells the
//! conversation itself when no live actor holds the order.

use crate::cart::Cart;
use crate::directory::Directory;
use crate::ids::{ConversationId, MerchantId};
use crate::order::OrderStatus;
use crate::ports::{CheckoutError, CheckoutLink, OrderUpdate, PaymentGateway, PortFuture};
use actix::prelude::*;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::oneshot;

/// What the actors need from the edge.
pub trait CheckoutHooks: Send + Sync + 'static {
    /// Tells `conversation` its order changed (the conversation says it in the chat).
    fn tell(&self, conversation: ConversationId, update: OrderUpdate);
    /// The payment session of `order` is past its time: settle it with the provider.
    fn due(&self, order: uuid::Uuid);
}

/// Hooks for metrics.
pub trait CheckoutObserver: Send + Sync + 'static {
    /// A checkout actor started.
    fn checkout_started(&self) {}
    /// A checkout actor stopped.
    fn checkout_stopped(&self) {}
}

/// An observer that records nothing.
pub struct NoCheckoutObserver;
impl CheckoutObserver for NoCheckoutObserver {}

/// The order held by a checkout actor changed (the edge applied a provider event).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Settled(pub OrderUpdate);

/// One checkout attempt. See the module docs.
pub struct CheckoutActor {
    merchant: MerchantId,
    conversation: ConversationId,
    /// Taken by the first start (a restart does not make a second order).
    cart: Option<Cart>,
    reply: Option<oneshot::Sender<Result<CheckoutLink, CheckoutError>>>,
    /// The session, once made.
    link: Option<CheckoutLink>,
    checkouts: Weak<Checkouts>,
}

impl CheckoutActor {
    /// Waits for the session's end: `due` at its expiry, a stop a grace period later.
    fn hold(&mut self, link: &CheckoutLink, ctx: &mut Context<Self>) {
        let Some(checkouts) = self.checkouts.upgrade() else {
            ctx.stop();
            return;
        };
        checkouts
            .actors
            .get_or_start(link.order_id, |_| ctx.address());
        // Whole seconds, rounded up: never before the expiry.
        let left = u64::try_from(link.expires_at - chrono::Utc::now().timestamp() + 1).unwrap_or(0);
        let order = link.order_id;
        ctx.run_later(Duration::from_secs(left), move |act, _| {
            if let Some(c) = act.checkouts.upgrade() {
                c.hooks.due(order);
            }
        });
        ctx.run_later(Duration::from_secs(left) + checkouts.grace, |_, ctx| {
            ctx.stop()
        });
    }
}

impl Actor for CheckoutActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(c) = self.checkouts.upgrade() {
            c.observer.checkout_started();
        }
        if let Some(link) = self.link.clone() {
            // Restarted by its supervisor: keep holding the session it made.
            self.hold(&link, ctx);
            return;
        }
        let (Some(cart), Some(checkouts)) = (self.cart.take(), self.checkouts.upgrade()) else {
            ctx.stop();
            return;
        };
        let start = checkouts
            .gateway
            .start_checkout(self.merchant, self.conversation, cart);
        ctx.wait(start.into_actor(self).map(|result, act, ctx| {
            if let Ok(link) = &result {
                act.link = Some(link.clone());
                act.hold(link, ctx);
            } else {
                ctx.stop();
            }
            if let Some(reply) = act.reply.take() {
                let _ = reply.send(result);
            }
        }));
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        if let Some(c) = self.checkouts.upgrade() {
            c.observer.checkout_stopped();
            if let Some(link) = &self.link {
                c.actors.forget(link.order_id, &ctx.address());
            }
        }
    }
}

impl Supervised for CheckoutActor {}

impl Handler<Settled> for CheckoutActor {
    type Result = ();

    fn handle(&mut self, msg: Settled, ctx: &mut Context<Self>) {
        let update = msg.0;
        if let Some(c) = self.checkouts.upgrade() {
            c.hooks.tell(self.conversation, update.clone());
        }
        if update.status != OrderStatus::Open {
            // Paid, expired or canceled: the attempt is over (later refunds and disputes reach
            // the conversation through the edge).
            ctx.stop();
        }
    }
}

/// The live checkout attempts, and the [`PaymentGateway`] that starts them.
pub struct Checkouts {
    gateway: Arc<dyn PaymentGateway>,
    hooks: Arc<dyn CheckoutHooks>,
    observer: Arc<dyn CheckoutObserver>,
    /// How long an actor outlives its session's expiry, waiting for the provider's last word.
    grace: Duration,
    actors: Directory<uuid::Uuid, CheckoutActor>,
    me: Weak<Checkouts>,
}

impl Checkouts {
    /// Checkouts through `gateway`, reporting through `hooks`.
    pub fn new(
        gateway: Arc<dyn PaymentGateway>,
        hooks: Arc<dyn CheckoutHooks>,
        observer: Arc<dyn CheckoutObserver>,
        grace: Duration,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            gateway,
            hooks,
            observer,
            grace,
            actors: Directory::default(),
            me: me.clone(),
        })
    }

    /// Hands an applied provider event to the actor holding `update`'s order; false when none
    /// is live here (the caller then tells the conversation itself).
    pub fn settle(&self, update: OrderUpdate) -> bool {
        match self.actors.get(update.order_id) {
            Some(actor) => {
                actor.do_send(Settled(update));
                true
            }
            None => false,
        }
    }

    /// Checkout attempts held live.
    pub fn live(&self) -> usize {
        self.actors.len()
    }
}

impl PaymentGateway for Checkouts {
    fn provider(&self) -> &str {
        self.gateway.provider()
    }

    /// Starts a checkout actor for the attempt (must be called within an actix system) and
    /// answers with the link it made.
    fn start_checkout(
        &self,
        merchant: MerchantId,
        conversation: ConversationId,
        cart: Cart,
    ) -> PortFuture<Result<CheckoutLink, CheckoutError>> {
        if cart.lines.is_empty() {
            return Box::pin(async { Err(CheckoutError::EmptyCart) });
        }
        let (tx, rx) = oneshot::channel();
        let actor = CheckoutActor {
            merchant,
            conversation,
            cart: Some(cart),
            reply: Some(tx),
            link: None,
            checkouts: self.me.clone(),
        };
        Supervisor::start(move |_| actor);
        Box::pin(async move {
            rx.await.unwrap_or_else(|_| {
                Err(CheckoutError::Failed(
                    "the checkout stopped before its session was made".into(),
                ))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::CartLine;
    use crate::money::{Currency, Money};
    use std::sync::Mutex;

    /// A provider whose sessions expire `ttl` seconds after they are made.
    struct Provider {
        ttl: i64,
    }

    impl PaymentGateway for Provider {
        fn provider(&self) -> &str {
            "test"
        }
        fn start_checkout(
            &self,
            _: MerchantId,
            _: ConversationId,
            cart: Cart,
        ) -> PortFuture<Result<CheckoutLink, CheckoutError>> {
            let ttl = self.ttl;
            Box::pin(async move {
                Ok(CheckoutLink {
                    order_id: uuid::Uuid::new_v4(),
                    number: 1001,
                    url: "https://pay.example/1001".into(),
                    expires_at: chrono::Utc::now().timestamp() + ttl,
                    total: cart.total().unwrap(),
                })
            })
        }
    }

    #[derive(Default)]
    struct Seen {
        told: Mutex<Vec<(ConversationId, OrderStatus)>>,
        due: Mutex<Vec<uuid::Uuid>>,
    }

    impl CheckoutHooks for Seen {
        fn tell(&self, conversation: ConversationId, update: OrderUpdate) {
            self.told
                .lock()
                .unwrap()
                .push((conversation, update.status));
        }
        fn due(&self, order: uuid::Uuid) {
            self.due.lock().unwrap().push(order);
        }
    }

    fn cart() -> Cart {
        let usd = "USD".parse::<Currency>().unwrap();
        Cart {
            lines: vec![CartLine {
                external_id: "TENT".into(),
                sku: None,
                title: "Tent".into(),
                variant: None,
                quantity: 2,
                unit_price: Money {
                    amount_minor: 100,
                    currency: usd,
                },
            }],
        }
    }

    #[actix::test]
    async fn an_attempt_is_held_until_paid_and_the_conversation_is_told() {
        let seen = Arc::new(Seen::default());
        let checkouts = Checkouts::new(
            Arc::new(Provider { ttl: 1800 }),
            seen.clone(),
            Arc::new(NoCheckoutObserver),
            Duration::from_secs(60),
        );
        let m = MerchantId(uuid::Uuid::new_v4());
        let c = ConversationId(uuid::Uuid::new_v4());
        let empty = checkouts.start_checkout(m, c, Cart::default()).await;
        assert_eq!(empty, Err(CheckoutError::EmptyCart));
        let link = checkouts.start_checkout(m, c, cart()).await.unwrap();
        assert_eq!(link.total.amount_minor, 200);
        assert_eq!(checkouts.live(), 1);
        let update = |status| OrderUpdate {
            order_id: link.order_id,
            number: link.number,
            status,
            total: link.total,
        };
        assert!(checkouts.settle(update(OrderStatus::Paid)));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(*seen.told.lock().unwrap(), vec![(c, OrderStatus::Paid)]);
        // Settled: the actor is gone; a later refund is the edge's to tell.
        assert_eq!(checkouts.live(), 0);
        assert!(!checkouts.settle(update(OrderStatus::Refunded)));
    }

    #[actix::test]
    async fn a_session_past_its_time_is_handed_back_to_the_edge_then_released() {
        let seen = Arc::new(Seen::default());
        let checkouts = Checkouts::new(
            Arc::new(Provider { ttl: 1 }),
            seen.clone(),
            Arc::new(NoCheckoutObserver),
            Duration::from_millis(200),
        );
        let link = checkouts
            .start_checkout(
                MerchantId(uuid::Uuid::new_v4()),
                ConversationId(uuid::Uuid::new_v4()),
                cart(),
            )
            .await
            .unwrap();
        // Never before the expiry (whole seconds, rounded up).
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(seen.due.lock().unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(1600)).await;
        assert_eq!(*seen.due.lock().unwrap(), vec![link.order_id]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(checkouts.live(), 0);
    }
}
