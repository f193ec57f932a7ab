//! Merchant endpoints.
//!
//! Operator (admin token): `POST /v1/merchants`, `GET /v1/merchants`, `GET /v1/merchants/{id}`.
//! Merchant (secret key): `GET|PATCH /v1/merchant`, `GET|POST /v1/merchant/keys`,
//! `GET|DELETE /v1/merchant/keys/{id}`. Every merchant-side query is scoped to the key's
//! merchant, so another merchant's key id is simply not found (404).

use crate::http::auth::{AdminAuth, SecretKeyAuth};
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::merchants::{self, KeyKind, MerchantPatch, NewMerchant};
use crate::store::{self, StoreError};
use actix_web::{HttpResponse, web};
use agentpay_actors::{ApiKeyId, MerchantId};
use serde::Deserialize;
use serde_json::json;

/// `POST /v1/merchants` (operator): creates a merchant; the response holds its keys, once.
pub async fn create_merchant(
    _: AdminAuth,
    state: web::Data<AppState>,
    body: ApiJson<NewMerchant>,
) -> Result<HttpResponse, ApiError> {
    let created = merchants::create(&state.pool, body.into_inner()?).await?;
    tracing::info!(merchant_id = %created.merchant.id, "merchant created");
    Ok(HttpResponse::Created().json(created))
}

/// Query of `GET /v1/merchants`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Most rows returned (1-1000, default 100).
    pub limit: Option<i64>,
}

/// `GET /v1/merchants` (operator): lists merchants.
pub async fn list_merchants(
    _: AdminAuth,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be between 1 and 1000",
        ));
    }
    let list = store::merchants::list(&state.pool, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": list })))
}

/// `GET /v1/merchants/{id}` (operator).
pub async fn get_merchant_admin(
    _: AdminAuth,
    state: web::Data<AppState>,
    path: web::Path<MerchantId>,
) -> Result<HttpResponse, ApiError> {
    let merchant = store::merchants::get(&state.pool, path.into_inner())
        .await
        .map_err(not_found("merchant"))?;
    Ok(HttpResponse::Ok().json(merchant))
}

/// `GET /v1/merchant`: the caller's merchant.
pub async fn get_merchant(auth: SecretKeyAuth) -> HttpResponse {
    HttpResponse::Ok().json(auth.merchant)
}

/// `PATCH /v1/merchant`: updates name, currency or allowed origins.
pub async fn update_merchant(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    body: ApiJson<MerchantPatch>,
) -> Result<HttpResponse, ApiError> {
    let merchant = merchants::update(&state.pool, auth.merchant.id, body.into_inner()?).await?;
    state.key_cache.forget_merchant(auth.merchant.id);
    Ok(HttpResponse::Ok().json(merchant))
}

/// `GET /v1/merchant/keys`: the caller's keys (metadata only; keys are never shown again).
pub async fn list_keys(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let keys = store::merchants::list_keys(&state.pool, auth.merchant.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": keys })))
}

/// Body of `POST /v1/merchant/keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// `secret` or `publishable`.
    pub kind: KeyKind,
    /// Optional label.
    pub label: Option<String>,
}

/// `POST /v1/merchant/keys`: issues a new key (rotation: issue, deploy it, revoke the old one).
pub async fn create_key(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    body: ApiJson<CreateKey>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let issued = merchants::issue_key(&state.pool, auth.merchant.id, body.kind, body.label).await?;
    tracing::info!(merchant_id = %auth.merchant.id, key_id = %issued.info.id, "key issued");
    Ok(HttpResponse::Created().json(issued))
}

/// `GET /v1/merchant/keys/{id}`.
pub async fn get_key(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    let key = store::merchants::get_key(&state.pool, auth.merchant.id, path.into_inner())
        .await
        .map_err(not_found("key"))?;
    Ok(HttpResponse::Ok().json(key))
}

/// `DELETE /v1/merchant/keys/{id}`: revokes a key at once. The last active secret key cannot be
/// revoked (409): issue a new one first.
pub async fn revoke_key(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    let key = store::merchants::revoke_key(&state.pool, auth.merchant.id, path.into_inner())
        .await
        .map_err(not_found("key"))?;
    state.key_cache.forget_merchant(auth.merchant.id);
    tracing::info!(merchant_id = %auth.merchant.id, key_id = %key.id, "key revoked");
    Ok(HttpResponse::Ok().json(key))
}

/// Maps `NotFound` to a 404 naming the resource kind.
fn not_found(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}
