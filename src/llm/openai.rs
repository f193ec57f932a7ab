//! OpenAI Chat Completions, streaming (`POST /v1/chat/completions` with `"stream": true` and
//! `stream_options.include_usage`), and the OpenAI-compatible servers (llama.cpp, Ollama, vLLM)
//! with their known differences: `choices: null` or absent in the usage chunk, `usage` missing
//! altogether, `null` where OpenAI omits a key, `max_tokens` instead of `max_completion_tokens`.
//!
//! Tool use, both dialects alike: an assistant message with tool uses becomes one message with
//! `content` (its text, or `null`) and `tool_calls` (`{"id", "type": "function", "function":
//! {"name", "arguments": "<the input as a JSON string>"}}`); a user message's tool results
//! become `{"role": "tool", "tool_call_id", "content"}` messages, in order, and its text a
//! `user` message after them. Chat Completions has no error flag on a tool result: a failed
//! one's content is sent prefixed with [`TOOL_ERROR_PREFIX`]. Every call is paired with its
//! result (`history::prepare`).

use super::history::{self, Rules};
use super::http::{self, Decoder, Timeouts};
use super::sse::SseEvent;
use crate::config::Secret;
use agentpay_actors::ports::model::{
    ChatMessage, ContentBlock, ModelClient, ModelError, ModelEvent, ModelRequest, ModelStream,
    Role, StopReason, Usage,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};

/// What Chat Completions requires of the history besides paired tool calls: nothing more (it
/// may start with a reply).
const RULES: Rules = Rules {
    start_with_user: false,
};

/// Put before a failed tool result's content (`is_error`), which Chat Completions cannot flag.
pub const TOOL_ERROR_PREFIX: &str = "Error: ";

/// Texts of one message joined: blocks of one message are separate paragraphs (or messages
/// merged by `history::prepare`), and Chat Completions takes one string.
fn joined_text(m: &ChatMessage) -> String {
    let texts: Vec<&str> = m
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    texts.join("\n\n")
}

/// Appends the wire messages of `m` (one for a reply; the tool messages then the user message
/// for a visitor's) to `out`.
fn push_wire_messages(m: &ChatMessage, out: &mut Vec<Value>) {
    let text = joined_text(m);
    match m.role {
        Role::Assistant => {
            let calls: Vec<Value> = m
                .content
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::ToolUse { id, name, input } => Some(json!({
                        "id": id,
                        "type": "function",
                        "function": {"name": name, "arguments": input.to_string()},
                    })),
                    _ => None,
                })
                .collect();
            if calls.is_empty() {
                out.push(json!({"role": "assistant", "content": text}));
            } else {
                let content = if text.is_empty() {
                    Value::Null
                } else {
                    Value::String(text)
                };
                out.push(json!({"role": "assistant", "content": content, "tool_calls": calls}));
            }
        }
        Role::User => {
            for b in &m.content {
                if let ContentBlock::ToolResult {
                    tool_use_id,
                    content,
                    is_error,
                } = b
                {
                    let content = if *is_error {
                        format!("{TOOL_ERROR_PREFIX}{content}")
                    } else {
                        content.clone()
                    };
                    out.push(
                        json!({"role": "tool", "tool_call_id": tool_use_id, "content": content}),
                    );
                }
            }
            if !text.is_empty() {
                out.push(json!({"role": "user", "content": text}));
            }
        }
    }
}

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
    /// Whether the model is offered tools.
    tools: bool,
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
            tools: true,
        })
    }

    /// Whether the model is offered tools (`llm.<provider>.tools`; on by default).
    pub fn with_tools(mut self, tools: bool) -> Self {
        self.tools = tools;
        self
    }

    /// The request body for `request`.
    pub fn body(&self, request: &ModelRequest) -> Value {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        // The stable system prompt first (OpenAI caches the longest repeated prefix), then what
        // changes from turn to turn.
        let system = match (request.system.is_empty(), request.context.is_empty()) {
            (true, true) => String::new(),
            (false, true) => request.system.clone(),
            (true, false) => request.context.clone(),
            (false, false) => format!("{}\n\n{}", request.system, request.context),
        };
        if !system.is_empty() {
            messages.push(json!({"role": "system", "content": system}));
        }
        for m in history::prepare(&request.messages, RULES) {
            push_wire_messages(&m, &mut messages);
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

    fn supports_tools(&self) -> bool {
        self.tools
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
    /// The call's id, from its first fragment.
    id: String,
    /// The function's name, from its first fragment.
    name: String,
    /// The `function.arguments` pieces so far, joined; parsed when the choice finishes.
    arguments: String,
}

/// Decodes Chat Completions chunks: text as it comes, tool calls when the choice finishes
/// (`finish_reason`, or `[DONE]` from a server that never sent one), usage and the stop reason
/// at `[DONE]`.
#[derive(Debug, Default)]
pub struct OpenAiDecoder {
    /// Tool calls being assembled, by `tool_calls[].index`.
    calls: BTreeMap<u64, PendingCall>,
    /// Whether a tool call was emitted: the stop reason when the server gave none.
    called: bool,
    /// The usage chunk's, once it came.
    usage: Option<Usage>,
    /// From the last `finish_reason`.
    stop: Option<StopReason>,
    /// `[DONE]` arrived: the stream is complete.
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
    /// Adds one `tool_calls[]` fragment to the call it continues.
    ///
    /// Fragments are matched by `index` (protocols.md §2). A server that leaves `index` out
    /// (some compatible ones) gets the lenient reading: a fragment with an id not seen yet
    /// starts a new call, any other continues the latest one.
    fn on_call_fragment(&mut self, call: &Value) {
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty());
        let index = match call.get("index").and_then(Value::as_u64) {
            Some(index) => index,
            None => {
                let latest = self.calls.last_key_value();
                match (latest, id) {
                    (Some((&i, pending)), Some(id)) if pending.id != id => i + 1,
                    (Some((&i, _)), _) => i,
                    (None, _) => 0,
                }
            }
        };
        let pending = self.calls.entry(index).or_default();
        if let Some(id) = id {
            pending.id = id.to_string();
        }
        if let Some(name) = call.pointer("/function/name").and_then(Value::as_str)
            && !name.is_empty()
        {
            pending.name = name.to_string();
        }
        match call.pointer("/function/arguments") {
            Some(Value::String(piece)) => pending.arguments.push_str(piece),
            // Some compatible servers send the arguments as an object, whole.
            Some(args @ Value::Object(_)) => pending.arguments = args.to_string(),
            _ => {}
        }
    }

    /// Emits the assembled tool calls, in index order. A call without an id (some compatible
    /// servers) gets `call_<index>`, so its result can still name it.
    fn flush_calls(&mut self, out: &mut VecDeque<Result<ModelEvent, ModelError>>) {
        for (index, call) in std::mem::take(&mut self.calls) {
            let id = if call.id.is_empty() {
                format!("call_{index}")
            } else {
                call.id
            };
            self.called = true;
            out.push_back(http::tool_call(id, call.name, &call.arguments));
        }
    }
}

impl Decoder for OpenAiDecoder {
    fn on_event(&mut self, event: SseEvent, out: &mut VecDeque<Result<ModelEvent, ModelError>>) {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.flush_calls(out);
            out.push_back(Ok(ModelEvent::Usage(self.usage.unwrap_or_default())));
            let fallback = if self.called {
                StopReason::ToolUse
            } else {
                StopReason::EndTurn
            };
            let stop = self.stop.take().unwrap_or(fallback);
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
                out.push_back(Ok(ModelEvent::Delta(super::clean_text(text))));
            }
            for call in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.on_call_fragment(call);
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

#[cfg(test)]
mod tests {
    use super::*;
    use agentpay_actors::ports::model::ToolCall;
    use serde_json::json;

    fn decode(chunks: &[Value]) -> Vec<Result<ModelEvent, ModelError>> {
        let mut decoder = OpenAiDecoder::default();
        let mut out = VecDeque::new();
        for c in chunks {
            let event = SseEvent {
                data: c.to_string(),
                ..SseEvent::default()
            };
            decoder.on_event(event, &mut out);
        }
        decoder.on_event(
            SseEvent {
                data: "[DONE]".into(),
                ..SseEvent::default()
            },
            &mut out,
        );
        out.into_iter().collect()
    }

    fn delta(calls: Value) -> Value {
        json!({"choices": [{"index": 0, "delta": {"tool_calls": calls}}]})
    }

    fn call(id: &str, name: &str, input: Value) -> Result<ModelEvent, ModelError> {
        Ok(ModelEvent::ToolCall(ToolCall {
            id: id.into(),
            name: name.into(),
            input,
        }))
    }

    #[test]
    fn fragments_without_an_index_start_a_call_at_each_new_id() {
        let events = decode(&[
            delta(json!([{"id": "a", "function": {"name": "f", "arguments": "{\"x\":"}}])),
            delta(json!([{"function": {"arguments": "1}"}}])),
            delta(json!([{"id": "b", "function": {"name": "g", "arguments": "{}"}}])),
        ]);
        assert_eq!(
            events,
            vec![
                call("a", "f", json!({"x": 1})),
                call("b", "g", json!({})),
                Ok(ModelEvent::Usage(Usage::default())),
                // No finish_reason from the server: a tool call was made, so that is why.
                Ok(ModelEvent::Stop(StopReason::ToolUse)),
            ]
        );
    }

    #[test]
    fn whole_object_arguments_and_a_missing_id_are_accepted() {
        let events = decode(&[delta(
            json!([{"index": 3, "function": {"name": "f", "arguments": {"x": [1, 2]}}}]),
        )]);
        assert_eq!(events[0], call("call_3", "f", json!({"x": [1, 2]})));
    }

    #[test]
    fn text_blocks_join_as_paragraphs_and_a_failed_result_says_so() {
        let m = ChatMessage {
            role: Role::User,
            content: vec![
                ContentBlock::Text { text: "Hi".into() },
                ContentBlock::ToolResult {
                    tool_use_id: "c".into(),
                    content: "timeout".into(),
                    is_error: true,
                },
                ContentBlock::Text {
                    text: "Anyone?".into(),
                },
            ],
        };
        let mut out = Vec::new();
        push_wire_messages(&m, &mut out);
        assert_eq!(
            out,
            [
                json!({"role": "tool", "tool_call_id": "c", "content": "Error: timeout"}),
                json!({"role": "user", "content": "Hi\n\nAnyone?"}),
            ]
        );
    }
}
