//! The offline agent's cart and order intents: add (with variant, stock and quantity rules),
//! remove, view (revalidated against the catalog), checkout and order status.

use super::*;

impl Responder<'_> {
    pub(super) async fn add(&mut self, state: &mut SessionState) {
        let mut target = self
            .referenced(state)
            .into_iter()
            .next()
            .map(|p| p.external_id);
        // "another one, the same": more of the product in focus (else the last one added), when
        // no product is named.
        let same_again = self.has_word(crate::understanding::AGAIN_WORDS);
        if target.is_none()
            && let Some(f) = &state.focus
            && (self.u.search_text.trim().is_empty() || (same_again && !self.u.names_products))
        {
            target = Some(f.clone());
        }
        if target.is_none()
            && same_again
            && !self.u.names_products
            && self.u.entities.references.is_empty()
            && let Some(line) = state.cart.lines.last()
        {
            target = Some(line.external_id.clone());
        }
        if target.is_none()
            && self.u.entities.references.is_empty()
            && let Some(line) = (state.cart.lines.len() == 1).then(|| state.cart.lines[0].clone())
            && self.u.entities.quantity.is_some()
        {
            target = Some(line.external_id);
        }
        let Some(external_id) = target else {
            // Nothing shown matches: look it up, and let the visitor pick.
            self.search(state).await;
            if self.out.events.is_empty() {
                self.lines.clear();
                self.say("which_product", &[]);
            }
            return;
        };
        // A quantity for a product already in the cart is its new total ("actually I want two",
        // "make it 3"), unless the message says more ("two more", "add another").
        let already = state
            .cart
            .lines
            .iter()
            .any(|l| l.external_id == external_id);
        let set = self.has_word(SET_WORDS)
            || (already
                && self.u.entities.quantity.is_some()
                && !self.has_word(MORE_WORDS)
                && (!self.has_word(ADD_VERBS) || self.has_word(CORRECTION_WORDS)));
        // More of what is already in the cart keeps its variant unless another is named.
        let in_cart: Vec<&crate::cart::CartLine> = state
            .cart
            .lines
            .iter()
            .filter(|l| l.external_id == external_id)
            .collect();
        let sku = match in_cart.as_slice() {
            [line] if self.u.entities.size.is_none() && self.u.entities.colour.is_none() => {
                line.sku.clone()
            }
            _ => None,
        };
        let req = AddRequest {
            external_id,
            quantity: self.u.entities.quantity.unwrap_or(1),
            sku,
            size: self.u.entities.size.clone(),
            colour: self.u.entities.colour.clone(),
            set,
        };
        let qty = req.quantity;
        match self.tools.add_to_cart(state, req).await {
            Ok(line) => {
                let title = line_label(&line);
                let price = self.money(line.unit_price);
                if set {
                    self.say(
                        "set_quantity",
                        &[("qty", &line.quantity.to_string()), ("title", &title)],
                    );
                } else {
                    self.say(
                        "added",
                        &[
                            ("qty", &qty.to_string()),
                            ("title", &title),
                            ("price", &price),
                        ],
                    );
                }
                let opener = tone_opener(self.agent.tone, self.lang);
                if let Some(first) = self.lines.first_mut() {
                    first.insert_str(0, opener);
                }
                self.cart_summary_line("cart_summary", state);
                self.out
                    .events
                    .push(AgentEvent::CartChanged(state.cart.clone()));
            }
            Err(refusal) => self.refusal(refusal),
        }
    }

    pub(super) fn refusal(&mut self, refusal: AddRefusal) {
        match refusal {
            AddRefusal::NotFound => self.say("not_sold_here", &[]),
            AddRefusal::NeedsVariant {
                title,
                dimension,
                options,
            } => {
                let o = list(&options, self.lang);
                self.say(
                    "needs_variant",
                    &[
                        ("title", &title),
                        ("options", &o),
                        ("dimension", &dimension),
                    ],
                );
            }
            AddRefusal::NoSuchVariant {
                title,
                wanted,
                options,
            } => {
                let o = list(&options, self.lang);
                self.say(
                    "no_such_variant",
                    &[("title", &title), ("wanted", &wanted), ("options", &o)],
                );
            }
            AddRefusal::OutOfStock { title } => self.say("sold_out", &[("title", &title)]),
            AddRefusal::NotEnoughStock { title, available } => {
                self.say(
                    "not_enough_stock",
                    &[("title", &title), ("available", &available.to_string())],
                );
            }
            AddRefusal::Cart { message } => self.say("cart_refused", &[("reason", &message)]),
            AddRefusal::Unavailable { .. } => self.say("catalog_down", &[]),
        }
    }

    pub(super) async fn remove(&mut self, state: &mut SessionState) {
        if state.cart.is_empty() {
            self.say("cart_already_empty", &[]);
            return;
        }
        let line = self.cart_line_meant(state);
        let all = line.is_none() && self.has_word(ALL_WORDS);
        let e = &self.u.entities;
        let keep = if self.has_word(KEEP_WORDS) {
            e.quantity
        } else {
            None
        };
        let quantity = if keep.is_none() { e.quantity } else { None };
        let req = RemoveRequest {
            external_id: line.as_ref().map(|l| l.external_id.clone()),
            sku: line.as_ref().and_then(|l| l.sku.clone()),
            quantity,
            keep,
            all,
        };
        match self.tools.remove_from_cart(state, req) {
            RemoveOutcome::Removed { line } => {
                let t = line_label(&line);
                self.say("removed", &[("title", &t)]);
            }
            RemoveOutcome::Reduced { line } => {
                let t = line_label(&line);
                self.say(
                    "reduced",
                    &[("qty", &line.quantity.to_string()), ("title", &t)],
                );
            }
            RemoveOutcome::Emptied => self.say("emptied", &[]),
            RemoveOutcome::AlreadyEmpty => self.say("cart_already_empty", &[]),
            RemoveOutcome::NotInCart => {
                let items: Vec<String> = state.cart.lines.iter().map(line_label).collect();
                let items = list(&items, self.lang);
                self.say("not_in_cart", &[("items", &items)]);
                return;
            }
        }
        if !state.cart.is_empty() {
            self.cart_summary_line("cart_summary", state);
        }
        self.out
            .events
            .push(AgentEvent::CartChanged(state.cart.clone()));
    }

    /// The words that may name a product in this message: its own and their catalog English.
    pub(super) fn mention_terms(&self) -> Vec<String> {
        self.u
            .entities
            .product_terms
            .iter()
            .cloned()
            .chain(self.u.search_text.split_whitespace().map(fold))
            .filter(|t| t.len() > 2)
            .collect()
    }

    /// The message's product words in the catalog's language (translated where the glossary
    /// knows them).
    pub(super) fn catalog_terms(&self) -> Vec<String> {
        self.u
            .search_text
            .split_whitespace()
            .map(fold)
            .filter(|t| t.len() > 2)
            .collect()
    }

    /// The words of what the message keeps ("…, I'll keep the jacket"), in catalog English:
    /// the words after a keep verb.
    fn kept_terms(&self) -> Vec<String> {
        let Some(k) = self
            .words
            .iter()
            .position(|w| KEEP_VERBS.contains(&w.as_str()))
        else {
            return Vec::new();
        };
        let tail = self.words[k + 1..].join(" ");
        let u = crate::understanding::Understander::shared().understand(&tail);
        u.entities
            .product_terms
            .iter()
            .cloned()
            .chain(u.search_text.split_whitespace().map(fold))
            .filter(|t| t.len() > 2)
            .collect()
    }

    /// The cart line a removal means: by title words (not those of what it keeps), colour,
    /// size, a reference to a shown product, the product in focus, or the only line.
    pub(super) fn cart_line_meant(&self, state: &SessionState) -> Option<crate::cart::CartLine> {
        let lines = &state.cart.lines;
        let terms = self.mention_terms();
        let kept = self.kept_terms();
        let scored = lines
            .iter()
            .map(|l| {
                let label = fold(&line_label(l));
                let named = title_matches(&line_label(l), &terms);
                let keeps = title_matches(&line_label(l), &kept);
                let mut score = named.saturating_sub(2 * keeps);
                if let Some(c) = &self.u.entities.colour
                    && label.contains(c.as_str())
                {
                    score += 1;
                }
                if let Some(s) = &self.u.entities.size
                    && l.variant
                        .as_deref()
                        .is_some_and(|v| v.split(" / ").any(|x| x.eq_ignore_ascii_case(s)))
                {
                    score += 1;
                }
                (score, l)
            })
            .filter(|(s, _)| *s > 0)
            .max_by_key(|(s, _)| *s);
        if let Some((_, l)) = scored {
            return Some(l.clone());
        }
        for r in &self.u.entities.references {
            if let Reference::Ordinal(n) = r {
                let i = if *n == 0 {
                    lines.len().checked_sub(1)
                } else {
                    Some(n - 1)
                };
                if let Some(l) = i.and_then(|i| lines.get(i)) {
                    return Some(l.clone());
                }
            }
        }
        if let Some(f) = &state.focus
            && let Some(l) = lines.iter().find(|l| &l.external_id == f)
            && !self.has_word(ALL_WORDS)
        {
            return Some(l.clone());
        }
        (lines.len() == 1 && !self.has_word(ALL_WORDS)).then(|| lines[0].clone())
    }

    /// Reports what the catalog changed in the cart.
    pub(super) fn notices(&mut self, notices: &[CartNotice]) {
        for n in notices {
            match n {
                CartNotice::Repriced { title, old, new } => {
                    let (o, nw) = (self.money(*old), self.money(*new));
                    self.say(
                        "cart_repriced",
                        &[("title", title), ("old", &o), ("new", &nw)],
                    );
                }
                CartNotice::Removed { title } => self.say("cart_gone", &[("title", title)]),
                CartNotice::Lowered { title, quantity } => {
                    self.say(
                        "cart_lowered",
                        &[("title", title), ("qty", &quantity.to_string())],
                    );
                }
            }
        }
    }

    pub(super) async fn view_cart(&mut self, state: &mut SessionState) {
        let notices = self.tools.refresh_cart(state).await;
        self.notices(&notices);
        if state.cart.is_empty() {
            self.say("cart_empty", &[]);
        } else {
            self.say("cart_view", &[]);
            for l in state.cart.lines.clone() {
                let t = line_label(&l);
                let total = l.line_total().map(|m| self.money(m)).unwrap_or_default();
                self.say(
                    "cart_line",
                    &[
                        ("qty", &l.quantity.to_string()),
                        ("title", &t),
                        ("line_total", &total),
                    ],
                );
            }
            let total = state
                .cart
                .total()
                .map(|m| self.money(m))
                .unwrap_or_default();
            self.say("cart_total", &[("total", &total)]);
        }
        self.out
            .events
            .push(AgentEvent::CartChanged(state.cart.clone()));
    }

    pub(super) async fn checkout(&mut self, state: &mut SessionState) {
        let notices = self.tools.refresh_cart(state).await;
        self.notices(&notices);
        if !notices.is_empty() {
            self.out
                .events
                .push(AgentEvent::CartChanged(state.cart.clone()));
        }
        if state.cart.is_empty() {
            self.say("checkout_empty", &[]);
            return;
        }
        let Some(payments) = &self.tools.payments else {
            self.cart_summary_line("checkout_not_configured", state);
            return;
        };
        match payments
            .start_checkout(
                self.tools.merchant,
                self.tools.conversation,
                state.cart.clone(),
            )
            .await
        {
            Ok(link) => {
                let total = self.money(link.total);
                let number = link.number.to_string();
                self.say(
                    "checkout_ready",
                    &[("number", &number), ("total", &total), ("url", &link.url)],
                );
                self.out.events.push(AgentEvent::CheckoutStarted(link));
            }
            Err(e) => {
                tracing::warn!(error = %e, "checkout failed");
                self.say("checkout_failed", &[]);
            }
        }
    }

    pub(super) async fn order(&mut self, _state: &mut SessionState) {
        let Some(number) = self.u.entities.order_number.clone() else {
            self.say("order_ask", &[]);
            return;
        };
        match self.tools.order_status(&number).await {
            Ok(Some(order)) => {
                let total = self.money(order.total);
                self.say(
                    "order_found",
                    &[
                        ("number", &order.number),
                        ("status", &order.status),
                        ("total", &total),
                    ],
                );
            }
            Ok(None) => self.say("order_not_found", &[("number", &number)]),
            Err(_) => self.say("catalog_down", &[]),
        }
    }
}
