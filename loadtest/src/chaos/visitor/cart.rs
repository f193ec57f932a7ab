//! The visitor's cart: what a `cart` frame shows, the changes it sends, and what it knows of
//! its cart between a change and its result.

use super::{Step, Visitor};
use crate::chaos::CATALOG;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

/// Error codes that refuse a cart change for good: the cart is unchanged.
pub(super) const CART_REFUSALS: &[&str] = &[
    "busy",
    "product_not_found",
    "variant_required",
    "variant_not_found",
    "out_of_stock",
    "insufficient_stock",
    "cart_limit",
    "not_in_cart",
    "invalid_message",
];

/// A cart as a `cart` frame shows it: quantity and unit price by product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CartView {
    /// Units by external id.
    pub(crate) quantities: BTreeMap<String, i64>,
    /// Unit price (minor units) by external id.
    pub(crate) unit_prices: BTreeMap<String, i64>,
}

impl CartView {
    /// Reads a `cart` frame (or its stored shape), checking that it adds up: each line's total
    /// is its unit price times its quantity, the total is the lines' sum (null when empty), and
    /// `item_count` counts units. The problem when it does not.
    pub(crate) fn parse(frame: &Value) -> Result<Self, String> {
        let mut cart = Self::default();
        let mut sum = 0i64;
        let mut units = 0i64;
        for line in frame["items"].as_array().into_iter().flatten() {
            let id = line["external_id"].as_str().unwrap_or_default().to_string();
            let quantity = line["quantity"].as_i64().unwrap_or(-1);
            let unit = line["unit_price"]["amount_minor"].as_i64().unwrap_or(-1);
            let total = line["line_total"]["amount_minor"].as_i64().unwrap_or(-1);
            if quantity <= 0 || unit < 0 || total != unit * quantity {
                return Err(format!("a line does not add up: {line}"));
            }
            if cart.quantities.insert(id.clone(), quantity).is_some() {
                return Err(format!("two lines for {id}"));
            }
            cart.unit_prices.insert(id, unit);
            sum += total;
            units += quantity;
        }
        let total = &frame["total"];
        let total_ok = if cart.quantities.is_empty() {
            total.is_null() || total["amount_minor"].as_i64() == Some(0)
        } else {
            total["amount_minor"].as_i64() == Some(sum)
        };
        if !total_ok {
            return Err(format!("the total is not the lines' sum {sum}: {frame}"));
        }
        if frame["item_count"].as_i64().unwrap_or(0) != units {
            return Err(format!("item_count is not the units {units}: {frame}"));
        }
        Ok(cart)
    }

    /// The cart after `op`, as the engine must make it.
    fn after(&self, op: &CartOp) -> Self {
        let mut next = self.clone();
        match op {
            CartOp::Add { id, quantity } => {
                *next.quantities.entry(id.clone()).or_insert(0) += quantity;
                let price = CATALOG.iter().find(|p| p.0 == id).map_or(0, |p| p.2);
                next.unit_prices.entry(id.clone()).or_insert(price);
            }
            CartOp::Remove { id, quantity } => {
                let left =
                    next.quantities.get(id).copied().unwrap_or(0) - quantity.unwrap_or(i64::MAX);
                if left > 0 {
                    next.quantities.insert(id.clone(), left);
                } else {
                    next.quantities.remove(id);
                    next.unit_prices.remove(id);
                }
            }
        }
        next
    }
}

/// A cart change the visitor asked for.
#[derive(Debug, Clone)]
pub(super) enum CartOp {
    /// `cart_add`.
    Add { id: String, quantity: i64 },
    /// `cart_remove`; the whole line without a quantity.
    Remove { id: String, quantity: Option<i64> },
}

/// What the visitor knows of its cart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CartKnowledge {
    /// The last whole cart it saw acknowledged.
    Known(CartView),
    /// A change was sent and its result never seen: the cart is the one before or after it.
    Uncertain,
}

impl Visitor {
    /// Sends one cart change (`op`, or a random one) and waits for its result.
    pub(super) async fn cart_change(&mut self, op: Option<CartOp>) {
        let until = (Instant::now() + Duration::from_secs(15)).min(self.plan.give_up_at);
        if !self.ensure_connected(until).await {
            return;
        }
        if self.fresh && !self.quiet_connection(until).await {
            return;
        }
        let op = op.unwrap_or_else(|| self.random_cart_op());
        let frame = match &op {
            CartOp::Add { id, quantity } => {
                json!({"type": "cart_add", "external_id": id, "quantity": quantity})
            }
            CartOp::Remove { id, quantity } => match quantity {
                Some(q) => json!({"type": "cart_remove", "external_id": id, "quantity": q}),
                None => json!({"type": "cart_remove", "external_id": id}),
            },
        };
        self.note(format!(">{op:?}"));
        self.pending_cart = Some(op);
        self.history.cart_ops += 1;
        self.plan.counters.cart_ops.fetch_add(1, Ordering::Relaxed);
        if !self.send(frame).await {
            self.pending_cart = None;
            self.history.cart = CartKnowledge::Uncertain;
            return;
        }
        while self.pending_cart.is_some() {
            if Instant::now() >= until {
                self.pending_cart = None;
                self.history.cart = CartKnowledge::Uncertain;
                return;
            }
            match self.next(until).await {
                Step::Event(v) => self.on_event(&v),
                Step::Idle => {}
                Step::Gone => return,
            }
        }
    }

    /// Lets a new connection deliver its subscription's `cart` frame (the cart before any
    /// change sent now) before a change is sent: a `ping`, its `pong`, then a moment more.
    /// False when the connection went away.
    pub(super) async fn quiet_connection(&mut self, until: Instant) -> bool {
        self.ponged = false;
        if !self.send(json!({"type": "ping"})).await {
            return false;
        }
        let pong_by = (Instant::now() + Duration::from_secs(5)).min(until);
        while !self.ponged && Instant::now() < pong_by {
            match self.next(pong_by).await {
                Step::Event(v) => self.on_event(&v),
                Step::Idle => {}
                Step::Gone => return false,
            }
        }
        let quiet_by = (Instant::now() + Duration::from_millis(300)).min(until);
        while Instant::now() < quiet_by {
            match self.next(quiet_by).await {
                Step::Event(v) => self.on_event(&v),
                Step::Idle => {}
                Step::Gone => return false,
            }
        }
        self.fresh = false;
        self.ws.is_some()
    }

    fn random_cart_op(&mut self) -> CartOp {
        let lines: Vec<(String, i64)> = match &self.history.cart {
            CartKnowledge::Known(c) => c.quantities.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            CartKnowledge::Uncertain => Vec::new(),
        };
        if !lines.is_empty() && self.plan.rng.chance(0.4) {
            let (id, quantity) = lines[self.plan.rng.index(lines.len())].clone();
            let part = quantity > 1 && self.plan.rng.chance(0.5);
            return CartOp::Remove {
                id,
                quantity: part.then(|| self.plan.rng.range(1, quantity as u64) as i64),
            };
        }
        let id = CATALOG[self.plan.rng.index(CATALOG.len())].0.to_string();
        let held = lines.iter().find(|l| l.0 == id).map_or(0, |l| l.1);
        if held >= 10 {
            return CartOp::Remove { id, quantity: None };
        }
        CartOp::Add {
            id,
            quantity: self.plan.rng.range(1, 4) as i64,
        }
    }

    pub(super) fn on_cart(&mut self, v: &Value) {
        let id = self.plan.conversation.id.clone();
        let cart = match CartView::parse(v) {
            Ok(c) => c,
            Err(e) => {
                self.violation("carts", format!("{id}: {e}"));
                return;
            }
        };
        if !self.open_replies.is_empty() {
            // A reply's own cart (replayed before its end): not necessarily the cart now.
            return;
        }
        match (self.pending_cart.take(), &self.history.cart) {
            (Some(op), CartKnowledge::Known(before)) => {
                let expected = before.after(&op);
                if expected.quantities != cart.quantities {
                    let what = format!(
                        "{id}: after {op:?} on {:?} the cart shows {:?} (frames: {:?})",
                        before.quantities, cart.quantities, self.recent
                    );
                    self.violation("carts", what);
                }
                self.history.cart_ops_resolved += 1;
            }
            (Some(_), CartKnowledge::Uncertain) => self.history.cart_ops_resolved += 1,
            (None, CartKnowledge::Known(before)) => {
                if before.quantities != cart.quantities {
                    let what = format!(
                        "{id}: a new subscription shows the cart {:?}, the last acknowledged was {:?} (frames: {:?})",
                        cart.quantities, before.quantities, self.recent
                    );
                    self.violation("carts", what);
                }
            }
            (None, CartKnowledge::Uncertain) => {}
        }
        self.history.cart = CartKnowledge::Known(cart);
    }
}
