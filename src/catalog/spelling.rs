//! Spelling correction from the merchant's own vocabulary: the words of its active products'
//! titles, brands, categories, tags and attribute values (Postgres `ts_stat` over a `simple`
//! text vector), with how many products use each. A query word the catalog does not use is
//! replaced, for the full-text stage, by the closest catalog word within one edit (two for
//! longer words; a swap of neighbours is one edit), the most used on a tie. The vocabulary is
//! read when a visitor opens a conversation (or on the merchant's first search, once for all
//! the searches that arrive meanwhile) and again when it is older than `REFRESH`, in the
//! background, so searches never wait for a rebuild.

use agentpay_actors::MerchantId;
use dashmap::DashMap;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a merchant's vocabulary is used before it is read again.
pub const REFRESH: Duration = Duration::from_secs(300);
/// Shortest word corrected (shorter words have too many neighbours).
const MIN_LEN: usize = 4;

/// One merchant's words and how many products use each.
#[derive(Debug, Default)]
pub struct Vocabulary {
    words: HashMap<String, u32>,
    /// Words by length, for the candidate scan.
    by_len: HashMap<usize, Vec<(String, u32)>>,
}

impl Vocabulary {
    /// A vocabulary of `(word, products using it)`.
    pub fn new(entries: impl IntoIterator<Item = (String, u32)>) -> Self {
        let mut v = Self::default();
        for (w, n) in entries {
            let len = w.chars().count();
            v.by_len.entry(len).or_default().push((w.clone(), n));
            v.words.insert(w, n);
        }
        v
    }

    /// Whether the catalog uses `word`.
    pub fn contains(&self, word: &str) -> bool {
        self.words.contains_key(word)
    }

    /// Distinct words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether it has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The catalog word `word` was probably meant to be, when it is not one itself.
    pub fn correct(&self, word: &str) -> Option<&str> {
        let len = word.chars().count();
        if len < MIN_LEN || self.contains(word) || !word.chars().all(char::is_alphabetic) {
            return None;
        }
        let max = if len <= 5 { 1 } else { 2 };
        let a: Vec<char> = word.chars().collect();
        let mut best: Option<(usize, u32, &str)> = None;
        for l in len.saturating_sub(max)..=len + max {
            for (candidate, n) in self.by_len.get(&l).into_iter().flatten() {
                let b: Vec<char> = candidate.chars().collect();
                let d = edit_distance(&a, &b, max);
                if d > max {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((bd, bn, _)) => d < bd || (d == bd && *n > bn),
                };
                if better {
                    best = Some((d, *n, candidate));
                }
            }
        }
        best.map(|(_, _, w)| w)
    }
}

/// Optimal string alignment distance (insertions, deletions, substitutions and swaps of
/// neighbours), stopping early past `max`.
pub fn edit_distance(a: &[char], b: &[char], max: usize) -> usize {
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for (j, cell) in d.iter_mut().take(b.len() + 1).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        d[i * w] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
    }
    d[a.len() * w + b.len()]
}

/// A held vocabulary, when it was read, and whether a refresh is running.
type Held = (Arc<Vocabulary>, Instant, bool);

/// Every merchant's vocabulary, read when first needed (or warmed when a visitor arrives) and
/// refreshed in the background.
#[derive(Clone, Default)]
pub struct Vocabularies {
    entries: Arc<DashMap<MerchantId, Held>>,
    /// One first read per merchant at a time: the searches that arrive meanwhile wait for it
    /// instead of each reading the whole catalog again (a `ts_stat` over 50,000 products takes
    /// about 0.7 s).
    first_reads: Arc<DashMap<MerchantId, Arc<tokio::sync::Mutex<()>>>>,
    /// Counts the reads, when given.
    reads: Option<prometheus::IntCounter>,
}

impl Vocabularies {
    /// Vocabularies whose reads are counted in `reads`.
    pub fn counted(reads: prometheus::IntCounter) -> Self {
        Self {
            reads: Some(reads),
            ..Self::default()
        }
    }

    /// `merchant`'s vocabulary: read now on its first search; afterwards the one held, with a
    /// refresh started when it is older than `REFRESH`.
    pub async fn get(&self, pool: &PgPool, merchant: MerchantId) -> Option<Arc<Vocabulary>> {
        let held = self
            .entries
            .get(&merchant)
            .map(|e| (e.0.clone(), e.1.elapsed() > REFRESH && !e.2));
        match held {
            Some((vocab, false)) => Some(vocab),
            Some((vocab, true)) => {
                if let Some(mut e) = self.entries.get_mut(&merchant) {
                    e.2 = true;
                }
                let (this, pool) = (self.clone(), pool.clone());
                tokio::spawn(async move {
                    let fresh = this.read(&pool, merchant).await;
                    this.store(merchant, fresh);
                });
                Some(vocab)
            }
            None => {
                let gate = self.first_reads.entry(merchant).or_default().clone();
                let _first = gate.lock().await;
                // Read by the search this one waited for.
                if let Some(e) = self.entries.get(&merchant) {
                    return Some(e.0.clone());
                }
                let fresh = self.read(pool, merchant).await;
                self.store(merchant, fresh);
                self.entries.get(&merchant).map(|e| e.0.clone())
            }
        }
    }

    /// Reads `merchant`'s vocabulary in the background unless it is held: its visitor's first
    /// search then does not wait for it.
    pub fn warm(&self, pool: &PgPool, merchant: MerchantId) {
        if self.entries.contains_key(&merchant) || self.first_reads.contains_key(&merchant) {
            return;
        }
        let (this, pool) = (self.clone(), pool.clone());
        tokio::spawn(async move {
            this.get(&pool, merchant).await;
        });
    }

    fn store(&self, merchant: MerchantId, fresh: Option<Vocabulary>) {
        match fresh {
            Some(v) => {
                self.entries
                    .insert(merchant, (Arc::new(v), Instant::now(), false));
            }
            // A failed read is tried again on a later search; the old words stay meanwhile.
            None => {
                if let Some(mut e) = self.entries.get_mut(&merchant) {
                    e.2 = false;
                }
            }
        }
    }

    /// Reads `merchant`'s vocabulary (None when the database fails; searches go on without it).
    async fn read(&self, pool: &PgPool, merchant: MerchantId) -> Option<Vocabulary> {
        if let Some(reads) = &self.reads {
            reads.inc();
        }
        match crate::store::products::vocabulary(pool, merchant).await {
            Ok(words) => Some(Vocabulary::new(words)),
            Err(e) => {
                tracing::warn!(error = %e, %merchant, "cannot read the catalog vocabulary");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::new(
            [
                ("headphones", 12),
                ("backpack", 9),
                ("blender", 4),
                ("blanket", 2),
                ("jacket", 20),
                ("packet", 1),
                ("waterproof", 8),
            ]
            .map(|(w, n)| (w.to_string(), n)),
        )
    }

    #[test]
    fn misspelt_words_become_the_catalogs_words() {
        let v = vocab();
        assert_eq!(v.correct("headphnoes"), Some("headphones"));
        assert_eq!(v.correct("backpak"), Some("backpack"));
        assert_eq!(v.correct("watreproof"), Some("waterproof"));
        assert_eq!(v.correct("blendr"), Some("blender"));
        // One edit from two words: the one more products use.
        assert_eq!(v.correct("jacket"), None);
        assert_eq!(v.correct("facket"), Some("jacket"));
    }

    #[test]
    fn known_short_and_distant_words_are_left_alone() {
        let v = vocab();
        assert_eq!(v.correct("backpack"), None);
        assert_eq!(v.correct("hat"), None);
        assert_eq!(v.correct("tent"), None);
        assert_eq!(v.correct("xylophone"), None);
        assert_eq!(v.correct("usb3"), None);
    }

    #[test]
    fn the_distance_counts_a_swap_as_one_edit() {
        let d = |a: &str, b: &str| {
            edit_distance(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
                3,
            )
        };
        assert_eq!(d("abcd", "abdc"), 1);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("same", "same"), 0);
        assert_eq!(d("a", "abcdef"), 4);
    }
}
