//! What every HTTP provider shares: timeouts, mapping HTTP failures to [`ModelError`], and
//! turning a streamed response body into decoded model events.

use super::sse::{SseEvent, SseParser};
use agentpay_actors::ports::model::{ModelError, ModelEvent, ModelStream, ToolCall};
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use reqwest::header::HeaderMap;
use std::collections::VecDeque;
use std::time::Duration;

/// Timeouts of one provider call.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP (and TLS) connection.
    pub connect: Duration,
    /// From sending the request to the response's status line and headers.
    pub first_byte: Duration,
    /// Between two chunks of the streamed body.
    pub idle: Duration,
}

/// An HTTP client for model providers (rustls with the ring provider, the system's roots).
pub fn client(timeouts: &Timeouts) -> anyhow::Result<reqwest::Client> {
    // Several clients may race to install it; only the first one wins, which is the point.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| anyhow::anyhow!("failed to build the model HTTP client: {e}"))
}

/// Sends `request` and waits for the response head; a non-2xx answer becomes its typed error.
pub async fn send(
    request: reqwest::RequestBuilder,
    timeouts: Timeouts,
) -> Result<reqwest::Response, ModelError> {
    // A server may close a kept-alive connection as a streamed answer ends without saying so
    // (llama.cpp's server does after every stream): a request that went out on it before the
    // close was seen fails without any answer. It never reached a model, so it goes again at
    // once, on a new connection (the pool drops the closed one), and only once.
    let again = request.try_clone();
    let sent = tokio::time::timeout(timeouts.first_byte, async move {
        match request.send().await {
            Err(e) if lost_on_the_connection(&e) => match again {
                Some(again) => again.send().await,
                None => Err(e),
            },
            sent => sent,
        }
    })
    .await;
    let response = match sent {
        Err(_) => return Err(ModelError::Timeout),
        Ok(Err(e)) if e.is_timeout() => return Err(ModelError::Timeout),
        Ok(Err(e)) => return Err(ModelError::Unreachable(without_url(&e))),
        Ok(Ok(r)) => r,
    };
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let body = tokio::time::timeout(timeouts.idle, response.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    Err(status_error(status.as_u16(), &headers, &body))
}

/// Whether a request failed on a connection that was open (not in connecting, not a timeout)
/// before any answer came: the connection was closed or reset under it.
fn lost_on_the_connection(e: &reqwest::Error) -> bool {
    e.is_request() && !e.is_connect() && !e.is_timeout()
}

/// A reqwest error's text with its causes (`error sending request for url (<url>): connection
/// closed before message completed`), without the URL (which may carry a key in some proxies'
/// setups).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

/// The provider's error message from an error body (`{"error": {"message": ...}}`, the shape of
/// both Anthropic and OpenAI), or the body itself, shortened.
pub fn error_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.pointer("/error/message"))
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| body.trim().to_string());
    message.chars().take(300).collect()
}

/// The `retry-after` hint in milliseconds: `retry-after-ms`, or `retry-after` in seconds
/// (decimal allowed). HTTP dates are ignored.
pub fn retry_after_ms(headers: &HeaderMap) -> Option<u64> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return Some(ms.max(0.0) as u64);
    }
    get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|secs| (secs.max(0.0) * 1000.0) as u64)
}

/// Maps an HTTP error answer to a [`ModelError`].
pub fn status_error(status: u16, headers: &HeaderMap, body: &str) -> ModelError {
    let message = error_message(body);
    match status {
        429 => ModelError::RateLimited {
            retry_after_ms: retry_after_ms(headers),
        },
        529 | 503 => ModelError::Overloaded,
        401 | 403 => ModelError::Authentication,
        400 | 404 | 413 | 422 => ModelError::BadRequest(message),
        _ => ModelError::Server { status, message },
    }
}

/// A complete tool call from its id, name and streamed argument text (empty means `{}`).
///
/// Arguments that are not a JSON object (invalid JSON, cut JSON, or valid JSON of another type)
/// give [`ModelError::BrokenStream`] naming the tool and the call, never a `ToolCall`: the
/// port promises an object, a tool could not run on anything else, and Anthropic would refuse
/// the follow-up request whose `tool_use.input` is not one. The model's output was unusable,
/// so the error is retryable like a broken stream: before anything reached the caller the
/// chain asks again (a new sample usually differs) or falls back; after text, the reply ends.
pub fn tool_call(id: String, name: String, arguments: &str) -> Result<ModelEvent, ModelError> {
    let raw = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(input) if input.is_object() => Ok(ModelEvent::ToolCall(ToolCall { id, name, input })),
        Ok(_) => Err(ModelError::BrokenStream(format!(
            "tool call {name} ({id}): its arguments are JSON but not an object"
        ))),
        Err(e) => Err(ModelError::BrokenStream(format!(
            "tool call {name} ({id}): its arguments are not valid JSON: {e}"
        ))),
    }
}

/// Turns provider events into model events; one implementation per wire format.
pub trait Decoder: Send + 'static {
    /// Handles one server-sent event.
    fn on_event(&mut self, event: SseEvent, out: &mut VecDeque<Result<ModelEvent, ModelError>>);
    /// Whether the provider said the stream is complete.
    fn done(&self) -> bool;
}

/// The body of `response` as server-sent events, each chunk within `idle` of the previous one.
fn sse_events(
    response: reqwest::Response,
    idle: Duration,
) -> BoxStream<'static, Result<SseEvent, ModelError>> {
    struct State {
        body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        parser: SseParser,
        ready: VecDeque<SseEvent>,
        ended: bool,
    }
    let state = State {
        body: response.bytes_stream().boxed(),
        parser: SseParser::new(),
        ready: VecDeque::new(),
        ended: false,
    };
    stream::unfold(state, move |mut st| async move {
        loop {
            if let Some(event) = st.ready.pop_front() {
                return Some((Ok(event), st));
            }
            if st.ended {
                return None;
            }
            match tokio::time::timeout(idle, st.body.next()).await {
                Err(_) => {
                    st.ended = true;
                    return Some((Err(ModelError::Timeout), st));
                }
                Ok(Some(Err(e))) => {
                    st.ended = true;
                    let error = ModelError::BrokenStream(without_url(&e));
                    return Some((Err(error), st));
                }
                Ok(Some(Ok(chunk))) => match st.parser.push(&chunk) {
                    Ok(events) => st.ready.extend(events),
                    Err(e) => {
                        st.ended = true;
                        return Some((Err(ModelError::BrokenStream(e.to_string())), st));
                    }
                },
                Ok(None) => {
                    st.ended = true;
                    // An unterminated last event is dropped, as the SSE rules say; the decoder
                    // then reports the stream as incomplete.
                    let _ = st.parser.finish();
                }
            }
        }
    })
    .boxed()
}

/// Sends `request` and decodes its streamed answer with `decoder`. Errors before the stream
/// come as the first item; a stream that ends before the provider said it is complete ends
/// with [`ModelError::BrokenStream`].
pub fn model_stream<D: Decoder>(
    request: reqwest::RequestBuilder,
    timeouts: Timeouts,
    decoder: D,
) -> ModelStream {
    struct State<D> {
        request: Option<(reqwest::RequestBuilder, Timeouts)>,
        events: Option<BoxStream<'static, Result<SseEvent, ModelError>>>,
        decoder: D,
        out: VecDeque<Result<ModelEvent, ModelError>>,
        finished: bool,
    }
    let state = State {
        request: Some((request, timeouts)),
        events: None,
        decoder,
        out: VecDeque::new(),
        finished: false,
    };
    stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.out.pop_front() {
                if item.is_err() {
                    st.finished = true;
                    st.out.clear();
                }
                return Some((item, st));
            }
            if st.finished || st.decoder.done() {
                return None;
            }
            if let Some((request, timeouts)) = st.request.take() {
                match send(request, timeouts).await {
                    Ok(response) => st.events = Some(sse_events(response, timeouts.idle)),
                    Err(e) => st.out.push_back(Err(e)),
                }
                continue;
            }
            let events = st.events.as_mut()?;
            match events.next().await {
                Some(Ok(event)) => st.decoder.on_event(event, &mut st.out),
                Some(Err(e)) => st.out.push_back(Err(e)),
                None => {
                    st.finished = true;
                    if !st.decoder.done() {
                        st.out.push_back(Err(ModelError::BrokenStream(
                            "the stream ended before the provider finished".into(),
                        )));
                    }
                }
            }
        }
    })
    .boxed()
}
