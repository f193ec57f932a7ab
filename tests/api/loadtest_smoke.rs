//! A short run of the load harness against the real server: it must finish with no error.

use crate::helpers::*;
use agentpay_loadtest::{ChatOptions, ConnectionsOptions, Target, run_chat, run_connections};
use std::time::Duration;

#[actix_web::test]
async fn a_short_load_run_completes_without_errors() {
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
        env.insert("AGENTPAY__DATABASE__MAX_CONNECTIONS".into(), "20".into());
        env.insert(
            "AGENTPAY__DATABASE__ACQUIRE_TIMEOUT_MS".into(),
            "15000".into(),
        );
    })
    .await;
    let target = Target {
        base_url: app.address.clone(),
        publishable_key: None,
        admin_token: Some(ADMIN_TOKEN.into()),
        sources: 2,
        server_pid: Some(std::process::id()),
    };
    let chat = run_chat(
        &target,
        &ChatOptions {
            conversations: 300,
            messages: 2,
            think: Duration::from_millis(50),
            ramp_per_sec: 1000,
            model_ttft: Some(Duration::from_millis(20)),
            quiet: true,
            ..ChatOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(chat.error_count(), 0, "{}", chat.table());
    assert!(chat.latencies.contains_key("engine-added ttft"));
    assert_eq!(chat.counters["turns"], 600, "{}", chat.table());
    assert!(chat.latencies["time to first token"].count == 600);
    assert!(
        chat.server.is_some(),
        "server RSS and CPU are read from /proc"
    );

    let conns = run_connections(
        &target,
        &ConnectionsOptions {
            count: 300,
            ramp_per_sec: 1000,
            hold: Duration::from_secs(2),
            quiet: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(conns.error_count(), 0, "{}", conns.table());
    assert_eq!(conns.counters["connected"], 300);
}

#[actix_web::test]
async fn the_chat_scenario_runs_against_the_baseline_relay() {
    let port = free_port();
    let listen: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let options = agentpay_loadtest::relay::RelayOptions {
        tokens_per_sec: 200,
        reply_tokens: 20,
        ttft: Duration::ZERO,
    };
    // The relay runs its own actix system until the test process ends.
    std::thread::spawn(move || agentpay_loadtest::relay::serve(listen, options));
    let base_url = format!("http://{listen}");
    for _ in 0..50 {
        if std::net::TcpStream::connect(listen).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let target = Target {
        base_url,
        publishable_key: Some("pk_relay".into()),
        admin_token: None,
        sources: 1,
        server_pid: None,
    };
    let chat = run_chat(
        &target,
        &ChatOptions {
            conversations: 20,
            messages: 2,
            think: Duration::from_millis(10),
            think_jitter: 0.0,
            ramp_per_sec: 1000,
            quiet: true,
            ..ChatOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(chat.error_count(), 0, "{}", chat.table());
    assert_eq!(chat.counters["turns"], 40, "{}", chat.table());
    // One frame per token, every token delivered.
    assert_eq!(chat.counters["delta frames"], 40 * 20, "{}", chat.table());
    assert_eq!(
        chat.counters["tokens delivered"],
        40 * 20,
        "{}",
        chat.table()
    );
}
