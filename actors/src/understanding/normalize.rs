//! Normalisation before anything else looks at a message: lower case, accents folded (`é` → `e`,
//! `ß` → `ss`), emoji turned into the word they stand for, letters repeated for emphasis
//! collapsed (`heyyyy` → `hey`), and the text cut into tokens (words, numbers with their decimal
//! part, and `?`).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A message's tokens, folded. Numbers keep their decimal separator (`12.50`, `12,50`); a `?`
/// is its own token; every other symbol separates tokens. `$`, `€` and `£` are kept as tokens.
pub fn tokens(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = folded.chars().collect();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(collapse_repeats(cur));
            cur.clear();
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        let next_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let prev_digit = cur.chars().last().is_some_and(|p| p.is_ascii_digit());
        let decimal_mark = (c == '.' || c == ',') && prev_digit && next_digit;
        if c.is_alphanumeric() || decimal_mark {
            cur.push(c);
        } else if c == '\'' || c == '’' {
            // "don't", "l'iphone", "c'est": the apostrophe splits, as elision does in French.
            flush(&mut cur, &mut out);
        } else {
            flush(&mut cur, &mut out);
            if matches!(c, '?' | '$' | '€' | '£') {
                out.push(c.to_string());
            } else if let Some(word) = emoji_word(c) {
                out.push(word.to_string());
            }
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// Lower case with accents removed; `ß`, `æ`, `œ`, `ø` spelled out. Other characters stay.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            '¿' | '¡' => out.push(' '),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Three or more of the same letter become one (`soooo` → `so`, `holaaa` → `hola`); digits
/// are left alone (`1000`).
fn collapse_repeats(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        let run = j - i;
        if run >= 3 && c.is_alphabetic() {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(c, run));
        }
        i = j;
    }
    out
}

/// The word an emoji stands for in a shopping chat, if it carries meaning.
fn emoji_word(c: char) -> Option<&'static str> {
    Some(match c {
        '👋' | '🙋' => "hello",
        '🙏' | '💐' => "thanks",
        '👍' | '👌' | '✅' | '🆗' => "ok",
        '😂' | '🤣' | '😆' | '😅' | '😹' => "haha",
        '🛒' | '🛍' => "cart",
        '💳' | '💰' | '💸' | '💵' => "pay",
        '📦' | '🚚' => "package",
        '❤' | '😍' | '🥰' | '😘' => "love",
        '😡' | '😠' | '🤬' | '😤' => "angry",
        '😢' | '😭' | '😞' | '😔' => "sad",
        '🤔' => "hmm",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_repeats_and_emoji() {
        assert_eq!(
            tokens("¿Cuánto cuesta el ENVÍO a Málaga?"),
            ["cuanto", "cuesta", "el", "envio", "a", "malaga", "?"]
        );
        assert_eq!(
            tokens("Heyyyy 👋 große Jacke"),
            ["hey", "hello", "grosse", "jacke"]
        );
        assert_eq!(
            tokens("under $49.99, ok?"),
            ["under", "$", "49.99", "ok", "?"]
        );
        assert_eq!(tokens("c'est 12,50 €"), ["c", "est", "12,50", "€"]);
        assert_eq!(tokens("order #10423"), ["order", "10423"]);
        assert_eq!(tokens("🛒 pls"), ["cart", "pls"]);
        assert_eq!(tokens("coffee 1000"), ["coffee", "1000"]);
    }
}
