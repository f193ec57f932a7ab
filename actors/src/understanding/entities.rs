//! Entities: what the agent needs to act on a message, in every language. Price bounds, colour,
//! size, quantity, an order number, references to products already shown, and the product words
//! to search for.

use super::lexicon::{
    CHEAPEST, COLOURS, LETTER_SIZES, NOT_PRODUCT_WORDS, ORDINALS, PRICIEST, SIZE_WORDS, number,
};
use serde::Serialize;

/// A pointer at a product the visitor was shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Reference {
    /// By position, 1-based; 0 is the last one.
    Ordinal(usize),
    /// The cheapest shown.
    Cheapest,
    /// The most expensive shown.
    Priciest,
    /// By colour ("the red one").
    Colour(String),
    /// "it", "this one", "that": the product in focus.
    Deictic,
}

/// What a message names besides its intent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Entities {
    /// Product words as the visitor wrote them (folded), without function words.
    pub product_terms: Vec<String>,
    /// Lowest price asked, in minor units (two decimals).
    pub min_price_minor: Option<i64>,
    /// Highest price asked, in minor units (two decimals).
    pub max_price_minor: Option<i64>,
    /// Colour, as the catalog spells it (English).
    pub colour: Option<String>,
    /// Size, as the catalog spells it (`M`, `XL`, `42`).
    pub size: Option<String>,
    /// A quantity.
    pub quantity: Option<u32>,
    /// An order number.
    pub order_number: Option<String>,
    /// References to shown products, in the order written.
    pub references: Vec<Reference>,
}

const UPPER: &[&[&str]] = &[
    &["under"],
    &["below"],
    &["less", "than"],
    &["max"],
    &["maximum"],
    &["up", "to"],
    &["within"],
    &["cheaper", "than"],
    &["no", "more", "than"],
    &["menos", "de"],
    &["hasta"],
    &["maximo"],
    &["por", "debajo", "de"],
    &["inferior", "a"],
    &["moins", "de"],
    &["jusqu", "a"],
    &["sous"],
    &["unter"],
    &["bis"],
    &["weniger", "als"],
    &["hochstens"],
    &["maximal"],
    &["billiger", "als"],
    &["ate"],
    &["abaixo", "de"],
    &["no", "maximo"],
    &["menos", "que"],
];
const LOWER: &[&[&str]] = &[
    &["over"],
    &["above"],
    &["more", "than"],
    &["at", "least"],
    &["min"],
    &["mas", "de"],
    &["desde"],
    &["plus", "de"],
    &["au", "moins"],
    &["uber"],
    &["mehr", "als"],
    &["ab"],
    &["mais", "de"],
    &["acima", "de"],
    &["a", "partir", "de"],
    &["minimo"],
];
/// Words that turn a lower bound just after them into an upper one: "pas plus de 60", "que no
/// cueste más de 60", "nicht mehr als 60", "doesn't cost more than 60".
const NEGATIONS: &[&str] = &[
    "not", "t", "no", "pas", "nicht", "nao", "never", "nunca", "jamais",
];
const BETWEEN: &[&str] = &["between", "entre", "zwischen"];
const AND: &[&str] = &["and", "y", "et", "und", "e", "to", "a"];
const MONEY_NOISE: &[&str] = &["$", "€", "£", "us", "usd", "eur", "the", "de", "que", "a"];
const ORDER_WORDS: &[&str] = &[
    "order",
    "pedido",
    "commande",
    "bestellung",
    "encomenda",
    "bestellnummer",
    "auftrag",
    "nr",
    "no",
    "number",
    "numero",
    "n",
];
const NUMBER_WORDS_FOR_POSITION: &[&str] =
    &["number", "numero", "nummer", "nr", "no", "n", "option"];
const DEICTIC: &[&str] = &[
    "it", "this", "that", "esto", "este", "esta", "ese", "esa", "eso", "lo", "celui", "celle",
    "ca", "cela", "das", "dieser", "diese", "dieses", "ihn", "esse", "essa", "isso", "aquele",
    "aquela", "one",
];
const SIZE_PREPOSITIONS: &[&str] = &["in", "en", "em", "im", "la", "el", "une", "the", "a", "o"];

/// Parses a money amount token ("49", "49.99", "49,99") into minor units.
fn amount(token: &str) -> Option<i64> {
    let t = token.replace(',', ".");
    let mut parts = t.split('.');
    let whole: i64 = parts.next()?.parse().ok()?;
    let frac = match parts.next() {
        None => 0,
        Some(f) if f.len() == 2 => f.parse::<i64>().ok()?,
        Some(f) if f.len() == 3 && parts.clone().next().is_none() => {
            // "1.000" is a thousands separator.
            return whole
                .checked_mul(1000)?
                .checked_add(f.parse::<i64>().ok()?)?
                .checked_mul(100);
        }
        Some(_) => return None,
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// Whether `tokens[i..]` starts with `phrase`.
fn at(tokens: &[String], i: usize, phrase: &[&str]) -> bool {
    phrase
        .iter()
        .enumerate()
        .all(|(k, w)| tokens.get(i + k).is_some_and(|t| t == w))
}

/// The amount after position `i`, skipping currency noise; with the index after it.
fn amount_after(tokens: &[String], mut i: usize) -> Option<(i64, usize)> {
    for _ in 0..3 {
        let t = tokens.get(i)?;
        if let Some(a) = t
            .chars()
            .next()
            .filter(char::is_ascii_digit)
            .and_then(|_| amount(t))
        {
            return Some((a, i + 1));
        }
        if !MONEY_NOISE.contains(&t.as_str()) {
            return None;
        }
        i += 1;
    }
    None
}

/// "dos" in French "sac à dos" (a backpack) is not the Spanish two.
fn is_sac_a_dos(tokens: &[String], i: usize) -> bool {
    tokens[i] == "dos" && i >= 1 && tokens[i - 1] == "a"
}

/// "tres" in French "très bien" (very) is not the Spanish three: the text as typed has its
/// grave accent, or the next word is one "très" goes with.
fn is_french_tres(tokens: &[String], i: usize, raw: &str) -> bool {
    tokens[i] == "tres"
        && (raw.to_lowercase().contains("très")
            || tokens.get(i + 1).is_some_and(|n| {
                matches!(
                    n.as_str(),
                    "bien"
                        | "bon"
                        | "bonne"
                        | "beau"
                        | "belle"
                        | "joli"
                        | "jolie"
                        | "cher"
                        | "chere"
                )
            }))
}

/// Extracts the entities of a folded, tokenised message; `raw` is the text as typed (for
/// upper-case sizes such as "M").
pub fn extract(tokens: &[String], raw: &str) -> Entities {
    let mut e = Entities::default();
    let mut used = vec![false; tokens.len()];
    let mut i = 0;
    while i < tokens.len() {
        if let Some(b) = BETWEEN.iter().position(|w| tokens[i] == *w).map(|_| i)
            && let Some((lo, j)) = amount_after(tokens, b + 1)
            && tokens.get(j).is_some_and(|t| AND.contains(&t.as_str()))
            && let Some((hi, k)) = amount_after(tokens, j + 1)
        {
            e.min_price_minor = Some(lo.min(hi));
            e.max_price_minor = Some(lo.max(hi));
            used[i..k].iter_mut().for_each(|u| *u = true);
            i = k;
            continue;
        }
        let mut matched = false;
        for (phrases, upper) in [(UPPER, true), (LOWER, false)] {
            if let Some(p) = phrases.iter().find(|p| at(tokens, i, p))
                && let Some((a, j)) = amount_after(tokens, i + p.len())
            {
                let negated = tokens[i.saturating_sub(2)..i]
                    .iter()
                    .any(|t| NEGATIONS.contains(&t.as_str()));
                if upper || negated {
                    e.max_price_minor = Some(a);
                } else {
                    e.min_price_minor = Some(a);
                }
                used[i..j].iter_mut().for_each(|u| *u = true);
                i = j;
                matched = true;
                break;
            }
        }
        if !matched {
            i += 1;
        }
    }
    // "50-100 dollars" arrives as two numbers with a currency word; "20 a 40 euros" too.
    for (i, t) in tokens.iter().enumerate() {
        if used[i] {
            continue;
        }
        let is_money_symbol = |k: usize| {
            tokens.get(k).is_some_and(|t| {
                matches!(
                    t.as_str(),
                    "$" | "€"
                        | "£"
                        | "euros"
                        | "euro"
                        | "dollars"
                        | "bucks"
                        | "reais"
                        | "eur"
                        | "usd"
                )
            })
        };
        if t.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
            && t.chars().next().is_some_and(|c| c.is_ascii_digit())
            && (is_money_symbol(i + 1) || (i > 0 && is_money_symbol(i - 1)))
            && e.max_price_minor.is_none()
            && let Some(a) = amount(t)
        {
            // A bare amount with a currency ("for 80 dollars") is an upper bound.
            e.max_price_minor = Some(a);
            used[i] = true;
        }
    }
    // Sizes.
    let raw_words: Vec<&str> = raw.split(|c: char| !c.is_alphanumeric()).collect();
    for (i, t) in tokens.iter().enumerate() {
        if used[i] || e.size.is_some() {
            continue;
        }
        let prev = if i > 0 { tokens[i - 1].as_str() } else { "" };
        let after_size_word = SIZE_WORDS.contains(&prev);
        let letter = LETTER_SIZES.contains(&t.as_str());
        let unambiguous = letter && t.len() >= 2;
        let upper_in_raw = letter
            && raw_words
                .iter()
                .any(|w| w.len() == t.len() && w.eq_ignore_ascii_case(t) && *w == w.to_uppercase());
        if after_size_word && (letter || t.chars().all(|c| c.is_ascii_digit()))
            || unambiguous
            || (letter
                && (SIZE_PREPOSITIONS.contains(&prev) && i + 1 == tokens.len()
                    || upper_in_raw && t != "s"
                    || upper_in_raw && SIZE_PREPOSITIONS.contains(&prev)))
        {
            e.size = Some(t.to_uppercase());
            used[i] = true;
            if after_size_word {
                used[i - 1] = true;
            }
        }
    }
    // Order numbers: four or more digits.
    for (i, t) in tokens.iter().enumerate() {
        if used[i] || e.order_number.is_some() {
            continue;
        }
        let digits = t.chars().filter(char::is_ascii_digit).count();
        let after_order_word = i > 0 && ORDER_WORDS.contains(&tokens[i - 1].as_str());
        if (digits >= 4 && t.chars().all(|c| c.is_ascii_alphanumeric()))
            || (after_order_word && digits >= 3 && t.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            e.order_number = Some(t.to_uppercase());
            used[i] = true;
        }
    }
    // References.
    for (i, t) in tokens.iter().enumerate() {
        if let Some((_, pos)) = ORDINALS.iter().find(|(w, _)| w == t) {
            e.references.push(Reference::Ordinal(*pos));
            used[i] = true;
        } else if i > 0
            && NUMBER_WORDS_FOR_POSITION.contains(&tokens[i - 1].as_str())
            && !used[i]
            && t.len() <= 2
            && let Ok(n) = t.parse::<usize>()
            && (1..=10).contains(&n)
        {
            e.references.push(Reference::Ordinal(n));
            used[i] = true;
        } else if CHEAPEST.contains(&t.as_str())
            || (t == "barato" || t == "cher")
                && i > 0
                && matches!(tokens[i - 1].as_str(), "mas" | "moins" | "menos")
        {
            if !e.references.contains(&Reference::Cheapest) {
                e.references.push(Reference::Cheapest);
            }
        } else if PRICIEST.contains(&t.as_str()) {
            e.references.push(Reference::Priciest);
        } else if let Some((_, c)) = COLOURS.iter().find(|(w, _)| w == t) {
            e.colour.get_or_insert_with(|| (*c).to_string());
            e.references.push(Reference::Colour((*c).to_string()));
        } else if DEICTIC.contains(&t.as_str()) && !e.references.contains(&Reference::Deictic) {
            e.references.push(Reference::Deictic);
        }
    }
    // Quantity: the first small number left.
    for (i, t) in tokens.iter().enumerate() {
        if used[i] {
            continue;
        }
        if matches!(
            t.as_str(),
            "a" | "an" | "un" | "une" | "um" | "ein" | "eine" | "einen" | "una" | "uma"
        ) {
            continue;
        }
        if is_sac_a_dos(tokens, i) || is_french_tres(tokens, i, raw) {
            continue;
        }
        if let Some(n) = number(t)
            && (1..=99).contains(&n)
        {
            e.quantity = Some(n);
            used[i] = true;
            break;
        }
    }
    e.product_terms = tokens
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            !used[*i]
                && t.len() > 1
                && !t.chars().all(|c| c.is_ascii_digit())
                && !NOT_PRODUCT_WORDS.contains(&t.as_str())
                && (number(t).is_none() || is_sac_a_dos(tokens, *i))
                && !ORDINALS.iter().any(|(w, _)| w == *t)
        })
        .map(|(_, t)| t.clone())
        .collect();
    e
}

#[cfg(test)]
mod tests {
    use super::super::normalize::tokens;
    use super::*;

    fn ents(text: &str) -> Entities {
        extract(&tokens(text), text)
    }

    #[test]
    fn price_bounds_in_five_languages() {
        assert_eq!(
            ents("waterproof jackets under 150?").max_price_minor,
            Some(15000)
        );
        assert_eq!(ents("under $49.99").max_price_minor, Some(4999));
        let e = ents("entre 20 y 40 euros");
        assert_eq!(
            (e.min_price_minor, e.max_price_minor),
            (Some(2000), Some(4000))
        );
        assert_eq!(ents("moins de 30 €").max_price_minor, Some(3000));
        assert_eq!(ents("Jacke unter 50 Euro").max_price_minor, Some(5000));
        assert_eq!(ents("mochila até 100 reais").max_price_minor, Some(10000));
        assert_eq!(ents("zwischen 20 und 40").min_price_minor, Some(2000));
        assert_eq!(ents("over 200").min_price_minor, Some(20000));
        // A negated lower bound is an upper bound.
        for text in [
            "un portefeuille, pas plus de 60 dollars",
            "algo que no cueste más de 60",
            "nicht mehr als 60 Euro",
            "não mais de 60 reais",
            "not more than 60",
        ] {
            let e = ents(text);
            assert_eq!(
                (e.min_price_minor, e.max_price_minor),
                (None, Some(6000)),
                "{text}"
            );
        }
        assert_eq!(ents("plus de 60 €").min_price_minor, Some(6000));
    }

    #[test]
    fn sizes_quantities_orders_and_references() {
        let e = ents("add the second one in M");
        assert_eq!(e.size.as_deref(), Some("M"));
        assert_eq!(e.references[0], Reference::Ordinal(2));
        assert_eq!(
            ents("ponme el segundo en talla L").size.as_deref(),
            Some("L")
        );
        assert_eq!(ents("je prends la taille m").size.as_deref(), Some("M"));
        assert_eq!(ents("in Größe 42 bitte").size.as_deref(), Some("42"));
        assert_eq!(ents("add two of those").quantity, Some(2));
        assert_eq!(
            ents("Très bien, je vais prendre le premier.").quantity,
            None
        );
        assert_eq!(ents("tres bien, je prends le premier").quantity, None);
        assert_eq!(ents("quiero tres de esas").quantity, Some(3));
        assert_eq!(ents("zwei davon").quantity, Some(2));
        assert_eq!(
            ents("has order 10423 shipped yet?").order_number.as_deref(),
            Some("10423")
        );
        assert_eq!(ents("el más barato").references, [Reference::Cheapest]);
        assert_eq!(ents("the red one").colour.as_deref(), Some("red"));
        assert_eq!(
            ents("do you have waterproof jackets under 150?").product_terms,
            ["waterproof", "jackets"]
        );
        assert_eq!(ents("I'm looking for a tent").quantity, None);
    }
}
