//! Authentication extractors.
//!
//! - [`AdminAuth`]: the operator token (`AGENTPAY_ADMIN_TOKEN`), for creating merchants.
//! - [`SecretKeyAuth`]: a merchant's `sk_…` key; the request then sees only that merchant.
//! - [`PublishableKeyAuth`]: a merchant's `pk_…` key, for the widget endpoints; when the request
//!   carries an `Origin`, it must be one of the merchant's allowed origins (an empty list allows
//!   any, for development).
//! - [`authorize_visitor`]: a conversation's visitor token (`vt_…`), with the same origin rule;
//!   the one check behind the conversation's HTTP endpoints and its WebSocket, which differ only
//!   in how they say no ([`VisitorRefusal`]).
//!
//! The merchant keys take `Authorization: Bearer <token>`; a visitor token comes from wherever
//! its edge carries it. Keys and tokens are looked up by their SHA-256 digest.

use super::errors::ApiError;
use super::state::AppState;
use super::wire::close;
use crate::merchants::{KeyKind, Merchant, hash_key, normalize_origin};
use crate::store::{self, StoreError, conversations::Conversation};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use agentpay_actors::ApiKeyId;
use agentpay_actors::ids::ConversationId;
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

/// Prefix of visitor tokens.
pub const VISITOR_TOKEN_PREFIX: &str = "vt_";

/// Marker put in request extensions when a publishable-key or visitor-token request passed the
/// origin check; the CORS middleware then allows the browser to read the response.
#[derive(Debug, Clone, Copy)]
pub struct CorsAllowed;

/// The browser-origin rule shared by every credential a browser holds: a request without
/// `Origin` (a server-side caller) passes; one with an `Origin` passes when the merchant allows
/// any origin (empty list, for development) or lists this one, and the response is then marked
/// readable ([`CorsAllowed`]).
fn check_origin(req: &HttpRequest, allowed_origins: &[String]) -> Result<(), ApiError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().ok().and_then(normalize_origin);
    let allowed =
        allowed_origins.is_empty() || origin.is_some_and(|o| allowed_origins.contains(&o));
    if !allowed {
        return Err(ApiError::forbidden(
            "origin_not_allowed",
            "this origin is not in the merchant's allowed origins",
        ));
    }
    req.extensions_mut().insert(CorsAllowed);
    Ok(())
}

/// Why [`authorize_visitor`] said no. Each edge words it its own way: HTTP through
/// `From<VisitorRefusal> for ApiError`, the WebSocket through [`VisitorRefusal::close`].
#[derive(Debug, thiserror::Error)]
pub enum VisitorRefusal {
    /// No visitor token was offered.
    #[error("a visitor token is required")]
    MissingToken,
    /// No such conversation (or a malformed id).
    #[error("conversation not found")]
    NotFound,
    /// The token does not open this conversation.
    #[error("the visitor token does not open this conversation")]
    WrongToken,
    /// The request's `Origin` is not one of the merchant's allowed origins.
    #[error("this origin is not in the merchant's allowed origins")]
    OriginNotAllowed,
    /// The store failed; nothing is known about the credential.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl VisitorRefusal {
    /// The WebSocket close code and reason. A WebSocket refusal is an upgrade then a close,
    /// because a browser sees the close code but never the status of a refused handshake.
    pub fn close(&self) -> (u16, &'static str) {
        match self {
            Self::MissingToken => (close::UNAUTHORIZED, "a visitor token is required"),
            Self::WrongToken => (
                close::UNAUTHORIZED,
                "the visitor token does not open this conversation",
            ),
            Self::NotFound => (close::NOT_FOUND, "conversation not found"),
            Self::OriginNotAllowed => (
                close::FORBIDDEN_ORIGIN,
                "this origin is not in the merchant's allowed origins",
            ),
            Self::Store(e) => {
                // Logged here: the close reason says nothing of the cause.
                tracing::warn!(error = %e, "visitor authorisation failed");
                (close::INTERNAL, "temporarily unavailable")
            }
        }
    }
}

/// Over HTTP a token that does not open the conversation is indistinguishable from a missing
/// conversation (404); a foreign origin is 403 `origin_not_allowed`.
impl From<VisitorRefusal> for ApiError {
    fn from(r: VisitorRefusal) -> Self {
        match r {
            VisitorRefusal::MissingToken => {
                ApiError::unauthorized("missing_credentials", "send Authorization: Bearer <key>")
            }
            VisitorRefusal::NotFound | VisitorRefusal::WrongToken => {
                ApiError::not_found("conversation")
            }
            VisitorRefusal::OriginNotAllowed => ApiError::forbidden(
                "origin_not_allowed",
                "this origin is not in the merchant's allowed origins",
            ),
            VisitorRefusal::Store(e) => e.into(),
        }
    }
}

/// Checks a visitor's access to conversation `raw_id`: `token` must be its visitor token, and a
/// browser request must come from one of its merchant's allowed origins ([`check_origin`]: no
/// `Origin` header passes, as on every browser endpoint). Used by the HTTP endpoints and the
/// WebSocket alike.
pub async fn authorize_visitor(
    req: &HttpRequest,
    state: &AppState,
    raw_id: &str,
    token: Option<&str>,
) -> Result<Conversation, VisitorRefusal> {
    let id: ConversationId = raw_id.parse().map_err(|_| VisitorRefusal::NotFound)?;
    let token = token.ok_or(VisitorRefusal::MissingToken)?;
    let access = match store::conversations::get_with_token(&state.pool, id).await {
        Err(StoreError::NotFound) => return Err(VisitorRefusal::NotFound),
        other => other?,
    };
    if !digests_equal(&access.token_hash, &hash_key(token)) {
        return Err(VisitorRefusal::WrongToken);
    }
    if req.headers().contains_key(header::ORIGIN) {
        check_origin(req, &access.allowed_origins).map_err(|_| VisitorRefusal::OriginNotAllowed)?;
    }
    Ok(access.conversation)
}

/// Compares two digests in constant time (for equal lengths).
fn digests_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

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

/// Whether the request's bearer token is the one whose SHA-256 is `expected` (compared in
/// constant time); `refusal` says which token was wrong.
fn check_token(req: &HttpRequest, expected: &[u8; 32], refusal: &str) -> Result<(), ApiError> {
    let token = bearer(req)?;
    let given: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if digests_equal(&given, expected) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("invalid_credentials", refusal))
    }
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
            check_token(req, &expected, "the admin token is not valid")?;
            Ok(AdminAuth)
        })())
    }
}

/// The metrics scraper, authenticated by `AGENTPAY_METRICS_TOKEN` when the server has one
/// (without one, anyone who reaches `/metrics` may read it).
#[derive(Debug)]
pub struct MetricsAuth;

impl FromRequest for MetricsAuth {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready((|| {
            let Some(expected) = state(req)?.metrics_token_hash else {
                return Ok(MetricsAuth);
            };
            check_token(req, &expected, "the metrics token is not valid")?;
            Ok(MetricsAuth)
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
            check_origin(&req, &merchant.allowed_origins)?;
            Ok(PublishableKeyAuth { merchant, key_id })
        })
    }
}
