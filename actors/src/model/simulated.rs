//! The simulated model: a stand-in that streams a reply at a configured time to first token and
//! token rate (as TensorZero's dummy provider). The engine's tests and the load harness use it;
//! its replies say plainly that they are simulated.

use crate::ports::model::{
    ModelClient, ModelError, ModelEvent, ModelRequest, ModelStream, StopReason, Usage,
};
use futures_util::StreamExt;
use std::time::Duration;

/// How the simulated model behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatedModelSettings {
    /// Delay before the first token.
    pub ttft: Duration,
    /// Tokens per second after the first; 0 means as fast as possible.
    pub tokens_per_sec: f64,
    /// Tokens per reply.
    pub reply_tokens: usize,
}

/// The simulated model.
#[derive(Debug, Clone)]
pub struct SimulatedModel {
    settings: SimulatedModelSettings,
}

const FILLER: &[&str] = &[
    "Our",
    "catalog",
    "search,",
    "cart",
    "and",
    "checkout",
    "arrive",
    "with",
    "the",
    "next",
    "releases;",
    "this",
    "text",
    "only",
    "exercises",
    "streaming",
    "so",
    "you",
    "can",
    "see",
    "tokens",
    "flow",
    "one",
    "by",
    "one.",
];

impl SimulatedModel {
    /// A simulated model with these settings.
    pub fn new(settings: SimulatedModelSettings) -> Self {
        Self { settings }
    }

    /// The reply's tokens (each a word with its trailing space) for a visitor message.
    pub fn reply_tokens(&self, last_user_text: &str) -> Vec<String> {
        let quoted: String = last_user_text.chars().take(80).collect();
        let quoted = quoted.split_whitespace().collect::<Vec<_>>().join(" ");
        let intro = format!(
            "This is a simulated reply: no AI model is configured on this server. You said: \"{quoted}\"."
        );
        let mut words: Vec<String> = intro.split(' ').map(str::to_string).collect();
        let mut i = 0;
        while words.len() < self.settings.reply_tokens {
            words.push(FILLER[i % FILLER.len()].to_string());
            i += 1;
        }
        words.truncate(self.settings.reply_tokens.max(1));
        let n = words.len();
        words
            .into_iter()
            .enumerate()
            .map(|(i, w)| if i + 1 < n { format!("{w} ") } else { w })
            .collect()
    }
}

impl ModelClient for SimulatedModel {
    fn provider(&self) -> &str {
        "simulated"
    }

    fn model(&self) -> &str {
        "simulated"
    }

    fn stream(&self, request: ModelRequest) -> ModelStream {
        let last = request
            .messages
            .last()
            .map(|m| m.joined_text())
            .unwrap_or_default();
        let input_tokens: u64 = request
            .messages
            .iter()
            .map(|m| m.joined_text().split_whitespace().count() as u64)
            .sum::<u64>()
            + request.system.split_whitespace().count() as u64;
        let tokens = self.reply_tokens(&last);
        let output_tokens = tokens.len() as u64;
        let ttft = self.settings.ttft;
        let gap = if self.settings.tokens_per_sec > 0.0 {
            Duration::from_secs_f64(1.0 / self.settings.tokens_per_sec)
        } else {
            Duration::ZERO
        };
        // Each token is due at a fixed time from the request, like a provider that streams at
        // its own pace whatever the reader does: a reader that falls behind finds the late
        // tokens ready at once instead of stretching the reply.
        let start = tokio::time::Instant::now();
        let deltas = futures_util::stream::iter(tokens.into_iter().enumerate()).then(
            move |(i, t)| async move {
                let due = start + ttft + gap * u32::try_from(i).unwrap_or(u32::MAX);
                if due > tokio::time::Instant::now() {
                    tokio::time::sleep_until(due).await;
                }
                Ok::<_, ModelError>(ModelEvent::Delta(t))
            },
        );
        let end = futures_util::stream::iter([
            Ok(ModelEvent::Usage(Usage {
                input_tokens,
                output_tokens,
                ..Usage::default()
            })),
            Ok(ModelEvent::Stop(StopReason::EndTurn)),
        ]);
        deltas.chain(end).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::model::{ChatMessage, Role};

    fn request(text: &str) -> ModelRequest {
        ModelRequest {
            system: "be brief".into(),
            context: String::new(),
            messages: vec![ChatMessage::text(Role::User, text)],
            tools: vec![],
            max_tokens: 100,
            preferred_provider: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn it_streams_the_configured_number_of_tokens_at_the_configured_pace() {
        let model = SimulatedModel::new(SimulatedModelSettings {
            ttft: Duration::from_millis(300),
            tokens_per_sec: 10.0,
            reply_tokens: 30,
        });
        let started = tokio::time::Instant::now();
        let events: Vec<_> = model.stream(request("hi there")).collect().await;
        // 300 ms to the first token, then 29 gaps of 100 ms.
        assert_eq!(started.elapsed(), Duration::from_millis(300 + 29 * 100));
        assert_eq!(events.len(), 32, "30 deltas, the usage, the stop reason");
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                Ok(ModelEvent::Delta(t)) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert!(text.starts_with("This is a simulated reply"), "{text}");
        assert!(text.contains("You said: \"hi there\""), "{text}");
        assert_eq!(
            events[events.len() - 2..],
            [
                Ok(ModelEvent::Usage(Usage {
                    input_tokens: 4,
                    output_tokens: 30,
                    ..Usage::default()
                })),
                Ok(ModelEvent::Stop(StopReason::EndTurn))
            ]
        );
    }
}
