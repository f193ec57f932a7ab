//! The security pass: every route against every wrong credential (none, malformed, another
//! merchant's, revoked, a visitor token on a merchant route, a publishable key on a secret route,
//! a secret key on a widget route, the operator token where a merchant key belongs), with
//! nothing changed afterwards; the security headers of every page the engine serves; and a
//! visitor's data export, erasure and retention.

use crate::checkout::{frame, shop, turn};
use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app_with};
use crate::ws_client::{TestConversation, Ws};
use reqwest::Method;
use serde_json::{Value, json};

/// Who a route admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// The operator token.
    Admin,
    /// The merchant's secret key.
    Secret,
    /// The merchant's publishable key.
    Publishable,
    /// The conversation's visitor token (or the merchant's secret key).
    Visitor,
}

/// A wrong credential.
#[derive(Debug, Clone, Copy)]
enum Wrong {
    None,
    Malformed,
    UnknownSecret,
    OtherMerchantSecret,
    OtherMerchantPublishable,
    RevokedSecret,
    RevokedPublishable,
    Publishable,
    Secret,
    VisitorToken,
    OtherVisitorToken,
    Admin,
}

const WRONG: [Wrong; 12] = [
    Wrong::None,
    Wrong::Malformed,
    Wrong::UnknownSecret,
    Wrong::OtherMerchantSecret,
    Wrong::OtherMerchantPublishable,
    Wrong::RevokedSecret,
    Wrong::RevokedPublishable,
    Wrong::Publishable,
    Wrong::Secret,
    Wrong::VisitorToken,
    Wrong::OtherVisitorToken,
    Wrong::Admin,
];

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) a: crate::helpers::TestMerchant,
    pub(crate) b: crate::helpers::TestMerchant,
    revoked_sk: String,
    revoked_pk: String,
    pub(crate) conv: TestConversation,
    pub(crate) other_conv: TestConversation,
    pub(crate) order_id: String,
}

impl World {
    /// The token `wrong` stands for, when it is wrong for `needs`; `None` when it is in fact
    /// a right credential for the route (a secret key on a visitor route is the merchant's way
    /// in), so the case is skipped.
    fn token(&self, wrong: Wrong, needs: Needs) -> Option<Option<String>> {
        let t = |s: &str| Some(Some(s.to_string()));
        match (wrong, needs) {
            (Wrong::Secret, Needs::Secret | Needs::Visitor) => None,
            (Wrong::Publishable, Needs::Publishable) => None,
            (Wrong::VisitorToken, Needs::Visitor) => None,
            (Wrong::Admin, Needs::Admin) => None,
            (Wrong::None, _) => Some(None),
            (Wrong::Malformed, _) => t("dXNlcjpwYXNz"),
            (Wrong::UnknownSecret, _) => t("sk_0000000000000000000000000000000000"),
            (Wrong::OtherMerchantSecret, _) => t(&self.b.secret_key),
            (Wrong::OtherMerchantPublishable, _) => t(&self.b.publishable_key),
            (Wrong::RevokedSecret, _) => t(&self.revoked_sk),
            (Wrong::RevokedPublishable, _) => t(&self.revoked_pk),
            (Wrong::Publishable, _) => t(&self.a.publishable_key),
            (Wrong::Secret, _) => t(&self.a.secret_key),
            (Wrong::VisitorToken, _) => t(&self.conv.token),
            (Wrong::OtherVisitorToken, _) => t(&self.other_conv.token),
            (Wrong::Admin, _) => t(ADMIN_TOKEN),
        }
    }

    /// What the state of merchant A looks like to its own keys: everything a wrong credential
    /// must not have changed.
    pub(crate) async fn snapshot(&self) -> Value {
        let get = |path: &str, token: String| {
            let app = &self.app;
            let path = path.to_string();
            async move {
                let res = app.get(&path, Some(&token)).await;
                assert_eq!(res.status(), 200, "{path}");
                let mut v: Value = res.json().await.unwrap();
                // Reads change these as a matter of course.
                for key in ["last_used_at", "updated_at"] {
                    strip(&mut v, key);
                }
                v
            }
        };
        let sk = self.a.secret_key.clone();
        let conv = format!("/v1/conversations/{}", self.conv.id);
        json!({
            "merchant": get("/v1/merchant", sk.clone()).await,
            "agent": get("/v1/merchant/agent", sk.clone()).await,
            "payments": get("/v1/merchant/payments", sk.clone()).await,
            "keys": get("/v1/merchant/keys", sk.clone()).await,
            "products": get("/v1/products?limit=100", sk.clone()).await,
            "orders": get("/v1/orders", sk.clone()).await,
            "conversation": get(&conv, sk.clone()).await,
            "messages": get(&format!("{conv}/messages"), sk.clone()).await,
            "other": get(&format!("/v1/conversations/{}/messages", self.other_conv.id), sk.clone()).await,
            "merchants": get("/v1/merchants", ADMIN_TOKEN.to_string()).await,
        })
    }
}

fn strip(v: &mut Value, key: &str) {
    match v {
        Value::Object(map) => {
            map.remove(key);
            map.values_mut().for_each(|x| strip(x, key));
        }
        Value::Array(items) => items.iter_mut().for_each(|x| strip(x, key)),
        _ => {}
    }
}

/// Two merchants; A with a catalog, revoked keys, a conversation with a cart and an order, and a
/// second conversation.
pub(crate) async fn world() -> World {
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__AGENT__MODE".into(), "rules".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
    })
    .await;
    let a = shop(&app).await;
    let b = app.create_merchant("Other Shop", &[]).await;
    let mut revoked = Vec::new();
    for kind in ["secret", "publishable"] {
        let res = app
            .post_json(
                "/v1/merchant/keys",
                Some(&a.secret_key),
                &json!({"kind": kind}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let key: Value = res.json().await.unwrap();
        let res = app
            .delete(
                &format!("/v1/merchant/keys/{}", key["id"].as_str().unwrap()),
                &a.secret_key,
            )
            .await;
        assert!(res.status().is_success(), "revoke");
        revoked.push(key["key"].as_str().unwrap().to_string());
    }
    // A conversation with a cart and an order, and a second conversation of the same merchant.
    let conv = app.create_conversation(&a.publishable_key).await;
    let mut ws = Ws::open(&conv, None).await;
    ws.event().await;
    turn(&mut ws, "c-1", "do you have tents?").await;
    turn(&mut ws, "c-2", "add the first one").await;
    let (events, _) = turn(&mut ws, "c-3", "I want to pay now").await;
    let order_id = frame(&events, "checkout").expect("a checkout")["checkout_id"]
        .as_str()
        .unwrap()
        .to_string();
    drop(ws);
    let other_conv = app.create_conversation(&a.publishable_key).await;
    World {
        app,
        a,
        b,
        revoked_sk: revoked.remove(0),
        revoked_pk: revoked.remove(0),
        conv,
        other_conv,
        order_id,
    }
}

/// Every route with a credential, with a body that would change something if it were let in.
fn routes(w: &World) -> Vec<(Method, String, Needs, Option<Value>)> {
    let c = &w.conv.id;
    let key_id = &w.a.secret_key_id;
    let order = &w.order_id;
    let product =
        json!({"external_id": "TENT-2P", "title": "Hacked", "price": 1, "currency": "USD"});
    vec![
        (Method::GET, "/v1/merchants".into(), Needs::Admin, None),
        (
            Method::POST,
            "/v1/merchants".into(),
            Needs::Admin,
            Some(json!({"name": "Intruder", "currency": "USD"})),
        ),
        (
            Method::GET,
            format!("/v1/merchants/{}", w.a.id),
            Needs::Admin,
            None,
        ),
        (Method::GET, "/v1/merchant".into(), Needs::Secret, None),
        (
            Method::PATCH,
            "/v1/merchant".into(),
            Needs::Secret,
            Some(json!({"name": "Hacked", "allowed_origins": ["https://evil.test"]})),
        ),
        (
            Method::GET,
            "/v1/merchant/agent".into(),
            Needs::Secret,
            None,
        ),
        (
            Method::PUT,
            "/v1/merchant/agent".into(),
            Needs::Secret,
            Some(json!({"persona": "Say everything is free."})),
        ),
        (
            Method::GET,
            "/v1/merchant/payments".into(),
            Needs::Secret,
            None,
        ),
        (
            Method::PUT,
            "/v1/merchant/payments".into(),
            Needs::Secret,
            Some(
                json!({"success_url": "https://evil.test/ok", "cancel_url": "https://evil.test/no"}),
            ),
        ),
        (
            Method::POST,
            "/v1/merchant/payments/connect".into(),
            Needs::Secret,
            Some(json!({})),
        ),
        (
            Method::GET,
            "/v1/merchant/usage".into(),
            Needs::Secret,
            None,
        ),
        (
            Method::GET,
            format!("/v1/merchant/conversations/{c}/usage"),
            Needs::Secret,
            None,
        ),
        (Method::GET, "/v1/merchant/keys".into(), Needs::Secret, None),
        (
            Method::POST,
            "/v1/merchant/keys".into(),
            Needs::Secret,
            Some(json!({"kind": "secret"})),
        ),
        (
            Method::GET,
            format!("/v1/merchant/keys/{key_id}"),
            Needs::Secret,
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/merchant/keys/{key_id}"),
            Needs::Secret,
            None,
        ),
        (Method::GET, "/v1/products".into(), Needs::Secret, None),
        (
            Method::POST,
            "/v1/products".into(),
            Needs::Secret,
            Some(product.clone()),
        ),
        (
            Method::POST,
            "/v1/products/bulk".into(),
            Needs::Secret,
            Some(json!({"products": [product.clone()]})),
        ),
        (
            Method::POST,
            "/v1/products/import".into(),
            Needs::Secret,
            Some(json!([product.clone()])),
        ),
        (
            Method::GET,
            "/v1/products/index".into(),
            Needs::Secret,
            None,
        ),
        (
            Method::POST,
            "/v1/products/search".into(),
            Needs::Secret,
            Some(json!({"query": "tent"})),
        ),
        (
            Method::GET,
            "/v1/products/TENT-2P".into(),
            Needs::Secret,
            None,
        ),
        (
            Method::PUT,
            "/v1/products/TENT-2P".into(),
            Needs::Secret,
            Some(product.clone()),
        ),
        (
            Method::PATCH,
            "/v1/products/TENT-2P".into(),
            Needs::Secret,
            Some(json!({"price": 1})),
        ),
        (
            Method::DELETE,
            "/v1/products/TENT-2P".into(),
            Needs::Secret,
            None,
        ),
        (Method::GET, "/v1/orders".into(), Needs::Secret, None),
        (
            Method::GET,
            format!("/v1/orders/{order}"),
            Needs::Secret,
            None,
        ),
        (
            Method::POST,
            "/v1/conversations".into(),
            Needs::Publishable,
            Some(json!({})),
        ),
        (
            Method::GET,
            "/v1/widget/config".into(),
            Needs::Publishable,
            None,
        ),
        (
            Method::GET,
            format!("/v1/conversations/{c}"),
            Needs::Visitor,
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/conversations/{c}"),
            Needs::Visitor,
            None,
        ),
        (
            Method::GET,
            format!("/v1/conversations/{c}/export"),
            Needs::Visitor,
            None,
        ),
        (
            Method::GET,
            format!("/v1/conversations/{c}/messages"),
            Needs::Visitor,
            None,
        ),
        (
            Method::POST,
            format!("/v1/conversations/{c}/messages"),
            Needs::Visitor,
            Some(json!({"client_id": "intruder-1", "text": "hello"})),
        ),
    ]
}

/// What a refusal must look like for `wrong` on a route needing `needs`.
fn expected(wrong: Wrong, needs: Needs) -> &'static [u16] {
    match (needs, wrong) {
        // Another merchant's or another conversation's credential: the resource does not exist
        // for it (404), or it is refused outright.
        (Needs::Visitor, Wrong::OtherVisitorToken | Wrong::OtherMerchantSecret) => &[404],
        (Needs::Secret, Wrong::OtherMerchantSecret) => &[404],
        // A key of the wrong kind is named as such.
        (
            Needs::Secret | Needs::Visitor,
            Wrong::Publishable | Wrong::OtherMerchantPublishable | Wrong::RevokedPublishable,
        ) => &[403],
        (
            Needs::Publishable,
            Wrong::Secret
            | Wrong::OtherMerchantSecret
            | Wrong::RevokedSecret
            | Wrong::UnknownSecret,
        ) => &[403],
        _ => &[401],
    }
}

#[actix_web::test]
async fn every_route_refuses_every_wrong_credential_and_nothing_changes() {
    let w = world().await;
    let before = w.snapshot().await;
    let mut cases = 0;
    for (method, path, needs, body) in routes(&w) {
        for wrong in WRONG {
            // Another merchant's own key on a route that names no resource of A: it acts on
            // its own merchant, which is its right; checked separately below.
            let names_a = path.contains(&w.a.id)
                || path.contains(&w.conv.id)
                || path.contains(&w.order_id)
                || path.contains(&w.a.secret_key_id)
                || path.contains("TENT-2P");
            if matches!(wrong, Wrong::OtherMerchantSecret) && needs == Needs::Secret && !names_a {
                continue;
            }
            if matches!(wrong, Wrong::OtherMerchantPublishable) && needs == Needs::Publishable {
                continue;
            }
            // Product ids are each merchant's own: another merchant's PUT of "TENT-2P" makes
            // its own product (A's is unchanged: the snapshot below).
            if matches!(wrong, Wrong::OtherMerchantSecret) && method == Method::PUT {
                continue;
            }
            let Some(token) = w.token(wrong, needs) else {
                continue;
            };
            let mut req = w.app.client.request(method.clone(), w.app.url(&path));
            match (&token, wrong) {
                // Not the Bearer scheme at all.
                (Some(t), Wrong::Malformed) => {
                    req = req.header("authorization", format!("Basic {t}"))
                }
                (Some(t), _) => req = req.header("authorization", format!("Bearer {t}")),
                (None, _) => {}
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            assert!(
                expected(wrong, needs).contains(&status),
                "{method} {path} with {wrong:?}: {status} {text}"
            );
            let err: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path} with {wrong:?}: not JSON: {text}"));
            assert!(err["error"]["code"].is_string(), "{method} {path}: {text}");
            for secret in [&w.a.secret_key, &w.conv.token, &w.order_id] {
                assert!(
                    !text.contains(secret.as_str()),
                    "{method} {path} leaked {secret}"
                );
            }
            cases += 1;
        }
    }
    assert!(cases >= 300, "{cases} cases");
    // Another merchant's key on collection routes sees only its own.
    for path in [
        "/v1/products",
        "/v1/orders",
        "/v1/merchant/keys",
        "/v1/merchant/usage",
    ] {
        let res = w.app.get(path, Some(&w.b.secret_key)).await;
        assert_eq!(res.status(), 200, "{path}");
        let text = res.text().await.unwrap();
        for a_thing in [
            &w.a.id,
            &w.order_id,
            &w.a.secret_key_id,
            &"TENT-2P".to_string(),
        ] {
            assert!(
                !text.contains(a_thing.as_str()),
                "{path} showed B {a_thing}: {text}"
            );
        }
    }
    let res = w
        .app
        .post_json(
            "/v1/products/search",
            Some(&w.b.secret_key),
            &json!({"query": "tent"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(!res.text().await.unwrap().contains("TENT-2P"));
    // Nothing a refused request carried took effect.
    assert_eq!(
        w.snapshot().await,
        before,
        "a refused request changed something"
    );
}

#[actix_web::test]
async fn the_websocket_refuses_wrong_tokens_with_close_codes() {
    let w = world().await;
    // The visitor token travels in Sec-WebSocket-Protocol; a wrong one is an upgrade, then a
    // close a browser can read (docs/protocol.md).
    let cases: [(Option<&str>, u16); 5] = [
        (None, 4001),
        (Some("vt_wrong"), 4001),
        (Some(&w.other_conv.token), 4001),
        (Some(&w.a.secret_key), 4001),
        (Some(&w.a.publishable_key), 4001),
    ];
    for (token, code) in cases {
        let mut ws = Ws::try_connect(&w.conv.ws_url, token, None, None)
            .await
            .unwrap_or_else(|e| panic!("{token:?}: the upgrade was refused: {e}"));
        assert_eq!(ws.closed().await, Some(code), "{token:?}");
    }
}

#[actix_web::test]
async fn every_response_carries_the_security_headers_and_pages_a_strict_csp() {
    let w = world().await;
    let res = w.app.get("/v1/merchant", Some(&w.a.secret_key)).await;
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(res.headers()[name], value, "{name}");
    }
    let res = w.app.get("/no/such/route", None).await;
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let page = w.app.get(&format!("/checkout/{}", w.order_id), None).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "payment page CSP lacks {directive}: {csp}"
        );
    }
    assert!(
        !csp.contains("script-src"),
        "the payment page runs no script: {csp}"
    );
    let widget = w.app.get("/widget/v1/agentpay.js", None).await;
    assert_eq!(widget.headers()["x-content-type-options"], "nosniff");
    assert!(
        widget.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}

#[actix_web::test]
async fn the_demo_page_has_a_strict_csp() {
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__DEMO__ENABLED".into(), "true".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
    })
    .await;
    let page = app.get("/demo", None).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "demo CSP lacks {directive}: {csp}");
    }
    assert!(!csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"));
    // Connections (the API and the WebSocket) go to the engine only: 'self' covers ws:// and
    // wss:// of the same host (CSP 3); a bare `ws:` would allow any host.
    assert!(
        csp.contains("connect-src 'self';") && !csp.contains(" ws:"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>"),
        "an inline script would need 'unsafe-inline'"
    );
}

#[actix_web::test]
async fn a_visitor_exports_and_erases_their_conversation_and_other_merchants_cannot() {
    let w = world().await;
    let path = format!("/v1/conversations/{}", w.conv.id);
    // Another merchant cannot export or delete it.
    for res in [
        w.app
            .get(&format!("{path}/export"), Some(&w.b.secret_key))
            .await,
        w.app.delete(&path, &w.b.secret_key).await,
        w.app.delete(&path, &w.other_conv.token).await,
    ] {
        assert_eq!(res.status(), 404);
    }
    // The visitor's export has the whole conversation.
    let res = w
        .app
        .get(&format!("{path}/export"), Some(&w.conv.token))
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["conversation"]["id"], w.conv.id.as_str());
    let messages = doc["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        6,
        "three questions and three replies: {doc}"
    );
    assert!(messages.iter().any(|m| m["text"] == "do you have tents?"));
    assert_eq!(doc["orders"][0]["id"], w.order_id.as_str());
    assert_eq!(doc["orders"][0]["lines"][0]["external_id"], "TENT-2P");
    assert!(doc["session_state"].is_object());
    // The merchant's export (secret key) is the same document.
    let by_merchant: Value = w
        .app
        .get(&format!("{path}/export"), Some(&w.a.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_merchant["messages"], doc["messages"]);

    // A live connection is closed when the visitor erases the conversation.
    let mut ws = Ws::open(&w.conv, None).await;
    ws.event().await;
    let res = w.app.delete(&path, &w.conv.token).await;
    assert_eq!(res.status(), 204);
    assert_eq!(ws.closed().await, Some(1012));
    // Gone for everyone: the token opens nothing, the merchant finds nothing.
    assert_eq!(w.app.get(&path, Some(&w.conv.token)).await.status(), 404);
    assert_eq!(w.app.get(&path, Some(&w.a.secret_key)).await.status(), 404);
    assert_eq!(w.app.delete(&path, &w.a.secret_key).await.status(), 404);
    let mut db = w.app.db.connect().await;
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE conversation_id = $1::uuid")
            .bind(&w.conv.id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(left, 0);
    // The order stays for the merchant's books, without the link to the chat.
    let order: Value = w
        .app
        .get(&format!("/v1/orders/{}", w.order_id), Some(&w.a.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["id"], w.order_id.as_str());
    assert!(order["conversation_id"].is_null(), "{order}");
    // The other conversation is untouched.
    assert_eq!(
        w.app
            .get(
                &format!("/v1/conversations/{}", w.other_conv.id),
                Some(&w.other_conv.token)
            )
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn conversations_inactive_past_the_retention_period_are_deleted() {
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__PRIVACY__RETENTION_DAYS".into(), "30".into());
        env.insert("AGENTPAY__PRIVACY__SWEEP_INTERVAL_SECS".into(), "1".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
    })
    .await;
    let m = app.create_merchant("Retention Shop", &[]).await;
    let old = app.create_conversation(&m.publishable_key).await;
    let recent = app.create_conversation(&m.publishable_key).await;
    let mut db = app.db.connect().await;
    for (c, days) in [(&old, 31), (&recent, 29)] {
        sqlx::query("UPDATE conversations SET updated_at = now() - make_interval(days => $2) WHERE id = $1::uuid")
            .bind(&c.id)
            .bind(days)
            .execute(&mut db)
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let res = app
            .get(&format!("/v1/conversations/{}", old.id), Some(&old.token))
            .await;
        if res.status() == 404 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the old conversation is still there"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let res = app
        .get(
            &format!("/v1/conversations/{}", recent.id),
            Some(&recent.token),
        )
        .await;
    assert_eq!(res.status(), 200, "a conversation within the period stays");
}
