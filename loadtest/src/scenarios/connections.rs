//! The `connections` scenario: ramp to N live conversations (HTTP create, then a WebSocket),
//! hold them while answering pings, and report connect latency and drops.

use super::{Live, progress_reporter};
use crate::client::{Target, clients, create_conversation, open_ws, publishable_key, source};
use crate::report::{Report, histogram, summarize};
use crate::sampler::ProcSampler;
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

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
