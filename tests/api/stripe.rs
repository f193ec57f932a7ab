//! `payments.provider = "stripe"` against a wire-compatible fake of Stripe's API
//! (`tests/support/fake_stripe.rs`), through the real server, a real WebSocket and Postgres:
//! Connect onboarding creates one connected account however often it is asked; the account's
//! readiness comes from a signed `account.updated`; a checkout in the chat creates one Checkout
//! Session with the order's line items, amounts, currency, connected account, platform fee and
//! an idempotency key derived from the order, also when the first attempt is lost on the network
//! and retried; Stripe's `checkout.session.completed` then shows `paid` in the same chat.

use crate::checkout::{frame, shop, turn};
use crate::fake_stripe::FakeStripe;
use crate::helpers::{TestApp, TestMerchant, assert_error, spawn_app_with};
use crate::webhooks::{deliver, python_signature};
use crate::ws_client::Ws;
use serde_json::{Value, json};

const WEBHOOK_SECRET: &str = "whsec_stripe_fake_e2e";
const SECRET_KEY: &str = "sk_test_agentpay_e2e_1234567890";

async fn stripe_app(fake: &FakeStripe, charges: &str) -> TestApp {
    let base = fake.base_url.clone();
    let charges = charges.to_string();
    spawn_app_with(move |env| {
        env.insert("AGENTPAY__AGENT__MODE".into(), "rules".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
        env.insert("AGENTPAY__PAYMENTS__PROVIDER".into(), "stripe".into());
        env.insert("AGENTPAY__PAYMENTS__STRIPE__BASE_URL".into(), base);
        env.insert("AGENTPAY__PAYMENTS__STRIPE__CHARGES".into(), charges);
        env.insert(
            "AGENTPAY__PAYMENTS__STRIPE__PLATFORM_FEE_BPS".into(),
            "150".into(),
        );
        env.insert(
            "AGENTPAY__PAYMENTS__STRIPE__TIMEOUT_SECS".into(),
            "1".into(),
        );
        env.insert("STRIPE_SECRET_KEY".into(), SECRET_KEY.into());
        // Two endpoints' secrets (a Connect endpoint's and an account endpoint's): events
        // signed by the second are accepted too.
        env.insert(
            "STRIPE_WEBHOOK_SECRET".into(),
            format!("whsec_the_other_endpoint, {WEBHOOK_SECRET}"),
        );
    })
    .await
}

async fn signed(app: &TestApp, body: &str) -> Value {
    let sig = python_signature(body, WEBHOOK_SECRET, chrono::Utc::now().timestamp());
    let (status, answer) = deliver(app, body, Some(sig)).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn connect(app: &TestApp, m: &TestMerchant) -> reqwest::Response {
    app.post_json(
        "/v1/merchant/payments/connect",
        Some(&m.secret_key),
        &json!({"return_url": "https://shop.example/stripe/done",
                "refresh_url": "https://shop.example/stripe/again",
                "email": "owner@shop.example"}),
    )
    .await
}

async fn settings(app: &TestApp, m: &TestMerchant) -> Value {
    app.get("/v1/merchant/payments", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap()
}

/// Onboards `m` and makes its account ready through a signed `account.updated`.
async fn onboard(app: &TestApp, fake: &FakeStripe, m: &TestMerchant) -> String {
    let res = connect(app, m).await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    let account = body["account"]["account_id"].as_str().unwrap().to_string();
    signed(app, &fake.account_updated_event(&account)).await;
    assert_eq!(settings(app, m).await["ready"], true);
    account
}

/// A visitor with a tent and a stove in the cart, at checkout.
async fn fill_cart(app: &TestApp, m: &TestMerchant) -> Ws {
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    for (i, (search, add)) in [
        ("do you have tents?", "add the first one"),
        ("do you sell a trail stove?", "add the first one"),
    ]
    .iter()
    .enumerate()
    {
        let (events, _) = turn(&mut ws, &format!("s-{i}"), search).await;
        assert!(frame(&events, "products").is_some(), "{search}: {events:?}");
        let (events, _) = turn(&mut ws, &format!("a-{i}"), add).await;
        assert!(frame(&events, "cart").is_some(), "{add}: {events:?}");
    }
    ws
}

#[actix_web::test]
async fn connect_creates_one_account_and_readiness_comes_from_account_updated() {
    let fake = FakeStripe::start().await;
    let app = stripe_app(&fake, "direct").await;
    let m = shop(&app).await;
    assert_eq!(settings(&app, &m).await["ready"], false);

    let first: Value = connect(&app, &m).await.json().await.unwrap();
    let account = first["account"]["account_id"].as_str().unwrap().to_string();
    assert!(account.starts_with("acct_"), "{first}");
    assert!(
        first["onboarding_url"]
            .as_str()
            .unwrap()
            .starts_with("https://connect.stripe.com/setup/")
    );
    assert_eq!(first["account"]["charges_enabled"], false);
    // Asked again (the link expired): the same account, a new link.
    let again: Value = connect(&app, &m).await.json().await.unwrap();
    assert_eq!(again["account"]["account_id"], account.as_str());
    assert_eq!(fake.accounts().len(), 1);
    let created = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/accounts")
        .unwrap();
    assert_eq!(created.get("type"), Some("standard"));
    assert_eq!(created.get("email"), Some("owner@shop.example"));
    assert_eq!(
        created.header("idempotency-key"),
        Some(format!("agentpay-account-{}", m.id).as_str())
    );
    assert_eq!(
        created.header("authorization"),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    let links: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/account_links")
        .collect();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].get("account"), Some(account.as_str()));
    assert_eq!(links[0].get("type"), Some("account_onboarding"));
    assert_eq!(
        links[0].get("return_url"),
        Some("https://shop.example/stripe/done")
    );

    // Not ready yet: the agent cannot open a checkout, and says so.
    let mut ws = fill_cart(&app, &m).await;
    let (events, _) = turn(&mut ws, "c-9", "checkout please").await;
    assert!(frame(&events, "checkout").is_none(), "{events:?}");
    assert!(fake.sessions().is_empty());

    // Stripe reports the finished onboarding.
    signed(&app, &fake.account_updated_event(&account)).await;
    let now = settings(&app, &m).await;
    assert_eq!(now["ready"], true, "{now}");
    assert_eq!(now["account"]["details_submitted"], true);

    // Bad input changes nothing.
    let res = app
        .post_json(
            "/v1/merchant/payments/connect",
            Some(&m.secret_key),
            &json!({"return_url": "javascript:alert(1)", "refresh_url": "https://shop.example/x"}),
        )
        .await;
    assert_error(res, 422, "invalid_field").await;
    let res = app
        .post_json(
            "/v1/merchant/payments/connect",
            Some(&m.secret_key),
            &json!({"return_url": "http://localhost.evil.example/", "refresh_url": "https://shop.example/x"}),
        )
        .await;
    assert_error(res, 422, "invalid_field").await;
    assert_eq!(fake.accounts().len(), 1);
}

#[actix_web::test]
async fn a_checkout_creates_one_session_on_the_connected_account_and_paid_comes_back_to_the_chat() {
    let fake = FakeStripe::start().await;
    let app = stripe_app(&fake, "direct").await;
    let m = shop(&app).await;
    let account = onboard(&app, &fake, &m).await;
    let res = app
        .client
        .put(app.url("/v1/merchant/payments"))
        .bearer_auth(&m.secret_key)
        .json(
            &json!({"success_url": "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}",
                      "cancel_url": "https://shop.example/cart"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    // The first creation is done at Stripe but its answer is lost; the retry carries the same
    // key and gets the same session.
    fake.stall_next_sessions(1, std::time::Duration::from_secs(3));
    let mut ws = fill_cart(&app, &m).await;
    let (events, text) = turn(&mut ws, "c-3", "checkout please").await;
    let checkout = frame(&events, "checkout")
        .unwrap_or_else(|| panic!("a checkout frame: {events:?}"))
        .clone();
    let sessions = fake.sessions();
    assert_eq!(sessions.len(), 1, "one session despite the retry");
    let session = &sessions[0];
    assert_eq!(checkout["url"], session["url"]);
    assert!(text.contains(session["url"].as_str().unwrap()), "{text}");
    let total = 24_900 + 3_990;
    assert_eq!(checkout["total"]["amount_minor"], total);

    let creations: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/checkout/sessions")
        .collect();
    assert_eq!(creations.len(), 2, "the lost attempt and its retry");
    let order_id = checkout["checkout_id"].as_str().unwrap();
    let key = format!("agentpay-checkout-{order_id}");
    for r in &creations {
        assert_eq!(r.header("idempotency-key"), Some(key.as_str()));
        assert_eq!(r.header("stripe-account"), Some(account.as_str()));
    }
    let r = &creations[1];
    assert_eq!(r.get("mode"), Some("payment"));
    let mut items = Vec::new();
    for i in 0.. {
        let Some(name) = r.get(&format!("line_items[{i}][price_data][product_data][name]")) else {
            break;
        };
        items.push((
            name.to_string(),
            r.get(&format!("line_items[{i}][price_data][unit_amount]"))
                .unwrap()
                .to_string(),
            r.get(&format!("line_items[{i}][quantity]"))
                .unwrap()
                .to_string(),
            r.get(&format!("line_items[{i}][price_data][currency]"))
                .unwrap()
                .to_string(),
        ));
    }
    items.sort();
    assert_eq!(
        items,
        vec![
            (
                "Ridge Tent 2P".into(),
                "24900".into(),
                "1".into(),
                "usd".into()
            ),
            (
                "Trail Stove".into(),
                "3990".into(),
                "1".into(),
                "usd".into()
            ),
        ]
    );
    assert_eq!(r.get("metadata[order_id]"), Some(order_id));
    assert_eq!(r.get("client_reference_id"), Some(order_id));
    // Direct charges: the fee is an application fee, no transfer.
    let fee = (total * 150 / 10_000).to_string();
    assert_eq!(
        r.get("payment_intent_data[application_fee_amount]"),
        Some(fee.as_str())
    );
    assert_eq!(
        r.get("payment_intent_data[transfer_data][destination]"),
        None
    );
    assert_eq!(
        r.get("success_url"),
        Some("https://shop.example/thanks?session={CHECKOUT_SESSION_ID}")
    );
    assert_eq!(r.get("cancel_url"), Some("https://shop.example/cart"));
    let expires: i64 = r.get("expires_at").unwrap().parse().unwrap();
    let minutes = (expires - chrono::Utc::now().timestamp()) / 60;
    assert!((29..=31).contains(&minutes), "{minutes}");

    // Stripe reports the payment (twice): paid once, in the same chat. The same event from
    // another connected account finds no order of this merchant.
    let session_id = session["id"].as_str().unwrap();
    let paid = fake.completed_event(session_id);
    let mut spoof: Value = serde_json::from_str(&paid).unwrap();
    spoof["id"] = json!("evt_from_another_account");
    spoof["account"] = json!("acct_someone_else");
    assert_eq!(
        signed(&app, &spoof.to_string()).await["outcome"],
        "unmatched"
    );
    let stored: Value = app
        .get(&format!("/v1/orders/{order_id}"), Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["status"], "open");
    assert_eq!(signed(&app, &paid).await["outcome"], "applied");
    assert_eq!(signed(&app, &paid).await["outcome"], "duplicate");
    // The other account's event stays unmatched although it names the same payment.
    let mut db = app.db.connect().await;
    let spoofed: String = sqlx::query_scalar(
        "SELECT outcome FROM payment_events WHERE event_id = 'evt_from_another_account'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(spoofed, "unmatched");
    let events = ws.until("assistant_end").await;
    let order = frame(&events, "order").expect("an order frame");
    assert_eq!(order["status"], "paid");
    assert_eq!(order["order_id"], order_id);
    let stored: Value = app
        .get(&format!("/v1/orders/{order_id}"), Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["status"], "paid");
    assert_eq!(stored["provider"], "stripe");
    assert_eq!(stored["total_minor"], total);
}

#[actix_web::test]
async fn destination_charges_transfer_to_the_account_and_stripe_errors_leave_no_open_order() {
    let fake = FakeStripe::start().await;
    let app = stripe_app(&fake, "destination").await;
    let m = shop(&app).await;
    let account = onboard(&app, &fake, &m).await;
    let created = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/accounts")
        .unwrap();
    assert_eq!(created.get("type"), Some("express"));

    // Stripe refuses the first session (a 400 is not retried): no link, the order canceled.
    fake.fail_next(400, "invalid_request_error", "Not a valid URL");
    let mut ws = fill_cart(&app, &m).await;
    let (events, _) = turn(&mut ws, "c-3", "checkout please").await;
    assert!(frame(&events, "checkout").is_none(), "{events:?}");
    let orders: Value = app
        .get("/v1/orders", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orders["data"][0]["status"], "canceled", "{orders}");

    // The next try goes through: the charge is the platform's, transferred to the merchant.
    let (events, _) = turn(&mut ws, "c-4", "checkout please").await;
    assert!(frame(&events, "checkout").is_some(), "{events:?}");
    let r = fake
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/v1/checkout/sessions")
        .unwrap();
    assert_eq!(r.header("stripe-account"), None);
    assert_eq!(
        r.get("payment_intent_data[transfer_data][destination]"),
        Some(account.as_str())
    );
    assert_eq!(fake.sessions().len(), 1);
}
