//! A WebSocket test client speaking protocol v1, and conversation helpers.

use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A created conversation.
#[derive(Debug, Clone)]
pub struct TestConversation {
    pub id: String,
    pub token: String,
    pub ws_url: String,
}

/// What the client read.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Event(Value),
    Closed(Option<u16>),
}

pub struct Ws {
    pub stream: Stream,
}

impl TestApp {
    pub async fn create_conversation(&self, pk: &str) -> TestConversation {
        let res = self
            .post_json("/v1/conversations", Some(pk), &json!({}))
            .await;
        assert_eq!(res.status(), 201, "create conversation");
        let body: Value = res.json().await.unwrap();
        TestConversation {
            id: body["id"].as_str().unwrap().into(),
            token: body["visitor_token"].as_str().unwrap().into(),
            ws_url: body["ws_url"].as_str().unwrap().into(),
        }
    }
}

impl Ws {
    /// Connects with the token in `Sec-WebSocket-Protocol`, optionally resuming after `after`.
    pub async fn connect(url: &str, token: Option<&str>, after: Option<i64>) -> Ws {
        Self::try_connect(url, token, after, None)
            .await
            .expect("websocket upgrade")
    }

    /// Like [`Ws::connect`], as a browser page at `origin` would (`Origin` header); the
    /// handshake's error (e.g. a 429 refusal) is returned, not a panic.
    pub async fn try_connect(
        url: &str,
        token: Option<&str>,
        after: Option<i64>,
        origin: Option<&str>,
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let url = match after {
            Some(a) => format!("{url}?after={a}"),
            None => url.to_string(),
        };
        let mut req = url.into_client_request().unwrap();
        let protocols = match token {
            Some(t) => format!("agentpay.v1, {t}"),
            None => "agentpay.v1".to_string(),
        };
        req.headers_mut()
            .insert("sec-websocket-protocol", protocols.parse().unwrap());
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        let (stream, res) = tokio_tungstenite::connect_async(req).await?;
        assert_eq!(res.headers()["sec-websocket-protocol"], "agentpay.v1");
        Ok(Ws { stream })
    }

    pub async fn open(c: &TestConversation, after: Option<i64>) -> Ws {
        Self::connect(&c.ws_url, Some(&c.token), after).await
    }

    pub async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::text(v.to_string()))
            .await
            .unwrap();
    }

    pub async fn say(&mut self, client_id: &str, text: &str) {
        self.send(json!({"type": "user_message", "client_id": client_id, "text": text}))
            .await;
    }

    pub async fn next(&mut self) -> Frame {
        // One deadline for the whole call: server pings must not keep extending it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("a frame within 30 s");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Frame::Event(serde_json::from_str(&t).unwrap());
                }
                Some(Ok(Message::Close(f))) => return Frame::Closed(f.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Frame::Closed(None),
            }
        }
    }

    pub async fn event(&mut self) -> Value {
        match self.next().await {
            Frame::Event(v) => v,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// Events until one of type `kind` (included).
    pub async fn until(&mut self, kind: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let ev = self.event().await;
            let done = ev["type"] == kind;
            out.push(ev);
            if done {
                return out;
            }
        }
    }

    /// The close code the server ends with.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Frame::Closed(code) = self.next().await {
                return code;
            }
        }
    }
}

/// Applies the protocol's delta rule: reply = reply[..index] + text.
pub fn apply_delta(reply: &mut String, ev: &Value) {
    let index = ev["index"].as_u64().unwrap() as usize;
    let keep: String = reply.chars().take(index).collect();
    *reply = keep + ev["text"].as_str().unwrap();
}

pub fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// The `data` of every event of a Server-Sent Events body.
pub fn sse_events(raw: &str) -> Vec<Value> {
    raw.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| {
            let data = b.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
            serde_json::from_str(data).unwrap()
        })
        .collect()
}

/// Creates a merchant on the server at `base` with the admin token; its JSON (keys included).
pub async fn merchant_at(client: &reqwest::Client, base: &str, name: &str) -> Value {
    client
        .post(format!("{base}/v1/merchants"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Creates a conversation on the server at `base` with the publishable key `pk`.
pub async fn conversation_at(client: &reqwest::Client, base: &str, pk: &str) -> TestConversation {
    let c: Value = client
        .post(format!("{base}/v1/conversations"))
        .bearer_auth(pk)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    TestConversation {
        id: c["id"].as_str().unwrap().into(),
        token: c["visitor_token"].as_str().unwrap().into(),
        ws_url: c["ws_url"].as_str().unwrap().into(),
    }
}
