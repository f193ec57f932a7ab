//! The answers on the wire: the Anthropic and OpenAI event streams planned from a request,
//! written as chunked HTTP, and the providers' JSON error bodies.

use super::behaviour::{Stop, anthropic_view, decide, openai_view};
use super::usage::{anthropic_prompt, anthropic_usage, openai_cached, openai_prompt, tokens};
use super::{Api, ProviderFault, State};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The most `cache_control` breakpoints the Messages API accepts in one request.
const MAX_BREAKPOINTS: usize = 4;

/// Numbers tool calls (`toolu_fake_<n>`, `call_fake_<n>`) across the whole process.
static TOOL_CALLS: AtomicU64 = AtomicU64::new(1);
/// Numbers messages, completions and request ids across the whole process.
static RESPONSES: AtomicU64 = AtomicU64::new(1);

/// The provider's JSON error body.
pub(super) fn error_body(api: Api, status: u16, message: &str) -> Value {
    match api {
        Api::Anthropic => {
            let kind = match status {
                404 => "not_found_error",
                413 => "request_too_large",
                _ => "invalid_request_error",
            };
            json!({
                "type": "error",
                "error": {"type": kind, "message": message},
                "request_id": format!("req_fake_{}", RESPONSES.fetch_add(1, Ordering::Relaxed)),
            })
        }
        Api::OpenAi => json!({
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": null,
                "code": if status == 404 { json!("unknown_url") } else { Value::Null },
            }
        }),
    }
}

/// The status and JSON body of an injected failure answered before the stream starts
/// (429, 529 or 500), in each provider's shape (protocols.md §1, §2).
pub(super) fn fault_body(api: Api, fault: ProviderFault) -> (u16, Value) {
    let (status, kind, message) = match (api, fault) {
        (Api::Anthropic, ProviderFault::RateLimited) => (
            429,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization. Please try again later.",
        ),
        (Api::Anthropic, ProviderFault::Overloaded) => (529, "overloaded_error", "Overloaded"),
        (Api::Anthropic, _) => (500, "api_error", "Internal server error"),
        (Api::OpenAi, ProviderFault::RateLimited) => (
            429,
            "requests",
            "Rate limit reached for requests. Please try again in 1s.",
        ),
        (Api::OpenAi, ProviderFault::Overloaded) => (
            503,
            "server_error",
            "The engine is currently overloaded, please try again later.",
        ),
        (Api::OpenAi, _) => (
            500,
            "server_error",
            "The server had an error while processing your request. Sorry about that!",
        ),
    };
    let body = match api {
        Api::Anthropic => json!({
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": format!("req_fake_{}", RESPONSES.fetch_add(1, Ordering::Relaxed)),
        }),
        Api::OpenAi => json!({
            "error": {
                "message": message,
                "type": kind,
                "param": null,
                "code": if status == 429 { json!("rate_limit_exceeded") } else { Value::Null },
            }
        }),
    };
    (status, body)
}

/// A stream broken on purpose after its first `n` steps.
#[derive(Debug, Clone, Copy)]
pub(super) enum Break {
    /// Pause this long after `n` steps, then send the rest.
    Stall(usize, Duration),
    /// Close the connection after `n` steps, without the rest or the chunked terminator.
    Cut(usize),
}

/// Writes the event stream: the head at once, then each step as one chunk at its time; a
/// `brk` stalls or cuts it. False when the connection cannot go on.
pub(super) async fn send_stream(
    socket: &mut TcpStream,
    stream: EventStream,
    close: bool,
    brk: Option<Break>,
) -> bool {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\n{}: {}\r\ntransfer-encoding: chunked\r\nconnection: {}\r\n\r\n",
        stream.id_header.0,
        stream.id_header.1,
        if close { "close" } else { "keep-alive" },
    );
    if socket.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let mut at = tokio::time::Instant::now();
    for (i, (wait, data)) in stream.steps.into_iter().enumerate() {
        match brk {
            Some(Break::Stall(n, pause)) if n == i => {
                tokio::time::sleep(pause).await;
                at = tokio::time::Instant::now();
            }
            Some(Break::Cut(n)) if n == i => {
                let _ = socket.shutdown().await;
                return false;
            }
            _ => {}
        }
        if !wait.is_zero() {
            at += wait;
            tokio::time::sleep_until(at).await;
        }
        if data.is_empty() {
            continue;
        }
        let chunk = [
            format!("{:x}\r\n", data.len()).as_bytes(),
            data.as_bytes(),
            b"\r\n",
        ]
        .concat();
        if socket.write_all(&chunk).await.is_err() {
            return false;
        }
    }
    socket.write_all(b"0\r\n\r\n").await.is_ok()
}

/// An answer's events, each step sent after its pause.
pub(super) struct EventStream {
    /// `request-id` (Anthropic) or `x-request-id` (OpenAI) and its value.
    id_header: (&'static str, String),
    /// Pause since the previous step, and the step's bytes.
    steps: Vec<(Duration, String)>,
}

impl EventStream {
    /// Its steps.
    pub(super) fn step_count(&self) -> usize {
        self.steps.len()
    }

    fn new(id_header: (&'static str, String)) -> Self {
        Self {
            id_header,
            steps: Vec::new(),
        }
    }

    /// Adds `data` after `wait`; without a pause it joins the previous step.
    fn push(&mut self, wait: Duration, data: String) {
        if wait.is_zero()
            && let Some(last) = self.steps.last_mut()
        {
            last.1.push_str(&data);
            return;
        }
        self.steps.push((wait, data));
    }
}

/// `text` cut into pieces of `size` characters.
fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// Characters in a text piece (one token).
const TEXT_PIECE: usize = 4;
/// Characters in a tool input fragment.
const JSON_FRAGMENT: usize = 20;

// ---------------------------------------------------------------------------------------------
// Anthropic Messages.

fn anthropic_event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// Checks a Messages request and plans its event stream.
pub(super) fn anthropic_stream(state: &State, body: &Value) -> Result<EventStream, String> {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or("model: Field required")?;
    let max_tokens = body
        .get("max_tokens")
        .and_then(Value::as_u64)
        .ok_or("max_tokens: Field required")?;
    if max_tokens == 0 {
        return Err("max_tokens: must be at least 1".to_string());
    }
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or("messages: at least one message is required")?;
    if body.get("stream").and_then(Value::as_bool) != Some(true) {
        return Err("this fake model only streams: set \"stream\": true".to_string());
    }
    let prompt = anthropic_prompt(body);
    let breakpoints = prompt.iter().filter(|(_, b)| *b).count();
    if breakpoints > MAX_BREAKPOINTS {
        return Err(format!(
            "A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {breakpoints}."
        ));
    }
    let (input, write, read) = anthropic_usage(state, model, &prompt);
    let answer = decide(&anthropic_view(body, messages));

    let n = RESPONSES.fetch_add(1, Ordering::Relaxed);
    let mut stream = EventStream::new(("request-id", format!("req_fake_{n}")));
    let start = json!({"type": "message_start", "message": {
        "id": format!("msg_fake_{n}"), "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {
            "input_tokens": input,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 1,
            "service_tier": "standard",
        },
    }});
    stream.push(state.opts.ttft, anthropic_event("message_start", &start));
    let mut index = 0;
    if !answer.text.is_empty() {
        stream.push(
            Duration::ZERO,
            anthropic_event(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
            ),
        );
        stream.push(
            Duration::ZERO,
            anthropic_event("ping", &json!({"type": "ping"})),
        );
        for (i, piece) in pieces(&answer.text, TEXT_PIECE).into_iter().enumerate() {
            let wait = if i == 0 {
                Duration::ZERO
            } else {
                state.pace(1.0)
            };
            stream.push(
                wait,
                anthropic_event(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}),
                ),
            );
        }
        stream.push(
            Duration::ZERO,
            anthropic_event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ),
        );
        index += 1;
    }
    if let Some(call) = &answer.call {
        let id = format!("toolu_fake_{}", TOOL_CALLS.fetch_add(1, Ordering::Relaxed));
        stream.push(
            state.pace(1.0),
            anthropic_event(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": id, "name": call.name, "input": {}}}),
            ),
        );
        let delta = |partial: &str| {
            anthropic_event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": partial}}),
            )
        };
        stream.push(Duration::ZERO, delta(""));
        for fragment in pieces(&call.input, JSON_FRAGMENT) {
            let wait = state.pace(fragment.chars().count() as f64 / TEXT_PIECE as f64);
            stream.push(wait, delta(&fragment));
        }
        stream.push(
            Duration::ZERO,
            anthropic_event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ),
        );
    }
    let stop_reason = match answer.stop {
        Stop::EndTurn => "end_turn",
        Stop::ToolUse => "tool_use",
        Stop::MaxTokens => "max_tokens",
    };
    stream.push(
        Duration::ZERO,
        anthropic_event(
            "message_delta",
            &json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": answer.output_tokens()}}),
        ),
    );
    stream.push(
        Duration::ZERO,
        anthropic_event("message_stop", &json!({"type": "message_stop"})),
    );
    Ok(stream)
}

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions.

/// Checks a Chat Completions request and plans its chunk stream.
pub(super) fn openai_stream(state: &State, body: &Value) -> Result<EventStream, String> {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or("you must provide a model parameter")?;
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or("messages: at least one message is required")?;
    if body.get("stream").and_then(Value::as_bool) != Some(true) {
        return Err("this fake model only streams: set \"stream\": true".to_string());
    }
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    let prompt = openai_prompt(body, messages);
    let prompt_tokens = tokens(&prompt);
    let cached = openai_cached(state, model, &prompt);
    let answer = decide(&openai_view(body, messages));

    let n = RESPONSES.fetch_add(1, Ordering::Relaxed);
    let id = format!("chatcmpl-fake{n}");
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let chunk = |choices: Value, usage: Option<Value>| {
        let mut c = json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "service_tier": "default", "system_fingerprint": "fp_fake", "choices": choices,
        });
        if let Some(map) = c.as_object_mut() {
            match usage {
                Some(u) => {
                    map.insert("usage".to_string(), u);
                }
                None if include_usage => {
                    map.insert("usage".to_string(), Value::Null);
                }
                None => {}
            }
        }
        format!("data: {c}\n\n")
    };
    let delta = |delta: Value| {
        chunk(
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}]),
            None,
        )
    };
    let mut stream = EventStream::new(("x-request-id", format!("req_fake_{n}")));
    let content = if answer.text.is_empty() {
        Value::Null
    } else {
        json!("")
    };
    stream.push(
        state.opts.ttft,
        delta(json!({"role": "assistant", "content": content, "refusal": null})),
    );
    for (i, piece) in pieces(&answer.text, TEXT_PIECE).into_iter().enumerate() {
        let wait = if i == 0 {
            Duration::ZERO
        } else {
            state.pace(1.0)
        };
        stream.push(wait, delta(json!({ "content": piece })));
    }
    if let Some(call) = &answer.call {
        let call_id = format!("call_fake_{}", TOOL_CALLS.fetch_add(1, Ordering::Relaxed));
        stream.push(
            state.pace(1.0),
            delta(
                json!({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                "function": {"name": call.name, "arguments": ""}}]}),
            ),
        );
        for fragment in pieces(&call.input, JSON_FRAGMENT) {
            let wait = state.pace(fragment.chars().count() as f64 / TEXT_PIECE as f64);
            stream.push(
                wait,
                delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]})),
            );
        }
    }
    let finish_reason = match answer.stop {
        Stop::EndTurn => "stop",
        Stop::ToolUse => "tool_calls",
        Stop::MaxTokens => "length",
    };
    stream.push(
        Duration::ZERO,
        chunk(
            json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": finish_reason}]),
            None,
        ),
    );
    if include_usage {
        let completion = answer.output_tokens();
        let usage = json!({
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
            },
        });
        stream.push(Duration::ZERO, chunk(json!([]), Some(usage)));
    }
    stream.push(Duration::ZERO, "data: [DONE]\n\n".to_string());
    Ok(stream)
}
