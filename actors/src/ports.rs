//! Ports: what the engine needs from the outside, as traits. The `agentpay` crate implements
//! them for real (Postgres, HTTP providers); tests implement them in memory.

use chrono::{DateTime, Utc};

/// The time source. Engine code asks a `Clock` instead of calling `Utc::now()` so tests can
/// control time.
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
