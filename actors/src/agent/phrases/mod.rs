//! What the offline agent says, in the visitor's language. Each phrase is a template with
//! `{name}` slots that the agent fills only with catalog facts, the cart, the merchant's
//! configuration, or the visitor's own product words, never with a price the visitor typed.
//! Phrases are looked up by key per language; a key missing in a language falls back to
//! English (a unit test keeps every language complete).

mod de;
mod en;
mod es;
mod fr;
mod pt;

use crate::money::Money;
use crate::understanding::Lang;

/// The phrase table of `lang`.
fn table(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => en::PHRASES,
        Lang::Es => es::PHRASES,
        Lang::Fr => fr::PHRASES,
        Lang::De => de::PHRASES,
        Lang::Pt => pt::PHRASES,
    }
}

/// The template for `key` in `lang` (English when the language lacks it; the key itself when
/// no language has it, which a unit test rules out).
pub fn template(lang: Lang, key: &str) -> &'static str {
    let find = |l| table(l).iter().find(|(k, _)| *k == key).map(|(_, t)| *t);
    find(lang).or_else(|| find(Lang::En)).unwrap_or("")
}

/// `key` in `lang` with its slots filled.
pub fn say(lang: Lang, key: &str, slots: &[(&str, &str)]) -> String {
    let mut out = template(lang, key).to_string();
    for (name, value) in slots {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// An amount as people in `lang` write it: `$102.49` in English, `102,49 $` elsewhere; other
/// currencies by their symbol when common, else their code.
pub fn money(m: Money, lang: Lang) -> String {
    let exp = u32::from(m.currency.exponent());
    let scale = 10i64.pow(exp);
    let sign = if m.amount_minor < 0 { "-" } else { "" };
    let abs = m.amount_minor.unsigned_abs();
    let whole = abs / scale.unsigned_abs();
    let frac = abs % scale.unsigned_abs();
    let symbol = match m.currency.code() {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "BRL" => "R$",
        "JPY" => "¥",
        other => other,
    };
    let sep = if lang == Lang::En { "." } else { "," };
    let number = if exp == 0 {
        format!("{whole}")
    } else {
        format!("{whole}{sep}{frac:0width$}", width = exp as usize)
    };
    match lang {
        Lang::En if symbol.len() <= 3 && !symbol.chars().all(|c| c.is_ascii_uppercase()) => {
            format!("{sign}{symbol}{number}")
        }
        Lang::Pt if symbol == "R$" => format!("{sign}R$ {number}"),
        _ => format!("{sign}{number} {symbol}"),
    }
}

/// Items joined as a list in `lang` ("a, b and c").
pub fn list(items: &[String], lang: Lang) -> String {
    let and = template(lang, "and");
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} {and} {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_english_phrase_and_slot() {
        for lang in Lang::ALL {
            for (key, en) in en::PHRASES {
                let t = table(lang).iter().find(|(k, _)| k == key);
                assert!(t.is_some(), "{lang} lacks {key}");
                let t = t.map(|(_, t)| *t).unwrap_or_default();
                for slot in en.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                    assert!(
                        t.contains(&format!("{{{slot}}}")),
                        "{lang} {key} lacks {{{slot}}}"
                    );
                }
            }
        }
    }

    #[test]
    fn amounts_are_written_the_local_way() {
        let usd = |a| Money {
            amount_minor: a,
            currency: "USD".parse().unwrap(),
        };
        assert_eq!(money(usd(10249), Lang::En), "$102.49");
        assert_eq!(money(usd(10249), Lang::De), "102,49 $");
        let eur = Money {
            amount_minor: 995,
            currency: "EUR".parse().unwrap(),
        };
        assert_eq!(money(eur, Lang::Fr), "9,95 €");
        assert_eq!(
            list(&["a".into(), "b".into(), "c".into()], Lang::En),
            "a, b and c"
        );
    }
}
