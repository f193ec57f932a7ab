//! `GET /v1/merchant/usage` and `GET /v1/merchant/conversations/{id}/usage` (secret key): the
//! merchant's model usage and cost, by provider and model, and its budget state.

use crate::http::auth::SecretKeyAuth;
use crate::http::errors::ApiError;
use crate::http::state::AppState;
use crate::metering::usd;
use crate::store;
use crate::store::usage::ModelTotals;
use actix_web::{HttpResponse, web};
use agentpay_actors::ids::ConversationId;
use agentpay_actors::ports::metering::{NANOS_PER_CENT, Spend};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

/// Query of `GET /v1/merchant/usage`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// `today`, `month` (the default) or `all`, in UTC.
    pub period: Option<String>,
}

fn totals_json(models: &[ModelTotals]) -> Value {
    let mut total = ModelTotals::default();
    let rows: Vec<Value> = models
        .iter()
        .map(|m| {
            total.replies += m.replies;
            total.input_tokens += m.input_tokens;
            total.output_tokens += m.output_tokens;
            total.cache_write_tokens += m.cache_write_tokens;
            total.cache_read_tokens += m.cache_read_tokens;
            total.cost_nanos += m.cost_nanos;
            let mut v = json!(m);
            v["cost_usd"] = json!(usd(m.cost_nanos));
            v
        })
        .collect();
    json!({
        "models": rows,
        "total": {
            "replies": total.replies,
            "input_tokens": total.input_tokens,
            "output_tokens": total.output_tokens,
            "cache_write_tokens": total.cache_write_tokens,
            "cache_read_tokens": total.cache_read_tokens,
            "cost_nanos": total.cost_nanos,
            "cost_usd": usd(total.cost_nanos),
        },
    })
}

/// `GET /v1/merchant/usage?period=today|month|all`.
pub async fn merchant_usage(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    query: web::Query<UsageQuery>,
) -> Result<HttpResponse, ApiError> {
    let merchant = auth.merchant.id;
    let now = Utc::now();
    let (today, month) = store::usage::period_starts(now);
    let period = query.period.as_deref().unwrap_or("month");
    let from = match period {
        "today" => Some(today),
        "month" => Some(month),
        "all" => None,
        _ => {
            return Err(ApiError::BadRequest {
                code: "invalid_query",
                message: "period must be today, month or all".into(),
            });
        }
    };
    let models = store::usage::merchant_totals(&state.pool, merchant, from, now).await?;
    let (today_nanos, month_nanos) = store::usage::spend_since(&state.pool, merchant, now).await?;
    let budget = store::agent_configs::load(&state.pool, merchant)
        .await?
        .config
        .budget;
    let spend = Spend {
        today_nanos,
        month_nanos,
    };
    let cents = |c: Option<u64>| {
        c.map(|c| json!({"cents": c, "usd": usd(i64::try_from(c).unwrap_or(i64::MAX / NANOS_PER_CENT) * NANOS_PER_CENT)}))
    };
    let mut body = totals_json(&models);
    body["period"] = json!(period);
    body["from"] = json!(from);
    body["to"] = json!(now);
    body["budget"] = json!({
        "daily_cap": cents(budget.daily_usd_cents),
        "monthly_cap": cents(budget.monthly_usd_cents),
        "spent_today_usd": usd(today_nanos),
        "spent_this_month_usd": usd(month_nanos),
        "over_budget": budget.exceeded(spend),
    });
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /v1/merchant/conversations/{conversation_id}/usage`: one conversation's totals
/// (404 for another merchant's conversation).
pub async fn conversation_usage(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, ApiError> {
    let conversation = path.into_inner();
    let models =
        store::usage::conversation_totals(&state.pool, auth.merchant.id, conversation).await?;
    let mut body = totals_json(&models);
    body["conversation_id"] = json!(conversation);
    Ok(HttpResponse::Ok().json(body))
}
