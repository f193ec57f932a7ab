//! `/health`, `/ready` and `/metrics` on a healthy server.

use crate::helpers::*;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

#[actix_web::test]
async fn health_and_ready_answer_200_on_a_migrated_database() {
    let app = spawn_app().await;
    let res = app.get("/health", None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let res = app.get("/ready", None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["migrations"], "ok");
}

fn promtool() -> String {
    let out = Command::new(repo_root().join("scripts/promtool.sh"))
        .output()
        .expect("run scripts/promtool.sh");
    assert!(
        out.status.success(),
        "promtool is needed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[actix_web::test]
async fn metrics_count_requests_by_route_template_and_pass_promtool() {
    let app = spawn_app().await;
    let m = app.create_merchant("Metrics Shop", &[]).await;
    for _ in 0..3 {
        app.get(
            &format!("/v1/merchant/keys/{}", m.secret_key_id),
            Some(&m.secret_key),
        )
        .await;
    }
    app.get("/v1/merchant", None).await; // a 401
    app.get("/no/such/route", None).await;

    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();

    assert!(
        text.contains(r#"agentpay_http_requests_total{method="GET",route="/v1/merchant/keys/{key_id}",status="200"} 3"#),
        "{text}"
    );
    assert!(text.contains(
        r#"agentpay_http_requests_total{method="GET",route="/v1/merchant",status="401"} 1"#
    ));
    assert!(text.contains(
        r#"agentpay_http_requests_total{method="POST",route="/v1/merchants",status="201"} 1"#
    ));
    assert!(text.contains(r#"route="unmatched",status="404""#));
    assert!(
        !text.contains(&m.secret_key_id),
        "raw ids never become labels"
    );
    assert!(text.contains("agentpay_http_request_duration_seconds_bucket"));
    assert!(text.contains("agentpay_db_pool_connections{state=\"idle\"}"));
    assert!(text.contains("agentpay_db_pool_max_connections 5"));
    assert!(text.contains("agentpay_build_info{"));

    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Metric names (`agentpay_…`) used in a text, without histogram suffixes.
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for (i, _) in text.match_indices("agentpay_") {
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(&name)
            .to_string();
        out.insert(base);
    }
    out
}

#[actix_web::test]
async fn with_a_metrics_token_only_its_bearer_reads_the_metrics() {
    let app = spawn_app_with(|env| {
        env.insert(
            "AGENTPAY_METRICS_TOKEN".into(),
            "scrape-me-0123456789".into(),
        );
    })
    .await;
    for token in [None, Some("wrong"), Some("sk_test_not_it")] {
        let res = app.get("/metrics", token).await;
        assert_eq!(res.status(), 401, "{token:?}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    let res = app.get("/metrics", Some("scrape-me-0123456789")).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("agentpay_http_requests_total"), "{text}");
    // Health and readiness stay open for orchestrators.
    assert_eq!(app.get("/health", None).await.status(), 200);
    assert_eq!(app.get("/ready", None).await.status(), 200);
}

#[actix_web::test]
async fn the_shipped_alert_rules_and_dashboard_pass_promtool_and_use_real_metrics() {
    let promtool = promtool();
    let deploy = repo_root().join("deploy");
    for args in [
        vec!["check", "rules", "prometheus/alerts.yml"],
        vec!["check", "config", "prometheus/prometheus.yml"],
    ] {
        let out = Command::new(&promtool)
            .args(&args)
            .current_dir(&deploy)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Exercise the engine so every labelled metric has a sample, then compare names.
    let app = spawn_app().await;
    let m = app.create_merchant("Dashboards", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = crate::ws_client::Ws::open(&c, None).await;
    ws.event().await;
    ws.say("d-1", "hello").await;
    ws.until("assistant_end").await;
    app.get("/v1/merchant", Some("sk_bad_key_000000000000000000000000"))
        .await;
    let exposed = metric_names(&app.get("/metrics", None).await.text().await.unwrap());
    let rules = std::fs::read_to_string(deploy.join("prometheus/alerts.yml")).unwrap();
    let dashboard = std::fs::read_to_string(deploy.join("grafana/agentpay.json")).unwrap();
    let parsed: Value = serde_json::from_str(&dashboard).expect("the dashboard is valid JSON");
    assert!(parsed["panels"].as_array().unwrap().len() >= 8);
    for name in metric_names(&rules).union(&metric_names(&dashboard)) {
        assert!(
            exposed.contains(name),
            "{name} is used by deploy/ but not exposed by /metrics"
        );
    }
}
