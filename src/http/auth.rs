//! Authentication extractors.
//!
//! - [`AdminAuth`]: the operator token (`AGENTPAY_ADMIN_TOKEN`), for creating merchants.
//! - [`SecretKeyAuth`]: a merchant's `sk_…` key; the request then sees only that merchant.
//! - [`PublishableKeyAuth`]: a merchant's `pk_…` key, for the widget endpoints; when the request
//!   carries an `Origin`, it must be one of the merchant's allowed origins (an empty list allows
//!   any, for development).
//!
//! All take `Authorization: Bearer <token>`. Keys are looked up by their SHA-256 digest.

use super::errors::ApiError;
use super::state::AppState;
use crate::merchants::{KeyKind, Merchant, hash_key, normalize_origin};
use crate::store;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use agentpay_actors::ApiKeyId;
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

/// How long a publishable key's lookup is reused.
const PUBLISHABLE_KEY_CACHE_TTL: Duration = Duration::from_secs(2);

/// Most publishable keys remembered at once; past it the cache starts over.
const PUBLISHABLE_KEY_CACHE_MAX: usize = 10_000;

/// Recent lookups of publishable keys (the widget's hot path: every new conversation and every
/// connection authenticates with one). Secret keys are always looked up: revoking one takes
/// effect on the next request everywhere. A publishable key revoked or a merchant changed
/// through this process is forgotten at once; through another process, within
/// [`PUBLISHABLE_KEY_CACHE_TTL`].
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: dashmap::DashMap<[u8; 32], (Merchant, ApiKeyId, Instant)>,
}

impl KeyCache {
    fn get(&self, hash: &[u8; 32]) -> Option<(Merchant, ApiKeyId)> {
        let entry = self.entries.get(hash)?;
        let (merchant, key, at) = entry.value();
        (at.elapsed() < PUBLISHABLE_KEY_CACHE_TTL).then(|| (merchant.clone(), *key))
    }

    fn put(&self, hash: [u8; 32], merchant: Merchant, key: ApiKeyId) {
        if self.entries.len() >= PUBLISHABLE_KEY_CACHE_MAX {
            self.entries.clear();
        }
        self.entries.insert(hash, (merchant, key, Instant::now()));
    }

    /// Forgets every cached key of `merchant` (after a revocation or a change to the merchant).
    pub fn forget_merchant(&self, merchant: agentpay_actors::MerchantId) {
        self.entries.retain(|_, (m, ..)| m.id != merchant);
    }
}

/// Marker put in request extensions when a publishable-key request passed the origin check; the
/// CORS middleware then allows the browser to read the response.
#[derive(Debug, Clone, Copy)]
pub struct CorsAllowed;

/// The bearer token of a request, or 401.
pub fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized("missing_credentials", "send Authorization: Bearer <key>")
        })?
        .to_str()
        .map_err(|_| {
            ApiError::unauthorized(
                "invalid_credentials",
                "the Authorization header is not valid text",
            )
        })?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_credentials",
                "the Authorization header must be `Bearer <key>`",
            )
        })?;
    Ok(token.to_string())
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState is not registered")))
}

/// The operator, authenticated by `AGENTPAY_ADMIN_TOKEN`.
#[derive(Debug)]
pub struct AdminAuth;

impl FromRequest for AdminAuth {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready((|| {
            let state = state(req)?;
            let Some(expected) = state.admin_token_hash else {
                return Err(ApiError::unauthorized(
                    "admin_disabled",
                    "the operator API is disabled: AGENTPAY_ADMIN_TOKEN is not set on the server",
                ));
            };
            let token = bearer(req)?;
            let given: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            // Constant-time comparison of the digests.
            let diff = given
                .iter()
                .zip(expected.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if diff != 0 {
                return Err(ApiError::unauthorized(
                    "invalid_credentials",
                    "the admin token is not valid",
                ));
            }
            Ok(AdminAuth)
        })())
    }
}

async fn authenticate(req: &HttpRequest, want: KeyKind) -> Result<(Merchant, ApiKeyId), ApiError> {
    let token = bearer(req)?;
    match KeyKind::of_key(&token) {
        Some(kind) if kind == want => {}
        Some(KeyKind::Publishable) => {
            return Err(ApiError::forbidden(
                "secret_key_required",
                "this endpoint needs the merchant's secret key (sk_…), not a publishable key",
            ));
        }
        Some(KeyKind::Secret) => {
            return Err(ApiError::forbidden(
                "publishable_key_required",
                "this endpoint takes a publishable key (pk_…); never put a secret key in a browser",
            ));
        }
        None => {
            return Err(ApiError::unauthorized(
                "invalid_key",
                "the API key is invalid or revoked",
            ));
        }
    }
    let state = state(req)?;
    let hash = hash_key(&token);
    let cached = want == KeyKind::Publishable;
    if cached && let Some(hit) = state.key_cache.get(&hash) {
        return Ok(hit);
    }
    match store::merchants::find_by_key_hash(&state.pool, &hash).await? {
        Some((merchant, key_id, kind)) if kind == want => {
            if cached {
                state.key_cache.put(hash, merchant.clone(), key_id);
            }
            Ok((merchant, key_id))
        }
        _ => Err(ApiError::unauthorized(
            "invalid_key",
            "the API key is invalid or revoked",
        )),
    }
}

/// Authenticates a merchant's secret key.
pub async fn authenticate_secret(req: &HttpRequest) -> Result<(Merchant, ApiKeyId), ApiError> {
    authenticate(req, KeyKind::Secret).await
}

/// A request authenticated by a merchant's secret key.
#[derive(Debug)]
pub struct SecretKeyAuth {
    /// The merchant the key belongs to; the only merchant this request may see.
    pub merchant: Merchant,
    /// The key used.
    pub key_id: ApiKeyId,
}

impl FromRequest for SecretKeyAuth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (merchant, key_id) = authenticate(&req, KeyKind::Secret).await?;
            let state = state(&req)?;
            state
                .limits
                .check_api(&state.pool, merchant.id, &key_id.to_string())
                .await?;
            Ok(SecretKeyAuth { merchant, key_id })
        })
    }
}

/// A request authenticated by a merchant's publishable key, from an allowed origin.
#[derive(Debug)]
pub struct PublishableKeyAuth {
    /// The merchant the key belongs to.
    pub merchant: Merchant,
    /// The key used.
    pub key_id: ApiKeyId,
}

impl FromRequest for PublishableKeyAuth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (merchant, key_id) = authenticate(&req, KeyKind::Publishable).await?;
            if let Some(origin) = req.headers().get(header::ORIGIN) {
                let origin = origin.to_str().ok().and_then(normalize_origin);
                let allowed = match &origin {
                    _ if merchant.allowed_origins.is_empty() => true,
                    Some(o) => merchant.allowed_origins.iter().any(|a| a == o),
                    None => false,
                };
                if !allowed {
                    return Err(ApiError::forbidden(
                        "origin_not_allowed",
                        "this origin is not in the merchant's allowed origins",
                    ));
                }
                req.extensions_mut().insert(CorsAllowed);
            }
            Ok(PublishableKeyAuth { merchant, key_id })
        })
    }
}
