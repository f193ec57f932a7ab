//! `agentpay-loadtest`: the load harness. Scenarios:
//! - [`run_connections`]: ramp to N live conversations (HTTP create, then a WebSocket), hold them;
//! - [`run_chat`]: N conversations each sending messages with think time, measuring ack latency,
//!   time to first token, gaps between deltas, whole turns, tokens and frames delivered;
//! - [`run_http`]: a fixed rate of conversation creations.
//!
//! Every scenario is bounded in count and time and talks only to the base URL it is given (meant
//! for loopback). Client sockets are spread over several source addresses in 127.0.0.0/8
//! (`sources`) to get past the ephemeral-port range. Latencies go into HDR histograms.

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://127.0.0.1:8080`.
    pub base_url: String,
    /// A publishable key; created with `admin_token` when absent.
    pub publishable_key: Option<String>,
    /// The server's admin token (to create a merchant when no key is given).
    pub admin_token: Option<String>,
    /// Source addresses to spread client sockets over (127.0.0.1 .. 127.0.0.N).
    pub sources: u8,
    /// The server's pid, to read its RSS and CPU from /proc.
    pub server_pid: Option<u32>,
}

/// A latency summary in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Percentiles and max, in ms.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

fn histogram() -> Histogram<u64> {
    // Microseconds from 1 µs to 10 minutes, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable_hist()))
}

#[allow(clippy::panic)]
fn unreachable_hist() -> Histogram<u64> {
    // Histogram::new(3) only fails for precision > 5.
    panic!("HDR histogram with 3 significant digits cannot fail to build")
}

fn summarize(h: &Histogram<u64>) -> Latency {
    let ms = |v: u64| v as f64 / 1000.0;
    Latency {
        count: h.len(),
        p50_ms: ms(h.value_at_quantile(0.5)),
        p90_ms: ms(h.value_at_quantile(0.9)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
    }
}

/// Server resource use between two /proc samples.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerUsage {
    /// RSS at the start, KiB.
    pub rss_start_kib: u64,
    /// RSS at the end, KiB.
    pub rss_end_kib: u64,
    /// Peak RSS seen, KiB.
    pub rss_peak_kib: u64,
    /// CPU seconds used (user + system) during the run.
    pub cpu_seconds: f64,
}

/// Reads VmRSS (KiB) and utime+stime (seconds) of a pid.
pub fn read_proc(pid: u32) -> Option<(u64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the ")" that closes the command name: utime is the 12th, stime the 13th.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((rss, ticks / 100.0))
}

/// A scenario's report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Wall time, seconds.
    pub duration_secs: f64,
    /// Errors by kind; a clean run has none.
    pub errors: BTreeMap<String, u64>,
    /// Named latency summaries.
    pub latencies: BTreeMap<String, Latency>,
    /// Named counters (connections, turns, tokens, frames ...).
    pub counters: BTreeMap<String, u64>,
    /// Named rates per second.
    pub rates: BTreeMap<String, f64>,
    /// The server's resource use, when its pid was given.
    pub server: Option<ServerUsage>,
}

impl Report {
    /// Total errors.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// A human-readable table.
    pub fn table(&self) -> String {
        let mut out = format!("scenario {} ({:.1} s)\n", self.scenario, self.duration_secs);
        out.push_str(&format!(
            "{:<24} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            "latency (ms)", "count", "p50", "p90", "p99", "p99.9", "max"
        ));
        for (name, l) in &self.latencies {
            out.push_str(&format!(
                "{name:<24} {:>8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}\n",
                l.count, l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms
            ));
        }
        for (name, v) in &self.counters {
            out.push_str(&format!("{name:<24} {v}\n"));
        }
        for (name, v) in &self.rates {
            out.push_str(&format!("{name:<24} {v:.1}/s\n"));
        }
        if let Some(s) = &self.server {
            out.push_str(&format!(
                "server RSS {} → {} KiB (peak {}), CPU {:.2} s\n",
                s.rss_start_kib, s.rss_end_kib, s.rss_peak_kib, s.cpu_seconds
            ));
        }
        if self.errors.is_empty() {
            out.push_str("errors                   0\n");
        } else {
            for (k, v) in &self.errors {
                out.push_str(&format!("error {k:<18} {v}\n"));
            }
        }
        out
    }
}

/// Shared, lock-light counters while a scenario runs.
#[derive(Default)]
struct Live {
    errors: Mutex<BTreeMap<String, u64>>,
    progress: AtomicU64,
}

impl Live {
    async fn error(&self, kind: impl Into<String>) {
        *self.errors.lock().await.entry(kind.into()).or_insert(0) += 1;
    }
}

/// Samples the server's /proc while a run goes on.
struct ProcSampler {
    pid: Option<u32>,
    start: Option<(u64, f64)>,
    peak: u64,
}

impl ProcSampler {
    fn new(pid: Option<u32>) -> Self {
        let start = pid.and_then(read_proc);
        Self {
            pid,
            peak: start.map(|s| s.0).unwrap_or(0),
            start,
        }
    }
    fn sample(&mut self) {
        if let Some((rss, _)) = self.pid.and_then(read_proc) {
            self.peak = self.peak.max(rss);
        }
    }
    fn finish(mut self) -> Option<ServerUsage> {
        self.sample();
        let (rss0, cpu0) = self.start?;
        let (rss1, cpu1) = self.pid.and_then(read_proc)?;
        Some(ServerUsage {
            rss_start_kib: rss0,
            rss_end_kib: rss1,
            rss_peak_kib: self.peak.max(rss1),
            cpu_seconds: cpu1 - cpu0,
        })
    }
}

/// A created conversation.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// Its id.
    pub id: String,
    /// Its visitor token.
    pub token: String,
    /// Its WebSocket URL.
    pub ws_url: String,
}

fn source(i: usize, sources: u8) -> IpAddr {
    let n = sources.max(1) as usize;
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % n) as u8))
}

/// Installs the TLS crypto provider reqwest needs when it is built with rustls (as it is when
/// this crate is built together with the server); the harness itself only speaks plain HTTP.
fn tls_ready() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn clients(sources: u8) -> anyhow::Result<Vec<reqwest::Client>> {
    tls_ready();
    (0..sources.max(1) as usize)
        .map(|i| {
            reqwest::Client::builder()
                .local_address(source(i, sources))
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(64)
                .build()
                .context("failed to build an HTTP client")
        })
        .collect()
}

/// Resolves the publishable key: the given one, or a new merchant's (needs the admin token).
pub async fn publishable_key(target: &Target) -> anyhow::Result<String> {
    if let Some(pk) = &target.publishable_key {
        return Ok(pk.clone());
    }
    let Some(admin) = &target.admin_token else {
        bail!(
            "give --publishable-key, or --admin-token (AGENTPAY_ADMIN_TOKEN) to create a merchant"
        );
    };
    tls_ready();
    let body: Value = reqwest::Client::new()
        .post(format!("{}/v1/merchants", target.base_url))
        .bearer_auth(admin)
        .json(&json!({"name": "Load test store", "currency": "USD"}))
        .send()
        .await
        .context("could not reach the server")?
        .error_for_status()
        .context("creating the load-test merchant failed")?
        .json()
        .await?;
    body["publishable_key"]["key"]
        .as_str()
        .map(str::to_string)
        .context("the merchant response has no publishable key")
}

async fn create_conversation(
    client: &reqwest::Client,
    base: &str,
    pk: &str,
) -> Result<Conversation, String> {
    let res = client
        .post(format!("{base}/v1/conversations"))
        .bearer_auth(pk)
        .json(&json!({}))
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "create_timeout".to_string()
            } else {
                "create_connect".to_string()
            }
        })?;
    if res.status().as_u16() != 201 {
        return Err(format!("create_http_{}", res.status().as_u16()));
    }
    let body: Value = res.json().await.map_err(|_| "create_body".to_string())?;
    Ok(Conversation {
        id: body["id"].as_str().unwrap_or_default().into(),
        token: body["visitor_token"].as_str().unwrap_or_default().into(),
        ws_url: body["ws_url"].as_str().unwrap_or_default().into(),
    })
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_ws(c: &Conversation, from: IpAddr) -> Result<Ws, String> {
    let url = c.ws_url.replace("ws://", "");
    let host = url.split('/').next().unwrap_or_default();
    let addr: SocketAddr = host.parse().map_err(|_| "ws_url".to_string())?;
    let socket = tokio::net::TcpSocket::new_v4().map_err(|_| "socket".to_string())?;
    socket
        .bind(SocketAddr::new(from, 0))
        .map_err(|_| "bind".to_string())?;
    let tcp = socket
        .connect(addr)
        .await
        .map_err(|_| "ws_connect".to_string())?;
    // Like a browser: small frames leave at once.
    tcp.set_nodelay(true).map_err(|_| "nodelay".to_string())?;
    let mut req = c
        .ws_url
        .as_str()
        .into_client_request()
        .map_err(|_| "ws_url".to_string())?;
    let protocols = format!("agentpay.v1, {}", c.token);
    req.headers_mut().insert(
        "sec-websocket-protocol",
        protocols.parse().map_err(|_| "ws_token".to_string())?,
    );
    let (mut ws, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await
            .map_err(|_| "ws_handshake".to_string())?;
    match next_event(&mut ws, Duration::from_secs(30)).await {
        Ok(ev) if ev["type"] == "hello" => Ok(ws),
        Ok(_) => Err("ws_no_hello".into()),
        Err(e) => Err(e),
    }
}

/// The next JSON event, answering nothing (tungstenite answers pings as it reads).
async fn next_event(ws: &mut Ws, within: Duration) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Err("timeout".into()),
            Ok(Some(Ok(Message::Text(t)))) => {
                return serde_json::from_str(&t).map_err(|_| "bad_frame".to_string());
            }
            Ok(Some(Ok(Message::Close(f)))) => {
                return Err(format!(
                    "closed_{}",
                    f.map(|f| u16::from(f.code)).unwrap_or(0)
                ));
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_))) | Ok(None) => return Err("ws_broken".into()),
        }
    }
}

async fn progress_reporter(live: Arc<Live>, what: &'static str, started: Instant, quiet: bool) {
    if quiet {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let errors: u64 = live.errors.lock().await.values().sum();
        eprintln!(
            "[{:>5.1}s] {what}: {}  errors: {errors}",
            started.elapsed().as_secs_f64(),
            live.progress.load(Ordering::Relaxed)
        );
    }
}

/// Options of the `connections` scenario.
#[derive(Debug, Clone)]
pub struct ConnectionsOptions {
    /// Conversations to open and hold.
    pub count: usize,
    /// New connections per second while ramping.
    pub ramp_per_sec: u32,
    /// How long to hold them once all are open.
    pub hold: Duration,
    /// No live progress lines.
    pub quiet: bool,
}

/// Ramps to `count` live conversations, holds them, reports connect latency and failures.
pub async fn run_connections(target: &Target, opts: &ConnectionsOptions) -> anyhow::Result<Report> {
    let pk = publishable_key(target).await?;
    let http = clients(target.sources)?;
    let live = Arc::new(Live::default());
    let started = Instant::now();
    let mut sampler = ProcSampler::new(target.server_pid);
    let reporter = tokio::spawn(progress_reporter(
        live.clone(),
        "connected",
        started,
        opts.quiet,
    ));
    let hist = Arc::new(Mutex::new(histogram()));
    let mut open = Vec::with_capacity(opts.count);
    let per_batch = (opts.ramp_per_sec.max(1) as usize / 10).max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut i = 0;
    while i < opts.count {
        tick.tick().await;
        let batch: Vec<usize> = (i..(i + per_batch).min(opts.count)).collect();
        i += batch.len();
        let results = futures_util::future::join_all(batch.into_iter().map(|n| {
            let client = http[n % http.len()].clone();
            let (base, pk, hist, live) = (
                target.base_url.clone(),
                pk.clone(),
                hist.clone(),
                live.clone(),
            );
            let from = source(n, target.sources);
            async move {
                let t0 = Instant::now();
                let c = match create_conversation(&client, &base, &pk).await {
                    Ok(c) => c,
                    Err(e) => {
                        live.error(e).await;
                        return None;
                    }
                };
                match open_ws(&c, from).await {
                    Ok(ws) => {
                        let _ = hist.lock().await.record(t0.elapsed().as_micros() as u64);
                        live.progress.fetch_add(1, Ordering::Relaxed);
                        Some(ws)
                    }
                    Err(e) => {
                        live.error(e).await;
                        None
                    }
                }
            }
        }))
        .await;
        open.extend(results.into_iter().flatten());
        sampler.sample();
    }
    // Hold: keep reading (answers server pings), count unexpected closes.
    let hold_until = tokio::time::Instant::now() + opts.hold;
    let holders = open.into_iter().map(|mut ws| {
        let live = live.clone();
        async move {
            loop {
                match tokio::time::timeout_at(hold_until, ws.next()).await {
                    Err(_) => break,
                    Ok(Some(Ok(_))) => continue,
                    Ok(_) => {
                        live.error("dropped_while_holding").await;
                        return;
                    }
                }
            }
            let _ = ws.close(None).await;
        }
    });
    let sampling = async {
        while tokio::time::Instant::now() < hold_until {
            tokio::time::sleep(Duration::from_secs(1)).await;
            sampler.sample();
        }
        sampler
    };
    let (_, sampler) = tokio::join!(futures_util::future::join_all(holders), sampling);
    reporter.abort();
    let mut report = Report {
        scenario: "connections".into(),
        duration_secs: started.elapsed().as_secs_f64(),
        errors: live.errors.lock().await.clone(),
        server: sampler.finish(),
        ..Default::default()
    };
    report.latencies.insert(
        "connect (create + ws)".into(),
        summarize(&*hist.lock().await),
    );
    report
        .counters
        .insert("connected".into(), live.progress.load(Ordering::Relaxed));
    Ok(report)
}

/// A small deterministic generator (SplitMix64): the same run gets the same pauses.
struct SplitMix(u64);

impl SplitMix {
    /// A uniform value in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Options of the `chat` scenario.
#[derive(Debug, Clone)]
pub struct ChatOptions {
    /// Concurrent conversations.
    pub conversations: usize,
    /// Messages each conversation sends.
    pub messages: usize,
    /// Pause between a reply's end and the next message (the mean, with `think_jitter`).
    pub think: Duration,
    /// Each pause is `think` times a uniform factor in `[1 - j, 1 + j]`, so conversations do not
    /// march in lock-step (real visitors do not); 0 gives the exact `think` every time.
    pub think_jitter: f64,
    /// New conversations per second while ramping up.
    pub ramp_per_sec: u32,
    /// The simulated model's configured time to first token: when given, the report adds the
    /// engine-added time to first token (client-observed minus this).
    pub model_ttft: Option<Duration>,
    /// No live progress lines.
    pub quiet: bool,
}

#[derive(Default)]
struct ChatStats {
    ack: Option<Histogram<u64>>,
    ttft: Option<Histogram<u64>>,
    gap: Option<Histogram<u64>>,
    turn: Option<Histogram<u64>>,
    chars: u64,
    delta_frames: u64,
    turns: u64,
}

/// N conversations chatting: ack latency, time to first token, delta gaps, turn time.
pub async fn run_chat(target: &Target, opts: &ChatOptions) -> anyhow::Result<Report> {
    let pk = publishable_key(target).await?;
    let http = clients(target.sources)?;
    let live = Arc::new(Live::default());
    let stats = Arc::new(Mutex::new(ChatStats {
        ack: Some(histogram()),
        ttft: Some(histogram()),
        gap: Some(histogram()),
        turn: Some(histogram()),
        ..Default::default()
    }));
    let started = Instant::now();
    let sampler = Arc::new(Mutex::new(ProcSampler::new(target.server_pid)));
    let reporter = tokio::spawn(progress_reporter(
        live.clone(),
        "turns",
        started,
        opts.quiet,
    ));
    let stagger = Duration::from_secs_f64(1.0 / f64::from(opts.ramp_per_sec.max(1)));
    let tasks = (0..opts.conversations).map(|n| {
        let client = http[n % http.len()].clone();
        let (base, pk, live, stats) = (target.base_url.clone(), pk.clone(), live.clone(), stats.clone());
        let (messages, think, from) = (opts.messages, opts.think, source(n, target.sources));
        let jitter = opts.think_jitter.clamp(0.0, 1.0);
        let mut rng = SplitMix(n as u64);
        async move {
            tokio::time::sleep(stagger * n as u32).await;
            let c = match create_conversation(&client, &base, &pk).await {
                Ok(c) => c,
                Err(e) => return live.error(e).await,
            };
            let mut ws = match open_ws(&c, from).await {
                Ok(ws) => ws,
                Err(e) => return live.error(e).await,
            };
            for m in 0..messages {
                let sent = Instant::now();
                let frame = json!({"type": "user_message", "client_id": format!("lt-{n}-{m}"), "text": "Do you have waterproof hiking boots?"});
                if ws.send(Message::text(frame.to_string())).await.is_err() {
                    return live.error("ws_send").await;
                }
                let mut last_delta: Option<Instant> = None;
                let (mut ack, mut ttft, mut gaps) = (None, None, Vec::new());
                let (mut chars, mut frames) = (0u64, 0u64);
                loop {
                    let ev = match next_event(&mut ws, Duration::from_secs(120)).await {
                        Ok(ev) => ev,
                        Err(e) => return live.error(e).await,
                    };
                    let now = Instant::now();
                    match ev["type"].as_str().unwrap_or_default() {
                        "ack" => ack = Some(now - sent),
                        "delta" => {
                            if ttft.is_none() {
                                ttft = Some(now - sent);
                            }
                            if let Some(prev) = last_delta {
                                gaps.push(now - prev);
                            }
                            last_delta = Some(now);
                            chars += ev["text"].as_str().map(|t| t.chars().count() as u64).unwrap_or(0);
                            frames += 1;
                        }
                        "assistant_end" => {
                            if ev["interrupted"] == true {
                                live.error("interrupted").await;
                            }
                            break;
                        }
                        "error" => {
                            live.error(format!("error_{}", ev["code"].as_str().unwrap_or("unknown"))).await;
                        }
                        _ => {}
                    }
                }
                let turn = sent.elapsed();
                {
                    let mut s = stats.lock().await;
                    let us = |d: Duration| d.as_micros() as u64;
                    if let (Some(h), Some(a)) = (s.ack.as_mut(), ack) {
                        let _ = h.record(us(a));
                    }
                    if let (Some(h), Some(t)) = (s.ttft.as_mut(), ttft) {
                        let _ = h.record(us(t));
                    }
                    if let Some(h) = s.gap.as_mut() {
                        for g in &gaps {
                            let _ = h.record(us(*g).max(1));
                        }
                    }
                    if let Some(h) = s.turn.as_mut() {
                        let _ = h.record(us(turn));
                    }
                    s.chars += chars;
                    s.delta_frames += frames;
                    s.turns += 1;
                }
                live.progress.fetch_add(1, Ordering::Relaxed);
                if m + 1 < messages && !think.is_zero() {
                    let factor = 1.0 - jitter + 2.0 * jitter * rng.unit();
                    tokio::time::sleep(think.mul_f64(factor)).await;
                }
            }
            let _ = ws.close(None).await;
        }
    });
    let sampling = {
        let sampler = sampler.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                sampler.lock().await.sample();
            }
        })
    };
    futures_util::future::join_all(tasks).await;
    sampling.abort();
    reporter.abort();
    let elapsed = started.elapsed().as_secs_f64();
    let s = stats.lock().await;
    let sampler = std::mem::replace(&mut *sampler.lock().await, ProcSampler::new(None));
    let mut report = Report {
        scenario: "chat".into(),
        duration_secs: elapsed,
        errors: live.errors.lock().await.clone(),
        server: sampler.finish(),
        ..Default::default()
    };
    for (name, h) in [
        ("ack", &s.ack),
        ("time to first token", &s.ttft),
        ("gap between deltas", &s.gap),
        ("whole turn", &s.turn),
    ] {
        if let Some(h) = h {
            report.latencies.insert(name.into(), summarize(h));
        }
    }
    if let (Some(model), Some(ttft)) = (opts.model_ttft, s.ttft.as_ref()) {
        // Engine-added TTFT: every recorded value minus the model's own delay.
        let mut added = histogram();
        let model_us = model.as_micros() as u64;
        for v in ttft.iter_recorded() {
            let _ = added.record_n(
                v.value_iterated_to().saturating_sub(model_us).max(1),
                v.count_at_value(),
            );
        }
        report
            .latencies
            .insert("engine-added ttft".into(), summarize(&added));
    }
    report.counters.insert("turns".into(), s.turns);
    report
        .counters
        .insert("characters delivered".into(), s.chars);
    report
        .counters
        .insert("delta frames".into(), s.delta_frames);
    report
        .rates
        .insert("turns".into(), s.turns as f64 / elapsed);
    report
        .rates
        .insert("delta frames".into(), s.delta_frames as f64 / elapsed);
    Ok(report)
}

/// Options of the `http` scenario.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Requests per second offered.
    pub rate: u32,
    /// For how long.
    pub duration: Duration,
    /// No live progress lines.
    pub quiet: bool,
}

/// A fixed rate of conversation creations; reports latency and the rate achieved.
pub async fn run_http(target: &Target, opts: &HttpOptions) -> anyhow::Result<Report> {
    let pk = publishable_key(target).await?;
    let http = clients(target.sources)?;
    let live = Arc::new(Live::default());
    let hist = Arc::new(Mutex::new(histogram()));
    let started = Instant::now();
    let mut sampler = ProcSampler::new(target.server_pid);
    let reporter = tokio::spawn(progress_reporter(
        live.clone(),
        "created",
        started,
        opts.quiet,
    ));
    let total = (f64::from(opts.rate) * opts.duration.as_secs_f64()) as usize;
    let per_tick = (opts.rate as usize / 100).max(1);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(
        per_tick as f64 / f64::from(opts.rate.max(1)),
    ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut inflight = Vec::with_capacity(total);
    let mut sent = 0;
    while sent < total {
        tick.tick().await;
        for _ in 0..per_tick.min(total - sent) {
            let client = http[sent % http.len()].clone();
            let (base, pk, hist, live) = (
                target.base_url.clone(),
                pk.clone(),
                hist.clone(),
                live.clone(),
            );
            inflight.push(tokio::spawn(async move {
                let t0 = Instant::now();
                match create_conversation(&client, &base, &pk).await {
                    Ok(_) => {
                        let _ = hist.lock().await.record(t0.elapsed().as_micros() as u64);
                        live.progress.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => live.error(e).await,
                }
            }));
            sent += 1;
        }
    }
    for t in inflight {
        let _ = t.await;
    }
    sampler.sample();
    reporter.abort();
    let elapsed = started.elapsed().as_secs_f64();
    let done = live.progress.load(Ordering::Relaxed);
    let mut report = Report {
        scenario: "http".into(),
        duration_secs: elapsed,
        errors: live.errors.lock().await.clone(),
        server: sampler.finish(),
        ..Default::default()
    };
    report
        .latencies
        .insert("create conversation".into(), summarize(&*hist.lock().await));
    report.counters.insert("created".into(), done);
    report.rates.insert("created".into(), done as f64 / elapsed);
    Ok(report)
}

/// Options of the `search` scenario.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// The merchant's secret key (search is a merchant API).
    pub secret_key: String,
    /// Queries, used in turn.
    pub queries: Vec<String>,
    /// `hybrid`, `vector` or `text`.
    pub mode: String,
    /// Searches in flight at once (each client waits for its answer before the next).
    pub concurrency: usize,
    /// Searches in all.
    pub requests: usize,
    /// No live progress lines.
    pub quiet: bool,
}

/// Closed-loop catalog searches (`POST /v1/products/search`); reports latency (the query's
/// embedding included) and throughput.
pub async fn run_search(target: &Target, opts: &SearchOptions) -> anyhow::Result<Report> {
    if opts.queries.is_empty() {
        bail!("no queries");
    }
    let http = clients(target.sources)?;
    let live = Arc::new(Live::default());
    let hist = Arc::new(Mutex::new(histogram()));
    let started = Instant::now();
    let mut sampler = ProcSampler::new(target.server_pid);
    let reporter = tokio::spawn(progress_reporter(
        live.clone(),
        "searches",
        started,
        opts.quiet,
    ));
    let next = Arc::new(AtomicU64::new(0));
    let queries = Arc::new(opts.queries.clone());
    let mut workers = Vec::new();
    for w in 0..opts.concurrency.max(1) {
        let (client, base, key, mode) = (
            http[w % http.len()].clone(),
            target.base_url.clone(),
            opts.secret_key.clone(),
            opts.mode.clone(),
        );
        let (next, queries, hist, live, total) = (
            next.clone(),
            queries.clone(),
            hist.clone(),
            live.clone(),
            opts.requests as u64,
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let query = &queries[i as usize % queries.len()];
                let t0 = Instant::now();
                let res = client
                    .post(format!("{base}/v1/products/search"))
                    .bearer_auth(&key)
                    .json(&json!({"query": query, "mode": mode, "limit": 10}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        let _ = hist.lock().await.record(t0.elapsed().as_micros() as u64);
                        live.progress.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => live.error(format!("search: HTTP {}", r.status())).await,
                    Err(e) => live.error(format!("search: {e}")).await,
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    sampler.sample();
    reporter.abort();
    let elapsed = started.elapsed().as_secs_f64();
    let done = live.progress.load(Ordering::Relaxed);
    let mut report = Report {
        scenario: "search".into(),
        duration_secs: elapsed,
        errors: live.errors.lock().await.clone(),
        server: sampler.finish(),
        ..Default::default()
    };
    report.latencies.insert(
        format!("search ({})", opts.mode),
        summarize(&*hist.lock().await),
    );
    report.counters.insert("searches".into(), done);
    report
        .rates
        .insert("searches".into(), done as f64 / elapsed);
    Ok(report)
}
