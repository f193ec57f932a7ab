//! What the model answers: each API's request read into one [`View`], and the answer
//! [`decide`]d from it (a search or cart call, a reply to tool results, a classification
//! label, a draft passed through, or a generic reply).

use super::usage::{tokens, tokens_of_chars};
use serde_json::{Value, json};

/// A request seen the same way for both APIs.
pub(super) struct View {
    /// Names of the tools offered.
    tools: Vec<String>,
    max_tokens: Option<u64>,
    last: Last,
    /// A tool result before the last message listed products.
    earlier_products: bool,
}

/// The request's last message.
enum Last {
    /// The visitor's plain text.
    Visitor(String),
    /// Tool results, in order.
    ToolResults(Vec<String>),
    /// Anything else (an assistant message, an empty one).
    Other,
}

/// A tool call to make.
pub(super) struct Call {
    pub(super) name: &'static str,
    /// The input as JSON text.
    pub(super) input: String,
}

/// Why the answer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    EndTurn,
    ToolUse,
    MaxTokens,
}

/// What the model says: text, then at most one tool call.
pub(super) struct Answer {
    pub(super) text: String,
    pub(super) call: Option<Call>,
    pub(super) stop: Stop,
}

impl Answer {
    /// Output tokens: the text's, plus the call's name and input and 10.
    pub(super) fn output_tokens(&self) -> u64 {
        tokens(&self.text)
            + self.call.as_ref().map_or(0, |c| {
                tokens_of_chars(c.name.chars().count() + c.input.chars().count()) + 10
            })
    }
}

/// Words that make a visitor's text a cart action.
const CART_WORDS: &[&str] = &[
    "add",
    "cart",
    "buy",
    "pay",
    "checkout",
    "carrito",
    "panier",
    "warenkorb",
    "carrinho",
];

/// The longest search query taken from the visitor's text, in characters.
const MAX_QUERY: usize = 80;

/// Decides the answer to `view`.
pub(super) fn decide(view: &View) -> Answer {
    match &view.last {
        Last::ToolResults(results) => text_answer(results_reply(results), view.max_tokens),
        Last::Visitor(text) if !view.tools.is_empty() => {
            let offered = |name: &str| view.tools.iter().any(|t| t == name);
            let lower = text.to_lowercase();
            let cart = view.earlier_products
                && CART_WORDS.iter().any(|w| lower.contains(w))
                && offered("view_cart");
            let call = if cart {
                Call {
                    name: "view_cart",
                    input: "{}".to_string(),
                }
            } else {
                let query: String = text.trim().chars().take(MAX_QUERY).collect();
                Call {
                    name: "search_products",
                    input: json!({ "query": query }).to_string(),
                }
            };
            if !offered(call.name) {
                return text_answer(GENERIC_REPLY.to_string(), view.max_tokens);
            }
            Answer {
                text: "Let me check.".to_string(),
                call: Some(call),
                stop: Stop::ToolUse,
            }
        }
        Last::Visitor(text) => text_answer(plain_reply(view, text), view.max_tokens),
        Last::Other => text_answer(plain_reply(view, ""), view.max_tokens),
    }
}

/// A text answer, cut at `max_tokens` like a real model (stop reason `max_tokens`).
fn text_answer(text: String, max_tokens: Option<u64>) -> Answer {
    if let Some(max) = max_tokens
        && tokens(&text) > max
    {
        let keep = usize::try_from(max.saturating_mul(7) / 2).unwrap_or(usize::MAX);
        return Answer {
            text: text.chars().take(keep).collect(),
            call: None,
            stop: Stop::MaxTokens,
        };
    }
    Answer {
        text,
        call: None,
        stop: Stop::EndTurn,
    }
}

/// Rule 3: the classification label, the draft, or the generic reply.
fn plain_reply(view: &View, text: &str) -> String {
    if view.tools.is_empty() && view.max_tokens.is_some_and(|m| m <= 16) {
        return "product_search".to_string();
    }
    if let Some(draft) = draft(text) {
        return draft;
    }
    GENERIC_REPLY.to_string()
}

/// The text after the last line that starts with `Draft:`, to the end, when not empty. The
/// engine sends `Visitor: <text>\nDraft: <draft>`: taking the last such line keeps a visitor
/// who types `Draft:` from choosing the answer.
fn draft(text: &str) -> Option<String> {
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("Draft:") {
            start = Some(offset + (line.len() - trimmed.len()) + "Draft:".len());
        }
        offset += line.len();
    }
    let rest = text.get(start?..)?.trim();
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The reply to a message with no tool to call: 40 to 60 words, no digits.
pub(super) const GENERIC_REPLY: &str = "Thanks for reaching out! I am the shop assistant here and happy to \
     help you find the right product, answer questions about sizes and materials, or guide you \
     through checkout. Tell me a little about what you are looking for and I will point you to \
     some great options.";

/// Sentences that lengthen a reply to its minimum; no digits.
const FILLERS: &[&str] = &[
    "Let me know if you have any questions along the way.",
    "I am always happy to help you compare options.",
    "Just tell me what matters most to you.",
    "I can also check other colours or sizes if you like.",
];

/// Appends filler sentences until `text` has at least `min_words` words.
fn pad(mut text: String, min_words: usize) -> String {
    for filler in FILLERS {
        if text.split_whitespace().count() >= min_words {
            break;
        }
        text.push(' ');
        text.push_str(filler);
    }
    text
}

/// Rule 2: the reply to tool results. Names up to two products with their exact price strings,
/// else a cart's exact total, else a generic sentence; no other numbers.
fn results_reply(results: &[String]) -> String {
    let mut products: Vec<(String, Option<String>)> = Vec::new();
    let mut total = None;
    for result in results {
        let Ok(v) = serde_json::from_str::<Value>(result) else {
            continue;
        };
        if let Some(list) = v.get("products").and_then(Value::as_array) {
            for p in list {
                let Some(title) = p.get("title").and_then(Value::as_str) else {
                    continue;
                };
                if title.trim().is_empty() {
                    continue;
                }
                let price = match p.get("price") {
                    Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                products.push((title.to_string(), price));
            }
        }
        if v.get("lines").is_some_and(Value::is_array)
            && let Some(t) = v.get("total").and_then(Value::as_str)
            && !t.trim().is_empty()
        {
            total = Some(t.to_string());
        }
    }
    let offer = |(title, price): &(String, Option<String>)| match price {
        Some(price) => format!("the {title} at {price}"),
        None => format!("the {title}"),
    };
    let text = match (products.as_slice(), total) {
        ([first, second, ..], _) => format!(
            "Good news, I found some options that should suit you nicely. My first pick is {}, \
             which shoppers often choose for its quality and comfort. You might also like {}, \
             a great alternative with a slightly different style. Both are ready to order from \
             our shop today. Would you like more details on either one, or shall I add one to \
             your cart for you?",
            offer(first),
            offer(second),
        ),
        ([only], _) => format!(
            "Good news, I found something that should suit you nicely. My pick is {}, which \
             shoppers often choose for its quality and comfort. It is ready to order from our \
             shop today, and I am happy to share more about its materials, sizing or care. \
             Would you like more details, or shall I add it to your cart for you?",
            offer(only),
        ),
        ([], Some(total)) => format!(
            "Here is your cart as it stands right now. The total comes to {total}, with \
             shipping and any taxes shown at checkout. Everything looks ready whenever you are. \
             Would you like to go ahead to checkout, keep browsing for something else, or make \
             a change to your cart? I am happy to help with sizes, colours or anything else \
             before you decide."
        ),
        ([], None) => "Thanks for your patience while I looked into that for you. I could not \
             find exactly what you described, but I am happy to keep searching. Could you tell \
             me a little more about what you have in mind, such as the style, the colour or \
             the occasion? With a few more details I can point you to the best options in our \
             shop and help you decide."
            .to_string(),
    };
    pad(text, 60)
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages.

/// Text of an Anthropic content: a string, or its text blocks joined by newlines.
fn anthropic_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Contents of the `tool_result` blocks of a message, as text.
fn anthropic_tool_results(message: &Value) -> Vec<String> {
    message
        .get("content")
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
                .map(|b| anthropic_text(b.get("content").unwrap_or(&Value::Null)))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a tool result's text lists at least one product.
fn lists_products(result: &str) -> bool {
    serde_json::from_str::<Value>(result)
        .ok()
        .and_then(|v| v.get("products").and_then(Value::as_array).map(Vec::len))
        .is_some_and(|n| n > 0)
}

pub(super) fn anthropic_view(body: &Value, messages: &[Value]) -> View {
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let last = match messages.last() {
        Some(m) if m.get("role").and_then(Value::as_str) == Some("user") => {
            let results = anthropic_tool_results(m);
            if !results.is_empty() {
                Last::ToolResults(results)
            } else {
                let text = anthropic_text(m.get("content").unwrap_or(&Value::Null));
                if text.trim().is_empty() {
                    Last::Other
                } else {
                    Last::Visitor(text)
                }
            }
        }
        _ => Last::Other,
    };
    let earlier = &messages[..messages.len().saturating_sub(1)];
    View {
        tools,
        max_tokens: body.get("max_tokens").and_then(Value::as_u64),
        last,
        earlier_products: earlier
            .iter()
            .flat_map(anthropic_tool_results)
            .any(|r| lists_products(&r)),
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions.

/// Text of an OpenAI content: a string, or its text parts joined by newlines.
fn openai_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn role(message: &Value) -> &str {
    message.get("role").and_then(Value::as_str).unwrap_or("")
}

pub(super) fn openai_view(body: &Value, messages: &[Value]) -> View {
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.pointer("/function/name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let trailing_tools = messages
        .iter()
        .rev()
        .take_while(|m| role(m) == "tool")
        .count();
    let last = if trailing_tools > 0 {
        Last::ToolResults(
            messages[messages.len() - trailing_tools..]
                .iter()
                .map(|m| openai_text(m.get("content")))
                .collect(),
        )
    } else {
        match messages.last() {
            Some(m) if role(m) == "user" => {
                let text = openai_text(m.get("content"));
                if text.trim().is_empty() {
                    Last::Other
                } else {
                    Last::Visitor(text)
                }
            }
            _ => Last::Other,
        }
    };
    let earlier = &messages[..messages.len().saturating_sub(trailing_tools.max(1))];
    View {
        tools,
        max_tokens: body
            .get("max_completion_tokens")
            .and_then(Value::as_u64)
            .or_else(|| body.get("max_tokens").and_then(Value::as_u64)),
        last,
        earlier_products: earlier
            .iter()
            .filter(|m| role(m) == "tool")
            .any(|m| lists_products(&openai_text(m.get("content")))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::words;
    use super::*;

    #[test]
    fn tool_result_replies() {
        let cart = json!({"lines": [{"title": "Alpine Dome Tent", "quantity": 2, "unit_price": "249.00 USD"}], "total": "498.00 USD"}).to_string();
        let text = results_reply(&[cart]);
        assert!(text.contains("498.00 USD"), "{text}");
        assert!(
            !text
                .replace("498.00 USD", "")
                .chars()
                .any(|c| c.is_ascii_digit())
        );
        assert!((60..=90).contains(&words(&text)), "{text}");
        for other in ["not json", r#"{"products": []}"#, r#"{"ok": true}"#] {
            let text = results_reply(&[other.to_string()]);
            assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
            assert!((60..=90).contains(&words(&text)), "{text}");
        }
        let one = json!({"products": [{"title": "Bivy Sack", "price": "120.00 USD"}]}).to_string();
        let text = results_reply(&[one]);
        assert!(text.contains("Bivy Sack at 120.00 USD"), "{text}");
        assert!((60..=90).contains(&words(&text)), "{text}");
        let n = words(GENERIC_REPLY);
        assert!((40..=60).contains(&n), "{n}");
        assert!(!GENERIC_REPLY.chars().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn token_counts_round_up_characters_over_three_and_a_half() {
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens("abc"), 1);
        assert_eq!(tokens("abcdefg"), 2);
        assert_eq!(tokens("abcdefgh"), 3);
        assert_eq!(tokens("ééé"), 1);
        assert_eq!(draft("Draft:  x 1 \n"), Some("x 1".to_string()));
        assert_eq!(draft("no draft here"), None);
        assert_eq!(
            draft("Visitor: hi\nDraft: ignore this\nDraft: The tent is 249.00 USD."),
            Some("The tent is 249.00 USD.".to_string())
        );
        assert_eq!(draft("Visitor: hi\nDraft:   "), None);
    }
}
