//! The background indexer: finds active products without a current vector for the configured
//! model (new, or their text changed), embeds them in batches and stores the vectors. Imports
//! and product writes wake it; otherwise it looks every `embeddings.index_interval_ms`.
//! Several servers may run it at once: each locks the rows it embeds (`SKIP LOCKED`).

use crate::metrics::Metrics;
use crate::store::StoreError;
use crate::store::products;
use agentpay_actors::ports::{EmbedKind, Embedder};
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// What the rest of the server sees of the indexer.
#[derive(Clone, Default)]
pub struct IndexerHandle {
    wake: Arc<Notify>,
    last_error: Arc<Mutex<Option<String>>>,
}

impl IndexerHandle {
    /// Asks the indexer to look for work now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The last batch's failure, if the last batch failed.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    fn set_error(&self, e: Option<String>) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = e;
        }
    }
}

/// Embeds one batch; returns how many products it embedded (0: nothing to do).
pub async fn index_batch(
    pool: &PgPool,
    embedder: &dyn Embedder,
    batch: usize,
) -> Result<usize, String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    let pending = products::lock_pending(&mut tx, embedder.key(), batch as i64)
        .await
        .map_err(|e| e.to_string())?;
    if pending.is_empty() {
        tx.commit().await.map_err(|e| e.to_string())?;
        return Ok(0);
    }
    let texts = pending.iter().map(|p| p.text.clone()).collect();
    let vectors = embedder
        .embed(texts, EmbedKind::Passage)
        .await
        .map_err(|e| e.to_string())?;
    if vectors.len() != pending.len() {
        return Err(format!(
            "the embedder returned {} vectors for {} texts",
            vectors.len(),
            pending.len()
        ));
    }
    let n = pending.len();
    let items: Vec<_> = pending.into_iter().zip(vectors).collect();
    products::store_embeddings(&mut tx, embedder.key(), &items)
        .await
        .map_err(|e: StoreError| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(n)
}

/// Embeds until nothing is pending (for the CLI and tests); returns the number embedded.
pub async fn index_all(
    pool: &PgPool,
    embedder: &dyn Embedder,
    batch: usize,
    mut progress: impl FnMut(usize),
) -> Result<usize, String> {
    let mut total = 0;
    loop {
        let n = index_batch(pool, embedder, batch).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
        progress(total);
    }
}

/// Starts the indexer task; it runs until the process ends.
pub fn spawn(
    pool: PgPool,
    embedder: Arc<dyn Embedder>,
    batch: usize,
    interval: Duration,
    metrics: Arc<Metrics>,
) -> IndexerHandle {
    let handle = IndexerHandle::default();
    let h = handle.clone();
    tokio::spawn(async move {
        if let Err(e) =
            products::ensure_vector_index(&pool, embedder.key(), embedder.dimensions()).await
        {
            tracing::error!(error = %e, "cannot create the vector index; search works without it, slower");
        }
        let mut failures: u32 = 0;
        loop {
            match index_batch(&pool, embedder.as_ref(), batch).await {
                Ok(0) => {
                    failures = 0;
                    h.set_error(None);
                    // Nothing was left to lock: no second scan of the catalog to count it (rows
                    // another server is embedding right now are its to report).
                    metrics.catalog_embeddings_pending.set(0);
                    let _ = tokio::time::timeout(interval, h.wake.notified()).await;
                }
                Ok(n) => {
                    failures = 0;
                    h.set_error(None);
                    metrics.catalog_products_embedded_total.inc_by(n as u64);
                    if let Ok(pending) = products::pending_total(&pool, embedder.key()).await {
                        metrics.catalog_embeddings_pending.set(pending);
                    }
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    metrics.catalog_embedding_errors_total.inc();
                    tracing::warn!(error = %e, failures, "embedding a batch of products failed");
                    h.set_error(Some(e));
                    // Back off: 1 s, 2 s, 4 s ... up to a minute.
                    let wait =
                        Duration::from_secs(1u64 << failures.min(6)).min(Duration::from_secs(60));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    });
    handle
}
