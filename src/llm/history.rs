//! The conversation as a provider accepts it: every tool use paired with its result, no empty
//! message, one message per turn. Both request mappers (`anthropic`, `openai`) start from
//! [`prepare`]; each then writes its own wire shape.
//!
//! Why: the history the engine sends is cut to its last messages (and, inside a tool loop, may
//! hold a call that was never answered). Both APIs refuse such a request with a 400: Anthropic
//! wants each `tool_result` to answer a `tool_use` of the assistant message just before it, and
//! every `tool_use` answered in the next user message; OpenAI wants a `role: tool` message to
//! follow the assistant message whose `tool_calls` name it, and every call answered. Dropping the
//! unpaired half cleanly is better than a refused turn: the model loses one tool exchange it
//! cannot use anyway.

use agentpay_actors::ports::model::{ChatMessage, ContentBlock, Role};
use std::collections::HashSet;

/// What a provider additionally requires of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The first message must be the visitor's (Anthropic): leading replies are dropped.
    pub start_with_user: bool,
}

/// The messages to send for `messages` under `rules`:
///
/// - empty text blocks and then empty messages are dropped;
/// - consecutive messages of one role are merged into one (their blocks in order);
/// - with [`Rules::start_with_user`], leading assistant messages are dropped;
/// - a `ToolUse` is kept only when the next message (the user's) holds its `ToolResult`, and a
///   `ToolResult` only when the message before (the assistant's) holds its `ToolUse`; a tool
///   block in the wrong role's message is dropped;
/// - in a user message the tool results come first, then the text (Anthropic requires it;
///   OpenAI sends them as `role: tool` messages before the user's text anyway).
///
/// Dropping a block may empty a message, which may make two messages of one role meet or a reply
/// lead: the steps repeat until the pairing drops nothing more.
pub fn prepare(messages: &[ChatMessage], rules: Rules) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = messages
        .iter()
        .map(|m| ChatMessage {
            role: m.role,
            content: m
                .content
                .iter()
                .filter(|b| !matches!(b, ContentBlock::Text { text } if text.is_empty()))
                .cloned()
                .collect(),
        })
        .collect();
    loop {
        out.retain(|m| !m.content.is_empty());
        out = merge_same_role(out);
        if rules.start_with_user {
            let first_user = out
                .iter()
                .position(|m| m.role == Role::User)
                .unwrap_or(out.len());
            out.drain(..first_user);
        }
        if !drop_unpaired(&mut out) {
            break;
        }
    }
    for m in out.iter_mut().filter(|m| m.role == Role::User) {
        // A stable sort: results keep their order, texts keep theirs.
        m.content
            .sort_by_key(|b| !matches!(b, ContentBlock::ToolResult { .. }));
    }
    out
}

/// Merges each run of consecutive same-role messages into its first message.
fn merge_same_role(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len());
    for m in messages {
        match out.last_mut() {
            Some(last) if last.role == m.role => last.content.extend(m.content),
            _ => out.push(m),
        }
    }
    out
}

/// The ids of the tool uses (assistant) or tool results (user) of `m`, by its role.
fn tool_ids(m: &ChatMessage) -> HashSet<String> {
    m.content
        .iter()
        .filter_map(|b| match (m.role, b) {
            (Role::Assistant, ContentBlock::ToolUse { id, .. }) => Some(id.clone()),
            (Role::User, ContentBlock::ToolResult { tool_use_id, .. }) => Some(tool_use_id.clone()),
            _ => None,
        })
        .collect()
}

/// Drops every tool block without its other half next door; whether anything was dropped.
fn drop_unpaired(messages: &mut [ChatMessage]) -> bool {
    let ids: Vec<HashSet<String>> = messages.iter().map(tool_ids).collect();
    let none = HashSet::new();
    let mut dropped = false;
    for (i, m) in messages.iter_mut().enumerate() {
        let before = m.content.len();
        match m.role {
            Role::Assistant => {
                // Messages alternate here, so the next one is the user's.
                let answered = ids.get(i + 1).unwrap_or(&none);
                m.content.retain(|b| match b {
                    ContentBlock::ToolUse { id, .. } => answered.contains(id),
                    ContentBlock::ToolResult { .. } => false,
                    ContentBlock::Text { .. } => true,
                });
            }
            Role::User => {
                let asked = i.checked_sub(1).and_then(|p| ids.get(p)).unwrap_or(&none);
                m.content.retain(|b| match b {
                    ContentBlock::ToolResult { tool_use_id, .. } => asked.contains(tool_use_id),
                    ContentBlock::ToolUse { .. } => false,
                    ContentBlock::Text { .. } => true,
                });
            }
        }
        dropped |= m.content.len() != before;
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(t: &str) -> ContentBlock {
        ContentBlock::Text { text: t.into() }
    }
    fn tool_use(id: &str) -> ContentBlock {
        ContentBlock::ToolUse {
            id: id.into(),
            name: "search_products".into(),
            input: json!({"query": id}),
        }
    }
    fn result(id: &str) -> ContentBlock {
        ContentBlock::ToolResult {
            tool_use_id: id.into(),
            content: format!("result of {id}"),
            is_error: false,
        }
    }
    fn user(content: Vec<ContentBlock>) -> ChatMessage {
        ChatMessage {
            role: Role::User,
            content,
        }
    }
    fn assistant(content: Vec<ContentBlock>) -> ChatMessage {
        ChatMessage {
            role: Role::Assistant,
            content,
        }
    }
    const ANTHROPIC: Rules = Rules {
        start_with_user: true,
    };
    const OPENAI: Rules = Rules {
        start_with_user: false,
    };

    #[test]
    fn a_complete_tool_exchange_is_kept_as_it_is() {
        let history = vec![
            user(vec![text("Tents?")]),
            assistant(vec![text("Searching."), tool_use("a"), tool_use("b")]),
            user(vec![result("a"), result("b")]),
        ];
        assert_eq!(prepare(&history, ANTHROPIC), history);
        assert_eq!(prepare(&history, OPENAI), history);
    }

    #[test]
    fn a_result_whose_tool_use_was_cut_from_the_history_is_dropped() {
        // The window starts after the assistant's call: its result leads, alone.
        let history = vec![
            user(vec![result("a"), text("and cheaper?")]),
            assistant(vec![text("Here.")]),
            user(vec![text("Thanks")]),
        ];
        let expected = vec![
            user(vec![text("and cheaper?")]),
            assistant(vec![text("Here.")]),
            user(vec![text("Thanks")]),
        ];
        assert_eq!(prepare(&history, ANTHROPIC), expected);
        assert_eq!(prepare(&history, OPENAI), expected);
    }

    #[test]
    fn a_leading_reply_is_dropped_for_anthropic_and_with_it_the_results_it_asked_for() {
        let history = vec![
            assistant(vec![tool_use("a")]),
            user(vec![result("a")]),
            assistant(vec![text("Found two.")]),
            user(vec![text("The blue one")]),
        ];
        assert_eq!(
            prepare(&history, ANTHROPIC),
            vec![user(vec![text("The blue one")])],
            "the reply after the dropped result leads, so it goes too"
        );
        assert_eq!(prepare(&history, OPENAI), history);
    }

    #[test]
    fn an_unanswered_tool_use_is_dropped_and_the_emptied_message_with_it() {
        let history = vec![
            user(vec![text("Hi")]),
            assistant(vec![tool_use("a"), tool_use("b")]),
            user(vec![result("b"), result("zzz")]),
            assistant(vec![tool_use("c")]),
            user(vec![text("Hello?")]),
        ];
        assert_eq!(
            prepare(&history, OPENAI),
            vec![
                user(vec![text("Hi")]),
                assistant(vec![tool_use("b")]),
                user(vec![result("b"), text("Hello?")]),
            ]
        );
    }

    #[test]
    fn consecutive_messages_of_one_role_merge_and_results_come_before_text() {
        let history = vec![
            user(vec![text("Hi"), text("")]),
            user(vec![text("Anyone?")]),
            assistant(vec![text("Yes.")]),
            assistant(vec![tool_use("a")]),
            user(vec![text("also this"), result("a")]),
            user(vec![]),
        ];
        assert_eq!(
            prepare(&history, ANTHROPIC),
            vec![
                user(vec![text("Hi"), text("Anyone?")]),
                assistant(vec![text("Yes."), tool_use("a")]),
                user(vec![result("a"), text("also this")]),
            ]
        );
    }

    #[test]
    fn tool_blocks_in_the_wrong_role_are_dropped() {
        let history = vec![
            user(vec![text("Hi"), tool_use("a")]),
            assistant(vec![text("Hello"), result("a")]),
        ];
        assert_eq!(
            prepare(&history, OPENAI),
            vec![user(vec![text("Hi")]), assistant(vec![text("Hello")])]
        );
    }
}
