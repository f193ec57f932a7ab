//! What a scenario reports: the [`Report`] (errors, latencies, counters, rates, server usage)
//! and its table; latencies are recorded in HDR histograms (microseconds) and summarized as
//! [`Latency`] percentiles in milliseconds.

use crate::sampler::ServerUsage;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

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

pub(crate) fn histogram() -> Histogram<u64> {
    // Microseconds from 1 µs to 10 minutes, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable_hist()))
}

#[allow(clippy::panic)]
fn unreachable_hist() -> Histogram<u64> {
    // Histogram::new(3) only fails for precision > 5.
    panic!("HDR histogram with 3 significant digits cannot fail to build")
}

pub(crate) fn summarize(h: &Histogram<u64>) -> Latency {
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
    /// Named ratios (CPU per token, frames per token, engine over baseline).
    pub ratios: BTreeMap<String, f64>,
    /// The server's resource use, when its pid was given.
    pub server: Option<ServerUsage>,
    /// Metered model cost in US dollars per 1,000 conversations, by model and in total, when
    /// the run created its merchant (it reads the merchant's usage report at the end).
    pub cost_per_1000_conversations_usd: BTreeMap<String, f64>,
    /// The same scenario against the bare relay in the same invocation (`chat --baseline-relay`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Box<Report>>,
}

impl Report {
    /// Total errors.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum::<u64>() + self.baseline.as_ref().map_or(0, |b| b.error_count())
    }

    /// A human-readable table (the baseline's first, when there is one).
    pub fn table(&self) -> String {
        let mut out = String::new();
        if let Some(b) = &self.baseline {
            out.push_str("== against the bare relay (baseline) ==\n");
            out.push_str(&b.table());
            out.push_str("== against the target ==\n");
        }
        out.push_str(&format!(
            "scenario {} ({:.1} s)\n",
            self.scenario, self.duration_secs
        ));
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
        for (name, v) in &self.ratios {
            out.push_str(&format!("{name:<24} {v:.3}\n"));
        }
        if let Some(s) = &self.server {
            out.push_str(&format!(
                "server RSS {} → {} KiB (peak {}), CPU {:.2} s\n",
                s.rss_start_kib, s.rss_end_kib, s.rss_peak_kib, s.cpu_seconds
            ));
        }
        for (model, usd) in &self.cost_per_1000_conversations_usd {
            out.push_str(&format!(
                "model cost per 1,000 conversations, {model}: ${usd:.4}\n"
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
