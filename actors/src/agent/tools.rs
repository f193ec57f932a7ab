//! Tools a turn may call. Each is scoped to the conversation's merchant (the [`ToolContext`])
//! and acts on the turn's own copy of the session state, which the conversation persists with
//! the reply only when the turn ends; a tool never writes anywhere else before the visitor's
//! message is durable (the turn waits for the commit before its first tool call).
//!
//! The model-driven agent offers the tools' JSON Schemas to the model; the offline agent (#13)
//! calls the same tools directly. Both see the same [`ToolOutput`]: a JSON result for the model
//! and the events (product cards, cart changes) for the visitor.

use super::events::AgentEvent;
use crate::conversation::{SessionState, ShownProduct};
use crate::ids::MerchantId;
use crate::ports::catalog::{CatalogSearch, SearchFilters, SearchMode, SearchQuery};
use crate::ports::model::{ToolCall, ToolSpec};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use std::sync::Arc;

/// Most products one search returns to the model.
const MAX_SEARCH_RESULTS: usize = 8;

/// What every tool call may use.
#[derive(Clone)]
pub struct ToolContext {
    /// The conversation's merchant: every lookup is scoped to it.
    pub merchant: MerchantId,
    /// The merchant's catalog.
    pub catalog: Arc<dyn CatalogSearch>,
}

/// The result of a tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The result for the model (JSON).
    pub content: Value,
    /// True when the call failed; `content` says why in plain words.
    pub is_error: bool,
    /// What the visitor should see because of the call.
    pub events: Vec<AgentEvent>,
}

impl ToolOutput {
    /// A failed call with `message` for the model.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            content: json!({"error": message.into()}),
            is_error: true,
            events: Vec::new(),
        }
    }
}

/// A tool.
pub trait Tool: Send + Sync + 'static {
    /// Its name, description and input schema, as offered to the model.
    fn spec(&self) -> ToolSpec;
    /// Runs it with `input` (the model's or the rules' JSON object) on the turn's `state`.
    fn call<'a>(
        &'a self,
        ctx: &'a ToolContext,
        input: Value,
        state: &'a mut SessionState,
    ) -> BoxFuture<'a, ToolOutput>;
}

/// The tools a turn may call, by name.
#[derive(Clone, Default)]
pub struct Toolbox {
    /// In the order they are offered, each with its spec, built once here rather than on every
    /// model call and tool lookup.
    tools: Vec<(ToolSpec, Arc<dyn Tool>)>,
}

impl Toolbox {
    /// No tools: the model only talks.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The shopping tools available today: product search and the cart view.
    pub fn standard() -> Self {
        Self::empty()
            .with(Arc::new(SearchProducts))
            .with(Arc::new(ViewCart))
    }

    /// Adds `tool` (replacing one of the same name).
    pub fn with(mut self, tool: Arc<dyn Tool>) -> Self {
        let spec = tool.spec();
        self.tools.retain(|(s, _)| s.name != spec.name);
        self.tools.push((spec, tool));
        self
    }

    /// True when there is no tool.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// The specs offered to the model.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools.iter().map(|(s, _)| s.clone()).collect()
    }

    /// Runs `call`; an unknown tool or an input that is not an object is a failed call the
    /// model can read, never a failed turn.
    pub async fn call(
        &self,
        ctx: &ToolContext,
        call: &ToolCall,
        state: &mut SessionState,
    ) -> ToolOutput {
        let Some((_, tool)) = self.tools.iter().find(|(s, _)| s.name == call.name) else {
            return ToolOutput::error(format!("there is no tool named {:?}", call.name));
        };
        if !call.input.is_object() {
            return ToolOutput::error("the tool input must be a JSON object");
        }
        tool.call(ctx, call.input.clone(), state).await
    }
}

/// `search_products`: the merchant's hybrid catalog search.
pub struct SearchProducts;

impl Tool for SearchProducts {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "search_products".into(),
            description: "Search the store's catalog. Put what the visitor wants in `query`, \
                          including price limits in words (\"rain jacket under 150\"). Returns \
                          products with their exact catalog prices; only ever quote these."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for."},
                    "category": {"type": "string", "description": "Optional category path prefix."},
                    "in_stock": {"type": "boolean", "description": "Only products in stock."}
                },
                "required": ["query"]
            }),
        }
    }

    fn call<'a>(
        &'a self,
        ctx: &'a ToolContext,
        input: Value,
        state: &'a mut SessionState,
    ) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let Some(text) = input
                .get("query")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|q| !q.is_empty())
            else {
                return ToolOutput::error("`query` must be a non-empty string");
            };
            let filters = SearchFilters {
                category: input
                    .get("category")
                    .and_then(Value::as_str)
                    .map(String::from),
                in_stock: input.get("in_stock").and_then(Value::as_bool),
                ..SearchFilters::default()
            };
            let query = SearchQuery {
                text: text.to_string(),
                filters,
                limit: MAX_SEARCH_RESULTS,
                mode: SearchMode::Hybrid,
            };
            let hits = match ctx.catalog.search(ctx.merchant, query).await {
                Ok(hits) => hits,
                Err(e) => return ToolOutput::error(format!("the catalog search failed: {e}")),
            };
            state.show(
                hits.iter()
                    .map(|h| ShownProduct {
                        external_id: h.external_id.clone(),
                        title: h.title.clone(),
                        price: h.price,
                    })
                    .collect(),
            );
            let products: Vec<Value> = hits
                .iter()
                .map(|h| {
                    json!({
                        "external_id": h.external_id,
                        "title": h.title,
                        "brand": h.brand,
                        "price": h.price.to_string(),
                        "in_stock": h.in_stock,
                    })
                })
                .collect();
            ToolOutput {
                content: json!({ "products": products }),
                is_error: false,
                events: if hits.is_empty() {
                    Vec::new()
                } else {
                    vec![AgentEvent::ProductsShown(hits)]
                },
            }
        })
    }
}

/// `view_cart`: what the visitor's cart holds, with the catalog's prices and the total.
pub struct ViewCart;

impl Tool for ViewCart {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "view_cart".into(),
            description: "The visitor's cart: each line with its quantity and catalog price, \
                          and the total."
                .into(),
            input_schema: json!({"type": "object", "properties": {}}),
        }
    }

    fn call<'a>(
        &'a self,
        _ctx: &'a ToolContext,
        _input: Value,
        state: &'a mut SessionState,
    ) -> BoxFuture<'a, ToolOutput> {
        let cart = &state.cart;
        let lines: Vec<Value> = cart
            .lines
            .iter()
            .map(|l| {
                json!({
                    "external_id": l.external_id,
                    "sku": l.sku,
                    "title": l.title,
                    "quantity": l.quantity,
                    "unit_price": l.unit_price.to_string(),
                    "line_total": l.line_total().map(|m| m.to_string()),
                })
            })
            .collect();
        let content = json!({
            "lines": lines,
            "total": cart.total().map(|m| m.to_string()),
        });
        Box::pin(async move {
            ToolOutput {
                content,
                is_error: false,
                events: Vec::new(),
            }
        })
    }
}
