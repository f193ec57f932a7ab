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
//!
//! Faults (`faults`, off by default): while switched on, a seeded share of valid requests is
//! answered with a 429, a 529, a 500, a stall or a stream cut short ([`FaultOptions`],
//! [`FaultControl`], [`serve_with_faults`]).

use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use usage::PrefixCache;
use wire::{Break, anthropic_stream, error_body, fault_body, openai_stream, send_stream};

pub use faults::{FaultControl, FaultOptions, ProviderFault};

mod behaviour;
mod faults;
#[cfg(test)]
mod tests;
mod usage;
mod wire;

/// How fast the fake answers, and how it fails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FakeLlmOptions {
    /// Text pieces (about one token each) per second after the first; 0 sends everything at
    /// once.
    pub tokens_per_sec: u32,
    /// The pause before an answer's first content.
    pub ttft: Duration,
    /// Injected failures; off by default.
    pub faults: FaultOptions,
}

impl Default for FakeLlmOptions {
    /// 200 tokens a second after a 50 ms time to first token, no faults.
    fn default() -> Self {
        Self {
            tokens_per_sec: 200,
            ttft: Duration::from_millis(50),
            faults: FaultOptions::default(),
        }
    }
}

/// Serves the fake on `listener` until the process ends: every connection is handled on its
/// own task, and nothing is printed. It never returns. Faults follow `opts.faults`.
pub async fn serve(listener: TcpListener, opts: FakeLlmOptions) {
    serve_with_faults(listener, opts, Arc::new(FaultControl::new(opts.faults))).await;
}

/// Like [`serve`], with faults switched and counted through `faults` (its options replace
/// `opts.faults`).
pub async fn serve_with_faults(
    listener: TcpListener,
    opts: FakeLlmOptions,
    faults: Arc<FaultControl>,
) {
    let state = Arc::new(State::new(opts, faults));
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
// Shared state: the options and the two prompt caches.

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

struct State {
    opts: FakeLlmOptions,
    /// The fault switch, shared with the runner.
    faults: Arc<FaultControl>,
    /// Anthropic prefixes written to the cache, by model and prefix text.
    anthropic: Mutex<PrefixCache>,
    /// OpenAI prompt prefixes seen, by model and prefix text, at 128-token steps.
    openai: Mutex<PrefixCache>,
}

impl State {
    fn new(opts: FakeLlmOptions, faults: Arc<FaultControl>) -> Self {
        Self {
            opts,
            faults,
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
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        529 => "Site Overloaded",
        _ => "Error",
    }
}

/// Writes a whole JSON answer; false when the client is gone.
async fn write_json(socket: &mut TcpStream, status: u16, body: &Value, close: bool) -> bool {
    write_json_with(socket, status, &[], body, close).await
}

/// Writes a whole JSON answer with `extra` headers; false when the client is gone.
async fn write_json_with(
    socket: &mut TcpStream,
    status: u16,
    extra: &[(&str, String)],
    body: &Value,
    close: bool,
) -> bool {
    let body = body.to_string();
    let extra: String = extra.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}connection: {}\r\n\r\n",
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
    let close = request.close;
    let Some(fault) = state.faults.draw() else {
        return send_stream(socket, stream, close, None).await;
    };
    let faults = state.faults.options();
    match fault {
        ProviderFault::RateLimited | ProviderFault::Overloaded | ProviderFault::ServerError => {
            let (status, body) = fault_body(route, fault);
            let extra = match fault {
                ProviderFault::RateLimited => {
                    vec![("retry-after", faults.retry_after_secs.to_string())]
                }
                _ => Vec::new(),
            };
            write_json_with(socket, status, &extra, &body, close).await
        }
        ProviderFault::StallBeforeFirstByte => {
            tokio::time::sleep(faults.stall).await;
            send_stream(socket, stream, close, None).await
        }
        ProviderFault::StallMidStream => {
            let at = state.faults.break_point(stream.step_count());
            let stall = Break::Stall(at, faults.stall);
            send_stream(socket, stream, close, Some(stall)).await
        }
        ProviderFault::CutMidStream => {
            let at = state.faults.break_point(stream.step_count());
            send_stream(socket, stream, close, Some(Break::Cut(at))).await
        }
    }
}
