//! The demo store and the widget's assets, through the real server: `/demo` exists only with
//! `demo.enabled`, shows the development catalog with the one-tag embed, and its merchant,
//! key, assistant and catalog are created once (a second start changes nothing); the bundle is
//! served to any page with a long cache, an ETag and CORS for Subresource Integrity; the
//! widget's configuration carries the merchant's assistant and colours, and a bad colour is
//! refused.

use crate::helpers::{TestApp, assert_error, repo_root, spawn_app, spawn_app_with, test_env};
use agentpay::config::{LoadOptions, Settings};
use serde_json::{Value, json};
use sqlx::Connection;

const DEMO_KEY: &str = "pk_demo_AgentPayOfflineDemoStore2026";

async fn demo_app() -> TestApp {
    spawn_app_with(|env| {
        env.insert("AGENTPAY__DEMO__ENABLED".into(), "true".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
    })
    .await
}

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    let mut db = app.db.connect().await;
    let one = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    (
        one("SELECT count(*) FROM merchants")
            .fetch_one(&mut db)
            .await
            .unwrap(),
        one("SELECT count(*) FROM api_keys")
            .fetch_one(&mut db)
            .await
            .unwrap(),
        one("SELECT count(*) FROM products")
            .fetch_one(&mut db)
            .await
            .unwrap(),
    )
}

#[actix_web::test]
async fn the_demo_store_is_created_once_and_embeds_the_widget() {
    let app = demo_app().await;
    let res = app.get("/demo", None).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!(
        "<script src=\"/widget/v1/agentpay.js\" data-publishable-key=\"{DEMO_KEY}\" async>"
    )));
    assert!(
        html.contains("Drizzle Lite Rain Shell"),
        "the catalog is on the shelves"
    );

    // The widget's configuration, with the demo key.
    let config: Value = app
        .get("/v1/widget/config", Some(DEMO_KEY))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["merchant"]["name"], "Trailhead Outfitters");
    assert_eq!(config["assistant"]["name"], "Juniper");
    assert_eq!(config["assistant"]["languages"][4], "pt");
    assert_eq!(config["theme"]["accent"], "#1f5f4b");

    // A second start (the seeding again) changes nothing.
    let before = counts(&app).await;
    assert_eq!((before.0, before.1), (1, 1));
    assert_eq!(before.2, 388);
    let mut env = test_env(&app.db.url);
    env.insert("AGENTPAY__DEMO__ENABLED".into(), "true".into());
    let settings = Settings::load(&LoadOptions {
        env,
        config_dir: Some(repo_root().join("config")),
    })
    .unwrap()
    .settings;
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    agentpay::demo::seed(&pool, &settings, None).await.unwrap();
    pool.close().await;
    assert_eq!(counts(&app).await, before);
    let mut db = app.db.connect().await;
    let version: i64 = sqlx::query_scalar("SELECT max(version) FROM agent_configs")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(version, 1, "the assistant's configuration is not rewritten");
    db.close().await.unwrap();
}

#[actix_web::test]
async fn without_demo_enabled_there_is_no_store_but_the_widget_is_served() {
    let app = spawn_app().await;
    assert_error(app.get("/demo", None).await, 404, "not_found").await;
    assert_eq!(counts(&app).await, (0, 0, 0));

    let res = app.get("/widget/v1/agentpay.js", None).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        h["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=86400")
    );
    assert_eq!(h["access-control-allow-origin"], "*");
    let body = res.bytes().await.unwrap();
    let dist = std::fs::read(repo_root().join("widget/dist/agentpay.js")).unwrap();
    assert_eq!(
        body.as_ref(),
        dist.as_slice(),
        "the committed bundle is what is served"
    );
    let etag = h["etag"].to_str().unwrap();
    let again = app
        .client
        .get(app.url("/widget/v1/agentpay.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[actix_web::test]
async fn the_widget_takes_the_merchants_colours_and_refuses_a_bad_one() {
    let app = spawn_app().await;
    let m = app.create_merchant("Colour Shop", &[]).await;
    let put = |body: Value| {
        app.client
            .put(app.url("/v1/merchant/agent"))
            .bearer_auth(&m.secret_key)
            .json(&body)
            .send()
    };
    let res = put(
        json!({"assistant_name": "Ada", "theme": {"accent": "#112233", "on_accent": "#fefefe"}}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let res = put(json!({"theme": {"accent": "red"}})).await.unwrap();
    let body = assert_error(res, 422, "invalid_field").await;
    assert_eq!(body["error"]["field"], "theme.accent");
    let config: Value = app
        .get("/v1/widget/config", Some(&m.publishable_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["assistant"]["name"], "Ada");
    assert_eq!(config["theme"]["accent"], "#112233");
    assert_eq!(config["theme"]["on_accent"], "#fefefe");
}
