//! The turn pipeline through the real server: a provider (the fake Anthropic server) calls the
//! catalog tool, the real catalog search answers within the conversation's merchant, the model
//! reads the result and answers, and the turn's model calls and session state are stored.

use crate::fake_llm::{AnthropicCall, FakeLlm, Reply, anthropic_text, anthropic_tool_calls};
use crate::helpers::spawn_app_with;
use crate::ws_client::Ws;
use serde_json::json;

#[actix_web::test]
async fn a_models_catalog_search_is_answered_from_the_merchants_own_catalog_and_stored() {
    let fake = FakeLlm::start().await;
    let url = fake.base_url.clone();
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__LLM__PROVIDER".into(), "anthropic".into());
        env.insert("AGENTPAY__LLM__ANTHROPIC__BASE_URL".into(), url);
        env.insert("ANTHROPIC_API_KEY".into(), "sk-ant-tools".into());
        // Full-text search only: the test does not wait for the embedding indexer.
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
    })
    .await;
    let shop = app.create_merchant("Tent Shop", &[]).await;
    let other = app.create_merchant("Other Shop", &[]).await;
    for (m, id, title, price) in [
        (&shop, "TENT-2P", "Ridge Tent 2P", 24_900),
        (&other, "TENT-X", "Ridge Tent Deluxe", 1_00),
    ] {
        let res = app
            .post_json(
                "/v1/products",
                Some(&m.secret_key),
                &json!({"external_id": id, "title": title, "price": price, "currency": "USD"}),
            )
            .await;
        assert_eq!(res.status().as_u16(), 201, "{}", res.text().await.unwrap());
    }

    // The model searches, then answers from what it read.
    fake.then(Reply::sse(
        &anthropic_tool_calls(
            &["Let me look."],
            &[AnthropicCall {
                id: "toolu_1",
                name: "search_products",
                fragments: &[r#"{"query": "ridge"#, r#" tent"}"#],
            }],
        ),
        13,
    ));
    fake.then(Reply::sse(
        &anthropic_text(&["We have the ", "Ridge Tent 2P."]),
        7,
    ));
    let c = app.create_conversation(&shop.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    ws.say("m-1", "Do you sell tents?").await;
    let events = ws.until("assistant_end").await;
    let end = events.last().unwrap();
    assert_eq!(end["text"], "Let me look.\n\nWe have the Ridge Tent 2P.");
    assert_eq!(end["interrupted"], false);

    // The tools were offered, and the tool's result (this merchant's tent only, at the
    // catalog's price) went back as a tool_result block answering the model's tool_use.
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let tools: Vec<_> = seen[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        tools,
        [
            "search_products",
            "get_product",
            "add_to_cart",
            "remove_from_cart",
            "view_cart",
            "start_checkout",
            "order_status",
            "request_human"
        ]
    );
    let messages = seen[1].body["messages"].as_array().unwrap();
    let n = messages.len();
    assert_eq!(messages[n - 2]["role"], "assistant");
    assert_eq!(messages[n - 2]["content"][1]["type"], "tool_use");
    assert_eq!(
        messages[n - 2]["content"][1]["input"],
        json!({"query": "ridge tent"})
    );
    let result = &messages[n - 1]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], "toolu_1");
    let content = result["content"].as_str().unwrap();
    assert!(
        content.contains("Ridge Tent 2P") && content.contains("249.00 USD"),
        "{content}"
    );
    assert!(
        !content.contains("Deluxe"),
        "another merchant's product leaked: {content}"
    );

    // Stored: both model calls, the reply's totals, and the products last shown.
    let mut db = app.db.connect().await;
    let calls: i64 = sqlx::query_scalar("SELECT count(*) FROM model_calls")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(calls, 2);
    let state: serde_json::Value =
        sqlx::query_scalar("SELECT state FROM conversations WHERE id = $1::uuid")
            .bind(&c.id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(state["last_shown"][0]["external_id"], "TENT-2P", "{state}");
    assert_eq!(state["last_shown"][0]["price"]["amount_minor"], 24_900);
}

#[actix_web::test]
async fn an_unsure_message_is_decided_by_the_fast_model_and_metered() {
    let fake = FakeLlm::start().await;
    let url = fake.base_url.clone();
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__AGENT__MODE".into(), "rules".into());
        // Every message counts as unsure, so the classifier path is taken.
        env.insert("AGENTPAY__AGENT__INTENT_THRESHOLD".into(), "1.0".into());
        env.insert("AGENTPAY__LLM__PROVIDER".into(), "anthropic".into());
        env.insert("AGENTPAY__LLM__ANTHROPIC__BASE_URL".into(), url);
        env.insert("ANTHROPIC_API_KEY".into(), "sk-ant-intents".into());
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
    })
    .await;
    // The fast model answers with a label (and one that is not a label: the local guess
    // stands, still metered).
    fake.then(Reply::sse(&anthropic_text(&["human_", "handoff"]), 9));
    fake.then(Reply::sse(
        &anthropic_text(&["I think it is a greeting"]),
        9,
    ));
    let shop = app.create_merchant("Shop", &[]).await;
    let c = app.create_conversation(&shop.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    ws.say("u-1", "hmm so about that").await;
    let end = ws.until("assistant_end").await.pop().unwrap();
    assert_eq!(end["intent"], "human_handoff", "{end}");
    assert_eq!(end["handled_by"], "model");
    assert!(end["usage"]["output_tokens"].as_u64().unwrap() > 0, "{end}");
    ws.say("u-2", "hello there!").await;
    let end = ws.until("assistant_end").await.pop().unwrap();
    assert_eq!(end["intent"], "greeting", "{end}");
    assert_eq!(end["handled_by"], "rules");

    // The call was constrained: one short answer, no tools, the labels in the instruction.
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let body = &seen[0].body;
    assert!(
        body["tools"].as_array().is_none_or(|t| t.is_empty()),
        "{body}"
    );
    assert!(body["max_tokens"].as_u64().unwrap() <= 8);
    let system = body["system"].to_string();
    assert!(system.contains("product_search") && system.contains("human_handoff"));
    assert!(
        body["messages"].to_string().contains("hmm so about that"),
        "{body}"
    );
    let mut db = app.db.connect().await;
    let calls: i64 = sqlx::query_scalar("SELECT count(*) FROM model_calls")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(calls, 2);
}
