//! A bounded cache of query vectors in front of any embedder: a busy store sees the same
//! searches again and again ("rain jacket", "gift for dad"), and each costs the model 5-20 ms of
//! CPU. Entries are keyed by the model, the merchant whose store the search was made in, and the
//! query's normalised text (Unicode NFC, lower case, single spaces), and the least recently used
//! entry goes first when the cache is full. Keeping merchants apart costs the hits two stores
//! would share, and means a search's speed never tells one merchant what another's visitors
//! searched for. Passages (the indexer's product texts) pass straight through: each is embedded
//! once anyway.

use agentpay_actors::MerchantId;
use agentpay_actors::ports::{EmbedError, EmbedKind, Embedder, PortFuture};
use prometheus::IntCounterVec;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use unicode_normalization::UnicodeNormalization;

/// The form of a query the cache and the model see: NFC, lower case, words separated by one
/// space. "Rain  Jacket " and "rain jacket" are one entry and one vector.
pub fn normalise(text: &str) -> String {
    let folded: String = text.nfc().collect::<String>().to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Model, merchant (`None`: a query made outside any store), normalised text.
type Key = (Arc<str>, Option<MerchantId>, Arc<str>);

/// Least-recently-used entries: a map to (vector, last use) and the uses in order.
struct Lru {
    capacity: usize,
    clock: u64,
    entries: HashMap<Key, (Arc<[f32]>, u64)>,
    order: BTreeMap<u64, Key>,
}

impl Lru {
    fn get(&mut self, key: &Key) -> Option<Arc<[f32]>> {
        let (vector, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        self.clock += 1;
        *used = self.clock;
        self.order.insert(self.clock, key.clone());
        Some(vector.clone())
    }

    fn put(&mut self, key: Key, vector: Arc<[f32]>) {
        self.clock += 1;
        if let Some((_, used)) = self.entries.insert(key.clone(), (vector, self.clock)) {
            self.order.remove(&used);
        }
        self.order.insert(self.clock, key);
        while self.entries.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }
}

/// An embedder whose query vectors are remembered (cheap to clone: one shared cache).
#[derive(Clone)]
pub struct CachedEmbedder(Arc<Shared>);

struct Shared {
    inner: Arc<dyn Embedder>,
    model: Arc<str>,
    lru: Mutex<Lru>,
    /// `catalog_query_cache_total{outcome="hit"|"miss"}` when the server exports metrics.
    counter: Option<IntCounterVec>,
}

impl CachedEmbedder {
    /// Remembers up to `capacity` query vectors of `inner` (at least one).
    pub fn new(inner: Arc<dyn Embedder>, capacity: usize, counter: Option<IntCounterVec>) -> Self {
        let model: Arc<str> = inner.key().into();
        Self(Arc::new(Shared {
            inner,
            model,
            lru: Mutex::new(Lru {
                capacity: capacity.max(1),
                clock: 0,
                entries: HashMap::new(),
                order: BTreeMap::new(),
            }),
            counter,
        }))
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.0.lru.lock().map(|l| l.entries.len()).unwrap_or(0)
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Shared {
    fn count(&self, outcome: &str, n: usize) {
        if let (Some(c), true) = (&self.counter, n > 0) {
            c.with_label_values(&[outcome]).inc_by(n as u64);
        }
    }

    async fn queries(
        &self,
        merchant: Option<MerchantId>,
        texts: Vec<String>,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let keys: Vec<Key> = texts
            .iter()
            .map(|t| (self.model.clone(), merchant, Arc::from(normalise(t))))
            .collect();
        let mut found: Vec<Option<Arc<[f32]>>> = match self.lru.lock() {
            Ok(mut lru) => keys.iter().map(|k| lru.get(k)).collect(),
            Err(_) => vec![None; keys.len()],
        };
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| found[i].is_none()).collect();
        self.count("hit", keys.len() - missing.len());
        self.count("miss", missing.len());
        if !missing.is_empty() {
            let asked = missing.iter().map(|&i| keys[i].2.to_string()).collect();
            let vectors = self.inner.embed(asked, EmbedKind::Query).await?;
            if vectors.len() != missing.len() {
                return Err(EmbedError::Model(format!(
                    "the embedder returned {} vectors for {} texts",
                    vectors.len(),
                    missing.len()
                )));
            }
            let mut lru = self.lru.lock().ok();
            for (&i, v) in missing.iter().zip(vectors) {
                let v: Arc<[f32]> = v.into();
                if let Some(lru) = lru.as_mut() {
                    lru.put(keys[i].clone(), v.clone());
                }
                found[i] = Some(v);
            }
        }
        Ok(found
            .into_iter()
            .map(|v| v.map(|v| v.to_vec()).unwrap_or_default())
            .collect())
    }
}

impl Embedder for CachedEmbedder {
    fn key(&self) -> &str {
        &self.0.model
    }

    fn dimensions(&self) -> usize {
        self.0.inner.dimensions()
    }

    fn embed(
        &self,
        texts: Vec<String>,
        kind: EmbedKind,
    ) -> PortFuture<Result<Vec<Vec<f32>>, EmbedError>> {
        match kind {
            EmbedKind::Passage => self.0.inner.embed(texts, kind),
            EmbedKind::Query => {
                let shared = self.0.clone();
                Box::pin(async move { shared.queries(None, texts).await })
            }
        }
    }

    fn embed_queries_of(
        &self,
        merchant: MerchantId,
        texts: Vec<String>,
    ) -> PortFuture<Result<Vec<Vec<f32>>, EmbedError>> {
        let shared = self.0.clone();
        Box::pin(async move { shared.queries(Some(merchant), texts).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the texts it is asked for; the vector's first value is the text's length.
    struct Counting(Arc<AtomicUsize>);

    impl Embedder for Counting {
        fn key(&self) -> &str {
            "counting"
        }
        fn dimensions(&self) -> usize {
            1
        }
        fn embed(
            &self,
            texts: Vec<String>,
            _kind: EmbedKind,
        ) -> PortFuture<Result<Vec<Vec<f32>>, EmbedError>> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            Box::pin(async move { Ok(texts.iter().map(|t| vec![t.len() as f32]).collect()) })
        }
    }

    #[test]
    fn normalising_folds_case_width_of_spaces_and_composition() {
        assert_eq!(normalise("  Rain   JACKET "), "rain jacket");
        // "é" written as e + combining acute is the same query as the composed "é".
        assert_eq!(normalise("cafe\u{301} Crème"), normalise("café crème"));
    }

    #[tokio::test]
    async fn repeated_queries_reach_the_model_once_and_the_oldest_entry_goes_first() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CachedEmbedder::new(Arc::new(Counting(calls.clone())), 2, None);
        let q = |t: &str| cache.embed(vec![t.to_string()], EmbedKind::Query);
        assert_eq!(q("Rain jacket").await.unwrap(), vec![vec![11.0]]);
        assert_eq!(q("rain  jacket").await.unwrap(), vec![vec![11.0]]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        q("tent").await.unwrap();
        // Touch "rain jacket" so "tent" is the least recently used when a third arrives.
        q("rain jacket").await.unwrap();
        q("mug").await.unwrap();
        assert_eq!((cache.len(), calls.load(Ordering::SeqCst)), (2, 3));
        q("rain jacket").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        q("tent").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        // A batch asks the model only for what it lacks, and keeps the order.
        let got = cache
            .embed(vec!["tent".into(), "sofa bed".into()], EmbedKind::Query)
            .await
            .unwrap();
        assert_eq!(got, vec![vec![4.0], vec![8.0]]);
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        // Passages are never cached.
        for _ in 0..2 {
            cache
                .embed(vec!["tent".into()], EmbedKind::Passage)
                .await
                .unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 7);
    }

    #[tokio::test]
    async fn one_merchants_queries_never_answer_anothers() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CachedEmbedder::new(Arc::new(Counting(calls.clone())), 10, None);
        let (a, b) = (MerchantId::new_random(), MerchantId::new_random());
        let q = |m: MerchantId| cache.embed_queries_of(m, vec!["pregnancy test".to_string()]);
        q(a).await.unwrap();
        q(a).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a's repeat is a hit");
        // B's first search of the same words goes to the model: it is not faster for A's.
        q(b).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        q(b).await.unwrap();
        assert_eq!((calls.load(Ordering::SeqCst), cache.len()), (2, 2));
    }
}
