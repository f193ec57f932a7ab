//! End-to-end tests over HTTP: the fake served on a loopback port and spoken to like the real
//! providers, plus the helpers the unit tests share.

use super::behaviour::GENERIC_REPLY;
use super::usage::{tokens, tokens_of_chars};
use super::*;
use serde_json::json;
use std::collections::HashMap;

/// Starts the fake on a free loopback port; its base URL.
async fn start(opts: FakeLlmOptions) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, opts));
    url
}

/// No pauses.
fn quick() -> FakeLlmOptions {
    FakeLlmOptions {
        tokens_per_sec: 0,
        ttft: Duration::ZERO,
        faults: FaultOptions::default(),
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> (u16, String) {
    let resp = client.post(url).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    if status == 200 {
        assert_eq!(
            resp.headers()["content-type"],
            "text/event-stream; charset=utf-8"
        );
    }
    (status, resp.text().await.unwrap())
}

/// The `data:` payloads of an event stream as JSON, with their event names (empty for
/// OpenAI), `[DONE]` left out.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .filter_map(|e| {
            let mut name = String::new();
            let mut data = None;
            for line in e.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(d.to_string());
                }
            }
            let data = data.unwrap();
            (data != "[DONE]").then(|| (name, serde_json::from_str(&data).unwrap()))
        })
        .collect()
}

/// An Anthropic stream's text, tool calls (name, reassembled input), stop reason, start
/// usage and final output tokens.
struct Decoded {
    text: String,
    calls: Vec<(String, String, Value)>,
    stop: String,
    usage: Value,
    output_tokens: u64,
}

fn decode_anthropic(body: &str) -> Decoded {
    let evs = events(body);
    assert_eq!(evs.first().unwrap().0, "message_start");
    assert_eq!(evs.last().unwrap().0, "message_stop");
    let mut d = Decoded {
        text: String::new(),
        calls: Vec::new(),
        stop: String::new(),
        usage: Value::Null,
        output_tokens: 0,
    };
    let mut partial: HashMap<u64, String> = HashMap::new();
    for (name, data) in &evs {
        assert_eq!(data["type"], name.as_str());
        let index = data["index"].as_u64().unwrap_or(0);
        match name.as_str() {
            "message_start" => d.usage = data["message"]["usage"].clone(),
            "content_block_start" if data["content_block"]["type"] == "tool_use" => {
                partial.insert(index, String::new());
                d.calls.push((
                    data["content_block"]["id"].as_str().unwrap().to_string(),
                    data["content_block"]["name"].as_str().unwrap().to_string(),
                    Value::Null,
                ));
            }
            "content_block_delta" => match data["delta"]["type"].as_str().unwrap() {
                "text_delta" => d.text.push_str(data["delta"]["text"].as_str().unwrap()),
                "input_json_delta" => partial
                    .get_mut(&index)
                    .unwrap()
                    .push_str(data["delta"]["partial_json"].as_str().unwrap()),
                other => panic!("unexpected delta {other}"),
            },
            "content_block_stop" => {
                if let Some(json) = partial.remove(&index) {
                    d.calls.last_mut().unwrap().2 = serde_json::from_str(&json).unwrap();
                }
            }
            "message_delta" => {
                d.stop = data["delta"]["stop_reason"].as_str().unwrap().to_string();
                d.output_tokens = data["usage"]["output_tokens"].as_u64().unwrap();
            }
            _ => {}
        }
    }
    d
}

fn search_tools() -> Value {
    json!([
        {"name": "search_products", "description": "Search the catalog.",
         "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}},
        {"name": "view_cart", "description": "The cart.",
         "input_schema": {"type": "object", "properties": {}},
         "cache_control": {"type": "ephemeral"}}
    ])
}

fn products_result() -> String {
    json!({"products": [
        {"external_id": "p1", "title": "Alpine Dome Tent", "brand": "Peak", "price": "249.00 USD", "in_stock": true, "variant": null},
        {"external_id": "p2", "title": "Trail Hammock", "brand": "Peak", "price": "59.90 USD", "in_stock": true, "variant": null},
        {"external_id": "p3", "title": "Bivy Sack", "brand": "Peak", "price": "120.00 USD", "in_stock": false, "variant": null}
    ]})
    .to_string()
}

pub(super) fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

#[tokio::test]
async fn anthropic_searches_with_the_visitor_text() {
    let url = format!("{}/v1/messages", start(quick()).await);
    let body = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 512, "stream": true,
        "system": [{"type": "text", "text": "You are the shop's assistant.", "cache_control": {"type": "ephemeral"}}],
        "tools": search_tools(),
        "messages": [{"role": "user", "content": "do you sell lightweight tents for two people?"}]
    });
    let (status, text) = post(&client(), &url, &body).await;
    assert_eq!(status, 200, "{text}");
    let d = decode_anthropic(&text);
    assert_eq!(d.text, "Let me check.");
    assert_eq!(d.calls.len(), 1);
    let (id, name, input) = &d.calls[0];
    assert!(id.starts_with("toolu_fake_"), "{id}");
    assert_eq!(name, "search_products");
    assert_eq!(
        input,
        &json!({"query": "do you sell lightweight tents for two people?"})
    );
    assert_eq!(d.stop, "tool_use");
    // Fragments of about 20 characters after an empty first one.
    let fragments: Vec<String> = events(&text)
        .iter()
        .filter(|(_, e)| e["delta"]["type"] == "input_json_delta")
        .map(|(_, e)| e["delta"]["partial_json"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fragments[0], "");
    assert!(fragments.len() > 2);
    assert!(fragments.iter().all(|f| f.chars().count() <= 20));
    // Output: the text's tokens plus the call's name and input and 10.
    let call_chars = "search_products".len() + input.to_string().len();
    assert_eq!(
        d.output_tokens,
        tokens("Let me check.") + tokens_of_chars(call_chars) + 10
    );
    // No breakpoint prefix reaches 1024 tokens: all input is uncached.
    assert_eq!(d.usage["cache_creation_input_tokens"], 0);
    assert_eq!(d.usage["cache_read_input_tokens"], 0);
    assert_eq!(d.usage["output_tokens"], 1);
    assert!(d.usage["input_tokens"].as_u64().unwrap() > 0);
    // The query is cut at 80 characters.
    let long = "a".repeat(200);
    let mut body = body;
    body["messages"] = json!([{"role": "user", "content": [{"type": "text", "text": long}]}]);
    let (_, text) = post(&client(), &url, &body).await;
    let d = decode_anthropic(&text);
    assert_eq!(d.calls[0].2["query"].as_str().unwrap().len(), 80);
}

#[tokio::test]
async fn anthropic_answers_tool_results_with_exact_prices() {
    let url = format!("{}/v1/messages", start(quick()).await);
    let body = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 512, "stream": true,
        "tools": search_tools(),
        "messages": [
            {"role": "user", "content": "a tent please"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_fake_1", "name": "search_products", "input": {"query": "a tent please"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_fake_1", "content": products_result(), "is_error": false}
            ]}
        ]
    });
    let (status, text) = post(&client(), &url, &body).await;
    assert_eq!(status, 200, "{text}");
    let d = decode_anthropic(&text);
    assert!(d.calls.is_empty());
    assert_eq!(d.stop, "end_turn");
    assert!(
        d.text.contains("Alpine Dome Tent at 249.00 USD"),
        "{}",
        d.text
    );
    assert!(d.text.contains("Trail Hammock at 59.90 USD"), "{}", d.text);
    assert!(!d.text.contains("Bivy"), "{}", d.text);
    let n = words(&d.text);
    assert!((60..=90).contains(&n), "{n} words: {}", d.text);
    // No number but the prices.
    let rest = d.text.replace("249.00 USD", "").replace("59.90 USD", "");
    assert!(!rest.chars().any(|c| c.is_ascii_digit()), "{rest}");
    assert_eq!(d.output_tokens, tokens(&d.text));

    // A cart action after products were listed: view the cart.
    let mut follow = body.clone();
    let messages = follow["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": d.text}));
    messages.push(json!({"role": "user", "content": "add the tent to my cart"}));
    let (_, text) = post(&client(), &url, &follow).await;
    let d = decode_anthropic(&text);
    assert_eq!(d.calls[0].1, "view_cart");
    assert_eq!(d.calls[0].2, json!({}));
    // The same words with no products listed before: a search.
    let first = json!({"role": "user", "content": "add the tent to my cart"});
    follow["messages"] = json!([first]);
    let (_, text) = post(&client(), &url, &follow).await;
    assert_eq!(decode_anthropic(&text).calls[0].1, "search_products");
}
#[tokio::test]
async fn anthropic_caches_long_prefixes() {
    let url = format!("{}/v1/messages", start(quick()).await);
    let system = "You are the shop's assistant. Quote only catalog prices. ".repeat(80);
    let body = |question: &str| {
        json!({
            "model": "claude-sonnet-4-5", "max_tokens": 256, "stream": true,
            "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": question}]
        })
    };
    let c = client();
    let usage = |text: &str| {
        let u = decode_anthropic(text).usage;
        let get = |k: &str| u[k].as_u64().unwrap();
        (
            get("input_tokens"),
            get("cache_creation_input_tokens"),
            get("cache_read_input_tokens"),
        )
    };
    let (_, first) = post(&c, &url, &body("hello")).await;
    let (input1, write1, read1) = usage(&first);
    assert!(write1 >= 1024, "{write1}");
    assert_eq!(write1, tokens(&system));
    assert_eq!(read1, 0);
    let (_, second) = post(&c, &url, &body("hello")).await;
    let (input2, write2, read2) = usage(&second);
    assert_eq!(write2, 0);
    assert_eq!(read2, write1);
    assert_eq!(input1 + write1 + read1, input2 + write2 + read2);
    assert!(input1 > 0 && input1 == input2);
    // Another question reads the same system prefix.
    let (_, third) = post(&c, &url, &body("something else entirely")).await;
    assert_eq!(usage(&third).2, write1);

    // A second breakpoint further on: the system is read, the rest written.
    let mut longer = body("hello");
    longer["messages"] = json!([
        {"role": "user", "content": [{"type": "text", "text": "x".repeat(400), "cache_control": {"type": "ephemeral"}}]}
    ]);
    let (_, fourth) = post(&c, &url, &longer).await;
    let (input4, write4, read4) = usage(&fourth);
    assert_eq!(read4, write1);
    assert!(write4 > 100, "{write4}");
    let (_, fifth) = post(&c, &url, &longer).await;
    let (input5, write5, read5) = usage(&fifth);
    assert_eq!((write5, read5), (0, read4 + write4));
    assert_eq!(input4 + write4 + read4, input5 + write5 + read5);

    // Another model does not share the cache; Haiku needs 2048 tokens.
    let mut haiku = body("hello");
    haiku["model"] = json!("claude-haiku-3-5");
    let (_, text) = post(&c, &url, &haiku).await;
    let (input, write, read) = usage(&text);
    assert_eq!((write, read), (0, 0));
    assert_eq!(input, input1 + write1);
    // Without cache_control everything is plain input.
    let mut plain = body("hello");
    plain["system"] = json!(system);
    let (_, text) = post(&c, &url, &plain).await;
    assert_eq!(usage(&text).1 + usage(&text).2, 0);
    // More than four breakpoints is refused like the real API.
    let mut many = body("hello");
    let block = json!({"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}});
    many["messages"] = json!([{"role": "user", "content": [block, block, block, block]}]);
    let (status, text) = post(&c, &url, &many).await;
    assert_eq!(status, 400);
    let error: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "invalid_request_error");
}

async fn openai(c: &reqwest::Client, url: &str, body: &Value) -> Vec<Value> {
    let (status, text) = post(c, url, body).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let evs = events(&text);
    for (name, e) in &evs {
        assert!(name.is_empty());
        assert_eq!(e["object"], "chat.completion.chunk");
        assert_eq!(e["model"], body["model"]);
    }
    evs.into_iter().map(|(_, e)| e).collect()
}

#[tokio::test]
async fn openai_caches_prompt_prefixes_in_128_token_steps() {
    let url = format!("{}/v1/chat/completions", start(quick()).await);
    let c = client();
    let body = json!({
        "model": "gpt-4.1-mini", "stream": true, "stream_options": {"include_usage": true},
        "max_completion_tokens": 512,
        "messages": [
            {"role": "system", "content": "You are the shop's assistant. Quote only catalog prices. ".repeat(90)},
            {"role": "user", "content": "hello there"}
        ]
    });
    let usage = |chunks: &[Value]| {
        let last = chunks.last().unwrap();
        assert_eq!(last["choices"], json!([]));
        for c in &chunks[..chunks.len() - 1] {
            assert!(c["usage"].is_null());
        }
        last["usage"].clone()
    };
    let first = usage(&openai(&c, &url, &body).await);
    let prompt = first["prompt_tokens"].as_u64().unwrap();
    assert!(prompt >= 1300, "{prompt}");
    assert_eq!(first["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(first["prompt_tokens_details"]["audio_tokens"], 0);
    assert_eq!(first["completion_tokens_details"]["reasoning_tokens"], 0);
    assert_eq!(
        first["total_tokens"].as_u64().unwrap(),
        prompt + first["completion_tokens"].as_u64().unwrap()
    );
    let second = usage(&openai(&c, &url, &body).await);
    let cached = second["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap();
    assert!(cached >= 1024, "{cached}");
    assert_eq!((cached - 1024) % 128, 0, "{cached}");
    assert!(
        cached <= prompt && prompt - cached < 128,
        "{cached} of {prompt}"
    );
    // A different last message still shares the long system prefix.
    let mut other = body.clone();
    other["messages"][1]["content"] = json!("something else");
    let third = usage(&openai(&c, &url, &other).await);
    let cached3 = third["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap();
    assert!(cached3 >= 1024 && (cached3 - 1024) % 128 == 0, "{cached3}");
    // Another model has its own cache.
    let mut model = body.clone();
    model["model"] = json!("gpt-4.1-nano");
    let fourth = usage(&openai(&c, &url, &model).await);
    assert_eq!(fourth["prompt_tokens_details"]["cached_tokens"], 0);
    // Without include_usage, no usage chunk and no usage keys.
    let mut no_usage = body.clone();
    no_usage.as_object_mut().unwrap().remove("stream_options");
    let chunks = openai(&c, &url, &no_usage).await;
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
}

#[tokio::test]
async fn openai_calls_tools_and_answers_results() {
    let url = format!("{}/v1/chat/completions", start(quick()).await);
    let c = client();
    let tools = json!([
        {"type": "function", "function": {"name": "search_products", "description": "Search.", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "view_cart", "description": "Cart.", "parameters": {"type": "object"}}}
    ]);
    let mut body = json!({
        "model": "gpt-4.1-mini", "stream": true, "stream_options": {"include_usage": true},
        "tools": tools,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "red running shoes"}]
    });
    let chunks = openai(&c, &url, &body).await;
    let mut text = String::new();
    let mut args = String::new();
    let mut name = None;
    let mut id = None;
    for ch in &chunks {
        let delta = &ch["choices"][0]["delta"];
        if let Some(t) = delta["content"].as_str() {
            text.push_str(t);
        }
        if let Some(call) = delta["tool_calls"].get(0) {
            assert_eq!(call["index"], 0);
            if let Some(n) = call["function"]["name"].as_str() {
                name = Some(n.to_string());
                id = Some(call["id"].as_str().unwrap().to_string());
            }
            args.push_str(call["function"]["arguments"].as_str().unwrap());
        }
    }
    assert_eq!(text, "Let me check.");
    assert_eq!(name.as_deref(), Some("search_products"));
    let id = id.unwrap();
    assert!(id.starts_with("call_fake_"), "{id}");
    let input: Value = serde_json::from_str(&args).unwrap();
    assert_eq!(input, json!({"query": "red running shoes"}));
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");

    // The tool result: a reply naming the products and their exact prices.
    let messages = body["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": "Let me check.", "tool_calls": [
        {"id": id, "type": "function", "function": {"name": "search_products", "arguments": args}}
    ]}));
    messages.push(json!({"role": "tool", "tool_call_id": id, "content": products_result()}));
    let chunks = openai(&c, &url, &body).await;
    let text: String = chunks
        .iter()
        .filter_map(|ch| ch["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(
        text.contains("249.00 USD") && text.contains("59.90 USD"),
        "{text}"
    );
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "stop"
    );
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["completion_tokens"].as_u64().unwrap(), tokens(&text));

    // A cart action now views the cart.
    let messages = body["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": text}));
    messages.push(json!({"role": "user", "content": "ok, I'll buy the first"}));
    let chunks = openai(&c, &url, &body).await;
    let call = chunks
        .iter()
        .find_map(|ch| ch["choices"][0]["delta"]["tool_calls"].get(0).cloned())
        .unwrap();
    assert_eq!(call["function"]["name"], "view_cart");
}

#[tokio::test]
async fn classifies_and_words_drafts_without_tools() {
    let base = start(quick()).await;
    let c = client();
    let anthropic = |max_tokens: u64, text: &str| {
        json!({
            "model": "claude-haiku-4-5", "max_tokens": max_tokens, "stream": true,
            "system": "Answer with one intent label.",
            "messages": [{"role": "user", "content": text}]
        })
    };
    let url = format!("{base}/v1/messages");
    let (_, text) = post(&c, &url, &anthropic(8, "do you sell tents?")).await;
    let d = decode_anthropic(&text);
    assert_eq!(d.text, "product_search");
    assert_eq!(d.stop, "end_turn");
    assert!(d.output_tokens <= 8);

    let (_, text) = post(&c, &url, &anthropic(256, "Word this reply.\nFacts: tent.\nDraft: The Alpine Dome Tent is 249.00 USD,\nand 3 are left.")).await;
    assert_eq!(
        decode_anthropic(&text).text,
        "The Alpine Dome Tent is 249.00 USD,\nand 3 are left."
    );

    let (_, text) = post(&c, &url, &anthropic(256, "hi!")).await;
    let reply = decode_anthropic(&text).text;
    assert_eq!(reply, GENERIC_REPLY);
    // A small max_tokens cuts the answer like a real model.
    let (_, text) = post(&c, &url, &anthropic(20, "hi!")).await;
    let d = decode_anthropic(&text);
    assert_eq!(d.stop, "max_tokens");
    assert_eq!(d.output_tokens, 20);

    let url = format!("{base}/v1/chat/completions");
    let body = json!({
        "model": "gpt-4.1-nano", "stream": true, "max_tokens": 8,
        "messages": [{"role": "system", "content": "Label it."}, {"role": "user", "content": "tents?"}]
    });
    let chunks = openai(&c, &url, &body).await;
    let text: String = chunks
        .iter()
        .filter_map(|ch| ch["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "product_search");
}

#[tokio::test]
async fn unknown_paths_and_bad_requests_get_the_providers_errors() {
    let base = start(quick()).await;
    let c = client();
    let resp = c
        .post(format!("{base}/v1/embeddings"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/embeddings")
    );
    let resp = c
        .get(format!("{base}/v1/models"))
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "not_found_error");

    let (status, text) = post(
        &c,
        &format!("{base}/v1/messages"),
        &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true}),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

/// Reads one chunked response off `socket`; its bytes.
async fn read_response(socket: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    while !buf.ends_with(b"\r\n0\r\n\r\n") {
        let n = socket.read(&mut tmp).await.unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&tmp[..n]);
    }
    String::from_utf8(buf).unwrap()
}

#[tokio::test]
async fn keeps_connections_alive_and_paces_answers() {
    let opts = FakeLlmOptions {
        tokens_per_sec: 1000,
        ttft: Duration::from_millis(100),
        faults: FaultOptions::default(),
    };
    let base = start(opts).await;
    let addr = base.trim_start_matches("http://");
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 8, "stream": true,
        "messages": [{"role": "user", "content": "tents?"}]})
    .to_string();
    let request = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    for _ in 0..2 {
        let started = std::time::Instant::now();
        socket.write_all(request.as_bytes()).await.unwrap();
        let response = read_response(&mut socket).await;
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains("transfer-encoding: chunked\r\n"));
        assert!(response.contains("connection: keep-alive\r\n"));
        assert!(response.contains("event: message_stop"), "{response}");
    }
    // A client that waits for `100 Continue` before the body (as curl does).
    let head = request.split_once("\r\n\r\n").unwrap().0;
    socket
        .write_all(format!("{head}\r\nexpect: 100-continue\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut tmp = [0u8; 64];
    let n = socket.read(&mut tmp).await.unwrap();
    assert_eq!(&tmp[..n], b"HTTP/1.1 100 Continue\r\n\r\n");
    socket.write_all(body.as_bytes()).await.unwrap();
    assert!(read_response(&mut socket).await.contains("200 OK"));
    // Pacing: a reply of about 70 pieces at 1000 a second takes some tens of milliseconds.
    let started = std::time::Instant::now();
    let (_, text) = post(
        &client(),
        &format!("{base}/v1/messages"),
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "stream": true,
            "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(decode_anthropic(&text).text, GENERIC_REPLY);
    assert!(started.elapsed() >= Duration::from_millis(100 + 50));
}

/// Reads until the peer closes the connection.
async fn read_to_close(socket: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        match socket.read(&mut tmp).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn injected_faults_take_the_providers_shapes_and_every_kind_comes_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let control = Arc::new(FaultControl::new(FaultOptions {
        rate: 1.0,
        seed: 3,
        stall: Duration::from_millis(300),
        retry_after_secs: 2,
    }));
    let opts = FakeLlmOptions {
        tokens_per_sec: 1000,
        ..quick()
    };
    tokio::spawn(serve_with_faults(listener, opts, Arc::clone(&control)));
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "stream": true,
        "messages": [{"role": "user", "content": "hi"}]})
    .to_string();
    let request = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut seen = HashMap::new();
    for _ in 0..ProviderFault::ALL.len() {
        let mut socket = TcpStream::connect(&addr).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        let started = std::time::Instant::now();
        let response = read_to_close(&mut socket).await;
        let status = response.split_whitespace().nth(1).unwrap_or("").to_string();
        let kind = match status.as_str() {
            "429" => {
                assert!(response.contains("retry-after: 2\r\n"), "{response}");
                assert!(
                    response.contains(r#""type":"rate_limit_error""#),
                    "{response}"
                );
                "429"
            }
            "529" => {
                assert!(
                    response.contains(r#""type":"overloaded_error""#),
                    "{response}"
                );
                assert!(response.contains(r#""message":"Overloaded""#), "{response}");
                "529"
            }
            "500" => {
                assert!(response.contains(r#""type":"api_error""#), "{response}");
                "500"
            }
            "200" if !response.ends_with("0\r\n\r\n") => {
                assert!(response.contains("event: message_start"), "{response}");
                assert!(!response.contains("event: message_stop"), "{response}");
                "cut"
            }
            "200" => {
                assert!(response.contains("event: message_stop"), "{response}");
                assert!(started.elapsed() >= Duration::from_millis(300));
                "stall"
            }
            other => panic!("unexpected status {other}: {response}"),
        };
        *seen.entry(kind).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen["stall"], 2, "{seen:?}");
    assert!(control.counts().values().all(|&n| n == 1));
    // Switched off, the fake answers normally again.
    control.set_enabled(false);
    let (status, text) = post(
        &client(),
        &format!("http://{addr}/v1/messages"),
        &serde_json::from_str(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(decode_anthropic(&text).text, GENERIC_REPLY);
}
