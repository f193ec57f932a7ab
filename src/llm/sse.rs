//! An incremental Server-Sent Events parser for the LLM provider clients (Anthropic Messages
//! streaming, OpenAI Chat Completions streaming and OpenAI-compatible servers).
//!
//! It follows the WHATWG HTML "event stream interpretation" rules
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>):
//!
//! - lines end in CR LF, a lone LF or a lone CR; a CR at the end of one chunk followed by a LF at
//!   the start of the next counts as one line ending;
//! - one leading UTF-8 BOM at the very start of the stream is dropped;
//! - lines starting with `:` are comments; `name: value` sets a field (one space after the colon
//!   is stripped); a line with no colon is a field name with an empty value;
//! - `data` lines are joined with `\n`; a blank line dispatches the event, unless its data is
//!   empty; `id` values containing NUL are ignored; `retry` is taken only when all ASCII digits;
//! - an event not terminated by a blank line when the stream ends is discarded
//!   (see [`SseParser::finish`]).
//!
//! Bytes are buffered until a line is complete, so multi-byte UTF-8 characters split across
//! chunks are decoded whole; invalid UTF-8 in a complete line becomes U+FFFD.
//!
//! Memory is bounded: the bytes held for the event being built (its data, its type and the
//! unfinished line) may not exceed [`SseParser::max_event_bytes`]; past that, [`SseParser::push`]
//! fails with [`SseError::EventTooLarge`].

use std::fmt;

/// The default bound of [`SseParser::max_event_bytes`]: 1 MiB. Provider events are a few hundred
/// bytes (tool arguments and text come as many small deltas).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched Server-Sent Event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field; `None` when absent or empty, which means the default type `message`.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n` (never empty for a dispatched event).
    pub data: String,
    /// The stream's last event ID when the event was dispatched (`id:` fields persist across
    /// events, as in the spec); `None` while it is empty.
    pub id: Option<String>,
    /// A valid `retry:` value (milliseconds) seen since the previous dispatched event, if any.
    /// The latest value is also kept in [`SseParser::reconnection_time`].
    pub retry: Option<u64>,
}

impl SseEvent {
    /// The event type: the `event:` field, or `message` when it was absent or empty.
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// Why the parser refused the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// The event being built (data, type and unfinished line) grew past the configured bound.
    /// The parser stays failed until [`SseParser::finish`] resets it; the stream should be
    /// dropped.
    EventTooLarge {
        /// The configured bound, in bytes.
        limit: usize,
    },
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EventTooLarge { limit } => {
                write!(f, "server-sent event larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// How a stream ended, returned by [`SseParser::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The stream ended at an event boundary: nothing was pending.
    Clean,
    /// The stream ended in the middle of an event (an unfinished line, or fields not followed by
    /// a blank line). Per the spec nothing is dispatched.
    Truncated {
        /// What the pending fields would have dispatched had a blank line followed (the
        /// unfinished last line included), for diagnostics or lenient callers (a server that
        /// closes right after `data: [DONE]\n`). `None` when the pending data was empty or the
        /// parser had failed.
        discarded: Option<SseEvent>,
    },
}

impl StreamEnd {
    /// Whether the stream ended at an event boundary.
    pub fn is_clean(&self) -> bool {
        matches!(self, Self::Clean)
    }
}

/// An incremental Server-Sent Events parser: feed it the body's chunks as they arrive with
/// [`push`](Self::push), and call [`finish`](Self::finish) at the end of the body.
#[derive(Debug, Clone)]
pub struct SseParser {
    max_event_bytes: usize,
    /// Bytes of the stream's start while they may still be a (split) BOM.
    bom_buf: Vec<u8>,
    bom_done: bool,
    /// The unfinished line (no CR or LF in it).
    line: Vec<u8>,
    /// The previous chunk ended with CR: a LF starting the next chunk ends no new line.
    pending_cr: bool,
    data: String,
    event_type: String,
    last_event_id: String,
    retry: Option<u64>,
    reconnection_time: Option<u64>,
    failed: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with the default event bound ([`DEFAULT_MAX_EVENT_BYTES`]).
    pub fn new() -> Self {
        Self {
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            bom_buf: Vec::new(),
            bom_done: false,
            line: Vec::new(),
            pending_cr: false,
            data: String::new(),
            event_type: String::new(),
            last_event_id: String::new(),
            retry: None,
            reconnection_time: None,
            failed: false,
        }
    }

    /// The same parser with another bound on the bytes held for one event.
    pub fn with_max_event_bytes(mut self, max_event_bytes: usize) -> Self {
        self.max_event_bytes = max_event_bytes;
        self
    }

    /// The bound on the bytes held for one event (its data, its type and the unfinished line).
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// The stream's last event ID (the latest valid `id:` field; empty if none), to send as
    /// `Last-Event-ID` when reconnecting.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The latest valid `retry:` value (milliseconds), if the server sent one.
    pub fn reconnection_time(&self) -> Option<u64> {
        self.reconnection_time
    }

    /// Feeds the next chunk of the body and returns the events it completed, in order.
    ///
    /// Chunks may split the stream anywhere (inside a line, a CR LF pair or a UTF-8 character).
    /// Fails with [`SseError::EventTooLarge`] when the event being built outgrows
    /// [`max_event_bytes`](Self::max_event_bytes); the parser then stays failed (the events
    /// completed earlier in the same chunk are dropped too) until [`finish`](Self::finish).
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if self.failed {
            return Err(self.too_large());
        }
        let mut events = Vec::new();
        let mut chunk = chunk;
        if !self.bom_done {
            let take = (BOM.len() - self.bom_buf.len()).min(chunk.len());
            let (head, rest) = chunk.split_at(take);
            self.bom_buf.extend_from_slice(head);
            chunk = rest;
            if self.bom_buf.len() < BOM.len() && BOM.starts_with(&self.bom_buf) {
                // Still possibly a BOM split across chunks (`chunk` is empty here).
                return Ok(events);
            }
            self.bom_done = true;
            let start = std::mem::take(&mut self.bom_buf);
            let start = start.strip_prefix(BOM).unwrap_or(&start);
            self.feed(start, &mut events)?;
        }
        self.feed(chunk, &mut events)?;
        Ok(events)
    }

    /// Ends the stream. Per the spec an event not terminated by a blank line is not dispatched;
    /// the result says whether such a tail was discarded (and what it held).
    ///
    /// The parser is then ready for a new connection: the buffers and any failure are reset,
    /// and BOM detection starts again, but [`last_event_id`](Self::last_event_id) and
    /// [`reconnection_time`](Self::reconnection_time) are kept, as an `EventSource` keeps them.
    pub fn finish(&mut self) -> StreamEnd {
        let failed = self.failed;
        let has_tail = !self.bom_buf.is_empty()
            || !self.line.is_empty()
            || !self.data.is_empty()
            || !self.event_type.is_empty()
            || self.retry.is_some();
        let discarded = if failed || !has_tail {
            None
        } else {
            // Process the unfinished line, then what a blank line would have done, on a copy of
            // the state, so the persistent fields stay as the dispatched events left them.
            let mut probe = self.clone();
            let start = std::mem::take(&mut probe.bom_buf);
            let start = start.strip_prefix(BOM).unwrap_or(&start);
            let mut line = std::mem::take(&mut probe.line);
            line.splice(0..0, start.iter().copied());
            if !line.is_empty() {
                // A non-empty unfinished line is a field line; it dispatches nothing itself.
                let mut sink = Vec::new();
                probe.process_line(&line, &mut sink);
            }
            probe.dispatch()
        };
        let last_event_id = std::mem::take(&mut self.last_event_id);
        let reconnection_time = self.reconnection_time;
        *self = Self::new().with_max_event_bytes(self.max_event_bytes);
        self.last_event_id = last_event_id;
        self.reconnection_time = reconnection_time;
        if failed || has_tail {
            StreamEnd::Truncated { discarded }
        } else {
            StreamEnd::Clean
        }
    }

    fn too_large(&self) -> SseError {
        SseError::EventTooLarge {
            limit: self.max_event_bytes,
        }
    }

    /// Splits `bytes` into lines (completing the buffered unfinished line first), processes
    /// them, and buffers the unfinished rest.
    fn feed(&mut self, bytes: &[u8], events: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut rest = bytes;
        if self.pending_cr && !rest.is_empty() {
            self.pending_cr = false;
            if let Some(after_lf) = rest.strip_prefix(b"\n") {
                rest = after_lf;
            }
        }
        while let Some(i) = rest.iter().position(|&b| b == b'\r' || b == b'\n') {
            let (content, tail) = rest.split_at(i);
            let mut next = &tail[1..];
            if tail.first() == Some(&b'\r') {
                match next.first() {
                    Some(b'\n') => next = &next[1..],
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            if self.line.is_empty() {
                self.process_line(content, events);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(content);
                self.process_line(&line, events);
                line.clear();
                self.line = line;
            }
            self.check_size()?;
            rest = next;
        }
        self.line.extend_from_slice(rest);
        self.check_size()
    }

    fn check_size(&mut self) -> Result<(), SseError> {
        let held = self.line.len() + self.data.len() + self.event_type.len();
        if held > self.max_event_bytes {
            self.failed = true;
            return Err(self.too_large());
        }
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if let Some(event) = self.dispatch() {
                events.push(event);
            }
            return;
        }
        if line.first() == Some(&b':') {
            return;
        }
        // ':' is ASCII, so it never occurs inside a multi-byte UTF-8 sequence.
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&String::from_utf8_lossy(value));
            }
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
            }
            // An id containing NUL is ignored (spec).
            b"id" if !value.contains(&0) => {
                self.last_event_id = String::from_utf8_lossy(value).into_owned();
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All ASCII digits, so the only failure is overflow: ignore the field then.
                if let Ok(ms) = String::from_utf8_lossy(value).parse::<u64>() {
                    self.retry = Some(ms);
                    self.reconnection_time = Some(ms);
                }
            }
            _ => {}
        }
    }

    /// The blank-line step: builds the event (if its data is not empty) and resets the
    /// per-event buffers.
    fn dispatch(&mut self) -> Option<SseEvent> {
        let retry = self.retry.take();
        let event_type = std::mem::take(&mut self.event_type);
        if self.data.is_empty() {
            return None;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        Some(SseEvent {
            event: (!event_type.is_empty()).then_some(event_type),
            data,
            id: (!self.last_event_id.is_empty()).then(|| self.last_event_id.clone()),
            retry,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- Fixtures (wire bytes from docs/reference protocols.md §1 and §2) ----

    /// Anthropic Messages stream (SDK fixture), plus a text delta with multi-byte characters.
    const ANTHROPIC: &str = concat!(
        "event: message_start\n",
        r#"data: {"type":"message_start","message":{"id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":377,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1,"service_tier":"standard"}}}"#,
        "\n\n",
        "event: content_block_start\n",
        r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        "\n\n",
        "event: ping\n",
        r#"data: {"type": "ping"}"#,
        "\n\n",
        "event: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll check the current weather in Paris for you."}}"#,
        "\n\n",
        "event: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" héllo — 日本 🎉"}}"#,
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

    /// Anthropic mid-stream error (exact bytes from the SDK's tests/test_streaming.py).
    const ANTHROPIC_ERROR: &str = concat!(
        "event: message_start\n",
        r#"data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":31,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":7,"service_tier":"standard","inference_geo":"global"}}}"#,
        "\n\n",
        "event: error\n",
        r#"data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#,
        "\n\n",
    );

    /// OpenAI tool-call stream (recorded gpt-4.1-nano sequence), usage chunk, `[DONE]`.
    const OPENAI_TOOLS: &str = concat!(
        r#"data: {"id":"chatcmpl-BQb0iSFzE1zz1OVhaqg3u2Yqn1Ezf","object":"chat.completion.chunk","created":1745678496,"model":"gpt-4.1-nano-2025-04-14","service_tier":"default","system_fingerprint":"fp_eede8f0d45","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-BQb0iSFzE1zz1OVhaqg3u2Yqn1Ezf","object":"chat.completion.chunk","created":1745678496,"model":"gpt-4.1-nano-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_PieqNSej6kM9hgYbcQdbZSaC","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-BQb0iSFzE1zz1OVhaqg3u2Yqn1Ezf","object":"chat.completion.chunk","created":1745678496,"model":"gpt-4.1-nano-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"lo"}}]},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-BQb0iSFzE1zz1OVhaqg3u2Yqn1Ezf","object":"chat.completion.chunk","created":1745678496,"model":"gpt-4.1-nano-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"cation\": \"Tokyo\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-BQb0iSFzE1zz1OVhaqg3u2Yqn1Ezf","object":"chat.completion.chunk","created":1745678496,"model":"gpt-4.1-nano-2025-04-14","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-BQb0iSFzE1zz1OVhaqg3u2Yqn1Ezf","object":"chat.completion.chunk","created":1745678496,"model":"gpt-4.1-nano-2025-04-14","choices":[],"usage":{"prompt_tokens":67,"completion_tokens":31,"total_tokens":98,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#,
        "\n\n",
        "data: [DONE]\n\n",
    );

    /// OpenAI-compatible text stream with an OpenRouter-style comment, multi-byte text, and a
    /// vLLM-style usage chunk with `"choices": null`.
    const OPENAI_TEXT: &str = concat!(
        ": OPENROUTER PROCESSING\n\n",
        r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"smollm2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#,
        "\n\n",
        ":keep-alive\n",
        r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"smollm2","choices":[{"index":0,"delta":{"content":"héllo — 日本 🎉"},"finish_reason":null}],"usage":null}"#,
        "\n\n",
        r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"smollm2","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}"#,
        "\n\n",
        r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"smollm2","choices":null,"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}"#,
        "\n\n",
        "data: [DONE]\n\n",
    );

    /// Spec corner cases: multi-line data, BOM, ids, retry, fields without colon, no space.
    const SPEC_MIX: &str = concat!(
        "\u{FEFF}: stream opened\n",
        "retry: 2500\n",
        "id: 7\n",
        "event: multi\n",
        "data: first\n",
        "data\n",
        "data:  two spaces\n",
        "data:no-space\n",
        "\n",
        "event: empty-data-not-dispatched\n",
        "\n",
        "data: 日本\n",
        "id\n",
        "unknown: field\n",
        "\n",
    );

    fn crlf(s: &str) -> String {
        s.replace('\n', "\r\n")
    }

    fn cr(s: &str) -> String {
        s.replace('\n', "\r")
    }

    /// Alternating CR, CR LF and LF line endings (in that order, so a lone CR is never followed
    /// by a LF, which would merge two line endings into one).
    fn mixed(s: &str) -> String {
        let endings = ["\n", "\r", "\r\n"];
        let mut out = String::new();
        for (i, part) in s.split('\n').enumerate() {
            if i > 0 {
                out.push_str(endings[i % endings.len()]);
            }
            out.push_str(part);
        }
        out
    }

    fn streams() -> Vec<(&'static str, Vec<u8>)> {
        let mut out = Vec::new();
        for (name, s) in [
            ("anthropic", ANTHROPIC),
            ("anthropic_error", ANTHROPIC_ERROR),
            ("openai_tools", OPENAI_TOOLS),
            ("openai_text", OPENAI_TEXT),
            ("spec_mix", SPEC_MIX),
        ] {
            out.push((name, s.as_bytes().to_vec()));
            out.push((name, crlf(s).into_bytes()));
            out.push((name, cr(s).into_bytes()));
            out.push((name, mixed(s).into_bytes()));
        }
        out
    }

    fn parse_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> (Vec<SseEvent>, StreamEnd) {
        let mut p = SseParser::new();
        let mut events = Vec::new();
        for c in chunks {
            events.extend(p.push(c).unwrap());
        }
        let end = p.finish();
        (events, end)
    }

    fn parse_whole(bytes: &[u8]) -> (Vec<SseEvent>, StreamEnd) {
        parse_chunks([bytes])
    }

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_string),
            data: data.to_string(),
            id: None,
            retry: None,
        }
    }

    fn data_lines(s: &str) -> Vec<String> {
        s.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(str::to_string)
            .collect()
    }

    // ---- Whole-stream expectations ----

    #[test]
    fn anthropic_stream_yields_every_event_with_its_type() {
        let (events, end) = parse_whole(ANTHROPIC.as_bytes());
        assert!(end.is_clean());
        let types: Vec<&str> = events.iter().map(SseEvent::event_type).collect();
        assert_eq!(
            types,
            [
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
            ]
        );
        let data: Vec<String> = events.iter().map(|e| e.data.clone()).collect();
        assert_eq!(data, data_lines(ANTHROPIC));
        assert!(events[4].data.contains("héllo — 日本 🎉"));
        assert!(events.iter().all(|e| e.id.is_none() && e.retry.is_none()));
    }

    #[test]
    fn anthropic_error_event_is_dispatched() {
        let (events, _) = parse_whole(ANTHROPIC_ERROR.as_bytes());
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[1],
            ev(
                Some("error"),
                r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#
            )
        );
    }

    #[test]
    fn openai_streams_have_default_type_and_end_with_done() {
        for s in [OPENAI_TOOLS, OPENAI_TEXT] {
            let (events, end) = parse_whole(s.as_bytes());
            assert!(end.is_clean());
            assert!(
                events
                    .iter()
                    .all(|e| e.event.is_none() && e.event_type() == "message")
            );
            let data: Vec<String> = events.iter().map(|e| e.data.clone()).collect();
            assert_eq!(data, data_lines(s));
            assert_eq!(events.last(), Some(&ev(None, "[DONE]")));
        }
        let (events, _) = parse_whole(OPENAI_TEXT.as_bytes());
        assert_eq!(events.len(), 5, "comments dispatch nothing");
        assert!(events[1].data.contains("héllo — 日本 🎉"));
    }

    #[test]
    fn spec_corner_cases() {
        let mut p = SseParser::new();
        let events = p.push(SPEC_MIX.as_bytes()).unwrap();
        assert_eq!(
            events,
            [
                SseEvent {
                    event: Some("multi".into()),
                    data: "first\n\n two spaces\nno-space".into(),
                    id: Some("7".into()),
                    retry: Some(2500),
                },
                // `id` with no value resets the last event ID; `event:` was reset by the
                // previous blank line; the unknown field is ignored.
                ev(None, "日本"),
            ]
        );
        assert_eq!(p.reconnection_time(), Some(2500));
        assert_eq!(p.last_event_id(), "");
        assert!(p.finish().is_clean());
    }

    // ---- The property: chunking never changes the result ----

    #[test]
    fn every_two_chunk_split_and_byte_by_byte_feed_match_one_push() {
        for (name, bytes) in streams() {
            let (expected, expected_end) = parse_whole(&bytes);
            assert!(!expected.is_empty(), "{name}");
            assert!(expected_end.is_clean(), "{name}");
            for i in 0..=bytes.len() {
                let (a, b) = bytes.split_at(i);
                let (got, end) = parse_chunks([a, b]);
                assert_eq!(got, expected, "{name}: split at {i}");
                assert_eq!(end, expected_end, "{name}: split at {i}");
            }
            let (got, end) = parse_chunks(bytes.chunks(1));
            assert_eq!(got, expected, "{name}: 1-byte chunks");
            assert_eq!(end, expected_end, "{name}: 1-byte chunks");
        }
    }

    #[test]
    fn line_ending_variants_give_the_same_events() {
        for s in [
            ANTHROPIC,
            ANTHROPIC_ERROR,
            OPENAI_TOOLS,
            OPENAI_TEXT,
            SPEC_MIX,
        ] {
            let (lf, _) = parse_whole(s.as_bytes());
            assert_eq!(parse_whole(crlf(s).as_bytes()).0, lf);
            assert_eq!(parse_whole(cr(s).as_bytes()).0, lf);
            assert_eq!(parse_whole(mixed(s).as_bytes()).0, lf);
        }
    }

    #[test]
    fn pseudo_random_chunkings_match_one_push() {
        // A small LCG: many three-or-more-chunk splittings, with empty chunks too.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % bound
        };
        for (name, bytes) in streams() {
            let (expected, _) = parse_whole(&bytes);
            for round in 0..50 {
                let mut chunks = Vec::new();
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let n = next(12).min(rest.len());
                    let (a, b) = rest.split_at(n);
                    chunks.push(a);
                    rest = b;
                }
                let (got, _) = parse_chunks(chunks);
                assert_eq!(got, expected, "{name}: round {round}");
            }
        }
    }

    // ---- Line endings across chunks ----

    #[test]
    fn cr_then_lf_in_the_next_chunk_is_one_line_ending() {
        let mut p = SseParser::new();
        assert_eq!(p.push(b"data: a\r").unwrap(), []);
        // If this LF counted as a second line ending, "a" would be dispatched alone here.
        assert_eq!(p.push(b"\ndata: b\r").unwrap(), []);
        assert_eq!(p.push(b"\n\r").unwrap(), [ev(None, "a\nb")]);
        assert_eq!(p.push(b"\n").unwrap(), []);
        assert!(p.finish().is_clean());
    }

    #[test]
    fn empty_chunks_keep_a_pending_cr() {
        let mut p = SseParser::new();
        assert_eq!(p.push(b"data: a\r").unwrap(), []);
        assert_eq!(p.push(b"").unwrap(), []);
        assert_eq!(p.push(b"\n").unwrap(), []);
        assert_eq!(p.push(b"\r\n").unwrap(), [ev(None, "a")]);
    }

    #[test]
    fn lone_crs_end_lines() {
        let (events, _) = parse_whole(b"event: x\rdata: 1\r\rdata: 2\r\r");
        assert_eq!(events, [ev(Some("x"), "1"), ev(None, "2")]);
    }

    // ---- UTF-8 and BOM ----

    #[test]
    fn multibyte_characters_split_across_chunks_are_decoded_whole() {
        let text = "data: 🎉日本é\n\n".as_bytes();
        // 🎉 is 4 bytes starting at 6: split inside it, and feed byte by byte.
        for i in 6..=16 {
            let (a, b) = text.split_at(i);
            assert_eq!(
                parse_chunks([a, b]).0,
                [ev(None, "🎉日本é")],
                "split at {i}"
            );
        }
        assert_eq!(parse_chunks(text.chunks(1)).0, [ev(None, "🎉日本é")]);
    }

    #[test]
    fn invalid_utf8_becomes_the_replacement_character() {
        let (events, _) = parse_whole(b"data: a\xFFb\xE6\x97\n\n");
        assert_eq!(events, [ev(None, "a\u{FFFD}b\u{FFFD}")]);
    }

    #[test]
    fn a_leading_bom_is_stripped_once_even_when_split() {
        let stream = "\u{FEFF}data: x\n\n".as_bytes();
        for i in 0..=stream.len() {
            let (a, b) = stream.split_at(i);
            assert_eq!(parse_chunks([a, b]).0, [ev(None, "x")], "split at {i}");
        }
        // A second BOM is part of the field name, so the field is unknown and ignored.
        let (events, _) = parse_whole("\u{FEFF}\u{FEFF}data: x\n\ndata: y\n\n".as_bytes());
        assert_eq!(events, [ev(None, "y")]);
        // A BOM after the start is not stripped either.
        let (events, _) = parse_whole("data: y\n\n\u{FEFF}data: x\n\n".as_bytes());
        assert_eq!(events, [ev(None, "y")]);
    }

    #[test]
    fn a_short_stream_that_is_a_bom_prefix_is_not_lost() {
        let mut p = SseParser::new();
        assert_eq!(p.push(b"\xEF").unwrap(), []);
        assert_eq!(p.push(b"d").unwrap(), []);
        // "\xEFdata" is not the field name "data": nothing dispatched, but the parser goes on.
        assert_eq!(p.push(b"ata: z\n\n").unwrap(), []);
        assert_eq!(p.push(b"data: ok\n\n").unwrap(), [ev(None, "ok")]);
    }

    // ---- Fields ----

    #[test]
    fn field_parsing_rules() {
        let (events, _) =
            parse_whole(b"data:x\n\ndata: \n\ndata\n\ndata:  y\n\ndata: a:b\n\nevent\ndata: z\n\n");
        assert_eq!(
            events,
            [
                ev(None, "x"),
                ev(None, ""),
                ev(None, ""),
                ev(None, " y"),
                ev(None, "a:b"),
                ev(None, "z"),
            ]
        );
    }

    #[test]
    fn empty_data_buffer_is_not_dispatched_and_resets_the_type() {
        let (events, _) = parse_whole(b"event: a\n\ndata: 1\n\nevent: b\nid: 3\n\n: c\n\n");
        assert_eq!(events, [ev(None, "1")]);
    }

    #[test]
    fn ids_persist_and_nul_ids_are_ignored() {
        let mut p = SseParser::new();
        let events = p
            .push(b"id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\nid:\ndata: d\n\n")
            .unwrap();
        let ids: Vec<Option<&str>> = events.iter().map(|e| e.id.as_deref()).collect();
        assert_eq!(ids, [Some("1"), Some("1"), Some("1"), None]);
        assert_eq!(p.last_event_id(), "");
    }

    #[test]
    fn retry_needs_ascii_digits() {
        let mut p = SseParser::new();
        let events = p
            .push(b"retry: 10\ndata: a\n\ndata: b\n\nretry: 5s\ndata: c\n\nretry: -1\nretry\nretry: 99999999999999999999999\ndata: d\n\nretry: 20\n\n")
            .unwrap();
        let retries: Vec<Option<u64>> = events.iter().map(|e| e.retry).collect();
        assert_eq!(retries, [Some(10), None, None, None]);
        // A retry in an event with no data still updates the reconnection time.
        assert_eq!(p.reconnection_time(), Some(20));
    }

    // ---- End of stream ----

    #[test]
    fn an_unterminated_event_is_discarded_at_the_end() {
        let mut p = SseParser::new();
        assert_eq!(
            p.push(b"data: 1\n\ndata: [DONE]\n").unwrap(),
            [ev(None, "1")]
        );
        assert_eq!(
            p.finish(),
            StreamEnd::Truncated {
                discarded: Some(ev(None, "[DONE]"))
            }
        );

        let mut p = SseParser::new();
        assert_eq!(p.push(b"event: x\ndata: 1").unwrap(), []);
        assert_eq!(
            p.finish(),
            StreamEnd::Truncated {
                discarded: Some(ev(Some("x"), "1"))
            }
        );

        let mut p = SseParser::new();
        p.push(b"event: x\n").unwrap();
        assert_eq!(p.finish(), StreamEnd::Truncated { discarded: None });

        let mut p = SseParser::new();
        p.push(b"data: 1\n\n: trailing comment").unwrap();
        assert_eq!(p.finish(), StreamEnd::Truncated { discarded: None });
    }

    #[test]
    fn a_pending_cr_at_the_end_is_clean() {
        let mut p = SseParser::new();
        assert_eq!(p.push(b"data: 1\r\r").unwrap(), [ev(None, "1")]);
        assert_eq!(p.finish(), StreamEnd::Clean);
    }

    #[test]
    fn finish_resets_for_a_new_connection_but_keeps_id_and_retry() {
        let mut p = SseParser::new().with_max_event_bytes(64);
        p.push(b"id: 5\nretry: 100\ndata: a\n\nevent: half\ndata: b")
            .unwrap();
        assert!(!p.finish().is_clean());
        assert_eq!(p.last_event_id(), "5");
        assert_eq!(p.reconnection_time(), Some(100));
        assert_eq!(p.max_event_bytes(), 64);
        let events = p.push("\u{FEFF}data: c\n\n".as_bytes()).unwrap();
        assert_eq!(
            events,
            [SseEvent {
                event: None,
                data: "c".into(),
                id: Some("5".into()),
                retry: None,
            }]
        );
    }

    // ---- Memory bound ----

    #[test]
    fn an_endless_line_fails_instead_of_growing() {
        let mut p = SseParser::new().with_max_event_bytes(100);
        let mut result = Ok(Vec::new());
        for _ in 0..20 {
            result = p.push(b"data: xxxxxxxxxxxxxx");
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(SseError::EventTooLarge { limit: 100 }));
        assert!(p.line.len() <= 100 + 20);
        // The parser stays failed until finish.
        assert_eq!(p.push(b"\n\n"), Err(SseError::EventTooLarge { limit: 100 }));
        assert_eq!(p.finish(), StreamEnd::Truncated { discarded: None });
        assert_eq!(p.push(b"data: ok\n\n").unwrap(), [ev(None, "ok")]);
    }

    #[test]
    fn many_data_lines_without_a_blank_line_fail() {
        let mut p = SseParser::new().with_max_event_bytes(100);
        let err = (0..100)
            .map(|_| p.push(b"data: 0123456789\n"))
            .find(Result::is_err);
        assert_eq!(err, Some(Err(SseError::EventTooLarge { limit: 100 })));
        assert!(p.data.len() <= 100 + 11);
        assert_eq!(
            SseError::EventTooLarge { limit: 100 }.to_string(),
            "server-sent event larger than 100 bytes"
        );
    }

    #[test]
    fn the_bound_is_per_event_and_comments_do_not_count() {
        let mut p = SseParser::new().with_max_event_bytes(40);
        for _ in 0..1000 {
            assert_eq!(p.push(b": keep-alive comment\n").unwrap(), []);
            assert_eq!(
                p.push(b"data: 0123456789\n\n").unwrap(),
                [ev(None, "0123456789")]
            );
        }
        // A single big chunk holding many small events is fine too.
        let big = "data: 0123456789\n\n".repeat(1000);
        assert_eq!(p.push(big.as_bytes()).unwrap().len(), 1000);
        // Realistic streams fit a bound just above their largest event.
        for (name, bytes) in streams() {
            let largest = bytes
                .split(|&b| b == b'\n' || b == b'\r')
                .map(<[u8]>::len)
                .max()
                .unwrap_or(0);
            let mut p = SseParser::new().with_max_event_bytes(largest + 64);
            assert!(
                bytes.chunks(7).all(|c| p.push(c).is_ok()),
                "{name} within bound {largest}"
            );
        }
    }
}
