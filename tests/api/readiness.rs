//! `/ready` follows the database: 503 within seconds when Postgres stops, 200 again by itself
//! when it returns, with no server restart. Uses a private Postgres cluster (started by the
//! project's `scripts/pg.sh` on its own port and folder) so stopping it disturbs no other test.

use crate::helpers::*;
use std::process::Command;
use std::time::{Duration, Instant};

struct PrivatePostgres {
    dir: std::path::PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn run(&self, cmd: &str) -> String {
        let out = Command::new(repo_root().join("scripts/pg.sh"))
            .arg(cmd)
            .env("AGENTPAY_PG_DIR", &self.dir)
            .env("AGENTPAY_PG_PORT", self.port.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg.sh {cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn start(port: u16) -> (Self, String) {
        let dir = repo_root()
            .join(".data/test-pg")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let pg = Self { dir, port };
        let out = pg.run("start");
        let url = out
            .lines()
            .find_map(|l| l.strip_prefix("DATABASE_URL="))
            .unwrap()
            .to_string();
        (pg, url)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/pg.sh"))
            .arg("destroy")
            .env("AGENTPAY_PG_DIR", &self.dir)
            .env("AGENTPAY_PG_PORT", self.port.to_string())
            .output();
    }
}

async fn wait_for_status(app: &TestApp, want: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let status = app
            .client
            .get(app.url("/ready"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "/ready did not turn {want} within {within:?} (last: {status})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn ready_turns_503_when_postgres_stops_and_200_when_it_returns() {
    let port = free_port();
    let (pg, url) = PrivatePostgres::start(port);
    let db = TestDb::create_on(&url).await;
    let app = spawn_app_on(db, |_| {}).await;
    wait_for_status(&app, 200, Duration::from_secs(5)).await;

    pg.run("stop");
    let took = wait_for_status(&app, 503, Duration::from_secs(5)).await;
    eprintln!("/ready turned 503 after {took:?}");
    // /health does not depend on the database.
    assert_eq!(app.get("/health", None).await.status(), 200);
    let body: serde_json::Value = app.get("/ready", None).await.json().await.unwrap();
    assert_ne!(body["checks"]["database"], "ok");

    pg.run("start");
    let took = wait_for_status(&app, 200, Duration::from_secs(30)).await;
    eprintln!("/ready turned 200 after {took:?}");
    // And real requests work again on the same server.
    let m = app.create_merchant("After Restart", &[]).await;
    assert_eq!(
        app.get("/v1/merchant", Some(&m.secret_key)).await.status(),
        200
    );
    app.stop().await;
}
