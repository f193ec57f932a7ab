//! `chat --baseline-relay` end to end: the harness binary starts its own relay, runs the
//! scenario against it and then against the target, and reports both with their ratio. The
//! target here is a second relay, so the two runs do the same work.

use agentpay_loadtest::relay::{RelayOptions, RelayProcess};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_agentpay-loadtest");

fn relay_options() -> RelayOptions {
    RelayOptions {
        tokens_per_sec: 0,
        reply_tokens: 50,
        ttft: Duration::ZERO,
    }
}

#[test]
fn the_target_is_measured_against_a_relay_the_harness_starts() {
    let target = RelayProcess::spawn(Path::new(EXE), relay_options()).unwrap();
    let json = std::env::temp_dir().join(format!("baseline-relay-{}.json", std::process::id()));
    let out = Command::new(EXE)
        .args([
            "--base-url",
            &target.base_url,
            "--publishable-key",
            "pk_relay",
        ])
        .args([
            "--server-pid",
            &target.pid().to_string(),
            "--quiet",
            "--sources",
            "1",
        ])
        .arg("--json")
        .arg(&json)
        .args([
            "chat",
            "--conversations",
            "200",
            "--messages",
            "1",
            "--think-ms",
            "0",
        ])
        .args(["--ramp-per-sec", "2000", "--baseline-relay"])
        .args(["--relay-tokens-per-sec", "0", "--relay-reply-tokens", "50"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        table.contains("== against the bare relay (baseline) =="),
        "{table}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    for r in [&report, &report["baseline"]] {
        assert_eq!(r["counters"]["tokens delivered"], 200 * 50, "{r}");
        assert_eq!(r["errors"], serde_json::json!({}), "{r}");
        assert!(r["server"]["cpu_seconds"].as_f64().unwrap() > 0.0, "{r}");
    }
    let ratio = report["ratios"]["CPU per token, target / relay"]
        .as_f64()
        .unwrap();
    // The same work on both sides: the ratio is near 1 (wide bounds: CPU is sampled in ticks).
    assert!((0.2..5.0).contains(&ratio), "{ratio}");
}

#[test]
fn comparing_needs_the_targets_pid() {
    let out = Command::new(EXE)
        .args(["--base-url", "http://127.0.0.1:9", "--quiet"])
        .args(["chat", "--baseline-relay"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--server-pid"), "{err}");
}
