//! `PricingCacheActor`: one per merchant whose prices are being read, the authoritative price,
//! currency and stock of the products (and their variants) that carts and checkouts hold.
//!
//! - **Reads** go through [`PricingCache::products`] (and [`PricedCatalog`], the catalog port
//!   the agent is given, whose `products`/`product` read through it): fresh entries are answered
//!   from memory, the rest are loaded from the catalog in one lookup and kept.
//! - **Freshness**: an entry lives `ttl`; product writes on this node call
//!   [`PricingCache::invalidate`] (the HTTP edge does, for every create, update, delete, bulk
//!   write and import), which drops the merchant's entries at once. A load that started before
//!   an invalidation does not store what it read (a generation counter), so a write is never
//!   undone by a slow read. Other nodes learn of a write when their entries expire (the TTL
//!   bounds how stale a price can be there; docs/payments.md).
//! - **Bounded**: at most `capacity` entries per merchant; expired entries go first, then the
//!   oldest.
//! - **Lifetime**: started on first use under an actix `Supervisor` (restarted empty if its
//!   context stops while it is still registered), stopped after `idle` without reads. An actor
//!   killed outright is noticed by the directory and replaced on the next read. When it cannot
//!   answer in time, reads go straight to the catalog: the cache never makes a price older,
//!   only fewer queries.

use crate::directory::Directory;
use crate::ids::MerchantId;
use crate::ports::{
    CatalogSearch, PortFuture, ProductDetail, ProductHit, SearchError, SearchQuery,
};
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How the cache behaves.
#[derive(Debug, Clone, Copy)]
pub struct PricingSettings {
    /// How long an entry is trusted.
    pub ttl: Duration,
    /// Entries kept per merchant.
    pub capacity: usize,
    /// A merchant's actor stops after this long without reads.
    pub idle: Duration,
    /// How long a read waits for the actor before going to the catalog directly.
    pub ask_timeout: Duration,
}

/// Hooks for metrics.
pub trait PricingObserver: Send + Sync + 'static {
    /// A read found `hits` fresh entries and loaded `misses`.
    fn lookup(&self, _hits: usize, _misses: usize) {}
    /// A merchant's entries were dropped after a catalog write.
    fn invalidated(&self) {}
}

/// An observer that records nothing.
pub struct NoPricingObserver;
impl PricingObserver for NoPricingObserver {}

/// The products among `ids` (absent: not sold), through the cache.
#[derive(Message)]
#[rtype(result = "Result<Vec<ProductDetail>, SearchError>")]
pub struct Prices(pub Vec<String>);

/// Drops entries: these ids, or all of the merchant's (`None`).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Invalidate(pub Option<Vec<String>>);

struct Entry {
    /// `None`: the merchant does not sell it (any more).
    product: Option<ProductDetail>,
    loaded: Instant,
}

/// One merchant's cache. See the module docs.
pub struct PricingCacheActor {
    merchant: MerchantId,
    catalog: Arc<dyn CatalogSearch>,
    settings: PricingSettings,
    observer: Arc<dyn PricingObserver>,
    entries: HashMap<String, Entry>,
    /// Bumped by every invalidation; a load stores its result only if it is unchanged.
    generation: u64,
    last_read: Instant,
    cache: Weak<PricingCache>,
}

impl PricingCacheActor {
    fn put(&mut self, id: String, product: Option<ProductDetail>) {
        if self.entries.len() >= self.settings.capacity && !self.entries.contains_key(&id) {
            let ttl = self.settings.ttl;
            self.entries.retain(|_, e| e.loaded.elapsed() < ttl);
            if self.entries.len() >= self.settings.capacity
                && let Some(oldest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.loaded)
                    .map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(
            id,
            Entry {
                product,
                loaded: Instant::now(),
            },
        );
    }
}

impl Actor for PricingCacheActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let every = (self.settings.idle / 4).max(Duration::from_millis(50));
        ctx.run_interval(every, |act, ctx| {
            if act.last_read.elapsed() >= act.settings.idle {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        if let Some(cache) = self.cache.upgrade() {
            cache.actors.forget(self.merchant, &ctx.address());
        }
    }
}

impl Supervised for PricingCacheActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // Restarted by its supervisor: start empty, and let loads in flight store nothing.
        self.entries.clear();
        self.generation += 1;
    }
}

impl Handler<Prices> for PricingCacheActor {
    type Result = ResponseActFuture<Self, Result<Vec<ProductDetail>, SearchError>>;

    fn handle(&mut self, msg: Prices, _: &mut Context<Self>) -> Self::Result {
        self.last_read = Instant::now();
        let mut ids = msg.0;
        ids.sort_unstable();
        ids.dedup();
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        let mut hits = 0;
        for id in ids {
            match self.entries.get(&id) {
                Some(e) if e.loaded.elapsed() < self.settings.ttl => {
                    hits += 1;
                    found.extend(e.product.clone());
                }
                _ => missing.push(id),
            }
        }
        self.observer.lookup(hits, missing.len());
        if missing.is_empty() {
            return Box::pin(fut::ready(Ok(found)));
        }
        let generation = self.generation;
        let load = self.catalog.products(self.merchant, missing.clone());
        Box::pin(load.into_actor(self).map(move |loaded, act, _| {
            let loaded = loaded?;
            if act.generation == generation {
                for id in missing {
                    let product = loaded.iter().find(|p| p.hit.external_id == id).cloned();
                    act.put(id, product);
                }
            }
            found.extend(loaded);
            Ok(found)
        }))
    }
}

impl Handler<Invalidate> for PricingCacheActor {
    type Result = ();

    fn handle(&mut self, msg: Invalidate, _: &mut Context<Self>) {
        self.generation += 1;
        match msg.0 {
            None => self.entries.clear(),
            Some(ids) => {
                for id in ids {
                    self.entries.remove(&id);
                }
            }
        }
        self.observer.invalidated();
    }
}

/// The merchants' pricing caches.
pub struct PricingCache {
    catalog: Arc<dyn CatalogSearch>,
    settings: PricingSettings,
    observer: Arc<dyn PricingObserver>,
    actors: Directory<MerchantId, PricingCacheActor>,
    me: Weak<PricingCache>,
}

impl PricingCache {
    /// Caches over `catalog`.
    pub fn new(
        catalog: Arc<dyn CatalogSearch>,
        settings: PricingSettings,
        observer: Arc<dyn PricingObserver>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            catalog,
            settings,
            observer,
            actors: Directory::default(),
            me: me.clone(),
        })
    }

    fn start(&self, merchant: MerchantId) -> Addr<PricingCacheActor> {
        let actor = PricingCacheActor {
            merchant,
            catalog: self.catalog.clone(),
            settings: self.settings,
            observer: self.observer.clone(),
            entries: HashMap::new(),
            generation: 0,
            last_read: Instant::now(),
            cache: self.me.clone(),
        };
        Supervisor::start(move |_| actor)
    }

    /// `merchant`'s products among `ids` (those it does not sell are left out), fresh from the
    /// cache or loaded. Must be called within an actix system.
    pub async fn products(
        &self,
        merchant: MerchantId,
        ids: Vec<String>,
    ) -> Result<Vec<ProductDetail>, SearchError> {
        let asked = self
            .actors
            .ask(
                merchant,
                self.settings.ask_timeout,
                |_| self.start(merchant),
                || Prices(ids.clone()),
            )
            .await;
        match asked {
            Ok(result) => result,
            Err(_) => self.catalog.products(merchant, ids).await,
        }
    }

    /// Drops `merchant`'s entries for `ids` (all of them for `None`) after a catalog write.
    pub fn invalidate(&self, merchant: MerchantId, ids: Option<Vec<String>>) {
        if let Some(actor) = self.actors.get(merchant) {
            actor.do_send(Invalidate(ids));
        }
    }

    /// Merchants with a live cache.
    pub fn live(&self) -> usize {
        self.actors.len()
    }
}

/// The catalog port as the agent sees it: searches go to the catalog, prices and stock of known
/// products (`products`, `product`) through the pricing cache.
pub struct PricedCatalog {
    catalog: Arc<dyn CatalogSearch>,
    cache: Arc<PricingCache>,
}

impl PricedCatalog {
    /// `catalog`, with product reads through `cache`.
    pub fn new(catalog: Arc<dyn CatalogSearch>, cache: Arc<PricingCache>) -> Self {
        Self { catalog, cache }
    }
}

impl CatalogSearch for PricedCatalog {
    fn search(
        &self,
        merchant: MerchantId,
        query: SearchQuery,
    ) -> PortFuture<Result<Vec<ProductHit>, SearchError>> {
        self.catalog.search(merchant, query)
    }

    fn products(
        &self,
        merchant: MerchantId,
        external_ids: Vec<String>,
    ) -> PortFuture<Result<Vec<ProductDetail>, SearchError>> {
        let cache = self.cache.clone();
        Box::pin(async move { cache.products(merchant, external_ids).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A catalog whose prices tests change, counting lookups.
    #[derive(Default)]
    struct Shelf {
        prices: Mutex<HashMap<String, i64>>,
        lookups: AtomicUsize,
    }

    fn detail(id: &str, minor: i64) -> ProductDetail {
        ProductDetail {
            hit: ProductHit {
                external_id: id.into(),
                title: id.into(),
                brand: None,
                category: vec![],
                price: Money {
                    amount_minor: minor,
                    currency: "USD".parse::<Currency>().unwrap(),
                },
                compare_at_price: None,
                stock: Some(3),
                in_stock: true,
                url: None,
                image_url: None,
                score: 0.0,
            },
            description: String::new(),
            tags: vec![],
            attributes: Default::default(),
            variants: vec![],
        }
    }

    impl CatalogSearch for Shelf {
        fn search(
            &self,
            _: MerchantId,
            _: SearchQuery,
        ) -> PortFuture<Result<Vec<ProductHit>, SearchError>> {
            Box::pin(async { Ok(vec![]) })
        }

        fn products(
            &self,
            _: MerchantId,
            ids: Vec<String>,
        ) -> PortFuture<Result<Vec<ProductDetail>, SearchError>> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            let prices = self.prices.lock().unwrap().clone();
            Box::pin(async move {
                Ok(ids
                    .iter()
                    .filter_map(|id| prices.get(id).map(|p| detail(id, *p)))
                    .collect())
            })
        }
    }

    fn settings(ttl: Duration, capacity: usize) -> PricingSettings {
        PricingSettings {
            ttl,
            capacity,
            idle: Duration::from_secs(60),
            ask_timeout: Duration::from_secs(1),
        }
    }

    fn price(found: &[ProductDetail], id: &str) -> Option<i64> {
        found
            .iter()
            .find(|p| p.hit.external_id == id)
            .map(|p| p.hit.price.amount_minor)
    }

    #[actix::test]
    async fn reads_are_served_from_memory_until_a_write_invalidates_them() {
        let shelf = Arc::new(Shelf::default());
        shelf.prices.lock().unwrap().insert("A".into(), 100);
        let cache = PricingCache::new(
            shelf.clone(),
            settings(Duration::from_secs(60), 100),
            Arc::new(NoPricingObserver),
        );
        let m = MerchantId(uuid::Uuid::new_v4());
        let ids = vec!["A".to_string(), "GONE".to_string()];
        assert_eq!(
            price(&cache.products(m, ids.clone()).await.unwrap(), "A"),
            Some(100)
        );
        // Cached, the unknown id included.
        cache.products(m, ids.clone()).await.unwrap();
        assert_eq!(shelf.lookups.load(Ordering::SeqCst), 1);
        // A write elsewhere is not seen before the TTL ...
        shelf.prices.lock().unwrap().insert("A".into(), 250);
        assert_eq!(
            price(&cache.products(m, ids.clone()).await.unwrap(), "A"),
            Some(100)
        );
        // ... but one on this node is, at once.
        cache.invalidate(m, Some(vec!["A".into()]));
        assert_eq!(
            price(&cache.products(m, ids.clone()).await.unwrap(), "A"),
            Some(250)
        );
        // Another merchant has its own entries.
        let other = MerchantId(uuid::Uuid::new_v4());
        cache.products(other, ids).await.unwrap();
        assert_eq!(cache.live(), 2);
    }

    #[actix::test]
    async fn entries_expire_and_the_cache_stays_within_its_capacity() {
        let shelf = Arc::new(Shelf::default());
        for i in 0..10 {
            shelf.prices.lock().unwrap().insert(format!("P{i}"), i);
        }
        let cache = PricingCache::new(
            shelf.clone(),
            settings(Duration::from_millis(500), 4),
            Arc::new(NoPricingObserver),
        );
        let m = MerchantId(uuid::Uuid::new_v4());
        for i in 0..10 {
            cache.products(m, vec![format!("P{i}")]).await.unwrap();
        }
        let addr = cache.actors.get(m).unwrap();
        let held = addr.send(Prices(vec!["P9".into()])).await.unwrap().unwrap();
        assert_eq!(price(&held, "P9"), Some(9));
        let before = shelf.lookups.load(Ordering::SeqCst);
        // The oldest were evicted: P0 is loaded again.
        cache.products(m, vec!["P0".into()]).await.unwrap();
        assert_eq!(shelf.lookups.load(Ordering::SeqCst), before + 1);
        // After the TTL everything is loaded again.
        tokio::time::sleep(Duration::from_millis(600)).await;
        shelf.prices.lock().unwrap().insert("P9".into(), 900);
        let after = cache.products(m, vec!["P9".into()]).await.unwrap();
        assert_eq!(price(&after, "P9"), Some(900));
    }
}
