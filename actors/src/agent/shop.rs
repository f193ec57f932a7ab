//! The shop operations every agent uses: search, product details, the cart, orders and handoff,
//! all scoped to the conversation's merchant ([`ToolContext`]) and acting on the turn's copy of
//! the session state. The model's tools ([`super::tools`]) wrap them as JSON; the offline agent
//! ([`super::rules`]) calls them directly. Both get the same validation: a product must be the
//! merchant's and on sale, a variant must exist, stock must cover the quantity, and prices are
//! always the catalog's.

use super::tools::ToolContext;
use crate::cart::{CartError, CartLine, MAX_QUANTITY};
use crate::conversation::{SessionState, ShownProduct};
use crate::money::Money;
use crate::ports::catalog::{
    ProductDetail, ProductHit, SearchError, SearchFilters, SearchMode, SearchQuery, VariantDetail,
};
use crate::ports::store::PersistError;
use crate::ports::support::{HandoffRequest, OrderSummary};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A product card: a search result, with the variant that matches what the visitor asked for
/// (a size, a colour), when they asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// The product, with the catalog's price and stock.
    #[serde(flatten)]
    pub hit: ProductHit,
    /// The matching variant.
    pub variant: Option<VariantDetail>,
}

/// A search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRequest {
    /// Product words.
    pub text: String,
    /// Lowest price, minor units.
    pub min_price: Option<i64>,
    /// Highest price, minor units.
    pub max_price: Option<i64>,
    /// A colour (soft: it ranks, it does not filter).
    pub colour: Option<String>,
    /// A size every result must come in.
    pub size: Option<String>,
    /// Most results.
    pub limit: usize,
}

/// Adding to the cart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddRequest {
    /// The product.
    pub external_id: String,
    /// Units (at least 1).
    pub quantity: u32,
    /// The variant's SKU, when known.
    pub sku: Option<String>,
    /// The size wanted.
    pub size: Option<String>,
    /// The colour wanted.
    pub colour: Option<String>,
    /// True: the line ends with `quantity` units; false: `quantity` more.
    pub set: bool,
}

/// Why an item could not go in the cart; the cart is unchanged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum AddRefusal {
    /// The merchant sells no such product (or no longer does).
    NotFound,
    /// The product has variants and the request does not say which.
    NeedsVariant {
        /// The product.
        title: String,
        /// The attribute to choose (`size`, `color`).
        dimension: String,
        /// The values in stock.
        options: Vec<String>,
    },
    /// No variant matches what was asked.
    NoSuchVariant {
        /// The product.
        title: String,
        /// What was asked.
        wanted: String,
        /// The values that exist.
        options: Vec<String>,
    },
    /// Out of stock.
    OutOfStock {
        /// The product (and variant).
        title: String,
    },
    /// Fewer units in stock than asked.
    NotEnoughStock {
        /// The product (and variant).
        title: String,
        /// Units left.
        available: u32,
    },
    /// The cart refused (too many lines or units, another currency, zero units).
    Cart {
        /// Why.
        message: String,
    },
    /// The catalog could not be read.
    Unavailable {
        /// Why.
        message: String,
    },
}

/// Taking something out of the cart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveRequest {
    /// The product (any of its variants unless `sku`).
    pub external_id: Option<String>,
    /// The variant.
    pub sku: Option<String>,
    /// Remove this many units (the whole line when `None` and `keep` is `None`).
    pub quantity: Option<u32>,
    /// Keep this many units.
    pub keep: Option<u32>,
    /// Empty the whole cart.
    pub all: bool,
}

/// What a removal did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RemoveOutcome {
    /// A line went.
    Removed {
        /// Its line.
        line: CartLine,
    },
    /// A line has fewer units now.
    Reduced {
        /// The line after.
        line: CartLine,
    },
    /// Every line went.
    Emptied,
    /// That product is not in the cart.
    NotInCart,
    /// The cart was empty.
    AlreadyEmpty,
}

/// A change the catalog made to the cart since a line was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum CartNotice {
    /// The price changed; the line now has the catalog's price.
    Repriced {
        /// The line's title.
        title: String,
        /// The price when added.
        old: Money,
        /// The catalog's price now.
        new: Money,
    },
    /// The product (or variant) is no longer sold and left the cart.
    Removed {
        /// The line's title.
        title: String,
    },
    /// Fewer units are in stock than the line held; it was lowered.
    Lowered {
        /// The line's title.
        title: String,
        /// Units now.
        quantity: u32,
    },
}

impl ToolContext {
    /// Searches the catalog and remembers the results as the products last shown.
    pub async fn search(
        &self,
        state: &mut SessionState,
        req: SearchRequest,
    ) -> Result<Vec<Card>, SearchError> {
        let mut filters = SearchFilters {
            min_price: req.min_price,
            max_price: req.max_price,
            ..SearchFilters::default()
        };
        if let Some(size) = &req.size {
            filters.attributes.insert("size".into(), size.clone());
        }
        let mut text = req.text.clone();
        if let Some(c) = &req.colour
            && !text.contains(c.as_str())
        {
            text = format!("{text} {c}").trim().to_string();
        }
        let query = SearchQuery {
            text,
            filters,
            limit: req.limit.max(1),
            mode: SearchMode::Hybrid,
        };
        let mut hits = self.catalog.search(self.merchant, query).await?;
        // What can be bought first, in the search's order otherwise.
        hits.sort_by_key(|h| !h.in_stock);
        // The variants of every hit, in one lookup, when a size or colour was asked.
        let details = if req.size.is_some() || req.colour.is_some() {
            self.details(hits.iter().map(|h| h.external_id.clone()).collect())
                .await?
        } else {
            HashMap::new()
        };
        let mut cards = Vec::with_capacity(hits.len());
        for hit in hits {
            let detail = details.get(&hit.external_id);
            let variant = detail.and_then(|d| {
                matching_variants(d, None, req.size.as_deref(), req.colour.as_deref())
                    .into_iter()
                    .find(|v| v.available())
                    .cloned()
            });
            let colours = detail.map(colours_of).unwrap_or_default();
            cards.push((Card { hit, variant }, colours));
        }
        state.show(
            cards
                .iter()
                .map(|(c, colours)| ShownProduct {
                    external_id: c.hit.external_id.clone(),
                    title: c.hit.title.clone(),
                    price: c.hit.price,
                    colours: colours.clone(),
                })
                .collect(),
        );
        if !req.text.is_empty() {
            state.last_query = Some(req.text);
        }
        // A new list is what "this one" now points at, not a product discussed before it.
        if !cards.is_empty() {
            state.focus = None;
        }
        Ok(cards.into_iter().map(|(c, _)| c).collect())
    }

    /// One of the merchant's products, for details; it becomes the product in focus.
    pub async fn product(
        &self,
        state: &mut SessionState,
        external_id: &str,
    ) -> Result<Option<ProductDetail>, SearchError> {
        let found = self
            .catalog
            .product(self.merchant, external_id.to_string())
            .await?;
        if let Some(p) = &found {
            state.focus = Some(p.hit.external_id.clone());
        }
        Ok(found)
    }

    /// Puts a product in the cart, after checking it is the merchant's, on sale, the variant
    /// exists and stock covers the quantity. Returns the line as it is now.
    pub async fn add_to_cart(
        &self,
        state: &mut SessionState,
        req: AddRequest,
    ) -> Result<CartLine, AddRefusal> {
        let product = self
            .catalog
            .product(self.merchant, req.external_id.clone())
            .await
            .map_err(|e| AddRefusal::Unavailable {
                message: e.to_string(),
            })?
            .ok_or(AddRefusal::NotFound)?;
        let title = product.hit.title.clone();
        let quantity = req.quantity.max(1);
        let (sku, variant_label, price, stock) = if product.variants.is_empty() {
            if !product.hit.in_stock {
                return Err(AddRefusal::OutOfStock { title });
            }
            (None, None, product.hit.price, product.hit.stock)
        } else {
            let v = choose_variant(&product, &req)?;
            (Some(v.sku.clone()), Some(v.label()), v.price, v.stock)
        };
        let shown_title = match &variant_label {
            Some(l) => format!("{title} ({l})"),
            None => title.clone(),
        };
        let existing = state
            .cart
            .lines
            .iter()
            .find(|l| l.external_id == product.hit.external_id && l.sku == sku)
            .map_or(0, |l| l.quantity);
        let total = if req.set {
            quantity
        } else {
            existing.saturating_add(quantity)
        };
        if total > MAX_QUANTITY {
            return Err(AddRefusal::Cart {
                message: CartError::TooLarge.to_string(),
            });
        }
        if let Some(stock) = stock {
            let stock = u32::try_from(stock.max(0)).unwrap_or(0);
            if stock == 0 {
                return Err(AddRefusal::OutOfStock { title: shown_title });
            }
            if total > stock {
                return Err(AddRefusal::NotEnoughStock {
                    title: shown_title,
                    available: stock,
                });
            }
        }
        let line = CartLine {
            external_id: product.hit.external_id.clone(),
            sku: sku.clone(),
            title,
            variant: variant_label,
            quantity: total,
            unit_price: price,
        };
        let result = if existing > 0 {
            state
                .cart
                .set_quantity(&line.external_id, sku.as_deref(), total)
                .map(|_| {
                    // The line takes the catalog's latest price.
                    if let Some(l) = state
                        .cart
                        .lines
                        .iter_mut()
                        .find(|l| l.external_id == line.external_id && l.sku == line.sku)
                    {
                        l.unit_price = price;
                    }
                })
        } else {
            state.cart.add(line.clone())
        };
        result.map_err(|e| AddRefusal::Cart {
            message: e.to_string(),
        })?;
        state.focus = Some(line.external_id.clone());
        Ok(line)
    }

    /// Takes something out of the cart.
    pub fn remove_from_cart(&self, state: &mut SessionState, req: RemoveRequest) -> RemoveOutcome {
        if state.cart.is_empty() {
            return RemoveOutcome::AlreadyEmpty;
        }
        if req.all {
            state.cart.lines.clear();
            return RemoveOutcome::Emptied;
        }
        let Some(i) = state.cart.lines.iter().position(|l| {
            req.external_id
                .as_deref()
                .is_none_or(|id| l.external_id == id)
                && req
                    .sku
                    .as_deref()
                    .is_none_or(|s| l.sku.as_deref() == Some(s))
        }) else {
            return RemoveOutcome::NotInCart;
        };
        if req.external_id.is_none() && req.sku.is_none() && state.cart.lines.len() > 1 {
            // Which line is meant is not said and there are several.
            return RemoveOutcome::NotInCart;
        }
        let line = state.cart.lines[i].clone();
        let keep = match (req.keep, req.quantity) {
            (Some(k), _) => k,
            (None, Some(q)) => line.quantity.saturating_sub(q),
            (None, None) => 0,
        };
        if keep == 0 || keep >= line.quantity && req.keep.is_none() {
            state.cart.lines.remove(i);
            RemoveOutcome::Removed { line }
        } else {
            let keep = keep.min(line.quantity);
            state.cart.lines[i].quantity = keep;
            RemoveOutcome::Reduced {
                line: state.cart.lines[i].clone(),
            }
        }
    }

    /// Checks every cart line against the catalog: a product no longer sold leaves the cart, a
    /// new price replaces the old one, a line above the stock is lowered. Each change is
    /// reported, never kept silently. A catalog that cannot be read changes nothing.
    pub async fn refresh_cart(&self, state: &mut SessionState) -> Vec<CartNotice> {
        if state.cart.is_empty() {
            return Vec::new();
        }
        let ids = state
            .cart
            .lines
            .iter()
            .map(|l| l.external_id.clone())
            .collect();
        let Ok(found) = self.details(ids).await else {
            return Vec::new();
        };
        let mut notices = Vec::new();
        let mut keep = Vec::with_capacity(state.cart.lines.len());
        for mut line in std::mem::take(&mut state.cart.lines) {
            let current = found.get(&line.external_id).and_then(|p| match &line.sku {
                None if p.variants.is_empty() => Some((
                    p.hit.price,
                    if p.hit.in_stock { p.hit.stock } else { Some(0) },
                )),
                None => None,
                Some(sku) => p
                    .variants
                    .iter()
                    .find(|v| &v.sku == sku)
                    .map(|v| (v.price, v.stock)),
            });
            let label = line_label(&line);
            match current {
                None | Some((_, Some(0))) => notices.push(CartNotice::Removed { title: label }),
                Some((price, stock)) => {
                    if price != line.unit_price {
                        notices.push(CartNotice::Repriced {
                            title: label.clone(),
                            old: line.unit_price,
                            new: price,
                        });
                        line.unit_price = price;
                    }
                    if let Some(s) = stock
                        && let Ok(s) = u32::try_from(s)
                        && s < line.quantity
                    {
                        line.quantity = s;
                        notices.push(CartNotice::Lowered {
                            title: label,
                            quantity: s,
                        });
                    }
                    keep.push(line);
                }
            }
        }
        state.cart.lines = keep;
        notices
    }

    /// The merchant's products among `ids` (repeats allowed), by external id, in one lookup.
    pub async fn details(
        &self,
        mut ids: Vec<String>,
    ) -> Result<HashMap<String, ProductDetail>, SearchError> {
        ids.sort_unstable();
        ids.dedup();
        let found = self.catalog.products(self.merchant, ids).await?;
        Ok(found
            .into_iter()
            .map(|p| (p.hit.external_id.clone(), p))
            .collect())
    }

    /// An order of the merchant by number; `None` when there is no such order (or orders are
    /// not kept here yet).
    pub async fn order_status(&self, number: &str) -> Result<Option<OrderSummary>, PersistError> {
        match &self.orders {
            Some(book) => book.find(self.merchant, number.to_string()).await,
            None => Ok(None),
        }
    }

    /// Records that the visitor asked for a person.
    pub async fn request_handoff(
        &self,
        reason: &str,
        message: &str,
        lang: &str,
    ) -> Result<(), PersistError> {
        self.desk
            .request_handoff(HandoffRequest {
                merchant: self.merchant,
                conversation: self.conversation,
                reason: reason.to_string(),
                message: message.chars().take(2000).collect(),
                lang: lang.to_string(),
            })
            .await
    }
}

/// A cart line's title with its variant, for people.
pub fn line_label(line: &CartLine) -> String {
    match &line.variant {
        Some(v) => format!("{} ({v})", line.title),
        None => line.title.clone(),
    }
}

/// The colours a product comes in (its variants' and its own attribute).
pub fn colours_of(p: &ProductDetail) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let own = p
        .attributes
        .get("color")
        .or_else(|| p.attributes.get("colour"));
    for c in own.into_iter().chain(p.variants.iter().filter_map(|v| {
        v.attributes
            .get("color")
            .or_else(|| v.attributes.get("colour"))
    })) {
        let c = c.to_lowercase();
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The variants matching the SKU, size and colour asked (each when given).
pub fn matching_variants<'a>(
    p: &'a ProductDetail,
    sku: Option<&str>,
    size: Option<&str>,
    colour: Option<&str>,
) -> Vec<&'a VariantDetail> {
    let attr = |v: &VariantDetail, keys: &[&str]| {
        keys.iter()
            .find_map(|k| v.attributes.get(*k))
            .map(|s| s.to_lowercase())
    };
    p.variants
        .iter()
        .filter(|v| sku.is_none_or(|s| v.sku.eq_ignore_ascii_case(s)))
        .filter(|v| size.is_none_or(|s| attr(v, &["size"]).is_some_and(|a| a == s.to_lowercase())))
        .filter(|v| {
            colour.is_none_or(|c| {
                attr(v, &["color", "colour"])
                    .is_some_and(|a| a == c.to_lowercase() || a.contains(&c.to_lowercase()))
            })
        })
        .collect()
}

/// The values of `key` among `variants`, in catalog order, without repeats.
fn values(variants: &[&VariantDetail], key: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in variants {
        if let Some(x) = v.attributes.get(key)
            && !out.contains(x)
        {
            out.push(x.clone());
        }
    }
    out
}

/// The variant an add means, or why it is not clear.
fn choose_variant<'a>(
    p: &'a ProductDetail,
    req: &AddRequest,
) -> Result<&'a VariantDetail, AddRefusal> {
    let title = p.hit.title.clone();
    let all: Vec<&VariantDetail> = p.variants.iter().collect();
    let candidates = matching_variants(
        p,
        req.sku.as_deref(),
        req.size.as_deref(),
        req.colour.as_deref(),
    );
    if candidates.is_empty() {
        let (key, wanted) = match (&req.size, &req.colour) {
            (Some(s), _) => ("size", s.clone()),
            (None, Some(c)) => ("color", c.clone()),
            _ => ("sku", req.sku.clone().unwrap_or_default()),
        };
        return Err(AddRefusal::NoSuchVariant {
            title,
            wanted,
            options: values(&all, key),
        });
    }
    if candidates.len() == 1 {
        let v = candidates[0];
        return if v.available() {
            Ok(v)
        } else {
            Err(AddRefusal::OutOfStock {
                title: format!("{title} ({})", v.label()),
            })
        };
    }
    let in_stock: Vec<&VariantDetail> = candidates
        .iter()
        .copied()
        .filter(|v| v.available())
        .collect();
    if in_stock.is_empty() {
        return Err(AddRefusal::OutOfStock { title });
    }
    // Several match: name the attribute that tells them apart.
    let keys: Vec<&String> = in_stock[0].attributes.keys().collect();
    let dimension = keys
        .iter()
        .find(|k| values(&in_stock, k).len() > 1)
        .map(|k| (*k).clone());
    match dimension {
        Some(dimension) => Err(AddRefusal::NeedsVariant {
            title,
            options: values(&in_stock, &dimension),
            dimension,
        }),
        // Identical attributes: any of them will do.
        None => Ok(in_stock[0]),
    }
}
