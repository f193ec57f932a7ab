//! Hybrid catalog search: the query's vector against the model's HNSW index and Postgres
//! full-text search in the merchant's language, each giving a ranked candidate list, fused by
//! reciprocal rank fusion (score = sum over lists of 1 / (k + rank)). Every query is scoped to
//! one merchant; prices and stock in results come from the catalog rows.

use super::product::parse_decimal_price;
use super::query;
use super::rank;
use super::spelling::Vocabularies;
use crate::config::CatalogSettings;
use crate::metrics::Metrics;
use crate::store::StoreError;
use crate::store::products::{self, StoredProduct, VectorQuery};
use agentpay_actors::ports::{
    CatalogSearch, Embedder, PortFuture, ProductDetail, ProductHit, SearchError, SearchMode,
    SearchQuery, VariantDetail,
};
use agentpay_actors::{Currency, MerchantId, Money};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// Most results one search returns.
pub const MAX_LIMIT: usize = 100;
/// Best fused candidates whose vectors feed the feedback stage.
const FEEDBACK_DOCS: usize = 3;
/// Candidates of the feedback stage, and its `hnsw.ef_search`.
const FEEDBACK_CANDIDATES: i64 = 30;
const FEEDBACK_EF_SEARCH: u32 = 80;
/// Longest query text.
pub const MAX_QUERY_CHARS: usize = 500;

/// The catalog search over Postgres.
#[derive(Clone)]
pub struct PgCatalogSearch {
    pool: PgPool,
    embedder: Option<Arc<dyn Embedder>>,
    candidates: usize,
    ef_search: u32,
    rrf_k: f64,
    text_weight: f64,
    translated_weight: f64,
    attribute_boost: f64,
    boost_depth: usize,
    spelling: bool,
    feedback_weight: f64,
    vocabularies: Vocabularies,
    metrics: Option<Arc<Metrics>>,
}

/// Whether a query is one token that looks like a product id or SKU (`ELEC-HPH-0002`,
/// `sku_1234`): letters or separators with digits, no spaces.
fn looks_like_code(text: &str) -> bool {
    text.len() >= 3
        && text.len() <= 64
        && !text.contains(char::is_whitespace)
        && text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .any(|c| c.is_alphabetic() || c == '-' || c == '_')
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn unavailable(e: StoreError) -> SearchError {
    SearchError::Unavailable(e.to_string())
}

/// Words of `text` joined by `or`, for `websearch_to_tsquery`: any word may match, products
/// matching more (and rarer) words rank higher. Operators a visitor typed are not honoured.
fn any_word(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Weighted reciprocal rank fusion of ranked id lists (each with its weight): ids by fused
/// score, best first.
pub fn fuse(lists: &[(Vec<Uuid>, f64)], k: f64) -> Vec<(Uuid, f64)> {
    let mut scores: HashMap<Uuid, f64> = HashMap::new();
    let mut first_seen: Vec<Uuid> = Vec::new();
    for (list, weight) in lists {
        for (rank, id) in list.iter().enumerate() {
            let s = scores.entry(*id).or_insert_with(|| {
                first_seen.push(*id);
                0.0
            });
            *s += weight / (k + rank as f64 + 1.0);
        }
    }
    let mut out: Vec<(Uuid, f64)> = first_seen.into_iter().map(|id| (id, scores[&id])).collect();
    // Stable: ties keep the order in which the lists first named them.
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

impl PgCatalogSearch {
    /// A search over `pool` with `embedder` (None: full-text only).
    pub fn new(
        pool: PgPool,
        embedder: Option<Arc<dyn Embedder>>,
        settings: &CatalogSettings,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        Self {
            pool,
            embedder,
            candidates: settings.search_candidates,
            ef_search: settings.hnsw_ef_search,
            rrf_k: f64::from(settings.rrf_k),
            text_weight: settings.text_weight,
            translated_weight: settings.translated_weight,
            attribute_boost: settings.attribute_boost,
            boost_depth: settings.boost_depth,
            spelling: settings.spelling,
            feedback_weight: settings.feedback_weight,
            vocabularies: metrics
                .as_ref()
                .map(|m| Vocabularies::counted(m.catalog_vocabulary_reads_total.clone()))
                .unwrap_or_default(),
            metrics,
        }
    }

    /// Reads `merchant`'s spelling vocabulary in the background if it is not held yet (a
    /// visitor arrived: the first search should not wait for it).
    pub fn warm(&self, merchant: MerchantId) {
        if self.spelling {
            self.vocabularies.warm(&self.pool, merchant);
        }
    }

    /// The embedder in use, if any.
    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.embedder.as_ref()
    }

    /// The ranked product ids for a query, with the rows already read for the best of them.
    async fn ranked(
        &self,
        merchant: MerchantId,
        q: &SearchQuery,
        currency: Currency,
    ) -> Result<Ranked, SearchError> {
        let parsed = query::parse(&q.text);
        let mut filters = q.filters.clone();
        let bound = |s: &Option<String>| -> Result<Option<i64>, SearchError> {
            s.as_deref()
                .map(|a| parse_decimal_price(a, currency).map_err(SearchError::Invalid))
                .transpose()
        };
        if filters.min_price.is_none() {
            filters.min_price = bound(&parsed.min).ok().flatten();
        }
        if filters.max_price.is_none() {
            filters.max_price = bound(&parsed.max).ok().flatten();
        }
        let plan = rank::plan(&parsed.text);
        let limit = self.candidates.max(q.limit) as i64;
        let mut text_words = plan.text_words.clone();
        if self.spelling
            && q.mode != SearchMode::Vector
            && !text_words.is_empty()
            && let Some(vocab) = self.vocabularies.get(&self.pool, merchant).await
        {
            let fixed: Vec<String> = text_words
                .iter()
                .filter_map(|w| vocab.correct(w).map(str::to_string))
                .collect();
            text_words.extend(fixed);
        }
        let text_query = any_word(&text_words.join(" "));
        let code = looks_like_code(parsed.text.trim()).then(|| parsed.text.trim().to_string());
        let want_vector = q.mode != SearchMode::Text && !plan.vector_texts.is_empty();
        let want_text = q.mode != SearchMode::Vector && !text_query.is_empty();
        if want_vector && self.embedder.is_none() && q.mode == SearchMode::Vector {
            return Err(SearchError::Invalid(
                "vector search needs an embedding model (embeddings.provider is none)".into(),
            ));
        }
        let vector_stage = async {
            let Some(embedder) = self.embedder.as_ref().filter(|_| want_vector) else {
                return Ok((Vec::new(), None));
            };
            let vectors = match embed_queries(embedder.as_ref(), merchant, &plan.vector_texts).await
            {
                Ok(v) => v,
                // Hybrid search still answers by words when the model is down.
                Err(e) if q.mode == SearchMode::Hybrid => {
                    tracing::warn!(error = %e, "query embedding failed; searching by words only");
                    if let Some(m) = &self.metrics {
                        m.catalog_search_degraded_total.inc();
                    }
                    return Ok((Vec::new(), None));
                }
                Err(e) => return Err(e),
            };
            let typed = vectors.first().cloned();
            let searches = vectors.into_iter().map(|vector| {
                let query = VectorQuery {
                    model: embedder.key(),
                    vector,
                    limit,
                    ef_search: self.ef_search,
                    exact: false,
                };
                products::vector_candidates(&self.pool, merchant, query, &filters)
            });
            let lists = futures_util::future::try_join_all(searches)
                .await
                .map_err(unavailable)?;
            Ok((lists, typed))
        };
        let text_stage = async {
            if !want_text {
                return Ok(Vec::new());
            }
            products::text_candidates(&self.pool, merchant, &text_query, &filters, limit)
                .await
                .map_err(unavailable)
        };
        let code_stage = async {
            match &code {
                Some(code) => products::by_code(&self.pool, merchant, code)
                    .await
                    .map_err(unavailable),
                None => Ok(Vec::new()),
            }
        };
        let ((vector_lists, typed_vector), text_ids, code_ids) =
            tokio::try_join!(vector_stage, text_stage, code_stage)?;
        if !want_vector && !want_text {
            // Nothing to rank by (the query was only a price): the cheapest matches first.
            let rows = products::list(&self.pool, merchant, &filters, Some(true), None, limit)
                .await
                .map_err(unavailable)?;
            let mut rows: Vec<_> = rows
                .into_iter()
                .map(|p| (p.product.price_minor, p.id))
                .collect();
            rows.sort();
            return Ok(Ranked {
                ids: rows.into_iter().map(|(_, id)| (id, 0.0)).collect(),
                rows: HashMap::new(),
            });
        }
        // A product whose id or SKU is the query comes first, whatever the other stages say.
        let mut lists: Vec<(Vec<Uuid>, f64)> = vec![(code_ids, 1000.0)];
        for (i, ids) in vector_lists.into_iter().enumerate() {
            lists.push((ids, if i == 0 { 1.0 } else { self.translated_weight }));
        }
        lists.push((text_ids, self.text_weight));
        let mut fused = fuse(&lists, self.rrf_k);
        if let (Some(vector), Some(embedder)) = (typed_vector, self.embedder.as_ref())
            && self.feedback_weight > 0.0
            && q.mode == SearchMode::Hybrid
        {
            let feedback = self
                .feedback(merchant, embedder.key(), vector, &fused, limit, &filters)
                .await?;
            lists.push((feedback, self.feedback_weight));
            fused = fuse(&lists, self.rrf_k);
        }
        self.boost(merchant, &plan, fused, q.limit).await
    }

    /// Pseudo-relevance feedback: the nearest products to the query's vector moved towards
    /// the vectors of the best fused candidates (the stages agreeing on them says what the
    /// visitor meant better than the words alone).
    async fn feedback(
        &self,
        merchant: MerchantId,
        model: &str,
        mut vector: Vec<f32>,
        fused: &[(Uuid, f64)],
        limit: i64,
        filters: &agentpay_actors::ports::SearchFilters,
    ) -> Result<Vec<Uuid>, SearchError> {
        let best: Vec<Uuid> = fused
            .iter()
            .take(FEEDBACK_DOCS)
            .map(|(id, _)| *id)
            .collect();
        let stored = products::embeddings_of(&self.pool, merchant, model, &best)
            .await
            .map_err(unavailable)?;
        if stored.is_empty() {
            return Ok(Vec::new());
        }
        let share = 1.0 / stored.len() as f32;
        for v in &stored {
            for (q, d) in vector.iter_mut().zip(v) {
                *q += d * share;
            }
        }
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        vector.iter_mut().for_each(|x| *x /= norm);
        // A short list is enough to lift products like the best ones into the top results.
        let query = VectorQuery {
            model,
            vector,
            limit: limit.min(FEEDBACK_CANDIDATES),
            ef_search: self.ef_search.min(FEEDBACK_EF_SEARCH),
            exact: false,
        };
        products::vector_candidates(&self.pool, merchant, query, filters)
            .await
            .map_err(unavailable)
    }

    /// Moves products whose attributes match what the query asks for up among the best
    /// candidates (entity boosts); reads their rows, which the caller reuses.
    async fn boost(
        &self,
        merchant: MerchantId,
        plan: &rank::QueryPlan,
        fused: Vec<(Uuid, f64)>,
        limit: usize,
    ) -> Result<Ranked, SearchError> {
        // Without a boost only the rows the caller returns are read.
        let depth = if self.attribute_boost > 0.0 && !plan.wanted.is_empty() {
            self.boost_depth.max(limit)
        } else {
            limit
        }
        .min(fused.len());
        let ids: Vec<Uuid> = fused.iter().take(depth).map(|(id, _)| *id).collect();
        let rows: HashMap<Uuid, StoredProduct> = products::by_ids(&self.pool, merchant, &ids)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        if self.attribute_boost <= 0.0 || plan.wanted.is_empty() {
            return Ok(Ranked { ids: fused, rows });
        }
        // Fused scores are relative: a boost is a share of the best one.
        let top = fused.first().map(|(_, s)| *s).unwrap_or(0.0);
        let mut head: Vec<(Uuid, f64)> = fused[..depth]
            .iter()
            .map(|(id, score)| {
                let n = rows.get(id).map_or(0, |p| {
                    let attrs = std::iter::once(&p.product.attributes)
                        .chain(p.product.variants.iter().map(|v| &v.attributes));
                    rank::matches(plan, &rank::attribute_words(attrs))
                });
                (*id, score + top * self.attribute_boost * n as f64)
            })
            .collect();
        head.sort_by(|a, b| b.1.total_cmp(&a.1));
        head.extend_from_slice(&fused[depth..]);
        Ok(Ranked { ids: head, rows })
    }

    /// Searches `merchant`'s catalog.
    pub async fn run(
        &self,
        merchant: MerchantId,
        mut q: SearchQuery,
    ) -> Result<Vec<ProductHit>, SearchError> {
        // A model's search tool may pass anything; Postgres text cannot hold NUL.
        if q.text.contains('\0') {
            q.text = q.text.replace('\0', " ");
        }
        if q.text.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::Invalid(format!(
                "the query is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        let started = Instant::now();
        let (currency, _) = products::catalog_settings(&self.pool, merchant)
            .await
            .map_err(unavailable)?;
        let limit = q.limit.clamp(1, MAX_LIMIT);
        let Ranked { ids, mut rows } = self.ranked(merchant, &q, currency).await?;
        let top: Vec<(Uuid, f64)> = ids.into_iter().take(limit).collect();
        let missing: Vec<Uuid> = top
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !rows.contains_key(id))
            .collect();
        if !missing.is_empty() {
            rows.extend(
                products::by_ids(&self.pool, merchant, &missing)
                    .await
                    .map_err(unavailable)?
                    .into_iter()
                    .map(|p| (p.id, p)),
            );
        }
        let hits = top
            .into_iter()
            .filter_map(|(id, score)| rows.remove(&id).map(|p| hit(p, score)))
            .collect();
        if let Some(m) = &self.metrics {
            m.catalog_search_duration_seconds
                .with_label_values(&[mode_name(q.mode)])
                .observe(started.elapsed().as_secs_f64());
        }
        Ok(hits)
    }

    /// The `k` nearest products to `text` by vector alone, as the vector stage of a search finds
    /// them (its candidates through the index, best first; `exact` false) or by an exact scan
    /// (`exact` true): the benchmark's recall measure.
    pub async fn nearest(
        &self,
        merchant: MerchantId,
        text: &str,
        k: usize,
        exact: bool,
    ) -> Result<Vec<Uuid>, SearchError> {
        let embedder = self
            .embedder
            .as_ref()
            .ok_or_else(|| SearchError::Invalid("no embedding model is configured".into()))?;
        // As in a search: the index gives the stage's candidates, the best k of them count.
        let query = VectorQuery {
            model: embedder.key(),
            vector: embed_query(embedder.as_ref(), merchant, text).await?,
            limit: k.max(self.candidates) as i64,
            ef_search: self.ef_search,
            exact,
        };
        let mut ids = products::vector_candidates(&self.pool, merchant, query, &Default::default())
            .await
            .map_err(unavailable)?;
        ids.truncate(k);
        Ok(ids)
    }
}

/// The vector of a query text.
async fn embed_query(
    embedder: &dyn Embedder,
    merchant: MerchantId,
    text: &str,
) -> Result<Vec<f32>, SearchError> {
    embed_queries(embedder, merchant, &[text.to_string()])
        .await?
        .pop()
        .ok_or_else(|| SearchError::Unavailable("the embedder returned no vector".into()))
}

/// The vectors of query texts made in `merchant`'s store, in one call (the model runs them
/// side by side).
async fn embed_queries(
    embedder: &dyn Embedder,
    merchant: MerchantId,
    texts: &[String],
) -> Result<Vec<Vec<f32>>, SearchError> {
    let vectors = embedder
        .embed_queries_of(merchant, texts.to_vec())
        .await
        .map_err(|e| SearchError::Unavailable(e.to_string()))?;
    if vectors.len() != texts.len() {
        return Err(SearchError::Unavailable(
            "the embedder returned the wrong number of vectors".into(),
        ));
    }
    Ok(vectors)
}

/// A ranking: ids with fused scores, best first, and the rows read for the best of them.
struct Ranked {
    ids: Vec<(Uuid, f64)>,
    rows: HashMap<Uuid, StoredProduct>,
}

/// The label of a mode in metrics and reports.
pub fn mode_name(mode: SearchMode) -> &'static str {
    match mode {
        SearchMode::Hybrid => "hybrid",
        SearchMode::Vector => "vector",
        SearchMode::Text => "text",
    }
}

fn hit(p: StoredProduct, score: f64) -> ProductHit {
    let product = p.product;
    let money = |amount_minor| Money {
        amount_minor,
        currency: product.currency,
    };
    ProductHit {
        price: money(product.price_minor),
        compare_at_price: product.compare_at_minor.map(money),
        external_id: product.external_id,
        title: product.title,
        brand: product.brand,
        category: product.category,
        stock: product.stock,
        in_stock: product.in_stock,
        url: product.url,
        image_url: product.image_urls.into_iter().next(),
        score,
    }
}

impl CatalogSearch for PgCatalogSearch {
    fn search(
        &self,
        merchant: MerchantId,
        query: SearchQuery,
    ) -> PortFuture<Result<Vec<ProductHit>, SearchError>> {
        let this = self.clone();
        Box::pin(async move { this.run(merchant, query).await })
    }

    fn products(
        &self,
        merchant: MerchantId,
        external_ids: Vec<String>,
    ) -> PortFuture<Result<Vec<ProductDetail>, SearchError>> {
        let pool = self.pool.clone();
        Box::pin(async move {
            let stored = products::by_external_ids(&pool, merchant, &external_ids)
                .await
                .map_err(unavailable)?;
            Ok(stored
                .into_iter()
                .filter(|p| p.product.active)
                .map(detail)
                .collect())
        })
    }
}

/// A stored product as the agent sees it: variants priced (their own price or the product's).
fn detail(p: StoredProduct) -> ProductDetail {
    let product = p.product.clone();
    let money = |amount_minor| Money {
        amount_minor,
        currency: product.currency,
    };
    ProductDetail {
        description: product.description.clone(),
        tags: product.tags.clone(),
        attributes: product.attributes.clone(),
        variants: product
            .variants
            .iter()
            .map(|v| VariantDetail {
                sku: v.sku.clone(),
                attributes: v.attributes.clone(),
                price: money(v.price.unwrap_or(product.price_minor)),
                stock: v.stock,
            })
            .collect(),
        hit: hit(p, 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_rewards_agreement_between_the_lists() {
        let [a, b, c, d] = [1u128, 2, 3, 4].map(Uuid::from_u128);
        let fused = fuse(&[(vec![a, b, c], 1.0), (vec![c, d], 1.0)], 60.0);
        let order: Vec<Uuid> = fused.iter().map(|(id, _)| *id).collect();
        // c is in both lists; a leads one list only; d is second in one list.
        assert_eq!(order, vec![c, a, b, d]);
        // A lighter second list cannot lift its own first above the first list's first.
        let fused = fuse(&[(vec![a, b], 1.0), (vec![d, b], 0.5)], 60.0);
        assert_eq!(fused[0].0, b);
        assert_eq!(fused[1].0, a);
    }

    #[test]
    fn any_word_drops_operators() {
        assert_eq!(
            any_word("red \"running\" -shoes"),
            "red or running or shoes"
        );
        assert_eq!(any_word("  "), "");
    }
}
