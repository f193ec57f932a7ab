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

mod corrections;
mod entities;
mod features;
mod intent;
mod lexicon;
mod linear;
mod normalize;

pub use corrections::{AGAIN_WORDS, ONLY_WORDS};
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
        corrections::apply(&mut u);
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
