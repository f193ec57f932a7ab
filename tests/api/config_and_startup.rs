//! The real binary: configuration layers and errors, startup checks, secrets kept out of logs,
//! graceful shutdown.

use crate::helpers::*;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary with a clean environment plus `env`.
pub(crate) fn agentpay(env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AGENTPAY_ENV", "test")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs to completion (bounded), returning (success, stderr).
fn run_to_exit(mut cmd: Command) -> (bool, String) {
    let mut child = cmd.spawn().unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(30));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status, err)
}

pub(crate) fn wait_exit(child: &mut Child, within: Duration) -> bool {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if started.elapsed() > within {
            child.kill().ok();
            panic!("the process did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) async fn wait_healthy(port: u16, child: &mut Child) {
    let client = crate::helpers::http_client();
    let started = Instant::now();
    loop {
        let res = client
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await;
        if res.is_ok_and(|r| r.status() == 200) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).ok();
            panic!("the server exited early ({status}):\n{err}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[actix_web::test]
async fn the_port_setting_moves_the_server_and_sigterm_stops_it_cleanly() {
    let db = TestDb::create().await;
    let port = free_port();
    let mut child = agentpay(&[
        ("DATABASE_URL", db.url.as_str()),
        ("AGENTPAY__SERVER__PORT", &port.to_string()),
    ])
    .arg("serve")
    .spawn()
    .unwrap();
    wait_healthy(port, &mut child).await;
    let ready = reqwest::get(format!("http://127.0.0.1:{port}/ready"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    sigterm(&child);
    assert!(
        wait_exit(&mut child, Duration::from_secs(15)),
        "exit status 0 after SIGTERM"
    );
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("shutdown complete"), "{err}");
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/health"))
            .await
            .is_err(),
        "no longer listening"
    );
}

#[actix_web::test]
async fn a_misspelled_environment_key_stops_startup_naming_it() {
    let db = TestDb::create().await;
    let (ok, err) = run_to_exit({
        let mut c = agentpay(&[
            ("DATABASE_URL", db.url.as_str()),
            ("AGENTPAY__SERVER__PROT", "9999"),
        ]);
        c.arg("serve");
        c
    });
    assert!(!ok);
    assert!(
        err.contains("server.prot") && err.contains("AGENTPAY__SERVER__PROT"),
        "{err}"
    );
}

#[actix_web::test]
async fn a_misspelled_key_in_a_config_file_stops_startup_naming_it() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("test.toml"),
        "[database]\nmax_conections = 3\n",
    )
    .unwrap();
    let (ok, err) = run_to_exit({
        let mut c = agentpay(&[
            ("DATABASE_URL", db.url.as_str()),
            ("AGENTPAY_CONFIG_DIR", dir.path().to_str().unwrap()),
        ]);
        c.arg("serve");
        c
    });
    assert!(!ok);
    assert!(
        err.contains("database.max_conections") && err.contains("test.toml"),
        "{err}"
    );
}

#[actix_web::test]
async fn an_invalid_value_stops_startup_naming_the_key() {
    let (ok, err) = run_to_exit({
        let mut c = agentpay(&[
            ("DATABASE_URL", "postgres://x@127.0.0.1:1/x"),
            ("AGENTPAY__LOG__FORMAT", "xml"),
        ]);
        c.arg("serve");
        c
    });
    assert!(!ok);
    assert!(err.contains("log.format"), "{err}");
}

#[actix_web::test]
async fn an_unreachable_database_stops_startup_with_a_clear_message_and_no_password() {
    let port = free_port();
    let url = format!("postgres://app:hunter2-secret@127.0.0.1:{port}/agentpay");
    let (ok, err) = run_to_exit({
        let mut c = agentpay(&[
            ("DATABASE_URL", url.as_str()),
            ("AGENTPAY__DATABASE__ACQUIRE_TIMEOUT_MS", "1500"),
        ]);
        c.arg("serve");
        c
    });
    assert!(!ok);
    assert!(
        err.contains("database unreachable at postgres://app:***@127.0.0.1"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2-secret"),
        "the password leaked: {err}"
    );
}

#[actix_web::test]
async fn a_missing_database_url_says_how_to_get_one() {
    let (ok, err) = run_to_exit({
        let mut c = agentpay(&[]);
        c.arg("serve");
        c
    });
    assert!(!ok);
    assert!(
        err.contains("DATABASE_URL is not set") && err.contains("scripts/pg.sh"),
        "{err}"
    );
}

#[actix_web::test]
async fn an_unmigrated_database_without_auto_migration_refuses_to_start() {
    let db = TestDb::create().await;
    let (ok, err) = run_to_exit({
        let mut c = agentpay(&[
            ("DATABASE_URL", db.url.as_str()),
            ("AGENTPAY__DATABASE__MIGRATE_ON_STARTUP", "false"),
        ]);
        c.arg("serve");
        c
    });
    assert!(!ok);
    assert!(
        err.contains("`vector` extension") && err.contains("agentpay migrate"),
        "{err}"
    );

    // `agentpay migrate` fixes it, and then the server starts.
    let (ok, err) = run_to_exit({
        let mut c = agentpay(&[("DATABASE_URL", db.url.as_str())]);
        c.arg("migrate");
        c
    });
    assert!(ok, "{err}");
    let port = free_port();
    let mut child = agentpay(&[
        ("DATABASE_URL", db.url.as_str()),
        ("AGENTPAY__DATABASE__MIGRATE_ON_STARTUP", "false"),
        ("AGENTPAY__SERVER__PORT", &port.to_string()),
    ])
    .spawn()
    .unwrap();
    wait_healthy(port, &mut child).await;
    child.kill().ok();
    child.wait().ok();
}

#[actix_web::test]
async fn secrets_never_reach_the_logs() {
    let db = TestDb::create().await;
    // Local Postgres trusts loopback, so a password in the URL is accepted and ignored.
    let url = db.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:pw-do-not-log-7@",
        1,
    );
    let admin = "admin-token-do-not-log-9";
    let port = free_port();
    let mut child = agentpay(&[
        ("DATABASE_URL", url.as_str()),
        ("AGENTPAY_ADMIN_TOKEN", admin),
        ("AGENTPAY__SERVER__PORT", &port.to_string()),
        ("RUST_LOG", "debug"),
        ("ANTHROPIC_API_KEY", "sk-ant-do-not-log-3"),
        ("OPENAI_API_KEY", "sk-openai-do-not-log-5"),
        (
            "AGENTPAY__LLM__CHAIN",
            r#"["anthropic", "openai", "simulated"]"#,
        ),
    ])
    .spawn()
    .unwrap();
    wait_healthy(port, &mut child).await;
    // Use the token, including a failed attempt with a wrong one.
    let client = crate::helpers::http_client();
    let res = client
        .post(format!("http://127.0.0.1:{port}/v1/merchants"))
        .bearer_auth(admin)
        .json(&serde_json::json!({"name": "Quiet"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    let sk = body["secret_key"]["key"].as_str().unwrap().to_string();
    client
        .get(format!("http://127.0.0.1:{port}/v1/merchant"))
        .bearer_auth(&sk)
        .send()
        .await
        .unwrap();
    sigterm(&child);
    wait_exit(&mut child, Duration::from_secs(15));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("configuration loaded"),
        "the effective config is logged: {err}"
    );
    assert!(
        err.contains("postgres://postgres:***@"),
        "the URL is logged redacted: {err}"
    );
    assert!(err.contains("anthropic_api_key=\"<set>\""), "{err}");
    for secret in [
        "pw-do-not-log-7",
        admin,
        sk.as_str(),
        "sk-ant-do-not-log-3",
        "sk-openai-do-not-log-5",
    ] {
        assert!(!err.contains(secret), "{secret} leaked into the logs");
    }
}

#[actix_web::test]
async fn production_logs_are_json_lines() {
    let db = TestDb::create().await;
    let port = free_port();
    let mut child = agentpay(&[
        ("AGENTPAY_ENV", "production"),
        ("DATABASE_URL", db.url.as_str()),
        ("AGENTPAY__SERVER__HOST", "127.0.0.1"),
        ("AGENTPAY__SERVER__PORT", &port.to_string()),
        ("AGENTPAY__SERVER__WORKERS", "1"),
    ])
    .spawn()
    .unwrap();
    wait_healthy(port, &mut child).await;
    crate::helpers::http_client()
        .get(format!("http://127.0.0.1:{port}/v1/merchant"))
        .header("x-request-id", "json-log-req-1")
        .send()
        .await
        .unwrap();
    sigterm(&child);
    wait_exit(&mut child, Duration::from_secs(15));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().any(|l| l["message"] == "listening"), "{err}");
    // The access log line carries the request id.
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "request" && l["span"]["request_id"] == "json-log-req-1"),
        "{err}"
    );
}
