//! `GET|PUT /v1/merchant/agent`: the merchant's agent configuration (secret key). A saved change
//! is pushed to every live conversation of the merchant and applies to its next turn.

use crate::http::auth::SecretKeyAuth;
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::store;
use actix_web::{HttpResponse, web};
use agentpay_actors::agent::AgentConfig;
use serde_json::json;

/// `GET /v1/merchant/agent`: `{version, config}` (version 0: defaults, never saved).
pub async fn get_agent_config(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = store::agent_configs::load(&state.pool, auth.merchant.id).await?;
    Ok(HttpResponse::Ok().json(json!({"version": snapshot.version, "config": snapshot.config})))
}

/// `PUT /v1/merchant/agent`: replaces the configuration (absent fields take their defaults).
/// An invalid value is refused with 422 naming the field; the configuration in force stays.
pub async fn put_agent_config(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    body: ApiJson<AgentConfig>,
) -> Result<HttpResponse, ApiError> {
    let config = body.into_inner()?;
    config.validate().map_err(|e| ApiError::Unprocessable {
        message: e.to_string(),
        field: e.field,
    })?;
    let merchant = auth.merchant.id;
    let version = store::agent_configs::save(&state.pool, merchant, &config).await?;
    state.limits.set_overrides(merchant, config.limits);
    if let Err(e) = state.merchants.reload(merchant).await {
        // Saved; live conversations pick it up when they next load. Say so in the log.
        tracing::warn!(merchant_id = %merchant, error = %e, "saved agent configuration not pushed to live conversations");
    }
    tracing::info!(merchant_id = %merchant, version, "agent configuration saved");
    Ok(HttpResponse::Ok().json(json!({"version": version, "config": config})))
}
