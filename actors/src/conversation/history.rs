//! The model's context budget: the history given to the model is cut, oldest first, to fit a
//! token budget, so a long conversation never silently overflows the provider's context window.
//!
//! Tokens are estimated, not counted (a tokenizer per provider would be exact but heavy): about
//! four characters per token for English and most European text, plus a few tokens of framing
//! per message. The estimate errs high for CJK-free text, which keeps the cut on the safe side.

use crate::ports::model::ChatMessage;

/// Framing tokens per message (role markers and separators).
const PER_MESSAGE: usize = 4;

/// The estimated tokens of `text`.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// The estimated tokens of `messages`.
pub fn estimate_messages(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .map(|m| m.content_chars().div_ceil(4) + PER_MESSAGE)
        .sum()
}

/// Drops the oldest messages until `messages` fit in `budget` tokens; the last message (the
/// visitor's new one) always stays. Returns how many were dropped.
pub fn fit(messages: &mut Vec<ChatMessage>, budget: usize) -> usize {
    let mut total = estimate_messages(messages);
    let mut drop = 0;
    while total > budget && drop + 1 < messages.len() {
        total -= messages[drop].content_chars().div_ceil(4) + PER_MESSAGE;
        drop += 1;
    }
    messages.drain(..drop);
    drop
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::model::Role as ChatRole;

    fn m(role: ChatRole, chars: usize) -> ChatMessage {
        ChatMessage::text(role, "x".repeat(chars))
    }

    #[test]
    fn the_oldest_messages_go_first_and_the_newest_always_stays() {
        // 100 chars = 25 tokens + 4 framing = 29 each.
        let mut history: Vec<_> = (0..10)
            .map(|i| {
                m(
                    if i % 2 == 0 {
                        ChatRole::User
                    } else {
                        ChatRole::Assistant
                    },
                    100,
                )
            })
            .collect();
        history[0] = ChatMessage::text(ChatRole::User, "first");
        assert_eq!(fit(&mut history, 10_000), 0);
        assert_eq!(history.len(), 10);
        assert_eq!(fit(&mut history, 29 * 3), 7);
        assert_eq!(history.len(), 3);
        assert!(estimate_messages(&history) <= 29 * 3);
        // Even a message alone over the budget is kept: it is the visitor's question.
        let mut one = vec![m(ChatRole::User, 10_000)];
        assert_eq!(fit(&mut one, 100), 0);
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn estimates_count_characters_not_bytes() {
        assert_eq!(estimate_tokens("日本語のテキスト"), 2);
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcde"), 2);
    }
}
