//! `agentpay-loadtest`: drives a running AgentPay server (see `--help`). Run the server with
//! `AGENTPAY__RATE_LIMIT__ENABLED=false` (one loopback client looks like a flood).

use agentpay_loadtest::*;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Load harness for the AgentPay engine. Targets loopback only; every run is bounded.
#[derive(Debug, Parser)]
#[command(name = "agentpay-loadtest", version, about)]
struct Cli {
    /// The server's base URL (loopback).
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    base_url: String,
    /// A merchant's publishable key; without it a merchant is created with the admin token.
    #[arg(long, env = "AGENTPAY_LOADTEST_PUBLISHABLE_KEY", global = true)]
    publishable_key: Option<String>,
    /// The server's admin token (AGENTPAY_ADMIN_TOKEN), to create the load-test merchant.
    #[arg(
        long,
        env = "AGENTPAY_ADMIN_TOKEN",
        global = true,
        hide_env_values = true
    )]
    admin_token: Option<String>,
    /// Spread client sockets over this many source addresses 127.0.0.1..127.0.0.N (each gives
    /// ~28,000 ephemeral ports).
    #[arg(long, default_value_t = 4, global = true)]
    sources: u8,
    /// The server's pid: report its RSS and CPU from /proc.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// Also write the report as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// No live progress lines.
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Ramp to N live conversations (HTTP create + WebSocket), hold them, report connect latency.
    Connections {
        /// Conversations to open.
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// New connections per second while ramping.
        #[arg(long, default_value_t = 500)]
        ramp_per_sec: u32,
        /// Seconds to hold them once all are open.
        #[arg(long, default_value_t = 10)]
        hold_secs: u64,
    },
    /// N conversations each sending messages with think time; reports ack latency, time to first
    /// token, gaps between deltas, whole-turn time, and delivery rates.
    Chat {
        /// Concurrent conversations.
        #[arg(long, default_value_t = 100)]
        conversations: usize,
        /// Messages per conversation.
        #[arg(long, default_value_t = 3)]
        messages: usize,
        /// Milliseconds between a reply's end and the next message.
        #[arg(long, default_value_t = 500)]
        think_ms: u64,
        /// Spread of each pause: a uniform factor in [1 - J, 1 + J] times --think-ms (mean
        /// unchanged), so conversations do not send in lock-step; 0 for exact pauses.
        #[arg(long, default_value_t = 0.5)]
        think_jitter: f64,
        /// New conversations per second while ramping up.
        #[arg(long, default_value_t = 500)]
        ramp_per_sec: u32,
        /// The server's simulated time to first token (llm.simulated.ttft_ms): also report the
        /// engine-added time to first token.
        #[arg(long)]
        model_ttft_ms: Option<u64>,
        /// Scripted shopping sessions (data/scripts/sessions.json): conversation n plays session
        /// n mod their count, turn by turn (--messages is ignored), and the report adds the
        /// share of turns handled without a model and the expectations met.
        #[arg(long)]
        script: Option<PathBuf>,
        /// With --script: print every scripted turn (what was said, the intent, what was shown
        /// and the reply) to stderr.
        #[arg(long)]
        transcript: bool,
        /// Products imported into the merchant the run creates (with --admin-token), such as
        /// data/catalog/dev-catalog.json; scripted sessions need a catalog.
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// The agent configuration (JSON, as `PUT /v1/merchant/agent` takes it) of the merchant
        /// the run creates, e.g. `{"routing": "model"}`.
        #[arg(long)]
        agent_config: Option<PathBuf>,
        /// First run the same scenario against a bare relay (`baseline-relay`, started by the
        /// harness as a child process on a free port), then against the target, and report the
        /// target's server CPU per delivered token as a ratio to the relay's. Give the relay
        /// the target's reply shape with the --relay-* options; needs --server-pid.
        #[arg(long)]
        baseline_relay: bool,
        /// The relay's tokens per second (match llm.simulated.tokens_per_sec).
        #[arg(long, default_value_t = 50)]
        relay_tokens_per_sec: u32,
        /// The relay's tokens per reply (match llm.simulated.reply_tokens).
        #[arg(long, default_value_t = 250)]
        relay_reply_tokens: u32,
        /// The relay's time to first token (match llm.simulated.ttft_ms).
        #[arg(long, default_value_t = 0)]
        relay_ttft_ms: u64,
    },
    /// Closed-loop catalog searches with a merchant's secret key; reports search latency.
    Search {
        /// The merchant's secret key.
        #[arg(long, env = "AGENTPAY_SECRET_KEY")]
        secret_key: String,
        /// Queries: JSON Lines with a `query` field (data/catalog/dev-queries.jsonl) or one per line.
        #[arg(long)]
        queries: PathBuf,
        /// `hybrid`, `vector` or `text`.
        #[arg(long, default_value = "hybrid")]
        mode: String,
        /// Searches in flight at once.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// Searches in all.
        #[arg(long, default_value_t = 1000)]
        requests: usize,
    },
    /// A fixed rate of conversation creations.
    Http {
        /// Requests per second offered.
        #[arg(long, default_value_t = 500)]
        rate: u32,
        /// Seconds to run.
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
    },
    /// The bare transport to compare the engine with: an actix-ws server with no actors and no
    /// database that answers each message with one frame per token at a fixed rate, in the
    /// engine's frame shapes. Point `chat` at it (any --publishable-key) with --server-pid to
    /// get its CPU per delivered token. Runs until killed; the target options do not apply.
    BaselineRelay {
        /// The address to listen on; must be a loopback address.
        #[arg(long, default_value = "127.0.0.1:8099")]
        listen: SocketAddr,
        /// Tokens per second of each reply after the first; 0 sends at once.
        #[arg(long, default_value_t = 50)]
        tokens_per_sec: u32,
        /// Tokens per reply.
        #[arg(long, default_value_t = 250)]
        reply_tokens: u32,
        /// Milliseconds before a reply's first token.
        #[arg(long, default_value_t = 0)]
        ttft_ms: u64,
    },
    /// A fake model provider to point the engine at: Anthropic Messages (`/v1/messages`) and
    /// OpenAI Chat Completions (`/v1/chat/completions`), streaming, answering like a small
    /// shopping model and reporting token usage with prompt caching. Runs until killed; the
    /// target options (--base-url and the rest) do not apply.
    FakeLlm {
        /// The address to listen on; must be a loopback address (127.x.x.x or ::1).
        #[arg(long, default_value = "127.0.0.1:8089")]
        listen: SocketAddr,
        /// Text pieces (about one token each) per second after the first; 0 sends at once.
        #[arg(long, default_value_t = 200)]
        tokens_per_sec: u32,
        /// Milliseconds before each answer's first content.
        #[arg(long, default_value_t = 50)]
        ttft_ms: u64,
        /// Share of requests (0 to 1) answered with an injected failure: 429, 529, 500, a
        /// stall before the first byte or mid-stream, or a stream cut mid-reply (in turn).
        #[arg(long, default_value_t = 0.0)]
        fault_rate: f64,
        /// Seed of the injected failures.
        #[arg(long, default_value_t = 1)]
        fault_seed: u64,
        /// Milliseconds an injected stall lasts.
        #[arg(long, default_value_t = 10_000)]
        fault_stall_ms: u64,
    },
    /// The chaos run: a private Postgres (scripts/pg.sh), the server binary and the fake
    /// provider (model agent), N conversations chatting and changing carts while the run
    /// SIGKILLs the server, stops and crashes Postgres, makes the provider fail and drops
    /// connections; then every stored transcript and cart is checked against what the clients
    /// were acknowledged and shown. Exits non-zero when a check fails. The target options
    /// (--base-url and the rest) do not apply. docs/reliability.md.
    Chaos {
        /// The server binary.
        #[arg(long, default_value = "target/debug/agentpay")]
        server_bin: PathBuf,
        /// The repository root (for scripts/pg.sh).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// A folder for the private cluster and the server's log (default: a new one in the
        /// temporary folder).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Conversations chatting at once.
        #[arg(long, default_value_t = 300)]
        conversations: usize,
        /// Seconds of chatting under faults.
        #[arg(long, default_value_t = 300)]
        duration_secs: u64,
        /// Seed of every random choice.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Mean seconds between two faults.
        #[arg(long, default_value_t = 8.0)]
        fault_interval_secs: f64,
        /// Share of provider requests that fail during a provider-fault window.
        #[arg(long, default_value_t = 0.3)]
        provider_fault_rate: f64,
        /// Milliseconds a provider stall lasts.
        #[arg(long, default_value_t = 5000)]
        provider_stall_ms: u64,
        /// Mean milliseconds between a visitor's turns.
        #[arg(long, default_value_t = 1500)]
        think_ms: u64,
        /// Seconds a visitor waits for a reply with no event before giving up on it.
        #[arg(long, default_value_t = 25)]
        patience_secs: u64,
        /// Seconds outstanding replies and cart changes may take to settle after the faults.
        #[arg(long, default_value_t = 90)]
        settle_secs: u64,
        /// The fake provider's text pieces per second.
        #[arg(long, default_value_t = 100)]
        tokens_per_sec: u32,
    },
}

/// `chat --baseline-relay`: the scenario against a bare relay (a child process), then against
/// the target; the target's report carries the relay's and the ratios between them.
async fn chat_against_baseline(
    target: &Target,
    options: &ChatOptions,
    relay: agentpay_loadtest::relay::RelayOptions,
) -> anyhow::Result<Report> {
    if target.server_pid.is_none() {
        anyhow::bail!("--baseline-relay compares CPU: give the target's --server-pid");
    }
    let exe = std::env::current_exe()?;
    let process = agentpay_loadtest::relay::RelayProcess::spawn(&exe, relay)?;
    let relay_target = Target {
        base_url: process.base_url.clone(),
        publishable_key: Some("pk_relay".into()),
        admin_token: None,
        sources: target.sources,
        server_pid: Some(process.pid()),
    };
    if !options.quiet {
        eprintln!("baseline: the bare relay at {}", process.base_url);
    }
    let mut relay_options = options.clone();
    relay_options.catalog = None;
    relay_options.agent_config = None;
    let baseline = run_chat(&relay_target, &relay_options).await?;
    drop(process);
    if !options.quiet {
        eprintln!("target: {}", target.base_url);
    }
    let mut report = run_chat(target, options).await?;
    let key = "server CPU µs per delivered token";
    if let (Some(engine), Some(bare)) = (report.ratios.get(key), baseline.ratios.get(key))
        && *bare > 0.0
    {
        let ratio = engine / bare;
        report
            .ratios
            .insert("CPU per token, target / relay".into(), ratio);
    }
    let per_reply = |r: &Report| {
        r.counters.get("tokens delivered").copied().unwrap_or(0) as f64
            / r.counters.get("turns").copied().unwrap_or(1).max(1) as f64
    };
    if (per_reply(&report) - per_reply(&baseline)).abs() > 0.5 {
        eprintln!(
            "warning: the relay's replies ({:.1} tokens) and the target's ({:.1}) differ: match --relay-reply-tokens to the target",
            per_reply(&baseline),
            per_reply(&report)
        );
    }
    report.baseline = Some(Box::new(baseline));
    Ok(report)
}

/// Runs the fake model provider on `listen` (loopback only) until the process is killed.
async fn run_fake_llm(listen: SocketAddr, options: FakeLlmOptions) -> ExitCode {
    if !listen.ip().is_loopback() {
        eprintln!(
            "error: fake-llm only listens on a loopback address (127.x.x.x or ::1), not {listen}"
        );
        return ExitCode::FAILURE;
    }
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().unwrap_or(listen);
    println!("fake-llm listening on http://{address}");
    fake_llm::serve(listener, options).await;
    ExitCode::SUCCESS
}

/// Runs the chaos scenario, prints its report (and writes it as JSON to `json`); failure when
/// a check found a violation or the run could not be made.
async fn run_chaos_command(options: &ChaosOptions, json: Option<&std::path::Path>) -> ExitCode {
    let report = match run_chaos(options).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.table());
    if let Some(path) = json {
        let written = serde_json::to_string_pretty(&report)
            .map_err(anyhow::Error::from)
            .and_then(|j| std::fs::write(path, j).map_err(anyhow::Error::from));
        if let Err(e) = written {
            eprintln!("error: could not write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The fake provider serves rather than targets: none of the target checks apply.
    if let Scenario::BaselineRelay {
        listen,
        tokens_per_sec,
        reply_tokens,
        ttft_ms,
    } = cli.scenario
    {
        if !listen.ip().is_loopback() {
            eprintln!("error: baseline-relay only listens on a loopback address, not {listen}");
            return ExitCode::FAILURE;
        }
        let options = agentpay_loadtest::relay::RelayOptions {
            tokens_per_sec,
            reply_tokens,
            ttft: Duration::from_millis(ttft_ms),
        };
        let served =
            std::thread::spawn(move || agentpay_loadtest::relay::serve(listen, options)).join();
        return match served {
            Ok(Ok(())) => ExitCode::SUCCESS,
            Ok(Err(e)) => {
                eprintln!("error: baseline-relay on {listen}: {e}");
                ExitCode::FAILURE
            }
            Err(_) => ExitCode::FAILURE,
        };
    }
    if let Scenario::FakeLlm {
        listen,
        tokens_per_sec,
        ttft_ms,
        fault_rate,
        fault_seed,
        fault_stall_ms,
    } = cli.scenario
    {
        let options = FakeLlmOptions {
            tokens_per_sec,
            ttft: Duration::from_millis(ttft_ms),
            faults: FaultOptions {
                rate: fault_rate.clamp(0.0, 1.0),
                seed: fault_seed,
                stall: Duration::from_millis(fault_stall_ms),
                ..FaultOptions::default()
            },
        };
        return run_fake_llm(listen, options).await;
    }
    if let Scenario::Chaos {
        server_bin,
        repo,
        work_dir,
        conversations,
        duration_secs,
        seed,
        fault_interval_secs,
        provider_fault_rate,
        provider_stall_ms,
        think_ms,
        patience_secs,
        settle_secs,
        tokens_per_sec,
    } = cli.scenario
    {
        let options = ChaosOptions {
            server_bin,
            repo,
            work_dir,
            conversations,
            duration: Duration::from_secs(duration_secs),
            seed,
            fault_interval: Duration::from_secs_f64(fault_interval_secs.max(0.1)),
            provider_fault_rate: provider_fault_rate.clamp(0.0, 1.0),
            provider_stall: Duration::from_millis(provider_stall_ms),
            think: Duration::from_millis(think_ms),
            patience: Duration::from_secs(patience_secs),
            settle: Duration::from_secs(settle_secs),
            tokens_per_sec,
            sources: cli.sources.max(1),
            quiet: cli.quiet,
        };
        return run_chaos_command(&options, cli.json.as_deref()).await;
    }
    let target = Target {
        base_url: cli.base_url.trim_end_matches('/').to_string(),
        publishable_key: cli.publishable_key.clone(),
        admin_token: cli.admin_token.clone(),
        sources: cli.sources.max(1),
        server_pid: cli.server_pid,
    };
    if !(target.base_url.starts_with("http://127.")
        || target.base_url.starts_with("http://localhost"))
    {
        eprintln!(
            "error: the load harness only targets loopback (http://127.x.x.x or http://localhost)"
        );
        return ExitCode::FAILURE;
    }
    let result = match cli.scenario {
        Scenario::Connections {
            count,
            ramp_per_sec,
            hold_secs,
        } => {
            run_connections(
                &target,
                &ConnectionsOptions {
                    count,
                    ramp_per_sec,
                    hold: Duration::from_secs(hold_secs),
                    quiet: cli.quiet,
                },
            )
            .await
        }
        Scenario::Chat {
            conversations,
            messages,
            think_ms,
            think_jitter,
            ramp_per_sec,
            model_ttft_ms,
            script,
            transcript,
            catalog,
            agent_config,
            baseline_relay,
            relay_tokens_per_sec,
            relay_reply_tokens,
            relay_ttft_ms,
        } => match script.map(|p| read_script(&p)).transpose() {
            Err(e) => Err(e),
            Ok(script) => {
                let options = ChatOptions {
                    script,
                    transcript,
                    catalog,
                    agent_config,
                    conversations,
                    messages,
                    think: Duration::from_millis(think_ms),
                    think_jitter,
                    ramp_per_sec,
                    model_ttft: model_ttft_ms.map(Duration::from_millis),
                    quiet: cli.quiet,
                };
                if baseline_relay {
                    let relay = agentpay_loadtest::relay::RelayOptions {
                        tokens_per_sec: relay_tokens_per_sec,
                        reply_tokens: relay_reply_tokens,
                        ttft: Duration::from_millis(relay_ttft_ms),
                    };
                    chat_against_baseline(&target, &options, relay).await
                } else {
                    run_chat(&target, &options).await
                }
            }
        },
        Scenario::Search {
            secret_key,
            queries,
            mode,
            concurrency,
            requests,
        } => match std::fs::read_to_string(&queries) {
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", queries.display())),
            Ok(text) => {
                let queries = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| {
                        serde_json::from_str::<serde_json::Value>(l)
                            .ok()
                            .and_then(|v| v["query"].as_str().map(str::to_string))
                            .unwrap_or_else(|| l.trim().to_string())
                    })
                    .collect();
                run_search(
                    &target,
                    &SearchOptions {
                        secret_key,
                        queries,
                        mode,
                        concurrency,
                        requests,
                        quiet: cli.quiet,
                    },
                )
                .await
            }
        },
        Scenario::Http {
            rate,
            duration_secs,
        } => {
            run_http(
                &target,
                &HttpOptions {
                    rate,
                    duration: Duration::from_secs(duration_secs),
                    quiet: cli.quiet,
                },
            )
            .await
        }
        Scenario::FakeLlm { .. } => Err(anyhow::anyhow!("fake-llm runs on its own")),
        Scenario::Chaos { .. } => Err(anyhow::anyhow!("chaos runs on its own")),
        Scenario::BaselineRelay { .. } => Err(anyhow::anyhow!("baseline-relay runs on its own")),
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.table());
    if let Some(path) = cli.json {
        match serde_json::to_string_pretty(&report) {
            Ok(j) => {
                if let Err(e) = std::fs::write(&path, j) {
                    eprintln!("error: could not write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if report.error_count() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fake_llm_takes_its_options_and_defaults() {
        let cli = Cli::try_parse_from(["agentpay-loadtest", "fake-llm"]).unwrap();
        let Scenario::FakeLlm {
            listen,
            tokens_per_sec,
            ttft_ms,
            fault_rate,
            ..
        } = cli.scenario
        else {
            panic!("not fake-llm");
        };
        assert_eq!(listen, "127.0.0.1:8089".parse::<SocketAddr>().unwrap());
        assert_eq!((tokens_per_sec, ttft_ms), (200, 50));
        assert_eq!(fault_rate, 0.0, "faults are off by default");
        let cli = Cli::try_parse_from([
            "agentpay-loadtest",
            "fake-llm",
            "--listen",
            "127.0.0.1:9000",
            "--tokens-per-sec",
            "50",
            "--ttft-ms",
            "300",
        ])
        .unwrap();
        assert!(matches!(
            cli.scenario,
            Scenario::FakeLlm {
                tokens_per_sec: 50,
                ttft_ms: 300,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn fake_llm_refuses_addresses_off_loopback() {
        let code = run_fake_llm("0.0.0.0:0".parse().unwrap(), FakeLlmOptions::default()).await;
        assert_eq!(code, ExitCode::FAILURE);
    }
}
