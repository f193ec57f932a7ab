//! A fake model provider that speaks the real wire formats, for load runs: it answers like a
//! small shopping model and reports token usage (with prompt caching) the way the real APIs do,
//! so a load run against the engine meters a realistic cost without calling a real provider.
//!
//! One port serves both APIs over plain HTTP/1.1 (keep-alive, chunked event streams):
//! - `POST /v1/messages`: the Anthropic Messages API, `stream: true` (protocols.md §1);
//! - `POST /v1/chat/completions`: OpenAI Chat Completions, `stream: true`, with the final usage
//!   chunk (`choices: []`) when `stream_options.include_usage` is set (protocols.md §2);
//! - anything else: 404 with the provider's JSON error body.
//!
//! What it answers depends only on the request (the last message decides):
//! 1. tools offered and the visitor wrote plain text: "Let me check." and a `search_products`
//!    call with the visitor's text as the query (or `view_cart` with `{}` when the text looks
//!    like a cart action and an earlier tool result listed products);
//! 2. the last message carries tool results: a friendly reply of about 60 to 90 words that
//!    names up to two products with their exact price strings, or a cart's exact total, and
//!    no other numbers;
//! 3. otherwise (no tools): `product_search` when `max_tokens` is 16 or less (an intent
//!    classification), the text after a `Draft:` line unchanged, or a helpful reply of 40 to
//!    60 words with no digits.
//!
//! Token counts: the fake has no tokenizer. Every count is `ceil(chars / 3.5)`, where chars are
//! Unicode scalar values. The prompt text is the tools (each as JSON), then the system prompt,
//! then the messages (as JSON), in that order, which is the order both providers cache in.
//! Answers stream paced like a model: the time to first token, then one text piece of about
//! four characters (one token) per `1 / tokens_per_sec` seconds.

use serde_json::{Value, json};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How fast the fake answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FakeLlmOptions {
    /// Text pieces (about one token each) per second after the first; 0 sends everything at
    /// once.
    pub tokens_per_sec: u32,
    /// The pause before an answer's first content.
    pub ttft: Duration,
}

impl Default for FakeLlmOptions {
    /// 200 tokens a second after a 50 ms time to first token.
    fn default() -> Self {
        Self {
            tokens_per_sec: 200,
            ttft: Duration::from_millis(50),
        }
    }
}

/// Serves the fake on `listener` until the process ends: every connection is handled on its
/// own task, and nothing is printed. It never returns.
pub async fn serve(listener: TcpListener, opts: FakeLlmOptions) {
    let state = Arc::new(State::new(opts));
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                tokio::spawn(connection(socket, Arc::clone(&state)));
            }
            // Out of file descriptors and the like: wait for some to free up.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared state: options, ids and the two prompt caches.

/// Anthropic cache entries live this long, refreshed on every hit.
const ANTHROPIC_CACHE_TTL: Duration = Duration::from_secs(5 * 60);
/// OpenAI remembers a prompt prefix this long.
const OPENAI_CACHE_TTL: Duration = Duration::from_secs(10 * 60);
/// The most entries either cache holds; the oldest go first.
const CACHE_CAPACITY: usize = 200_000;
/// A connection with no request for this long is closed (longer than the engine's pool idle
/// timeout, so the client closes first).
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The largest request body accepted (the Messages API's limit).
const MAX_BODY: usize = 32 * 1024 * 1024;
/// The most `cache_control` breakpoints the Messages API accepts in one request.
const MAX_BREAKPOINTS: usize = 4;

/// Numbers tool calls (`toolu_fake_<n>`, `call_fake_<n>`) across the whole process.
static TOOL_CALLS: AtomicU64 = AtomicU64::new(1);
/// Numbers messages, completions and request ids across the whole process.
static RESPONSES: AtomicU64 = AtomicU64::new(1);

struct State {
    opts: FakeLlmOptions,
    /// Anthropic prefixes written to the cache, by model and prefix text.
    anthropic: Mutex<PrefixCache>,
    /// OpenAI prompt prefixes seen, by model and prefix text, at 128-token steps.
    openai: Mutex<PrefixCache>,
}

impl State {
    fn new(opts: FakeLlmOptions) -> Self {
        Self {
            opts,
            anthropic: Mutex::new(PrefixCache::new(ANTHROPIC_CACHE_TTL, CACHE_CAPACITY)),
            openai: Mutex::new(PrefixCache::new(OPENAI_CACHE_TTL, CACHE_CAPACITY)),
        }
    }

    /// The pause for `tokens` tokens of output at the configured rate.
    fn pace(&self, tokens: f64) -> Duration {
        if self.opts.tokens_per_sec == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(tokens / f64::from(self.opts.tokens_per_sec))
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Hashes of prompt prefixes with an expiry, bounded: beyond `capacity` entries the least
/// recently written go first.
struct PrefixCache {
    ttl: Duration,
    capacity: usize,
    /// Expiry and write stamp by key.
    entries: HashMap<u64, (Instant, u64)>,
    /// Keys in write order with their stamp; an entry whose stamp changed since is skipped.
    order: VecDeque<(u64, u64)>,
    stamp: u64,
}

impl PrefixCache {
    fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
            stamp: 0,
        }
    }

    /// Whether `key` is in the cache and not expired at `now`.
    fn live(&mut self, key: u64, now: Instant) -> bool {
        match self.entries.get(&key) {
            Some((expires, _)) if *expires > now => true,
            Some(_) => {
                self.entries.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Writes (or refreshes) `key`, expiring `ttl` after `now`.
    fn put(&mut self, key: u64, now: Instant) {
        self.stamp += 1;
        self.entries.insert(key, (now + self.ttl, self.stamp));
        self.order.push_back((key, self.stamp));
        while self.entries.len() > self.capacity {
            let Some((k, stamp)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&k).is_some_and(|e| e.1 == stamp) {
                self.entries.remove(&k);
            }
        }
        if self.order.len() > 2 * self.capacity {
            let entries = &self.entries;
            self.order
                .retain(|(k, stamp)| entries.get(k).is_some_and(|e| e.1 == *stamp));
        }
    }
}

/// A hasher for prefixes of one model's prompts.
fn prefix_hasher(model: &str) -> DefaultHasher {
    let mut h = DefaultHasher::new();
    h.write(model.as_bytes());
    h.write(&[0xff]);
    h
}

/// Tokens of `chars` characters: `ceil(chars / 3.5)` (the fake has no tokenizer).
fn tokens_of_chars(chars: usize) -> u64 {
    (chars as u64 * 2).div_ceil(7)
}

/// Tokens of `text`: `ceil(chars / 3.5)`, chars being Unicode scalar values.
fn tokens(text: &str) -> u64 {
    tokens_of_chars(text.chars().count())
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1.

/// A request read off a connection.
struct Request {
    method: String,
    /// The path without its query.
    path: String,
    /// Header names lower-cased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The client asked to close the connection after the response.
    close: bool,
}

/// Which API's shapes an answer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Anthropic,
    OpenAi,
}

/// The API a request is meant for: by path, else by the Anthropic headers, else OpenAI.
fn api_for(path: &str, headers: &[(String, String)]) -> Api {
    match path {
        "/v1/messages" => Api::Anthropic,
        "/v1/chat/completions" => Api::OpenAi,
        _ if headers
            .iter()
            .any(|(k, _)| k == "anthropic-version" || k == "x-api-key") =>
        {
            Api::Anthropic
        }
        _ => Api::OpenAi,
    }
}

/// A request refused before it was read whole; the connection closes after the answer.
struct Refused {
    status: u16,
    api: Api,
    message: &'static str,
}

async fn connection(mut socket: TcpStream, state: Arc<State>) {
    // Small event chunks must not wait for Nagle's algorithm.
    let _ = socket.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let request =
            match tokio::time::timeout(IDLE_TIMEOUT, read_request(&mut socket, &mut buf)).await {
                Ok(Ok(Some(request))) => request,
                Ok(Err(refused)) => {
                    let body = error_body(refused.api, refused.status, refused.message);
                    let _ = write_json(&mut socket, refused.status, &body, true).await;
                    return;
                }
                // Closed by the client, a read error, or idle too long.
                Ok(Ok(None)) | Err(_) => return,
            };
        if !respond(&mut socket, &state, &request).await || request.close {
            let _ = socket.shutdown().await;
            return;
        }
    }
}

/// Reads one request: the head, then the body by content-length. Bytes past it stay in `buf`
/// for the next request. `None` when the connection closed first.
async fn read_request(
    socket: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<Option<Request>, Refused> {
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(Refused {
                status: 431,
                api: Api::OpenAi,
                message: "the request head is too large",
            });
        }
        match socket.read(&mut tmp).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default();
    let version = parts.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let api = api_for(&path, &headers);
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    if find("transfer-encoding").is_some() {
        return Err(Refused {
            status: 400,
            api,
            message: "send the body with a content-length (chunked request bodies are not supported)",
        });
    }
    let length = match find("content-length") {
        None => 0,
        Some(v) => v.trim().parse::<usize>().map_err(|_| Refused {
            status: 400,
            api,
            message: "the content-length header is not a number",
        })?,
    };
    if length > MAX_BODY {
        return Err(Refused {
            status: 413,
            api,
            message: "the request body is too large",
        });
    }
    // curl asks before sending a large body.
    if find("expect").is_some_and(|v| v == "100-continue")
        && buf.len() < head_end + length
        && socket
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await
            .is_err()
    {
        return Ok(None);
    }
    let connection = find("connection").unwrap_or_default();
    let close = connection.contains("close")
        || (version == "HTTP/1.0" && !connection.contains("keep-alive"));
    while buf.len() < head_end + length {
        match socket.read(&mut tmp).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
        close,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

/// The provider's JSON error body.
fn error_body(api: Api, status: u16, message: &str) -> Value {
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

/// Writes a whole JSON answer; false when the client is gone.
async fn write_json(socket: &mut TcpStream, status: u16, body: &Value, close: bool) -> bool {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: {}\r\n\r\n",
        reason(status),
        body.len(),
        if close { "close" } else { "keep-alive" },
    );
    socket
        .write_all([head.as_bytes(), body.as_bytes()].concat().as_slice())
        .await
        .is_ok()
}

/// Answers one request; false when the connection cannot go on.
async fn respond(socket: &mut TcpStream, state: &State, request: &Request) -> bool {
    let api = api_for(&request.path, &request.headers);
    let route = match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/v1/messages") => Some(Api::Anthropic),
        ("POST", "/v1/chat/completions") => Some(Api::OpenAi),
        _ => None,
    };
    let Some(route) = route else {
        let message = match api {
            Api::Anthropic => "Not found".to_string(),
            Api::OpenAi => format!("Invalid URL ({} {})", request.method, request.path),
        };
        return write_json(socket, 404, &error_body(api, 404, &message), request.close).await;
    };
    let plan = match serde_json::from_slice::<Value>(&request.body) {
        Ok(body) if body.is_object() => match route {
            Api::Anthropic => anthropic_stream(state, &body),
            Api::OpenAi => openai_stream(state, &body),
        },
        _ => Err("the request body is not a JSON object".to_string()),
    };
    let stream = match plan {
        Ok(stream) => stream,
        Err(message) => {
            return write_json(
                socket,
                400,
                &error_body(route, 400, &message),
                request.close,
            )
            .await;
        }
    };
    send_stream(socket, stream, request.close).await
}

/// Writes the event stream: the head at once, then each step as one chunk at its time.
async fn send_stream(socket: &mut TcpStream, stream: EventStream, close: bool) -> bool {
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
    for (wait, data) in stream.steps {
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
struct EventStream {
    /// `request-id` (Anthropic) or `x-request-id` (OpenAI) and its value.
    id_header: (&'static str, String),
    /// Pause since the previous step, and the step's bytes.
    steps: Vec<(Duration, String)>,
}

impl EventStream {
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
// What the model answers.

/// A request seen the same way for both APIs.
struct View {
    /// Names of the tools offered.
    tools: Vec<String>,
    max_tokens: Option<u64>,
    last: Last,
    /// A tool result before the last message listed products.
    earlier_products: bool,
}

/// The request's last message.
enum Last {
    /// The visitor's plain text.
    Visitor(String),
    /// Tool results, in order.
    ToolResults(Vec<String>),
    /// Anything else (an assistant message, an empty one).
    Other,
}

/// A tool call to make.
struct Call {
    name: &'static str,
    /// The input as JSON text.
    input: String,
}

/// Why the answer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    EndTurn,
    ToolUse,
    MaxTokens,
}

/// What the model says: text, then at most one tool call.
struct Answer {
    text: String,
    call: Option<Call>,
    stop: Stop,
}

impl Answer {
    /// Output tokens: the text's, plus the call's name and input and 10.
    fn output_tokens(&self) -> u64 {
        tokens(&self.text)
            + self.call.as_ref().map_or(0, |c| {
                tokens_of_chars(c.name.chars().count() + c.input.chars().count()) + 10
            })
    }
}

/// Words that make a visitor's text a cart action.
const CART_WORDS: &[&str] = &[
    "add",
    "cart",
    "buy",
    "pay",
    "checkout",
    "carrito",
    "panier",
    "warenkorb",
    "carrinho",
];

/// The longest search query taken from the visitor's text, in characters.
const MAX_QUERY: usize = 80;

/// Decides the answer to `view`.
fn decide(view: &View) -> Answer {
    match &view.last {
        Last::ToolResults(results) => text_answer(results_reply(results), view.max_tokens),
        Last::Visitor(text) if !view.tools.is_empty() => {
            let offered = |name: &str| view.tools.iter().any(|t| t == name);
            let lower = text.to_lowercase();
            let cart = view.earlier_products
                && CART_WORDS.iter().any(|w| lower.contains(w))
                && offered("view_cart");
            let call = if cart {
                Call {
                    name: "view_cart",
                    input: "{}".to_string(),
                }
            } else {
                let query: String = text.trim().chars().take(MAX_QUERY).collect();
                Call {
                    name: "search_products",
                    input: json!({ "query": query }).to_string(),
                }
            };
            if !offered(call.name) {
                return text_answer(GENERIC_REPLY.to_string(), view.max_tokens);
            }
            Answer {
                text: "Let me check.".to_string(),
                call: Some(call),
                stop: Stop::ToolUse,
            }
        }
        Last::Visitor(text) => text_answer(plain_reply(view, text), view.max_tokens),
        Last::Other => text_answer(plain_reply(view, ""), view.max_tokens),
    }
}

/// A text answer, cut at `max_tokens` like a real model (stop reason `max_tokens`).
fn text_answer(text: String, max_tokens: Option<u64>) -> Answer {
    if let Some(max) = max_tokens
        && tokens(&text) > max
    {
        let keep = usize::try_from(max.saturating_mul(7) / 2).unwrap_or(usize::MAX);
        return Answer {
            text: text.chars().take(keep).collect(),
            call: None,
            stop: Stop::MaxTokens,
        };
    }
    Answer {
        text,
        call: None,
        stop: Stop::EndTurn,
    }
}

/// Rule 3: the classification label, the draft, or the generic reply.
fn plain_reply(view: &View, text: &str) -> String {
    if view.tools.is_empty() && view.max_tokens.is_some_and(|m| m <= 16) {
        return "product_search".to_string();
    }
    if let Some(draft) = draft(text) {
        return draft;
    }
    GENERIC_REPLY.to_string()
}

/// The text after the last line that starts with `Draft:`, to the end, when not empty. The
/// engine sends `Visitor: <text>\nDraft: <draft>`: taking the last such line keeps a visitor
/// who types `Draft:` from choosing the answer.
fn draft(text: &str) -> Option<String> {
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("Draft:") {
            start = Some(offset + (line.len() - trimmed.len()) + "Draft:".len());
        }
        offset += line.len();
    }
    let rest = text.get(start?..)?.trim();
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The reply to a message with no tool to call: 40 to 60 words, no digits.
const GENERIC_REPLY: &str = "Thanks for reaching out! I am the shop assistant here and happy to \
     help you find the right product, answer questions about sizes and materials, or guide you \
     through checkout. Tell me a little about what you are looking for and I will point you to \
     some great options.";

/// Sentences that lengthen a reply to its minimum; no digits.
const FILLERS: &[&str] = &[
    "Let me know if you have any questions along the way.",
    "I am always happy to help you compare options.",
    "Just tell me what matters most to you.",
    "I can also check other colours or sizes if you like.",
];

/// Appends filler sentences until `text` has at least `min_words` words.
fn pad(mut text: String, min_words: usize) -> String {
    for filler in FILLERS {
        if text.split_whitespace().count() >= min_words {
            break;
        }
        text.push(' ');
        text.push_str(filler);
    }
    text
}

/// Rule 2: the reply to tool results. Names up to two products with their exact price strings,
/// else a cart's exact total, else a generic sentence; no other numbers.
fn results_reply(results: &[String]) -> String {
    let mut products: Vec<(String, Option<String>)> = Vec::new();
    let mut total = None;
    for result in results {
        let Ok(v) = serde_json::from_str::<Value>(result) else {
            continue;
        };
        if let Some(list) = v.get("products").and_then(Value::as_array) {
            for p in list {
                let Some(title) = p.get("title").and_then(Value::as_str) else {
                    continue;
                };
                if title.trim().is_empty() {
                    continue;
                }
                let price = match p.get("price") {
                    Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                products.push((title.to_string(), price));
            }
        }
        if v.get("lines").is_some_and(Value::is_array)
            && let Some(t) = v.get("total").and_then(Value::as_str)
            && !t.trim().is_empty()
        {
            total = Some(t.to_string());
        }
    }
    let offer = |(title, price): &(String, Option<String>)| match price {
        Some(price) => format!("the {title} at {price}"),
        None => format!("the {title}"),
    };
    let text = match (products.as_slice(), total) {
        ([first, second, ..], _) => format!(
            "Good news, I found some options that should suit you nicely. My first pick is {}, \
             which shoppers often choose for its quality and comfort. You might also like {}, \
             a great alternative with a slightly different style. Both are ready to order from \
             our shop today. Would you like more details on either one, or shall I add one to \
             your cart for you?",
            offer(first),
            offer(second),
        ),
        ([only], _) => format!(
            "Good news, I found something that should suit you nicely. My pick is {}, which \
             shoppers often choose for its quality and comfort. It is ready to order from our \
             shop today, and I am happy to share more about its materials, sizing or care. \
             Would you like more details, or shall I add it to your cart for you?",
            offer(only),
        ),
        ([], Some(total)) => format!(
            "Here is your cart as it stands right now. The total comes to {total}, with \
             shipping and any taxes shown at checkout. Everything looks ready whenever you are. \
             Would you like to go ahead to checkout, keep browsing for something else, or make \
             a change to your cart? I am happy to help with sizes, colours or anything else \
             before you decide."
        ),
        ([], None) => "Thanks for your patience while I looked into that for you. I could not \
             find exactly what you described, but I am happy to keep searching. Could you tell \
             me a little more about what you have in mind, such as the style, the colour or \
             the occasion? With a few more details I can point you to the best options in our \
             shop and help you decide."
            .to_string(),
    };
    pad(text, 60)
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages.

/// Text of an Anthropic content: a string, or its text blocks joined by newlines.
fn anthropic_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Contents of the `tool_result` blocks of a message, as text.
fn anthropic_tool_results(message: &Value) -> Vec<String> {
    message
        .get("content")
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
                .map(|b| anthropic_text(b.get("content").unwrap_or(&Value::Null)))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a tool result's text lists at least one product.
fn lists_products(result: &str) -> bool {
    serde_json::from_str::<Value>(result)
        .ok()
        .and_then(|v| v.get("products").and_then(Value::as_array).map(Vec::len))
        .is_some_and(|n| n > 0)
}

fn anthropic_view(body: &Value, messages: &[Value]) -> View {
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let last = match messages.last() {
        Some(m) if m.get("role").and_then(Value::as_str) == Some("user") => {
            let results = anthropic_tool_results(m);
            if !results.is_empty() {
                Last::ToolResults(results)
            } else {
                let text = anthropic_text(m.get("content").unwrap_or(&Value::Null));
                if text.trim().is_empty() {
                    Last::Other
                } else {
                    Last::Visitor(text)
                }
            }
        }
        _ => Last::Other,
    };
    let earlier = &messages[..messages.len().saturating_sub(1)];
    View {
        tools,
        max_tokens: body.get("max_tokens").and_then(Value::as_u64),
        last,
        earlier_products: earlier
            .iter()
            .flat_map(anthropic_tool_results)
            .any(|r| lists_products(&r)),
    }
}

/// A block serialized without its `cache_control`, and whether it had one (a breakpoint).
fn without_cache_control(block: &Value) -> (String, bool) {
    match block.get("cache_control") {
        Some(_) => {
            let mut b = block.clone();
            if let Some(map) = b.as_object_mut() {
                map.remove("cache_control");
            }
            (b.to_string(), true)
        }
        None => (block.to_string(), false),
    }
}

/// The prompt text in cache order (tools, system, messages) as pieces, each with whether a
/// breakpoint follows it.
fn anthropic_prompt(body: &Value) -> Vec<(String, bool)> {
    let mut pieces = Vec::new();
    for tool in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        pieces.push(without_cache_control(tool));
    }
    match body.get("system") {
        Some(Value::String(s)) => pieces.push((s.clone(), false)),
        Some(Value::Array(blocks)) => {
            for block in blocks {
                let breakpoint = block.get("cache_control").is_some();
                match block.get("text").and_then(Value::as_str) {
                    Some(text) => pieces.push((text.to_string(), breakpoint)),
                    None => pieces.push(without_cache_control(block)),
                }
            }
        }
        _ => {}
    }
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match message.get("content") {
            Some(Value::Array(blocks)) => {
                let role = message.get("role").cloned().unwrap_or(Value::Null);
                pieces.push((json!({ "role": role }).to_string(), false));
                for block in blocks {
                    pieces.push(without_cache_control(block));
                }
            }
            _ => pieces.push(without_cache_control(message)),
        }
    }
    pieces
}

/// Anthropic usage of a prompt: `(input, cache write, cache read)` tokens.
fn anthropic_usage(state: &State, model: &str, prompt: &[(String, bool)]) -> (u64, u64, u64) {
    let minimum = if model.contains("haiku") { 2048 } else { 1024 };
    let mut hasher = prefix_hasher(model);
    let mut chars = 0;
    // Cacheable breakpoint prefixes, shortest first: their tokens and key.
    let mut points: Vec<(u64, u64)> = Vec::new();
    for (text, breakpoint) in prompt {
        hasher.write(text.as_bytes());
        chars += text.chars().count();
        if *breakpoint && tokens_of_chars(chars) >= minimum {
            points.push((tokens_of_chars(chars), hasher.finish()));
        }
    }
    let total = tokens_of_chars(chars);
    let Some(&(longest, _)) = points.last() else {
        return (total, 0, 0);
    };
    let now = Instant::now();
    let mut cache = lock(&state.anthropic);
    let hit = points.iter().rposition(|&(_, key)| cache.live(key, now));
    let read = hit.map_or(0, |i| points[i].0);
    let first_write = hit.map_or(0, |i| {
        cache.put(points[i].1, now);
        i + 1
    });
    for &(_, key) in &points[first_write..] {
        cache.put(key, now);
    }
    let write = longest - read;
    (total - read - write, write, read)
}

fn anthropic_event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// Checks a Messages request and plans its event stream.
fn anthropic_stream(state: &State, body: &Value) -> Result<EventStream, String> {
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

/// Text of an OpenAI content: a string, or its text parts joined by newlines.
fn openai_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn role(message: &Value) -> &str {
    message.get("role").and_then(Value::as_str).unwrap_or("")
}

fn openai_view(body: &Value, messages: &[Value]) -> View {
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.pointer("/function/name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let trailing_tools = messages
        .iter()
        .rev()
        .take_while(|m| role(m) == "tool")
        .count();
    let last = if trailing_tools > 0 {
        Last::ToolResults(
            messages[messages.len() - trailing_tools..]
                .iter()
                .map(|m| openai_text(m.get("content")))
                .collect(),
        )
    } else {
        match messages.last() {
            Some(m) if role(m) == "user" => {
                let text = openai_text(m.get("content"));
                if text.trim().is_empty() {
                    Last::Other
                } else {
                    Last::Visitor(text)
                }
            }
            _ => Last::Other,
        }
    };
    let earlier = &messages[..messages.len().saturating_sub(trailing_tools.max(1))];
    View {
        tools,
        max_tokens: body
            .get("max_completion_tokens")
            .and_then(Value::as_u64)
            .or_else(|| body.get("max_tokens").and_then(Value::as_u64)),
        last,
        earlier_products: earlier
            .iter()
            .filter(|m| role(m) == "tool")
            .any(|m| lists_products(&openai_text(m.get("content")))),
    }
}

/// The prompt text: the tools, then the messages (the system prompt first among them), each
/// as JSON.
fn openai_prompt(body: &Value, messages: &[Value]) -> String {
    let mut text = String::new();
    for tool in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        text.push_str(&tool.to_string());
    }
    for message in messages {
        text.push_str(&message.to_string());
    }
    text
}

/// The tokens OpenAI would report cached for `prompt`: the longest prefix seen before (same
/// model, within 10 minutes) in whole 128-token steps from 1024; 0 below 1024 tokens. Every
/// step boundary of `prompt` is remembered.
fn openai_cached(state: &State, model: &str, prompt: &str) -> u64 {
    let total_chars = prompt.chars().count();
    if tokens_of_chars(total_chars) < 1024 {
        return 0;
    }
    let mut keys: Vec<(u64, u64)> = Vec::new();
    let mut hasher = prefix_hasher(model);
    let mut step = 1024u64;
    let mut boundary = usize::try_from(step * 7 / 2).unwrap_or(usize::MAX);
    let mut from = 0;
    let positions = prompt
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(prompt.len()));
    for (count, byte) in positions.enumerate() {
        if count == boundary {
            hasher.write(prompt.as_bytes().get(from..byte).unwrap_or_default());
            from = byte;
            keys.push((step, hasher.finish()));
            step += 128;
            boundary = usize::try_from(step * 7 / 2).unwrap_or(usize::MAX);
        }
    }
    let now = Instant::now();
    let mut cache = lock(&state.openai);
    let cached = keys
        .iter()
        .rev()
        .find(|&&(_, key)| cache.live(key, now))
        .map_or(0, |&(tokens, _)| tokens);
    for &(_, key) in &keys {
        cache.put(key, now);
    }
    cached
}

/// Checks a Chat Completions request and plans its chunk stream.
fn openai_stream(state: &State, body: &Value) -> Result<EventStream, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts the fake on a free loopback port; its base URL.
    async fn start(opts: FakeLlmOptions) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve(listener, opts));
        url
    }

    /// No pauses.
    fn quick() -> FakeLlmOptions {
        FakeLlmOptions {
            tokens_per_sec: 0,
            ttft: Duration::ZERO,
        }
    }

    fn client() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    async fn post(client: &reqwest::Client, url: &str, body: &Value) -> (u16, String) {
        let resp = client.post(url).json(body).send().await.unwrap();
        let status = resp.status().as_u16();
        if status == 200 {
            assert_eq!(
                resp.headers()["content-type"],
                "text/event-stream; charset=utf-8"
            );
        }
        (status, resp.text().await.unwrap())
    }

    /// The `data:` payloads of an event stream as JSON, with their event names (empty for
    /// OpenAI), `[DONE]` left out.
    fn events(body: &str) -> Vec<(String, Value)> {
        body.split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .filter_map(|e| {
                let mut name = String::new();
                let mut data = None;
                for line in e.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = n.to_string();
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = Some(d.to_string());
                    }
                }
                let data = data.unwrap();
                (data != "[DONE]").then(|| (name, serde_json::from_str(&data).unwrap()))
            })
            .collect()
    }

    /// An Anthropic stream's text, tool calls (name, reassembled input), stop reason, start
    /// usage and final output tokens.
    struct Decoded {
        text: String,
        calls: Vec<(String, String, Value)>,
        stop: String,
        usage: Value,
        output_tokens: u64,
    }

    fn decode_anthropic(body: &str) -> Decoded {
        let evs = events(body);
        assert_eq!(evs.first().unwrap().0, "message_start");
        assert_eq!(evs.last().unwrap().0, "message_stop");
        let mut d = Decoded {
            text: String::new(),
            calls: Vec::new(),
            stop: String::new(),
            usage: Value::Null,
            output_tokens: 0,
        };
        let mut partial: HashMap<u64, String> = HashMap::new();
        for (name, data) in &evs {
            assert_eq!(data["type"], name.as_str());
            let index = data["index"].as_u64().unwrap_or(0);
            match name.as_str() {
                "message_start" => d.usage = data["message"]["usage"].clone(),
                "content_block_start" if data["content_block"]["type"] == "tool_use" => {
                    partial.insert(index, String::new());
                    d.calls.push((
                        data["content_block"]["id"].as_str().unwrap().to_string(),
                        data["content_block"]["name"].as_str().unwrap().to_string(),
                        Value::Null,
                    ));
                }
                "content_block_delta" => match data["delta"]["type"].as_str().unwrap() {
                    "text_delta" => d.text.push_str(data["delta"]["text"].as_str().unwrap()),
                    "input_json_delta" => partial
                        .get_mut(&index)
                        .unwrap()
                        .push_str(data["delta"]["partial_json"].as_str().unwrap()),
                    other => panic!("unexpected delta {other}"),
                },
                "content_block_stop" => {
                    if let Some(json) = partial.remove(&index) {
                        d.calls.last_mut().unwrap().2 = serde_json::from_str(&json).unwrap();
                    }
                }
                "message_delta" => {
                    d.stop = data["delta"]["stop_reason"].as_str().unwrap().to_string();
                    d.output_tokens = data["usage"]["output_tokens"].as_u64().unwrap();
                }
                _ => {}
            }
        }
        d
    }

    fn search_tools() -> Value {
        json!([
            {"name": "search_products", "description": "Search the catalog.",
             "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}},
            {"name": "view_cart", "description": "The cart.",
             "input_schema": {"type": "object", "properties": {}},
             "cache_control": {"type": "ephemeral"}}
        ])
    }

    fn products_result() -> String {
        json!({"products": [
            {"external_id": "p1", "title": "Alpine Dome Tent", "brand": "Peak", "price": "249.00 USD", "in_stock": true, "variant": null},
            {"external_id": "p2", "title": "Trail Hammock", "brand": "Peak", "price": "59.90 USD", "in_stock": true, "variant": null},
            {"external_id": "p3", "title": "Bivy Sack", "brand": "Peak", "price": "120.00 USD", "in_stock": false, "variant": null}
        ]})
        .to_string()
    }

    fn words(text: &str) -> usize {
        text.split_whitespace().count()
    }

    #[tokio::test]
    async fn anthropic_searches_with_the_visitor_text() {
        let url = format!("{}/v1/messages", start(quick()).await);
        let body = json!({
            "model": "claude-sonnet-4-5", "max_tokens": 512, "stream": true,
            "system": [{"type": "text", "text": "You are the shop's assistant.", "cache_control": {"type": "ephemeral"}}],
            "tools": search_tools(),
            "messages": [{"role": "user", "content": "do you sell lightweight tents for two people?"}]
        });
        let (status, text) = post(&client(), &url, &body).await;
        assert_eq!(status, 200, "{text}");
        let d = decode_anthropic(&text);
        assert_eq!(d.text, "Let me check.");
        assert_eq!(d.calls.len(), 1);
        let (id, name, input) = &d.calls[0];
        assert!(id.starts_with("toolu_fake_"), "{id}");
        assert_eq!(name, "search_products");
        assert_eq!(
            input,
            &json!({"query": "do you sell lightweight tents for two people?"})
        );
        assert_eq!(d.stop, "tool_use");
        // Fragments of about 20 characters after an empty first one.
        let fragments: Vec<String> = events(&text)
            .iter()
            .filter(|(_, e)| e["delta"]["type"] == "input_json_delta")
            .map(|(_, e)| e["delta"]["partial_json"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(fragments[0], "");
        assert!(fragments.len() > 2);
        assert!(fragments.iter().all(|f| f.chars().count() <= 20));
        // Output: the text's tokens plus the call's name and input and 10.
        let call_chars = "search_products".len() + input.to_string().len();
        assert_eq!(
            d.output_tokens,
            tokens("Let me check.") + tokens_of_chars(call_chars) + 10
        );
        // No breakpoint prefix reaches 1024 tokens: all input is uncached.
        assert_eq!(d.usage["cache_creation_input_tokens"], 0);
        assert_eq!(d.usage["cache_read_input_tokens"], 0);
        assert_eq!(d.usage["output_tokens"], 1);
        assert!(d.usage["input_tokens"].as_u64().unwrap() > 0);
        // The query is cut at 80 characters.
        let long = "a".repeat(200);
        let mut body = body;
        body["messages"] = json!([{"role": "user", "content": [{"type": "text", "text": long}]}]);
        let (_, text) = post(&client(), &url, &body).await;
        let d = decode_anthropic(&text);
        assert_eq!(d.calls[0].2["query"].as_str().unwrap().len(), 80);
    }

    #[tokio::test]
    async fn anthropic_answers_tool_results_with_exact_prices() {
        let url = format!("{}/v1/messages", start(quick()).await);
        let body = json!({
            "model": "claude-sonnet-4-5", "max_tokens": 512, "stream": true,
            "tools": search_tools(),
            "messages": [
                {"role": "user", "content": "a tent please"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "toolu_fake_1", "name": "search_products", "input": {"query": "a tent please"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_fake_1", "content": products_result(), "is_error": false}
                ]}
            ]
        });
        let (status, text) = post(&client(), &url, &body).await;
        assert_eq!(status, 200, "{text}");
        let d = decode_anthropic(&text);
        assert!(d.calls.is_empty());
        assert_eq!(d.stop, "end_turn");
        assert!(
            d.text.contains("Alpine Dome Tent at 249.00 USD"),
            "{}",
            d.text
        );
        assert!(d.text.contains("Trail Hammock at 59.90 USD"), "{}", d.text);
        assert!(!d.text.contains("Bivy"), "{}", d.text);
        let n = words(&d.text);
        assert!((60..=90).contains(&n), "{n} words: {}", d.text);
        // No number but the prices.
        let rest = d.text.replace("249.00 USD", "").replace("59.90 USD", "");
        assert!(!rest.chars().any(|c| c.is_ascii_digit()), "{rest}");
        assert_eq!(d.output_tokens, tokens(&d.text));

        // A cart action after products were listed: view the cart.
        let mut follow = body.clone();
        let messages = follow["messages"].as_array_mut().unwrap();
        messages.push(json!({"role": "assistant", "content": d.text}));
        messages.push(json!({"role": "user", "content": "add the tent to my cart"}));
        let (_, text) = post(&client(), &url, &follow).await;
        let d = decode_anthropic(&text);
        assert_eq!(d.calls[0].1, "view_cart");
        assert_eq!(d.calls[0].2, json!({}));
        // The same words with no products listed before: a search.
        let first = json!({"role": "user", "content": "add the tent to my cart"});
        follow["messages"] = json!([first]);
        let (_, text) = post(&client(), &url, &follow).await;
        assert_eq!(decode_anthropic(&text).calls[0].1, "search_products");
    }

    #[test]
    fn tool_result_replies() {
        let cart = json!({"lines": [{"title": "Alpine Dome Tent", "quantity": 2, "unit_price": "249.00 USD"}], "total": "498.00 USD"}).to_string();
        let text = results_reply(&[cart]);
        assert!(text.contains("498.00 USD"), "{text}");
        assert!(
            !text
                .replace("498.00 USD", "")
                .chars()
                .any(|c| c.is_ascii_digit())
        );
        assert!((60..=90).contains(&words(&text)), "{text}");
        for other in ["not json", r#"{"products": []}"#, r#"{"ok": true}"#] {
            let text = results_reply(&[other.to_string()]);
            assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
            assert!((60..=90).contains(&words(&text)), "{text}");
        }
        let one = json!({"products": [{"title": "Bivy Sack", "price": "120.00 USD"}]}).to_string();
        let text = results_reply(&[one]);
        assert!(text.contains("Bivy Sack at 120.00 USD"), "{text}");
        assert!((60..=90).contains(&words(&text)), "{text}");
        let n = words(GENERIC_REPLY);
        assert!((40..=60).contains(&n), "{n}");
        assert!(!GENERIC_REPLY.chars().any(|c| c.is_ascii_digit()));
    }

    #[tokio::test]
    async fn anthropic_caches_long_prefixes() {
        let url = format!("{}/v1/messages", start(quick()).await);
        let system = "You are the shop's assistant. Quote only catalog prices. ".repeat(80);
        let body = |question: &str| {
            json!({
                "model": "claude-sonnet-4-5", "max_tokens": 256, "stream": true,
                "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
                "messages": [{"role": "user", "content": question}]
            })
        };
        let c = client();
        let usage = |text: &str| {
            let u = decode_anthropic(text).usage;
            let get = |k: &str| u[k].as_u64().unwrap();
            (
                get("input_tokens"),
                get("cache_creation_input_tokens"),
                get("cache_read_input_tokens"),
            )
        };
        let (_, first) = post(&c, &url, &body("hello")).await;
        let (input1, write1, read1) = usage(&first);
        assert!(write1 >= 1024, "{write1}");
        assert_eq!(write1, tokens(&system));
        assert_eq!(read1, 0);
        let (_, second) = post(&c, &url, &body("hello")).await;
        let (input2, write2, read2) = usage(&second);
        assert_eq!(write2, 0);
        assert_eq!(read2, write1);
        assert_eq!(input1 + write1 + read1, input2 + write2 + read2);
        assert!(input1 > 0 && input1 == input2);
        // Another question reads the same system prefix.
        let (_, third) = post(&c, &url, &body("something else entirely")).await;
        assert_eq!(usage(&third).2, write1);

        // A second breakpoint further on: the system is read, the rest written.
        let mut longer = body("hello");
        longer["messages"] = json!([
            {"role": "user", "content": [{"type": "text", "text": "x".repeat(400), "cache_control": {"type": "ephemeral"}}]}
        ]);
        let (_, fourth) = post(&c, &url, &longer).await;
        let (input4, write4, read4) = usage(&fourth);
        assert_eq!(read4, write1);
        assert!(write4 > 100, "{write4}");
        let (_, fifth) = post(&c, &url, &longer).await;
        let (input5, write5, read5) = usage(&fifth);
        assert_eq!((write5, read5), (0, read4 + write4));
        assert_eq!(input4 + write4 + read4, input5 + write5 + read5);

        // Another model does not share the cache; Haiku needs 2048 tokens.
        let mut haiku = body("hello");
        haiku["model"] = json!("claude-haiku-3-5");
        let (_, text) = post(&c, &url, &haiku).await;
        let (input, write, read) = usage(&text);
        assert_eq!((write, read), (0, 0));
        assert_eq!(input, input1 + write1);
        // Without cache_control everything is plain input.
        let mut plain = body("hello");
        plain["system"] = json!(system);
        let (_, text) = post(&c, &url, &plain).await;
        assert_eq!(usage(&text).1 + usage(&text).2, 0);
        // More than four breakpoints is refused like the real API.
        let mut many = body("hello");
        let block = json!({"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}});
        many["messages"] = json!([{"role": "user", "content": [block, block, block, block]}]);
        let (status, text) = post(&c, &url, &many).await;
        assert_eq!(status, 400);
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["type"], "invalid_request_error");
    }

    async fn openai(c: &reqwest::Client, url: &str, body: &Value) -> Vec<Value> {
        let (status, text) = post(c, url, body).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
        let evs = events(&text);
        for (name, e) in &evs {
            assert!(name.is_empty());
            assert_eq!(e["object"], "chat.completion.chunk");
            assert_eq!(e["model"], body["model"]);
        }
        evs.into_iter().map(|(_, e)| e).collect()
    }

    #[tokio::test]
    async fn openai_caches_prompt_prefixes_in_128_token_steps() {
        let url = format!("{}/v1/chat/completions", start(quick()).await);
        let c = client();
        let body = json!({
            "model": "gpt-4.1-mini", "stream": true, "stream_options": {"include_usage": true},
            "max_completion_tokens": 512,
            "messages": [
                {"role": "system", "content": "You are the shop's assistant. Quote only catalog prices. ".repeat(90)},
                {"role": "user", "content": "hello there"}
            ]
        });
        let usage = |chunks: &[Value]| {
            let last = chunks.last().unwrap();
            assert_eq!(last["choices"], json!([]));
            for c in &chunks[..chunks.len() - 1] {
                assert!(c["usage"].is_null());
            }
            last["usage"].clone()
        };
        let first = usage(&openai(&c, &url, &body).await);
        let prompt = first["prompt_tokens"].as_u64().unwrap();
        assert!(prompt >= 1300, "{prompt}");
        assert_eq!(first["prompt_tokens_details"]["cached_tokens"], 0);
        assert_eq!(first["prompt_tokens_details"]["audio_tokens"], 0);
        assert_eq!(first["completion_tokens_details"]["reasoning_tokens"], 0);
        assert_eq!(
            first["total_tokens"].as_u64().unwrap(),
            prompt + first["completion_tokens"].as_u64().unwrap()
        );
        let second = usage(&openai(&c, &url, &body).await);
        let cached = second["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap();
        assert!(cached >= 1024, "{cached}");
        assert_eq!((cached - 1024) % 128, 0, "{cached}");
        assert!(
            cached <= prompt && prompt - cached < 128,
            "{cached} of {prompt}"
        );
        // A different last message still shares the long system prefix.
        let mut other = body.clone();
        other["messages"][1]["content"] = json!("something else");
        let third = usage(&openai(&c, &url, &other).await);
        let cached3 = third["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap();
        assert!(cached3 >= 1024 && (cached3 - 1024) % 128 == 0, "{cached3}");
        // Another model has its own cache.
        let mut model = body.clone();
        model["model"] = json!("gpt-4.1-nano");
        let fourth = usage(&openai(&c, &url, &model).await);
        assert_eq!(fourth["prompt_tokens_details"]["cached_tokens"], 0);
        // Without include_usage, no usage chunk and no usage keys.
        let mut no_usage = body.clone();
        no_usage.as_object_mut().unwrap().remove("stream_options");
        let chunks = openai(&c, &url, &no_usage).await;
        assert!(chunks.iter().all(|c| c.get("usage").is_none()));
        assert_eq!(
            chunks.last().unwrap()["choices"][0]["finish_reason"],
            "stop"
        );
    }

    #[tokio::test]
    async fn openai_calls_tools_and_answers_results() {
        let url = format!("{}/v1/chat/completions", start(quick()).await);
        let c = client();
        let tools = json!([
            {"type": "function", "function": {"name": "search_products", "description": "Search.", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "view_cart", "description": "Cart.", "parameters": {"type": "object"}}}
        ]);
        let mut body = json!({
            "model": "gpt-4.1-mini", "stream": true, "stream_options": {"include_usage": true},
            "tools": tools,
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "red running shoes"}]
        });
        let chunks = openai(&c, &url, &body).await;
        let mut text = String::new();
        let mut args = String::new();
        let mut name = None;
        let mut id = None;
        for ch in &chunks {
            let delta = &ch["choices"][0]["delta"];
            if let Some(t) = delta["content"].as_str() {
                text.push_str(t);
            }
            if let Some(call) = delta["tool_calls"].get(0) {
                assert_eq!(call["index"], 0);
                if let Some(n) = call["function"]["name"].as_str() {
                    name = Some(n.to_string());
                    id = Some(call["id"].as_str().unwrap().to_string());
                }
                args.push_str(call["function"]["arguments"].as_str().unwrap());
            }
        }
        assert_eq!(text, "Let me check.");
        assert_eq!(name.as_deref(), Some("search_products"));
        let id = id.unwrap();
        assert!(id.starts_with("call_fake_"), "{id}");
        let input: Value = serde_json::from_str(&args).unwrap();
        assert_eq!(input, json!({"query": "red running shoes"}));
        let finish = &chunks[chunks.len() - 2];
        assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");

        // The tool result: a reply naming the products and their exact prices.
        let messages = body["messages"].as_array_mut().unwrap();
        messages.push(json!({"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"id": id, "type": "function", "function": {"name": "search_products", "arguments": args}}
        ]}));
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": products_result()}));
        let chunks = openai(&c, &url, &body).await;
        let text: String = chunks
            .iter()
            .filter_map(|ch| ch["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert!(
            text.contains("249.00 USD") && text.contains("59.90 USD"),
            "{text}"
        );
        assert_eq!(
            chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
            "stop"
        );
        let usage = &chunks.last().unwrap()["usage"];
        assert_eq!(usage["completion_tokens"].as_u64().unwrap(), tokens(&text));

        // A cart action now views the cart.
        let messages = body["messages"].as_array_mut().unwrap();
        messages.push(json!({"role": "assistant", "content": text}));
        messages.push(json!({"role": "user", "content": "ok, I'll buy the first"}));
        let chunks = openai(&c, &url, &body).await;
        let call = chunks
            .iter()
            .find_map(|ch| ch["choices"][0]["delta"]["tool_calls"].get(0).cloned())
            .unwrap();
        assert_eq!(call["function"]["name"], "view_cart");
    }

    #[tokio::test]
    async fn classifies_and_words_drafts_without_tools() {
        let base = start(quick()).await;
        let c = client();
        let anthropic = |max_tokens: u64, text: &str| {
            json!({
                "model": "claude-haiku-4-5", "max_tokens": max_tokens, "stream": true,
                "system": "Answer with one intent label.",
                "messages": [{"role": "user", "content": text}]
            })
        };
        let url = format!("{base}/v1/messages");
        let (_, text) = post(&c, &url, &anthropic(8, "do you sell tents?")).await;
        let d = decode_anthropic(&text);
        assert_eq!(d.text, "product_search");
        assert_eq!(d.stop, "end_turn");
        assert!(d.output_tokens <= 8);

        let (_, text) = post(&c, &url, &anthropic(256, "Word this reply.\nFacts: tent.\nDraft: The Alpine Dome Tent is 249.00 USD,\nand 3 are left.")).await;
        assert_eq!(
            decode_anthropic(&text).text,
            "The Alpine Dome Tent is 249.00 USD,\nand 3 are left."
        );

        let (_, text) = post(&c, &url, &anthropic(256, "hi!")).await;
        let reply = decode_anthropic(&text).text;
        assert_eq!(reply, GENERIC_REPLY);
        // A small max_tokens cuts the answer like a real model.
        let (_, text) = post(&c, &url, &anthropic(20, "hi!")).await;
        let d = decode_anthropic(&text);
        assert_eq!(d.stop, "max_tokens");
        assert_eq!(d.output_tokens, 20);

        let url = format!("{base}/v1/chat/completions");
        let body = json!({
            "model": "gpt-4.1-nano", "stream": true, "max_tokens": 8,
            "messages": [{"role": "system", "content": "Label it."}, {"role": "user", "content": "tents?"}]
        });
        let chunks = openai(&c, &url, &body).await;
        let text: String = chunks
            .iter()
            .filter_map(|ch| ch["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, "product_search");
    }

    #[tokio::test]
    async fn unknown_paths_and_bad_requests_get_the_providers_errors() {
        let base = start(quick()).await;
        let c = client();
        let resp = c
            .post(format!("{base}/v1/embeddings"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("/v1/embeddings")
        );
        let resp = c
            .get(format!("{base}/v1/models"))
            .header("anthropic-version", "2023-06-01")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "not_found_error");

        let (status, text) = post(
            &c,
            &format!("{base}/v1/messages"),
            &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true}),
        )
        .await;
        assert_eq!(status, 400, "{text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }

    /// Reads one chunked response off `socket`; its bytes.
    async fn read_response(socket: &mut TcpStream) -> String {
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        while !buf.ends_with(b"\r\n0\r\n\r\n") {
            let n = socket.read(&mut tmp).await.unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&tmp[..n]);
        }
        String::from_utf8(buf).unwrap()
    }

    #[tokio::test]
    async fn keeps_connections_alive_and_paces_answers() {
        let opts = FakeLlmOptions {
            tokens_per_sec: 1000,
            ttft: Duration::from_millis(100),
        };
        let base = start(opts).await;
        let addr = base.trim_start_matches("http://");
        let mut socket = TcpStream::connect(addr).await.unwrap();
        let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 8, "stream": true,
            "messages": [{"role": "user", "content": "tents?"}]})
        .to_string();
        let request = format!(
            "POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        for _ in 0..2 {
            let started = std::time::Instant::now();
            socket.write_all(request.as_bytes()).await.unwrap();
            let response = read_response(&mut socket).await;
            assert!(started.elapsed() >= Duration::from_millis(100));
            assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
            assert!(response.contains("transfer-encoding: chunked\r\n"));
            assert!(response.contains("connection: keep-alive\r\n"));
            assert!(response.contains("event: message_stop"), "{response}");
        }
        // A client that waits for `100 Continue` before the body (as curl does).
        let head = request.split_once("\r\n\r\n").unwrap().0;
        socket
            .write_all(format!("{head}\r\nexpect: 100-continue\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut tmp = [0u8; 64];
        let n = socket.read(&mut tmp).await.unwrap();
        assert_eq!(&tmp[..n], b"HTTP/1.1 100 Continue\r\n\r\n");
        socket.write_all(body.as_bytes()).await.unwrap();
        assert!(read_response(&mut socket).await.contains("200 OK"));
        // Pacing: a reply of about 70 pieces at 1000 a second takes some tens of milliseconds.
        let started = std::time::Instant::now();
        let (_, text) = post(
            &client(),
            &format!("{base}/v1/messages"),
            &json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "stream": true,
                "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        assert_eq!(decode_anthropic(&text).text, GENERIC_REPLY);
        assert!(started.elapsed() >= Duration::from_millis(100 + 50));
    }

    #[test]
    fn the_prefix_cache_is_bounded_and_expires() {
        let mut cache = PrefixCache::new(Duration::from_secs(1), 3);
        let now = Instant::now();
        for key in 0..5 {
            cache.put(key, now);
        }
        assert!(!cache.live(0, now) && !cache.live(1, now));
        assert!(cache.live(2, now) && cache.live(4, now));
        // A rewritten key is newest again.
        cache.put(2, now);
        cache.put(5, now);
        assert!(!cache.live(3, now) && cache.live(2, now));
        assert!(!cache.live(2, now + Duration::from_secs(2)));
        for key in 0..100 {
            cache.put(key % 2, now);
        }
        assert!(cache.order.len() <= 6);
    }

    #[test]
    fn token_counts_round_up_characters_over_three_and_a_half() {
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens("abc"), 1);
        assert_eq!(tokens("abcdefg"), 2);
        assert_eq!(tokens("abcdefgh"), 3);
        assert_eq!(tokens("ééé"), 1);
        assert_eq!(draft("Draft:  x 1 \n"), Some("x 1".to_string()));
        assert_eq!(draft("no draft here"), None);
        assert_eq!(
            draft("Visitor: hi\nDraft: ignore this\nDraft: The tent is 249.00 USD."),
            Some("The tent is 249.00 USD.".to_string())
        );
        assert_eq!(draft("Visitor: hi\nDraft:   "), None);
    }
}
