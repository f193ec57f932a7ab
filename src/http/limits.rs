//! Rate limits and abuse controls at the edges, over the `RateLimiterActor`.
//!
//! Rate checks run inline on the limiter's shared table (no actor hop on the hot path).
//! Connection slots are asked of the `RateLimiterActor` with a short timeout
//! (`rate_limit.check_timeout_ms`); if it does not answer the connection is allowed and the miss
//! is logged (fail open: a limiter problem must not take the chat down). Per-merchant overrides come from the merchant's agent
//! configuration (`limits`), cached here and refreshed when the merchant saves it.

use super::errors::ApiError;
use crate::config::RateLimitSettings;
use crate::metrics::Metrics;
use actix::prelude::*;
use actix_web::HttpRequest;
use agentpay_actors::agent::MerchantLimits;
use agentpay_actors::ids::MerchantId;
use agentpay_actors::ratelimit::{
    Acquire, Decision, Rate, RateLimiterActor, RateTable, Release, Scope,
};
use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The edges' handle on rate limiting.
#[derive(Clone)]
pub struct Limits {
    /// The limiter (connection slots, sweeping); `None` when `rate_limit.enabled = false`.
    limiter: Option<Addr<RateLimiterActor>>,
    /// The rate table, checked inline (shared with the limiter, which sweeps it).
    table: Arc<RateTable>,
    /// Deployment defaults and proxy trust.
    settings: Arc<RateLimitSettings>,
    /// Trusted proxies, parsed.
    trusted: Arc<Vec<IpAddr>>,
    /// Per-merchant overrides, filled on first use and replaced when the merchant saves its
    /// configuration. Other nodes see a change on their next load (after a restart or eviction).
    overrides: Arc<DashMap<MerchantId, MerchantLimits>>,
    /// Metrics.
    metrics: Arc<Metrics>,
}

/// A refusal: which scope, and when to retry.
#[derive(Debug, Clone, Copy)]
pub struct Limited {
    /// When a retry can succeed.
    pub retry_after: Duration,
}

impl From<Limited> for ApiError {
    fn from(l: Limited) -> Self {
        ApiError::RateLimited {
            retry_after_secs: l.retry_after.as_secs_f64().ceil().max(1.0) as u64,
        }
    }
}

impl Limits {
    /// Starts the limiter (once, at startup) unless limits are off.
    pub fn start(settings: &RateLimitSettings, metrics: Arc<Metrics>) -> Self {
        let table = Arc::new(RateTable::default());
        let limiter = settings.enabled.then(|| {
            RateLimiterActor::new(
                table.clone(),
                Duration::from_secs(settings.sweep_interval_secs),
            )
            .start()
        });
        Self {
            limiter,
            table,
            trusted: Arc::new(
                settings
                    .trusted_proxies
                    .iter()
                    .filter_map(|p| p.parse().ok())
                    .collect(),
            ),
            settings: Arc::new(settings.clone()),
            overrides: Arc::new(DashMap::new()),
            metrics,
        }
    }

    /// The client's IP: the peer, or, when the peer is a trusted proxy, the rightmost
    /// `X-Forwarded-For` entry that is not itself a trusted proxy.
    pub fn client_ip(&self, req: &HttpRequest) -> String {
        let peer = req.peer_addr().map(|a| a.ip());
        let Some(peer) = peer else {
            return "unknown".into();
        };
        if !self.trusted.contains(&peer) {
            return peer.to_string();
        }
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !self.trusted.contains(ip))
            .unwrap_or(peer)
            .to_string()
    }

    /// Remembers a merchant's overrides (after it saves its configuration).
    pub fn set_overrides(&self, merchant: MerchantId, limits: MerchantLimits) {
        self.overrides.insert(merchant, limits);
    }

    async fn overrides(&self, pool: &sqlx::PgPool, merchant: MerchantId) -> MerchantLimits {
        if let Some(l) = self.overrides.get(&merchant) {
            return *l;
        }
        match crate::store::agent_configs::load(pool, merchant).await {
            Ok(s) => {
                self.overrides.insert(merchant, s.config.limits);
                s.config.limits
            }
            Err(e) => {
                tracing::warn!(merchant_id = %merchant, error = %e, "could not load merchant limits; using defaults");
                MerchantLimits::default()
            }
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.check_timeout_ms)
    }

    fn check(&self, scope: Scope, key: String, per_minute: u32) -> Result<(), Limited> {
        let started = Instant::now();
        let decision = self.table.check(scope, key, Rate { per_minute });
        self.metrics
            .rate_limit_check_duration_seconds
            .observe(started.elapsed().as_secs_f64());
        match decision {
            Decision::Allow => Ok(()),
            Decision::Deny { retry_after } => {
                self.metrics
                    .rate_limit_rejections_total
                    .with_label_values(&[scope.as_str()])
                    .inc();
                Err(Limited { retry_after })
            }
        }
    }

    /// One event of `scope`/`key` at the merchant's rate for it (its override, else the
    /// deployment's default, both picked by `rate`).
    async fn check_for(
        &self,
        pool: &sqlx::PgPool,
        merchant: MerchantId,
        scope: Scope,
        key: &str,
        rate: fn(&MerchantLimits, &RateLimitSettings) -> u32,
    ) -> Result<(), Limited> {
        if self.limiter.is_none() {
            return Ok(());
        }
        let overrides = self.overrides(pool, merchant).await;
        let per_minute = rate(&overrides, &self.settings);
        self.check(scope, key.to_string(), per_minute)
    }

    /// One merchant API request with the key `key_id`.
    pub async fn check_api(
        &self,
        pool: &sqlx::PgPool,
        merchant: MerchantId,
        key_id: &str,
    ) -> Result<(), Limited> {
        self.check_for(pool, merchant, Scope::Api, key_id, |o, d| {
            o.api_requests_per_minute
                .unwrap_or(d.api_requests_per_minute)
        })
        .await
    }

    /// One visitor message in a conversation.
    pub async fn check_chat(
        &self,
        pool: &sqlx::PgPool,
        merchant: MerchantId,
        conversation: &str,
    ) -> Result<(), Limited> {
        self.check_for(pool, merchant, Scope::Chat, conversation, |o, d| {
            o.chat_messages_per_minute
                .unwrap_or(d.chat_messages_per_minute)
        })
        .await
    }

    /// One conversation creation from `ip`.
    pub async fn check_create(
        &self,
        pool: &sqlx::PgPool,
        merchant: MerchantId,
        ip: &str,
    ) -> Result<(), Limited> {
        self.check_for(pool, merchant, Scope::CreateConversation, ip, |o, d| {
            o.conversations_per_minute_per_ip
                .unwrap_or(d.conversations_per_minute_per_ip)
        })
        .await
    }

    /// Takes a connection slot for the conversation and one for the IP. On success, the
    /// returned guard gives both back when dropped.
    pub async fn acquire_connection(
        &self,
        pool: &sqlx::PgPool,
        merchant: MerchantId,
        conversation: &str,
        ip: &str,
    ) -> Result<ConnectionSlots, Limited> {
        let Some(limiter) = self.limiter.clone() else {
            return Ok(ConnectionSlots {
                held: Vec::new(),
                limiter: None,
            });
        };
        let o = self.overrides(pool, merchant).await;
        let wanted = [
            (
                Scope::ConnectionsPerConversation,
                conversation.to_string(),
                o.connections_per_conversation
                    .unwrap_or(self.settings.connections_per_conversation),
            ),
            (
                Scope::ConnectionsPerIp,
                ip.to_string(),
                o.connections_per_ip
                    .unwrap_or(self.settings.connections_per_ip),
            ),
        ];
        let mut slots = ConnectionSlots {
            held: Vec::new(),
            limiter: Some(limiter.clone()),
        };
        for (scope, key, max) in wanted {
            let got = tokio::time::timeout(
                self.timeout(),
                limiter.send(Acquire {
                    scope,
                    key: key.clone(),
                    max,
                }),
            )
            .await;
            match got {
                Ok(Ok(true)) => slots.held.push((scope, key)),
                Ok(Ok(false)) => {
                    self.metrics
                        .rate_limit_rejections_total
                        .with_label_values(&[scope.as_str()])
                        .inc();
                    // Dropping `slots` releases what was taken.
                    return Err(Limited {
                        retry_after: Duration::from_secs(5),
                    });
                }
                _ => tracing::warn!(
                    scope = scope.as_str(),
                    "rate limiter did not answer; allowing"
                ),
            }
        }
        Ok(slots)
    }
}

/// Connection slots held by one WebSocket; released on drop.
pub struct ConnectionSlots {
    /// What was acquired.
    held: Vec<(Scope, String)>,
    /// Where to release it.
    limiter: Option<Addr<RateLimiterActor>>,
}

impl Drop for ConnectionSlots {
    fn drop(&mut self) {
        if let Some(l) = &self.limiter {
            for (scope, key) in self.held.drain(..) {
                // do_send: a release must not wait or fail on a full mailbox.
                l.do_send(Release { scope, key });
            }
        }
    }
}
