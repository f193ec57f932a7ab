//! The offline agent's product intents: search (and refinements), questions about a product,
//! comparisons, prices and discounts, and which shown products a message points at.

use super::*;

impl Responder<'_> {
    /// The search for this message: its product words, or the last search's when the message
    /// only refines it ("any under 100?", "in black?").
    pub(super) fn search_request(&self, state: &SessionState) -> Option<SearchRequest> {
        let e = &self.u.entities;
        let refines = e.max_price_minor.is_some()
            || e.min_price_minor.is_some()
            || e.size.is_some()
            || e.colour.is_some();
        // Words that name no product ("si possible", "cueste") do not start a new search when
        // the message refines the last one.
        let mut text = if refines && !self.u.names_products && state.last_query.is_some() {
            String::new()
        } else {
            self.u.search_text.trim().to_string()
        };
        if let Some(c) = &e.colour {
            // The colour ranks through its own field, in the catalog's English.
            text = text
                .split_whitespace()
                .filter(|w| fold(w) != *c && !is_colour_word(w))
                .collect::<Vec<_>>()
                .join(" ");
        }
        if text.is_empty() {
            if refines {
                text = state.last_query.clone()?;
            } else {
                return None;
            }
        }
        Some(SearchRequest {
            text,
            min_price: e.min_price_minor,
            max_price: e.max_price_minor,
            colour: e.colour.clone(),
            size: e.size.clone(),
            limit: MAX_SEARCH_RESULTS,
        })
    }

    pub(super) async fn search(&mut self, state: &mut SessionState) {
        let Some(req) = self.search_request(state) else {
            self.say("search_what", &[]);
            return;
        };
        let budget = req.max_price.is_some() || req.min_price.is_some();
        let size = req.size.clone();
        let query = req.text.clone();
        match self.tools.search(state, req).await {
            Err(e) => {
                tracing::warn!(error = %e, "catalog search failed");
                self.say("catalog_down", &[]);
            }
            Ok(cards) if cards.is_empty() => match (&size, budget) {
                (Some(s), _) => self.say("search_none_size", &[("query", &query), ("size", s)]),
                (None, true) => self.say("search_none_budget", &[("query", &query)]),
                (None, false) => self.say("search_none", &[("query", &query)]),
            },
            Ok(cards) => {
                match (&size, budget) {
                    (Some(s), _) => self.say("search_intro_size", &[("size", s)]),
                    (None, true) => self.say("search_intro_budget", &[]),
                    (None, false) => self.say("search_intro", &[]),
                }
                self.card_lines(&cards);
                self.say("search_outro", &[]);
                self.out.events.push(AgentEvent::ProductsShown(cards));
            }
        }
    }

    pub(super) fn card_lines(&mut self, cards: &[Card]) {
        for (i, c) in cards.iter().enumerate() {
            let price = c.variant.as_ref().map_or(c.hit.price, |v| v.price);
            let mut title = c.hit.title.clone();
            if let Some(v) = &c.variant {
                title = format!("{title} ({})", v.label());
            }
            let n = (i + 1).to_string();
            let p = self.money(price);
            let mut line = match c
                .hit
                .compare_at_price
                .filter(|was| was.amount_minor > price.amount_minor)
            {
                Some(was) => {
                    let w = self.money(was);
                    say(
                        self.lang,
                        "search_line_sale",
                        &[("n", &n), ("title", &title), ("price", &p), ("was", &w)],
                    )
                }
                None => say(
                    self.lang,
                    "search_line",
                    &[("n", &n), ("title", &title), ("price", &p)],
                ),
            };
            if !c.hit.in_stock {
                line.push_str(&say(self.lang, "out_of_stock_tag", &[]));
            }
            self.lines.push(line);
        }
    }

    /// The shown products this message points at, in the order it names them.
    pub(super) fn referenced(&self, state: &SessionState) -> Vec<ShownProduct> {
        let shown = &state.last_shown;
        let mut out: Vec<ShownProduct> = Vec::new();
        let push = |p: &ShownProduct, out: &mut Vec<ShownProduct>| {
            if !out.iter().any(|o| o.external_id == p.external_id) {
                out.push(p.clone());
            }
        };
        let mut deictic = false;
        for r in &self.u.entities.references {
            match r {
                Reference::Ordinal(0) => {
                    if let Some(p) = shown.last() {
                        push(p, &mut out);
                    }
                }
                Reference::Ordinal(n) => {
                    if let Some(p) = shown.get(n - 1) {
                        push(p, &mut out);
                    }
                }
                Reference::Cheapest => {
                    if let Some(p) = shown.iter().min_by_key(|p| p.price.amount_minor) {
                        push(p, &mut out);
                    }
                }
                Reference::Priciest => {
                    if let Some(p) = shown.iter().max_by_key(|p| p.price.amount_minor) {
                        push(p, &mut out);
                    }
                }
                Reference::Colour(c) => {
                    let matching: Vec<&ShownProduct> = shown
                        .iter()
                        .filter(|p| {
                            p.colours.iter().any(|pc| pc.contains(c.as_str()))
                                || fold(&p.title).contains(c.as_str())
                        })
                        .collect();
                    // A colour names a product only when it tells the shown ones apart.
                    if matching.len() == 1 || (!matching.is_empty() && matching.len() < shown.len())
                    {
                        push(matching[0], &mut out);
                    }
                }
                Reference::Deictic => deictic = true,
            }
        }
        if out.is_empty() {
            // Title words: "the rain shell", "la tienda" (in the catalog's words: "ferro", iron
            // in Portuguese, does not point at the Ferro Kitchen knife).
            let terms = self.catalog_terms();
            let best = shown
                .iter()
                .map(|p| (title_matches(&p.title, &terms), p))
                .filter(|(score, _)| *score > 0)
                .max_by_key(|(score, _)| *score);
            if let Some((_, p)) = best {
                push(p, &mut out);
            }
        }
        // The product in focus, unless the message names another kind of product.
        if out.is_empty() && (deictic || !self.u.names_products) {
            let focus = state
                .focus
                .as_ref()
                .and_then(|f| shown.iter().find(|p| &p.external_id == f));
            if let Some(p) = focus {
                push(p, &mut out);
            } else if shown.len() == 1 || (deictic && !shown.is_empty()) {
                push(&shown[0], &mut out);
            }
        }
        out
    }

    /// The products a question is about: the referenced shown ones, else the focus, else the
    /// best match for its product words.
    pub(super) async fn subjects(&mut self, state: &mut SessionState) -> Vec<ProductDetail> {
        let mut ids: Vec<String> = self
            .referenced(state)
            .into_iter()
            .map(|p| p.external_id)
            .collect();
        if ids.is_empty()
            && let Some(f) = &state.focus
            && self.u.search_text.trim().is_empty()
        {
            ids.push(f.clone());
        }
        if ids.is_empty()
            && self.u.names_products
            && let Some(req) = self.search_request(state)
        {
            // The product the question names, without replacing the list the visitor sees.
            let query = crate::ports::catalog::SearchQuery {
                text: req.text,
                limit: 1,
                ..Default::default()
            };
            // Only a product of the kind it names, in the catalog's words: "e uma frigideira de
            // ferro fundido, tem?" (a frying pan, cast iron) is not about the Ferro Kitchen
            // knife.
            let terms = self.catalog_terms();
            if let Ok(hits) = self.tools.catalog.search(self.tools.merchant, query).await {
                ids.extend(
                    hits.into_iter()
                        .filter(|h| title_matches(&h.title, &terms) > 0)
                        .map(|h| h.external_id),
                );
            }
        }
        let mut out = Vec::new();
        for id in ids {
            if let Ok(Some(p)) = self.tools.product(state, &id).await {
                out.push(p);
            }
        }
        out
    }

    pub(super) async fn question(&mut self, state: &mut SessionState) {
        let products = self.subjects(state).await;
        let Some(p) = products.into_iter().next() else {
            if self.u.names_products {
                // A kind of product nothing shown is ("and a cast-iron pan, do you have one?"):
                // what the store has of it.
                self.search(state).await;
            } else {
                self.say("which_product", &[]);
            }
            return;
        };
        let title = p.hit.title.clone();
        let sizes = attr_values(&p, "size");
        let colours = crate::agent::shop::colours_of(&p);
        let e = self.u.entities.clone();
        if let Some(size) = &e.size {
            let matching: Vec<_> =
                crate::agent::shop::matching_variants(&p, None, Some(size), None);
            if matching.is_empty() {
                let s = list(&sizes, self.lang);
                self.say(
                    "size_missing",
                    &[("title", &title), ("size", size), ("sizes", &s)],
                );
            } else if matching.iter().any(|v| v.available()) {
                self.say("size_available", &[("title", &title), ("size", size)]);
            } else {
                self.say("size_sold_out", &[("title", &title), ("size", size)]);
            }
            return;
        }
        if let Some(colour) = &e.colour
            && !colours.is_empty()
            && !e
                .references
                .iter()
                .any(|r| matches!(r, Reference::Colour(c) if fold(&title).contains(c.as_str())))
        {
            if colours.iter().any(|c| c.contains(colour.as_str())) {
                self.say("colour_available", &[("title", &title), ("colour", colour)]);
            } else {
                let cs = list(&colours, self.lang);
                self.say(
                    "colour_missing",
                    &[("title", &title), ("colour", colour), ("colours", &cs)],
                );
            }
            return;
        }
        self.product_price_line(&p);
        if !sizes.is_empty() {
            let s = list(&sizes, self.lang);
            self.say("product_sizes", &[("sizes", &s)]);
        }
        if colours.len() > 1 {
            let cs = list(&colours, self.lang);
            self.say("product_colours", &[("colours", &cs)]);
        }
        if self.has_word(STOCK_WORDS) || p.variants.is_empty() {
            self.say(
                if p.hit.in_stock {
                    "in_stock"
                } else {
                    "out_of_stock"
                },
                &[],
            );
        }
        match best_sentence(&p, &self.question_terms()) {
            Some(sentence) => self.say("from_description", &[("sentence", &sentence)]),
            None if !self.has_word(STOCK_WORDS) => self.say("no_detail", &[]),
            None => {}
        }
    }

    /// The words of the question worth looking up in a description (English and the
    /// visitor's own), without the product's name.
    pub(super) fn question_terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = self.u.search_text.split_whitespace().map(fold).collect();
        terms.extend(self.u.entities.product_terms.iter().cloned());
        terms.retain(|t| t.len() > 3);
        terms.dedup();
        terms
    }

    pub(super) fn product_price_line(&mut self, p: &ProductDetail) {
        let price = self.money(p.hit.price);
        match p
            .hit
            .compare_at_price
            .filter(|w| w.amount_minor > p.hit.price.amount_minor)
        {
            Some(was) => {
                let w = self.money(was);
                self.say(
                    "product_price_sale",
                    &[("title", &p.hit.title), ("price", &price), ("was", &w)],
                );
            }
            None => self.say(
                "product_price",
                &[("title", &p.hit.title), ("price", &price)],
            ),
        }
    }

    pub(super) async fn compare(&mut self, state: &mut SessionState) {
        let mut ids: Vec<String> = self
            .referenced(state)
            .into_iter()
            .map(|p| p.external_id)
            .collect();
        if ids.len() < 2 && (2..=3).contains(&state.last_shown.len()) {
            ids = state
                .last_shown
                .iter()
                .map(|p| p.external_id.clone())
                .collect();
        }
        if ids.len() < 2 {
            self.say("compare_need_two", &[]);
            return;
        }
        ids.truncate(4);
        // In the order the visitor named them.
        let mut found = self.tools.details(ids.clone()).await.unwrap_or_default();
        let products: Vec<ProductDetail> = ids.iter().filter_map(|id| found.remove(id)).collect();
        if products.len() < 2 {
            self.say("compare_need_two", &[]);
            return;
        }
        self.say("compare_intro", &[]);
        let terms = self.question_terms();
        for p in &products {
            let price = self.money(p.hit.price);
            let stock = say(
                self.lang,
                if p.hit.in_stock {
                    "stock_word_in"
                } else {
                    "stock_word_out"
                },
                &[],
            );
            let extra = best_sentence(p, &terms)
                .map(|s| format!(". {s}"))
                .unwrap_or_default();
            self.say(
                "compare_line",
                &[
                    ("title", &p.hit.title),
                    ("price", &price),
                    ("stock", &stock),
                    ("extra", &extra),
                ],
            );
        }
        let cheapest = products.iter().min_by_key(|p| p.hit.price.amount_minor);
        let all_same = products
            .iter()
            .all(|p| p.hit.price == products[0].hit.price);
        if all_same {
            self.say("compare_same_price", &[]);
        } else if let Some(c) = cheapest {
            let t = c.hit.title.clone();
            self.say("compare_cheaper", &[("title", &t)]);
        }
        state.focus = None;
    }

    pub(super) async fn price(&mut self, state: &mut SessionState) {
        let products = self.subjects(state).await;
        if products.is_empty() {
            self.say("which_product", &[]);
            return;
        }
        for p in &products {
            self.product_price_line(p);
        }
        if self.has_word(TAX_WORDS) {
            self.say("price_tax", &[]);
        }
    }

    pub(super) async fn discount(&mut self, state: &mut SessionState) {
        let ids: Vec<String> = state
            .last_shown
            .iter()
            .map(|p| p.external_id.clone())
            .chain(state.cart.lines.iter().map(|l| l.external_id.clone()))
            .collect();
        let mut found = self.tools.details(ids.clone()).await.unwrap_or_default();
        // Shown order first, each product once.
        let on_sale: Vec<ProductDetail> = ids
            .iter()
            .filter_map(|id| found.remove(id))
            .filter(|p| {
                p.hit
                    .compare_at_price
                    .is_some_and(|w| w.amount_minor > p.hit.price.amount_minor)
            })
            .collect();
        if on_sale.is_empty() {
            self.say("discount_none", &[]);
        } else {
            self.say("discount_on_sale", &[]);
            for p in &on_sale {
                self.product_price_line(p);
            }
        }
        if self.has_word(CODE_WORDS) {
            self.say("discount_code", &[]);
        }
    }
}
