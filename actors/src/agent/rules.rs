//! The offline agent: acts on an understood message with the shop operations and answers from
//! catalog facts, the cart and the merchant's configuration only, in the visitor's language. It
//! never quotes an amount the visitor typed; every price it writes comes from the catalog (or
//! is a sum of catalog prices).

use super::AgentEvent;
use super::config::{AgentConfig, Tone};
use super::phrases::{list, money, say};
use super::shop::{
    AddRefusal, AddRequest, Card, CartNotice, RemoveOutcome, RemoveRequest, SearchRequest,
    line_label,
};
use super::tools::{MAX_SEARCH_RESULTS, ToolContext};
use crate::conversation::{SessionState, ShownProduct};
use crate::ports::catalog::ProductDetail;
use crate::understanding::{Intent, Lang, Reference, Understanding, fold, tokens};

/// What the offline agent answers: the reply's text and the events to show with it.
#[derive(Debug, Default)]
pub struct RulesReply {
    /// The reply.
    pub text: String,
    /// Product cards and cart changes, in order.
    pub events: Vec<AgentEvent>,
}

/// Words that make a quantity the line's new total ("make it 3") rather than more of it.
const SET_WORDS: &[&str] = &[
    "make",
    "instead",
    "total",
    "sean",
    "sea",
    "mets",
    "insgesamt",
    "mach",
    "deixa",
    "fica",
    "change",
    "cambia",
    "change",
    "andere",
    "altera",
    "muda",
];
/// Words that ask for more of something ("two more", "another one").
const MORE_WORDS: &[&str] = &[
    "more",
    "another",
    "extra",
    "also",
    "too",
    "mas",
    "otro",
    "otra",
    "tambien",
    "encore",
    "autre",
    "aussi",
    "noch",
    "weitere",
    "weiteren",
    "zusatzlich",
    "auch",
    "mais",
    "outro",
    "outra",
    "tambem",
];
/// Verbs that add.
const ADD_VERBS: &[&str] = &[
    "add",
    "anade",
    "agrega",
    "ajoute",
    "ajoutez",
    "hinzufugen",
    "fuge",
    "adiciona",
    "adicione",
    "adicionar",
];
/// Words that correct what was said ("actually", "better").
const CORRECTION_WORDS: &[&str] = &[
    "actually",
    "instead",
    "rather",
    "mejor",
    "fait",
    "plutot",
    "eigentlich",
    "lieber",
    "besser",
    "verdade",
    "melhor",
    "finalmente",
    "finalement",
];
/// Words that keep a quantity when lowering ("only one").
const KEEP_WORDS: &[&str] = &[
    "only",
    "just",
    "solo",
    "sólo",
    "nur",
    "seulement",
    "apenas",
    "so",
];
/// Words that mean the whole cart.
const ALL_WORDS: &[&str] = &[
    "empty",
    "everything",
    "all",
    "clear",
    "vaciar",
    "vacia",
    "todo",
    "vider",
    "vide",
    "tout",
    "leeren",
    "leer",
    "alles",
    "esvaziar",
    "esvazia",
    "tudo",
];
/// Words about tax.
const TAX_WORDS: &[&str] = &[
    "tax",
    "vat",
    "iva",
    "tva",
    "mwst",
    "steuer",
    "imposto",
    "impuestos",
    "taxes",
];
/// Words about codes and coupons.
const CODE_WORDS: &[&str] = &[
    "code",
    "coupon",
    "codigo",
    "cupon",
    "gutschein",
    "cupom",
    "rabattcode",
    "voucher",
];
/// Words that ask about stock.
const STOCK_WORDS: &[&str] = &[
    "stock",
    "available",
    "availability",
    "disponible",
    "disponibles",
    "verfugbar",
    "lager",
    "vorratig",
    "disponivel",
    "estoque",
    "restock",
    "dispo",
];

/// The language to answer in: the message's, else the conversation's, else the merchant's
/// first language, else English.
pub fn reply_language(u: &Understanding, state: &SessionState, agent: &AgentConfig) -> Lang {
    u.lang
        .or(state.lang)
        .or_else(|| agent.languages.first().and_then(|l| Lang::from_tag(l)))
        .unwrap_or(Lang::En)
}

/// Answers `intent` for the message `u` (the text `text`), acting on `state`.
pub async fn respond(
    tools: &ToolContext,
    agent: &AgentConfig,
    text: &str,
    u: &Understanding,
    intent: Intent,
    state: &mut SessionState,
) -> RulesReply {
    let lang = reply_language(u, state, agent);
    if u.lang.is_some() {
        state.lang = u.lang;
    }
    let mut r = Responder {
        tools,
        agent,
        text,
        u,
        lang,
        words: tokens(text),
        out: RulesReply::default(),
        lines: Vec::new(),
    };
    r.act(intent, state).await;
    let mut reply = r.out;
    reply.text = r.lines.join("\n");
    if agent.emoji {
        match intent {
            Intent::Greeting => reply.text.push_str(" 👋"),
            Intent::AddToCart => reply.text.push_str(" 🛒"),
            _ => {}
        }
    }
    reply
}

struct Responder<'a> {
    tools: &'a ToolContext,
    agent: &'a AgentConfig,
    text: &'a str,
    u: &'a Understanding,
    lang: Lang,
    words: Vec<String>,
    out: RulesReply,
    lines: Vec<String>,
}

impl Responder<'_> {
    fn say(&mut self, key: &str, slots: &[(&str, &str)]) {
        self.lines.push(say(self.lang, key, slots));
    }

    fn has_word(&self, set: &[&str]) -> bool {
        self.words.iter().any(|w| set.contains(&w.as_str()))
    }

    fn money(&self, m: crate::money::Money) -> String {
        money(m, self.lang)
    }

    async fn act(&mut self, intent: Intent, state: &mut SessionState) {
        match intent {
            Intent::Greeting => self.greeting(state),
            Intent::Farewell => {
                if state.cart.is_empty() {
                    self.say("farewell", &[]);
                } else {
                    self.cart_summary_line("farewell_cart", state);
                }
            }
            Intent::ProductSearch => self.search(state).await,
            Intent::ProductQuestion => self.question(state).await,
            Intent::ProductComparison => self.compare(state).await,
            Intent::PriceQuestion => self.price(state).await,
            Intent::DiscountQuestion => self.discount(state).await,
            Intent::AddToCart => self.add(state).await,
            Intent::RemoveFromCart => self.remove(state).await,
            Intent::ViewCart => self.view_cart(state).await,
            Intent::Checkout => self.checkout(state).await,
            Intent::OrderStatus => self.order(state).await,
            Intent::ShippingQuestion => {
                let policy = self.agent.policies.shipping.clone();
                self.policy("shipping_policy", &policy);
            }
            Intent::ReturnQuestion => {
                let policy = self.agent.policies.returns.clone();
                self.policy("returns_policy", &policy);
            }
            Intent::PaymentIssue => self.handoff("payment_issue", "payment_issue").await,
            Intent::HumanHandoff => self.handoff("human_handoff", "handoff").await,
            Intent::OffTopic => self.say("off_topic", &[]),
            Intent::Unknown => self.say("unknown", &[]),
        }
    }

    fn greeting(&mut self, state: &SessionState) {
        if !state.cart.is_empty() {
            self.cart_summary_line("greeting_back", state);
            return;
        }
        let primary = self.agent.languages.first().and_then(|l| Lang::from_tag(l));
        let own = self.agent.greeting.trim();
        if !own.is_empty() && primary == Some(self.lang) {
            let name = &self.agent.assistant_name;
            let line = if own.contains(name.as_str()) {
                own.to_string()
            } else {
                format!("{own} ({name})")
            };
            self.lines.push(line);
        } else {
            let name = self.agent.assistant_name.clone();
            self.say("greeting", &[("name", &name)]);
        }
    }

    fn cart_summary_line(&mut self, key: &str, state: &SessionState) {
        let count: u32 = state.cart.lines.iter().map(|l| l.quantity).sum();
        let total = state
            .cart
            .total()
            .map(|t| self.money(t))
            .unwrap_or_default();
        self.say(key, &[("count", &count.to_string()), ("total", &total)]);
        if count == 1
            && let Some(line) = self.lines.last_mut()
        {
            // The tables say "{count} items"; one is singular.
            let (many, one) = match self.lang {
                Lang::En => ("1 items", "1 item"),
                Lang::Es => ("1 artículos", "1 artículo"),
                Lang::Fr => ("1 articles", "1 article"),
                Lang::De => ("1 Artikel", "1 Artikel"),
                Lang::Pt => ("1 itens", "1 item"),
            };
            *line = line.replace(many, one);
        }
    }

    fn policy(&mut self, key: &str, policy: &str) {
        if policy.trim().is_empty() {
            self.say("policy_unknown", &[]);
        } else {
            self.say(key, &[("policy", policy.trim())]);
        }
    }

    async fn handoff(&mut self, reason: &str, key: &str) {
        match self
            .tools
            .request_handoff(reason, self.text, self.lang.code())
            .await
        {
            Ok(()) => self.say(key, &[]),
            Err(e) => {
                tracing::warn!(error = %e, "could not record a handoff request");
                self.say("handoff_failed", &[]);
            }
        }
    }

    /// The search for this message: its product words, or the last search's when the message
    /// only refines it ("any under 100?", "in black?").
    fn search_request(&self, state: &SessionState) -> Option<SearchRequest> {
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

    async fn search(&mut self, state: &mut SessionState) {
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

    fn card_lines(&mut self, cards: &[Card]) {
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
    fn referenced(&self, state: &SessionState) -> Vec<ShownProduct> {
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
            // Title words: "the rain shell", "la tienda".
            let terms = self.mention_terms();
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
    async fn subjects(&mut self, state: &mut SessionState) -> Vec<ProductDetail> {
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
            if let Ok(hits) = self.tools.catalog.search(self.tools.merchant, query).await {
                ids.extend(hits.into_iter().map(|h| h.external_id));
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

    async fn question(&mut self, state: &mut SessionState) {
        let products = self.subjects(state).await;
        let Some(p) = products.into_iter().next() else {
            self.say("which_product", &[]);
            return;
        };
        let title = p.hit.title.clone();
        let sizes = attr_values(&p, "size");
        let colours = super::shop::colours_of(&p);
        let e = self.u.entities.clone();
        if let Some(size) = &e.size {
            let matching: Vec<_> = super::shop::matching_variants(&p, None, Some(size), None);
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
    fn question_terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = self.u.search_text.split_whitespace().map(fold).collect();
        terms.extend(self.u.entities.product_terms.iter().cloned());
        terms.retain(|t| t.len() > 3);
        terms.dedup();
        terms
    }

    fn product_price_line(&mut self, p: &ProductDetail) {
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

    async fn compare(&mut self, state: &mut SessionState) {
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
        let mut products = Vec::new();
        for id in ids.iter().take(4) {
            if let Ok(Some(p)) = self
                .tools
                .catalog
                .product(self.tools.merchant, id.clone())
                .await
            {
                products.push(p);
            }
        }
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

    async fn price(&mut self, state: &mut SessionState) {
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

    async fn discount(&mut self, state: &mut SessionState) {
        let mut on_sale = Vec::new();
        for id in state
            .last_shown
            .iter()
            .map(|p| p.external_id.clone())
            .chain(state.cart.lines.iter().map(|l| l.external_id.clone()))
            .collect::<Vec<_>>()
        {
            if let Ok(Some(p)) = self.tools.catalog.product(self.tools.merchant, id).await
                && p.hit
                    .compare_at_price
                    .is_some_and(|w| w.amount_minor > p.hit.price.amount_minor)
                && !on_sale
                    .iter()
                    .any(|q: &ProductDetail| q.hit.external_id == p.hit.external_id)
            {
                on_sale.push(p);
            }
        }
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

    async fn add(&mut self, state: &mut SessionState) {
        let mut target = self
            .referenced(state)
            .into_iter()
            .next()
            .map(|p| p.external_id);
        if target.is_none()
            && let Some(f) = &state.focus
            && self.u.search_text.trim().is_empty()
        {
            target = Some(f.clone());
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

    fn refusal(&mut self, refusal: AddRefusal) {
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

    async fn remove(&mut self, state: &mut SessionState) {
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
    fn mention_terms(&self) -> Vec<String> {
        self.u
            .entities
            .product_terms
            .iter()
            .cloned()
            .chain(self.u.search_text.split_whitespace().map(fold))
            .filter(|t| t.len() > 2)
            .collect()
    }

    /// The cart line a removal means: by title words, colour, size, a reference to a shown
    /// product, the product in focus, or the only line.
    fn cart_line_meant(&self, state: &SessionState) -> Option<crate::cart::CartLine> {
        let lines = &state.cart.lines;
        let terms = self.mention_terms();
        let scored = lines
            .iter()
            .map(|l| {
                let label = fold(&line_label(l));
                let mut score = title_matches(&line_label(l), &terms);
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
    fn notices(&mut self, notices: &[CartNotice]) {
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

    async fn view_cart(&mut self, state: &mut SessionState) {
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

    async fn checkout(&mut self, state: &mut SessionState) {
        let notices = self.tools.refresh_cart(state).await;
        self.notices(&notices);
        if !notices.is_empty() {
            self.out
                .events
                .push(AgentEvent::CartChanged(state.cart.clone()));
        }
        if state.cart.is_empty() {
            self.say("checkout_empty", &[]);
        } else {
            // Until a payment provider is configured (#15) there is no payment link to give.
            self.cart_summary_line("checkout_not_configured", state);
        }
    }

    async fn order(&mut self, _state: &mut SessionState) {
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

/// A tone's opener for good news in `lang` (none when professional).
pub fn tone_opener(tone: Tone, lang: Lang) -> &'static str {
    match tone {
        Tone::Professional => "",
        Tone::Friendly => super::phrases::template(lang, "opener_friendly"),
        Tone::Playful => super::phrases::template(lang, "opener_playful"),
    }
}

/// How many of `terms` are words of `title` (a plural `s` aside).
fn title_matches(title: &str, terms: &[String]) -> usize {
    let singular = |w: &str| w.strip_suffix('s').unwrap_or(w).to_string();
    let words: Vec<String> = tokens(title).iter().map(|w| singular(w)).collect();
    terms
        .iter()
        .filter(|t| t.len() > 2 && words.contains(&singular(t)))
        .count()
}

fn is_colour_word(w: &str) -> bool {
    crate::understanding::tokens(w).iter().any(|t| {
        [
            "black", "white", "red", "blue", "navy", "green", "yellow", "orange", "pink", "purple",
            "grey", "gray", "brown", "beige",
        ]
        .contains(&t.as_str())
    })
}

/// The values of a variant attribute, in catalog order.
fn attr_values(p: &ProductDetail, key: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in &p.variants {
        if let Some(x) = v.attributes.get(key)
            && !out.contains(x)
        {
            out.push(x.clone());
        }
    }
    out
}

/// The description sentence (or tag/attribute) that shares the most words with the question.
fn best_sentence(p: &ProductDetail, terms: &[String]) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    let title = fold(&p.hit.title);
    let terms: Vec<&String> = terms
        .iter()
        .filter(|t| !title.contains(t.as_str()))
        .collect();
    p.description
        .split_inclusive(['.', '!', '?'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let f = fold(s);
            let score = terms
                .iter()
                .filter(|t| {
                    let stem: String = t.chars().take(6).collect();
                    f.contains(stem.as_str())
                })
                .count();
            (score, s)
        })
        .filter(|(score, _)| *score > 0)
        .max_by_key(|(score, _)| *score)
        .map(|(_, s)| s.to_string())
}
