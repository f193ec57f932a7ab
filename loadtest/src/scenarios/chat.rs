//! The `chat` scenario: N conversations each sending messages with jittered think time,
//! measuring ack latency, time to first token, gaps between deltas, whole turns, and the
//! characters and frames delivered.

use super::{Live, progress_reporter};
use crate::client::{
    Target, clients, create_conversation, next_event, open_ws, publishable_key, source,
};
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
