//! Catalog ports: turning text into vectors (`Embedder`) and finding a merchant's products
//! (`CatalogSearch`). `agentpay` implements them (candle or OpenAI embeddings; pgvector and
//! Postgres full-text search); the engine only sees these traits.

use super::PortFuture;
use crate::ids::MerchantId;
use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why an embedding call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    /// The model is not available here (files missing, key missing); the message says how to fix it.
    #[error("embedding model unavailable: {0}")]
    Unavailable(String),
    /// The provider refused or failed the request; `retryable` when trying again later may work.
    #[error("embedding provider error: {message}")]
    Provider {
        /// What went wrong, in plain words.
        message: String,
        /// Rate limits, overload, timeouts and 5xx are retryable; bad requests are not.
        retryable: bool,
    },
    /// The model itself failed (tensor error, tokenizer error).
    #[error("embedding failed: {0}")]
    Model(String),
}

impl EmbedError {
    /// Whether retrying the same batch later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            EmbedError::Provider {
                retryable: true,
                ..
            }
        )
    }
}

/// What a text being embedded is: models trained for retrieval (e5) encode a search query and
/// a catalog passage differently ("query: " / "passage: "); symmetric models ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmbedKind {
    /// A visitor's search text.
    Query,
    /// A product's text, stored in the index.
    Passage,
}

/// Turns texts into unit-length vectors of a fixed dimension.
pub trait Embedder: Send + Sync + 'static {
    /// The stable key of this model and its dimension, stored with every vector (for example
    /// `minilm-l6-v2` or `openai-text-embedding-3-small-512`). Changing it re-embeds the catalog
    /// into a separate index; the old vectors stay until removed.
    fn key(&self) -> &str;
    /// Vector length.
    fn dimensions(&self) -> usize;
    /// Embeds `texts` (all of one `kind`) in order; the result has one vector per text.
    fn embed(
        &self,
        texts: Vec<String>,
        kind: EmbedKind,
    ) -> PortFuture<Result<Vec<Vec<f32>>, EmbedError>>;
    /// Embeds search queries made in `merchant`'s store. An embedder that caches query vectors
    /// keeps each merchant's apart, so how fast a search is never tells a merchant what
    /// another's visitors searched for; others embed as [`Embedder::embed`] does.
    fn embed_queries_of(
        &self,
        merchant: MerchantId,
        texts: Vec<String>,
    ) -> PortFuture<Result<Vec<Vec<f32>>, EmbedError>> {
        let _ = merchant;
        self.embed(texts, EmbedKind::Query)
    }
}

/// How a search ranks products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Vector similarity and full-text search fused by reciprocal rank fusion.
    #[default]
    Hybrid,
    /// Vector similarity only.
    Vector,
    /// Full-text search only.
    Text,
}

/// Constraints every result must meet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchFilters {
    /// Lowest price, in minor units of the catalog's currency (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<i64>,
    /// Highest price, in minor units (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<i64>,
    /// Category path prefix, matched case-insensitively level by level ("Shoes" or
    /// "Shoes > Running").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Exact brand, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Only products that can be bought now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
    /// Attribute values that must match (case-insensitive), such as `{"color": "red"}`; a
    /// variant's attributes count too.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// A search request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// What the visitor typed. Price phrases such as "under $50" become filters.
    pub text: String,
    /// Explicit constraints.
    pub filters: SearchFilters,
    /// At most this many results.
    pub limit: usize,
    /// The ranking.
    pub mode: SearchMode,
}

/// One product found, with the catalog's own price and stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductHit {
    /// The merchant's id for the product.
    pub external_id: String,
    /// Title.
    pub title: String,
    /// Brand, when known.
    pub brand: Option<String>,
    /// Category path.
    pub category: Vec<String>,
    /// The current price, from the catalog.
    pub price: Money,
    /// The "was" price, when the product is discounted.
    pub compare_at_price: Option<Money>,
    /// Units available, when tracked.
    pub stock: Option<i32>,
    /// Whether it can be bought now.
    pub in_stock: bool,
    /// The product page.
    pub url: Option<String>,
    /// The first image.
    pub image_url: Option<String>,
    /// Fused score (higher is better); comparable within one result list only.
    pub score: f64,
}

/// A variant of a product (a size, a colour), with its own stock and price when they differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantDetail {
    /// Its SKU.
    pub sku: String,
    /// What distinguishes it: `{"size": "M", "color": "red"}`.
    pub attributes: BTreeMap<String, String>,
    /// Its price, from the catalog (the product's when the variant has none of its own).
    pub price: Money,
    /// Units available, when tracked.
    pub stock: Option<i32>,
}

impl VariantDetail {
    /// Whether it can be bought now.
    pub fn available(&self) -> bool {
        self.stock.is_none_or(|s| s > 0)
    }

    /// Its attribute values joined ("M / black"), for people.
    pub fn label(&self) -> String {
        self.attributes
            .values()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// One product with everything the agent may quote about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDetail {
    /// The search result fields (price, stock, links).
    #[serde(flatten)]
    pub hit: ProductHit,
    /// The description.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Free-form attributes.
    pub attributes: BTreeMap<String, String>,
    /// Variants, in catalog order.
    pub variants: Vec<VariantDetail>,
}

/// Why a search failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// The request is invalid (message says which part).
    #[error("{0}")]
    Invalid(String),
    /// The catalog could not be searched now (database or embedder down).
    #[error("catalog search unavailable: {0}")]
    Unavailable(String),
}

/// Finds a merchant's products. Every call is scoped to one merchant.
pub trait CatalogSearch: Send + Sync + 'static {
    /// The best matches for `query` in `merchant`'s active catalog.
    fn search(
        &self,
        merchant: MerchantId,
        query: SearchQuery,
    ) -> PortFuture<Result<Vec<ProductHit>, SearchError>>;

    /// The active products of `merchant` among `external_ids`, in one lookup; ids the merchant
    /// does not sell (any more) are left out. Order is not guaranteed.
    fn products(
        &self,
        merchant: MerchantId,
        external_ids: Vec<String>,
    ) -> PortFuture<Result<Vec<ProductDetail>, SearchError>>;

    /// One active product of `merchant` by its external id; `None` when the merchant has no
    /// such product (or it is no longer sold).
    fn product(
        &self,
        merchant: MerchantId,
        external_id: String,
    ) -> PortFuture<Result<Option<ProductDetail>, SearchError>> {
        let found = self.products(merchant, vec![external_id]);
        Box::pin(async move { Ok(found.await?.into_iter().next()) })
    }
}
