//! Process sampling: the server's RSS and CPU time read from `/proc/{pid}` at the start, once a
//! second while a scenario runs, and at the end, summed up as [`ServerUsage`].

use serde::Serialize;

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

/// Samples the server's /proc while a run goes on.
pub(crate) struct ProcSampler {
    pid: Option<u32>,
    start: Option<(u64, f64)>,
    peak: u64,
}

impl ProcSampler {
    pub(crate) fn new(pid: Option<u32>) -> Self {
        let start = pid.and_then(read_proc);
        Self {
            pid,
            peak: start.map(|s| s.0).unwrap_or(0),
            start,
        }
    }
    pub(crate) fn sample(&mut self) {
        if let Some((rss, _)) = self.pid.and_then(read_proc) {
            self.peak = self.peak.max(rss);
        }
    }
    pub(crate) fn finish(mut self) -> Option<ServerUsage> {
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
