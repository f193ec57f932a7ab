//! The chaos run's report: faults injected by kind, what the visitors did, and each check's
//! violations, as a table and as JSON.

use super::check::{CHECKS, Verdict};
use super::visitor::History;
use super::{ChaosOptions, Counters};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// The most violation descriptions kept in the report (the counts are always complete).
const MAX_DETAILS: usize = 100;

/// What a chaos run did and found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChaosReport {
    /// The seed.
    pub seed: u64,
    /// Wall time of the whole run (setup and checks included), seconds.
    pub duration_secs: f64,
    /// Seconds of chatting under faults.
    pub chaos_secs: u64,
    /// Conversations.
    pub conversations: usize,
    /// Faults injected, by kind: the run's (`server_kill`, `postgres_stop`, `postgres_crash`,
    /// `provider_faults` windows, `client_drop` rounds) and the provider's answers
    /// (`provider_429`, `provider_529`, `provider_500`, `provider_stall_before_first_byte`,
    /// `provider_stall_mid_stream`, `provider_cut_mid_stream`), plus `connections_dropped`.
    pub faults: BTreeMap<String, u64>,
    /// Counts of what the visitors did and what was stored.
    pub counts: BTreeMap<String, u64>,
    /// Violations by check ([`CHECKS`]); a passing run has zero everywhere.
    pub checks: BTreeMap<String, u64>,
    /// The first violations, described.
    pub violations: Vec<String>,
    /// Error frames and close codes the visitors saw, by name (expected under faults).
    pub errors_seen: BTreeMap<String, u64>,
    /// Problems outside the checks (a server that exited on its own, a fault that could not
    /// be injected); a passing run has none.
    pub problems: Vec<String>,
    /// The server's log file.
    pub server_log: String,
}

impl ChaosReport {
    /// Whether every check found nothing and the run had no problem.
    pub fn passed(&self) -> bool {
        self.checks.values().all(|&n| n == 0) && self.problems.is_empty()
    }

    /// Violations of one check.
    pub fn violations_of(&self, check: &str) -> u64 {
        self.checks.get(check).copied().unwrap_or(0)
    }

    /// The report as a table for people.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "chaos run: seed {}, {} conversations, {} s of faults, {:.0} s in all",
            self.seed, self.conversations, self.chaos_secs, self.duration_secs
        );
        let _ = writeln!(out, "\nfaults injected");
        for (k, v) in &self.faults {
            let _ = writeln!(out, "  {k:<36} {v:>8}");
        }
        let _ = writeln!(out, "\ncounts");
        for (k, v) in &self.counts {
            let _ = writeln!(out, "  {k:<36} {v:>8}");
        }
        let _ = writeln!(out, "\nchecks (violations)");
        for check in CHECKS {
            let n = self.violations_of(check);
            let verdict = if n == 0 { "ok" } else { "FAILED" };
            let _ = writeln!(out, "  {check:<36} {n:>8}  {verdict}");
        }
        if !self.errors_seen.is_empty() {
            let _ = writeln!(out, "\nerror frames and closes seen by visitors");
            for (k, v) in &self.errors_seen {
                let _ = writeln!(out, "  {k:<36} {v:>8}");
            }
        }
        for p in &self.problems {
            let _ = writeln!(out, "\nproblem: {p}");
        }
        if !self.violations.is_empty() {
            let _ = writeln!(out, "\nviolations (first {}):", self.violations.len());
            for v in &self.violations {
                let _ = writeln!(out, "  {v}");
            }
        }
        let _ = writeln!(
            out,
            "\n{}",
            if self.passed() {
                "PASSED: nothing acknowledged lost, duplicated, reordered or stuck; carts consistent"
            } else {
                "FAILED"
            }
        );
        out
    }
}

/// Builds the report from the histories, the verdicts and the fault counts.
pub(super) fn build(
    options: &ChaosOptions,
    histories: &[History],
    verdicts: &[Verdict],
    run_faults: BTreeMap<String, u64>,
    provider_faults: BTreeMap<&'static str, u64>,
    problems: Vec<String>,
    counters: &Counters,
) -> ChaosReport {
    let mut faults: BTreeMap<String, u64> = super::RUN_FAULTS
        .iter()
        .map(|k| (k.to_string(), run_faults.get(*k).copied().unwrap_or(0)))
        .collect();
    for (k, v) in provider_faults {
        faults.insert(k.to_string(), v);
    }
    faults.insert(
        "connections_dropped".into(),
        counters.client_drops.load(Ordering::Relaxed),
    );

    let mut counts = BTreeMap::new();
    let mut add = |k: &str, v: u64| *counts.entry(k.to_string()).or_insert(0) += v;
    let mut errors_seen = BTreeMap::new();
    for h in histories {
        add(
            "messages sent",
            h.sent.iter().filter(|s| s.sends > 0).count() as u64,
        );
        add(
            "messages sent again (same client_id)",
            h.sent
                .iter()
                .map(|s| u64::from(s.sends.saturating_sub(1)))
                .sum(),
        );
        add("messages acknowledged", h.acks.len() as u64);
        add(
            "replies shown ending",
            h.shown
                .values()
                .filter(|s| matches!(s, super::visitor::Shown::End { .. }))
                .count() as u64,
        );
        add(
            "replies waited for in vain",
            h.sent.iter().filter(|s| s.gave_up).count() as u64,
        );
        add("connections", h.connections);
        add("cart changes sent", h.cart_ops);
        add("cart changes resolved", h.cart_ops_resolved);
        add(
            "acknowledged messages sent again for a lost turn",
            h.resent_lost.len() as u64,
        );
        for (k, v) in &h.errors {
            *errors_seen.entry(k.clone()).or_insert(0) += v;
        }
    }
    let mut checks: BTreeMap<String, u64> = CHECKS.iter().map(|c| (c.to_string(), 0)).collect();
    let mut violations = Vec::new();
    for v in verdicts {
        add("stored visitor messages", v.stored_user);
        add("stored replies", v.stored_replies);
        add("stored replies interrupted", v.interrupted);
        add(
            "unanswered and never acknowledged to the visitor, excused by a crash or outage",
            v.excused,
        );
        for (check, what) in &v.violations {
            *checks.entry(check.to_string()).or_insert(0) += 1;
            if violations.len() < MAX_DETAILS {
                violations.push(format!("{check}: {what}"));
            }
        }
    }
    ChaosReport {
        seed: options.seed,
        duration_secs: 0.0,
        chaos_secs: options.duration.as_secs(),
        conversations: histories.len(),
        faults,
        counts,
        checks,
        violations,
        errors_seen,
        problems,
        server_log: String::new(),
    }
}
