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
