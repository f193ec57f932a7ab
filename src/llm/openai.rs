//! OpenAI Chat Completions, streaming (`POST /v1/chat/completions` with `"stream": true` and
//! `stream_options.include_usage`), and the OpenAI-compatible servers (llama.cpp, Ollama, vLLM)
//! with their known differences: `choices: null` or absent in the usage chunk, `usage` missing
//! altogether, `null` where OpenAI omits a key, `max_tokens` instead of `max_completion_tokens`.

use super::http::{self, Decoder, Timeouts};
use super::sse::SseEvent;
use crate::config::Secret;
use agentpay_actors::ports::model::{
    ModelClient, ModelError, ModelEvent, ModelRequest, ModelStream, Role, StopReason, Usage,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};

/// Which dialect a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// api.openai.com.
    OpenAi,
    /// A self-hosted OpenAI-compatible server.
    Compatible,
}

/// A client for one OpenAI (or OpenAI-compatible) model.
pub struct OpenAiClient {
    http: reqwest::Client,
    base_url: String,
    model: String,
    api_key: Option<Secret>,
    dialect: Dialect,
    timeouts: Timeouts,
}

impl OpenAiClient {
    /// A client for `model` at `base_url` (`https://api.openai.com`; a compatible server's base
    /// URL, with or without its `/v1`).
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Option<Secret>,
        dialect: Dialect,
        timeouts: Timeouts,
    ) -> anyhow::Result<Self> {
        let base = base_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        Ok(Self {
            http: http::client(&timeouts)?,
            base_url: base.to_string(),
            model: model.to_string(),
            api_key,
            dialect,
            timeouts,
        })
    }

    /// The request body for `request`.
    pub fn body(&self, request: &ModelRequest) -> Value {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        if !request.system.is_empty() {
            messages.push(json!({"role": "system", "content": request.system}));
        }
        for m in &request.messages {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            messages.push(json!({"role": role, "content": m.joined_text()}));
        }
        let mut body = json!({
            "model": self.model,
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        let limit = match self.dialect {
            Dialect::OpenAi => "max_completion_tokens",
            Dialect::Compatible => "max_tokens",
        };
        body[limit] = json!(request.max_tokens);
        if !request.tools.is_empty() {
            body["tools"] = request
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": t.input_schema
                    }})
                })
                .collect();
        }
        body
    }
}

impl ModelClient for OpenAiClient {
    fn provider(&self) -> &str {
        match self.dialect {
            Dialect::OpenAi => "openai",
            Dialect::Compatible => "openai_compatible",
        }
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn stream(&self, request: ModelRequest) -> ModelStream {
        let mut builder = self
            .http
            .post(format!("{}/v1/chat/completions", self.base_url))
            .header("accept", "text/event-stream")
            .json(&self.body(&request));
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key.expose());
        }
        http::model_stream(builder, self.timeouts, OpenAiDecoder::default())
    }
}

/// A tool call being assembled, by its index.
#[derive(Debug, Default)]
struct PendingCall {
    id: String,
    name: String,
    arguments: String,
}

/// Decodes Chat Completions chunks.
#[derive(Debug, Default)]
pub struct OpenAiDecoder {
    calls: BTreeMap<u64, PendingCall>,
    usage: Option<Usage>,
    stop: Option<StopReason>,
    done: bool,
}

fn finish_reason(s: &str) -> StopReason {
    match s {
        "stop" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::Refusal,
        other => StopReason::Other(other.to_string()),
    }
}

fn read_usage(v: &Value) -> Usage {
    let get = |p: &str| v.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    let cached = get("/prompt_tokens_details/cached_tokens");
    Usage {
        // OpenAI counts cached tokens inside prompt_tokens; ours are disjoint.
        input_tokens: get("/prompt_tokens").saturating_sub(cached),
        output_tokens: get("/completion_tokens"),
        cache_write_tokens: 0,
        cache_read_tokens: cached,
    }
}

impl OpenAiDecoder {
    /// Emits the assembled tool calls, in index order.
    fn flush_calls(&mut self, out: &mut VecDeque<Result<ModelEvent, ModelError>>) {
        for (_, call) in std::mem::take(&mut self.calls) {
            out.push_back(http::tool_call(call.id, call.name, &call.arguments));
        }
    }
}

impl Decoder for OpenAiDecoder {
    fn on_event(&mut self, event: SseEvent, out: &mut VecDeque<Result<ModelEvent, ModelError>>) {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.flush_calls(out);
            out.push_back(Ok(ModelEvent::Usage(self.usage.unwrap_or_default())));
            let stop = self.stop.take().unwrap_or(StopReason::EndTurn);
            out.push_back(Ok(ModelEvent::Stop(stop)));
            self.done = true;
            return;
        }
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                out.push_back(Err(ModelError::BrokenStream(format!(
                    "malformed chunk: {e}"
                ))));
                return;
            }
        };
        if let Some(error) = v.get("error").filter(|e| !e.is_null()) {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error chunk")
                .to_string();
            out.push_back(Err(ModelError::BrokenStream(message)));
            return;
        }
        if let Some(usage) = v.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(read_usage(usage));
        }
        // `choices` may be absent, null or empty (the usage chunk); take each one present.
        let choices = v.get("choices").and_then(Value::as_array);
        for choice in choices.into_iter().flatten() {
            let delta = &choice["delta"];
            if let Some(text) = delta.get("content").and_then(Value::as_str)
                && !text.is_empty()
            {
                out.push_back(Ok(ModelEvent::Delta(text.to_string())));
            }
            for call in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let index = call.get("index").and_then(Value::as_u64).unwrap_or(0);
                let pending = self.calls.entry(index).or_default();
                if let Some(id) = call.get("id").and_then(Value::as_str) {
                    pending.id = id.to_string();
                }
                if let Some(name) = call.pointer("/function/name").and_then(Value::as_str)
                    && !name.is_empty()
                {
                    pending.name = name.to_string();
                }
                if let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str) {
                    pending.arguments.push_str(args);
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.stop = Some(finish_reason(reason));
                self.flush_calls(out);
            }
        }
    }

    fn done(&self) -> bool {
        self.done
    }
}
