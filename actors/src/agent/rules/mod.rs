//! The offline agent: acts on an understood message with the shop operations and answers from
//! catalog facts, the cart and the merchant's configuration only, in the visitor's language. It
//! never quotes an amount the visitor typed; every price it writes comes from the catalog (or
//! is a sum of catalog prices).
//!
//! This module holds the reply's frame (language, dispatch per intent, greetings, policies,
//! handoffs, shared helpers); [`catalog`] the intents about products (search, questions,
//! comparisons, prices, discounts) and [`cart`] the intents about the cart and orders.

mod cart;
mod catalog;

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
const KEEP_WORDS: &[&str] = crate::understanding::ONLY_WORDS;
/// Verbs that name what stays when removing ("remove the hoodie, I'll keep the jacket").
const KEEP_VERBS: &[&str] = &[
    "keep", "keeping", "quedo", "quedarme", "quedare", "mantengo", "garde", "garder", "gardez",
    "garderai", "conserve", "behalte", "behalten", "fico", "ficar", "ficarei", "mantenho",
    "manter",
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
            // Declined in the merchant's tone.
            Intent::OffTopic => self.say(
                match self.agent.tone {
                    Tone::Friendly => "off_topic",
                    Tone::Professional => "off_topic_professional",
                    Tone::Playful => "off_topic_playful",
                },
                &[],
            ),
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
