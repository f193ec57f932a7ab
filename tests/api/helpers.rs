//! Test harness: `spawn_app()` creates a fresh database, starts the real server on port 0 in
//! this process, and returns a `TestApp` with one method per endpoint. Dropping the `TestApp`
//! drops its database.
//!
//! The Postgres server comes from `AGENTPAY_TEST_DATABASE_URL` when set (CI and
//! `scripts/test.sh` set it); otherwise the project's `scripts/pg.sh start` is run, which starts
//! (or reuses) the local Postgres + pgvector.

use agentpay::config::{LoadOptions, Settings};
use agentpay::startup::Application;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The URL of a database on the test Postgres server with rights to create databases.
pub fn server_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("AGENTPAY_TEST_DATABASE_URL")
            && !url.trim().is_empty()
        {
            return url;
        }
        let out = Command::new(repo_root().join("scripts/pg.sh"))
            .arg("start")
            .output()
            .expect("run scripts/pg.sh start");
        assert!(
            out.status.success(),
            "scripts/pg.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("DATABASE_URL="))
            .expect("pg.sh prints DATABASE_URL")
            .to_string()
    })
    .clone()
}

/// `postgres://…/old` → `postgres://…/name`.
pub fn url_with_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a database URL has a path");
    format!("{base}/{name}")
}

/// A database created for one test and dropped (with its connections) when this is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
    server_url: String,
}

impl TestDb {
    pub async fn create() -> Self {
        Self::create_on(&server_url()).await
    }

    pub async fn create_on(server_url: &str) -> Self {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(server_url)
            .await
            .expect("connect to the test Postgres");
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        conn.close().await.ok();
        Self {
            url: url_with_database(server_url, &name),
            name,
            server_url: server_url.to_string(),
        }
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread
        // with its own runtime does the async cleanup and is joined.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&server_url).await {
                    let _ = sqlx::query(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// Installs the process's TLS crypto provider (ring), which reqwest with rustls needs before a
/// client is built, then hands the builder back.
pub fn tls_ready(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    builder
}

/// A plain HTTP client for tests.
pub fn http_client() -> reqwest::Client {
    tls_ready(reqwest::Client::builder()).build().unwrap()
}

/// A running server and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    handle: actix_web::dev::ServerHandle,
}

/// Environment for a test server: test layer, the given database, the admin token.
pub fn test_env(database_url: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("AGENTPAY_ENV".into(), "test".into());
    env.insert("DATABASE_URL".into(), database_url.into());
    env.insert("AGENTPAY_ADMIN_TOKEN".into(), ADMIN_TOKEN.into());
    env
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server whose environment `tweak` may change (config overrides).
pub async fn spawn_app_with(tweak: impl FnOnce(&mut BTreeMap<String, String>)) -> TestApp {
    let db = TestDb::create().await;
    spawn_app_on(db, tweak).await
}

pub async fn spawn_app_on(
    db: TestDb,
    tweak: impl FnOnce(&mut BTreeMap<String, String>),
) -> TestApp {
    let mut env = test_env(&db.url);
    tweak(&mut env);
    let config = Settings::load(&LoadOptions {
        env,
        config_dir: Some(repo_root().join("config")),
    })
    .expect("test configuration loads");
    if std::env::var("TEST_LOG").is_ok() {
        agentpay::telemetry::init(&config.settings.log);
    }
    let app = Application::build(config)
        .await
        .expect("the application builds");
    let port = app.port();
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: tls_ready(reqwest::Client::builder())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        handle,
    }
}

/// A merchant created through the API, with its keys.
#[derive(Debug, Clone)]
pub struct TestMerchant {
    pub id: String,
    pub secret_key: String,
    pub secret_key_id: String,
    pub publishable_key: String,
    pub publishable_key_id: String,
    pub body: Value,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn create_merchant(&self, name: &str, origins: &[&str]) -> TestMerchant {
        let res = self
            .post_json(
                "/v1/merchants",
                Some(ADMIN_TOKEN),
                &json!({"name": name, "currency": "USD", "allowed_origins": origins}),
            )
            .await;
        assert_eq!(res.status(), 201, "create merchant");
        let body: Value = res.json().await.unwrap();
        TestMerchant {
            id: body["merchant"]["id"].as_str().unwrap().to_string(),
            secret_key: body["secret_key"]["key"].as_str().unwrap().to_string(),
            secret_key_id: body["secret_key"]["id"].as_str().unwrap().to_string(),
            publishable_key: body["publishable_key"]["key"].as_str().unwrap().to_string(),
            publishable_key_id: body["publishable_key"]["id"].as_str().unwrap().to_string(),
            body,
        }
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Asserts a response is the API's error shape with `status` and `code`; returns the body.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let body: Value = res.json().await.expect("an error body is JSON");
    assert_eq!(body["error"]["code"], code, "error code in {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    body
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_agentpay"))
}
