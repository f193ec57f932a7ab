//! CORS on the publishable-key endpoints: only the merchant's allowed origins can read them.

use crate::helpers::*;
use serde_json::Value;

#[actix_web::test]
async fn the_widget_config_is_readable_only_from_allowed_origins() {
    let app = spawn_app().await;
    let m = app
        .create_merchant("Cors Shop", &["https://shop.example"])
        .await;

    // Preflight.
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/widget/config"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert!(
        res.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );

    // Allowed origin: 200, readable.
    let res = app
        .client
        .get(app.url("/v1/widget/config"))
        .bearer_auth(&m.publishable_key)
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["merchant"]["name"], "Cors Shop");
    assert_eq!(body["merchant"]["currency"], "USD");

    // Another origin: refused, and no data in the answer.
    let res = app
        .client
        .get(app.url("/v1/widget/config"))
        .bearer_auth(&m.publishable_key)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 403, "origin_not_allowed").await;
    assert!(body.get("merchant").is_none());

    // Server-side calls (no Origin) still work with the publishable key.
    let res = app.get("/v1/widget/config", Some(&m.publishable_key)).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());

    // The merchant moves its shop: the old origin is refused on the very next request (the
    // key's lookup cached by the requests above is dropped with the change).
    let res = app
        .patch_json(
            "/v1/merchant",
            &m.secret_key,
            &serde_json::json!({"allowed_origins": ["https://new-shop.example"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    for (origin, status) in [
        ("https://shop.example", 403),
        ("https://new-shop.example", 200),
    ] {
        let res = app
            .client
            .get(app.url("/v1/widget/config"))
            .bearer_auth(&m.publishable_key)
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{origin}");
    }
}

#[actix_web::test]
async fn merchant_endpoints_never_answer_cors() {
    let app = spawn_app().await;
    let m = app
        .create_merchant("No Cors", &["https://shop.example"])
        .await;
    let res = app
        .client
        .get(app.url("/v1/merchant"))
        .bearer_auth(&m.secret_key)
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn a_conversation_refuses_foreign_origins_alike_over_http_and_websocket() {
    use crate::ws_client::*;
    let app = spawn_app().await;
    let m = app
        .create_merchant("Origin Shop", &["https://shop.example"])
        .await;
    let c = app.create_conversation(&m.publishable_key).await;
    let path = format!("/v1/conversations/{}", c.id);
    let http = |origin: Option<&'static str>| {
        let mut req = app.client.get(app.url(&path)).bearer_auth(&c.token);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    let conversation = &c;
    let ws = |origin: Option<&'static str>| async move {
        let c = conversation;
        let mut ws = Ws::try_connect(&c.ws_url, Some(&c.token), None, origin)
            .await
            .expect("a refusal is an upgrade then a close");
        match ws.next().await {
            Frame::Event(hello) => {
                assert_eq!(hello["type"], "hello");
                None
            }
            Frame::Closed(code) => code,
        }
    };

    // A page on another site: 403 over HTTP, close 4003 on the WebSocket, before any event.
    let res = http(Some("https://evil.example")).await.unwrap();
    let body = assert_error(res, 403, "origin_not_allowed").await;
    assert!(body.get("id").is_none());
    assert_eq!(ws(Some("https://evil.example")).await, Some(4003));
    // An unparseable origin is foreign too.
    assert_eq!(ws(Some("null")).await, Some(4003));

    // The merchant's own site: both let it in (and the HTTP answer is readable cross-origin).
    let res = http(Some("https://shop.example")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(ws(Some("https://shop.example")).await, None);

    // No Origin (a server-side client, not a browser): both let it in, as every browser
    // endpoint does.
    assert_eq!(http(None).await.unwrap().status(), 200);
    assert_eq!(ws(None).await, None);

    // The check follows the merchant's list: once it allows any origin (empty list), so do both.
    let res = app
        .patch_json(
            "/v1/merchant",
            &m.secret_key,
            &serde_json::json!({"allowed_origins": []}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        http(Some("https://evil.example")).await.unwrap().status(),
        200
    );
    assert_eq!(ws(Some("https://evil.example")).await, None);

    // A refused origin is counted like the server's other closes.
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"agentpay_websocket_closes_total{code="4003"} 2"#),
        "{metrics}"
    );
}
