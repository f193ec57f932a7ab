//! `RateLimiterActor`: rate limits (GCRA, the token bucket's exact twin) and concurrency limits by
//! scope and key, with periodic sweeping of idle keys.
//!
//! One actor per process, started once at startup. It owns the rate table's lifecycle (sweeping)
//! and the connection slots. Rate checks are on the hot path of every message and API call, so
//! they do not hop to the actor: [`RateTable::check`] runs inline on a sharded map shared with
//! it (measured: an actor round trip across threads cost ~270 µs on average; the inline check
//! costs about a microsecond, see docs/decisions/0006-rate-limiter-actor.md).

use actix::prelude::*;
use dashmap::DashMap;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What is being limited. Bounded, so it can label metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Merchant API requests, per API key.
    Api,
    /// Visitor messages, per conversation.
    Chat,
    /// Conversation creation, per client IP.
    CreateConversation,
    /// Open WebSocket connections, per conversation.
    ConnectionsPerConversation,
    /// Open WebSocket connections, per client IP.
    ConnectionsPerIp,
}

impl Scope {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Chat => "chat",
            Self::CreateConversation => "create_conversation",
            Self::ConnectionsPerConversation => "connections_per_conversation",
            Self::ConnectionsPerIp => "connections_per_ip",
        }
    }
}

/// A rate: `per_minute` events per minute, with bursts of up to `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed per minute (≥ 1).
    pub per_minute: u32,
}

/// The answer to a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused; retry after this long.
    Deny {
        /// When a retry can succeed.
        retry_after: Duration,
    },
}

/// Consumes one event of `scope`/`key` at `rate` through the actor. Reply: the decision. The
/// edges call [`RateTable::check`] directly instead; this message serves callers that only have
/// the address.
#[derive(Message)]
#[rtype(result = "Decision")]
pub struct Check {
    /// The scope.
    pub scope: Scope,
    /// The key within the scope (API key id, conversation id, IP).
    pub key: String,
    /// The rate in force for this key.
    pub rate: Rate,
}

/// Takes one of `max` concurrent slots of `scope`/`key`. Reply: whether a slot was free.
/// Every successful acquire must be followed by one [`Release`].
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Acquire {
    /// The scope.
    pub scope: Scope,
    /// The key.
    pub key: String,
    /// Most concurrent holders.
    pub max: u32,
}

/// Returns a slot taken with [`Acquire`]. Sent with `do_send` from `stopped()` hooks: the
/// mailbox takes it even when full, and it is lost only if the limiter itself is gone.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Release {
    /// The scope.
    pub scope: Scope,
    /// The key.
    pub key: String,
}

/// Keys tracked, for tests and metrics.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct TrackedKeys;

/// The shared rate table: GCRA state (theoretical arrival time) per key. A key whose TAT is in
/// the past is fully refilled and is swept by the actor.
#[derive(Default)]
pub struct RateTable {
    tat: DashMap<(Scope, String), Instant>,
}

impl RateTable {
    /// Consumes one event of `scope`/`key` at `rate`, inline (no actor hop). GCRA: allow when
    /// the theoretical arrival time is at most `burst - 1` intervals ahead.
    pub fn check(&self, scope: Scope, key: String, rate: Rate) -> Decision {
        let now = Instant::now();
        let per_minute = rate.per_minute.max(1);
        let interval = Duration::from_secs(60) / per_minute;
        let tolerance = interval * (per_minute - 1);
        let mut entry = self.tat.entry((scope, key)).or_insert(now);
        let tat = (*entry).max(now);
        let allow_at = tat.checked_sub(tolerance).unwrap_or(now);
        if allow_at > now {
            return Decision::Deny {
                retry_after: allow_at - now,
            };
        }
        *entry = tat + interval;
        Decision::Allow
    }

    fn sweep(&self) {
        let now = Instant::now();
        self.tat.retain(|_, tat| *tat > now);
    }
}

/// The limiter. See the module docs.
pub struct RateLimiterActor {
    /// The rate table, shared with the edges that check it inline.
    table: Arc<RateTable>,
    /// Concurrent holders per key; zero entries are removed at once.
    held: HashMap<(Scope, String), u32>,
    /// How often idle keys are swept.
    sweep_every: Duration,
}

impl RateLimiterActor {
    /// A limiter sweeping idle keys of `table` every `sweep_every`.
    pub fn new(table: Arc<RateTable>, sweep_every: Duration) -> Self {
        Self {
            table,
            held: HashMap::new(),
            sweep_every,
        }
    }

    fn sweep(&mut self) {
        self.table.sweep();
        self.held.retain(|_, n| *n > 0);
    }
}

impl Actor for RateLimiterActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Every HTTP worker checks here: room for bursts before `send` waits.
        ctx.set_mailbox_capacity(1024);
        ctx.run_interval(self.sweep_every, |act, _| act.sweep());
    }
}

impl Handler<Check> for RateLimiterActor {
    type Result = MessageResult<Check>;

    fn handle(&mut self, msg: Check, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.table.check(msg.scope, msg.key, msg.rate))
    }
}

impl Handler<Acquire> for RateLimiterActor {
    type Result = bool;

    fn handle(&mut self, msg: Acquire, _: &mut Self::Context) -> bool {
        let n = self.held.entry((msg.scope, msg.key)).or_insert(0);
        if *n >= msg.max {
            return false;
        }
        *n += 1;
        true
    }
}

impl Handler<Release> for RateLimiterActor {
    type Result = ();

    fn handle(&mut self, msg: Release, _: &mut Self::Context) {
        let k = (msg.scope, msg.key);
        if let Some(n) = self.held.get_mut(&k) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.held.remove(&k);
            }
        }
    }
}

impl Handler<TrackedKeys> for RateLimiterActor {
    type Result = usize;

    fn handle(&mut self, _: TrackedKeys, _: &mut Self::Context) -> usize {
        self.table.tat.len() + self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        addr: &Addr<RateLimiterActor>,
        key: &str,
        per_minute: u32,
    ) -> impl Future<Output = Decision> {
        let req = addr.send(Check {
            scope: Scope::Chat,
            key: key.into(),
            rate: Rate { per_minute },
        });
        async move { req.await.unwrap() }
    }

    #[actix::test]
    async fn the_eleventh_message_in_a_minute_waits_for_one_interval() {
        tokio::time::pause();
        let addr = RateLimiterActor::new(Arc::default(), Duration::from_secs(60)).start();
        for _ in 0..10 {
            assert_eq!(check(&addr, "c1", 10).await, Decision::Allow);
        }
        let Decision::Deny { retry_after } = check(&addr, "c1", 10).await else {
            panic!("11th allowed")
        };
        assert_eq!(retry_after, Duration::from_secs(6));
        // Another key is unaffected.
        assert_eq!(check(&addr, "c2", 10).await, Decision::Allow);
        tokio::time::advance(Duration::from_secs(2)).await;
        let Decision::Deny { retry_after } = check(&addr, "c1", 10).await else {
            panic!()
        };
        assert_eq!(retry_after, Duration::from_secs(4));
        tokio::time::advance(retry_after).await;
        assert_eq!(check(&addr, "c1", 10).await, Decision::Allow);
        assert!(matches!(
            check(&addr, "c1", 10).await,
            Decision::Deny { .. }
        ));
    }

    #[actix::test]
    async fn concurrency_slots_are_counted_and_released() {
        let addr = RateLimiterActor::new(Arc::default(), Duration::from_secs(60)).start();
        let acquire = || Acquire {
            scope: Scope::ConnectionsPerIp,
            key: "1.2.3.4".into(),
            max: 2,
        };
        assert!(addr.send(acquire()).await.unwrap());
        assert!(addr.send(acquire()).await.unwrap());
        assert!(!addr.send(acquire()).await.unwrap());
        addr.send(Release {
            scope: Scope::ConnectionsPerIp,
            key: "1.2.3.4".into(),
        })
        .await
        .unwrap();
        assert!(addr.send(acquire()).await.unwrap());
    }

    #[actix::test]
    async fn idle_keys_are_swept() {
        tokio::time::pause();
        let addr = RateLimiterActor::new(Arc::default(), Duration::from_secs(10)).start();
        for k in ["a", "b", "c"] {
            check(&addr, k, 60).await;
        }
        assert_eq!(addr.send(TrackedKeys).await.unwrap(), 3);
        tokio::time::sleep(Duration::from_secs(25)).await;
        assert_eq!(addr.send(TrackedKeys).await.unwrap(), 0);
    }
}
