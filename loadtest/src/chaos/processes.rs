//! The processes a chaos run owns: a private Postgres cluster run by the project's
//! `scripts/pg.sh` (its own folder and port, never the shared cluster on 54329) and the real
//! server binary as a child process. Both can be broken and healed: the server SIGKILLed and
//! started again on the same port, Postgres stopped (fast shutdown) or crashed (SIGQUIT to the
//! postmaster: an immediate shutdown, crash recovery on the next start) and started again.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A free TCP port on loopback (bound, then released).
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("could not find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Runs a blocking command off the async threads; its output.
async fn run(mut cmd: Command) -> anyhow::Result<std::process::Output> {
    let what = format!("{cmd:?}");
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .context("the command's thread failed")?
        .with_context(|| format!("could not run {what}"))
}

/// A private Postgres cluster (`scripts/pg.sh` with `AGENTPAY_PG_DIR` and `AGENTPAY_PG_PORT`).
/// Destroyed on [`PrivatePostgres::destroy`] (and, as a last resort, on drop).
pub(crate) struct PrivatePostgres {
    /// `scripts/pg.sh`.
    script: PathBuf,
    /// The cluster's folder (private to this run).
    dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    /// The `DATABASE_URL` it serves.
    pub(crate) url: String,
    /// Set once destroyed, so drop does nothing.
    destroyed: bool,
}

impl PrivatePostgres {
    /// Starts a new cluster in `dir` on a free port.
    pub(crate) async fn start(repo: &Path, dir: PathBuf) -> anyhow::Result<Self> {
        let port = free_port()?;
        if port == 54329 {
            bail!("refusing the shared cluster's port 54329");
        }
        let mut pg = Self {
            script: repo.join("scripts/pg.sh"),
            dir,
            port,
            url: String::new(),
            destroyed: false,
        };
        let out = pg.pg_sh("start").await?;
        pg.url = out
            .lines()
            .find_map(|l| l.strip_prefix("DATABASE_URL="))
            .map(str::to_string)
            .context("pg.sh start printed no DATABASE_URL")?;
        Ok(pg)
    }

    fn command(&self, verb: &str) -> Command {
        let mut cmd = Command::new(&self.script);
        cmd.arg(verb)
            .env("AGENTPAY_PG_DIR", &self.dir)
            .env("AGENTPAY_PG_PORT", self.port.to_string())
            // A small cluster: the chaos run holds no catalog vectors.
            .env("AGENTPAY_PG_SHARED_BUFFERS", "128MB")
            .stdin(Stdio::null());
        cmd
    }

    async fn pg_sh(&self, verb: &str) -> anyhow::Result<String> {
        let out = run(self.command(verb)).await?;
        if !out.status.success() {
            bail!(
                "pg.sh {verb} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Stops the server with a fast shutdown.
    pub(crate) async fn stop(&self) -> anyhow::Result<()> {
        self.pg_sh("stop").await.map(drop)
    }

    /// Starts it again (crash recovery after [`Self::crash`]).
    pub(crate) async fn restart(&self) -> anyhow::Result<()> {
        self.pg_sh("start").await.map(drop)
    }

    /// The cluster's data folder: pg.sh keeps it under the folder, or under
    /// /var/lib/agentpay-pg when the folder is not reachable by its unprivileged user.
    fn data_dir(&self) -> Option<PathBuf> {
        let direct = self.dir.join("data");
        if direct.join("PG_VERSION").exists() {
            return Some(direct);
        }
        let entries = std::fs::read_dir("/var/lib/agentpay-pg").ok()?;
        entries.flatten().map(|e| e.path().join("data")).find(|d| {
            std::fs::read_to_string(d.join("postmaster.pid"))
                .is_ok_and(|pid| pid.lines().nth(3) == Some(&self.port.to_string()))
        })
    }

    /// Crashes the server: SIGQUIT to the postmaster, Postgres' immediate shutdown (no
    /// checkpoint; the next start runs crash recovery). Waits until it is gone.
    pub(crate) async fn crash(&self) -> anyhow::Result<()> {
        let data = self
            .data_dir()
            .context("cannot find the private cluster's data folder")?;
        let pidfile = data.join("postmaster.pid");
        let pid = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.lines().next().map(|l| l.trim().to_string()))
            .context("the private cluster has no postmaster.pid: is it running?")?;
        let mut kill = Command::new("kill");
        kill.args(["-QUIT", &pid]);
        let out = run(kill).await?;
        if !out.status.success() {
            bail!("kill -QUIT {pid} failed");
        }
        let started = Instant::now();
        while pidfile.exists() {
            if started.elapsed() > Duration::from_secs(30) {
                bail!("postgres (pid {pid}) did not stop within 30 s of SIGQUIT");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Stops the server and deletes the cluster.
    pub(crate) async fn destroy(mut self) -> anyhow::Result<()> {
        self.destroyed = true;
        self.pg_sh("destroy").await.map(drop)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if !self.destroyed {
            let _ = self.command("destroy").output();
        }
    }
}

/// How the server is started: its binary and environment.
#[derive(Debug, Clone)]
pub(crate) struct ServerSpec {
    /// `target/debug/agentpay` or `target/release/agentpay`.
    pub(crate) binary: PathBuf,
    /// The environment (the child's is cleared first, PATH kept).
    pub(crate) env: Vec<(String, String)>,
    /// Its port.
    pub(crate) port: u16,
    /// Where its output goes (appended, one file for every start).
    pub(crate) log: PathBuf,
}

/// The server as a child process; started again after every kill.
pub(crate) struct Server {
    spec: ServerSpec,
    /// The running child; std Mutex: never held across an await.
    child: Mutex<Option<Child>>,
}

impl Server {
    /// A server not yet started.
    pub(crate) fn new(spec: ServerSpec) -> Self {
        Self {
            spec,
            child: Mutex::new(None),
        }
    }

    /// Its base URL.
    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.spec.port)
    }

    /// Its pid while running.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(Child::id)
    }

    /// Starts it and waits until `/health` answers 200 (at most `within`).
    pub(crate) async fn start(&self, within: Duration) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.spec.log)
            .with_context(|| format!("cannot open {}", self.spec.log.display()))?;
        let mut cmd = Command::new(&self.spec.binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        for (k, v) in &self.spec.env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", self.spec.binary.display()))?;
        *self.child.lock().unwrap_or_else(PoisonError::into_inner) = Some(child);
        crate::client::tls_ready();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let health = format!("{}/health", self.base_url());
        let started = Instant::now();
        loop {
            if client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Ok(());
            }
            let exited = self
                .child
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                bail!(
                    "the server exited while starting ({status}); see {}",
                    self.spec.log.display()
                );
            }
            if started.elapsed() > within {
                bail!(
                    "the server was not healthy within {within:?}; see {}",
                    self.spec.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILLs it (no shutdown of any kind) and reaps it.
    pub(crate) fn kill(&self) {
        if let Some(mut child) = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether it is running (it has not exited by itself).
    pub(crate) fn running(&self) -> bool {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
