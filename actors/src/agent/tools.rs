//! Tools a turn may call. Each is scoped to the conversation's merchant (the [`ToolContext`])
//! and acts on the turn's own copy of the session state, which the conversation persists with
//! the reply only when the turn ends; a tool never writes anywhere else before the visitor's
//! message is durable (the turn waits for the commit before its first tool call).
//!
//! The model-driven agent offers the tools' JSON Schemas to the model; each tool wraps one of
//! the shop operations ([`super::shop`]) that the offline agent calls directly, so both get the
//! same validation. A tool returns a JSON result for the model and the events (product cards,
//! cart changes) for the visitor.

use super::events::AgentEvent;
use super::shop::{AddRequest, RemoveOutcome, RemoveRequest, SearchRequest, line_label};
use crate::conversation::SessionState;
use crate::ids::{ConversationId, MerchantId};
use crate::ports::catalog::CatalogSearch;
use crate::ports::model::{ToolCall, ToolSpec};
use crate::ports::support::{OrderBook, SupportDesk};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use std::sync::Arc;

/// Most products one search returns.
pub const MAX_SEARCH_RESULTS: usize = 6;

/// What every tool call may use.
#[derive(Clone)]
pub struct ToolContext {
    /// The conversation's merchant: every lookup is scoped to it.
    pub merchant: MerchantId,
    /// The conversation.
    pub conversation: ConversationId,
    /// The merchant's catalog.
    pub catalog: Arc<dyn CatalogSearch>,
    /// Where handoff requests go.
    pub desk: Arc<dyn SupportDesk>,
    /// The merchant's orders.
    pub orders: Option<Arc<dyn OrderBook>>,
    /// The payment provider; `None` when checkout is not configured.
    pub payments: Option<Arc<dyn crate::ports::payments::PaymentGateway>>,
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

    /// The shopping tools: search, product details, the cart, checkout, orders and handoff.
    pub fn standard() -> Self {
        Self::empty()
            .with(Arc::new(SearchProducts))
            .with(Arc::new(GetProduct))
            .with(Arc::new(AddToCart))
            .with(Arc::new(RemoveFromCart))
            .with(Arc::new(ViewCart))
            .with(Arc::new(StartCheckout))
            .with(Arc::new(OrderStatus))
            .with(Arc::new(RequestHuman))
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

fn str_arg<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A price argument in major units (`149.99`) as minor units.
fn price_arg(input: &Value, key: &str) -> Option<i64> {
    input
        .get(key)
        .and_then(Value::as_f64)
        .filter(|p| p.is_finite() && *p >= 0.0 && *p < 1e10)
        .map(|p| (p * 100.0).round() as i64)
}

fn quantity_arg(input: &Value, key: &str) -> Result<Option<u32>, ToolOutput> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|q| u32::try_from(q).ok())
            .filter(|q| (1..=crate::cart::MAX_QUANTITY).contains(q))
            .map(Some)
            .ok_or_else(|| {
                ToolOutput::error(format!(
                    "`{key}` must be a whole number from 1 to {}",
                    crate::cart::MAX_QUANTITY
                ))
            }),
    }
}

/// The cart as the model reads it.
pub fn cart_json(state: &SessionState) -> Value {
    let cart = &state.cart;
    let lines: Vec<Value> = cart
        .lines
        .iter()
        .map(|l| {
            json!({
                "external_id": l.external_id,
                "sku": l.sku,
                "title": line_label(l),
                "quantity": l.quantity,
                "unit_price": l.unit_price.to_string(),
                "line_total": l.line_total().map(|m| m.to_string()),
            })
        })
        .collect();
    json!({"lines": lines, "total": cart.total().map(|m| m.to_string())})
}

fn ok(content: Value, events: Vec<AgentEvent>) -> ToolOutput {
    ToolOutput {
        content,
        is_error: false,
        events,
    }
}

/// `search_products`: the merchant's hybrid catalog search.
pub struct SearchProducts;

impl Tool for SearchProducts {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "search_products".into(),
            description: "Search the store's catalog. Returns products with their exact catalog \
                          prices and stock; only ever quote these."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for, in the catalog's words."},
                    "max_price": {"type": "number", "description": "Highest price, in the store's currency."},
                    "min_price": {"type": "number", "description": "Lowest price, in the store's currency."},
                    "color": {"type": "string"},
                    "size": {"type": "string", "description": "A size every result must come in."}
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
            let Some(text) = str_arg(&input, "query") else {
                return ToolOutput::error("`query` must be a non-empty string");
            };
            let req = SearchRequest {
                text: text.to_string(),
                min_price: price_arg(&input, "min_price"),
                max_price: price_arg(&input, "max_price"),
                colour: str_arg(&input, "color").map(str::to_lowercase),
                size: str_arg(&input, "size").map(str::to_uppercase),
                limit: MAX_SEARCH_RESULTS,
            };
            let cards = match ctx.search(state, req).await {
                Ok(cards) => cards,
                Err(e) => return ToolOutput::error(format!("the catalog search failed: {e}")),
            };
            let products: Vec<Value> = cards
                .iter()
                .map(|c| {
                    json!({
                        "external_id": c.hit.external_id,
                        "title": c.hit.title,
                        "brand": c.hit.brand,
                        "price": c.hit.price.to_string(),
                        "in_stock": c.hit.in_stock,
                        "variant": c.variant.as_ref().map(|v| v.label()),
                    })
                })
                .collect();
            let events = if cards.is_empty() {
                Vec::new()
            } else {
                vec![AgentEvent::ProductsShown(cards)]
            };
            ok(json!({ "products": products }), events)
        })
    }
}

/// `get_product`: one product's details.
pub struct GetProduct;

impl Tool for GetProduct {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "get_product".into(),
            description: "One product's details: description, attributes, variants with stock, \
                          price."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {"external_id": {"type": "string"}},
                "required": ["external_id"]
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
            let Some(id) = str_arg(&input, "external_id") else {
                return ToolOutput::error("`external_id` must be a non-empty string");
            };
            match ctx.product(state, id).await {
                Ok(Some(p)) => ok(
                    json!({
                        "external_id": p.hit.external_id,
                        "title": p.hit.title,
                        "brand": p.hit.brand,
                        "price": p.hit.price.to_string(),
                        "in_stock": p.hit.in_stock,
                        "description": p.description,
                        "attributes": p.attributes,
                        "variants": p.variants.iter().map(|v| json!({
                            "sku": v.sku, "attributes": v.attributes,
                            "price": v.price.to_string(), "in_stock": v.available(),
                        })).collect::<Vec<_>>(),
                    }),
                    Vec::new(),
                ),
                Ok(None) => ToolOutput::error(format!("this store has no product {id:?}")),
                Err(e) => ToolOutput::error(format!("the catalog could not be read: {e}")),
            }
        })
    }
}

/// `add_to_cart`: adds a product (and variant) at the catalog's price.
pub struct AddToCart;

impl Tool for AddToCart {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "add_to_cart".into(),
            description: "Add a product to the visitor's cart (or set its quantity). The price \
                          is always the catalog's."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "external_id": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 99},
                    "size": {"type": "string"},
                    "color": {"type": "string"},
                    "sku": {"type": "string"},
                    "set_quantity": {"type": "boolean", "description": "True: the line ends with exactly `quantity` units."}
                },
                "required": ["external_id"]
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
            let Some(id) = str_arg(&input, "external_id") else {
                return ToolOutput::error("`external_id` must be a non-empty string");
            };
            let quantity = match quantity_arg(&input, "quantity") {
                Ok(q) => q.unwrap_or(1),
                Err(e) => return e,
            };
            let req = AddRequest {
                external_id: id.to_string(),
                quantity,
                sku: str_arg(&input, "sku").map(String::from),
                size: str_arg(&input, "size").map(str::to_uppercase),
                colour: str_arg(&input, "color").map(str::to_lowercase),
                set: input
                    .get("set_quantity")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            };
            match ctx.add_to_cart(state, req).await {
                Ok(_) => ok(
                    cart_json(state),
                    vec![AgentEvent::CartChanged(state.cart.clone())],
                ),
                Err(refusal) => ToolOutput {
                    content: json!({"error": refusal}),
                    is_error: true,
                    events: Vec::new(),
                },
            }
        })
    }
}

/// `remove_from_cart`: removes a line, lowers a quantity, or empties the cart.
pub struct RemoveFromCart;

impl Tool for RemoveFromCart {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "remove_from_cart".into(),
            description: "Remove a product from the cart, lower its quantity, or empty the cart."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "external_id": {"type": "string"},
                    "sku": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1, "description": "Units to remove; all when absent."},
                    "all": {"type": "boolean", "description": "Empty the whole cart."}
                }
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
            let quantity = match quantity_arg(&input, "quantity") {
                Ok(q) => q,
                Err(e) => return e,
            };
            let all = input.get("all").and_then(Value::as_bool).unwrap_or(false);
            let external_id = str_arg(&input, "external_id").map(String::from);
            if external_id.is_none() && !all {
                return ToolOutput::error("give `external_id`, or `all`: true to empty the cart");
            }
            let outcome = ctx.remove_from_cart(
                state,
                RemoveRequest {
                    external_id,
                    sku: str_arg(&input, "sku").map(String::from),
                    quantity,
                    keep: None,
                    all,
                },
            );
            let changed = matches!(
                outcome,
                RemoveOutcome::Removed { .. }
                    | RemoveOutcome::Reduced { .. }
                    | RemoveOutcome::Emptied
            );
            let mut content = cart_json(state);
            content["result"] = json!(outcome);
            ok(
                content,
                if changed {
                    vec![AgentEvent::CartChanged(state.cart.clone())]
                } else {
                    Vec::new()
                },
            )
        })
    }
}

/// `view_cart`: the cart, checked against the catalog (changes are reported).
pub struct ViewCart;

impl Tool for ViewCart {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "view_cart".into(),
            description: "The visitor's cart: each line with its quantity and catalog price, \
                          and the total. Lines whose product changed are reported."
                .into(),
            input_schema: json!({"type": "object", "properties": {}}),
        }
    }

    fn call<'a>(
        &'a self,
        ctx: &'a ToolContext,
        _input: Value,
        state: &'a mut SessionState,
    ) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let notices = ctx.refresh_cart(state).await;
            let mut content = cart_json(state);
            content["changes"] = json!(notices);
            ok(
                content,
                if notices.is_empty() {
                    Vec::new()
                } else {
                    vec![AgentEvent::CartChanged(state.cart.clone())]
                },
            )
        })
    }
}

/// `start_checkout`: a payment link for the cart, once checkout is configured (#15).
pub struct StartCheckout;

/// What `start_checkout` says while no payment provider is configured.
pub const CHECKOUT_NOT_CONFIGURED: &str = "checkout is not configured for this store";

impl Tool for StartCheckout {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "start_checkout".into(),
            description: "Start paying for the cart: returns a payment link.".into(),
            input_schema: json!({"type": "object", "properties": {}}),
        }
    }

    fn call<'a>(
        &'a self,
        ctx: &'a ToolContext,
        _input: Value,
        state: &'a mut SessionState,
    ) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            // The cart is checked against the catalog first: repriced, withdrawn and
            // over-stock lines are fixed and reported, so the order charges today's prices.
            let notices = ctx.refresh_cart(state).await;
            let mut events = Vec::new();
            if !notices.is_empty() {
                events.push(AgentEvent::CartChanged(state.cart.clone()));
            }
            if state.cart.is_empty() {
                let mut out = ToolOutput::error("the cart is empty");
                out.content["changes"] = json!(notices);
                out.events = events;
                return out;
            }
            let Some(payments) = &ctx.payments else {
                return ToolOutput::error(CHECKOUT_NOT_CONFIGURED);
            };
            match payments
                .start_checkout(ctx.merchant, ctx.conversation, state.cart.clone())
                .await
            {
                Ok(link) => {
                    let content = json!({
                        "order_number": link.number,
                        "total": link.total.to_string(),
                        "payment_link": "shown to the visitor as a button",
                        "changes": notices,
                    });
                    events.push(AgentEvent::CheckoutStarted(link));
                    ok(content, events)
                }
                Err(e) => ToolOutput::error(e.to_string()),
            }
        })
    }
}

/// `order_status`: an order by its number.
pub struct OrderStatus;

impl Tool for OrderStatus {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "order_status".into(),
            description: "Where an order stands, by its order number.".into(),
            input_schema: json!({
                "type": "object",
                "properties": {"order_number": {"type": "string"}},
                "required": ["order_number"]
            }),
        }
    }

    fn call<'a>(
        &'a self,
        ctx: &'a ToolContext,
        input: Value,
        _state: &'a mut SessionState,
    ) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let Some(number) = str_arg(&input, "order_number") else {
                return ToolOutput::error("`order_number` must be a non-empty string");
            };
            match ctx.order_status(number).await {
                Ok(Some(order)) => ok(json!({"order": order}), Vec::new()),
                Ok(None) => ok(json!({"found": false, "order_number": number}), Vec::new()),
                Err(e) => ToolOutput::error(format!("orders could not be read: {e}")),
            }
        })
    }
}

/// `request_human`: records that the visitor wants a person.
pub struct RequestHuman;

impl Tool for RequestHuman {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "request_human".into(),
            description: "Hand the conversation to a person from the store.".into(),
            input_schema: json!({
                "type": "object",
                "properties": {"reason": {"type": "string"}},
                "required": ["reason"]
            }),
        }
    }

    fn call<'a>(
        &'a self,
        ctx: &'a ToolContext,
        input: Value,
        _state: &'a mut SessionState,
    ) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let reason = str_arg(&input, "reason").unwrap_or("human_handoff");
            match ctx.request_handoff("human_handoff", reason, "").await {
                Ok(()) => ok(json!({"recorded": true}), Vec::new()),
                Err(e) => ToolOutput::error(format!("the request could not be recorded: {e}")),
            }
        })
    }
}
