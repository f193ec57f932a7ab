//! Anthropic Messages API, streaming (`POST /v1/messages` with `"stream": true`).
//!
//! Prompt caching: the tools and the system prompt are the stable prefix of every call of a
//! conversation (the merchant's instructions and context live in the system prompt), so the last
//! tool and the system block carry `cache_control: {"type": "ephemeral"}`; usage reports the
//! tokens written into and read from the cache.

use super::http::{self, Decoder, Timeouts};
use super::sse::SseEvent;
use crate::config::Secret;
use agentpay_actors::ports::model::{
    ModelClient, ModelError, ModelEvent, ModelRequest, ModelStream, Role, StopReason, Usage,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};

/// The API version header every request carries.
pub const API_VERSION: &str = "2023-06-01";

/// A client for one Anthropic model.
pub struct AnthropicClient {
    http: reqwest::Client,
    base_url: String,
    model: String,
    api_key: Secret,
    timeouts: Timeouts,
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
        })
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
        if let Some(last) = tools.last_mut() {
            last["cache_control"] = cache.clone();
        }
        // The API wants the conversation to start with the visitor and alternate; history cut
        // to its last messages may start with a reply, which is dropped.
        let messages: Vec<Value> = request
            .messages
            .iter()
            .skip_while(|m| m.role != Role::User)
            .map(|m| {
                let role = match m.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                json!({"role": role, "content": m.joined_text()})
            })
            .collect();
        let mut body = json!({
            "model": self.model,
            "max_tokens": request.max_tokens,
            "stream": true,
            "messages": messages,
        });
        if !request.system.is_empty() {
            body["system"] =
                json!([{"type": "text", "text": request.system, "cache_control": cache}]);
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
    id: String,
    name: String,
    json: String,
}

/// Decodes the Messages stream: text deltas as they come, tool calls when their block ends,
/// usage and the stop reason at `message_stop`.
#[derive(Debug, Default)]
pub struct AnthropicDecoder {
    tools: BTreeMap<u64, ToolBlock>,
    usage: Usage,
    stop: Option<StopReason>,
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
                            json: String::new(),
                        },
                    );
                } else if let Some(text) = block.get("text").and_then(Value::as_str)
                    && !text.is_empty()
                {
                    out.push_back(Ok(ModelEvent::Delta(text.to_string())));
                }
            }
            "content_block_delta" => {
                let delta = &v["delta"];
                match delta["type"].as_str().unwrap_or("") {
                    "text_delta" => {
                        if let Some(text) = delta["text"].as_str()
                            && !text.is_empty()
                        {
                            out.push_back(Ok(ModelEvent::Delta(text.to_string())));
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
                    out.push_back(http::tool_call(block.id, block.name, &block.json));
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
