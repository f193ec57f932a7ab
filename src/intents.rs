//! `agentpay eval intents`: how well the local understanding labels visitor messages, on JSON
//! Lines of `{"text": …, "intent": …}` (other fields ignored, except `lang` for the
//! per-language table). Accuracy, per-label precision, recall and F1, per-language accuracy, the
//! confusion matrix, and the time to understand one message. Offline by default; with
//! `--with-model`, messages the understanding is unsure of go to the configured `fast` model,
//! as in a conversation.

use agentpay_actors::agent::{HandledBy, decide};
use agentpay_actors::ports::{FreeMetering, ModelClient};
use agentpay_actors::understanding::{Intent, Labelled, Understander, parse_labelled};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// One label's scores.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelScore {
    /// Of the messages given this label, the share that had it.
    pub precision: f64,
    /// Of the messages with this label, the share given it.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
    /// Messages with this label.
    pub support: usize,
}

/// One language's accuracy.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LanguageScore {
    /// Share labelled right.
    pub accuracy: f64,
    /// Messages.
    pub count: usize,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct IntentReport {
    /// Messages evaluated.
    pub count: usize,
    /// Share labelled right.
    pub accuracy: f64,
    /// Per label (every label of the set or of the answers).
    pub per_label: BTreeMap<String, LabelScore>,
    /// Per language (`lang` field; `unknown` when absent).
    pub per_language: BTreeMap<String, LanguageScore>,
    /// `confusion[expected][predicted]` = messages.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Share of messages the `fast` model decided (0 offline).
    pub model_share: f64,
    /// Microseconds to understand one message locally: median and 99th percentile.
    pub latency_us: Latency,
}

/// Time per message.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Evaluates `set` (lines with a label that is not one of the 18 are an error).
pub async fn evaluate(
    understander: &Understander,
    set: &[Labelled],
    classifier: Option<&dyn ModelClient>,
    threshold: f32,
) -> anyhow::Result<IntentReport> {
    for (i, l) in set.iter().enumerate() {
        if Intent::parse(&l.intent).is_none() {
            anyhow::bail!("message {}: unknown intent {:?}", i + 1, l.intent);
        }
    }
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut langs: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut times = Vec::with_capacity(set.len());
    let (mut right, mut by_model) = (0, 0);
    for l in set {
        let started = Instant::now();
        let u = understander.understand(&l.text);
        times.push(started.elapsed().as_secs_f64() * 1e6);
        let d = decide(&u, classifier, threshold, &FreeMetering, &l.text).await;
        if d.handled_by == HandledBy::Model {
            by_model += 1;
        }
        let got = d.intent.as_str();
        let ok = got == l.intent;
        right += usize::from(ok);
        *confusion
            .entry(l.intent.clone())
            .or_default()
            .entry(got.to_string())
            .or_default() += 1;
        let lang = langs
            .entry(l.lang.clone().unwrap_or_else(|| "unknown".into()))
            .or_default();
        lang.0 += usize::from(ok);
        lang.1 += 1;
    }
    let n = set.len().max(1) as f64;
    let mut labels: Vec<String> = confusion.keys().cloned().collect();
    for row in confusion.values() {
        labels.extend(row.keys().cloned());
    }
    labels.sort();
    labels.dedup();
    let per_label = labels
        .into_iter()
        .map(|label| {
            let tp = confusion
                .get(&label)
                .and_then(|r| r.get(&label))
                .copied()
                .unwrap_or(0) as f64;
            let support: usize = confusion.get(&label).map_or(0, |r| r.values().sum());
            let predicted: usize = confusion
                .values()
                .map(|r| r.get(&label).copied().unwrap_or(0))
                .sum();
            let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
            let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            (
                label,
                LabelScore {
                    precision,
                    recall,
                    f1,
                    support,
                },
            )
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(IntentReport {
        count: set.len(),
        accuracy: right as f64 / n,
        per_label,
        per_language: langs
            .into_iter()
            .map(|(l, (ok, count))| {
                (
                    l,
                    LanguageScore {
                        accuracy: ok as f64 / count.max(1) as f64,
                        count,
                    },
                )
            })
            .collect(),
        confusion,
        model_share: by_model as f64 / n,
        latency_us: Latency {
            p50: pct(0.5),
            p99: pct(0.99),
        },
    })
}

/// Reads and concatenates labelled files.
pub fn read_sets(files: &[std::path::PathBuf]) -> anyhow::Result<Vec<Labelled>> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
        out.extend(parse_labelled(&text).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?);
    }
    if out.is_empty() {
        anyhow::bail!("no labelled messages in the given files");
    }
    Ok(out)
}

/// The report as the table the command prints.
pub fn table(r: &IntentReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "{} messages, accuracy {:.3}", r.count, r.accuracy);
    if r.model_share > 0.0 {
        let _ = writeln!(
            s,
            "decided by the fast model: {:.1}%",
            r.model_share * 100.0
        );
    }
    let _ = writeln!(
        s,
        "understanding time per message: p50 {:.1} µs, p99 {:.1} µs\n",
        r.latency_us.p50, r.latency_us.p99
    );
    let _ = writeln!(
        s,
        "{:<20} {:>9} {:>7} {:>6} {:>8}",
        "label", "precision", "recall", "f1", "support"
    );
    for (label, l) in &r.per_label {
        let _ = writeln!(
            s,
            "{label:<20} {:>9.3} {:>7.3} {:>6.3} {:>8}",
            l.precision, l.recall, l.f1, l.support
        );
    }
    let _ = writeln!(s, "\n{:<10} {:>8} {:>6}", "language", "accuracy", "count");
    for (lang, l) in &r.per_language {
        let _ = writeln!(s, "{lang:<10} {:>8.3} {:>6}", l.accuracy, l.count);
    }
    let labels: Vec<&str> = Intent::ALL.iter().map(|i| i.as_str()).collect();
    let short = |l: &str| l.chars().take(6).collect::<String>();
    let _ = write!(
        s,
        "\nconfusion (rows: expected, columns: predicted)\n{:<20}",
        ""
    );
    for l in &labels {
        let _ = write!(s, " {:>6}", short(l));
    }
    let _ = writeln!(s);
    for want in &labels {
        let Some(row) = r.confusion.get(*want) else {
            continue;
        };
        let _ = write!(s, "{want:<20}");
        for got in &labels {
            let _ = write!(s, " {:>6}", row.get(*got).copied().unwrap_or(0));
        }
        let _ = writeln!(s);
    }
    s
}
