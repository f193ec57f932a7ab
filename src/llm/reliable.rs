//! Reliability around providers: retries with backoff, a circuit breaker per provider, and a
//! fallback chain.
//!
//! - A call is retried only **before its first event reached the caller** (text, a tool call):
//!   once a visitor saw text, a retry would show it twice. Waits grow exponentially with full
//!   jitter and honour the provider's `retry-after`, up to `max_backoff`.
//! - After `failure_threshold` failed calls in a row a provider's breaker opens: calls skip it
//!   for `cooldown`, then one trial call decides whether it closes again.
//! - When a provider fails (or is skipped), the next one of the chain is tried, the same way.
//!   A request the provider refused as malformed is not passed on (the next would refuse it too).
//! - A failure after text has streamed ends the stream with that error; the conversation keeps
//!   the partial text, marked interrupted, with a notice.

use agentpay_actors::ports::model::{
    ModelClient, ModelError, ModelEvent, ModelRequest, ModelStream,
};
use futures_util::StreamExt;
use futures_util::stream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How failed calls are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries per provider after the first attempt.
    pub max_retries: u32,
    /// The first wait; each retry doubles it.
    pub base_backoff: Duration,
    /// The longest wait, including a provider's `retry-after`.
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based) after `error`.
    pub fn backoff(&self, attempt: u32, error: &ModelError) -> Duration {
        if let Some(hint) = error.retry_after() {
            return hint.min(self.max_backoff);
        }
        let exp = self
            .base_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let ceiling = exp.min(self.max_backoff);
        // Full jitter: uniform in [ceiling / 2, ceiling], so many conversations do not retry in
        // lock-step after a provider hiccup.
        let mut bytes = [0u8; 8];
        let unit = if getrandom::fill(&mut bytes).is_ok() {
            (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
        } else {
            0.5
        };
        ceiling.mul_f64(0.5 + unit / 2.0)
    }
}

/// When a provider's breaker opens and for how long.
#[derive(Debug, Clone, Copy)]
pub struct BreakerPolicy {
    /// Failed calls in a row that open it.
    pub failure_threshold: u32,
    /// How long calls skip the provider once it is open.
    pub cooldown: Duration,
}

#[derive(Debug, Default)]
struct BreakerState {
    failures: u32,
    open_until: Option<Instant>,
}

/// One provider's circuit breaker.
#[derive(Debug)]
pub struct Breaker {
    policy: BreakerPolicy,
    state: Mutex<BreakerState>,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            state: Mutex::new(BreakerState::default()),
        }
    }

    /// Whether a call may go to the provider now (closed, or open with its cooldown over: the
    /// call is then the trial).
    pub fn allows(&self) -> bool {
        let Ok(state) = self.state.lock() else {
            return true;
        };
        state.open_until.is_none_or(|until| Instant::now() >= until)
    }

    /// Whether it is open now.
    pub fn is_open(&self) -> bool {
        !self.allows()
    }

    /// A call succeeded: closes it.
    pub fn success(&self) {
        if let Ok(mut state) = self.state.lock() {
            *state = BreakerState::default();
        }
    }

    /// A call failed: opens it at the threshold (and again after a failed trial).
    pub fn failure(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.failures = state.failures.saturating_add(1);
            if state.failures >= self.policy.failure_threshold {
                state.open_until = Some(Instant::now() + self.policy.cooldown);
            }
        }
    }
}

/// One provider of a chain, with its breaker.
pub struct Link {
    /// The provider.
    pub client: Arc<dyn ModelClient>,
    /// Its breaker (shared by every chain that uses the provider).
    pub breaker: Arc<Breaker>,
}

/// Told of each call's retries, fallbacks and skipped providers (for metrics and logs).
pub trait ChainObserver: Send + Sync + 'static {
    /// A provider's attempt failed before its first event.
    fn attempt_failed(&self, _provider: &str, _error: &ModelError) {}
    /// A provider was skipped because its breaker is open.
    fn skipped(&self, _provider: &str) {}
}

/// A chain that observes nothing.
pub struct NoChainObserver;
impl ChainObserver for NoChainObserver {}

/// Providers tried in order, each with retries: itself a [`ModelClient`].
pub struct FallbackChain {
    links: Vec<Link>,
    retry: RetryPolicy,
    observer: Arc<dyn ChainObserver>,
}

impl FallbackChain {
    /// A chain over `links` (at least one).
    pub fn new(links: Vec<Link>, retry: RetryPolicy, observer: Arc<dyn ChainObserver>) -> Self {
        Self {
            links,
            retry,
            observer,
        }
    }
}

/// The first event of a provider's stream, or its error (`None`: an empty stream).
async fn first_event(stream: &mut ModelStream) -> Option<Result<ModelEvent, ModelError>> {
    stream.next().await
}

impl ModelClient for FallbackChain {
    fn provider(&self) -> &str {
        self.links.first().map_or("none", |l| l.client.provider())
    }

    fn model(&self) -> &str {
        self.links.first().map_or("none", |l| l.client.model())
    }

    fn supports_tools(&self) -> bool {
        // Any link may answer a call, so every link must handle tools.
        self.links.iter().all(|l| l.client.supports_tools())
    }

    fn stream(&self, request: ModelRequest) -> ModelStream {
        let mut links: Vec<(Arc<dyn ModelClient>, Arc<Breaker>)> = self
            .links
            .iter()
            .map(|l| (l.client.clone(), l.breaker.clone()))
            .collect();
        // The merchant's preferred provider goes first, the others keep their order.
        if let Some(preferred) = request.preferred_provider {
            links.sort_by_key(|(client, _)| client.provider() != preferred.as_str());
        }
        let (retry, observer) = (self.retry, self.observer.clone());
        let start = async move {
            let mut last = ModelError::Unreachable("no model provider is available".into());
            'links: for (client, breaker) in links {
                if !breaker.allows() {
                    observer.skipped(client.provider());
                    continue;
                }
                let mut attempt = 0;
                loop {
                    let mut stream = client.stream(request.clone());
                    match first_event(&mut stream).await {
                        Some(Ok(first)) => {
                            breaker.success();
                            // Committed: from here the stream goes to the visitor as it comes,
                            // named after the provider that answers (for the cost record).
                            let served = ModelEvent::Served {
                                provider: client.provider().to_string(),
                                model: client.model().to_string(),
                            };
                            return stream::iter([Ok(served), Ok(first)]).chain(stream).boxed();
                        }
                        Some(Err(e)) => {
                            observer.attempt_failed(client.provider(), &e);
                            if !e.may_fall_back() {
                                return stream::once(async move { Err(e) }).boxed();
                            }
                            if e.is_retryable() && attempt < retry.max_retries {
                                attempt += 1;
                                tokio::time::sleep(retry.backoff(attempt, &e)).await;
                                continue;
                            }
                            breaker.failure();
                            last = e;
                            continue 'links;
                        }
                        None => {
                            let e = ModelError::BrokenStream("the provider sent nothing".into());
                            observer.attempt_failed(client.provider(), &e);
                            breaker.failure();
                            last = e;
                            continue 'links;
                        }
                    }
                }
            }
            stream::once(async move { Err(last) }).boxed()
        };
        stream::once(start).flatten().boxed()
    }
}
