//! The scenarios, one file each: [`run_connections`], [`run_chat`], [`run_http`] and
//! [`run_search`]. This module holds what they share while running: the error and progress
//! counters ([`Live`]) and the once-a-second progress line.

mod chat;
mod connections;
mod http;
mod search;

pub use chat::{ChatOptions, ScriptTurn, Session, read_script, run_chat};
pub use connections::{ConnectionsOptions, run_connections};
pub use http::{HttpOptions, run_http};
pub use search::{SearchOptions, run_search};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Shared, lock-light counters while a scenario runs.
#[derive(Default)]
struct Live {
    errors: Mutex<BTreeMap<String, u64>>,
    progress: AtomicU64,
}

impl Live {
    async fn error(&self, kind: impl Into<String>) {
        *self.errors.lock().await.entry(kind.into()).or_insert(0) += 1;
    }
}

async fn progress_reporter(live: Arc<Live>, what: &'static str, started: Instant, quiet: bool) {
    if quiet {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let errors: u64 = live.errors.lock().await.values().sum();
        eprintln!(
            "[{:>5.1}s] {what}: {}  errors: {errors}",
            started.elapsed().as_secs_f64(),
            live.progress.load(Ordering::Relaxed)
        );
    }
}
