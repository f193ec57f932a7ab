//! The `http` scenario: conversation creations offered at a fixed rate, reporting their latency
//! and the rate achieved.

use super::{Live, progress_reporter};
use crate::client::{Target, clients, create_conversation, publishable_key};
use crate::report::{Report, histogram, summarize};
use crate::sampler::ProcSampler;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

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
