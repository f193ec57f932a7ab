//! The chaos run, short: conversations chatting through the model agent (the fake Anthropic
//! provider) while the run SIGKILLs the real server binary, stops and crashes its Postgres,
//! makes the provider fail and drops connections; then every stored transcript and cart is
//! checked against what the clients were acknowledged and shown (docs/reliability.md). It
//! uses its own private Postgres cluster (`scripts/pg.sh` on its own folder and port): the
//! shared test cluster is never stopped.

use crate::helpers::{binary, repo_root};
use agentpay_loadtest::{CHECKS, ChaosOptions, ProviderFault, RUN_FAULTS, run_chaos};
use std::time::Duration;

#[actix_web::test]
async fn under_crashes_outages_and_provider_failures_nothing_acknowledged_is_lost_duplicated_reordered_or_stuck()
 {
    let work = repo_root()
        .join(".data/test-chaos")
        .join(uuid::Uuid::new_v4().simple().to_string());
    let options = ChaosOptions {
        server_bin: binary().to_path_buf(),
        repo: repo_root(),
        work_dir: Some(work.clone()),
        conversations: 30,
        duration: Duration::from_secs(50),
        seed: 19,
        // Two rounds of the five kinds, at least.
        fault_interval: Duration::from_secs(4),
        provider_fault_rate: 0.4,
        think: Duration::from_millis(1000),
        settle: Duration::from_secs(60),
        sources: 1,
        quiet: true,
        ..ChaosOptions::default()
    };
    let report = run_chaos(&options).await.unwrap();
    let table = report.table();
    eprintln!("{table}");
    for check in CHECKS {
        assert_eq!(report.violations_of(check), 0, "{check}:\n{table}");
    }
    assert!(report.problems.is_empty(), "{table}");
    for kind in RUN_FAULTS
        .iter()
        .copied()
        .chain(ProviderFault::ALL.iter().map(|k| k.name()))
        .chain(["connections_dropped"])
    {
        assert!(report.faults[kind] >= 1, "no {kind} injected:\n{table}");
    }
    // The run did real work under the faults, and the checks looked at it.
    assert!(report.counts["messages acknowledged"] >= 100, "{table}");
    assert!(report.counts["stored replies interrupted"] >= 1, "{table}");
    assert!(report.counts["cart changes resolved"] >= 20, "{table}");
    assert!(report.passed());
    let _ = std::fs::remove_dir_all(&work);
}
