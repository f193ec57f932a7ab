//! The model's view of a conversation: the recent messages that fit its context window, the
//! system prompt, and a running summary of what left the window (written by the `fast` model in
//! the background; no turn waits for it).

use super::deps::ConversationSettings;
use super::history;
use crate::ports::agent::AgentSnapshot;
use crate::ports::metering::{Charge, Metering};
use crate::ports::model::{
    ChatMessage, ModelClient, ModelError, ModelEvent, ModelRequest, ModelRole, Role,
};
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::sync::Arc;

/// The instructions of the `fast` model when it summarises older messages.
const SUMMARY_PROMPT: &str = "You summarise a conversation between a shop's assistant and a \
     visitor. Keep what the assistant needs later: what the visitor wants, sizes, budgets, \
     products and prices mentioned, promises made. Write at most 80 words, plain text.";

/// Most tokens of a summary.
const SUMMARY_MAX_TOKENS: u32 = 200;

/// The window. Owned by the conversation actor; never shared.
#[derive(Debug, Default)]
pub struct ContextWindow {
    /// Recent messages, oldest first, at most `history_messages`.
    history: VecDeque<ChatMessage>,
    /// A summary of the messages that left `history`, if any.
    summary: Option<String>,
    /// Messages that left `history` and are not in `summary` yet.
    to_summarize: Vec<ChatMessage>,
    /// Whether a summary is being written.
    summarizing: bool,
}

/// A summary to write: the request for the `fast` model and the messages it covers.
pub struct SummaryJob {
    /// The request.
    pub request: ModelRequest,
    /// The messages it folds in; given back on failure.
    batch: Vec<ChatMessage>,
}

impl ContextWindow {
    /// Forgets everything (the actor reloads from the store).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Appends a message; the oldest beyond `max` leave for the summary.
    pub fn remember(&mut self, role: Role, text: String, max: usize) {
        self.history.push_back(ChatMessage::text(role, text));
        while self.history.len() > max {
            if let Some(old) = self.history.pop_front() {
                self.to_summarize.push(old);
            }
        }
    }

    /// The system prompt: the deployment's base, the ground rules, the merchant's
    /// configuration. It stays the same for the whole conversation (providers cache it); the
    /// summary goes with the turn's context ([`Self::summary`]).
    pub fn system_prompt(&self, base: &str, agent: Option<&AgentSnapshot>) -> String {
        match agent {
            Some(a) => a.config.system_prompt(base, &a.store_name),
            None => base.to_string(),
        }
    }

    /// The summary of what left the window, once written.
    pub fn summary(&self) -> Option<&str> {
        self.summary.as_deref()
    }

    /// The messages for a turn on `user_text` (not yet remembered): the history that fits the
    /// message and token budgets, then the new message. What does not fit has left the window
    /// for good and goes to the summary.
    pub fn window(&mut self, user_text: &str, settings: &ConversationSettings) -> Vec<ChatMessage> {
        let mut messages: Vec<ChatMessage> = self.history.iter().cloned().collect();
        messages.push(ChatMessage::text(Role::User, user_text));
        let excess = messages.len().saturating_sub(settings.history_messages);
        messages.drain(..excess);
        history::fit(&mut messages, settings.history_tokens);
        let left_out = (self.history.len() + 1).saturating_sub(messages.len());
        for _ in 0..left_out {
            if let Some(old) = self.history.pop_front() {
                self.to_summarize.push(old);
            }
        }
        messages
    }

    /// The next summary to write, unless one is being written or nothing left the window.
    pub fn summary_job(&mut self, agent: Option<&AgentSnapshot>) -> Option<SummaryJob> {
        if self.summarizing || self.to_summarize.is_empty() {
            return None;
        }
        self.summarizing = true;
        let batch = std::mem::take(&mut self.to_summarize);
        let mut excerpt = String::new();
        for m in &batch {
            let who = match m.role {
                Role::User => "Visitor",
                Role::Assistant => "Assistant",
            };
            excerpt.push_str(&format!("{who}: {}\n", m.joined_text()));
        }
        let previous = self.summary.as_deref().unwrap_or("(none)");
        let request = ModelRequest {
            system: SUMMARY_PROMPT.into(),
            context: String::new(),
            messages: vec![ChatMessage::text(
                Role::User,
                format!(
                    "Summary so far: {previous}\n\nNew messages:\n{excerpt}\nWrite the updated summary."
                ),
            )],
            tools: vec![],
            max_tokens: SUMMARY_MAX_TOKENS,
            preferred_provider: agent.and_then(|a| a.config.preferred_provider(ModelRole::Fast)),
        };
        Some(SummaryJob { request, batch })
    }

    /// Takes a finished job's result: the new summary, or (on failure or an empty answer) its
    /// messages back for the next attempt.
    pub fn summary_done(&mut self, job_batch: Vec<ChatMessage>, summary: Option<String>) {
        self.summarizing = false;
        match summary {
            Some(text) => self.summary = Some(text),
            None => {
                let mut batch = job_batch;
                batch.append(&mut self.to_summarize);
                self.to_summarize = batch;
            }
        }
    }
}

impl SummaryJob {
    /// Runs the job on `model`: the summary (trimmed, `None` when empty), the call's charge, and
    /// the messages it covered.
    pub async fn run(
        self,
        model: Arc<dyn ModelClient>,
        metering: Arc<dyn Metering>,
    ) -> (
        Result<Option<String>, ModelError>,
        Option<Charge>,
        Vec<ChatMessage>,
    ) {
        let mut stream = model.stream(self.request);
        let mut text = String::new();
        let mut usage = None;
        let mut served = None;
        let mut failed = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(ModelEvent::Delta(t)) => text.push_str(&t),
                Ok(ModelEvent::Usage(u)) => usage = Some(u),
                Ok(ModelEvent::Served { provider, model }) => served = Some((provider, model)),
                Ok(_) => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let charge = usage.map(|u| Charge::priced(metering.as_ref(), model.as_ref(), served, u));
        let result = match failed {
            Some(e) => Err(e),
            None => Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty())),
        };
        (result, charge, self.batch)
    }
}
