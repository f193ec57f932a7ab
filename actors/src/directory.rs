//! `Directory`: find-or-start for per-key actors (a conversation's, a merchant's, and the
//! checkout actors to come). One live address per key; a dead address (an actix actor killed by
//! a panic never runs `stopped`) is noticed with `connected()` and replaced; an actor that stops
//! for good removes itself with [`Directory::forget`], which leaves a newer actor alone.
//!
//! Asks go through [`Directory::ask`]: a timeout on every send, and one more try on a fresh
//! actor when the first turned out to be gone.

use actix::dev::ToEnvelope;
use actix::prelude::*;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use std::hash::Hash;
use std::time::Duration;

/// How [`Directory::get_or_start`] found its actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// It was live.
    Live,
    /// None was there; one was started.
    Started,
    /// The one there was dead; a fresh one replaced it.
    Replaced,
}

/// Why an ask failed before the actor answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskFailure {
    /// No answer within the timeout.
    Timeout,
    /// The actor was gone twice in a row.
    Gone,
}

/// Live actors by key. See the module docs.
pub struct Directory<K, A: Actor> {
    /// One address per key.
    actors: DashMap<K, Addr<A>>,
}

impl<K, A> Default for Directory<K, A>
where
    K: Eq + Hash + Copy,
    A: Actor,
{
    fn default() -> Self {
        Self {
            actors: DashMap::new(),
        }
    }
}

impl<K, A> Directory<K, A>
where
    K: Eq + Hash + Copy,
    A: Actor,
{
    /// The live actor for `key`, or one started with `start` (told whether it starts afresh or
    /// replaces a dead one). Must be called from within an actix system when `start` runs.
    pub fn get_or_start(&self, key: K, start: impl FnOnce(Found) -> Addr<A>) -> (Addr<A>, Found) {
        match self.actors.entry(key) {
            Entry::Occupied(e) if e.get().connected() => (e.get().clone(), Found::Live),
            Entry::Occupied(mut e) => {
                let addr = start(Found::Replaced);
                e.insert(addr.clone());
                (addr, Found::Replaced)
            }
            Entry::Vacant(e) => {
                let addr = start(Found::Started);
                e.insert(addr.clone());
                (addr, Found::Started)
            }
        }
    }

    /// The live actor for `key`, if any (nothing is started).
    pub fn get(&self, key: K) -> Option<Addr<A>> {
        self.actors
            .get(&key)
            .map(|a| a.clone())
            .filter(Addr::connected)
    }

    /// Removes `key` if it still maps to `addr` (a newer actor is left alone).
    pub fn forget(&self, key: K, addr: &Addr<A>) {
        self.actors.remove_if(&key, |_, a| a == addr);
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.actors.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.actors.is_empty()
    }

    /// Every address, for broadcasts such as shutdown.
    pub fn addresses(&self) -> Vec<Addr<A>> {
        self.actors.iter().map(|e| e.value().clone()).collect()
    }

    /// Sends `make()` to `key`'s actor (started with `start` when needed) with `timeout`. If the
    /// actor turns out to be gone, it is replaced and the message is sent once more.
    pub async fn ask<M>(
        &self,
        key: K,
        timeout: Duration,
        start: impl Fn(Found) -> Addr<A>,
        make: impl Fn() -> M,
    ) -> Result<M::Result, AskFailure>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        A: Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        for _ in 0..2 {
            let (addr, _) = self.get_or_start(key, &start);
            match tokio::time::timeout(timeout, addr.send(make())).await {
                Err(_) | Ok(Err(MailboxError::Timeout)) => return Err(AskFailure::Timeout),
                Ok(Ok(result)) => return Ok(result),
                Ok(Err(MailboxError::Closed)) => {
                    self.actors
                        .remove_if(&key, |_, a| !a.connected() || a == &addr);
                }
            }
        }
        Err(AskFailure::Gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;
    impl Actor for Echo {
        type Context = Context<Self>;
    }

    #[derive(Message)]
    #[rtype(result = "u32")]
    struct Double(u32);

    impl Handler<Double> for Echo {
        type Result = u32;
        fn handle(&mut self, msg: Double, _: &mut Context<Self>) -> u32 {
            msg.0 * 2
        }
    }

    #[derive(Message)]
    #[rtype(result = "()")]
    struct Die;

    impl Handler<Die> for Echo {
        type Result = ();
        fn handle(&mut self, _: Die, ctx: &mut Context<Self>) {
            ctx.stop();
        }
    }

    #[actix::test]
    async fn one_actor_per_key_and_a_dead_one_is_replaced() {
        let dir: Directory<u8, Echo> = Directory::default();
        let (a, found) = dir.get_or_start(1, |_| Echo.start());
        assert_eq!(found, Found::Started);
        let (b, found) = dir.get_or_start(1, |_| Echo.start());
        assert_eq!((a == b, found), (true, Found::Live));
        a.send(Die).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (c, found) = dir.get_or_start(1, |_| Echo.start());
        assert_eq!((c == a, found), (false, Found::Replaced));
        // A stale forget leaves the newer actor alone.
        dir.forget(1, &a);
        assert_eq!(dir.len(), 1);
        let ask = dir.ask(1, Duration::from_secs(1), |_| Echo.start(), || Double(21));
        assert_eq!(ask.await, Ok(42));
        dir.forget(1, &c);
        assert!(dir.is_empty());
    }
}
