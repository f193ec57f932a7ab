//! The simulated payment provider's page (`payments.provider = "simulated"`): the order's lines
//! and total with Pay and Cancel buttons. Paying (or cancelling) makes the Stripe-shaped event a
//! real provider would send, signs it with the engine's own secret and hands it to the same
//! verification and handling as `POST /v1/webhooks/stripe` (`super::payments::receive`), so an
//! offline purchase takes the production path: the order is paid once, the conversation is told.
//! A page opened after its expiry expires the order the same way.

use crate::http::errors::ApiError;
use crate::http::state::AppState;
use crate::payments::signature;
use crate::store::orders::{self, Order};
use actix_web::{HttpResponse, web};
use agentpay_actors::money::{Currency, Money};
use agentpay_actors::order::OrderStatus;
use serde_json::json;

/// The page's Content-Security-Policy: nothing but its own inline style and its own forms.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// `s` as HTML text or an attribute value.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn money(minor: i64, currency: &str) -> String {
    match currency.parse::<Currency>() {
        Ok(currency) => Money {
            amount_minor: minor,
            currency,
        }
        .to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("content-security-policy", CSP))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", "no-referrer"))
        .insert_header(("cache-control", "no-store"))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;\
             margin:2rem auto;padding:0 1rem;color:#1a1a1a}}table{{width:100%;border-collapse:collapse}}\
             td{{padding:.4rem 0;border-bottom:1px solid #ddd}}td.n{{text-align:right}}\
             button{{font-size:1rem;padding:.6rem 1.2rem;margin:.5rem .5rem 0 0;border-radius:.4rem;\
             border:1px solid #555;cursor:pointer}}button.pay{{background:#1f6f43;color:#fff;border-color:#1f6f43}}\
             .note{{color:#555;font-size:.9rem}}</style></head><body>{body}\
             <p class=\"note\">Simulated payment: no card and no money involved.</p></body></html>"
        ))
}

fn order_id(path: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(path).map_err(|_| ApiError::NotFound("no such checkout".into()))
}

/// The simulated order `id`, expired first when its page is past its time.
async fn current(state: &AppState, id: uuid::Uuid) -> Result<Order, ApiError> {
    let order = orders::find_any(&state.pool, id).await?;
    if order.provider == "stripe" {
        // Stripe's own page takes the payment; this one is where it returns the visitor to.
        return Ok(order);
    }
    if order.provider != "simulated" {
        return Err(ApiError::NotFound("no such checkout".into()));
    }
    let past = order.expires_at.is_some_and(|t| t <= chrono::Utc::now());
    if order.status == OrderStatus::Open && past {
        settle(state, &order, "checkout.session.expired", "unpaid").await?;
        return Ok(orders::find_any(&state.pool, id).await?);
    }
    Ok(order)
}

/// Sends the provider event `kind` for `order` through the webhook path.
async fn settle(
    state: &AppState,
    order: &Order,
    kind: &str,
    payment_status: &str,
) -> Result<(), ApiError> {
    let body = json!({
        "id": format!("evt_sim_{}", uuid::Uuid::new_v4().simple()),
        "object": "event",
        "type": kind,
        "created": chrono::Utc::now().timestamp(),
        "livemode": false,
        "data": {"object": {
            "id": format!("sim_{}", order.id),
            "object": "checkout.session",
            "payment_status": payment_status,
            "payment_intent": (payment_status == "paid").then(|| format!("pi_sim_{}", order.id)),
            "amount_total": order.total_minor,
            "currency": order.currency.to_lowercase(),
            "metadata": {"order_id": order.id.to_string()},
        }},
    })
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let header = signature::sign(body.as_bytes(), &state.simulated_webhook_secret, now);
    signature::verify(
        Some(&header),
        body.as_bytes(),
        &state.simulated_webhook_secret,
        now,
    )
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("simulated signature: {e}")))?;
    super::payments::receive(state, "simulated", body.as_bytes()).await?;
    Ok(())
}

/// Settles order `id` if its payment page is past its time (the checkout actor holding it asks):
/// a simulated page expires through the webhook path; Stripe sends its own expiry event.
pub async fn settle_if_due(state: &AppState, id: uuid::Uuid) -> Result<(), ApiError> {
    current(state, id).await.map(|_| ())
}

/// Expires the simulated orders whose page is past its time (at most 100 per call), through the
/// webhook path; how many. The server runs it every 30 s, for the pages no live checkout actor
/// holds (after a restart).
pub async fn expire_due(state: &AppState) -> Result<usize, ApiError> {
    let due: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM orders WHERE provider = 'simulated' AND status = 'open' \
         AND expires_at <= now() ORDER BY expires_at LIMIT 100",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(crate::store::StoreError::from)?;
    for id in &due {
        current(state, *id).await?;
    }
    Ok(due.len())
}

/// `GET /checkout/{order}`: the payment page.
pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path.into_inner())?;
    let order = current(&state, id).await?;
    let number = order.number;
    let total = money(order.total_minor, &order.currency);
    let body = match order.status {
        OrderStatus::Open if order.provider != "simulated" => format!(
            "<h1>Order #{number}</h1><p>Waiting for the payment of {total}.</p>{}",
            order
                .checkout_url
                .as_deref()
                .map(|u| format!("<p><a href=\"{}\">Pay at Stripe</a></p>", escape(u)))
                .unwrap_or_default()
        ),
        OrderStatus::Open => {
            let mut rows = String::new();
            for l in orders::lines(&state.pool, id).await? {
                rows.push_str(&format!(
                    "<tr><td>{} × {}</td><td class=\"n\">{}</td></tr>",
                    l.quantity,
                    escape(&l.title),
                    money(l.unit_price_minor * i64::from(l.quantity), &order.currency)
                ));
            }
            format!(
                "<h1>Order #{number}</h1><table>{rows}<tr><td><strong>Total</strong></td>\
                 <td class=\"n\"><strong>{total}</strong></td></tr></table>\
                 <form method=\"post\" action=\"/checkout/{id}/pay\"><button class=\"pay\" \
                 type=\"submit\">Pay {total}</button></form>\
                 <form method=\"post\" action=\"/checkout/{id}/cancel\"><button type=\"submit\">\
                 Cancel</button></form>"
            )
        }
        OrderStatus::Paid => format!(
            "<h1>Thank you!</h1><p>Order #{number} is paid ({total}). You can close this page \
             and go back to the chat.</p>"
        ),
        OrderStatus::Expired => format!(
            "<h1>This payment page has expired</h1><p>Order #{number} was not paid. Ask the \
             assistant for a new link.</p>"
        ),
        OrderStatus::Canceled => format!(
            "<h1>Order canceled</h1><p>Order #{number} was canceled; nothing was charged.</p>"
        ),
        OrderStatus::Refunded | OrderStatus::Disputed => format!(
            "<h1>Order #{number}</h1><p>Status: {}.</p>",
            order.status.as_str()
        ),
    };
    Ok(page(&format!("Order #{number}"), &body))
}

/// `POST /checkout/{order}/pay` and `/cancel`: the visitor's choice, as the provider's event.
async fn choose(state: &AppState, path: String, pay: bool) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path)?;
    let order = current(state, id).await?;
    if order.provider != "simulated" {
        return Err(ApiError::NotFound("no such checkout".into()));
    }
    if order.status == OrderStatus::Open {
        if pay {
            settle(state, &order, "checkout.session.completed", "paid").await?;
        } else {
            settle(state, &order, "checkout.session.canceled", "unpaid").await?;
        }
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("location", format!("/checkout/{id}")))
        .finish())
}

/// `POST /checkout/{order}/pay`.
pub async fn pay(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    choose(&state, path.into_inner(), true).await
}

/// `POST /checkout/{order}/cancel`.
pub async fn cancel(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    choose(&state, path.into_inner(), false).await
}
