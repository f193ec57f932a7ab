//! Crash and restart of the real binary: SIGKILL mid-reply loses nothing acknowledged; SIGTERM
//! closes connections with 1012 and stores the reply in progress as interrupted.

use crate::config_and_startup::{agentpay, sigterm, wait_exit, wait_healthy};
use crate::helpers::*;
use crate::ws_client::*;
use serde_json::Value;
use std::process::Child;
use std::time::Duration;

fn start(db: &TestDb, port: u16) -> Child {
    agentpay(&[
        ("DATABASE_URL", db.url.as_str()),
        ("AGENTPAY_ADMIN_TOKEN", ADMIN_TOKEN),
        ("AGENTPAY__SERVER__PORT", &port.to_string()),
        ("AGENTPAY__LLM__SIMULATED__TOKENS_PER_SEC", "20"),
        ("AGENTPAY__LLM__SIMULATED__REPLY_TOKENS", "400"),
    ])
    .arg("serve")
    .spawn()
    .unwrap()
}

async fn setup(port: u16) -> (reqwest::Client, TestConversation) {
    let client = crate::helpers::http_client();
    let base = format!("http://127.0.0.1:{port}");
    let m = merchant_at(&client, &base, "Restart Shop").await;
    let pk = m["publishable_key"]["key"].as_str().unwrap();
    let conv = conversation_at(&client, &base, pk).await;
    (client, conv)
}

/// The conversation's stored messages, read with its visitor token.
async fn messages(client: &reqwest::Client, port: u16, c: &TestConversation) -> Value {
    client
        .get(format!(
            "http://127.0.0.1:{port}/v1/conversations/{}/messages",
            c.id
        ))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[actix_web::test]
async fn after_a_sigkill_mid_reply_every_acknowledged_message_is_there_exactly_once() {
    let db = TestDb::create().await;
    let port = free_port();
    let mut child = start(&db, port);
    wait_healthy(port, &mut child).await;
    let (client, c) = setup(port).await;

    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("k-1", "first question").await;
    let mut last_seq = 0;
    let mut acked = Vec::new();
    let mut deltas = 0;
    let mut sent_second = false;
    while deltas < 5 || acked.len() < 2 {
        let ev = ws.event().await;
        if ev["type"] == "ack" {
            acked.push(ev["client_id"].as_str().unwrap().to_string());
        }
        if ev["type"] == "delta" {
            deltas += 1;
            if !sent_second {
                // Queued behind the reply in progress, and acknowledged.
                ws.say("k-2", "second question").await;
                sent_second = true;
            }
        }
        if let Some(s) = ev["seq"].as_i64() {
            last_seq = last_seq.max(s);
        }
    }
    assert_eq!(acked, ["k-1", "k-2"]);

    child.kill().unwrap();
    child.wait().unwrap();
    drop(ws);

    let mut child = start(&db, port);
    wait_healthy(port, &mut child).await;
    let mut ws = Ws::open(&c, Some(last_seq)).await;
    let hello = ws.event().await;
    assert_eq!(hello["type"], "hello");
    // The reply cut by the crash ends, marked interrupted.
    let events = ws.until("assistant_end").await;
    assert_eq!(events.last().unwrap()["interrupted"], true);
    // Resending an acknowledged message does not store it twice.
    ws.say("k-2", "second question").await;
    let ack = ws.event().await;
    assert_eq!(ack["type"], "ack");

    let res = messages(&client, port, &c).await;
    let users: Vec<&str> = res["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        users,
        ["k-1", "k-2"],
        "each acknowledged message exactly once"
    );
    child.kill().ok();
    child.wait().ok();
}

#[actix_web::test]
async fn sigterm_closes_connections_with_1012_and_stores_the_reply_as_interrupted() {
    let db = TestDb::create().await;
    let port = free_port();
    let mut child = start(&db, port);
    wait_healthy(port, &mut child).await;
    let (client, c) = setup(port).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("t-1", "long answer please").await;
    ws.until("delta").await;
    sigterm(&child);
    // The client sees the reply end (interrupted), then the close code for "restarting".
    let mut saw_end = false;
    let code = loop {
        match ws.next().await {
            Frame::Event(ev) => {
                if ev["type"] == "assistant_end" {
                    assert_eq!(ev["interrupted"], true);
                    saw_end = true;
                }
            }
            Frame::Closed(code) => break code,
        }
    };
    assert!(saw_end);
    assert_eq!(code, Some(1012));
    assert!(wait_exit(&mut child, Duration::from_secs(15)), "clean exit");

    let mut child = start(&db, port);
    wait_healthy(port, &mut child).await;
    let res = messages(&client, port, &c).await;
    let data = res["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[1]["status"], "interrupted");
    assert!(
        !data[1]["text"].as_str().unwrap().is_empty(),
        "the partial text is kept"
    );
    child.kill().ok();
    child.wait().ok();
}

#[actix_web::test]
async fn a_checkout_made_before_a_sigkill_is_paid_after_the_restart_and_the_chat_shows_it() {
    let db = TestDb::create().await;
    let port = free_port();
    let start_shop = |db: &TestDb| {
        agentpay(&[
            ("DATABASE_URL", db.url.as_str()),
            ("AGENTPAY_ADMIN_TOKEN", ADMIN_TOKEN),
            ("AGENTPAY__SERVER__PORT", &port.to_string()),
            ("AGENTPAY__AGENT__MODE", "rules"),
            ("AGENTPAY__EMBEDDINGS__PROVIDER", "none"),
        ])
        .arg("serve")
        .spawn()
        .unwrap()
    };
    let mut child = start_shop(&db);
    wait_healthy(port, &mut child).await;
    let client = crate::helpers::http_client();
    let base = format!("http://127.0.0.1:{port}");
    let m = merchant_at(&client, &base, "Crash Shop").await;
    let sk = m["secret_key"]["key"].as_str().unwrap().to_string();
    let res = client
        .post(format!("{base}/v1/products"))
        .bearer_auth(&sk)
        .json(
            &serde_json::json!({"external_id": "TENT-2P", "title": "Ridge Tent 2P",
                                  "price": 24900, "currency": "USD", "stock": 3}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let c = conversation_at(
        &client,
        &base,
        m["publishable_key"]["key"].as_str().unwrap(),
    )
    .await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    for (id, text) in [("k-1", "do you have tents?"), ("k-2", "add the first one")] {
        ws.say(id, text).await;
        ws.until("assistant_end").await;
    }
    ws.say("k-3", "checkout").await;
    let events = ws.until("assistant_end").await;
    let checkout = events
        .iter()
        .find(|e| e["type"] == "checkout")
        .expect("a checkout")
        .clone();
    let last_seq = events.last().unwrap()["seq"].as_i64().unwrap();

    // Killed between the session's creation and its payment.
    child.kill().unwrap();
    child.wait().unwrap();
    drop(ws);
    let mut child = start_shop(&db);
    wait_healthy(port, &mut child).await;

    let mut ws = Ws::open(&c, Some(last_seq)).await;
    assert_eq!(ws.event().await["type"], "hello");
    let url = checkout["url"].as_str().unwrap();
    let page = client.post(format!("{url}/pay")).send().await.unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    let events = ws.until("assistant_end").await;
    let order = events
        .iter()
        .find(|e| e["type"] == "order")
        .expect("an order frame");
    assert_eq!(order["status"], "paid");
    assert_eq!(order["order_id"], checkout["checkout_id"]);
    let orders: Value = client
        .get(format!("{base}/v1/orders"))
        .bearer_auth(&sk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orders["data"][0]["status"], "paid");
    child.kill().ok();
    child.wait().ok();
}

/// A message acknowledged whose turn was then lost (the server died before its reply started,
/// or the store was down and the visitor was told "send it again") is answered when the visitor
/// sends it again with the same `client_id`; once answered, sending it again only acknowledges.
#[actix_web::test]
async fn a_resent_message_whose_turn_was_lost_is_answered_once() {
    let app = spawn_app().await;
    let m = app.create_merchant("Lost Turn Shop", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    // What a crash leaves: the message stored (and acknowledged), no reply.
    let mut db = app.db.connect().await;
    let seq: i64 = sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1::uuid RETURNING last_seq",
    )
    .bind(&c.id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, role, client_id, text, status) \
         VALUES (gen_random_uuid(), $1::uuid, $2, 'user', 'lost-1', 'hello there', 'complete')",
    )
    .bind(&c.id)
    .bind(seq)
    .execute(&mut db)
    .await
    .unwrap();

    let mut ws = Ws::open(&c, Some(seq)).await;
    ws.event().await;
    ws.say("lost-1", "hello there").await;
    let events = ws.until("assistant_end").await;
    let ack = events.iter().find(|e| e["type"] == "ack").expect("an ack");
    assert_eq!(ack["seq"], seq);
    let start = events
        .iter()
        .find(|e| e["type"] == "assistant_start")
        .expect("the lost turn is answered");
    assert_eq!(start["reply_to_seq"], seq);

    // Answered now: a third send is acknowledged and nothing else happens.
    ws.say("lost-1", "hello there").await;
    let ev = ws.event().await;
    assert_eq!(ev["type"], "ack", "{ev}");
    assert_eq!(ev["seq"], seq);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored = messages(
        &app.client,
        app.address
            .trim_start_matches("http://127.0.0.1:")
            .parse()
            .unwrap(),
        &c,
    )
    .await;
    let replies: Vec<&Value> = stored["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["reply_to_seq"] == seq)
        .collect();
    assert_eq!(replies.len(), 1, "{stored}");
}
