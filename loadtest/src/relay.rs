//! `agentpay-loadtest baseline-relay`: the cheapest server that speaks enough of the
//! conversation protocol for the `chat` scenario: actix-web and actix-ws like the engine, but no
//! actors, no database, no agent. Each visitor message is acknowledged, then answered with one
//! WebSocket frame per token at the given rate, in the engine's frame shapes (`ack`,
//! `user_message`, `assistant_start`, `delta` with `index`, `assistant_end`). Pointed at by the
//! `chat` scenario, it gives the CPU cost of delivering tokens over this transport, the floor the
//! engine's cost per delivered token is compared with (docs/benchmarks.md).

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_ws::AggregatedMessage;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How the relay answers.
#[derive(Debug, Clone, Copy)]
pub struct RelayOptions {
    /// Tokens per second of each reply after the first (0: all at once).
    pub tokens_per_sec: u32,
    /// Tokens per reply.
    pub reply_tokens: u32,
    /// Milliseconds before a reply's first token.
    pub ttft: Duration,
}

struct Relay {
    options: RelayOptions,
    base: String,
    next_id: AtomicU64,
}

/// `POST /v1/conversations`: any key is accepted.
async fn create(relay: web::Data<Relay>) -> HttpResponse {
    let n = relay.next_id.fetch_add(1, Ordering::Relaxed);
    let id = format!("00000000-0000-4000-8000-{n:012x}");
    HttpResponse::Created().json(json!({
        "id": id,
        "visitor_token": format!("vt_relay{n}"),
        "ws_url": format!("{}/v1/conversations/{id}/ws", relay.base.replacen("http://", "ws://", 1)),
        "ws_protocol": "agentpay.v1",
        "last_seq": 0,
    }))
}

/// A reply's frames, each sent as its own WebSocket frame.
async fn reply(
    session: &mut actix_ws::Session,
    options: RelayOptions,
    seq: &mut i64,
    n: u64,
) -> Result<(), actix_ws::Closed> {
    let message_id = format!("10000000-0000-4000-8000-{n:012x}");
    *seq += 1;
    session
        .text(
            json!({"type": "assistant_start", "message_id": message_id, "seq": *seq,
                   "reply_to_seq": *seq - 1})
            .to_string(),
        )
        .await?;
    // Each token is due at a fixed time from the reply's start, as the engine's simulated model
    // paces them: a relay that falls behind sends the late tokens at once.
    let start = tokio::time::Instant::now() + options.ttft;
    let gap = if options.tokens_per_sec > 0 {
        Duration::from_secs_f64(1.0 / f64::from(options.tokens_per_sec))
    } else {
        Duration::ZERO
    };
    let mut text = String::new();
    let mut index = 0usize;
    for i in 0..options.reply_tokens {
        let due = start + gap * i;
        if due > tokio::time::Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        let token = if i == 0 { "Token" } else { " token" };
        // The engine's delta frame, encoded as cheaply as it can be (the tokens need no escaping).
        session
            .text(format!(
                r#"{{"type":"delta","message_id":"{message_id}","text":"{token}","index":{index}}}"#
            ))
            .await?;
        index += token.chars().count();
        text.push_str(token);
    }
    *seq += 1;
    session
        .text(
            json!({"type": "assistant_end", "message_id": message_id, "seq": *seq, "text": text,
                   "usage": null, "interrupted": false})
            .to_string(),
        )
        .await
}

/// `GET /v1/conversations/{id}/ws`.
async fn socket(
    req: HttpRequest,
    body: web::Payload,
    relay: web::Data<Relay>,
    path: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let (res, mut session, stream) = actix_ws::handle_with_protocols(&req, body, &["agentpay.v1"])?;
    let options = relay.options;
    let id = path.into_inner();
    let n = relay.next_id.fetch_add(1, Ordering::Relaxed);
    actix_web::rt::spawn(async move {
        let hello = json!({"type": "hello", "conversation_id": id, "last_seq": 0, "protocol": 1});
        if session.text(hello.to_string()).await.is_err() {
            return;
        }
        let mut stream = stream.aggregate_continuations();
        let mut seq = 0i64;
        while let Some(Ok(message)) = stream.next().await {
            match message {
                AggregatedMessage::Text(t) => {
                    let Ok(frame) = serde_json::from_str::<Value>(&t) else {
                        continue;
                    };
                    if frame["type"] == "ping" {
                        let _ = session.text(r#"{"type":"pong"}"#).await;
                        continue;
                    }
                    if frame["type"] != "user_message" {
                        continue;
                    }
                    seq += 1;
                    let client_id = frame["client_id"].clone();
                    let ack = json!({"type": "ack", "client_id": client_id, "seq": seq});
                    let echo = json!({"type": "user_message", "client_id": client_id,
                                      "seq": seq, "text": frame["text"],
                                      "message_id": format!("20000000-0000-4000-8000-{seq:012x}")});
                    if session.text(ack.to_string()).await.is_err()
                        || session.text(echo.to_string()).await.is_err()
                        || reply(&mut session, options, &mut seq, n).await.is_err()
                    {
                        return;
                    }
                }
                AggregatedMessage::Ping(b) => {
                    let _ = session.pong(&b).await;
                }
                AggregatedMessage::Close(_) => break,
                _ => {}
            }
        }
        let _ = session.close(None).await;
    });
    Ok(res)
}

/// Serves the relay on `listen` (loopback only) until the process is killed. Runs its own actix
/// system, so call it from a thread of its own.
pub fn serve(listen: SocketAddr, options: RelayOptions) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let listener = std::net::TcpListener::bind(listen)?;
        let address = listener.local_addr()?;
        let relay = web::Data::new(Relay {
            options,
            base: format!("http://{address}"),
            next_id: AtomicU64::new(1),
        });
        println!("baseline-relay listening on http://{address}");
        HttpServer::new(move || {
            App::new()
                .app_data(relay.clone())
                .route("/v1/conversations", web::post().to(create))
                .route("/v1/conversations/{id}/ws", web::get().to(socket))
        })
        .tcp_nodelay(true)
        .listen(listener)?
        .run()
        .await
    })
}

/// A relay started as a child process of the harness (so its CPU is its own), killed on drop.
pub struct RelayProcess {
    child: std::process::Child,
    /// Its base URL.
    pub base_url: String,
}

impl RelayProcess {
    /// Starts `exe baseline-relay` on a free loopback port with `options` and waits for it to
    /// listen.
    pub fn spawn(exe: &std::path::Path, options: RelayOptions) -> std::io::Result<Self> {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(exe)
            .args(["baseline-relay", "--listen", "127.0.0.1:0"])
            .arg("--tokens-per-sec")
            .arg(options.tokens_per_sec.to_string())
            .arg("--reply-tokens")
            .arg(options.reply_tokens.to_string())
            .arg("--ttft-ms")
            .arg(options.ttft.as_millis().to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            std::io::BufReader::new(out).read_line(&mut line)?;
        }
        let Some(url) = line.trim().strip_prefix("baseline-relay listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!(
                "the relay did not start (it said {line:?})"
            )));
        };
        Ok(Self {
            base_url: url.to_string(),
            child,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
