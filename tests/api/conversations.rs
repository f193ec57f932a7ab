//! The conversation engine over real WebSockets and HTTP, against real Postgres.

use crate::helpers::*;
use crate::ws_client::*;
use serde_json::{Value, json};

async fn app_and_conversation() -> (TestApp, TestMerchant, TestConversation) {
    let app = spawn_app().await;
    let m = app.create_merchant("Chat Shop", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    (app, m, c)
}

async fn stored_messages(app: &TestApp, c: &TestConversation) -> Vec<Value> {
    let res = app
        .get(
            &format!("/v1/conversations/{}/messages", c.id),
            Some(&c.token),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn a_visitor_message_is_acked_then_streamed_and_the_stored_reply_matches() {
    let (app, _, c) = app_and_conversation().await;
    assert!(c.ws_url.starts_with("ws://127.0.0.1:"));
    let mut ws = Ws::open(&c, None).await;
    let hello = ws.event().await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["last_seq"], 0);
    assert_eq!(hello["protocol"], 1);
    ws.say("c-1", "Do you sell tents?").await;
    let events = ws.until("assistant_end").await;
    let kinds = types(&events);
    assert_eq!(&kinds[..3], ["ack", "user_message", "assistant_start"]);
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["client_id"], "c-1");
    let deltas: Vec<&Value> = events.iter().filter(|e| e["type"] == "delta").collect();
    assert!(deltas.len() >= 2, "several deltas: {kinds:?}");
    let mut streamed = String::new();
    for d in &deltas {
        apply_delta(&mut streamed, d);
    }
    let end = events.last().unwrap();
    assert_eq!(end["interrupted"], false);
    assert_eq!(end["text"].as_str().unwrap(), streamed);
    assert!(streamed.contains("simulated"), "{streamed}");

    let stored = stored_messages(&app, &c).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["role"], "user");
    assert_eq!(stored[0]["text"], "Do you sell tents?");
    assert_eq!(stored[1]["role"], "assistant");
    assert_eq!(stored[1]["text"].as_str().unwrap(), streamed);
    assert_eq!(stored[1]["status"], "complete");
    assert_eq!(stored[1]["end_seq"], end["seq"]);
}

#[actix_web::test]
async fn two_connections_receive_every_event_in_the_same_order() {
    let (_app, _, c) = app_and_conversation().await;
    let mut a = Ws::open(&c, None).await;
    let mut b = Ws::open(&c, None).await;
    a.event().await;
    b.event().await;
    a.say("a-1", "first").await;
    let ea = a.until("assistant_end").await;
    let eb = b.until("assistant_end").await;
    // Only the sender gets the ack; everything else is identical. Deltas may be coalesced
    // differently per connection, so compare the durable events and the final text.
    let durable = |v: &[Value]| -> Vec<Value> {
        v.iter()
            .filter(|e| e["type"] != "ack" && e["type"] != "delta")
            .cloned()
            .collect()
    };
    assert_eq!(durable(&ea), durable(&eb));
    assert_eq!(
        types(&durable(&eb)),
        ["user_message", "assistant_start", "assistant_end"]
    );
    let mut ta = String::new();
    let mut tb = String::new();
    ea.iter()
        .filter(|e| e["type"] == "delta")
        .for_each(|d| apply_delta(&mut ta, d));
    eb.iter()
        .filter(|e| e["type"] == "delta")
        .for_each(|d| apply_delta(&mut tb, d));
    assert_eq!(ta, tb);
}

#[actix_web::test]
async fn a_resent_client_id_is_acknowledged_with_the_original_seq_and_answered_once() {
    let (app, _, c) = app_and_conversation().await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("same-id", "hello").await;
    let first = ws.until("assistant_end").await;
    ws.say("same-id", "hello").await;
    let ack = ws.event().await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["seq"], first[0]["seq"]);
    // Nothing else follows: prove it with a ping round trip.
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.event().await["type"], "pong");
    assert_eq!(stored_messages(&app, &c).await.len(), 2);
}

#[actix_web::test]
async fn reconnecting_mid_reply_with_after_gives_exactly_the_full_reply() {
    let app = spawn_app_with(|env| {
        env.insert(
            "AGENTPAY__LLM__SIMULATED__TOKENS_PER_SEC".into(),
            "60".into(),
        );
        env.insert("AGENTPAY__LLM__SIMULATED__REPLY_TOKENS".into(), "60".into());
    })
    .await;
    let m = app.create_merchant("Resume", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("r-1", "tell me everything").await;
    let mut last_seq = 0;
    let mut reply = String::new();
    let mut deltas = 0;
    while deltas < 3 {
        let ev = ws.event().await;
        if ev["type"] == "delta" {
            apply_delta(&mut reply, &ev);
            deltas += 1;
        } else if let Some(s) = ev["seq"].as_i64() {
            last_seq = s;
        }
    }
    drop(ws); // the visitor's connection drops mid-reply
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut ws = Ws::open(&c, Some(last_seq)).await;
    assert_eq!(ws.event().await["type"], "hello");
    let events = ws.until("assistant_end").await;
    assert!(
        !types(&events).contains(&"assistant_start".to_string()),
        "the start was seen before"
    );
    for ev in events.iter().filter(|e| e["type"] == "delta") {
        apply_delta(&mut reply, ev);
    }
    let end = events.last().unwrap();
    assert_eq!(reply, end["text"].as_str().unwrap(), "no gaps, no repeats");
    let stored = stored_messages(&app, &c).await;
    assert_eq!(stored[1]["text"].as_str().unwrap(), reply);

    // Reconnecting after the reply ended replays the end.
    let mut ws = Ws::open(&c, Some(last_seq)).await;
    ws.event().await;
    let replay = ws.until("assistant_end").await;
    assert_eq!(replay.last().unwrap()["text"].as_str().unwrap(), reply);
}

#[actix_web::test]
async fn each_bad_input_gets_its_error_code_and_the_connection_stays_usable() {
    let (_app, _, c) = app_and_conversation().await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    let cases = [
        ("{not json".to_string(), "invalid_json"),
        (json!({"type": "dance"}).to_string(), "unknown_type"),
        (
            json!({"type": "user_message", "text": "no id"}).to_string(),
            "invalid_message",
        ),
        (
            json!({"type": "user_message", "client_id": "x", "text": "a".repeat(5000)}).to_string(),
            "message_too_large",
        ),
        (
            json!({"type": "user_message", "client_id": "x", "text": "   "}).to_string(),
            "empty_message",
        ),
    ];
    for (frame, code) in cases {
        ws.stream
            .send(tokio_tungstenite::tungstenite::Message::text(frame.clone()))
            .await
            .unwrap();
        let ev = ws.event().await;
        assert_eq!(ev["type"], "error", "{frame}");
        assert_eq!(ev["code"], code, "{frame}");
    }
    ws.stream
        .send(tokio_tungstenite::tungstenite::Message::binary(vec![
            1u8, 2, 3,
        ]))
        .await
        .unwrap();
    assert_eq!(ws.event().await["code"], "binary_not_supported");
    ws.say("ok-1", "still works?").await;
    let events = ws.until("assistant_end").await;
    assert_eq!(events[0]["type"], "ack");
}

use futures_util::SinkExt;

#[actix_web::test]
async fn the_wrong_credentials_are_refused() {
    let (app, m, c) = app_and_conversation().await;
    let other = app.create_conversation(&m.publishable_key).await;
    // This visitor's token on another conversation.
    let mut ws = Ws::connect(&other.ws_url, Some(&c.token), None).await;
    assert_eq!(ws.closed().await, Some(4001));
    // A made-up token, and no token at all.
    let mut ws = Ws::connect(&c.ws_url, Some("vt_00000000000000000000000000000000"), None).await;
    assert_eq!(ws.closed().await, Some(4001));
    let mut ws = Ws::connect(&c.ws_url, None, None).await;
    assert_eq!(ws.closed().await, Some(4001));
    // A conversation that does not exist.
    let missing = c.ws_url.replace(&c.id, &uuid::Uuid::new_v4().to_string());
    let mut ws = Ws::connect(&missing, Some(&c.token), None).await;
    assert_eq!(ws.closed().await, Some(4004));
    // Over HTTP: another conversation's token, and another merchant's secret key, get 404.
    let res = app
        .get(&format!("/v1/conversations/{}", other.id), Some(&c.token))
        .await;
    assert_error(res, 404, "not_found").await;
    let b = app.create_merchant("Other Merchant", &[]).await;
    let res = app
        .get(
            &format!("/v1/conversations/{}/messages", c.id),
            Some(&b.secret_key),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    // The owner's secret key and the visitor token both work.
    assert_eq!(
        app.get(&format!("/v1/conversations/{}", c.id), Some(&m.secret_key))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(&format!("/v1/conversations/{}", c.id), Some(&c.token))
            .await
            .status(),
        200
    );
    // Conversation creation needs the publishable key.
    let res = app
        .post_json("/v1/conversations", Some(&m.secret_key), &json!({}))
        .await;
    assert_error(res, 403, "publishable_key_required").await;
}

#[actix_web::test]
async fn conversation_creation_honours_the_merchants_allowed_origins() {
    let app = spawn_app().await;
    let m = app
        .create_merchant("Origins", &["https://shop.example"])
        .await;
    let res = app
        .client
        .post(app.url("/v1/conversations"))
        .bearer_auth(&m.publishable_key)
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "origin_not_allowed").await;
    let res = app
        .client
        .post(app.url("/v1/conversations"))
        .bearer_auth(&m.publishable_key)
        .header("origin", "https://shop.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
}

#[actix_web::test]
async fn an_injected_panic_replaces_the_actor_and_nothing_stored_is_lost() {
    let (app, _, c) = app_and_conversation().await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("before", "hello").await;
    ws.until("assistant_end").await;
    ws.say("boom", "/fault panic").await;
    let events = ws.until("error").await;
    assert_eq!(events[0]["type"], "ack");
    assert_eq!(events.last().unwrap()["code"], "conversation_restarted");
    // The same connection keeps working with a fresh actor.
    ws.say("after", "are you there?").await;
    let events = ws.until("assistant_end").await;
    assert!(types(&events).contains(&"ack".to_string()));
    assert_eq!(events.last().unwrap()["interrupted"], false);
    let stored = stored_messages(&app, &c).await;
    let user_texts: Vec<&str> = stored
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(user_texts, ["hello", "/fault panic", "are you there?"]);
    // The restart is visible to operators.
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"agentpay_actor_events_total{event="replace",kind="conversation"} 1"#),
        "{metrics}"
    );
}

#[actix_web::test]
async fn cancel_stores_the_partial_reply_as_interrupted() {
    let app = spawn_app_with(|env| {
        env.insert(
            "AGENTPAY__LLM__SIMULATED__TOKENS_PER_SEC".into(),
            "40".into(),
        );
        env.insert(
            "AGENTPAY__LLM__SIMULATED__REPLY_TOKENS".into(),
            "200".into(),
        );
    })
    .await;
    let m = app.create_merchant("Cancel", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("long", "write a lot").await;
    ws.until("delta").await;
    ws.send(json!({"type": "cancel"})).await;
    let events = ws.until("assistant_end").await;
    let end = events.last().unwrap();
    assert_eq!(end["interrupted"], true);
    let stored = stored_messages(&app, &c).await;
    assert_eq!(stored[1]["status"], "interrupted");
    assert_eq!(stored[1]["text"], end["text"]);
    assert!(end["text"].as_str().unwrap().split(' ').count() < 200);
}

#[actix_web::test]
async fn deltas_are_coalesced_when_tokens_come_faster_than_the_flush_interval() {
    let app = spawn_app_with(|env| {
        env.insert(
            "AGENTPAY__LLM__SIMULATED__TOKENS_PER_SEC".into(),
            "2000".into(),
        );
        env.insert(
            "AGENTPAY__LLM__SIMULATED__REPLY_TOKENS".into(),
            "300".into(),
        );
        env.insert("AGENTPAY__WEBSOCKET__FLUSH_INTERVAL_MS".into(), "25".into());
    })
    .await;
    let m = app.create_merchant("Fast", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("f", "go").await;
    let events = ws.until("assistant_end").await;
    let deltas: Vec<&Value> = events.iter().filter(|e| e["type"] == "delta").collect();
    let mut text = String::new();
    deltas.iter().for_each(|d| apply_delta(&mut text, d));
    assert_eq!(
        text,
        events.last().unwrap()["text"].as_str().unwrap(),
        "every token delivered"
    );
    // 300 tokens in ~150 ms at one frame per 25 ms: far fewer frames than tokens.
    assert!(
        deltas.len() < 60,
        "{} delta frames for 300 tokens",
        deltas.len()
    );
}

#[actix_web::test]
async fn the_http_fallback_answers_in_json_and_in_server_sent_events() {
    let (app, _, c) = app_and_conversation().await;
    let path = format!("/v1/conversations/{}/messages", c.id);
    let res = app
        .post_json(
            &path,
            Some(&c.token),
            &json!({"client_id": "h-1", "text": "json please"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["ack"]["seq"], 1);
    assert_eq!(body["ack"]["duplicate"], false);
    let text = body["reply"]["text"].as_str().unwrap().to_string();
    assert!(text.contains("json please"), "{text}");
    // Resent: the same reply, not a new one.
    let again: Value = app
        .post_json(
            &path,
            Some(&c.token),
            &json!({"client_id": "h-1", "text": "json please"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["ack"]["duplicate"], true);
    assert_eq!(again["reply"]["text"].as_str().unwrap(), text);

    let res = app
        .client
        .post(app.url(&path))
        .bearer_auth(&c.token)
        .header("accept", "text/event-stream")
        .json(&json!({"client_id": "h-2", "text": "stream please"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let raw = res.text().await.unwrap();
    let events = sse_events(&raw);
    let kinds = types(&events);
    assert_eq!(kinds.first().unwrap(), "ack");
    assert_eq!(kinds.last().unwrap(), "assistant_end");
    assert!(kinds.contains(&"delta".to_string()));
    assert!(
        raw.contains("event: assistant_end\nid: "),
        "durable events carry their seq as the SSE id"
    );
    let mut streamed = String::new();
    events
        .iter()
        .filter(|e| e["type"] == "delta")
        .for_each(|d| apply_delta(&mut streamed, d));
    assert_eq!(streamed, events.last().unwrap()["text"].as_str().unwrap());
    // Bad input changes nothing.
    let res = app
        .post_json(
            &path,
            Some(&c.token),
            &json!({"client_id": "h-3", "text": ""}),
        )
        .await;
    let err = assert_error(res, 422, "invalid_field").await;
    assert_eq!(err["error"]["field"], "text");
    assert_eq!(stored_messages(&app, &c).await.len(), 4);
}

#[actix_web::test]
async fn a_thousand_concurrent_conversations_stream_without_errors() {
    let app = spawn_app_with(|env| {
        // A burst of 1,000 turns at once in a debug build: give the pool room and patience.
        env.insert("AGENTPAY__DATABASE__MAX_CONNECTIONS".into(), "40".into());
        env.insert(
            "AGENTPAY__DATABASE__ACQUIRE_TIMEOUT_MS".into(),
            "15000".into(),
        );
        // One IP opening 1,000 conversations is exactly what the limits stop; load runs turn
        // them off (rate_limit.enabled = false), as the load harness will.
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
        env.insert("AGENTPAY__LLM__SIMULATED__TTFT_MS".into(), "50".into());
        env.insert(
            "AGENTPAY__LLM__SIMULATED__TOKENS_PER_SEC".into(),
            "100".into(),
        );
        env.insert("AGENTPAY__LLM__SIMULATED__REPLY_TOKENS".into(), "20".into());
    })
    .await;
    let m = app.create_merchant("Busy", &[]).await;
    let n: usize = std::env::var("CROWD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut convs = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let created = futures_util::future::join_all(
            chunk
                .iter()
                .map(|_| app.create_conversation(&m.publishable_key)),
        )
        .await;
        convs.extend(created);
    }
    let mut sockets = Vec::with_capacity(n);
    for c in &convs {
        let mut ws = Ws::open(c, None).await;
        assert_eq!(ws.event().await["type"], "hello");
        sockets.push(ws);
    }
    let results = futures_util::future::join_all(sockets.into_iter().enumerate().map(
        |(i, mut ws)| async move {
            ws.say(&format!("m-{i}"), "hello from the crowd").await;
            let events = ws.until("assistant_end").await;
            let errors = events.iter().filter(|e| e["type"] == "error").count();
            let end = events.last().unwrap().clone();
            (
                errors,
                end["interrupted"] == false && end["text"].as_str().unwrap().contains("crowd"),
            )
        },
    ))
    .await;
    let errors: usize = results.iter().map(|r| r.0).sum();
    let complete = results.iter().filter(|r| r.1).count();
    assert_eq!(errors, 0);
    assert_eq!(complete, n);
}

#[actix_web::test]
async fn a_silent_client_is_closed_with_4008_after_the_heartbeat_timeout() {
    let app = spawn_app_with(|env| {
        env.insert(
            "AGENTPAY__WEBSOCKET__HEARTBEAT_INTERVAL_SECS".into(),
            "1".into(),
        );
        env.insert(
            "AGENTPAY__WEBSOCKET__CLIENT_TIMEOUT_SECS".into(),
            "2".into(),
        );
    })
    .await;
    let m = app.create_merchant("Heartbeat", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    // Not reading means not answering the server's pings.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(ws.closed().await, Some(4008));
}

#[actix_web::test]
async fn a_client_that_stops_reading_is_closed_with_4008_and_resumes_without_loss() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let tokens: String = std::env::var("SLOW_TOKENS").unwrap_or_else(|_| "50000".into());
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__LLM__SIMULATED__TTFT_MS".into(), "0".into());
        env.insert(
            "AGENTPAY__LLM__SIMULATED__TOKENS_PER_SEC".into(),
            "0".into(),
        );
        env.insert("AGENTPAY__LLM__SIMULATED__REPLY_TOKENS".into(), tokens);
        env.insert(
            "AGENTPAY__WEBSOCKET__MAX_OUTBOUND_FRAMES".into(),
            "8".into(),
        );
        env.insert("AGENTPAY__WEBSOCKET__FLUSH_INTERVAL_MS".into(), "2".into());
        env.insert(
            "AGENTPAY__SERVER__SOCKET_SEND_BUFFER_BYTES".into(),
            "4096".into(),
        );
    })
    .await;
    let m = app.create_merchant("Slow reader", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    // A client with a tiny receive buffer that stops reading after its message is acknowledged.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let addr: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let tcp = socket.connect(addr).await.unwrap();
    let mut req = c.ws_url.as_str().into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("agentpay.v1, {}", c.token).parse().unwrap(),
    );
    let tcp = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
    let (stream, _) = tokio_tungstenite::client_async(req, tcp).await.unwrap();
    let mut ws = Ws { stream };
    ws.event().await;
    ws.say("slow-1", "flood me").await;
    let ack = ws.event().await;
    assert_eq!(ack["type"], "ack");
    let started = std::time::Instant::now();
    // Stop reading; the server must give up on this connection rather than buffer without bound.
    let closed = loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let metrics = app.get("/metrics", None).await.text().await.unwrap();
        if metrics.contains(r#"agentpay_websocket_closes_total{code="4008"} 1"#) {
            break true;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            break false;
        }
    };
    assert!(closed, "the slow connection was closed with 4008");
    eprintln!("closed after {:?}", started.elapsed());
    // Draining what was buffered ends with the 4008 close.
    assert_eq!(ws.closed().await, Some(4008));
    // The reply goes on without that connection and is stored whole; the visitor resumes from
    // what it saw and gets it.
    let stored = loop {
        let stored = stored_messages(&app, &c).await;
        if stored.len() == 2 && stored[1]["status"] == "complete" {
            break stored;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the reply finishes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let mut ws = Ws::open(&c, Some(ack["seq"].as_i64().unwrap())).await;
    ws.event().await;
    let events = ws.until("assistant_end").await;
    assert_eq!(types(&events), ["assistant_start", "assistant_end"]);
    assert_eq!(stored[1]["text"], events[1]["text"]);
}

#[actix_web::test]
async fn a_resume_frame_replays_the_durable_events_after_its_sequence_number() {
    let (_app, _, c) = app_and_conversation().await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("r-1", "first").await;
    let first = ws.until("assistant_end").await;
    ws.send(json!({"type": "resume", "after": 0})).await;
    let hello = ws.event().await;
    assert_eq!(hello["type"], "hello");
    let replay = ws.until("assistant_end").await;
    assert_eq!(
        types(&replay),
        ["user_message", "assistant_start", "assistant_end"]
    );
    assert_eq!(replay[0]["seq"], 1);
    assert_eq!(replay[2]["text"], first.last().unwrap()["text"]);
    // Live events keep flowing on the resumed subscription.
    ws.say("r-2", "second").await;
    let live = ws.until("assistant_end").await;
    assert_eq!(live[0]["type"], "ack");
    assert_eq!(live[0]["seq"], 4);
}
