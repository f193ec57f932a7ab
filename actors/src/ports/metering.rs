//! `Metering`: what model calls cost and what each merchant has spent, for cost records and
//! budgets. Money is integer nano-USD (10⁻⁹ USD): a price of $3 per million tokens is 3,000
//! nano-USD per token, exact for every price quoted to a thousandth of a dollar per million.

use super::model::Usage;
use crate::ids::MerchantId;
use serde::{Deserialize, Serialize};

/// Nano-USD in one US cent.
pub const NANOS_PER_CENT: i64 = 10_000_000;

/// What one model call cost: who served it, its usage, and its price (a turn may make several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// The provider that served it (`anthropic`, …).
    pub provider: String,
    /// The model that served it.
    pub model: String,
    /// Its tokens by kind.
    pub usage: Usage,
    /// Its cost in nano-USD.
    pub cost_nanos: i64,
}

impl Charge {
    /// The charge of one call with `usage`, served by `served` (a chain's named link) or else
    /// by `client` itself, priced by `metering`.
    pub fn priced(
        metering: &dyn Metering,
        client: &dyn super::model::ModelClient,
        served: Option<(String, String)>,
        usage: Usage,
    ) -> Self {
        let (provider, model) =
            served.unwrap_or_else(|| (client.provider().into(), client.model().into()));
        let cost_nanos = metering.cost_nanos(&model, &usage);
        Self {
            provider,
            model,
            usage,
            cost_nanos,
        }
    }
}

/// The usage of a turn's model calls added up by kind; `None` when no model ran.
pub fn total_usage(charges: &[Charge]) -> Option<Usage> {
    if charges.is_empty() {
        return None;
    }
    let mut total = Usage::default();
    for c in charges {
        total.input_tokens += c.usage.input_tokens;
        total.output_tokens += c.usage.output_tokens;
        total.cache_write_tokens += c.usage.cache_write_tokens;
        total.cache_read_tokens += c.usage.cache_read_tokens;
    }
    Some(total)
}

/// A merchant's spend so far, in nano-USD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spend {
    /// Since midnight UTC.
    pub today_nanos: i64,
    /// Since the first of the month, UTC.
    pub month_nanos: i64,
}

/// Prices and spend.
pub trait Metering: Send + Sync + 'static {
    /// The cost of `usage` on `model`, in nano-USD (0 for a model without a price).
    fn cost_nanos(&self, model: &str, usage: &Usage) -> i64;
    /// What `merchant` has spent today and this month, as known now (cheap; no I/O).
    fn spent(&self, merchant: MerchantId) -> Spend;
    /// Adds a charge to `merchant`'s spend.
    fn record(&self, merchant: MerchantId, charge: &Charge);
}

/// Everything is free and nothing is ever spent (tests, and deployments without prices).
#[derive(Debug, Default)]
pub struct FreeMetering;

impl Metering for FreeMetering {
    fn cost_nanos(&self, _model: &str, _usage: &Usage) -> i64 {
        0
    }

    fn spent(&self, _merchant: MerchantId) -> Spend {
        Spend::default()
    }

    fn record(&self, _merchant: MerchantId, _charge: &Charge) {}
}
