//! Reading a visitor's query: price phrases ("under $50", "between 20 and 40 euros",
//! "menos de 30", "unter 100 €") become price bounds and leave the text; the rest is searched.

/// A query split into what to search for and the price bounds it states, as decimal strings
/// in the store's major unit ("50", "19.99"); the caller converts them with the currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// The words left to search for.
    pub text: String,
    /// "over 20": the lowest price.
    pub min: Option<String>,
    /// "under 50": the highest price.
    pub max: Option<String>,
}

const MAX_WORDS: &[&[&str]] = &[
    &["under"],
    &["below"],
    &["less", "than"],
    &["cheaper", "than"],
    &["up", "to"],
    &["at", "most"],
    &["max"],
    &["maximum"],
    &["no", "more", "than"],
    &["within"],
    &["menos", "de"],
    &["por", "menos", "de"],
    &["moins", "de"],
    &["à", "moins", "de"],
    &["unter"],
    &["bis"],
    &["höchstens"],
    &["maximal"],
    &["weniger", "als"],
    &["billiger", "als"],
    &["sous"],
    &["jusqu'à"],
    &["máximo"],
    &["maximo"],
    &["no", "máximo"],
    &["hasta"],
    &["até"],
    &["ate"],
    &["abaixo", "de"],
    &["por", "até"],
    &["<"],
    &["<="],
];
const MIN_WORDS: &[&[&str]] = &[
    &["over"],
    &["above"],
    &["more", "than"],
    &["at", "least"],
    &["min"],
    &["minimum"],
    &["más", "de"],
    &["mas", "de"],
    &["plus", "de"],
    &["über"],
    &["ueber"],
    &["mindestens"],
    &["mehr", "als"],
    &["mais", "de"],
    &["acima", "de"],
    &[">"],
    &[">="],
];
/// Words that turn a lower bound just after them into an upper one: "pas plus de 60", "que no
/// cueste más de 60", "nicht mehr als 60", "doesn't cost more than 60".
const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "pas",
    "nicht",
    "não",
    "nao",
    "never",
    "nunca",
    "jamais",
    "doesn't",
    "don't",
    "isn't",
    "shouldn't",
];
const CURRENCY_WORDS: &[&str] = &[
    "dollars", "dollar", "usd", "bucks", "euros", "euro", "eur", "€", "$", "£", "pounds", "gbp",
    "dólares", "dolares", "reais", "r$",
];
const RANGE_WORDS: &[&str] = &["between", "entre", "zwischen"];
const AND_WORDS: &[&str] = &["and", "y", "et", "und", "to", "-"];

/// An amount token ("$50", "50", "49.99€", "50$") as a plain decimal string.
fn amount(word: &str) -> Option<String> {
    let w = word.trim_matches(|c: char| matches!(c, '$' | '€' | '£' | ',' | '?' | '!'));
    let valid = !w.is_empty()
        && w.chars().all(|c| c.is_ascii_digit() || c == '.')
        && w.chars().next().is_some_and(|c| c.is_ascii_digit())
        && w.matches('.').count() <= 1
        && !w.ends_with('.');
    valid.then(|| w.to_string())
}

fn starts_with(words: &[String], at: usize, phrase: &[&str]) -> bool {
    phrase
        .iter()
        .enumerate()
        .all(|(k, p)| words.get(at + k).is_some_and(|w| w == p))
}

/// Splits price phrases off `text`.
pub fn parse(text: &str) -> ParsedQuery {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    let mut keep = vec![true; words.len()];
    let mut out = ParsedQuery::default();
    let mut i = 0;
    // Skips an amount at `at` and a currency word after it; returns the amount and the next index.
    let take_amount = |at: usize| -> Option<(String, usize)> {
        let a = amount(words.get(at)?)?;
        let next = if words
            .get(at + 1)
            .is_some_and(|w| CURRENCY_WORDS.contains(&w.as_str()))
        {
            at + 2
        } else {
            at + 1
        };
        Some((a, next))
    };
    while i < words.len() {
        let mut matched = None;
        if RANGE_WORDS.contains(&words[i].as_str())
            && let Some((low, next)) = take_amount(i + 1)
            && words
                .get(next)
                .is_some_and(|w| AND_WORDS.contains(&w.as_str()))
            && let Some((high, end)) = take_amount(next + 1)
        {
            out.min = Some(low);
            out.max = Some(high);
            matched = Some(end);
        }
        if matched.is_none() {
            for (phrases, is_max) in [(MAX_WORDS, true), (MIN_WORDS, false)] {
                if let Some(p) = phrases.iter().find(|p| starts_with(&words, i, p))
                    && let Some((a, end)) = take_amount(i + p.len())
                {
                    let negation = (i.saturating_sub(2)..i)
                        .rev()
                        .find(|&k| NEGATIONS.contains(&words[k].as_str()));
                    if is_max || negation.is_some() {
                        out.max = Some(a);
                    } else {
                        out.min = Some(a);
                    }
                    // "pas plus de 60": the negation goes with the phrase.
                    if negation == Some(i.wrapping_sub(1)) {
                        keep[i - 1] = false;
                    }
                    matched = Some(end);
                    break;
                }
            }
        }
        if matched.is_none()
            && let Some((low, high)) = words[i].split_once('-')
            && words[i].contains(['$', '€', '£'])
            && let (Some(low), Some(high)) = (amount(low), amount(high))
        {
            out.min = Some(low);
            out.max = Some(high);
            matched = Some(i + 1);
        }
        match matched {
            Some(end) => {
                for k in keep.iter_mut().take(end).skip(i) {
                    *k = false;
                }
                i = end;
            }
            None => i += 1,
        }
    }
    out.text = text
        .split_whitespace()
        .zip(keep)
        .filter_map(|(w, k)| k.then_some(w))
        .collect::<Vec<_>>()
        .join(" ");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> (String, Option<&'static str>, Option<&'static str>) {
        let q = parse(text);
        let leak = |s: Option<String>| s.map(|s| &*Box::leak(s.into_boxed_str()));
        (q.text, leak(q.min), leak(q.max))
    }

    #[test]
    fn price_phrases_become_bounds() {
        assert_eq!(
            p("running shoes under $100"),
            ("running shoes".into(), None, Some("100"))
        );
        assert_eq!(
            p("headphones below 50 dollars"),
            ("headphones".into(), None, Some("50"))
        );
        assert_eq!(p("tent over $200"), ("tent".into(), Some("200"), None));
        assert_eq!(
            p("a gift between 20 and 40 euros"),
            ("a gift".into(), Some("20"), Some("40"))
        );
        assert_eq!(
            p("jacket $50-$120"),
            ("jacket".into(), Some("50"), Some("120"))
        );
        assert_eq!(
            p("zapatillas menos de 60"),
            ("zapatillas".into(), None, Some("60"))
        );
        assert_eq!(
            p("Kopfhörer unter 30 €"),
            ("Kopfhörer".into(), None, Some("30"))
        );
        assert_eq!(p("mug under 12.50"), ("mug".into(), None, Some("12.50")));
        assert_eq!(
            p("tênis de corrida até 100"),
            ("tênis de corrida".into(), None, Some("100"))
        );
        assert_eq!(
            p("garrafa térmica abaixo de 40"),
            ("garrafa térmica".into(), None, Some("40"))
        );
        assert_eq!(
            p("cadeira mais de 300 reais"),
            ("cadeira".into(), Some("300"), None)
        );
        assert_eq!(
            p("chaqueta hasta 80"),
            ("chaqueta".into(), None, Some("80"))
        );
        // A negated lower bound is an upper bound.
        assert_eq!(
            p("portefeuille pas plus de 60 dollars"),
            ("portefeuille".into(), None, Some("60"))
        );
        assert_eq!(
            p("mochila que no cueste más de 60"),
            ("mochila que no cueste".into(), None, Some("60"))
        );
        assert_eq!(
            p("Rucksack nicht mehr als 60 €"),
            ("Rucksack".into(), None, Some("60"))
        );
    }

    #[test]
    fn other_numbers_stay_in_the_text() {
        assert_eq!(p("Stride Pro 3"), ("Stride Pro 3".into(), None, None));
        assert_eq!(p("2 person tent"), ("2 person tent".into(), None, None));
        assert_eq!(p("under armour"), ("under armour".into(), None, None));
    }
}
