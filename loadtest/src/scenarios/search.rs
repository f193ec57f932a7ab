//! The `search` scenario: closed-loop catalog searches (`POST /v1/products/search`) from a fixed
//! number of workers, reporting latency and throughput.

use super::{Live, progress_reporter};
use crate::client::{Target, clients};
use crate::report::{Report, histogram, summarize};
use crate::sampler::ProcSampler;
use anyhow::bail;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::Mutex;

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
