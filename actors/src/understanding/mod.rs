//! Understanding a visitor's message, locally and in well under a millisecond: which of the 18
//! intents it carries (the intent guide, data/intents/README.md), with a confidence, its language, and its entities
//! (product words, price bounds, colour, size, quantity, order number, references to shown
//! products).
//!
//! How: the message is normalised (case, accents, emoji, repeated letters), then two small
//! linear classifiers over words, word pairs, character n-grams and the concepts of a shared
//! five-language lexicon decide the intent and the language. They are trained at start-up from
//! the labelled development set shipped in `data/intents/train.jsonl` (the held-out part,
//! `data/intents/heldout.jsonl`, is never trained on) in a fraction of a second; the same input
//! always gives the same model. The glossary in `data/lexicon/glossary.tsv` maps product words
//! of the other four languages to the catalog's English, for search.

mod entities;
mod features;
mod intent;
mod lexicon;
mod linear;
mod normalize;

pub use entities::{Entities, Reference};
pub use intent::{Intent, Lang};
pub use normalize::{fold, tokens};

use features::ConceptIndex;
use linear::{LinearModel, TrainSettings, argmax};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// The labelled messages the shipped classifier learns from.
pub const TRAINING_SET: &str = include_str!("../../../data/intents/train.jsonl");
/// The glossary: `lang<TAB>term<TAB>english` per line.
pub const GLOSSARY: &str = include_str!("../../../data/lexicon/glossary.tsv");

/// What a message means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Understanding {
    /// The intent.
    pub intent: Intent,
    /// The classifier's probability for it, 0 to 1.
    pub confidence: f32,
    /// The runner-up and its probability.
    pub runner_up: (Intent, f32),
    /// The message's language, when the text says enough to tell.
    pub lang: Option<Lang>,
    /// Its entities.
    pub entities: Entities,
    /// The search text: product words, with words of the other languages translated to the
    /// catalog's English by the glossary.
    pub search_text: String,
    /// True when a product word the glossary knows (in any language) is among the message's
    /// words: the message names a kind of product, not only a constraint.
    pub names_products: bool,
    /// The message's normalised tokens.
    #[serde(skip)]
    pub tokens: Vec<String>,
}

/// One labelled message.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Labelled {
    /// The message.
    pub text: String,
    /// Its intent label.
    pub intent: String,
    /// Its language, when given.
    #[serde(default)]
    pub lang: Option<String>,
}

/// Reads JSON Lines of labelled messages; blank lines are skipped. Errors name the line.
pub fn parse_labelled(text: &str) -> Result<Vec<Labelled>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let l: Labelled = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        out.push(l);
    }
    Ok(out)
}

/// The trained understanding. Build once ([`Understander::shared`]) and share.
#[derive(Debug)]
pub struct Understander {
    intents: LinearModel,
    langs: LinearModel,
    concepts: ConceptIndex,
    /// (language, folded term) → English.
    glossary: HashMap<(Lang, String), String>,
    /// Every product word the glossary knows, in any language (English included).
    product_words: HashSet<String>,
}

impl Understander {
    /// The understander trained on the shipped set, built on first use.
    pub fn shared() -> Arc<Understander> {
        static SHARED: OnceLock<Arc<Understander>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let examples = parse_labelled(TRAINING_SET).unwrap_or_default();
                Arc::new(Understander::train(&examples))
            })
            .clone()
    }

    /// Trains on `examples`; lines with an unknown label are skipped.
    pub fn train(examples: &[Labelled]) -> Understander {
        let mut glossary = HashMap::new();
        let mut product_words = HashSet::new();
        for line in GLOSSARY.lines() {
            let mut parts = line.split('\t');
            let (Some(lang), Some(term), Some(english)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if lang.starts_with('#') {
                continue;
            }
            let Some(lang) = Lang::from_tag(lang.trim()) else {
                continue;
            };
            let term = fold(term.trim());
            let english = english.trim().to_lowercase();
            for w in term.split_whitespace().chain(english.split_whitespace()) {
                product_words.insert(w.to_string());
            }
            glossary.insert((lang, term), english);
        }
        let concepts = ConceptIndex::new();
        let is_product = |w: &str| product_words.contains(w);
        let mut intent_examples = Vec::new();
        let mut lang_examples = Vec::new();
        for ex in examples {
            let Some(intent) = Intent::parse(&ex.intent) else {
                continue;
            };
            let toks = tokens(&ex.text);
            intent_examples.push((
                features::intent_features(&toks, &concepts, is_product),
                intent.index(),
            ));
            if let Some(lang) = ex.lang.as_deref().and_then(Lang::from_tag) {
                lang_examples.push((lang_features(&toks, &ex.text), lang.index()));
            }
        }
        let intents = LinearModel::train(
            Intent::ALL.len(),
            &intent_examples,
            TrainSettings::default(),
        );
        let langs = LinearModel::train(
            Lang::ALL.len(),
            &lang_examples,
            TrainSettings {
                epochs: 4,
                ..TrainSettings::default()
            },
        );
        Understander {
            intents,
            langs,
            concepts,
            glossary,
            product_words,
        }
    }

    /// Understands `text`.
    pub fn understand(&self, text: &str) -> Understanding {
        let toks = tokens(text);
        let feats =
            features::intent_features(&toks, &self.concepts, |w| self.product_words.contains(w));
        let probs = self.intents.predict(&feats);
        let (best, confidence) = argmax(&probs);
        let mut rest = probs.clone();
        rest[best] = f32::NEG_INFINITY;
        let (second, p2) = argmax(&rest);
        let lang = self.language(&toks, text);
        let entities = entities::extract(&toks, text);
        let search_text = self.search_text(&entities.product_terms, lang);
        let names_products = entities
            .product_terms
            .iter()
            .any(|t| self.product_words.contains(t.as_str()));
        let mut u = Understanding {
            intent: Intent::ALL[best],
            confidence,
            runner_up: (Intent::ALL[second], p2),
            lang,
            entities,
            search_text,
            names_products,
            tokens: toks,
        };
        apply_decision_rules(&mut u);
        u
    }

    /// The language, when the words say it clearly.
    fn language(&self, toks: &[String], raw: &str) -> Option<Lang> {
        let words = toks
            .iter()
            .filter(|t| t.chars().any(char::is_alphabetic))
            .count();
        if words == 0 {
            return None;
        }
        let probs = self.langs.predict(&lang_features(toks, raw));
        let (best, p) = argmax(&probs);
        let needed = if words == 1 { 0.8 } else { 0.5 };
        (p >= needed).then_some(Lang::ALL[best])
    }

    /// Product words with the glossary's translations (in `lang` first, then any language).
    fn search_text(&self, terms: &[String], lang: Option<Lang>) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < terms.len() {
            // Two-word terms first ("sac a dos" arrives as "sac", "dos" after stop words).
            if i + 1 < terms.len()
                && let Some(en) = self.translate(&format!("{} {}", terms[i], terms[i + 1]), lang)
            {
                out.push(en.to_string());
                i += 2;
                continue;
            }
            out.push(
                self.translate(&terms[i], lang)
                    .unwrap_or(&terms[i])
                    .to_string(),
            );
            i += 1;
        }
        out.join(" ")
    }

    fn translate(&self, term: &str, lang: Option<Lang>) -> Option<&str> {
        if let Some(l) = lang
            && let Some(en) = self.glossary.get(&(l, term.to_string()))
        {
            return Some(en);
        }
        Lang::ALL
            .iter()
            .filter(|l| Some(**l) != lang)
            .find_map(|l| self.glossary.get(&(*l, term.to_string())))
            .map(String::as_str)
    }

    /// Features the intent model knows (for reports).
    pub fn vocabulary(&self) -> usize {
        self.intents.vocabulary()
    }
}

/// The intent guide's rules the classifier cannot learn from a few thousand examples, applied
/// to its answer: a price bound ("under 50", "até 300") with no other request is a search (or
/// its refinement), a comparison that compares nothing but names a quantity is a change of
/// quantity, and a cart view that names a product and not the cart is a search.
/// "Only" ("only one please", "melhor só duas"), folded.
pub const ONLY_WORDS: &[&str] = &[
    "only",
    "just",
    "solo",
    "so",
    "nur",
    "seulement",
    "seul",
    "seule",
    "apenas",
    "somente",
    "solamente",
];

fn apply_decision_rules(u: &mut Understanding) {
    /// Verbs that set a quantity ("que sean dos", "make it two", "mets-en deux").
    const QUANTITY_VERBS: &[&str] = &[
        "sean", "sea", "make", "mach", "mets", "deixa", "fica", "quero", "quiero", "ponme",
        "nehme", "prends",
    ];
    /// Words that ask how many, not how much money ("how many pieces", "combien de pièces").
    const COUNT_WORDS: &[&str] = &["many", "cuantos", "cuantas", "viele", "quantos", "quantas"];
    /// Words about money that keep a "how many / combien" question about the price.
    const MONEY_WORDS: &[&str] = &[
        "cost", "costs", "price", "prix", "coute", "coutent", "cuesta", "cuestan", "precio",
        "kostet", "kosten", "preis", "custa", "custam", "preco", "dollars", "dollar", "euros",
        "euro", "dolares", "reais", "bucks", "pay", "paye", "pagar", "zahlen", "payer",
    ];
    /// Nouns for the cart itself ("drin", "added" are cart words that also speak of products).
    const CART_NOUNS: &[&str] = &[
        "cart",
        "basket",
        "bag",
        "trolley",
        "carrito",
        "carro",
        "cesta",
        "canasta",
        "panier",
        "warenkorb",
        "korb",
        "einkaufswagen",
        "carrinho",
        "cesto",
        "sacola",
    ];
    /// Words that offer a choice between products ("or", "which").
    const CHOICE_WORDS: &[&str] = &[
        "or", "between", "o", "entre", "ou", "lequel", "laquelle", "oder", "zwischen",
    ];
    /// Words about a product's measures, not its price ("elle pèse combien").
    const MEASURE_WORDS: &[&str] = &[
        "weigh", "weighs", "pese", "pesa", "pesan", "wiegt", "long", "largo", "longue", "lang",
        "tall", "alto", "haut", "hoch", "wide", "ancho", "large", "breit", "tempo", "tiempo",
        "temps", "dure", "dura", "lange",
    ];
    /// Verbs that put something in the cart (a need alone is a search).
    const ADD_VERBS: &[&str] = &[
        "add",
        "put",
        "anade",
        "anadir",
        "agrega",
        "ajoute",
        "ajouter",
        "ajoutez",
        "mets",
        "hinzufugen",
        "fuge",
        "pack",
        "packe",
        "adiciona",
        "adicione",
        "coloca",
        "pon",
        "ponme",
        "pongame",
        "take",
        "nehm",
        "nehme",
        "prends",
        "llevo",
        "levo",
    ];
    /// Verbs that set a quantity outright ("mach 2 draus", "make it 3").
    const SET_VERBS: &[&str] = &[
        "mach", "make", "mets", "sean", "sea", "deixa", "fica", "change", "cambia",
    ];
    /// Words that, with "only", lower a quantity ("only one, not three").
    const FEWER_WORDS: &[&str] = &[
        "not", "no", "nao", "nicht", "pas", "fewer", "less", "menos", "moins", "weniger",
    ];
    /// Verbs that ask whether the store carries something.
    const CARRY_WORDS: &[&str] = &[
        "tienen", "tienes", "venden", "vendeis", "avez", "vendez", "habt", "gibt", "gibts",
        "fuhrt", "fuhren", "verkauft", "vendem", "teem",
    ];
    /// The payment link, and asking for it to be sent.
    const LINK_WORDS: &[&str] = &["link", "lien", "enlace", "liga"];
    const SEND_WORDS: &[&str] = &[
        "send", "envoyez", "envoie", "envoyer", "manda", "mande", "mandame", "envia", "envie",
        "enviame", "schick", "schicken", "schickt", "give", "dame", "donne", "donnez",
    ];
    /// Words that ask for one more of the same.
    const AGAIN_WORDS: &[&str] = &[
        "another", "same", "otro", "otra", "igual", "autre", "meme", "noch", "gleiche", "outro",
        "outra", "mesmo", "mesma",
    ];
    /// Words that say the visitor needs or looks for something.
    const NEED_WORDS: &[&str] = &[
        "need", "looking", "want", "necesito", "busco", "quiero", "preciso", "procuro", "quero",
        "besoin", "cherche", "voudrais", "brauche", "brauch", "suche", "mochte", "needs",
        "necesita", "precisa", "faut",
    ];
    let e = &u.entities;
    let bound = e.max_price_minor.is_some() || e.min_price_minor.is_some();
    let has = |concept: &str| {
        let words = lexicon::concept_words(concept);
        u.tokens.iter().any(|t| words.contains(&t.as_str()))
    };
    let any = |words: &[&str]| u.tokens.iter().any(|t| words.contains(&t.as_str()));
    let ordinal = e
        .references
        .iter()
        .any(|r| matches!(r, Reference::Ordinal(_)));
    // An ordinal that opens or closes the message ("a primeira mantém…", "…du premier ?")
    // picks a product from the list; one inside it is usually not about the list ("my first
    // marathon", "o primeiro rei de Portugal").
    let picks_from_list = ordinal && {
        let ordinals = lexicon::concept_words("ordinal");
        let words: Vec<&str> = u
            .tokens
            .iter()
            .map(String::as_str)
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .filter(|t| !matches!(*t, "one" | "uno" | "una" | "um" | "uma" | "ones"))
            .collect();
        let n = words.len();
        words
            .iter()
            .enumerate()
            .any(|(i, t)| ordinals.contains(t) && (i <= 1 || i + 1 == n))
    };
    // "do you have…", "¿tienen…?", "vous avez…", "gibt es…", "vocês vendem…", Portuguese
    // "tem" opening or closing the message ("…, tem?"; inside it, "a barraca tem zíper?", it is
    // about a product).
    let asks_carried = {
        let t: Vec<&str> = u
            .tokens
            .iter()
            .map(String::as_str)
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .collect();
        let pairs = t.windows(2).any(|w| {
            matches!(
                (w[0], w[1]),
                ("you", "have" | "got" | "sell" | "carry" | "stock") | ("got", "any")
            )
        });
        pairs
            || t.iter().any(|w| CARRY_WORDS.contains(w))
            || t.first().is_some_and(|w| *w == "tem")
            || t.last().is_some_and(|w| *w == "tem")
    };
    let counts = u.tokens.iter().any(|t| COUNT_WORDS.contains(&t.as_str()))
        || any(MEASURE_WORDS)
        || u.tokens
            .windows(2)
            .any(|w| w[0] == "combien" && w[1] == "de");
    let about_money = u.tokens.iter().any(|t| MONEY_WORDS.contains(&t.as_str()));
    let corrected = match u.intent {
        Intent::OffTopic
        | Intent::Unknown
        | Intent::DiscountQuestion
        | Intent::Farewell
        | Intent::Greeting
            if bound && e.order_number.is_none() =>
        {
            Some(Intent::ProductSearch)
        }
        // "maximal 300 bitte", "preferably less than 160 bucks": a bare budget refines the
        // search; it points at nothing to add, remove or track.
        Intent::AddToCart | Intent::RemoveFromCart | Intent::OrderStatus
            if bound
                && e.order_number.is_none()
                && e.references.is_empty()
                && e.quantity.is_none()
                && !has("cart") =>
        {
            Some(Intent::ProductSearch)
        }
        // "y alguna que cueste menos de 150?": a budget and fewer than two products to compare.
        Intent::ProductComparison if bound && e.references.len() < 2 && !has("compare") => {
            Some(Intent::ProductSearch)
        }
        // "mach 2 draus": a verb that sets a quantity, and none that removes or lowers.
        Intent::RemoveFromCart
            if e.quantity.is_some()
                && any(SET_VERBS)
                && !has("remove")
                && !any(ONLY_WORDS)
                && !any(FEWER_WORDS) =>
        {
            Some(Intent::AddToCart)
        }
        // "brauch noch ne stehlampe dazu": needing a kind of product, with no verb that puts
        // one in the cart, is a search.
        Intent::AddToCart
            if u.names_products
                && e.references.is_empty()
                && any(NEED_WORDS)
                && !any(ADD_VERBS) =>
        {
            Some(Intent::ProductSearch)
        }
        // "c'est quoi la matière du premier ?", "a primeira mantém gelado por quanto tempo?":
        // a product picked from the list is what the question is about.
        Intent::OffTopic | Intent::Unknown if picks_from_list => Some(Intent::ProductQuestion),
        Intent::ShippingQuestion if picks_from_list && !has("ship") => {
            Some(Intent::ProductQuestion)
        }
        // "ah, melhor só duas": fewer of what is in the cart, not a comparison.
        Intent::ProductComparison
            if e.quantity.is_some() && e.references.len() < 2 && any(ONLY_WORDS) =>
        {
            Some(Intent::RemoveFromCart)
        }
        // "envoyez-moi le lien de paiement": asking for the payment link, with nothing failing.
        Intent::PaymentIssue if any(LINK_WORDS) && any(SEND_WORDS) && !has("fail") => {
            Some(Intent::Checkout)
        }
        // "Póngame otra igual": one more of the same.
        Intent::OffTopic if has("add") && any(AGAIN_WORDS) => Some(Intent::AddToCart),
        // "e uma frigideira de ferro fundido, tem?": whether the store carries a kind of
        // product is a search (the guide's boundary), unless the question asks about a feature.
        Intent::ProductQuestion
            if u.names_products && e.references.is_empty() && asks_carried && !has("spec") =>
        {
            Some(Intent::ProductSearch)
        }
        // "de que trata el primero?": one product picked by its place in the list, and no word
        // that compares or offers a choice, is a question about it.
        Intent::ProductComparison
            if matches!(e.references.as_slice(), [Reference::Ordinal(_)])
                && !has("compare")
                && !any(CHOICE_WORDS) =>
        {
            Some(Intent::ProductQuestion)
        }
        // "how does the first compare with the second": two products and a word that compares.
        Intent::ProductQuestion if e.references.len() >= 2 && has("compare") => {
            Some(Intent::ProductComparison)
        }
        // "il y a combien de pièces dans le deuxième ?": how many, not how much money.
        Intent::PriceQuestion if counts && !about_money => Some(Intent::ProductQuestion),
        // "wie viel ml sind beim ersten drin?": a product picked from the list and no noun for
        // the cart.
        Intent::ViewCart if ordinal && !any(CART_NOUNS) => Some(Intent::ProductQuestion),
        // "preciso de uma jaqueta bem quentinha pro inverno, tamanho S": an unsure off-topic
        // call on a message that needs a kind of product the store sells.
        Intent::OffTopic if u.names_products && u.confidence < 0.5 && any(NEED_WORDS) => {
            Some(Intent::ProductSearch)
        }
        // "show me mugs": a product kind and no word for the cart is a search.
        Intent::ViewCart
            if u.names_products
                && !u
                    .tokens
                    .iter()
                    .any(|t| lexicon::concept_words("cart").contains(&t.as_str())) =>
        {
            Some(Intent::ProductSearch)
        }
        // "quita la sudadera, me quedo con la chaqueta": a message that opens with a verb that
        // removes is a removal, whatever it says it takes after.
        Intent::AddToCart
            if u.tokens
                .first()
                .is_some_and(|t| lexicon::concept_words("remove").contains(&t.as_str())) =>
        {
            Some(Intent::RemoveFromCart)
        }
        Intent::ProductComparison
            if e.quantity.is_some()
                && e.references.len() < 2
                && u.tokens
                    .iter()
                    .any(|t| QUANTITY_VERBS.contains(&t.as_str())) =>
        {
            Some(Intent::AddToCart)
        }
        _ => None,
    };
    if let Some(intent) = corrected {
        u.runner_up = (u.intent, u.confidence);
        u.intent = intent;
        // A rule decided: as sure as the rule is.
        u.confidence = u.confidence.max(0.6);
    }
}

/// Language features: folded words and n-grams, plus the accented letters as typed.
fn lang_features(toks: &[String], raw: &str) -> Vec<linear::Feature> {
    let mut f = features::language_features(toks);
    for c in raw.chars().filter(|c| c.is_alphabetic() && !c.is_ascii()) {
        f.push(linear::feature(&format!("r:{}", c.to_lowercase())));
    }
    f.sort_unstable();
    f.dedup();
    f
}

#[cfg(test)]
mod tests;
