//! Fault injection: while switched on, a share of valid requests is answered with a provider
//! failure instead of the normal stream. Off by default, so other users of the fake see no
//! change. The chaos run ([`crate::run_chaos`]) switches faults on in windows and reads the
//! counts at the end.
//!
//! The kinds, in the real providers' shapes (protocols.md §1, §2):
//! - `rate_limited`: 429 with `retry-after` (seconds) and the `rate_limit_error` body (OpenAI:
//!   `rate_limit_exceeded`);
//! - `overloaded`: Anthropic's 529 `overloaded_error` (OpenAI: 503 `server_error`);
//! - `server_error`: 500 `api_error` (OpenAI: `server_error`);
//! - `stall_before_first_byte`: nothing at all for the stall, then the normal answer;
//! - `stall_mid_stream`: the head and some events, the stall, then the rest;
//! - `cut_mid_stream`: the head and some events (text included when the answer has any), then
//!   the connection is closed without the final events or the chunked terminator.
//!
//! Which requests fail is random (seeded); which kind a failure takes rotates through a seeded
//! order of the kinds, so a short run still sees every kind.

use crate::rng::Rng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// A failure the fake can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProviderFault {
    /// 429 with `retry-after`.
    RateLimited,
    /// Anthropic's 529 `overloaded_error`; OpenAI's 503.
    Overloaded,
    /// 500.
    ServerError,
    /// No byte for the stall, then the answer.
    StallBeforeFirstByte,
    /// Some events, the stall, then the rest.
    StallMidStream,
    /// Some events, then the connection closes.
    CutMidStream,
}

impl ProviderFault {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::RateLimited,
        Self::Overloaded,
        Self::ServerError,
        Self::StallBeforeFirstByte,
        Self::StallMidStream,
        Self::CutMidStream,
    ];

    /// The kind's name in reports (`provider_429`, `provider_cut_mid_stream`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::RateLimited => "provider_429",
            Self::Overloaded => "provider_529",
            Self::ServerError => "provider_500",
            Self::StallBeforeFirstByte => "provider_stall_before_first_byte",
            Self::StallMidStream => "provider_stall_mid_stream",
            Self::CutMidStream => "provider_cut_mid_stream",
        }
    }

    fn slot(self) -> usize {
        match self {
            Self::RateLimited => 0,
            Self::Overloaded => 1,
            Self::ServerError => 2,
            Self::StallBeforeFirstByte => 3,
            Self::StallMidStream => 4,
            Self::CutMidStream => 5,
        }
    }
}

/// How often and how the fake fails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultOptions {
    /// Share of valid requests answered with a fault while faults are on (0 to 1). With 0
    /// (the default) faults start switched off.
    pub rate: f64,
    /// Seed of the choices.
    pub seed: u64,
    /// How long a stall lasts: longer than the client's first-byte and idle timeouts makes
    /// the client give up.
    pub stall: Duration,
    /// The `retry-after` of a 429, in seconds.
    pub retry_after_secs: u32,
}

impl Default for FaultOptions {
    /// Off; when switched on, 10-second stalls and `retry-after: 1`.
    fn default() -> Self {
        Self {
            rate: 0.0,
            seed: 1,
            stall: Duration::from_secs(10),
            retry_after_secs: 1,
        }
    }
}

/// The fake's fault switch and counts, shared with whoever runs it
/// ([`super::serve_with_faults`]).
#[derive(Debug)]
pub struct FaultControl {
    options: Mutex<FaultOptions>,
    /// Whether faults are injected now.
    enabled: AtomicBool,
    /// The choices; std Mutex: never held across an await.
    rng: Mutex<Rng>,
    /// The kinds in the order failures take them, and the next one's place.
    order: [ProviderFault; 6],
    next: AtomicU64,
    /// Faults injected, by [`ProviderFault::slot`].
    counts: [AtomicU64; 6],
}

impl FaultControl {
    /// A control for `options`, switched on when its rate is above 0.
    pub fn new(options: FaultOptions) -> Self {
        let mut rng = Rng::new(options.seed);
        let mut order = ProviderFault::ALL;
        rng.shuffle(&mut order);
        Self {
            enabled: AtomicBool::new(options.rate > 0.0),
            options: Mutex::new(options),
            rng: Mutex::new(rng),
            order,
            next: AtomicU64::new(0),
            counts: Default::default(),
        }
    }

    /// Switches faults on or off (the rate stays).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    /// Whether faults are on.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    /// Sets the share of requests that fail while faults are on.
    pub fn set_rate(&self, rate: f64) {
        self.options
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rate = rate.clamp(0.0, 1.0);
    }

    /// The options in force.
    pub fn options(&self) -> FaultOptions {
        *self.options.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Faults injected so far, by name, every kind listed.
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        ProviderFault::ALL
            .iter()
            .map(|k| (k.name(), self.counts[k.slot()].load(Ordering::Relaxed)))
            .collect()
    }

    /// The fault for the next request, if any (counted).
    pub(super) fn draw(&self) -> Option<ProviderFault> {
        if !self.enabled() {
            return None;
        }
        let rate = self.options().rate;
        let hit = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .chance(rate);
        if !hit {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed) as usize;
        let kind = self.order[n % self.order.len()];
        self.counts[kind.slot()].fetch_add(1, Ordering::Relaxed);
        Some(kind)
    }

    /// Where to break a stream of `steps` steps: after at least two (the head, the start, and
    /// the first text when the answer has text), before the last.
    pub(super) fn break_point(&self, steps: usize) -> usize {
        if steps <= 2 {
            return 1.min(steps);
        }
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        rng.range(2, steps as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_off_by_default_and_rotate_through_every_kind_when_on() {
        let off = FaultControl::new(FaultOptions::default());
        assert!((0..100).all(|_| off.draw().is_none()));
        let on = FaultControl::new(FaultOptions {
            rate: 1.0,
            ..FaultOptions::default()
        });
        let kinds: std::collections::BTreeSet<_> = (0..6).filter_map(|_| on.draw()).collect();
        assert_eq!(kinds.len(), 6);
        assert!(on.counts().values().all(|&n| n == 1));
        on.set_enabled(false);
        assert!(on.draw().is_none());
        for steps in 3..20 {
            let at = on.break_point(steps);
            assert!((2..steps).contains(&at), "{at} of {steps}");
        }
    }
}
