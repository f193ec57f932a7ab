//! A wire-compatible fake model provider: a real HTTP/1.1 server on loopback that records every
//! request and answers each with the next scripted reply: a status, headers, and a body sent in
//! chunks (chunked transfer encoding) with pauses, possibly cut off or stalled midway. The
//! scripts replay the exact event sequences of protocols.md §1-2.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How a scripted body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The terminating chunk, then close.
    Complete,
    /// Close the connection without the terminating chunk (a cut mid-stream).
    Cut,
    /// Stop sending and keep the connection open (a stall).
    Stall,
    /// The terminating chunk with the connection kept alive, then the next request on that
    /// connection is read and dropped unanswered: a server that closes a kept-alive connection
    /// as a streamed answer ends, without `connection: close` (llama.cpp's does), caught by a
    /// client that sent its next request on it first.
    CompleteThenDropNext,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body pieces, each written as its own chunk after `pause`.
    pub chunks: Vec<Vec<u8>>,
    pub pause: Duration,
    pub ending: Ending,
}

impl Reply {
    /// A 200 event stream of `body`, cut into pieces of `piece` bytes (splitting events, lines
    /// and multi-byte characters anywhere).
    pub fn sse(body: &str, piece: usize) -> Self {
        Self {
            status: 200,
            headers: vec![(
                "content-type".into(),
                "text/event-stream; charset=utf-8".into(),
            )],
            chunks: body
                .as_bytes()
                .chunks(piece.max(1))
                .map(<[u8]>::to_vec)
                .collect(),
            pause: Duration::ZERO,
            ending: Ending::Complete,
        }
    }

    /// A 200 event stream of `body` cut at the byte offsets `cuts` (in any order), wherever
    /// they fall: inside an escape, a multi-byte character, a CR LF pair.
    pub fn sse_split(body: &str, cuts: &[usize]) -> Self {
        let bytes = body.as_bytes();
        let mut cuts = cuts.to_vec();
        cuts.sort_unstable();
        cuts.push(bytes.len());
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts {
            let cut = cut.clamp(start, bytes.len());
            chunks.push(bytes[start..cut].to_vec());
            start = cut;
        }
        chunks.retain(|c| !c.is_empty());
        Self {
            chunks,
            ..Self::sse("", 1)
        }
    }

    /// An error answer with a JSON body.
    pub fn error(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunks: vec![body.as_bytes().to_vec()],
            pause: Duration::ZERO,
            ending: Ending::Complete,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    pub fn ending(mut self, ending: Ending) -> Self {
        self.ending = ending;
        self
    }
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The fake server.
#[derive(Clone)]
pub struct FakeLlm {
    pub base_url: String,
    script: Arc<Mutex<VecDeque<Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeLlm {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let fake = Self {
            base_url,
            script: Arc::default(),
            seen: Arc::default(),
        };
        let f = fake.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let f = f.clone();
                tokio::spawn(async move { f.serve(socket).await });
            }
        });
        fake
    }

    /// Queues the answer to the next request.
    pub fn then(&self, reply: Reply) -> &Self {
        self.script.lock().unwrap().push_back(reply);
        self
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    async fn serve(&self, mut socket: TcpStream) {
        // Read the head, then the body by content-length.
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        let head_end = loop {
            let Ok(n) = socket.read(&mut tmp).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&tmp[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let Ok(n) = socket.read(&mut tmp).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&tmp[..n]);
        }
        let mut parts = request_line.split(' ');
        let seen = Seen {
            method: parts.next().unwrap_or_default().to_string(),
            path: parts.next().unwrap_or_default().to_string(),
            headers,
            body: serde_json::from_slice(&buf[head_end..head_end + length])
                .unwrap_or(serde_json::Value::Null),
        };
        self.seen.lock().unwrap().push(seen);
        let reply = self.script.lock().unwrap().pop_front().unwrap_or_else(|| {
            Reply::error(
                500,
                r#"{"type":"error","error":{"type":"api_error","message":"no scripted reply"}}"#,
            )
        });
        let mut out = format!("HTTP/1.1 {} Scripted\r\n", reply.status);
        for (k, v) in &reply.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("transfer-encoding: chunked\r\n");
        if reply.ending != Ending::CompleteThenDropNext {
            out.push_str("connection: close\r\n");
        }
        out.push_str("\r\n");
        if socket.write_all(out.as_bytes()).await.is_err() {
            return;
        }
        for chunk in &reply.chunks {
            if !reply.pause.is_zero() {
                tokio::time::sleep(reply.pause).await;
            }
            let framed = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk.clone(),
                b"\r\n".to_vec(),
            ]
            .concat();
            if socket.write_all(&framed).await.is_err() {
                return;
            }
            let _ = socket.flush().await;
        }
        match reply.ending {
            Ending::Complete => {
                let _ = socket.write_all(b"0\r\n\r\n").await;
                let _ = socket.shutdown().await;
            }
            Ending::Cut => {
                let _ = socket.shutdown().await;
            }
            Ending::Stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Ending::CompleteThenDropNext => {
                if socket.write_all(b"0\r\n\r\n").await.is_err() {
                    return;
                }
                // Wait for the next request's head, then close without a word.
                let mut next = Vec::new();
                while !next.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut tmp).await {
                        Ok(n) if n > 0 => next.extend_from_slice(&tmp[..n]),
                        _ => return,
                    }
                }
            }
        }
    }
}

/// Anthropic's text + tool use stream (protocols.md §1, the SDK's fixture), text made
/// multi-byte.
pub const ANTHROPIC_TOOL_STREAM: &str = concat!(
    "event: message_start\n",
    r#"data: {"type":"message_start","message":{"id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":377,"cache_creation_input_tokens":1200,"cache_read_input_tokens":0,"output_tokens":1,"service_tier":"standard"}}}"#,
    "\n\n",
    "event: content_block_start\n",
    r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    "\n\n",
    "event: ping\n",
    r#"data: {"type": "ping"}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll check the weather in Paris — "}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"un instant 🎉"}}"#,
    "\n\n",
    "event: content_block_stop\n",
    r#"data: {"type":"content_block_stop","index":0}"#,
    "\n\n",
    "event: content_block_start\n",
    r#"data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":"get_weather","input":{}}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"locati"}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"on\": \"P"}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"aris\"}"}}"#,
    "\n\n",
    "event: content_block_stop\n",
    r#"data: {"type":"content_block_stop","index":1}"#,
    "\n\n",
    "event: message_delta\n",
    r#"data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":65}}"#,
    "\n\n",
    "event: message_stop\n",
    r#"data: {"type":"message_stop"}"#,
    "\n\n",
);

/// An Anthropic text reply of `parts`, ending normally.
pub fn anthropic_text(parts: &[&str]) -> String {
    let mut s = String::from(concat!(
        "event: message_start\n",
        r#"data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":900,"output_tokens":1}}}"#,
        "\n\n",
        "event: content_block_start\n",
        r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        "\n\n",
    ));
    for p in parts {
        let data = serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":p}});
        s.push_str(&format!("event: content_block_delta\ndata: {data}\n\n"));
    }
    s.push_str(concat!(
        "event: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":0}"#,
        "\n\n",
        "event: message_delta\n",
        r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}}"#,
        "\n\n",
        "event: message_stop\n",
        r#"data: {"type":"message_stop"}"#,
        "\n\n",
    ));
    s
}

/// The start of an Anthropic reply with `parts`, then an `error` event (overloaded) mid-stream.
pub fn anthropic_error_after(parts: &[&str]) -> String {
    let full = anthropic_text(parts);
    let cut = full.find("event: content_block_stop").unwrap();
    format!(
        "{}event: error\ndata: {{\"type\": \"error\", \"error\": {{\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}}}\n\n",
        &full[..cut]
    )
}

/// OpenAI's tool-call stream (protocols.md §2, with the abbreviated chunks written out), CRLF
/// line endings.
pub fn openai_tool_stream() -> String {
    let head = r#""id":"chatcmpl-BQb0iSFzE1zz1OVhaqg3u2Yqn1Ezf","object":"chat.completion.chunk","created":1745678496,"model":"gpt-4.1-nano-2025-04-14""#;
    [
        format!(r#"{{{head},"choices":[{{"index":0,"delta":{{"role":"assistant","content":null,"refusal":null}},"logprobs":null,"finish_reason":null}}],"usage":null}}"#),
        format!(r#"{{{head},"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"id":"call_PieqNSej6kM9hgYbcQdbZSaC","type":"function","function":{{"name":"get_weather","arguments":""}}}}]}},"logprobs":null,"finish_reason":null}}],"usage":null}}"#),
        format!(r#"{{{head},"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"function":{{"arguments":"{{\"lo"}}}}]}},"logprobs":null,"finish_reason":null}}],"usage":null}}"#),
        format!(r#"{{{head},"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"function":{{"arguments":"cation\": \"Tokyo\"}}"}}}}]}},"logprobs":null,"finish_reason":null}}],"usage":null}}"#),
        format!(r#"{{{head},"choices":[{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":"tool_calls"}}],"usage":null}}"#),
        format!(r#"{{{head},"choices":[],"usage":{{"prompt_tokens":67,"completion_tokens":31,"total_tokens":98,"prompt_tokens_details":{{"cached_tokens":0,"audio_tokens":0}}}}}}"#),
        "[DONE]".to_string(),
    ]
    .iter()
    .map(|d| format!("data: {d}\r\n\r\n"))
    .collect()
}

/// An OpenAI-compatible text stream as llama.cpp / vLLM send it: `choices: null` in the usage
/// chunk, a comment line.
pub fn compatible_text(parts: &[&str]) -> String {
    let mut s = String::from(": keep-alive\n\n");
    for p in parts {
        let data = serde_json::json!({"id":"c1","object":"chat.completion.chunk","model":"smollm2","choices":[{"index":0,"delta":{"content":p},"finish_reason":null}]});
        s.push_str(&format!("data: {data}\n\n"));
    }
    s.push_str(r#"data: {"id":"c1","object":"chat.completion.chunk","model":"smollm2","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#);
    s.push_str("\n\n");
    s.push_str(r#"data: {"id":"c1","object":"chat.completion.chunk","model":"smollm2","choices":null,"usage":{"prompt_tokens":11,"completion_tokens":5,"total_tokens":16}}"#);
    s.push_str("\n\ndata: [DONE]\n\n");
    s
}

/// One Anthropic tool call to stream: its id, name and `partial_json` fragments.
pub struct AnthropicCall<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub fragments: &'a [&'a str],
}

/// An Anthropic reply that streams `text` (one block, when not empty), then each call as its own
/// `tool_use` block (`input: {}` at the start, then its fragments as `input_json_delta`), and
/// stops for tool use; the wire shape of protocols.md §1.
pub fn anthropic_tool_calls(text: &[&str], calls: &[AnthropicCall]) -> String {
    let mut events = vec![(
        "message_start",
        serde_json::json!({"type":"message_start","message":{"id":"msg_tools","type":"message","role":"assistant","model":"claude-test","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":412,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}),
    )];
    let mut index = 0;
    if !text.is_empty() {
        events.push(("content_block_start", serde_json::json!({"type":"content_block_start","index":index,"content_block":{"type":"text","text":""}})));
        for t in text {
            events.push(("content_block_delta", serde_json::json!({"type":"content_block_delta","index":index,"delta":{"type":"text_delta","text":t}})));
        }
        events.push((
            "content_block_stop",
            serde_json::json!({"type":"content_block_stop","index":index}),
        ));
        index += 1;
    }
    for call in calls {
        events.push(("content_block_start", serde_json::json!({"type":"content_block_start","index":index,"content_block":{"type":"tool_use","id":call.id,"name":call.name,"input":{}}})));
        events.push(("ping", serde_json::json!({"type": "ping"})));
        for f in call.fragments {
            events.push(("content_block_delta", serde_json::json!({"type":"content_block_delta","index":index,"delta":{"type":"input_json_delta","partial_json":f}})));
        }
        events.push((
            "content_block_stop",
            serde_json::json!({"type":"content_block_stop","index":index}),
        ));
        index += 1;
    }
    events.push(("message_delta", serde_json::json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":58}})));
    events.push(("message_stop", serde_json::json!({"type":"message_stop"})));
    events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect()
}

/// A Chat Completions stream of `deltas` (each one chunk's `choices[0].delta`), then a chunk
/// with `finish_reason`, the usage chunk and `[DONE]`; CRLF line ends. The chunk envelope is
/// OpenAI's (protocols.md §2).
pub fn openai_chunks(deltas: &[serde_json::Value], finish_reason: &str) -> String {
    let chunk = |choices: serde_json::Value, usage: serde_json::Value| serde_json::json!({"id":"chatcmpl-tools","object":"chat.completion.chunk","created":1745678496,"model":"gpt-test","choices":choices,"usage":usage});
    let mut data: Vec<String> = deltas
        .iter()
        .map(|d| {
            chunk(
                serde_json::json!([{"index":0,"delta":d,"logprobs":null,"finish_reason":null}]),
                serde_json::Value::Null,
            )
            .to_string()
        })
        .collect();
    data.push(
        chunk(
            serde_json::json!([{"index":0,"delta":{},"logprobs":null,"finish_reason":finish_reason}]),
            serde_json::Value::Null,
        )
        .to_string(),
    );
    data.push(
        chunk(
            serde_json::json!([]),
            serde_json::json!({"prompt_tokens":120,"completion_tokens":40,"total_tokens":160}),
        )
        .to_string(),
    );
    data.push("[DONE]".into());
    data.iter().map(|d| format!("data: {d}\r\n\r\n")).collect()
}
