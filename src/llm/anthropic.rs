//! Anthropic Messages API, streaming (`POST /v1/messages` with `"stream": true`).
//!
//! Prompt caching: the tools and the system prompt are the stable prefix of every call of a
//! conversation (the merchant's instructions and context live in the system prompt), so the last
//! tool and the system block carry `cache_control: {"type": "ephemeral"}`; usage reports the
//! tokens written into and read from the cache.
//!
//! Messages go as the API's content blocks: `text`, `tool_use` (`id`, `name`, `input`) in the
//! assistant's messages and `tool_result` (`tool_use_id`, `content`, `is_error`) in the user's,
//! results first; a message of one text block stays a plain string. The history starts with
//! the visitor and pairs every tool use with its result (`history::prepare`).

use super::history::{self, Rules};
use super::http::{self, Decoder, Timeouts};
use super::sse::SseEvent;
use crate::config::Secret;
use agentpay_actors::ports::model::{
    ChatMessage, ContentBlock, ModelClient, ModelError, ModelEvent, ModelRequest, ModelStream,
    StopReason, Usage,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};

/// The API version header every request carries.
pub const API_VERSION: &str = "2023-06-01";

/// What the Messages API requires of the history besides paired tool blocks: it starts with
/// the visitor (a history cut to its last messages may start with a reply, which is dropped).
const RULES: Rules = Rules {
    start_with_user: true,
};

/// One message on the wire: a plain string for a single text block (the common case, and the
/// smallest body), else its content blocks.
fn wire_message(m: &ChatMessage) -> Value {
    let role = m.role.as_str();
    if let [ContentBlock::Text { text }] = m.content.as_slice() {
        return json!({"role": role, "content": text});
    }
    let blocks: Vec<Value> = m
        .content
        .iter()
        .map(|b| match b {
            ContentBlock::Text { text } => json!({"type": "text", "text": text}),
            ContentBlock::ToolUse { id, name, input } => {
                json!({"type": "tool_use", "id": id, "name": name, "input": input})
            }
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => json!({
                "type": "tool_result",
                "tool_use_id": tool_use_id,
                "content": content,
                "is_error": is_error,
            }),
        })
        .collect();
    json!({"role": role, "content": blocks})
}

/// A client for one Anthropic model.
pub struct AnthropicClient {
    http: reqwest::Client,
    base_url: String,
    model: String,
    api_key: Secret,
    timeouts: Timeouts,
    /// Whether the stable prefix carries `cache_control` (`llm.prompt_caching`).
    caching: bool,
}

impl AnthropicClient {
    /// A client for `model` at `base_url` (`https://api.anthropic.com`).
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Secret,
        timeouts: Timeouts,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            http: http::client(&timeouts)?,
            base_url: base_url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            api_key,
            timeouts,
            caching: true,
        })
    }

    /// With or without prompt caching (on by default).
    pub fn with_caching(mut self, caching: bool) -> Self {
        self.caching = caching;
        self
    }

    /// The request body for `request`.
    pub fn body(&self, request: &ModelRequest) -> Value {
        let cache = json!({"type": "ephemeral"});
        let mut tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({"name": t.name, "description": t.description, "input_schema": t.input_schema})
            })
            .collect();
        if let Some(last) = tools.last_mut().filter(|_| self.caching) {
            last["cache_control"] = cache.clone();
        }
        let mut messages: Vec<Value> = history::prepare(&request.messages, RULES)
            .iter()
            .map(wire_message)
            .collect();
        if self.caching && !request.tools.is_empty() {
            // A tool loop's next round repeats this whole prompt: cache it up to here.
            if let Some(last) = messages.last_mut() {
                if let Some(text) = last["content"].as_str() {
                    last["content"] = json!([{"type": "text", "text": text}]);
                }
                if let Some(block) = last["content"].as_array_mut().and_then(|c| c.last_mut()) {
                    block["cache_control"] = cache.clone();
                }
            }
        }
        let mut body = json!({
            "model": self.model,
            "max_tokens": request.max_tokens,
            "stream": true,
            "messages": messages,
        });
        let mut system = Vec::new();
        if !request.system.is_empty() {
            let mut block = json!({"type": "text", "text": request.system});
            if self.caching {
                block["cache_control"] = cache;
            }
            system.push(block);
        }
        if !request.context.is_empty() {
            system.push(json!({"type": "text", "text": request.context}));
        }
        if !system.is_empty() {
            body["system"] = Value::Array(system);
        }
        if !tools.is_empty() {
            body["tools"] = Value::Array(tools);
        }
        body
    }
}

impl ModelClient for AnthropicClient {
    fn provider(&self) -> &str {
        "anthropic"
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn stream(&self, request: ModelRequest) -> ModelStream {
        let builder = self
            .http
            .post(format!("{}/v1/messages", self.base_url))
            .header("x-api-key", self.api_key.expose())
            .header("anthropic-version", API_VERSION)
            .header("accept", "text/event-stream")
            .json(&self.body(&request));
        http::model_stream(builder, self.timeouts, AnthropicDecoder::default())
    }
}

/// A tool-use block being assembled.
#[derive(Debug, Default)]
struct ToolBlock {
    /// The call's id, from `content_block_start`.
    id: String,
    /// The tool's name, from `content_block_start`.
    name: String,
    /// The `input` of `content_block_start`: `{}` from Anthropic, whose input streams as
    /// `input_json_delta`; some Messages-compatible servers put the whole input here instead.
    start_input: Value,
    /// The `partial_json` fragments so far, joined; parsed at `content_block_stop`.
    json: String,
}

/// Decodes the Messages stream: text deltas as they come, tool calls when their block ends,
/// usage and the stop reason at `message_stop`.
#[derive(Debug, Default)]
pub struct AnthropicDecoder {
    /// Tool-use blocks started and not yet stopped, by content block index.
    tools: BTreeMap<u64, ToolBlock>,
    /// Usage so far (`message_start`, then `message_delta`'s running totals; last one wins).
    usage: Usage,
    /// The stop reason of the last `message_delta`.
    stop: Option<StopReason>,
    /// `message_stop` arrived: the stream is complete.
    done: bool,
}

fn read_usage(usage: &mut Usage, v: &Value) {
    let get = |k: &str| v.get(k).and_then(Value::as_u64);
    if let Some(n) = get("input_tokens") {
        usage.input_tokens = n;
    }
    if let Some(n) = get("output_tokens") {
        usage.output_tokens = n;
    }
    if let Some(n) = get("cache_creation_input_tokens") {
        usage.cache_write_tokens = n;
    }
    if let Some(n) = get("cache_read_input_tokens") {
        usage.cache_read_tokens = n;
    }
}

fn stop_reason(s: &str) -> StopReason {
    match s {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" => StopReason::MaxTokens,
        "tool_use" => StopReason::ToolUse,
        "stop_sequence" => StopReason::StopSequence,
        "refusal" => StopReason::Refusal,
        other => StopReason::Other(other.to_string()),
    }
}

/// Maps an in-stream `error` event to a [`ModelError`].
fn stream_error(v: &Value) -> ModelError {
    let kind = v
        .pointer("/error/type")
        .and_then(Value::as_str)
        .unwrap_or("");
    let message = v
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("error event")
        .to_string();
    match kind {
        "overloaded_error" => ModelError::Overloaded,
        "rate_limit_error" => ModelError::RateLimited {
            retry_after_ms: None,
        },
        "api_error" => ModelError::Server {
            status: 500,
            message,
        },
        "authentication_error" | "permission_error" => ModelError::Authentication,
        "invalid_request_error" => ModelError::BadRequest(message),
        _ => ModelError::BrokenStream(format!("{kind}: {message}")),
    }
}

impl Decoder for AnthropicDecoder {
    fn on_event(&mut self, event: SseEvent, out: &mut VecDeque<Result<ModelEvent, ModelError>>) {
        let v: Value = match serde_json::from_str(&event.data) {
            Ok(v) => v,
            Err(e) => {
                out.push_back(Err(ModelError::BrokenStream(format!(
                    "malformed event data: {e}"
                ))));
                return;
            }
        };
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "message_start" => {
                if let Some(u) = v.pointer("/message/usage") {
                    read_usage(&mut self.usage, u);
                }
            }
            "content_block_start" => {
                let block = &v["content_block"];
                if block["type"] == "tool_use" {
                    self.tools.insert(
                        index,
                        ToolBlock {
                            id: block["id"].as_str().unwrap_or_default().to_string(),
                            name: block["name"].as_str().unwrap_or_default().to_string(),
                            start_input: block.get("input").cloned().unwrap_or(Value::Null),
                            json: String::new(),
                        },
                    );
                } else if let Some(text) = block.get("text").and_then(Value::as_str)
                    && !text.is_empty()
                {
                    out.push_back(Ok(ModelEvent::Delta(super::clean_text(text))));
                }
            }
            "content_block_delta" => {
                let delta = &v["delta"];
                match delta["type"].as_str().unwrap_or("") {
                    "text_delta" => {
                        if let Some(text) = delta["text"].as_str()
                            && !text.is_empty()
                        {
                            out.push_back(Ok(ModelEvent::Delta(super::clean_text(text))));
                        }
                    }
                    "input_json_delta" => {
                        if let Some(block) = self.tools.get_mut(&index) {
                            block
                                .json
                                .push_str(delta["partial_json"].as_str().unwrap_or(""));
                        }
                    }
                    _ => {} // thinking, signatures, citations: not shown to visitors
                }
            }
            "content_block_stop" => {
                if let Some(block) = self.tools.remove(&index) {
                    // No fragment text but a non-empty start input: a server that sent the input
                    // whole. Otherwise the joined fragments are the input (empty meaning `{}`).
                    let whole = block.json.is_empty()
                        && block.start_input.as_object().is_some_and(|o| !o.is_empty());
                    let arguments = if whole {
                        block.start_input.to_string()
                    } else {
                        block.json
                    };
                    out.push_back(http::tool_call(block.id, block.name, &arguments));
                }
            }
            "message_delta" => {
                if let Some(reason) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop = Some(stop_reason(reason));
                }
                if let Some(u) = v.get("usage") {
                    read_usage(&mut self.usage, u);
                }
            }
            "message_stop" => {
                self.done = true;
                out.push_back(Ok(ModelEvent::Usage(self.usage)));
                let stop = self.stop.take().unwrap_or(StopReason::EndTurn);
                out.push_back(Ok(ModelEvent::Stop(stop)));
            }
            "error" => out.push_back(Err(stream_error(&v))),
            _ => {} // ping, and event types added later
        }
    }

    fn done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentpay_actors::ports::model::{Role, ToolCall};

    fn decode(events: &[Value]) -> Vec<Result<ModelEvent, ModelError>> {
        let mut decoder = AnthropicDecoder::default();
        let mut out = VecDeque::new();
        for e in events {
            let event = SseEvent {
                event: e["type"].as_str().map(str::to_string),
                data: e.to_string(),
                ..SseEvent::default()
            };
            decoder.on_event(event, &mut out);
        }
        out.into_iter().collect()
    }

    #[test]
    fn a_tool_input_sent_whole_at_the_block_start_is_taken() {
        let events = decode(&[
            json!({"type": "content_block_start", "index": 0, "content_block":
                   {"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "content_block_start", "index": 1, "content_block":
                   {"type": "tool_use", "id": "t2", "name": "g", "input": {}}}),
            json!({"type": "content_block_stop", "index": 1}),
        ]);
        assert_eq!(
            events,
            vec![
                Ok(ModelEvent::ToolCall(ToolCall {
                    id: "t1".into(),
                    name: "f".into(),
                    input: json!({"x": 1}),
                })),
                Ok(ModelEvent::ToolCall(ToolCall {
                    id: "t2".into(),
                    name: "g".into(),
                    input: json!({}),
                })),
            ]
        );
    }

    #[test]
    fn a_message_of_one_text_block_is_a_string_and_others_are_blocks() {
        assert_eq!(
            wire_message(&ChatMessage::text(Role::User, "Hi")),
            json!({"role": "user", "content": "Hi"})
        );
        let m = ChatMessage {
            role: Role::User,
            content: vec![ContentBlock::ToolResult {
                tool_use_id: "t1".into(),
                content: "ok".into(),
                is_error: false,
            }],
        };
        assert_eq!(
            wire_message(&m),
            json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "ok", "is_error": false}
            ]})
        );
    }
}
