//! `POST /v1/webhooks/stripe` against the real server, with every signature made by an
//! independent implementation (Python's `hmac`, `tests/support/stripe_sign.py`): a genuine event
//! is applied once; forged, wrong-secret, stale, missing-signature and replayed deliveries are
//! refused or ignored with nothing changed; redeliveries and events out of order converge to
//! one final status; the merchant reads orders with `GET /v1/orders`.

use crate::helpers::{TestApp, repo_root, spawn_app_with};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const SECRET: &str = "whsec_test_e2e_secret";

/// The `Stripe-Signature` of `body` with `secret` at `t`, made by Python.
pub(crate) fn python_signature(body: &str, secret: &str, t: i64) -> String {
    let mut child = Command::new("python3")
        .arg(repo_root().join("tests/support/stripe_sign.py"))
        .arg(secret)
        .arg(t.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) async fn deliver(app: &TestApp, body: &str, signature: Option<String>) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url("/v1/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = signature {
        req = req.header("stripe-signature", s);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn session_event(id: &str, kind: &str, order: &str, payment_status: &str) -> String {
    json!({"id": id, "object": "event", "type": kind, "created": now(), "livemode": false,
           "pending_webhooks": 1,
           "data": {"object": {"id": format!("cs_test_{order}"), "object": "checkout.session",
                               "payment_status": payment_status, "payment_intent": format!("pi_{order}"),
                               "metadata": {"order_id": order}}}})
    .to_string()
}

fn refund_event(id: &str, order: &str) -> String {
    json!({"id": id, "object": "event", "type": "charge.refunded", "created": now(),
           "data": {"object": {"id": "ch_1", "object": "charge", "refunded": true,
                               "payment_intent": format!("pi_{order}")}}})
    .to_string()
}

/// An open order of the merchant's, as a checkout would store it.
async fn open_order(app: &TestApp, merchant: &str) -> String {
    let id = uuid::Uuid::new_v4();
    let mut db = app.db.connect().await;
    sqlx::query(
        "INSERT INTO orders (id, merchant_id, currency, total_minor, provider, provider_session_id) \
         VALUES ($1, $2::uuid, 'USD', 24900, 'stripe', $3)",
    )
    .bind(id)
    .bind(merchant)
    .bind(format!("cs_test_{id}"))
    .execute(&mut db)
    .await
    .unwrap();
    id.to_string()
}

async fn status_of(app: &TestApp, sk: &str, order: &str) -> String {
    let res = app.get(&format!("/v1/orders/{order}"), Some(sk)).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    v["status"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn only_genuine_events_change_orders_and_each_counts_once_in_any_order() {
    let app = spawn_app_with(|env| {
        env.insert("STRIPE_WEBHOOK_SECRET".into(), SECRET.into());
    })
    .await;
    let m = app.create_merchant("Paid Shop", &[]).await;
    let order = open_order(&app, &m.id).await;
    let paid = session_event("evt_paid_1", "checkout.session.completed", &order, "paid");

    // Refused, nothing changed: no signature, a malformed one, the wrong secret, a forged body,
    // a stale timestamp (and one too far ahead).
    let good = python_signature(&paid, SECRET, now());
    let forged = paid.replace("\"paid\"", "\"unpaid\"");
    for (what, body, sig) in [
        ("missing", paid.clone(), None),
        ("malformed", paid.clone(), Some("v1=deadbeef".to_string())),
        (
            "wrong secret",
            paid.clone(),
            Some(python_signature(&paid, "whsec_wrong", now())),
        ),
        ("forged body", forged, Some(good.clone())),
        (
            "stale",
            paid.clone(),
            Some(python_signature(&paid, SECRET, now() - 360)),
        ),
        (
            "future",
            paid.clone(),
            Some(python_signature(&paid, SECRET, now() + 360)),
        ),
    ] {
        let (status, body) = deliver(&app, &body, sig).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"]["code"], "invalid_signature", "{what}");
        assert_eq!(
            status_of(&app, &m.secret_key, &order).await,
            "open",
            "{what}"
        );
    }

    // Genuine: applied once; the same event delivered three times counts once.
    for n in 0..3 {
        let (status, body) =
            deliver(&app, &paid, Some(python_signature(&paid, SECRET, now()))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["outcome"],
            if n == 0 { "applied" } else { "duplicate" }
        );
    }
    assert_eq!(status_of(&app, &m.secret_key, &order).await, "paid");
    // A late expiry does not undo a payment.
    let expired = session_event("evt_exp_1", "checkout.session.expired", &order, "unpaid");
    let (_, body) = deliver(
        &app,
        &expired,
        Some(python_signature(&expired, SECRET, now())),
    )
    .await;
    assert_eq!(body["outcome"], "unchanged");
    assert_eq!(status_of(&app, &m.secret_key, &order).await, "paid");

    // Out of order: a refund delivered before the payment it refunds, then the payment (twice).
    let second = open_order(&app, &m.id).await;
    let refund = refund_event("evt_refund_2", &second);
    let (_, body) = deliver(
        &app,
        &refund,
        Some(python_signature(&refund, SECRET, now())),
    )
    .await;
    assert_eq!(body["outcome"], "unmatched", "its payment is not known yet");
    assert_eq!(status_of(&app, &m.secret_key, &second).await, "open");
    let paid2 = session_event("evt_paid_2", "checkout.session.completed", &second, "paid");
    for _ in 0..2 {
        deliver(&app, &paid2, Some(python_signature(&paid2, SECRET, now()))).await;
    }
    assert_eq!(status_of(&app, &m.secret_key, &second).await, "refunded");

    // The merchant's list; another merchant sees none of it.
    let list: Value = app
        .get("/v1/orders", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let other = app.create_merchant("Other", &[]).await;
    let res = app
        .get(&format!("/v1/orders/{order}"), Some(&other.secret_key))
        .await;
    assert_eq!(res.status(), 404);

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    for line in [
        "agentpay_payment_webhook_signature_failures_total{reason=\"missing\"} 1",
        "agentpay_payment_webhook_signature_failures_total{reason=\"mismatch\"} 2",
        "agentpay_payment_webhook_signature_failures_total{reason=\"stale\"} 2",
        "agentpay_payment_webhook_events_total{outcome=\"duplicate\",type=\"checkout.session.completed\"} 3",
    ] {
        assert!(metrics.contains(line), "{line}");
    }
}

#[actix_web::test]
async fn without_a_webhook_secret_the_endpoint_is_unavailable() {
    let app = spawn_app_with(|_| {}).await;
    let (status, body) = deliver(&app, "{}", Some("t=1,v1=00".into())).await;
    assert_eq!(status, 503, "{body}");
}
