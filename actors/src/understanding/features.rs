//! What the classifiers see of a message: words and word pairs, character n-grams (robust to
//! typos and inflection), the concepts of the shared lexicon (so languages help each other),
//! where the first and last concepts stand (the last request wins), and the message's shape.

use super::linear::{Feature, feature};
use std::collections::HashMap;

/// Looks up the concepts of folded words.
#[derive(Debug, Clone)]
pub struct ConceptIndex {
    by_word: HashMap<&'static str, Vec<&'static str>>,
}

impl ConceptIndex {
    /// The index of [`super::lexicon::CONCEPTS`].
    pub fn new() -> Self {
        let mut by_word: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for (concept, words) in super::lexicon::CONCEPTS {
            for w in *words {
                let list = by_word.entry(w).or_default();
                if !list.contains(concept) {
                    list.push(concept);
                }
            }
        }
        Self { by_word }
    }

    /// The concepts of `word`.
    pub fn of(&self, word: &str) -> &[&'static str] {
        self.by_word.get(word).map(Vec::as_slice).unwrap_or(&[])
    }
}

impl Default for ConceptIndex {
    fn default() -> Self {
        Self::new()
    }
}

/// The intent features of a tokenised message. `is_product_word` tells words of the catalog's
/// vocabulary (in any language).
pub fn intent_features(
    tokens: &[String],
    concepts: &ConceptIndex,
    is_product_word: impl Fn(&str) -> bool,
) -> Vec<Feature> {
    let mut out = Vec::with_capacity(tokens.len() * 12 + 8);
    let mut push = |name: String| out.push(feature(&name));
    let mut concept_seq: Vec<&str> = Vec::new();
    let words: Vec<&str> = tokens
        .iter()
        .map(String::as_str)
        .filter(|t| *t != "?")
        .collect();
    for (i, t) in words.iter().enumerate() {
        push(format!("w:{t}"));
        let prev = if i == 0 { "<s>" } else { words[i - 1] };
        push(format!("b:{prev} {t}"));
        if t.chars().all(|c| c.is_ascii_digit()) {
            push(if t.len() >= 4 {
                "s:bignum".into()
            } else {
                "s:num".into()
            });
            continue;
        }
        if t.chars().any(|c| c.is_ascii_digit()) {
            push("s:alnum".into());
        }
        let stem: String = t.chars().take(5).collect();
        push(format!("p:{stem}"));
        let padded: Vec<char> = format!("<{t}>").chars().collect();
        for n in 3..=4 {
            if padded.len() < n {
                break;
            }
            for g in padded.windows(n) {
                push(format!("c:{}", g.iter().collect::<String>()));
            }
        }
        for c in concepts.of(t) {
            push(format!("k:{c}"));
            concept_seq.push(c);
        }
        if is_product_word(t) {
            push("k:product".into());
            concept_seq.push("product");
        }
    }
    if let Some(last) = words.last() {
        push(format!("b:{last} </s>"));
    }
    if let Some(first) = concept_seq.first() {
        push(format!("fk:{first}"));
    }
    if let Some(last) = concept_seq.last() {
        push(format!("lk:{last}"));
    }
    for pair in concept_seq.windows(2) {
        push(format!("kk:{} {}", pair[0], pair[1]));
    }
    push(format!(
        "len:{}",
        match words.len() {
            0 => "0",
            1 => "1",
            2 => "2",
            3 | 4 => "3-4",
            5..=8 => "5-8",
            _ => "9+",
        }
    ));
    if tokens.iter().any(|t| t == "?") {
        push("s:q".into());
    }
    if words.is_empty() {
        push("s:empty".into());
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The language features of a tokenised message: words and character n-grams.
pub fn language_features(tokens: &[String]) -> Vec<Feature> {
    let mut out = Vec::with_capacity(tokens.len() * 8);
    for t in tokens {
        if t.chars().any(|c| c.is_ascii_digit()) || t == "?" {
            continue;
        }
        out.push(feature(&format!("w:{t}")));
        let padded: Vec<char> = format!("<{t}>").chars().collect();
        for n in 2..=4 {
            if padded.len() < n {
                break;
            }
            for g in padded.windows(n) {
                out.push(feature(&format!("c:{}", g.iter().collect::<String>())));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
