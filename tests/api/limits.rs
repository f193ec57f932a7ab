//! Agent configuration, the merchant actor, and rate limits, end to end.

use crate::helpers::*;
use crate::ws_client::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[actix_web::test]
async fn the_eleventh_message_in_a_minute_is_refused_with_a_correct_wait_then_flows_again() {
    let app = spawn_app().await;
    let m = app.create_merchant("Chatty", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    let first = Instant::now();
    for i in 0..10 {
        ws.say(&format!("m{i}"), "hello").await;
        let events = ws.until("assistant_end").await;
        assert_eq!(events[0]["type"], "ack", "message {i}");
    }
    ws.say("m10", "one too many").await;
    let ev = ws.event().await;
    assert_eq!(ev["type"], "error");
    assert_eq!(ev["code"], "rate_limited");
    let retry_ms = ev["retry_after_ms"].as_i64().unwrap();
    // 10 per minute: the 11th may go 6 s after the first.
    let expected = 6000 - first.elapsed().as_millis() as i64;
    assert!(
        (retry_ms - expected).abs() < 1000,
        "retry_after_ms {retry_ms}, expected about {expected}"
    );
    // Nothing was stored for the refused message, and the connection stays usable.
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.event().await["type"], "pong");
    tokio::time::sleep(Duration::from_millis(retry_ms as u64 + 100)).await;
    ws.say("m10", "one too many").await;
    let events = ws.until("assistant_end").await;
    assert_eq!(events[0]["type"], "ack");
    assert_eq!(events[0]["client_id"], "m10");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"agentpay_rate_limit_rejections_total{scope="chat"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("agentpay_rate_limit_check_duration_seconds_count"));
}

#[actix_web::test]
async fn the_61st_api_request_in_a_minute_gets_429_and_other_merchants_are_unaffected() {
    let app = spawn_app().await;
    let a = app.create_merchant("Busy API", &[]).await;
    let b = app.create_merchant("Quiet API", &[]).await;
    for i in 0..60 {
        assert_eq!(
            app.get("/v1/merchant", Some(&a.secret_key)).await.status(),
            200,
            "request {i}"
        );
    }
    let res = app.get("/v1/merchant", Some(&a.secret_key)).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    assert_error(res, 429, "rate_limited").await;
    assert_eq!(
        app.get("/v1/merchant", Some(&b.secret_key)).await.status(),
        200
    );
}

async fn create_from(app: &TestApp, pk: &str, forwarded_for: Option<&str>) -> u16 {
    let mut req = app
        .client
        .post(app.url("/v1/conversations"))
        .bearer_auth(pk)
        .json(&json!({}));
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.unwrap().status().as_u16()
}

#[actix_web::test]
async fn a_flood_of_conversations_from_one_ip_is_limited_and_spoofed_forwarding_changes_nothing() {
    let app = spawn_app().await;
    let m = app.create_merchant("Flooded", &[]).await;
    for _ in 0..20 {
        assert_eq!(create_from(&app, &m.publishable_key, None).await, 201);
    }
    assert_eq!(create_from(&app, &m.publishable_key, None).await, 429);
    // The peer (127.0.0.1) is not a trusted proxy: its X-Forwarded-For is ignored.
    assert_eq!(
        create_from(&app, &m.publishable_key, Some("203.0.113.9")).await,
        429
    );
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let app = spawn_app_with(|env| {
        env.insert(
            "AGENTPAY__RATE_LIMIT__TRUSTED_PROXIES".into(),
            r#"["127.0.0.1"]"#.into(),
        );
        env.insert(
            "AGENTPAY__RATE_LIMIT__CONVERSATIONS_PER_MINUTE_PER_IP".into(),
            "3".into(),
        );
    })
    .await;
    let m = app.create_merchant("Proxied", &[]).await;
    for _ in 0..3 {
        assert_eq!(
            create_from(&app, &m.publishable_key, Some("198.51.100.1")).await,
            201
        );
    }
    assert_eq!(
        create_from(&app, &m.publishable_key, Some("198.51.100.1")).await,
        429
    );
    // A client can't escape by prepending its own entry: the rightmost untrusted hop counts.
    assert_eq!(
        create_from(&app, &m.publishable_key, Some("192.0.2.77, 198.51.100.1")).await,
        429
    );
    assert_eq!(
        create_from(&app, &m.publishable_key, Some("198.51.100.2")).await,
        201
    );
}

#[actix_web::test]
async fn websocket_connections_per_conversation_are_limited() {
    let app = spawn_app_with(|env| {
        env.insert(
            "AGENTPAY__RATE_LIMIT__CONNECTIONS_PER_CONVERSATION".into(),
            "2".into(),
        );
    })
    .await;
    let m = app.create_merchant("Tabs", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut a = Ws::open(&c, None).await;
    let mut b = Ws::open(&c, None).await;
    a.event().await;
    b.event().await;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = c.ws_url.as_str().into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("agentpay.v1, {}", c.token).parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 429)
        }
        other => panic!(
            "a third connection was accepted: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
    // Closing one frees its slot.
    drop(a);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c3 = Ws::open(&c, None).await;
    assert_eq!(c3.event().await["type"], "hello");
}

async fn agent_versions(app: &TestApp, c: &TestConversation) -> Vec<i64> {
    let body: Value = app
        .get(
            &format!("/v1/conversations/{}/messages", c.id),
            Some(&c.token),
        )
        .await
        .json()
        .await
        .unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .map(|m| m["agent_version"].as_i64().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_configuration_change_reaches_a_live_conversations_next_turn() {
    let app = spawn_app().await;
    let m = app.create_merchant("Configurable", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    let hello = ws.event().await;
    assert_eq!(hello["greeting"], "Hi! How can I help you today?");
    ws.say("1", "hi").await;
    ws.until("assistant_end").await;

    let res = app
        .client
        .put(app.url("/v1/merchant/agent"))
        .bearer_auth(&m.secret_key)
        .json(&json!({"greeting": "Welcome to the tent shop!", "extra_instructions": "Mention the tent sale."}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(saved["version"], 1);
    assert_eq!(
        saved["config"]["tone"], "friendly",
        "absent fields take their defaults"
    );

    // Same connection, no reconnect: the next turn runs with version 1.
    ws.say("2", "and now?").await;
    ws.until("assistant_end").await;
    assert_eq!(agent_versions(&app, &c).await, vec![0, 1]);
    // A new tab on the live conversation sees the new greeting.
    let mut tab = Ws::open(&c, None).await;
    assert_eq!(tab.event().await["greeting"], "Welcome to the tent shop!");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"agentpay_actors_live{kind="merchant"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("agentpay_agent_config_reloads_total 1"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn an_invalid_configuration_is_refused_by_field_and_the_previous_one_stays() {
    let app = spawn_app().await;
    let m = app.create_merchant("Strict", &[]).await;
    let put = |body: Value| {
        app.client
            .put(app.url("/v1/merchant/agent"))
            .bearer_auth(&m.secret_key)
            .json(&body)
            .send()
    };
    assert_eq!(
        put(json!({"assistant_name": "Tina"}))
            .await
            .unwrap()
            .status(),
        200
    );
    let cases = [
        (
            json!({"limits": {"chat_messages_per_minute": -1}}),
            "limits.chat_messages_per_minute",
        ),
        (
            json!({"limits": {"chat_messages_per_minute": 0}}),
            "limits.chat_messages_per_minute",
        ),
        (json!({"models": {"slow": "anthropic"}}), "models.slow"),
        (json!({"models": {"main": "some-model"}}), "models.main"),
        (
            json!({"extra_instructions": "x".repeat(5000)}),
            "extra_instructions",
        ),
        (json!({"tone": "grumpy"}), "tone"),
        (json!({"favourite_colour": "red"}), ""),
    ];
    for (body, field) in cases {
        let res = put(body.clone()).await.unwrap();
        let err = assert_error(res, 422, "invalid_field").await;
        if !field.is_empty() {
            assert_eq!(err["error"]["field"], field, "{body}");
        }
    }
    let current: Value = app
        .get("/v1/merchant/agent", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["version"], 1);
    assert_eq!(current["config"]["assistant_name"], "Tina");
}

#[actix_web::test]
async fn a_merchant_can_set_its_own_chat_limit() {
    let app = spawn_app().await;
    let m = app.create_merchant("Own limits", &[]).await;
    let res = app
        .client
        .put(app.url("/v1/merchant/agent"))
        .bearer_auth(&m.secret_key)
        .json(&json!({"limits": {"chat_messages_per_minute": 2}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let c = app.create_conversation(&m.publishable_key).await;
    let path = format!("/v1/conversations/{}/messages", c.id);
    for i in 0..2 {
        let res = app
            .post_json(
                &path,
                Some(&c.token),
                &json!({"client_id": format!("x{i}"), "text": "hi"}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    let res = app
        .post_json(
            &path,
            Some(&c.token),
            &json!({"client_id": "x2", "text": "hi"}),
        )
        .await;
    assert!(res.headers().contains_key("retry-after"));
    assert_error(res, 429, "rate_limited").await;
}

#[actix_web::test]
async fn past_the_in_flight_limit_requests_get_503_overloaded_at_once_and_health_is_never_shed() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__SERVER__MAX_INFLIGHT_REQUESTS".into(), "1".into());
    })
    .await;
    let merchant = app.create_merchant("Busy store", &[]).await;
    // One request stays in flight: its body arrives slowly.
    let body = json!({"name": "Slow", "currency": "USD"}).to_string();
    let address = app.address.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/merchants HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {ADMIN_TOKEN}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Refused at once, with a reason and when to come back; nothing was created.
    let started = Instant::now();
    let res = app
        .client
        .post(app.url("/v1/conversations"))
        .bearer_auth(&merchant.publishable_key)
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(res.headers()["retry-after"], "1");
    assert_error(res, 503, "overloaded").await;
    assert_eq!(app.get("/health", None).await.status(), 200);
    assert_eq!(app.get("/ready", None).await.status(), 200);
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("agentpay_http_requests_shed_total 1"),
        "{metrics}"
    );

    // The slow request completes; then requests flow again.
    slow.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut reply = vec![0u8; 1024];
    let n = tokio::io::AsyncReadExt::read(&mut slow, &mut reply)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&reply[..n]).starts_with("HTTP/1.1 201"));
    let res = app
        .client
        .post(app.url("/v1/conversations"))
        .bearer_auth(&merchant.publishable_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&mut app.db.connect().await)
        .await
        .unwrap();
    assert_eq!(count, 1, "the refused request created nothing");
}
