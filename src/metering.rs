//! Model costs and merchants' spend: the engine's `Metering` port on the price table of
//! `llm.prices` and Postgres.
//!
//! Costs are integer nano-USD. Every model call's cost is stored as a row of `model_calls`, and
//! its turn's total with the reply (`messages.cost_nanos`, with the usage summed and the last
//! call's provider and model), in the statement that stores the reply's end; spend is the sum of
//! the replies' totals. Budgets need the spend of today and of this month on every turn, without
//! a query per turn: each merchant's spend is loaded once from the database (when a conversation
//! of the merchant first asks), then kept current in memory as replies are charged, and reloaded
//! every minute so charges made by other processes are counted too. Until the first load
//! completes a merchant counts as having spent nothing (a budget can be overrun by the replies
//! of those first milliseconds).

use crate::config::ModelPrice;
use crate::store::usage;
use agentpay_actors::ids::MerchantId;
use agentpay_actors::ports::metering::{Charge, Metering, Spend};
use agentpay_actors::ports::model::Usage;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use dashmap::DashMap;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a merchant's spend is trusted before it is reloaded from the database.
const RELOAD_AFTER: Duration = Duration::from_secs(60);

/// A model's prices in nano-USD per token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenPrices {
    /// Uncached prompt tokens.
    pub input: i64,
    /// Generated tokens.
    pub output: i64,
    /// Cache writes.
    pub cache_write: i64,
    /// Cache reads.
    pub cache_read: i64,
}

impl TokenPrices {
    /// From USD per million tokens: $1 per million is 1,000 nano-USD per token.
    pub fn from_config(p: &ModelPrice) -> Self {
        let nanos = |usd_per_million: f64| (usd_per_million * 1000.0).round() as i64;
        Self {
            input: nanos(p.input),
            output: nanos(p.output),
            cache_write: nanos(p.cache_write),
            cache_read: nanos(p.cache_read),
        }
    }

    /// The cost of `usage` in nano-USD.
    pub fn cost(&self, usage: &Usage) -> i64 {
        let t = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        t(usage.input_tokens)
            .saturating_mul(self.input)
            .saturating_add(t(usage.output_tokens).saturating_mul(self.output))
            .saturating_add(t(usage.cache_write_tokens).saturating_mul(self.cache_write))
            .saturating_add(t(usage.cache_read_tokens).saturating_mul(self.cache_read))
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    day: NaiveDate,
    today: i64,
    month: (i32, u32),
    this_month: i64,
    loaded_at: Option<Instant>,
    loading: bool,
}

/// Prices from configuration, spend from Postgres kept in memory.
pub struct PgMetering {
    pool: PgPool,
    prices: HashMap<String, TokenPrices>,
    spend: Arc<DashMap<MerchantId, Entry>>,
    unpriced: DashMap<String, ()>,
}

impl PgMetering {
    /// Metering with `prices` over the database behind `pool`.
    pub fn new(pool: PgPool, prices: &[ModelPrice]) -> Self {
        Self {
            pool,
            prices: prices
                .iter()
                .map(|p| (p.model.clone(), TokenPrices::from_config(p)))
                .collect(),
            spend: Arc::default(),
            unpriced: DashMap::new(),
        }
    }

    fn fresh(now: DateTime<Utc>) -> Entry {
        let day = now.date_naive();
        Entry {
            day,
            today: 0,
            month: (day.year(), day.month()),
            this_month: 0,
            loaded_at: None,
            loading: false,
        }
    }

    /// Starts a reload of `merchant`'s spend from the database (at most one at a time).
    fn reload(&self, merchant: MerchantId) {
        let pool = self.pool.clone();
        let spend = self.spend.clone();
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        handle.spawn(async move {
            let now = Utc::now();
            match usage::spend_since(&pool, merchant, now).await {
                Ok((today, this_month)) => {
                    let mut e = spend.entry(merchant).or_insert_with(|| Self::fresh(now));
                    let day = now.date_naive();
                    let month = (day.year(), day.month());
                    // Charges recorded here while the query ran may be missing from its answer:
                    // never let a reload lower what this process has already counted.
                    let today = if e.day == day { today.max(e.today) } else { today };
                    let this_month = if e.month == month {
                        this_month.max(e.this_month)
                    } else {
                        this_month
                    };
                    *e = Entry {
                        day,
                        today,
                        month,
                        this_month,
                        loaded_at: Some(Instant::now()),
                        loading: false,
                    };
                }
                Err(e) => {
                    tracing::warn!(%merchant, error = %e, "could not load the merchant's model spend");
                    if let Some(mut entry) = spend.get_mut(&merchant) {
                        entry.loading = false;
                    }
                }
            }
        });
    }
}

impl Metering for PgMetering {
    fn cost_nanos(&self, model: &str, usage: &Usage) -> i64 {
        match self.prices.get(model) {
            Some(p) => p.cost(usage),
            None => {
                if self.unpriced.insert(model.to_string(), ()).is_none() {
                    tracing::warn!(
                        model,
                        "no price configured for this model (llm.prices); its replies cost 0"
                    );
                }
                0
            }
        }
    }

    fn spent(&self, merchant: MerchantId) -> Spend {
        let now = Utc::now();
        let day = now.date_naive();
        let mut entry = self
            .spend
            .entry(merchant)
            .or_insert_with(|| Self::fresh(now));
        if entry.day != day {
            entry.day = day;
            entry.today = 0;
        }
        if entry.month != (day.year(), day.month()) {
            entry.month = (day.year(), day.month());
            entry.this_month = 0;
        }
        let stale = entry.loaded_at.is_none_or(|t| t.elapsed() > RELOAD_AFTER);
        let spend = Spend {
            today_nanos: entry.today,
            month_nanos: entry.this_month,
        };
        if stale && !entry.loading {
            entry.loading = true;
            drop(entry);
            self.reload(merchant);
        }
        spend
    }

    fn record(&self, merchant: MerchantId, charge: &Charge) {
        let now = Utc::now();
        let mut entry = self
            .spend
            .entry(merchant)
            .or_insert_with(|| Self::fresh(now));
        entry.today = entry.today.saturating_add(charge.cost_nanos);
        entry.this_month = entry.this_month.saturating_add(charge.cost_nanos);
    }
}

/// Nano-USD as a decimal USD string with 6 decimals (`"0.001234"`), exact, for APIs.
pub fn usd(nanos: i64) -> String {
    let micros = nanos / 1000;
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    format!("{sign}{}.{:06}", m / 1_000_000, m % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_per_million_become_exact_nano_usd_per_token() {
        let p = TokenPrices::from_config(&ModelPrice {
            model: "m".into(),
            input: 3.0,
            output: 15.0,
            cache_write: 3.75,
            cache_read: 0.30,
        });
        assert_eq!(
            p,
            TokenPrices {
                input: 3000,
                output: 15000,
                cache_write: 3750,
                cache_read: 300
            }
        );
        let usage = Usage {
            input_tokens: 1000,
            output_tokens: 100,
            cache_write_tokens: 2000,
            cache_read_tokens: 10_000,
        };
        // 1000×3000 + 100×15000 + 2000×3750 + 10000×300 nano-USD = $0.015
        assert_eq!(p.cost(&usage), 15_000_000);
        assert_eq!(usd(p.cost(&usage)), "0.015000");
        assert_eq!(usd(1_234_567), "0.001234");
        assert_eq!(usd(12_000_000_000), "12.000000");
    }
}
