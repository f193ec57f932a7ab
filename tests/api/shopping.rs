//! The offline shopping agent over the real server: a visitor searches, adds to the cart and
//! views it over a WebSocket in five languages, against the development catalog in Postgres;
//! the cart survives a SIGKILL; the widget's cart frames share the tools' validation and stay
//! within the conversation's merchant; handoff requests are stored.

use crate::config_and_startup::{agentpay, wait_healthy};
use crate::helpers::*;
use crate::ws_client::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::Child;

/// The development catalog by external id.
fn dev_catalog() -> HashMap<String, Value> {
    let raw: Vec<Value> = serde_json::from_slice(
        &std::fs::read(repo_root().join("data/catalog/dev-catalog.json")).unwrap(),
    )
    .unwrap();
    raw.into_iter()
        .map(|p| (p["external_id"].as_str().unwrap().to_string(), p))
        .collect()
}

/// Imports the development catalog for the merchant whose secret key is `sk`.
async fn import_dev_catalog(client: &reqwest::Client, base: &str, sk: &str) {
    let res = client
        .post(format!("{base}/v1/products/import?policy=atomic"))
        .bearer_auth(sk)
        .header("content-type", "application/json")
        .body(std::fs::read(repo_root().join("data/catalog/dev-catalog.json")).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// The offline agent's settings: rules first, full-text search only (no model files needed).
const OFFLINE: &[(&str, &str)] = &[
    ("AGENTPAY__AGENT__MODE", "rules"),
    ("AGENTPAY__EMBEDDINGS__PROVIDER", "none"),
];

/// Sets the offline agent's settings in a test server's environment.
fn offline(env: &mut std::collections::BTreeMap<String, String>) {
    for (k, v) in OFFLINE {
        env.insert((*k).into(), (*v).into());
    }
}

/// A test server with the offline agent.
async fn spawn_offline() -> TestApp {
    spawn_app_with(offline).await
}

/// A server process that is killed when dropped, so a failing test leaves none behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn start(db: &TestDb, port: u16) -> Server {
    let port = port.to_string();
    let mut env = vec![
        ("DATABASE_URL", db.url.as_str()),
        ("AGENTPAY_ADMIN_TOKEN", ADMIN_TOKEN),
        ("AGENTPAY__SERVER__PORT", port.as_str()),
    ];
    env.extend_from_slice(OFFLINE);
    Server(agentpay(&env).arg("serve").spawn().unwrap())
}

/// A merchant with the development catalog, on the server at `base`: (secret key, publishable
/// key).
async fn dev_store(client: &reqwest::Client, base: &str, name: &str) -> (String, String) {
    let m = merchant_at(client, base, name).await;
    let sk = m["secret_key"]["key"].as_str().unwrap().to_string();
    let pk = m["publishable_key"]["key"].as_str().unwrap().to_string();
    import_dev_catalog(client, base, &sk).await;
    (sk, pk)
}

/// One visitor turn: the frames until `assistant_end`, and the last sequence number seen.
async fn turn(ws: &mut Ws, client_id: &str, text: &str, last_seq: &mut i64) -> Vec<Value> {
    ws.say(client_id, text).await;
    let frames = ws.until("assistant_end").await;
    for f in &frames {
        if let Some(s) = f["seq"].as_i64() {
            *last_seq = (*last_seq).max(s);
        }
    }
    frames
}

fn frame<'a>(frames: &'a [Value], kind: &str) -> Option<&'a Value> {
    frames.iter().rev().find(|f| f["type"] == kind)
}

struct Flow {
    search: &'static str,
    add: &'static str,
    ordinals: [&'static str; 6],
    view: &'static str,
}

const FLOWS: [Flow; 5] = [
    Flow {
        search: "do you have waterproof jackets under 150?",
        add: "add the {} one in M",
        ordinals: ["first", "second", "third", "fourth", "fifth", "sixth"],
        view: "what's in my cart",
    },
    Flow {
        search: "¿tienen chaquetas impermeables por menos de 150?",
        add: "añade la {} en talla M",
        ordinals: ["primera", "segunda", "tercera", "cuarta", "quinta", "sexta"],
        view: "¿qué hay en mi carrito?",
    },
    Flow {
        search: "vous avez des vestes imperméables à moins de 150 ?",
        add: "ajoutez la {} en taille M",
        ordinals: [
            "première",
            "deuxième",
            "troisième",
            "quatrième",
            "cinquième",
            "sixième",
        ],
        view: "qu'est-ce qu'il y a dans mon panier ?",
    },
    Flow {
        search: "habt ihr wasserdichte Jacken unter 150?",
        add: "leg die {} in Größe M in den Warenkorb",
        ordinals: ["erste", "zweite", "dritte", "vierte", "fünfte", "sechste"],
        view: "was ist in meinem Warenkorb?",
    },
    Flow {
        search: "vocês têm jaquetas impermeáveis até 150?",
        add: "adiciona a {} no tamanho M",
        ordinals: [
            "primeira", "segunda", "terceira", "quarta", "quinta", "sexta",
        ],
        view: "o que tem no meu carrinho?",
    },
];

/// Runs a flow; returns the cart frame it ended with and the last sequence number seen.
async fn run_flow(
    flow: &Flow,
    c: &TestConversation,
    catalog: &HashMap<String, Value>,
) -> (Value, i64) {
    let mut ws = Ws::open(c, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    let mut last_seq = 0;
    let found = turn(&mut ws, "s-1", flow.search, &mut last_seq).await;
    let end = frame(&found, "assistant_end").unwrap();
    assert_eq!(end["intent"], "product_search", "{}", flow.search);
    assert_eq!(end["handled_by"], "rules");
    let items = frame(&found, "products").expect("a products frame")["items"]
        .as_array()
        .unwrap()
        .clone();
    assert!(items.len() >= 2, "{}: {items:?}", flow.search);
    for item in &items {
        let id = item["external_id"].as_str().unwrap();
        let product = catalog.get(id).expect("a real catalog product");
        assert_eq!(item["price"]["amount_minor"], product["price"], "{id}");
        assert!(
            item["price"]["amount_minor"].as_i64().unwrap() <= 15_000,
            "{item}"
        );
        assert_eq!(item["title"], product["title"]);
    }
    // "The second one", or the first listed after it with M in stock.
    let has_m = |p: &Value| {
        p["variants"].as_array().is_some_and(|vs| {
            vs.iter().any(|v| {
                v["attributes"]["size"] == "M" && v["stock"].as_i64().is_none_or(|s| s > 0)
            })
        })
    };
    let pick = (1..items.len())
        .find(|i| has_m(&catalog[items[*i]["external_id"].as_str().unwrap()]))
        .expect("a listed product with M in stock");
    let chosen = &catalog[items[pick]["external_id"].as_str().unwrap()];
    let add = flow.add.replace("{}", flow.ordinals[pick]);
    let added = turn(&mut ws, "s-2", &add, &mut last_seq).await;
    assert_eq!(
        frame(&added, "assistant_end").unwrap()["intent"],
        "add_to_cart",
        "{add}"
    );
    let cart = frame(&added, "cart").expect("a cart frame").clone();
    let lines = cart["items"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{cart}");
    assert_eq!(lines[0]["external_id"], chosen["external_id"]);
    assert_eq!(lines[0]["quantity"], 1);
    let variant = chosen["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == lines[0]["sku"])
        .expect("the line's variant");
    assert_eq!(variant["attributes"]["size"], "M");
    let catalog_price = variant["price"]
        .as_i64()
        .unwrap_or(chosen["price"].as_i64().unwrap());
    assert_eq!(lines[0]["unit_price"]["amount_minor"], catalog_price);
    assert_eq!(cart["total"]["amount_minor"], catalog_price);
    let viewed = turn(&mut ws, "s-3", flow.view, &mut last_seq).await;
    let end = frame(&viewed, "assistant_end").unwrap();
    assert_eq!(end["intent"], "view_cart", "{}", flow.view);
    assert!(
        end["text"]
            .as_str()
            .unwrap()
            .contains(chosen["title"].as_str().unwrap()),
        "{end}"
    );
    (cart, last_seq)
}

#[actix_web::test]
async fn a_visitor_searches_adds_and_views_the_cart_in_five_languages_and_a_sigkill_keeps_it() {
    let db = TestDb::create().await;
    let port = free_port();
    let mut server = start(&db, port);
    wait_healthy(port, &mut server.0).await;
    let client = http_client();
    let base = format!("http://127.0.0.1:{port}");
    let (_, pk) = dev_store(&client, &base, "Dev store").await;
    let catalog = dev_catalog();
    let mut done = Vec::new();
    for flow in &FLOWS {
        let c = conversation_at(&client, &base, &pk).await;
        let (cart, last_seq) = run_flow(flow, &c, &catalog).await;
        done.push((c, cart, last_seq));
    }

    server.0.kill().unwrap();
    server.0.wait().unwrap();
    drop(server);
    let mut server = start(&db, port);
    wait_healthy(port, &mut server.0).await;
    for (c, cart, last_seq) in &done {
        let mut ws = Ws::open(c, Some(*last_seq)).await;
        assert_eq!(ws.event().await["type"], "hello");
        let frames = ws.until("cart").await;
        let again = frames.last().unwrap();
        assert_eq!(
            again["items"], cart["items"],
            "the same cart after the restart"
        );
        assert_eq!(again["total"], cart["total"]);
    }
}

#[actix_web::test]
async fn cart_frames_are_validated_like_the_tools_and_stay_within_the_merchant() {
    let app = spawn_offline().await;
    let client = http_client();
    let (_, pk) = dev_store(&client, &app.address, "Shop A").await;
    // Another merchant sells a product only it has.
    let b = app.create_merchant("Shop B", &[]).await;
    let res = client
        .post(app.url("/v1/products"))
        .bearer_auth(&b.secret_key)
        .json(&json!({"external_id": "B-ONLY", "title": "Shop B mug", "price": 999, "currency": "USD", "in_stock": true}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let c = conversation_at(&client, &app.address, &pk).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");

    for (frame, code) in [
        (
            json!({"type": "cart_add", "external_id": "B-ONLY"}),
            "product_not_found",
        ),
        (
            json!({"type": "cart_add", "external_id": "APP-JKT-0001"}),
            "variant_required",
        ),
        (
            json!({"type": "cart_add", "external_id": "APP-JKT-0001", "size": "M", "quantity": 0}),
            "invalid_message",
        ),
        (
            json!({"type": "cart_add", "external_id": "APP-JKT-0001", "size": "XXXL"}),
            "variant_not_found",
        ),
        (
            json!({"type": "cart_remove", "external_id": "APP-JKT-0001"}),
            "not_in_cart",
        ),
    ] {
        ws.send(frame).await;
        let ev = ws.event().await;
        assert_eq!(ev["type"], "error", "{ev}");
        assert_eq!(ev["code"], code, "{ev}");
    }

    ws.send(json!({"type": "cart_add", "external_id": "APP-JKT-0001", "size": "L", "quantity": 2}))
        .await;
    let cart = ws.event().await;
    assert_eq!(cart["type"], "cart", "{cart}");
    assert_eq!(cart["items"][0]["quantity"], 2);
    assert_eq!(cart["items"][0]["unit_price"]["amount_minor"], 10249);
    assert_eq!(cart["total"]["amount_minor"], 2 * 10249);
    ws.send(json!({"type": "cart_remove", "external_id": "APP-JKT-0001", "quantity": 1}))
        .await;
    let cart = ws.event().await;
    assert_eq!(cart["items"][0]["quantity"], 1, "{cart}");

    // The agent sees the same cart, and so does a new connection.
    ws.say("v-1", "what's in my cart?").await;
    let frames = ws.until("assistant_end").await;
    assert!(
        frames.last().unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("Drizzle Lite")
    );
    let mut other = Ws::open(&c, None).await;
    assert_eq!(other.event().await["type"], "hello");
    let cart = other.event().await;
    assert_eq!(cart["type"], "cart");
    assert_eq!(cart["items"][0]["external_id"], "APP-JKT-0001");
}

#[actix_web::test]
async fn a_request_for_a_person_is_stored_for_the_merchant() {
    let app = spawn_offline().await;
    let m = app.create_merchant("Shop", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    ws.event().await;
    ws.say("h-1", "can I talk to a real person please").await;
    let frames = ws.until("assistant_end").await;
    let end = frames.last().unwrap();
    assert_eq!(end["intent"], "human_handoff");
    let mut conn = app.db.connect().await;
    let (reason, message): (String, String) = sqlx::query_as(
        "SELECT reason, message FROM handoff_requests WHERE conversation_id = $1::uuid",
    )
    .bind(&c.id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(reason, "human_handoff");
    assert_eq!(message, "can I talk to a real person please");
}

#[actix_web::test]
async fn eval_intents_reports_accuracy_per_label_language_and_confusion() {
    let out = agentpay(&[])
        .args(["eval", "intents", "--json"])
        .arg(repo_root().join("data/intents/heldout.jsonl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["accuracy", "per_label", "per_language", "confusion"] {
        assert!(report.get(key).is_some(), "{key} missing: {report}");
    }
    assert_eq!(report["per_label"].as_object().unwrap().len(), 18);
    assert_eq!(report["per_language"].as_object().unwrap().len(), 5);
    assert!(
        report["accuracy"].as_f64().unwrap() >= 0.91,
        "{}",
        report["accuracy"]
    );
    // A bad label is a clear error.
    let bad = std::env::temp_dir().join(format!("bad-intents-{}.jsonl", std::process::id()));
    std::fs::write(&bad, "{\"text\": \"hi\", \"intent\": \"hello\"}\n").unwrap();
    let out = agentpay(&[])
        .args(["eval", "intents"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown intent \"hello\""));
}

#[actix_web::test]
async fn the_scripted_sessions_run_through_the_load_harness() {
    let app = spawn_app_with(|env| {
        offline(env);
        env.insert("AGENTPAY__RATE_LIMIT__ENABLED".into(), "false".into());
    })
    .await;
    let target = agentpay_loadtest::Target {
        base_url: app.address.clone(),
        publishable_key: None,
        admin_token: Some(ADMIN_TOKEN.into()),
        sources: 1,
        server_pid: None,
    };
    let script =
        agentpay_loadtest::read_script(&repo_root().join("data/scripts/sessions.json")).unwrap();
    let sessions = script.len();
    let report = agentpay_loadtest::run_chat(
        &target,
        &agentpay_loadtest::ChatOptions {
            conversations: sessions,
            messages: 0,
            think: std::time::Duration::ZERO,
            think_jitter: 0.0,
            ramp_per_sec: 100,
            model_ttft: None,
            quiet: true,
            script: Some(script),
            transcript: false,
            catalog: Some(repo_root().join("data/catalog/dev-catalog.json")),
            agent_config: None,
        },
    )
    .await
    .unwrap();
    println!("{}", report.table());
    assert_eq!(report.error_count(), 0, "{}", report.table());
    let c = &report.counters;
    let turns = c["turns"];
    assert!(turns >= 150, "{}", report.table());
    // Offline, no turn may reach a model.
    assert_eq!(c["turns handled by rules"], turns);
    assert!(
        c["intents as scripted"] * 100 >= c["intents checked"] * 85,
        "{}",
        report.table()
    );
    assert!(
        c["expectations met"] * 100 >= c["expectations checked"] * 75,
        "{}",
        report.table()
    );
}

#[actix_web::test]
async fn the_http_fallbacks_carry_the_cards_the_cart_and_the_intent() {
    let app = spawn_offline().await;
    let client = http_client();
    let (_, pk) = dev_store(&client, &app.address, "Dev store").await;
    let c = conversation_at(&client, &app.address, &pk).await;
    let path = format!("/v1/conversations/{}/messages", c.id);

    // JSON: the reply with its cards and intent.
    let found: Value = app
        .post_json(
            &path,
            Some(&c.token),
            &json!({"client_id": "j-1", "text": "show me rain jackets"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let reply = &found["reply"];
    assert_eq!(reply["intent"], "product_search", "{found}");
    assert_eq!(reply["handled_by"], "rules");
    let first = reply["products"][0]["external_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reply["products"][0]["price"]["amount_minor"]
            .as_i64()
            .unwrap()
            > 0
    );

    // SSE: the cart event streams before the reply's end.
    let res = app
        .client
        .post(app.url(&path))
        .bearer_auth(&c.token)
        .header("accept", "text/event-stream")
        .json(&json!({"client_id": "j-2", "text": "add the first one in size L"}))
        .send()
        .await
        .unwrap();
    let events = sse_events(&res.text().await.unwrap());
    let kinds = types(&events);
    let cart = kinds
        .iter()
        .position(|k| k == "cart")
        .expect("a cart event");
    assert!(cart < kinds.len() - 1, "{kinds:?}");
    assert_eq!(events[cart]["items"][0]["external_id"], first.as_str());
    assert_eq!(events.last().unwrap()["intent"], "add_to_cart");

    // The stored messages keep what each reply showed.
    let stored: Value = app
        .client
        .get(app.url(&path))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let replies: Vec<&Value> = stored["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .collect();
    assert_eq!(replies[0]["meta"]["intent"], "product_search", "{stored}");
    assert_eq!(
        replies[1]["meta"]["cart"]["lines"][0]["external_id"],
        first.as_str()
    );
}
