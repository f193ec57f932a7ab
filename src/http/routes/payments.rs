//! Payment webhooks and orders.
//!
//! - `POST /v1/webhooks/stripe`: a provider event, its `Stripe-Signature` checked against
//!   `STRIPE_WEBHOOK_SECRET` over the raw body; refused with 400 and nothing changed when the
//!   signature is missing, malformed, stale (more than 300 s from now) or wrong, or the body is
//!   not an event; otherwise applied once (`crate::store::orders::apply_event`) and answered 200,
//!   a redelivery included.
//! - `GET /v1/orders`, `GET /v1/orders/{id}` (secret key): the merchant's orders.
//! - `GET`/`PUT /v1/merchant/payments`, `POST /v1/merchant/payments/connect` (secret key): the
//!   merchant's payment set-up and Stripe Connect onboarding.

use crate::http::auth::SecretKeyAuth;
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::payments::stripe::StripeFailure;
use crate::payments::{events, signature};
use crate::store::orders::{self, Applied};
use crate::store::payment_accounts;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

/// `POST /v1/webhooks/stripe`.
pub async fn stripe_webhook(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(secret) = &state.stripe_webhook_secret else {
        return Err(ApiError::Unavailable(
            "Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)".into(),
        ));
    };
    let header = req
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    // Several secrets (comma-separated) when events arrive at more than one endpoint, e.g. a
    // Connect endpoint for connected accounts' events and an account endpoint for the
    // platform's; an event signed by any of them is genuine.
    let verified = secret
        .expose()
        .split(',')
        .map(|s| signature::verify(header, &body, s.trim(), now))
        .reduce(|a, b| a.or(b))
        .unwrap_or(Err(signature::SignatureError::Missing));
    if let Err(e) = verified {
        state
            .metrics
            .payment_webhook_signature_failures_total
            .with_label_values(&[e.as_str()])
            .inc();
        return Err(ApiError::bad_request("invalid_signature", e.to_string()));
    }
    receive(&state, "stripe", &body).await
}

/// Applies a verified event's `body` from `provider`; the one path of every provider's events.
pub async fn receive(
    state: &AppState,
    provider: &str,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let event = match events::parse(body) {
        Ok(e) => e,
        Err(e) => {
            state
                .metrics
                .payment_webhook_events_total
                .with_label_values(&["unknown", "invalid"])
                .inc();
            return Err(ApiError::bad_request("invalid_event", e.to_string()));
        }
    };
    let applied = orders::apply_event(&state.pool, provider, &event).await?;
    let kind = if event.kind.len() <= 64 {
        event.kind.as_str()
    } else {
        "other"
    };
    state
        .metrics
        .payment_webhook_events_total
        .with_label_values(&[kind, applied.as_str()])
        .inc();
    if let Applied::Changed { order, .. } = &applied {
        state
            .metrics
            .orders_total
            .with_label_values(&[order.status.as_str()])
            .inc();
        tracing::info!(order_id = %order.id, status = order.status.as_str(), event_id = %event.id, "order updated by a payment event");
        if let (Some(conversation), Ok(currency)) = (order.conversation_id, order.currency.parse())
        {
            let update = agentpay_actors::ports::OrderUpdate {
                order_id: order.id,
                number: order.number,
                status: order.status,
                total: agentpay_actors::money::Money {
                    amount_minor: order.total_minor,
                    currency,
                },
            };
            // The checkout actor holding the order tells the conversation; without one (after
            // a restart, on another node, a refund later) the edge does.
            let held = state
                .checkouts
                .as_ref()
                .is_some_and(|c| c.settle(update.clone()));
            if !held {
                crate::payments::notify(
                    state,
                    agentpay_actors::ids::ConversationId(conversation),
                    update,
                )
                .await;
            }
        }
    }
    Ok(HttpResponse::Ok().json(json!({"received": true, "outcome": applied.as_str()})))
}

/// Query of `GET /v1/orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersQuery {
    /// Most orders returned (1-200, default 50).
    pub limit: Option<i64>,
}

/// `GET /v1/orders`: the merchant's orders, newest first.
pub async fn list_orders(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    query: web::Query<OrdersQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be between 1 and 200",
        ));
    }
    let data = orders::list(&state.pool, auth.merchant.id, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": data })))
}

/// `GET /v1/orders/{id}`: one order (404 for another merchant's).
pub async fn get_order(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid::Uuid::parse_str(&path.into_inner())
        .map_err(|_| ApiError::NotFound("no such order".into()))?;
    let order = orders::find(&state.pool, auth.merchant.id, id).await?;
    Ok(HttpResponse::Ok().json(order))
}

/// A return URL a merchant gives: `https://…`, or `http://` on loopback for development; at most
/// 2,000 characters with no spaces or control characters.
fn check_url(field: &'static str, url: &str) -> Result<(), ApiError> {
    let loopback = url.strip_prefix("http://").is_some_and(|rest| {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let host = &rest[..end];
        let host = if host.starts_with('[') {
            host.split_once(']')
                .map_or(host, |(h, _)| h)
                .trim_start_matches('[')
        } else {
            host.split(':').next().unwrap_or(host)
        };
        matches!(host, "localhost" | "127.0.0.1" | "::1")
    });
    let ok = (url.starts_with("https://") && url.len() > "https://".len() || loopback)
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ApiError::Unprocessable {
            field: field.into(),
            message: "must be an https:// URL (or http:// on localhost) of at most 2000 \
                      characters without spaces"
                .into(),
        })
    }
}

/// `GET /v1/merchant/payments`: the provider, the merchant's connected account and its
/// readiness, and where Checkout returns visitors to.
pub async fn get_payment_settings(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let account = payment_accounts::account(&state.pool, auth.merchant.id).await?;
    let urls = payment_accounts::checkout_urls(&state.pool, auth.merchant.id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "provider": state.settings.payments.provider,
        "account": account,
        "ready": match state.settings.payments.provider {
            crate::config::PaymentProvider::Stripe => account.as_ref().is_some_and(|a| a.charges_enabled),
            crate::config::PaymentProvider::Simulated => true,
            crate::config::PaymentProvider::None => false,
        },
        "success_url": urls.success_url,
        "cancel_url": urls.cancel_url,
    })))
}

/// Body of `PUT /v1/merchant/payments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettingsBody {
    /// Where Checkout sends a visitor who paid (may hold `{CHECKOUT_SESSION_ID}`); `null` for
    /// the engine's order page.
    pub success_url: Option<String>,
    /// Where it sends one who gave up; `null` for the engine's order page.
    pub cancel_url: Option<String>,
}

/// `PUT /v1/merchant/payments`: sets the return URLs.
pub async fn put_payment_settings(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    body: ApiJson<PaymentSettingsBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    if let Some(u) = &body.success_url {
        check_url("success_url", u)?;
    }
    if let Some(u) = &body.cancel_url {
        check_url("cancel_url", u)?;
    }
    payment_accounts::set_checkout_urls(
        &state.pool,
        auth.merchant.id,
        &payment_accounts::CheckoutUrls {
            success_url: body.success_url,
            cancel_url: body.cancel_url,
        },
    )
    .await?;
    get_payment_settings(auth, state).await
}

/// Body of `POST /v1/merchant/payments/connect`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    /// Where Stripe sends the merchant when onboarding is done (or left).
    pub return_url: String,
    /// Where Stripe sends the merchant when the link expired, to ask for a new one.
    pub refresh_url: String,
    /// The account's email, prefilled at Stripe.
    pub email: Option<String>,
}

/// `POST /v1/merchant/payments/connect`: creates the merchant's Stripe connected account (or
/// reuses it) and returns a fresh onboarding link. Readiness arrives later through
/// `account.updated` webhooks (`GET /v1/merchant/payments`).
pub async fn connect(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    body: ApiJson<ConnectBody>,
) -> Result<HttpResponse, ApiError> {
    let Some(stripe) = &state.stripe else {
        return Err(ApiError::Conflict(
            "payments.provider is not \"stripe\": there is no account to connect".into(),
        ));
    };
    let body = body.into_inner()?;
    check_url("return_url", &body.return_url)?;
    check_url("refresh_url", &body.refresh_url)?;
    if let Some(e) = &body.email
        && (e.len() > 254 || !e.contains('@') || e.chars().any(char::is_whitespace))
    {
        return Err(ApiError::Unprocessable {
            field: "email".into(),
            message: "must be an email address".into(),
        });
    }
    let onboarding = stripe
        .connect(
            auth.merchant.id,
            body.email,
            &body.return_url,
            &body.refresh_url,
        )
        .await
        .map_err(|e| match e {
            StripeFailure::Store(e) => ApiError::from(e),
            e => ApiError::Unavailable(e.to_string()),
        })?;
    Ok(HttpResponse::Ok().json(onboarding))
}
