//! Closing a WebSocket from the client side (RFC 6455 §5.5.1): the server answers with a Close
//! frame carrying the client's code, at once, and gives the connection's slot back.

use crate::helpers::*;
use crate::ws_client::*;
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// What a client saw after sending its Close.
#[derive(Debug, PartialEq)]
enum Answer {
    /// The server's Close frame, with its code (`None`: a Close without a code).
    Close(Option<u16>),
    /// The connection ended without a Close frame (what a browser reports as 1006).
    Dropped(String),
}

/// Sends a Close with `code` (or none), then reads until the server's Close frame; returns it
/// and how long it took.
async fn close_with(ws: &mut Ws, code: Option<u16>) -> (Answer, Duration) {
    let frame = code.map(|c| CloseFrame {
        code: CloseCode::from(c),
        reason: "bye".into(),
    });
    let started = Instant::now();
    ws.stream.send(Message::Close(frame)).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match ws.stream.next().await {
                Some(Ok(Message::Close(f))) => return Answer::Close(f.map(|f| u16::from(f.code))),
                // Frames already on their way (a server ping, a late event) may come first.
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Answer::Dropped(e.to_string()),
                None => return Answer::Dropped("end of stream".into()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Answer::Dropped("no answer within 30 s".into()));
    (answer, started.elapsed())
}

#[actix_web::test]
async fn a_client_close_is_answered_at_once_with_the_same_code() {
    let app = spawn_app().await;
    let m = app.create_merchant("Close Shop", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    for code in [Some(1000), Some(4000), Some(1001), None] {
        let mut ws = Ws::open(&c, None).await;
        assert_eq!(ws.event().await["type"], "hello");
        let (answer, took) = close_with(&mut ws, code).await;
        assert_eq!(answer, Answer::Close(code), "close {code:?}");
        assert!(
            took < Duration::from_millis(100),
            "close {code:?} answered after {took:?}"
        );
    }
}

#[actix_web::test]
async fn a_client_closing_mid_reply_gets_its_close_answered_not_more_events() {
    let app = spawn_app_with(|env| {
        env.insert(
            "AGENTPAY__LLM__SIMULATED__TOKENS_PER_SEC".into(),
            "200".into(),
        );
        env.insert(
            "AGENTPAY__LLM__SIMULATED__REPLY_TOKENS".into(),
            "400".into(),
        );
    })
    .await;
    let m = app.create_merchant("Busy Close", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("m-1", "talk to me").await;
    ws.until("delta").await;
    let (answer, took) = close_with(&mut ws, Some(1000)).await;
    assert_eq!(answer, Answer::Close(Some(1000)));
    assert!(took < Duration::from_millis(100), "answered after {took:?}");
}

#[actix_web::test]
async fn after_a_close_the_conversations_connection_slot_is_free_at_once() {
    let app = spawn_app_with(|env| {
        env.insert(
            "AGENTPAY__RATE_LIMIT__CONNECTIONS_PER_CONVERSATION".into(),
            "1".into(),
        );
    })
    .await;
    let m = app.create_merchant("One Tab", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    // The limit holds while the first connection is open.
    match Ws::try_connect(&c.ws_url, Some(&c.token), None, None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 429)
        }
        Err(e) => panic!("expected a 429 refusal, got {e}"),
        Ok(_) => panic!("a second connection got in past a limit of 1"),
    }
    // Each close frees the slot before its answer arrives: reconnecting right away works.
    for round in 0..5 {
        let (answer, _) = close_with(&mut ws, Some(1000)).await;
        assert_eq!(answer, Answer::Close(Some(1000)), "round {round}");
        ws = Ws::try_connect(&c.ws_url, Some(&c.token), None, None)
            .await
            .unwrap_or_else(|e| panic!("round {round}: reconnecting right after a close: {e}"));
        assert_eq!(ws.event().await["type"], "hello", "round {round}");
    }
}

#[actix_web::test]
async fn a_thousand_clients_closing_at_once_all_get_their_close_answered() {
    let app = spawn_app_with(|env| {
        // 1,000 connections from one IP over a few conversations: the limits would (rightly)
        // refuse them.
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
    })
    .await;
    let m = app.create_merchant("Crowd Close", &[]).await;
    let n: usize = std::env::var("CLOSE_CROWD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut convs = Vec::new();
    for _ in 0..10 {
        convs.push(app.create_conversation(&m.publishable_key).await);
    }
    let mut sockets = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let opened = futures_util::future::join_all(chunk.iter().map(|&i| {
            let c = &convs[i % convs.len()];
            async move {
                let mut ws = Ws::open(c, None).await;
                assert_eq!(ws.event().await["type"], "hello");
                ws
            }
        }))
        .await;
        sockets.extend(opened);
    }
    let started = Instant::now();
    let answers = futures_util::future::join_all(
        sockets
            .iter_mut()
            .map(|ws| async move { close_with(ws, Some(1000)).await }),
    )
    .await;
    let all = started.elapsed();
    let mut took: Vec<Duration> = answers.iter().map(|(_, t)| *t).collect();
    took.sort();
    let answered = answers
        .iter()
        .filter(|(a, _)| *a == Answer::Close(Some(1000)))
        .count();
    eprintln!(
        "{n} closes: all answered within {all:?}; per client p50 {:?}, p99 {:?}, max {:?}",
        took[n / 2],
        took[n * 99 / 100],
        took[n - 1]
    );
    assert_eq!(
        answered,
        n,
        "first failures: {:?}",
        answers
            .iter()
            .filter(|(a, _)| *a != Answer::Close(Some(1000)))
            .take(3)
            .collect::<Vec<_>>()
    );
    assert!(all < Duration::from_secs(5), "{n} closes took {all:?}");
    // Every session is gone, promptly.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let metrics = app.get("/metrics", None).await.text().await.unwrap();
        if metrics.contains("agentpay_websocket_connections 0\n") {
            break;
        }
        assert!(Instant::now() < deadline, "sessions left open: {metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn a_frame_over_the_size_limit_is_closed_with_1009() {
    let app = spawn_app().await;
    let m = app.create_merchant("Big Frame", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    let big = format!(
        r#"{{"type":"user_message","client_id":"b","text":"{}"}}"#,
        "a".repeat(70_000)
    );
    ws.stream.send(Message::text(big)).await.unwrap();
    assert_eq!(ws.closed().await, Some(1009));
}
