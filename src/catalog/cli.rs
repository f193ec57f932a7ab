//! `agentpay import` and `agentpay eval`: catalog commands run against the database directly.

use super::eval::{self, EvalReport};
use super::import::{self, Format, ImportReport, Importer, Policy};
use super::indexer;
use super::search::PgCatalogSearch;
use crate::cli::{EvalCommand, ImportArgs};
use crate::config::LoadedConfig;
use crate::store;
use agentpay_actors::MerchantId;
use agentpay_actors::ports::SearchMode;
use anyhow::{Context, bail};
use sqlx::PgPool;
use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, Instant};

/// A progress line on stderr: redrawn in place on a terminal, a line every few seconds otherwise.
struct Progress {
    total_bytes: u64,
    started: Instant,
    last: Instant,
    tty: bool,
}

impl Progress {
    fn new(total_bytes: u64) -> Self {
        let now = Instant::now();
        Self {
            total_bytes,
            started: now,
            last: now,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, report: &ImportReport, done: bool) {
        let every = if self.tty {
            Duration::from_millis(150)
        } else {
            Duration::from_secs(5)
        };
        if !done && self.last.elapsed() < every {
            return;
        }
        self.last = Instant::now();
        let fraction = if self.total_bytes == 0 {
            1.0
        } else {
            (report.bytes as f64 / self.total_bytes as f64).min(1.0)
        };
        let width = 30;
        let filled = (fraction * width as f64).round() as usize;
        let rate = report.rows as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        let line = format!(
            "[{}{}] {:>3.0}%  {} rows  {:.0} rows/s  {} rejected",
            "#".repeat(filled),
            "-".repeat(width - filled),
            fraction * 100.0,
            report.rows,
            rate,
            report.rejected
        );
        let mut err = std::io::stderr();
        if self.tty {
            let _ = write!(err, "\r{line}");
            if done {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{line}");
        }
    }
}

/// `agentpay import`.
pub async fn import(pool: &PgPool, config: &LoadedConfig, args: &ImportArgs) -> anyhow::Result<()> {
    let merchant = store::merchants::get(pool, args.merchant)
        .await
        .map_err(|_| anyhow::anyhow!("no merchant with id {}", args.merchant))?;
    let format = match &args.format {
        Some(f) => Format::parse(f).context("--format must be csv, json or polar")?,
        None => match args
            .file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("json" | "jsonl" | "ndjson") => Format::Json,
            _ => bail!("cannot tell the format from the file name: say --format csv|json|polar"),
        },
    };
    let policy = Policy::parse(&args.policy).context("--policy must be atomic or partial")?;
    let mut file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    // The file is read in 256 KiB chunks as the import goes: it is never in memory whole.
    let mut buf = vec![0u8; 256 * 1024];
    let chunks =
        futures_util::stream::iter(std::iter::from_fn(move || match file.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => Some(Ok(bytes::Bytes::copy_from_slice(&buf[..n]))),
            Err(e) => Some(Err(e)),
        }));
    let importer = Importer::start(
        pool.clone(),
        merchant.id,
        format,
        policy,
        config.settings.catalog.import_batch_rows,
    )
    .await?;
    let started = Instant::now();
    let mut progress = Progress::new(size);
    let report = import::run(importer, merchant.currency, chunks, u64::MAX, |r| {
        progress.show(r, false)
    })
    .await?;
    progress.show(&report, true);
    let elapsed = started.elapsed().as_secs_f64();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, elapsed);
    }
    if args.embed && report.committed {
        embed_pending(pool, config).await?;
    }
    if !report.committed || report.aborted.is_some() {
        std::process::exit(2);
    }
    Ok(())
}

fn print_report(r: &ImportReport, seconds: f64) {
    println!(
        "{} rows in {seconds:.1} s ({:.0} rows/s)",
        r.rows,
        r.rows as f64 / seconds.max(0.001)
    );
    println!("  created:   {}", r.created);
    println!("  updated:   {}", r.updated);
    println!("  unchanged: {}", r.unchanged);
    println!("  rejected:  {}", r.rejected);
    for e in &r.errors {
        let line = e.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        let id = e
            .external_id
            .as_deref()
            .map(|i| format!(" [{i}]"))
            .unwrap_or_default();
        println!("    row {}{line}{id}: {}: {}", e.row, e.field, e.message);
    }
    if r.errors_truncated {
        println!("    … more rejected rows than listed");
    }
    if let Some(reason) = &r.aborted {
        println!("stopped: {reason}");
    }
    match (r.committed, r.policy) {
        (true, _) => println!("committed"),
        (false, Policy::Atomic) => println!("nothing written (atomic policy: fix the rows above)"),
        (false, Policy::Partial) => println!("not committed"),
    }
}

fn search_for(pool: &PgPool, config: &LoadedConfig) -> anyhow::Result<PgCatalogSearch> {
    let embedder = crate::embed::build(&config.settings, &config.secrets, None)?;
    Ok(PgCatalogSearch::new(
        pool.clone(),
        embedder,
        &config.settings.catalog,
        None,
    ))
}

/// Embeds every pending product with the configured model, with a progress line.
async fn embed_pending(pool: &PgPool, config: &LoadedConfig) -> anyhow::Result<()> {
    if config.settings.embeddings.provider == crate::config::EmbeddingProvider::E5 {
        crate::embed::check_e5(&config.settings).await?;
    }
    let Some(embedder) = crate::embed::build(&config.settings, &config.secrets, None)? else {
        return Ok(());
    };
    store::products::ensure_vector_index(pool, embedder.key(), embedder.dimensions()).await?;
    let pending = store::products::pending_total(pool, embedder.key()).await?;
    if pending == 0 {
        return Ok(());
    }
    eprintln!("embedding {pending} products with {}", embedder.key());
    let started = Instant::now();
    let n = indexer::index_all(
        pool,
        embedder.as_ref(),
        config.settings.embeddings.batch_size,
        |n| {
            if n % 1024 < config.settings.embeddings.batch_size {
                eprintln!(
                    "  {n}/{pending}  {:.0} products/s",
                    n as f64 / started.elapsed().as_secs_f64().max(0.001)
                );
            }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!(e))?;
    let s = started.elapsed().as_secs_f64();
    println!(
        "embedded {n} products in {s:.1} s ({:.1} products/s)",
        n as f64 / s.max(0.001)
    );
    Ok(())
}

fn read_queries(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

async fn check_merchant(pool: &PgPool, merchant: MerchantId) -> anyhow::Result<()> {
    store::merchants::get(pool, merchant)
        .await
        .map(|_| ())
        .map_err(|_| anyhow::anyhow!("no merchant with id {merchant}"))
}

/// nDCG@10 per group of queries (kind, language, split), one column per mode.
fn print_groups(reports: &[EvalReport]) {
    let Some(first) = reports.first() else {
        return;
    };
    if first.groups.is_empty() {
        return;
    }
    print!("\nnDCG@10 by group      {:>7}", "queries");
    for r in reports {
        print!(" {:>8}", r.mode);
    }
    println!();
    for g in &first.groups {
        print!("{:<21} {:>7}", g.group, g.queries);
        for r in reports {
            match r.group(&g.group) {
                Some(s) => print!(" {:>8.3}", s.ndcg_at_10),
                None => print!(" {:>8}", "-"),
            }
        }
        println!();
    }
}

/// `agentpay eval …`.
pub async fn eval(pool: &PgPool, config: &LoadedConfig, cmd: &EvalCommand) -> anyhow::Result<()> {
    match cmd {
        EvalCommand::Search {
            merchant,
            mode,
            json,
            queries,
        } => {
            check_merchant(pool, *merchant).await?;
            let queries = eval::parse_queries(&read_queries(queries)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", "the queries file"))?;
            let modes = match mode.as_str() {
                "all" => vec![SearchMode::Vector, SearchMode::Text, SearchMode::Hybrid],
                "hybrid" => vec![SearchMode::Hybrid],
                "vector" => vec![SearchMode::Vector],
                "text" => vec![SearchMode::Text],
                _ => bail!("--mode must be hybrid, vector, text or all"),
            };
            embed_pending(pool, config).await?;
            let search = search_for(pool, config)?;
            let mut reports: Vec<EvalReport> = Vec::new();
            for m in modes {
                reports.push(eval::evaluate(&search, *merchant, &queries, m).await?);
            }
            if *json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            } else {
                println!("{} queries, k = {}", queries.len(), eval::K);
                println!(
                    "{:<8} {:>8} {:>10} {:>7}",
                    "mode", "nDCG@10", "recall@10", "MRR"
                );
                for r in &reports {
                    println!(
                        "{:<8} {:>8.3} {:>10.3} {:>7.3}",
                        r.mode, r.ndcg_at_10, r.recall_at_10, r.mrr
                    );
                }
                print_groups(&reports);
            }
            Ok(())
        }
        EvalCommand::Intents { .. } => {
            bail!("intents are evaluated without a database (`agentpay eval intents`)")
        }
        EvalCommand::Recall {
            merchant,
            k,
            queries,
        } => {
            check_merchant(pool, *merchant).await?;
            let text = read_queries(queries)?;
            let queries: Vec<String> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l)
                        .ok()
                        .and_then(|v| v["query"].as_str().map(str::to_string))
                        .unwrap_or_else(|| l.trim().to_string())
                })
                .collect();
            embed_pending(pool, config).await?;
            let search = search_for(pool, config)?;
            let (mut found, mut wanted) = (0usize, 0usize);
            let (mut approx_time, mut exact_time) = (Duration::ZERO, Duration::ZERO);
            for q in &queries {
                let t = Instant::now();
                let approx = search.nearest(*merchant, q, *k, false).await?;
                approx_time += t.elapsed();
                let t = Instant::now();
                let exact = search.nearest(*merchant, q, *k, true).await?;
                exact_time += t.elapsed();
                wanted += exact.len();
                found += exact.iter().filter(|id| approx.contains(id)).count();
            }
            let n = queries.len().max(1) as f64;
            println!(
                "{} queries, k = {k}, hnsw.ef_search = {}",
                queries.len(),
                config.settings.catalog.hnsw_ef_search
            );
            println!(
                "recall@{k} of the HNSW stage against exact search: {:.4}",
                found as f64 / wanted.max(1) as f64
            );
            println!(
                "mean time per query (embedding included): HNSW {:.1} ms, exact {:.1} ms",
                approx_time.as_secs_f64() * 1000.0 / n,
                exact_time.as_secs_f64() * 1000.0 / n
            );
            Ok(())
        }
    }
}
