//! Checkout offline, through the real server and a real WebSocket: search, add to the cart,
//! "checkout" → a `checkout` frame with a working link; the simulated provider's page pays
//! through the webhook path → an `order` frame `paid` and a message in the visitor's language,
//! in the same chat and on resume; the order is stored at the catalog's prices. A price changed
//! after the add is charged at the new price and told; a sold-out product is refused.

use crate::helpers::{TestApp, spawn_app_with};
use crate::ws_client::{Ws, apply_delta};
use serde_json::{Value, json};

pub(crate) async fn shop(app: &TestApp) -> crate::helpers::TestMerchant {
    let m = app.create_merchant("Tent Shop", &[]).await;
    for (id, title, price) in [
        ("TENT-2P", "Ridge Tent 2P", 24_900),
        ("STOVE-1", "Trail Stove", 3_990),
    ] {
        let res = app
            .post_json(
                "/v1/products",
                Some(&m.secret_key),
                &json!({"external_id": id, "title": title, "price": price, "currency": "USD", "stock": 5}),
            )
            .await;
        assert_eq!(res.status().as_u16(), 201);
    }
    m
}

async fn offline_app() -> TestApp {
    spawn_app_with(|env| {
        env.insert("AGENTPAY__AGENT__MODE".into(), "rules".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
    })
    .await
}

/// The frames of one turn, and the reply's text.
pub(crate) async fn turn(ws: &mut Ws, id: &str, text: &str) -> (Vec<Value>, String) {
    ws.say(id, text).await;
    let events = ws.until("assistant_end").await;
    let mut reply = String::new();
    for e in events.iter().filter(|e| e["type"] == "delta") {
        apply_delta(&mut reply, e);
    }
    (events, reply)
}

pub(crate) fn frame<'a>(events: &'a [Value], kind: &str) -> Option<&'a Value> {
    events.iter().find(|e| e["type"] == kind)
}

#[actix_web::test]
async fn a_visitor_checks_out_pays_on_the_simulated_page_and_sees_it_paid_in_the_chat() {
    let app = offline_app().await;
    let m = shop(&app).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    let (events, _) = turn(&mut ws, "c-1", "do you have tents?").await;
    assert!(frame(&events, "products").is_some());
    let (events, _) = turn(&mut ws, "c-2", "add the first one").await;
    assert!(frame(&events, "cart").is_some());
    let (events, text) = turn(&mut ws, "c-3", "great, I want to pay now").await;
    let checkout = frame(&events, "checkout")
        .expect("a checkout frame")
        .clone();
    let url = checkout["url"].as_str().unwrap().to_string();
    assert!(text.contains(&url), "the link is in the text too: {text}");
    assert_eq!(checkout["total"]["amount_minor"], 24_900);
    assert!(checkout["expires_at"].as_str().unwrap().ends_with('Z'));
    let end_seq = events.last().unwrap()["seq"].as_i64().unwrap();

    // The page shows the order and pays through the webhook path.
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Ridge Tent 2P") && html.contains("249.00 USD"),
        "{html}"
    );
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirect.post(format!("{url}/pay")).send().await.unwrap();
    assert_eq!(res.status(), 303);

    // The chat says it: an `order` frame, then a message in the visitor's language.
    let events = ws.until("assistant_end").await;
    let order = frame(&events, "order").expect("an order frame");
    assert_eq!(order["status"], "paid");
    assert_eq!(order["order_id"], checkout["checkout_id"]);
    assert!(
        events.last().unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("Payment received"),
        "{events:?}"
    );
    // Paying twice changes nothing.
    no_redirect.post(format!("{url}/pay")).send().await.unwrap();
    let html = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Thank you"), "{html}");

    // On resume after the checkout, the order frame is replayed.
    drop(ws);
    let mut again = Ws::open(&c, Some(end_seq)).await;
    let replay = again.until("assistant_end").await;
    assert_eq!(frame(&replay, "order").expect("replayed")["status"], "paid");

    // Stored at the catalog's price, paid, once.
    let orders: Value = app
        .get("/v1/orders", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    let list = orders["data"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "paid");
    assert_eq!(list[0]["total_minor"], 24_900);
    assert_eq!(list[0]["conversation_id"], c.id.as_str());

    // The agent finds it by number.
    let number = list[0]["number"].as_i64().unwrap();
    let (_, text) = turn(
        &mut again,
        "c-4",
        &format!("what's the status of order {number}?"),
    )
    .await;
    assert!(
        text.contains(&number.to_string()) && text.to_lowercase().contains("paid"),
        "{text}"
    );
}

#[actix_web::test]
async fn checkout_charges_todays_price_and_refuses_what_sold_out() {
    let app = offline_app().await;
    let m = shop(&app).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    turn(&mut ws, "p-1", "do you have tents?").await;
    turn(&mut ws, "p-2", "add the first one").await;
    // The price changes after the add: the order charges the new one and the visitor is told.
    let res = app
        .patch_json(
            "/v1/products/TENT-2P",
            &m.secret_key,
            &json!({"price": 19_900}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (events, text) = turn(&mut ws, "p-3", "checkout please").await;
    assert!(
        text.contains("199.00") || text.contains("$199"),
        "told of the new price: {text}"
    );
    let checkout = frame(&events, "checkout").expect("checkout");
    assert_eq!(checkout["total"]["amount_minor"], 19_900);

    // The page's time passes unpaid: the order expires and the chat says so.
    let mut db = app.db.connect().await;
    sqlx::query("UPDATE orders SET expires_at = now() - interval '1 minute' WHERE id = $1::uuid")
        .bind(checkout["checkout_id"].as_str().unwrap())
        .execute(&mut db)
        .await
        .unwrap();
    let html = app
        .client
        .get(checkout["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("expired"), "{html}");
    let events = ws.until("assistant_end").await;
    assert_eq!(frame(&events, "order").expect("order")["status"], "expired");

    // Sold out after the add: refused with a clear message, no order.
    let c2 = app.create_conversation(&m.publishable_key).await;
    let mut ws2 = Ws::open(&c2, None).await;
    ws2.event().await;
    turn(&mut ws2, "s-1", "do you have tents?").await;
    let (_, added) = turn(&mut ws2, "s-2", "add the first one").await;
    assert!(added.contains("Ridge Tent 2P"), "{added}");
    let res = app
        .patch_json("/v1/products/TENT-2P", &m.secret_key, &json!({"stock": 0}))
        .await;
    assert_eq!(res.status(), 200);
    let (events, text) = turn(&mut ws2, "s-3", "I'd like to pay").await;
    assert!(frame(&events, "checkout").is_none(), "{events:?}");
    assert!(
        text.contains("Ridge Tent 2P"),
        "says what was removed: {text}"
    );
    let orders: Value = app
        .get("/v1/orders", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        orders["data"].as_array().unwrap().len(),
        1,
        "only the first checkout's order"
    );
}

#[actix_web::test]
async fn a_payment_made_while_the_visitor_is_away_is_in_the_chat_when_they_come_back() {
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__AGENT__MODE".into(), "rules".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
        env.insert(
            "AGENTPAY__CONVERSATION__IDLE_TIMEOUT_SECS".into(),
            "1".into(),
        );
    })
    .await;
    let m = shop(&app).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    turn(&mut ws, "c-1", "do you have tents?").await;
    turn(&mut ws, "c-2", "add the first one").await;
    let (events, _) = turn(&mut ws, "c-3", "checkout").await;
    let url = frame(&events, "checkout").expect("a checkout frame")["url"]
        .as_str()
        .unwrap()
        .to_string();
    let end_seq = events.last().unwrap()["seq"].as_i64().unwrap();
    drop(ws);
    // The visitor is gone long enough for the conversation to be passivated.
    let live = r#"agentpay_actors_live{kind="conversation"} 0"#;
    for _ in 0..50 {
        let metrics = app.get("/metrics", None).await.text().await.unwrap();
        if metrics.contains(live) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains(live), "the conversation was passivated");

    let res = app.client.post(format!("{url}/pay")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let mut back = Ws::open(&c, Some(end_seq)).await;
    let events = back.until("assistant_end").await;
    assert_eq!(
        frame(&events, "order").expect("the order frame")["status"],
        "paid"
    );
}
