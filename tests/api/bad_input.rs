//! Bad input at the edges: well over a thousand malformed or hostile inputs (broken and deep
//! JSON, invalid UTF-8, wrong types, huge and negative numbers, control characters, oversize
//! bodies and frames, binary frames, frames after a close, header floods, smuggling attempts,
//! slow-loris handshakes, half-open connections), each answered with the documented error, with
//! nothing changed afterwards, while another visitor is served throughout.

use crate::helpers::ADMIN_TOKEN;
use crate::security::{World, world};
use crate::ws_client::Ws;
use futures_util::SinkExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};

/// Bodies that are not JSON at all, or broken JSON.
fn broken_json() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        "",
        " ",
        "{",
        "}",
        "[",
        "]",
        "{\"a\":}",
        "{\"a\":1,}",
        "{'a':1}",
        "nul",
        "tru",
        "{\"a\":1}{\"b\":2}",
        "{\"a\":1} trailing",
        "NaN",
        "Infinity",
        "-",
        "01",
        "1.",
        ".5",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\x41\"}",
        "{\"a\":\"unterminated}",
        "{\"a\" 1}",
        "{a:1}",
        "[1,2",
        "{\"a\":[}",
        "\"just a string",
        "{\"a\":1e999999}",
        "{\"\\u0000\":1",
        "/* comment */ {}",
        "{\"a\":1}\u{0}",
        "\u{feff}\u{feff}{}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    for bad in [
        &b"\xff\xfe{}"[..],
        b"{\"title\":\"\xc3\x28\"}",
        b"{\"title\":\"\xc0\xaf\"}",
        b"{\"title\":\"\xed\xa0\x80\"}",
        b"{\"title\":\"\xf8\x88\x80\x80\x80\"}",
        b"\x00\x00\x00{",
        b"{\"title\":\"a\x00b\"",
    ] {
        out.push(bad.to_vec());
    }
    // Deep nesting: past serde_json's recursion limit, never a stack overflow.
    for depth in [129, 1_000, 20_000] {
        out.push(format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes());
        out.push(format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)).into_bytes());
    }
    out
}

/// Values that are wrong for a field of `kind`.
fn wrong_values(kind: &str) -> Vec<Value> {
    let mut v = vec![
        json!({"nested": {"deep": [1, 2, 3]}}),
        json!([1, "two", null]),
    ];
    match kind {
        "string" => v.extend([
            json!(1),
            json!(-1.5),
            json!(true),
            json!(9e300),
            json!("a\u{0}b"),
        ]),
        "required_string" => v.extend([
            json!(null),
            json!(1),
            json!(true),
            json!(""),
            json!("\u{0}"),
            json!("tent\u{0}; DROP TABLE products"),
        ]),
        "int" => v.extend([
            json!("12"),
            json!(-1),
            json!(1.5),
            json!(true),
            json!(9_223_372_036_854_775_807_i64),
            json!(18_446_744_073_709_551_615_u64),
            json!(-9_223_372_036_854_775_807_i64),
            json!(1e300),
            json!("1e400"),
        ]),
        "currency" => v.extend([
            json!("usd1"),
            json!("XX"),
            json!("ZZZ"),
            json!(840),
            json!(""),
        ]),
        _ => {}
    }
    v
}

struct Endpoint {
    method: reqwest::Method,
    path: String,
    token: String,
    body: Value,
    fields: Vec<(&'static str, &'static str)>,
}

fn endpoints(w: &World) -> Vec<Endpoint> {
    let sk = w.a.secret_key.clone();
    vec![
        Endpoint {
            method: reqwest::Method::POST,
            path: "/v1/products".into(),
            token: sk.clone(),
            body: json!({"external_id": "NEW-1", "title": "New", "price": 100, "currency": "USD", "stock": 3}),
            fields: vec![
                ("external_id", "required_string"),
                ("title", "required_string"),
                ("price", "int"),
                ("currency", "currency"),
                ("stock", "int"),
                ("compare_at_price", "int"),
                ("tags", "object"),
                ("variants", "object"),
            ],
        },
        Endpoint {
            method: reqwest::Method::PATCH,
            path: "/v1/products/TENT-2P".into(),
            token: sk.clone(),
            body: json!({"price": 100}),
            // A PATCH takes null as "leave it".
            fields: vec![("price", "int"), ("title", "string"), ("stock", "int")],
        },
        Endpoint {
            method: reqwest::Method::POST,
            path: "/v1/products/search".into(),
            token: sk.clone(),
            body: json!({"query": "tent", "limit": 5}),
            fields: vec![
                ("query", "string"),
                ("limit", "int"),
                ("mode", "string"),
                ("filters", "string"),
            ],
        },
        Endpoint {
            method: reqwest::Method::PATCH,
            path: "/v1/merchant".into(),
            token: sk.clone(),
            body: json!({"name": "Renamed"}),
            fields: vec![
                ("name", "string"),
                ("allowed_origins", "string"),
                ("currency", "currency"),
            ],
        },
        Endpoint {
            method: reqwest::Method::POST,
            path: "/v1/merchants".into(),
            token: ADMIN_TOKEN.into(),
            body: json!({"name": "New Shop", "currency": "USD"}),
            fields: vec![
                ("name", "required_string"),
                ("currency", "currency"),
                ("allowed_origins", "string"),
            ],
        },
        Endpoint {
            method: reqwest::Method::POST,
            path: format!("/v1/conversations/{}/messages", w.conv.id),
            token: w.conv.token.clone(),
            body: json!({"client_id": "bad-1", "text": "hello"}),
            fields: vec![
                ("client_id", "required_string"),
                ("text", "required_string"),
            ],
        },
        Endpoint {
            method: reqwest::Method::POST,
            path: "/v1/merchant/keys".into(),
            token: sk,
            body: json!({"kind": "secret"}),
            fields: vec![("kind", "required_string"), ("label", "string")],
        },
    ]
}

/// The error codes docs/http-api.md lists for bad input (and the visitor message codes of
/// docs/protocol.md, which the HTTP fallback shares).
const HTTP_ERROR_CODES: &[&str] = &[
    "malformed_json",
    "invalid_query",
    "unreadable_body",
    "payload_too_large",
    "unsupported_media_type",
    "invalid_field",
    "invalid_message",
    "invalid_client_id",
    "empty_message",
    "message_too_large",
    "invalid_body",
];

/// Sends one request and checks it was refused in the API's error shape; the case's name on
/// failure.
async fn refused(w: &World, e: &Endpoint, content_type: &str, body: Vec<u8>, name: &str) {
    let res = w
        .app
        .client
        .request(e.method.clone(), w.app.url(&e.path))
        .bearer_auth(&e.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|err| panic!("{name}: {err}"));
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert!(
        matches!(status, 400 | 413 | 415 | 422),
        "{} {} {name}: {status} {text}",
        e.method,
        e.path
    );
    let err: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{name}: not JSON: {text}"));
    let code = err["error"]["code"].as_str().unwrap_or_default();
    assert!(
        HTTP_ERROR_CODES.contains(&code),
        "{} {} {name}: undocumented code {code}: {text}",
        e.method,
        e.path
    );
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

/// A visitor chatting over HTTP and reading `/health` the whole time; counts what failed.
fn bystander(
    w: &World,
) -> (
    Arc<AtomicBool>,
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let (client, url) = (w.app.client.clone(), w.app.url(""));
    let (conv, token) = (w.other_conv.id.clone(), w.other_conv.token.clone());
    let (s, o, f) = (stop.clone(), ok.clone(), failed.clone());
    let task = tokio::spawn(async move {
        let mut n = 0;
        while !s.load(Ordering::Relaxed) {
            n += 1;
            let health = client.get(format!("{url}/health")).send().await;
            let chat = client
                .post(format!("{url}/v1/conversations/{conv}/messages"))
                .bearer_auth(&token)
                .json(
                    &json!({"client_id": format!("bystander-{n}"), "text": "do you have stoves?"}),
                )
                .send()
                .await;
            let good = health.is_ok_and(|r| r.status() == 200)
                && chat.is_ok_and(|r| r.status().is_success());
            if good { &o } else { &f }.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (stop, ok, failed, task)
}

#[actix_web::test]
async fn over_a_thousand_bad_inputs_get_their_documented_errors_and_change_nothing() {
    let w = world().await;
    let before = w.snapshot().await;
    let (stop, ok, failed, task) = bystander(&w);
    let mut cases = 0;

    for e in endpoints(&w) {
        // Broken JSON and invalid UTF-8.
        for (i, body) in broken_json().into_iter().enumerate() {
            refused(&w, &e, "application/json", body, &format!("broken #{i}")).await;
            cases += 1;
        }
        // The valid body cut off at every byte: an interrupted upload.
        let full = e.body.to_string().into_bytes();
        for cut in 0..full.len() {
            refused(
                &w,
                &e,
                "application/json",
                full[..cut].to_vec(),
                &format!("cut at {cut}"),
            )
            .await;
            cases += 1;
        }
        // Every field with every wrong type, and unknown or hostile fields.
        for (field, kind) in &e.fields {
            for value in wrong_values(kind) {
                let mut body = e.body.clone();
                body[*field] = value.clone();
                let name = format!("{field} = {value}");
                refused(
                    &w,
                    &e,
                    "application/json",
                    body.to_string().into_bytes(),
                    &name,
                )
                .await;
                cases += 1;
            }
        }
        for extra in [
            json!({"__proto__": {"admin": true}}),
            json!({"merchant_id": w.b.id}),
            json!({"id": "00000000-0000-0000-0000-000000000000"}),
        ] {
            let mut body = e.body.clone();
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            refused(
                &w,
                &e,
                "application/json",
                body.to_string().into_bytes(),
                &format!("extra {extra}"),
            )
            .await;
            cases += 1;
        }
        // Not JSON at all, and bodies past the limit (declared and streamed).
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "",
        ] {
            refused(
                &w,
                &e,
                ct,
                e.body.to_string().into_bytes(),
                &format!("content-type {ct:?}"),
            )
            .await;
            cases += 1;
        }
        let mut huge = e.body.clone();
        huge["pad"] = json!("x".repeat(300 * 1024));
        refused(
            &w,
            &e,
            "application/json",
            huge.to_string().into_bytes(),
            "300 KiB body",
        )
        .await;
        cases += 1;
        let stream = futures_util::stream::iter(
            (0..40).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 16 * 1024]))),
        );
        let res = w
            .app
            .client
            .request(e.method.clone(), w.app.url(&e.path))
            .bearer_auth(&e.token)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await;
        // Refused with 413 while reading, or the connection is cut once the limit is passed.
        if let Ok(res) = res {
            assert_eq!(res.status(), 413, "{}: a streamed 640 KiB body", e.path);
        }
        cases += 1;
    }
    // Query strings.
    for q in [
        "limit=-1",
        "limit=100000",
        "limit=abc",
        "limit=1e400",
        "after=-5",
        "after=9223372036854775808",
        "status=%ff",
        "cursor=%00",
        "limit=1&limit=2",
        "unknown=1",
    ] {
        for path in ["/v1/products", "/v1/orders", "/v1/merchants"] {
            let token = if path == "/v1/merchants" {
                ADMIN_TOKEN
            } else {
                &w.a.secret_key
            };
            let res = w.app.get(&format!("{path}?{q}"), Some(token)).await;
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            assert!(matches!(status, 400 | 422), "{path}?{q}: {status} {text}");
            cases += 1;
        }
        let res = w
            .app
            .get(
                &format!("/v1/conversations/{}/messages?{q}", w.conv.id),
                Some(&w.conv.token),
            )
            .await;
        let status = res.status().as_u16();
        assert!(matches!(status, 200 | 400), "messages?{q}: {status}");
        if status == 200 {
            // Only parameters it does not read can pass; the list is still the conversation's.
            assert!(
                q.starts_with("status") || q.starts_with("cursor"),
                "messages?{q}: 200"
            );
        }
        cases += 1;
    }
    // Malformed ids in paths name nothing.
    for id in [
        "x",
        "..",
        "%2e%2e%2f",
        "00000000-0000-0000-0000-00000000000g",
        "'; DROP TABLE products; --",
        "%00",
        &"a".repeat(5000),
    ] {
        for path in [
            format!("/v1/conversations/{id}"),
            format!("/v1/orders/{id}"),
            format!("/checkout/{id}"),
        ] {
            let token = if path.starts_with("/v1/orders") {
                &w.a.secret_key
            } else {
                &w.conv.token
            };
            let res = w.app.get(&path, Some(token)).await;
            assert!(
                matches!(res.status().as_u16(), 404 | 400 | 414 | 431),
                "{path}: {}",
                res.status()
            );
            cases += 1;
        }
    }

    cases += bad_frames(&w).await;
    cases += raw_connections(&w).await;

    stop.store(true, Ordering::Relaxed);
    task.await.unwrap();
    println!("{cases} bad inputs");
    assert!(cases >= 1000, "only {cases} bad inputs");
    assert!(
        ok.load(Ordering::Relaxed) >= 5,
        "the bystander was barely served"
    );
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "the bystander saw failures meanwhile"
    );
    // The merchant's state is as it was; the conversation holds only the messages that were
    // meant to get through (the one sent to show the connection still worked, the bystander's).
    let mut after = w.snapshot().await;
    let messages = after["messages"]["data"].as_array().unwrap().clone();
    let mut before = before;
    for key in ["conversation", "messages", "other"] {
        before.as_object_mut().unwrap().remove(key);
        after.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(after, before, "a refused input changed something");
    let sent: Vec<&str> = messages
        .iter()
        .filter_map(|m| m["client_id"].as_str())
        .collect();
    assert_eq!(
        sent,
        ["c-1", "c-2", "c-3", "after-bad-frames"],
        "{messages:?}"
    );
}

/// WebSocket frames: every malformed text frame gets an `error` event and the connection stays
/// usable; binary frames, frames with invalid UTF-8, oversize frames and frames after a close
/// are handled as docs/protocol.md says. Returns the number of cases.
async fn bad_frames(w: &World) -> usize {
    let mut cases = 0;
    let mut ws = Ws::open(&w.conv, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    let until_error = async |ws: &mut Ws, what: &str| -> Value {
        loop {
            let ev = ws.event().await;
            if ev["type"] == "error" {
                return ev;
            }
            assert!(ev["type"] != "ack", "{what} was acknowledged: {ev}");
        }
    };
    let mut frames: Vec<String> = broken_json()
        .into_iter()
        .filter(|b| b.len() < 60_000)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    for (field, values) in [
        (
            "client_id",
            vec![
                json!(""),
                json!(1),
                json!(null),
                json!("a\u{0}b"),
                json!("\u{1b}[31m"),
                json!("x".repeat(65)),
                json!(["a"]),
            ],
        ),
        (
            "text",
            vec![
                json!(""),
                json!("a\u{0}b"),
                json!("   \n\t "),
                json!(null),
                json!(5),
                json!({"t": 1}),
                json!("x".repeat(4097)),
            ],
        ),
    ] {
        for v in values {
            let mut f = json!({"type": "user_message", "client_id": "f-1", "text": "hi"});
            f[field] = v;
            frames.push(f.to_string());
        }
    }
    for f in [
        json!({"type": "resume", "after": -1}),
        json!({"type": "resume", "after": "5"}),
        json!({"type": "cart_add", "external_id": "TENT-2P", "quantity": 0}),
        json!({"type": "cart_add", "external_id": "TENT-2P", "quantity": -3}),
        json!({"type": "cart_add", "external_id": "TENT-2P", "quantity": 100}),
        json!({"type": "cart_add", "external_id": "TENT-2P", "quantity": 4_294_967_296_u64}),
        json!({"type": "cart_add", "external_id": ""}),
        json!({"type": "cart_add", "external_id": "x".repeat(201)}),
        json!({"type": "cart_remove", "external_id": "TENT-2P", "quantity": 0}),
        json!({"type": "dance"}),
        json!({"type": null}),
        json!({"type": ["user_message"]}),
        json!({}),
        json!([]),
        json!("user_message"),
    ] {
        frames.push(f.to_string());
    }
    frames.push(r#"{"type":"resume","after":1e400}"#.to_string());
    frames.push(r#"{"type":"cart_add","external_id":"TENT-2P","quantity":1e400}"#.to_string());
    for f in &frames {
        ws.stream
            .send(Message::Text(f.clone().into()))
            .await
            .unwrap();
        let ev = until_error(&mut ws, f).await;
        assert!(ev["code"].is_string() && ev["message"].is_string(), "{ev}");
        cases += 1;
    }
    // Binary frames.
    for payload in [&b""[..], b"\x00\xff", br#"{"type":"ping"}"#] {
        ws.stream
            .send(Message::Binary(payload.to_vec().into()))
            .await
            .unwrap();
        let ev = until_error(&mut ws, "a binary frame").await;
        assert_eq!(ev["code"], "binary_not_supported");
        cases += 1;
    }
    // Still usable: a good message is acknowledged.
    ws.say("after-bad-frames", "hello again").await;
    loop {
        let ev = ws.event().await;
        if ev["type"] == "ack" {
            break;
        }
    }
    ws.until("assistant_end").await;

    // Invalid UTF-8 in a text frame breaks the protocol: the connection is closed.
    let mut ws = Ws::open(&w.conv, None).await;
    ws.event().await;
    let header = FrameHeader {
        opcode: OpCode::Data(Data::Text),
        ..FrameHeader::default()
    };
    let raw = Frame::from_payload(
        header,
        b"{\"type\":\"ping\",\"x\":\"\xff\xfe\"}".to_vec().into(),
    );
    ws.stream.send(Message::Frame(raw)).await.unwrap();
    let code = ws.closed().await;
    assert!(
        matches!(code, Some(1002 | 1007) | None),
        "invalid UTF-8: {code:?}"
    );
    cases += 1;

    // Frames after a close are not read.
    let mut ws = Ws::open(&w.conv, None).await;
    ws.event().await;
    ws.stream.send(Message::Close(None)).await.unwrap();
    let _ = ws
        .stream
        .send(Message::Text(
            json!({"type": "user_message", "client_id": "after-close", "text": "sneaky"})
                .to_string()
                .into(),
        ))
        .await;
    ws.closed().await;
    cases += 1;

    // An oversize frame closes with 1009.
    let mut ws = Ws::open(&w.conv, None).await;
    ws.event().await;
    let big = json!({"type": "user_message", "client_id": "big", "text": "x".repeat(70_000)});
    ws.stream
        .send(Message::Text(big.to_string().into()))
        .await
        .unwrap();
    assert_eq!(ws.closed().await, Some(1009));
    cases += 1;
    cases
}

/// Raw connections: header floods, broken request lines, smuggling, slow-loris heads and idle
/// half-open sockets. Returns the number of cases.
async fn raw_connections(w: &World) -> usize {
    let addr = w.app.address.trim_start_matches("http://").to_string();
    let mut cases = 0;
    let exchange = async |request: Vec<u8>| -> String {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let _ = s.write_all(&request).await;
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
        String::from_utf8_lossy(&buf).into_owned()
    };
    let status_of = |answer: &str| answer.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok());
    let many_headers: String = (0..200).map(|i| format!("x-h{i}: {i}\r\n")).collect();
    let requests: Vec<(Vec<u8>, &[u16])> = vec![
        (format!("GET /health HTTP/1.1\r\nhost: x\r\n{many_headers}\r\n").into_bytes(), &[431, 400]),
        (format!("GET /health HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "a".repeat(1_000_000)).into_bytes(), &[431, 400]),
        (format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(1_000_000)).into_bytes(), &[414, 431, 400]),
        (b"POST /v1/products HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(), &[400]),
        (b"POST /v1/products HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!".to_vec(), &[400]),
        (b"POST /v1/products HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n".to_vec(), &[400]),
        (b"POST /v1/products HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999999999999999999\r\n\r\n".to_vec(), &[400]),
        (b"GET /health HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n".to_vec(), &[400, 501]),
        (b"G\x00T /health HTTP/1.1\r\n\r\n".to_vec(), &[400]),
        (b"GET /health HTTP/9.9\r\n\r\n".to_vec(), &[400, 505]),
        (b"GET /health\r\n\r\n".to_vec(), &[400]),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(), &[400]),
        (b"GET /health HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n".to_vec(), &[400]),
        (b"GET /health HTTP/1.1\r\nhost: x\r\nx-a: \xff\xfe\r\n\r\n".to_vec(), &[200, 400]),
        (b"GET /v1/merchant HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \xff\xfe\r\n\r\n".to_vec(), &[401]),
    ];
    for (request, allowed) in requests {
        let answer = exchange(request.clone()).await;
        let status = status_of(&answer);
        assert!(
            status.is_some_and(|s| allowed.contains(&s))
                || (answer.is_empty() && !allowed.contains(&200)),
            "{:?}: {:?}",
            String::from_utf8_lossy(&request[..request.len().min(80)]),
            &answer[..answer.len().min(200)]
        );
        cases += 1;
    }
    // Half-open connections: a hundred sockets that never send a byte, and a slow-loris head
    // one byte at a time; the server keeps serving and cuts the slow head off.
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
        cases += 1;
    }
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let started = std::time::Instant::now();
    let mut cut = false;
    for b in b"GET /health HTTP/1.1\r\nhost: x\r\nx-slow: "
        .iter()
        .chain(std::iter::repeat(&b'a'))
    {
        if slow.write_all(&[*b]).await.is_err() {
            cut = true;
            break;
        }
        let mut probe = [0u8; 256];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(250), slow.read(&mut probe)).await
        {
            // The server answered (408) or closed.
            let _ = n;
            cut = true;
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    assert!(cut, "a slow-loris head was held open for 20 s");
    cases += 1;
    let res = w.app.get("/health", None).await;
    assert_eq!(res.status(), 200, "health with 100 idle sockets open");
    drop(idle);
    cases
}

/// A model is outside input too: a reply with a NUL character (which Postgres text cannot hold)
/// is stored with U+FFFD in its place, and the turn ends as usual.
#[actix_web::test]
async fn a_model_reply_with_a_nul_character_is_stored_and_the_turn_ends() {
    use crate::fake_llm::{FakeLlm, Reply, anthropic_text};
    let fake = FakeLlm::start().await;
    let url = fake.base_url.clone();
    let app = crate::helpers::spawn_app_with(move |env| {
        env.insert("AGENTPAY__AGENT__MODE".into(), "model".into());
        env.insert("AGENTPAY__LLM__PROVIDER".into(), "anthropic".into());
        env.insert("AGENTPAY__LLM__ANTHROPIC__BASE_URL".into(), url);
        env.insert("ANTHROPIC_API_KEY".into(), "sk-ant-nul".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
    })
    .await;
    let m = app.create_merchant("Nul Shop", &[]).await;
    fake.then(Reply::sse(
        &anthropic_text(&["Hello", "\u{0}", " there"]),
        16,
    ));
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("n-1", "hi").await;
    let events = ws.until("assistant_end").await;
    let end = events.last().unwrap();
    assert_eq!(end["interrupted"], false, "{events:?}");
    let stored: Value = app
        .get(
            &format!("/v1/conversations/{}/messages", c.id),
            Some(&c.token),
        )
        .await
        .json()
        .await
        .unwrap();
    let reply = &stored["data"][1];
    assert_eq!(reply["role"], "assistant");
    assert_eq!(reply["text"], "Hello\u{fffd} there", "{stored}");
}
