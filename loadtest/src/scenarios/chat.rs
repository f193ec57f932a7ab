//! The `chat` scenario: N conversations each sending messages with jittered think time,
//! measuring ack latency, time to first token, gaps between deltas, whole turns, and the
//! characters and frames delivered.

use super::{Live, progress_reporter};
use crate::client::{Target, clients, create_conversation, merchant, next_event, open_ws, source};
use crate::report::{Report, histogram, summarize};
use crate::sampler::ProcSampler;
use futures_util::SinkExt;
use hdrhistogram::Histogram;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

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

/// Options of the `chat` scenario (the defaults are the command line's).
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
    /// Scripted sessions to play instead of a fixed message.
    pub script: Option<Arc<Vec<Session>>>,
    /// Print every scripted turn to stderr.
    pub transcript: bool,
    /// Products to import into the merchant the run creates.
    pub catalog: Option<std::path::PathBuf>,
    /// The agent configuration (a JSON file) of the merchant the run creates.
    pub agent_config: Option<std::path::PathBuf>,
}

impl Default for ChatOptions {
    fn default() -> Self {
        Self {
            conversations: 100,
            messages: 3,
            think: Duration::from_millis(500),
            think_jitter: 0.5,
            ramp_per_sec: 500,
            model_ttft: None,
            quiet: false,
            script: None,
            transcript: false,
            catalog: None,
            agent_config: None,
        }
    }
}

/// One scripted shopping session (data/scripts/sessions.json).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Session {
    /// Its name.
    pub name: String,
    /// Its turns, in order.
    pub turns: Vec<ScriptTurn>,
}

/// One scripted turn: what the visitor says and what a correct assistant shows after it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ScriptTurn {
    /// The message.
    pub say: String,
    /// `intent`, `products`, `max_price_minor`, `cart_lines`, `cart_units` (each optional).
    #[serde(default)]
    pub expect: serde_json::Value,
}

/// Reads a sessions file.
pub fn read_script(path: &std::path::Path) -> anyhow::Result<Arc<Vec<Session>>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let sessions: Vec<Session> =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if sessions.is_empty() || sessions.iter().any(|s| s.turns.is_empty()) {
        anyhow::bail!("{}: every session needs turns", path.display());
    }
    Ok(Arc::new(sessions))
}

/// What the scripted turns showed.
#[derive(Default)]
struct ScriptStats {
    rules: u64,
    model: u64,
    /// Turns whose reply reports model usage (a model was consulted, whoever decided).
    called: u64,
    intent_right: u64,
    intent_checked: u64,
    checks: u64,
    failed: u64,
    /// The turns that missed an expectation or their intent, described.
    misses: Vec<String>,
}

/// Checks one scripted turn's expectations against what it showed: how many were checked, and
/// the ones missed, each with what was shown.
fn check_turn(
    expect: &serde_json::Value,
    products: Option<&serde_json::Value>,
    cart: Option<&serde_json::Value>,
) -> (u64, Vec<String>) {
    let (mut checks, mut missed) = (0, Vec::new());
    let mut check = |ok: bool, what: String| {
        checks += 1;
        if !ok {
            missed.push(what);
        }
    };
    let items = products.and_then(|p| p["items"].as_array());
    let shown = items.map_or(0, Vec::len);
    if expect["products"] == true {
        check(shown > 0, "no products shown".into());
    }
    if let Some(max) = expect["max_price_minor"].as_i64() {
        let prices: Vec<i64> = items
            .into_iter()
            .flatten()
            .filter_map(|p| p["price"]["amount_minor"].as_i64())
            .collect();
        check(
            items.is_some() && prices.iter().all(|a| *a <= max),
            format!("prices {prices:?} for a bound of {max}"),
        );
    }
    let lines = cart.and_then(|c| c["items"].as_array());
    if let Some(n) = expect["cart_lines"].as_u64() {
        let got = lines.map_or(0, |l| l.len() as u64);
        check(got == n, format!("{got} cart lines, {n} wanted"));
    }
    if let Some(n) = expect["cart_units"].as_u64() {
        let units: u64 = lines
            .map(|l| l.iter().filter_map(|x| x["quantity"].as_u64()).sum())
            .unwrap_or(0);
        check(units == n, format!("{units} cart units, {n} wanted"));
    }
    (checks, missed)
}

#[derive(Default)]
struct ChatStats {
    ack: Option<Histogram<u64>>,
    ttft: Option<Histogram<u64>>,
    gap: Option<Histogram<u64>>,
    turn: Option<Histogram<u64>>,
    chars: u64,
    delta_frames: u64,
    /// Words of the finished replies: the simulated model's and the relay's tokens are one
    /// word each.
    tokens: u64,
    turns: u64,
}

/// N conversations chatting: ack latency, time to first token, delta gaps, turn time.
pub async fn run_chat(target: &Target, opts: &ChatOptions) -> anyhow::Result<Report> {
    let (pk, secret_key) = merchant(
        target,
        opts.catalog.as_deref(),
        opts.agent_config.as_deref(),
    )
    .await?;
    let script_stats = Arc::new(Mutex::new(ScriptStats::default()));
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
    // The harness's own CPU, to tell its share of the machine from the server's.
    let own_cpu = || crate::sampler::read_proc(std::process::id()).map_or(0.0, |(_, cpu)| cpu);
    let own_cpu_start = own_cpu();
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
        let (think, from) = (opts.think, source(n, target.sources));
        let session = opts.script.as_ref().map(|s| s[n % s.len()].clone());
        let messages = session.as_ref().map_or(opts.messages, |s| s.turns.len());
        let script_stats = script_stats.clone();
        let transcript = opts.transcript;
        let mut cart: Option<serde_json::Value> = None;
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
                let text = session
                    .as_ref()
                    .map_or("Do you have waterproof hiking boots?", |s| s.turns[m].say.as_str());
                let frame = json!({"type": "user_message", "client_id": format!("lt-{n}-{m}"), "text": text});
                let mut products: Option<serde_json::Value> = None;
                if ws.send(Message::text(frame.to_string())).await.is_err() {
                    return live.error("ws_send").await;
                }
                let mut last_delta: Option<Instant> = None;
                let (mut ack, mut ttft, mut gaps) = (None, None, Vec::new());
                let (mut chars, mut frames) = (0u64, 0u64);
                let tokens: u64;
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
                        "products" => products = Some(ev),
                        "cart" => cart = Some(ev),
                        "assistant_end" => {
                            tokens = ev["text"].as_str().map_or(0, |t| t.split_whitespace().count() as u64);
                            if ev["interrupted"] == true {
                                live.error("interrupted").await;
                            }
                            if let Some(s) = &session {
                                let expect = &s.turns[m].expect;
                                let (checks, mut missed) =
                                    check_turn(expect, products.as_ref(), cart.as_ref());
                                if transcript {
                                    let titles: Vec<&str> = products
                                        .as_ref()
                                        .and_then(|p| p["items"].as_array())
                                        .into_iter()
                                        .flatten()
                                        .filter_map(|i| i["title"].as_str())
                                        .collect();
                                    eprintln!(
                                        "[{} #{}] > {}\n  intent {} | shown {titles:?}\n  {}",
                                        s.name,
                                        m + 1,
                                        s.turns[m].say,
                                        ev["intent"],
                                        ev["text"].as_str().unwrap_or_default().replace('\n', "\n  ")
                                    );
                                }
                                let failed = missed.len() as u64;
                                let mut st = script_stats.lock().await;
                                match ev["handled_by"].as_str() {
                                    Some("model") => st.model += 1,
                                    _ => st.rules += 1,
                                }
                                st.called += u64::from(!ev["usage"].is_null());
                                if let Some(want) = expect["intent"].as_str() {
                                    st.intent_checked += 1;
                                    st.intent_right += u64::from(ev["intent"] == want);
                                    if ev["intent"] != want {
                                        missed.insert(0, format!("intent {}, {want} wanted", ev["intent"]));
                                    }
                                }
                                st.checks += checks;
                                st.failed += failed;
                                if !missed.is_empty() {
                                    let reply: String = ev["text"].as_str().unwrap_or_default().chars().take(160).collect();
                                    st.misses.push(format!(
                                        "{} #{}: {:?}\n    {}\n    reply: {}",
                                        s.name,
                                        m + 1,
                                        s.turns[m].say,
                                        missed.join("; "),
                                        reply.replace('\n', " / ")
                                    ));
                                }
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
                    s.tokens += tokens;
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
    let mut counters = vec![
        ("turns", s.turns),
        ("characters delivered", s.chars),
        ("delta frames", s.delta_frames),
        ("tokens delivered", s.tokens),
    ];
    if opts.script.is_some() {
        let st = script_stats.lock().await;
        counters.extend([
            ("turns handled by rules", st.rules),
            ("turns handled by a model", st.model),
            ("turns that called a model", st.called),
            ("intents as scripted", st.intent_right),
            ("intents checked", st.intent_checked),
            ("expectations met", st.checks - st.failed),
            ("expectations checked", st.checks),
        ]);
        if !st.misses.is_empty() {
            eprintln!("scripted turns that missed an expectation or their intent:");
            for miss in &st.misses {
                eprintln!("  {miss}");
            }
        }
    }
    for (name, value) in counters {
        report.counters.insert(name.into(), value);
    }
    if let Some(sk) = &secret_key {
        report.cost_per_1000_conversations_usd =
            crate::client::cost_per_1000(target, sk, opts.conversations).await?;
    }
    report
        .rates
        .insert("turns".into(), s.turns as f64 / elapsed);
    report
        .rates
        .insert("delta frames".into(), s.delta_frames as f64 / elapsed);
    report
        .rates
        .insert("tokens delivered".into(), s.tokens as f64 / elapsed);
    if let Some(server) = &report.server
        && s.tokens > 0
    {
        report.ratios.insert(
            "server CPU µs per delivered token".into(),
            server.cpu_seconds * 1e6 / s.tokens as f64,
        );
    }
    report
        .ratios
        .insert("harness CPU seconds".into(), own_cpu() - own_cpu_start);
    if s.tokens > 0 {
        report.ratios.insert(
            "delta frames per token".into(),
            s.delta_frames as f64 / s.tokens as f64,
        );
    }
    Ok(report)
}
