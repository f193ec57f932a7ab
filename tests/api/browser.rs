//! The chat widget in a real headless Chromium: `tests/browser/widget.test.mjs` (playwright-core
//! over Debian's `chromium`, both installed by `scripts/browser.sh`, which `scripts/test.sh`
//! runs) drives two real servers started here:
//! - the demo store (offline agent, simulated payments): search → cards → cart → checkout →
//!   "paid", keyboard-only use, screenshots and timing;
//! - one whose replies stream slowly (the simulated model), for a reload mid-reply;
//! - and a page of another origin, allowed for one merchant (whose catalog has a hostile title)
//!   and refused under another host name.

use crate::helpers::{free_port, repo_root, spawn_app_with};
use serde_json::json;
use std::process::Stdio;

#[actix_web::test]
async fn the_widget_works_in_a_real_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/browser.sh (scripts/test.sh does) to install Chromium"
    );
    assert!(
        repo_root()
            .join("widget/node_modules/playwright-core")
            .exists(),
        "playwright-core is missing: run scripts/browser.sh (scripts/test.sh does)"
    );
    let shop = spawn_app_with(|env| {
        env.insert("AGENTPAY__DEMO__ENABLED".into(), "true".into());
        env.insert("AGENTPAY__AGENT__MODE".into(), "rules".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
    })
    .await;
    let slow = spawn_app_with(|env| {
        env.insert("AGENTPAY__DEMO__ENABLED".into(), "true".into());
        env.insert("AGENTPAY__AGENT__MODE".into(), "model".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
        env.insert(
            "AGENTPAY__LLM__SIMULATED__TOKENS_PER_SEC".into(),
            "6".into(),
        );
        env.insert("AGENTPAY__LLM__SIMULATED__REPLY_TOKENS".into(), "40".into());
    })
    .await;
    let other_port = free_port();
    let other = shop
        .create_merchant(
            "Another Shop",
            &[format!("http://127.0.0.1:{other_port}").as_str()],
        )
        .await;
    for (id, title) in [
        (
            "HOSTILE-1",
            "<img src=x onerror=\"window.__pwned=1\"> Hostile Tent",
        ),
        ("TENT-2", "Ridge Tent 2P"),
    ] {
        let res = shop
            .post_json(
                "/v1/products",
                Some(&other.secret_key),
                &json!({"external_id": id, "title": title, "price": 19_900, "currency": "USD", "stock": 3}),
            )
            .await;
        assert_eq!(res.status().as_u16(), 201);
    }
    let shots = repo_root().join("target/screenshots");
    let out = tokio::process::Command::new("node")
        .arg(repo_root().join("tests/browser/widget.test.mjs"))
        .env("SHOP_URL", &shop.address)
        .env("SLOW_URL", &slow.address)
        .env("OTHER_PORT", other_port.to_string())
        .env("OTHER_PK", &other.publishable_key)
        .env("SHOTS_DIR", &shots)
        .env("CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(300), out)
        .await
        .expect("the browser tests finish within 5 minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser tests failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok - ")).count(),
        8,
        "every browser check ran"
    );
    assert!(shots.join("demo-chat.png").exists());
}
