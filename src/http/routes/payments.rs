//! Payment webhooks and orders.
//!
//! - `POST /v1/webhooks/stripe`: a provider event, its `Stripe-Signature` checked against
//!   `STRIPE_WEBHOOK_SECRET` over the raw body; refused with 400 and nothing changed when the
//!   signature is missing, malformed, stale (more than 300 s from now) or wrong, or the body is
//!   not an event; otherwise applied once (`crate::store::orders::apply_event`) and answered 200,
//!   a redelivery included.
//! - `GET /v1/orders`, `GET /v1/orders/{id}` (secret key): the merchant's orders.

use crate::http::auth::SecretKeyAuth;
use crate::http::errors::ApiError;
use crate::http::state::AppState;
use crate::payments::{events, signature};
use crate::store::orders::{self, Applied};
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
    if let Err(e) = signature::verify(header, &body, secret.expose(), now) {
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
            // The conversation tells the visitor, in their language (started if passivated).
            state.registry.tell(
                agentpay_actors::ids::ConversationId(conversation),
                agentpay_actors::conversation::messages::OrderChanged(
                    agentpay_actors::ports::OrderUpdate {
                        order_id: order.id,
                        number: order.number,
                        status: order.status,
                        total: agentpay_actors::money::Money {
                            amount_minor: order.total_minor,
                            currency,
                        },
                    },
                ),
            );
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
