//! What a search looks for, read from the visitor's words before any stage runs, and the last
//! ranking step that uses it.
//!
//! - The understanding (`agentpay_actors::understanding`) tells the query's language and
//!   translates product words of Spanish, French, German and Portuguese to the catalog's English
//!   with the shipped glossary. The full-text stage searches those English words (an English
//!   catalog has no "zapatillas"); the vector stage embeds the query as typed (the multilingual
//!   model reads it) and, for a query in another language, its English words too, in the same
//!   call.
//! - Entity boosts: a product whose colour, material or yes/no attributes ("waterproof: yes")
//!   name what the query asks for moves up among the fused candidates.

use agentpay_actors::understanding::{Lang, Understander, fold};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

/// How one query is searched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryPlan {
    /// Texts whose vectors are searched: the query as typed, then (for another language) its
    /// English words.
    pub vector_texts: Vec<String>,
    /// Words for the full-text stage (English words for a query in another language).
    pub text_words: Vec<String>,
    /// The query's language when it is clear.
    pub lang: Option<Lang>,
    /// Folded English words the query asks for (a colour, "waterproof", "leather"…): attribute
    /// values that match them boost a product.
    pub wanted: HashSet<String>,
}

/// Words that carry no product meaning in a full-text query (English; the full-text stage's
/// own stop list drops the rest).
const FILLER: &[&str] = &[
    "something",
    "anything",
    "need",
    "want",
    "looking",
    "look",
    "find",
    "show",
    "me",
    "please",
    "good",
    "nice",
    "best",
    "some",
    "any",
    "one",
    "ones",
    "thing",
    "things",
    "stuff",
    "buy",
    "get",
    "like",
    "would",
    "could",
    "can",
    "i",
    "im",
    "my",
    "a",
    "an",
    "the",
    "for",
    "to",
    "with",
    "and",
    "or",
    "of",
    "in",
    "on",
    "that",
    "which",
    "who",
    "is",
    "are",
];

/// Words that say a product is wanted as a present, not what it is ("gift" also matches every
/// description that calls itself a great gift).
const GIFT: &[&str] = &[
    "gift",
    "gifts",
    "present",
    "presents",
    "idea",
    "ideas",
    "regalo",
    "regalos",
    "cadeau",
    "cadeaux",
    "geschenk",
    "geschenke",
    "geschenkidee",
    "presente",
    "presentes",
    "lembranca",
];

/// Reads `text` (price phrases already removed).
pub fn plan(text: &str) -> QueryPlan {
    let typed = text.trim();
    if typed.is_empty() {
        return QueryPlan::default();
    }
    let u = Understander::shared().understand(typed);
    let english = u.search_text.trim();
    let foreign = matches!(u.lang, Some(l) if l != Lang::En);
    let mut vector_texts = vec![typed.to_string()];
    let mut text_words: Vec<String> = if foreign && !english.is_empty() {
        words(english)
    } else {
        words(typed)
    };
    // The catalog's words for what the visitor named in other words ("futon": sofa bed).
    let extra = expand(&words(english));
    text_words.extend(extra.iter().cloned());
    // The query in the catalog's words: its English product words without the words that only
    // say it is a gift, then the thesaurus's words.
    let mut catalog_words = words(english)
        .into_iter()
        .filter(|w| !GIFT.contains(&w.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    for w in &extra {
        catalog_words.push(' ');
        catalog_words.push_str(w);
    }
    if (foreign || !extra.is_empty()) && !english.is_empty() && fold(&catalog_words) != fold(typed)
    {
        vector_texts.push(catalog_words);
    }
    // Filler words go unless nothing else is left (then the catalog language decides).
    let meaningful: Vec<String> = text_words
        .iter()
        .filter(|w| !FILLER.contains(&w.as_str()) && !GIFT.contains(&w.as_str()))
        .cloned()
        .collect();
    if !meaningful.is_empty() {
        text_words = meaningful;
    }
    let mut wanted: HashSet<String> = words(english).into_iter().map(|w| singular(&w)).collect();
    wanted.extend(words(typed).into_iter().map(|w| singular(&w)));
    if let Some(c) = &u.entities.colour {
        wanted.insert(fold(c));
    }
    QueryPlan {
        vector_texts,
        text_words,
        lang: u.lang,
        wanted,
    }
}

/// The shopping thesaurus: `term<TAB>catalog words` per line (data/lexicon/synonyms.tsv).
pub const SYNONYMS: &str = include_str!("../../data/lexicon/synonyms.tsv");

fn synonyms() -> &'static HashMap<String, Vec<String>> {
    static MAP: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    MAP.get_or_init(|| {
        SYNONYMS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(term, words)| {
                (
                    fold(term.trim()),
                    words.split_whitespace().map(str::to_string).collect(),
                )
            })
            .collect()
    })
}

/// The thesaurus's words for the terms among `words` (two-word terms first), each once and
/// none already there.
pub fn expand(words: &[String]) -> Vec<String> {
    let map = synonyms();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let pair = words
            .get(i + 1)
            .map(|next| format!("{} {next}", words[i]))
            .and_then(|p| map.get(&p));
        let (found, step) = match pair {
            Some(f) => (Some(f), 2),
            None => (map.get(&words[i]), 1),
        };
        for w in found.into_iter().flatten() {
            if !words.contains(w) && !out.contains(w) {
                out.push(w.clone());
            }
        }
        i += step;
    }
    out
}

/// Folded words of `text` (letters and digits).
fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A rough English singular ("jackets" → "jacket"), enough to compare with attribute values.
fn singular(word: &str) -> String {
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") {
        word[..word.len() - 1].to_string()
    } else {
        word.to_string()
    }
}

/// Values that mean an attribute is absent.
const NO: &[&str] = &["no", "false", "none", "n/a", ""];
const YES: &[&str] = &["yes", "true"];

/// The folded words a product's attributes (and its variants') stand for: a value's words, or
/// the key's words when the value is "yes".
pub fn attribute_words<'a>(
    attributes: impl IntoIterator<Item = &'a BTreeMap<String, String>>,
) -> HashSet<String> {
    let mut out = HashSet::new();
    for map in attributes {
        for (k, v) in map {
            let v = fold(v);
            if YES.contains(&v.as_str()) {
                out.extend(words(&k.replace('_', " ")).iter().map(|w| singular(w)));
            } else if !NO.contains(&v.as_str()) {
                out.extend(words(&v).iter().map(|w| singular(w)));
            }
        }
    }
    out
}

/// How many of the query's wanted words a product's attribute words match (words of three
/// letters or more: numbers and short codes say too little alone).
pub fn matches(plan: &QueryPlan, product: &HashSet<String>) -> usize {
    plan.wanted
        .iter()
        .filter(|w| w.len() >= 3 && w.chars().all(char::is_alphabetic) && product.contains(*w))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_language_is_searched_in_the_catalogs_words_and_as_typed() {
        let p = plan("chaqueta impermeable roja");
        assert_eq!(p.lang, Some(Lang::Es));
        assert_eq!(p.vector_texts[0], "chaqueta impermeable roja");
        assert_eq!(p.vector_texts.len(), 2, "{p:?}");
        assert!(p.text_words.contains(&"jacket".to_string()), "{p:?}");
        assert!(p.text_words.contains(&"waterproof".to_string()), "{p:?}");
        assert!(
            p.wanted.contains("red") && p.wanted.contains("waterproof"),
            "{p:?}"
        );
        let p = plan("red running shoes");
        assert_eq!(p.vector_texts, vec!["red running shoes".to_string()]);
        assert_eq!(p.text_words, vec!["red", "running", "shoes"]);
    }

    #[test]
    fn attributes_stand_for_their_values_and_their_yes_keys() {
        let attrs: BTreeMap<String, String> = [
            ("color".to_string(), "Red".to_string()),
            ("waterproof".to_string(), "yes".to_string()),
            ("insulated".to_string(), "no".to_string()),
            ("material".to_string(), "full-grain leather".to_string()),
        ]
        .into();
        let words = attribute_words([&attrs]);
        for w in ["red", "waterproof", "leather", "grain"] {
            assert!(words.contains(w), "{w}: {words:?}");
        }
        assert!(!words.contains("insulated"));
        let p = plan("red waterproof boots");
        assert_eq!(matches(&p, &words), 2);
    }
}
