//! The chaos run ([`run_chaos`]): hundreds of conversations chatting through the real server
//! (the model agent on the fake Anthropic provider) while the run breaks things at random,
//! then checks every conversation's stored transcript and cart against what its visitor was
//! acknowledged and shown (Jepsen-style: a history recorded by the clients, checked after the
//! fact). docs/reliability.md.
//!
//! The run owns everything it breaks: a private Postgres cluster (`scripts/pg.sh` on its own
//! folder and port), the server binary as a child process, and the fake provider in-process.
//! Faults, one at a time, at random times (seeded):
//! - `server_kill`: SIGKILL, then the same binary started again on the same port;
//! - `postgres_stop`: a fast shutdown, a pause, a start;
//! - `postgres_crash`: an immediate shutdown (SIGQUIT to the postmaster), a pause, a start
//!   (crash recovery);
//! - `provider_faults`: a window during which the fake answers a share of requests with 429,
//!   529, 500, a stall before the first byte or mid-stream, or a stream cut mid-reply;
//! - `client_drop`: some visitors' connections dropped without a Close frame (they reconnect
//!   with `after`).
//!
//! Map: `processes` (the cluster and the server), `visitor` (the clients and their
//! histories), `check` (the checks against storage), `report` ([`ChaosReport`]).

mod check;
mod processes;
mod report;
mod visitor;

pub use check::CHECKS;
pub use report::ChaosReport;

use crate::client::{Target, clients, create_conversation, merchant, source};
use crate::fake_llm::{FakeLlmOptions, FaultControl, FaultOptions};
use crate::rng::Rng;
use anyhow::Context;
use processes::{PrivatePostgres, Server, ServerSpec, free_port};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;
use visitor::{History, Visitor, VisitorPlan};

/// The chaos merchant's catalog: external id, title, price in cents. No variants, deep stock,
/// so every `cart_add` of a visitor is accepted unless the conversation is busy.
pub(crate) const CATALOG: &[(&str, &str, i64)] = &[
    ("TENT-2P", "Ridge Tent 2P", 24_900),
    ("BAG-3S", "Summit Sleeping Bag", 12_900),
    ("STOVE-1", "Trail Stove", 3_990),
    ("LANTERN-L", "Glow Lantern", 2_450),
    ("PACK-30", "Light Backpack 30L", 8_999),
    ("JACKET-R", "Rain Jacket", 10_249),
];

/// The run's admin token (the server is private to the run).
const ADMIN_TOKEN: &str = "chaos-admin-token";

/// The fault kinds the run injects itself (the provider's kinds are counted by the fake).
pub const RUN_FAULTS: [&str; 5] = [
    "server_kill",
    "postgres_stop",
    "postgres_crash",
    "provider_faults",
    "client_drop",
];

/// A chaos run's settings.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// The server binary (`target/debug/agentpay` or `target/release/agentpay`).
    pub server_bin: PathBuf,
    /// The repository root: `scripts/pg.sh` runs the private cluster.
    pub repo: PathBuf,
    /// A folder for the cluster and the server's log; a new one in the system's temporary
    /// folder when `None`. The cluster is deleted at the end; the log stays.
    pub work_dir: Option<PathBuf>,
    /// Conversations chatting at once.
    pub conversations: usize,
    /// How long they chat while faults are injected.
    pub duration: Duration,
    /// The seed of every random choice (the run's, the visitors', the provider's).
    pub seed: u64,
    /// Mean pause between two faults.
    pub fault_interval: Duration,
    /// Share of provider requests that fail during a provider-fault window.
    pub provider_fault_rate: f64,
    /// How long a provider stall lasts (the server is given 2-second first-byte and idle
    /// timeouts, so a longer stall makes it give up).
    pub provider_stall: Duration,
    /// Mean pause between a visitor's turns.
    pub think: Duration,
    /// How long a visitor waits for a reply with no event before giving up on it.
    pub patience: Duration,
    /// After `duration`: how long outstanding replies and cart changes may take to settle.
    pub settle: Duration,
    /// The fake provider's pace.
    pub tokens_per_sec: u32,
    /// Source addresses for client sockets (127.0.0.1..N).
    pub sources: u8,
    /// No progress lines.
    pub quiet: bool,
}

impl Default for ChaosOptions {
    /// 300 conversations for 5 minutes, a fault every 8 s on average, seed 1.
    fn default() -> Self {
        Self {
            server_bin: PathBuf::from("target/debug/agentpay"),
            repo: PathBuf::from("."),
            work_dir: None,
            conversations: 300,
            duration: Duration::from_secs(300),
            seed: 1,
            fault_interval: Duration::from_secs(8),
            provider_fault_rate: 0.3,
            provider_stall: Duration::from_secs(5),
            think: Duration::from_millis(1500),
            patience: Duration::from_secs(25),
            settle: Duration::from_secs(90),
            tokens_per_sec: 100,
            sources: 2,
            quiet: false,
        }
    }
}

/// Live counts while the run goes.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Distinct messages sent.
    pub(crate) messages: AtomicU64,
    /// Distinct messages acknowledged.
    pub(crate) acked: AtomicU64,
    /// `assistant_end` frames seen.
    pub(crate) replies: AtomicU64,
    /// Reconnects.
    pub(crate) reconnects: AtomicU64,
    /// Cart changes sent.
    pub(crate) cart_ops: AtomicU64,
    /// Connections dropped by the client side.
    pub(crate) client_drops: AtomicU64,
}

/// The faults injected: counts by kind and the intervals during which a reply could fail to
/// start (crashes and outages), since the run's start.
#[derive(Debug, Default)]
struct FaultLog {
    counts: BTreeMap<String, u64>,
    outages: Vec<(Duration, Duration)>,
    /// Problems of the harness or the server outside the faults (an unexpected exit).
    problems: Vec<String>,
}

/// Runs the chaos scenario (see the module docs) and returns its report. Errors only when the
/// run cannot be set up (no Postgres, no server); what the checks find is in the report.
pub async fn run_chaos(options: &ChaosOptions) -> anyhow::Result<ChaosReport> {
    let started = std::time::Instant::now();
    let work = match &options.work_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "agentpay-chaos-{}-{}",
            std::process::id(),
            options.seed
        )),
    };
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let repo = std::fs::canonicalize(&options.repo)
        .with_context(|| format!("no repository at {}", options.repo.display()))?;
    let say = |s: String| {
        if !options.quiet {
            eprintln!("chaos: {s}");
        }
    };

    say(format!("starting a private Postgres ({})", work.display()));
    let pg = PrivatePostgres::start(&repo, work.join("pg")).await?;
    let result = run_with_postgres(options, &work, &pg, &say).await;
    let destroyed = pg.destroy().await;
    let mut report = result?;
    if let Err(e) = destroyed {
        report
            .problems
            .push(format!("the private cluster could not be deleted: {e:#}"));
    }
    report.duration_secs = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn run_with_postgres(
    options: &ChaosOptions,
    work: &std::path::Path,
    pg: &PrivatePostgres,
    say: &impl Fn(String),
) -> anyhow::Result<ChaosReport> {
    let rng = Rng::new(options.seed);

    // The fake provider, in-process, faults off until a window opens.
    let faults = Arc::new(FaultControl::new(FaultOptions {
        rate: 0.0,
        seed: options.seed,
        stall: options.provider_stall,
        retry_after_secs: 1,
    }));
    faults.set_rate(options.provider_fault_rate);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let fake_url = format!("http://{}", listener.local_addr()?);
    let fake_opts = FakeLlmOptions {
        tokens_per_sec: options.tokens_per_sec,
        ttft: Duration::from_millis(50),
        faults: FaultOptions::default(),
    };
    let fake = tokio::spawn(crate::fake_llm::serve_with_faults(
        listener,
        fake_opts,
        Arc::clone(&faults),
    ));

    let port = free_port()?;
    let log = work.join("server.log");
    let server_bin = std::fs::canonicalize(&options.server_bin)
        .with_context(|| format!("no server binary at {}", options.server_bin.display()))?;
    let server = Arc::new(Server::new(ServerSpec {
        binary: server_bin,
        env: server_env(&pg.url, port, &fake_url),
        port,
        log: log.clone(),
    }));
    say(format!(
        "starting the server on port {port} (log: {})",
        log.display()
    ));
    server.start(Duration::from_secs(60)).await?;
    let result = drive(options, rng, pg, &server, &faults).await;
    server.kill();
    fake.abort();
    let mut report = result?;
    report.server_log = log.display().to_string();
    Ok(report)
}

/// The server's environment: the private cluster, the fake Anthropic provider, the model
/// agent, short provider timeouts (so stalls end in seconds), no rate limits, no embeddings.
fn server_env(database_url: &str, port: u16, fake_url: &str) -> Vec<(String, String)> {
    [
        ("AGENTPAY_ENV", "test"),
        ("RUST_LOG", "warn"),
        ("DATABASE_URL", database_url),
        ("AGENTPAY_ADMIN_TOKEN", ADMIN_TOKEN),
        ("AGENTPAY__SERVER__HOST", "127.0.0.1"),
        ("AGENTPAY__SERVER__PORT", &port.to_string()),
        ("AGENTPAY__SERVER__WORKERS", "2"),
        ("AGENTPAY__DATABASE__MAX_CONNECTIONS", "20"),
        ("AGENTPAY__DATABASE__ACQUIRE_TIMEOUT_MS", "3000"),
        ("AGENTPAY__CONVERSATION__FAULT_INJECTION", "false"),
        ("AGENTPAY__CONVERSATION__ASK_TIMEOUT_MS", "10000"),
        ("AGENTPAY__CONVERSATION__TURN_DEADLINE_SECS", "20"),
        ("AGENTPAY__AGENT__MODE", "model"),
        ("AGENTPAY__LLM__PROVIDER", "anthropic"),
        ("AGENTPAY__LLM__ANTHROPIC__BASE_URL", fake_url),
        ("ANTHROPIC_API_KEY", "sk-ant-chaos"),
        ("AGENTPAY__LLM__FIRST_BYTE_TIMEOUT_MS", "2000"),
        ("AGENTPAY__LLM__IDLE_TIMEOUT_MS", "2000"),
        ("AGENTPAY__LLM__RETRY_BASE_MS", "100"),
        ("AGENTPAY__LLM__RETRY_MAX_MS", "1000"),
        ("AGENTPAY__LLM__BREAKER_COOLDOWN_SECS", "3"),
        ("AGENTPAY__EMBEDDINGS__PROVIDER", "none"),
        ("AGENTPAY__RATE_LIMIT__ENABLED", "false"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The catalog as an import file.
fn catalog_json() -> String {
    let products: Vec<serde_json::Value> = CATALOG
        .iter()
        .map(|(id, title, price)| {
            serde_json::json!({"external_id": id, "title": title, "price": price,
                "currency": "USD", "stock": 1_000_000,
                "description": format!("{title}, a camping favourite")})
        })
        .collect();
    serde_json::Value::Array(products).to_string()
}

async fn drive(
    options: &ChaosOptions,
    rng: Rng,
    pg: &PrivatePostgres,
    server: &Arc<Server>,
    faults: &Arc<FaultControl>,
) -> anyhow::Result<ChaosReport> {
    let target = Target {
        base_url: server.base_url(),
        publishable_key: None,
        admin_token: Some(ADMIN_TOKEN.into()),
        sources: options.sources.max(1),
        server_pid: server.pid(),
    };
    let catalog = std::env::temp_dir().join(format!(
        "agentpay-chaos-catalog-{}.json",
        std::process::id()
    ));
    std::fs::write(&catalog, catalog_json())?;
    let created = merchant(&target, Some(&catalog), None).await;
    let _ = std::fs::remove_file(&catalog);
    let (pk, _) = created?;
    let http = clients(target.sources)?;
    let mut conversations = Vec::with_capacity(options.conversations);
    for i in 0..options.conversations {
        let client = &http[i % http.len()];
        let c = create_conversation(client, &target.base_url, &pk)
            .await
            .map_err(|e| anyhow::anyhow!("creating conversation {i} failed: {e}"))?;
        conversations.push(c);
    }

    let counters = Arc::new(Counters::default());
    let run_started = Instant::now();
    let stop_at = run_started + options.duration;
    let give_up_at = stop_at + options.settle;
    let mut signals = Vec::new();
    let mut tasks = Vec::new();
    for (i, conversation) in conversations.into_iter().enumerate() {
        let signal = Arc::new(Notify::new());
        signals.push(Arc::clone(&signal));
        let plan = VisitorPlan {
            index: i,
            conversation,
            rng: rng.fork(i as u64 + 1),
            source: source(i, target.sources),
            think: options.think,
            run_started,
            stop_at,
            give_up_at,
            patience: options.patience,
            drop_signal: signal,
            counters: Arc::clone(&counters),
        };
        tasks.push(tokio::spawn(Visitor::new(plan).run()));
    }

    let log = Arc::new(Mutex::new(FaultLog::default()));
    let nemesis = Nemesis {
        rng: rng.fork(0),
        pg,
        server,
        faults,
        signals: &signals,
        log: Arc::clone(&log),
        run_started,
        fault_interval: options.fault_interval,
        quiet: options.quiet,
        counters: &counters,
    };
    nemesis.run(stop_at).await;

    // Everything healed: the server up, the database up, the provider well.
    faults.set_enabled(false);
    if !server.running() {
        server.kill();
        server.start(Duration::from_secs(60)).await?;
    }
    if !options.quiet {
        eprintln!(
            "chaos: faults over; visitors settle (at most {:?})",
            options.settle
        );
    }
    let mut histories = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(h) => histories.push(h),
            Err(e) => lock(&log)
                .problems
                .push(format!("a visitor task failed: {e}")),
        }
    }
    if !options.quiet {
        eprintln!(
            "chaos: checking {} conversations against storage",
            histories.len()
        );
    }
    let outages = lock(&log).outages.clone();
    let verdicts = check_all(&target, &http, &histories, &outages).await;

    let log = std::mem::take(&mut *lock(&log));
    Ok(report::build(
        options,
        &histories,
        &verdicts,
        log.counts,
        faults.counts(),
        log.problems,
        &counters,
    ))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Checks every conversation, a few at a time.
async fn check_all(
    target: &Target,
    http: &[reqwest::Client],
    histories: &[History],
    outages: &[(Duration, Duration)],
) -> Vec<check::Verdict> {
    use futures_util::StreamExt;
    futures_util::stream::iter(histories.iter().enumerate())
        .map(|(i, h)| {
            let client = &http[i % http.len()];
            check::check(
                client,
                &target.base_url,
                h,
                source(i, target.sources),
                outages,
            )
        })
        .buffered(16)
        .collect()
        .await
}

/// The fault injector.
struct Nemesis<'a> {
    rng: Rng,
    pg: &'a PrivatePostgres,
    server: &'a Arc<Server>,
    faults: &'a Arc<FaultControl>,
    signals: &'a [Arc<Notify>],
    log: Arc<Mutex<FaultLog>>,
    run_started: Instant,
    fault_interval: Duration,
    quiet: bool,
    counters: &'a Counters,
}

impl Nemesis<'_> {
    /// Injects faults until `stop_at`: each round takes every kind once in a random order, so
    /// every kind comes up in a run of a few rounds; pauses between faults are random.
    async fn run(mut self, stop_at: Instant) {
        let mut progress = Instant::now();
        loop {
            let mut round = RUN_FAULTS;
            self.rng.shuffle(&mut round);
            for kind in round {
                let pause = self.fault_interval.mul_f64(0.5 + self.rng.unit());
                let at = Instant::now() + pause;
                while Instant::now() < at.min(stop_at) {
                    tokio::time::sleep(
                        Duration::from_millis(200)
                            .min(at.saturating_duration_since(Instant::now())),
                    )
                    .await;
                    self.watch_server().await;
                    if !self.quiet && progress.elapsed() >= Duration::from_secs(5) {
                        progress = Instant::now();
                        self.progress();
                    }
                }
                if Instant::now() >= stop_at {
                    return;
                }
                if let Err(e) = self.inject(kind, stop_at).await {
                    lock(&self.log)
                        .problems
                        .push(format!("injecting {kind} failed: {e:#}"));
                }
            }
        }
    }

    fn since_start(&self) -> Duration {
        Instant::now().duration_since(self.run_started)
    }

    fn progress(&self) {
        let c = self.counters;
        let faults: u64 = lock(&self.log).counts.values().sum();
        eprintln!(
            "chaos: [{:>5.0}s] messages {}  acked {}  replies {}  reconnects {}  cart changes {}  faults {faults}",
            self.since_start().as_secs_f64(),
            c.messages.load(Ordering::Relaxed),
            c.acked.load(Ordering::Relaxed),
            c.replies.load(Ordering::Relaxed),
            c.reconnects.load(Ordering::Relaxed),
            c.cart_ops.load(Ordering::Relaxed),
        );
    }

    /// A server that exited on its own is a finding, and is started again.
    async fn watch_server(&self) {
        if self.server.running() {
            return;
        }
        let at = self.since_start();
        lock(&self.log).problems.push(format!(
            "the server exited on its own {:.1} s into the run",
            at.as_secs_f64()
        ));
        self.server.kill();
        if let Err(e) = self.server.start(Duration::from_secs(60)).await {
            lock(&self.log)
                .problems
                .push(format!("the server could not be started again: {e:#}"));
        }
        let end = self.since_start();
        lock(&self.log).outages.push((at, end));
    }

    async fn inject(&mut self, kind: &'static str, stop_at: Instant) -> anyhow::Result<()> {
        if !self.quiet {
            eprintln!("chaos: [{:>5.0}s] {kind}", self.since_start().as_secs_f64());
        }
        let from = self.since_start();
        let pause = |rng: &mut Rng, lo: u64, hi: u64| Duration::from_millis(rng.range(lo, hi));
        let mut outage = false;
        match kind {
            "server_kill" => {
                self.server.kill();
                tokio::time::sleep(pause(&mut self.rng, 0, 1500)).await;
                self.server.start(Duration::from_secs(60)).await?;
                outage = true;
            }
            "postgres_stop" => {
                self.pg.stop().await?;
                tokio::time::sleep(pause(&mut self.rng, 500, 4000)).await;
                self.pg.restart().await?;
                outage = true;
            }
            "postgres_crash" => {
                self.pg.crash().await?;
                tokio::time::sleep(pause(&mut self.rng, 200, 3000)).await;
                self.pg.restart().await?;
                outage = true;
            }
            "provider_faults" => {
                self.faults.set_enabled(true);
                let window = pause(&mut self.rng, 3000, 9000);
                tokio::time::sleep(window.min(stop_at.saturating_duration_since(Instant::now())))
                    .await;
                self.faults.set_enabled(false);
            }
            _ => {
                // client_drop: about a fifth of the visitors, at least one.
                let n = (self.signals.len() / 5).max(1);
                for _ in 0..n {
                    let i = self.rng.index(self.signals.len());
                    self.signals[i].notify_one();
                }
            }
        }
        let mut log = lock(&self.log);
        *log.counts.entry(kind.to_string()).or_insert(0) += 1;
        if outage {
            let to = self.since_start();
            log.outages.push((from, to));
        }
        Ok(())
    }
}
