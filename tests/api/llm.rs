//! The model providers against wire-compatible fake servers (`tests/support/fake_llm.rs`):
//! exact event sequences split anywhere, every failure mode, retries only before the first
//! token, fallback, circuit breakers; tool calls streamed in pieces and their results sent
//! back in each provider's wire shape.

use crate::fake_llm::*;
use agentpay::config::Secret;
use agentpay::llm::anthropic::{API_VERSION, AnthropicClient};
use agentpay::llm::http::Timeouts;
use agentpay::llm::openai::{Dialect, OpenAiClient};
use agentpay::llm::reliable::{
    Breaker, BreakerPolicy, FallbackChain, Link, NoChainObserver, RetryPolicy,
};
use agentpay_actors::ports::ModelClient;
use agentpay_actors::ports::model::{
    ChatMessage, ContentBlock, ModelError, ModelEvent, ModelRequest, ProviderKind, Role,
    StopReason, ToolCall, ToolSpec, Usage,
};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        first_byte: Duration::from_secs(2),
        idle: Duration::from_millis(500),
    }
}

fn request() -> ModelRequest {
    ModelRequest {
        system: "You are the shop's assistant.".into(),
        context: String::new(),
        messages: vec![
            ChatMessage::text(Role::Assistant, "an old reply cut from history"),
            ChatMessage::text(Role::User, "What's the weather in Paris?"),
        ],
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            description: "Get weather".into(),
            input_schema: json!({"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}),
        }],
        max_tokens: 256,
        preferred_provider: None,
    }
}

fn anthropic(fake: &FakeLlm) -> Arc<dyn ModelClient> {
    Arc::new(
        AnthropicClient::new(
            &fake.base_url,
            "claude-test",
            Secret::new("sk-ant-test"),
            timeouts(),
        )
        .unwrap(),
    )
}

fn openai(fake: &FakeLlm, dialect: Dialect) -> Arc<dyn ModelClient> {
    Arc::new(
        OpenAiClient::new(
            &fake.base_url,
            "gpt-test",
            Some(Secret::new("sk-test")),
            dialect,
            timeouts(),
        )
        .unwrap(),
    )
}

fn chain(clients: Vec<Arc<dyn ModelClient>>, failures: u32) -> FallbackChain {
    FallbackChain::new(
        clients
            .into_iter()
            .map(|client| Link {
                client,
                breaker: Arc::new(Breaker::new(BreakerPolicy {
                    failure_threshold: failures,
                    cooldown: Duration::from_secs(60),
                })),
            })
            .collect(),
        RetryPolicy {
            max_retries: 2,
            base_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_secs(2),
        },
        Arc::new(NoChainObserver),
    )
}

async fn collect(client: &dyn ModelClient) -> Vec<Result<ModelEvent, ModelError>> {
    client.stream(request()).collect().await
}

fn text(events: &[Result<ModelEvent, ModelError>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(ModelEvent::Delta(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

#[actix_web::test]
async fn anthropic_streams_text_tool_calls_cache_usage_the_same_however_the_bytes_are_split() {
    for piece in [1, 7, 64, 100_000] {
        let fake = FakeLlm::start().await;
        fake.then(Reply::sse(ANTHROPIC_TOOL_STREAM, piece));
        let events = collect(&*anthropic(&fake)).await;
        assert_eq!(
            text(&events),
            "I'll check the weather in Paris — un instant 🎉",
            "piece {piece}"
        );
        let rest: Vec<_> = events
            .iter()
            .filter(|e| !matches!(e, Ok(ModelEvent::Delta(_))))
            .cloned()
            .collect();
        assert_eq!(
            rest,
            vec![
                Ok(ModelEvent::ToolCall(ToolCall {
                    id: "toolu_01NRLabsLyVHZPKxbKvkfSMn".into(),
                    name: "get_weather".into(),
                    input: json!({"location": "Paris"}),
                })),
                Ok(ModelEvent::Usage(Usage {
                    input_tokens: 377,
                    output_tokens: 65,
                    cache_write_tokens: 1200,
                    cache_read_tokens: 0,
                })),
                Ok(ModelEvent::Stop(StopReason::ToolUse)),
            ],
            "piece {piece}"
        );
        // The request: headers, streaming, the stable prefix marked for caching, history
        // starting with the visitor.
        let seen = &fake.seen()[0];
        assert_eq!(seen.path, "/v1/messages");
        assert_eq!(seen.header("x-api-key"), Some("sk-ant-test"));
        assert_eq!(seen.header("anthropic-version"), Some(API_VERSION));
        assert_eq!(seen.body["stream"], true);
        assert_eq!(seen.body["max_tokens"], 256);
        assert_eq!(seen.body["system"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(seen.body["tools"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(
            seen.body["tools"][0]["input_schema"]["required"][0],
            "location"
        );
        assert_eq!(seen.body["messages"].as_array().unwrap().len(), 1);
        assert_eq!(seen.body["messages"][0]["role"], "user");
    }
}

#[actix_web::test]
async fn openai_assembles_tool_calls_by_index_and_reads_the_usage_chunk() {
    for piece in [1, 5, 100_000] {
        let fake = FakeLlm::start().await;
        fake.then(Reply::sse(&openai_tool_stream(), piece));
        let events = collect(&*openai(&fake, Dialect::OpenAi)).await;
        assert_eq!(
            events,
            vec![
                Ok(ModelEvent::ToolCall(ToolCall {
                    id: "call_PieqNSej6kM9hgYbcQdbZSaC".into(),
                    name: "get_weather".into(),
                    input: json!({"location": "Tokyo"}),
                })),
                Ok(ModelEvent::Usage(Usage {
                    input_tokens: 67,
                    output_tokens: 31,
                    ..Usage::default()
                })),
                Ok(ModelEvent::Stop(StopReason::ToolUse)),
            ],
            "piece {piece}"
        );
        let seen = &fake.seen()[0];
        assert_eq!(seen.path, "/v1/chat/completions");
        assert_eq!(seen.header("authorization"), Some("Bearer sk-test"));
        assert_eq!(seen.body["stream_options"]["include_usage"], true);
        assert_eq!(seen.body["max_completion_tokens"], 256);
        assert_eq!(seen.body["messages"][0]["role"], "system");
        assert_eq!(seen.body["tools"][0]["function"]["name"], "get_weather");
    }
}

#[actix_web::test]
async fn an_openai_compatible_server_with_null_choices_streams_text_and_usage() {
    let fake = FakeLlm::start().await;
    fake.then(Reply::sse(&compatible_text(&["Hel", "lo ", "wörld"]), 3));
    let events = collect(&*openai(&fake, Dialect::Compatible)).await;
    assert_eq!(text(&events), "Hello wörld");
    assert_eq!(
        events[events.len() - 2..],
        [
            Ok(ModelEvent::Usage(Usage {
                input_tokens: 11,
                output_tokens: 5,
                ..Usage::default()
            })),
            Ok(ModelEvent::Stop(StopReason::EndTurn)),
        ]
    );
    assert_eq!(fake.seen()[0].body["max_tokens"], 256);
}

#[actix_web::test]
async fn a_request_caught_by_a_server_closing_its_kept_alive_connection_goes_again_at_once() {
    // llama.cpp's server closes the connection after each stream without saying so; the next
    // request may go out on it before the client sees the close (seen in CI as "error sending
    // request"). That request never reached a model: it is sent again on a new connection.
    let fake = FakeLlm::start().await;
    fake.then(Reply::sse(&compatible_text(&["first"]), 7).ending(Ending::CompleteThenDropNext))
        .then(Reply::sse(&compatible_text(&["second"]), 7));
    let client = openai(&fake, Dialect::Compatible);
    assert_eq!(text(&collect(&*client).await), "first");
    let second = collect(&*client).await;
    assert!(second.iter().all(Result::is_ok), "{second:?}");
    assert_eq!(text(&second), "second");
    // The dropped request was never answered or recorded: the second reply answered the resend.
    assert_eq!(fake.seen().len(), 2);
}

// ---- Tool use, both ways ----

fn shop_tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "search_products".into(),
            description: "Search the catalog".into(),
            input_schema: json!({"type":"object","properties":{"query":{"type":"string"},"max_price":{"type":"integer"}},"required":["query"]}),
        },
        ToolSpec {
            name: "list_categories".into(),
            description: "List the shop's categories".into(),
            input_schema: json!({"type":"object","properties":{}}),
        },
    ]
}

/// The arguments every provider test streams in pieces, and what they assemble into.
fn search_input() -> serde_json::Value {
    json!({"query": "tente 2 places ⛺", "max_price": 15000})
}

/// The follow-up of a tool round: the visitor's question (after a tool result whose call was
/// cut from the history), the assistant's text and `calls`, the results (the second one
/// failed) and the visitor's next words.
fn follow_up(assistant_text: &str, calls: &[ToolCall]) -> ModelRequest {
    let mut assistant = Vec::new();
    if !assistant_text.is_empty() {
        assistant.push(ContentBlock::Text {
            text: assistant_text.into(),
        });
    }
    assistant.extend(calls.iter().map(|c| ContentBlock::ToolUse {
        id: c.id.clone(),
        name: c.name.clone(),
        input: c.input.clone(),
    }));
    ModelRequest {
        system: "You are the shop's assistant.".into(),
        context: String::new(),
        messages: vec![
            ChatMessage {
                role: Role::User,
                content: vec![
                    ContentBlock::ToolResult {
                        tool_use_id: "call_cut_from_history".into(),
                        content: "stale".into(),
                        is_error: false,
                    },
                    ContentBlock::Text {
                        text: "Two-person tents under 150 €?".into(),
                    },
                ],
            },
            ChatMessage {
                role: Role::Assistant,
                content: assistant,
            },
            ChatMessage {
                role: Role::User,
                content: vec![
                    ContentBlock::ToolResult {
                        tool_use_id: calls[0].id.clone(),
                        content: r#"[{"sku":"TREK-2","price":12900}]"#.into(),
                        is_error: false,
                    },
                    ContentBlock::ToolResult {
                        tool_use_id: calls[1].id.clone(),
                        content: "category service unavailable".into(),
                        is_error: true,
                    },
                    ContentBlock::Text {
                        text: "Only green ones, please.".into(),
                    },
                ],
            },
        ],
        tools: shop_tools(),
        max_tokens: 256,
        preferred_provider: None,
    }
}

fn tool_calls(events: &[Result<ModelEvent, ModelError>]) -> Vec<ToolCall> {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(ModelEvent::ToolCall(c)) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[actix_web::test]
async fn anthropic_tool_calls_assemble_across_chunks_and_go_back_as_tool_use_and_tool_result_blocks()
 {
    let stream = anthropic_tool_calls(
        &["Let me look ", "⛺"],
        &[
            AnthropicCall {
                id: "toolu_01A",
                name: "search_products",
                fragments: &[
                    "",
                    "{\"query\": \"ten",
                    "te 2 places ⛺\", \"max_",
                    "price\"",
                    ": 15000}",
                ],
            },
            // No input: one empty fragment, which means `{}`.
            AnthropicCall {
                id: "toolu_01B",
                name: "list_categories",
                fragments: &[""],
            },
        ],
    );
    // Awkward cuts: inside an escaped quote of a fragment, inside the tent's UTF-8 bytes,
    // between the two LFs ending an event; then even-sized pieces down to single bytes.
    let escaped = stream.find(r#"\"ten"#).unwrap() + 1;
    let tent = stream.find("places ⛺").unwrap() + "places ".len() + 2;
    let blank = stream.find("\n\nevent: content_block_stop").unwrap() + 1;
    let mut replies = vec![Reply::sse_split(&stream, &[escaped, tent, blank])];
    replies.extend([1, 3, 64, 100_000].map(|piece| Reply::sse(&stream, piece)));
    for (n, reply) in replies.into_iter().enumerate() {
        let fake = FakeLlm::start().await;
        fake.then(reply);
        let mut req = request();
        req.tools = shop_tools();
        let events: Vec<_> = anthropic(&fake).stream(req).collect().await;
        assert_eq!(text(&events), "Let me look ⛺", "reply {n}");
        let rest: Vec<_> = events
            .iter()
            .filter(|e| !matches!(e, Ok(ModelEvent::Delta(_))))
            .cloned()
            .collect();
        assert_eq!(
            rest,
            vec![
                Ok(ModelEvent::ToolCall(ToolCall {
                    id: "toolu_01A".into(),
                    name: "search_products".into(),
                    input: search_input(),
                })),
                Ok(ModelEvent::ToolCall(ToolCall {
                    id: "toolu_01B".into(),
                    name: "list_categories".into(),
                    input: json!({}),
                })),
                Ok(ModelEvent::Usage(Usage {
                    input_tokens: 412,
                    output_tokens: 58,
                    ..Usage::default()
                })),
                Ok(ModelEvent::Stop(StopReason::ToolUse)),
            ],
            "reply {n}"
        );

        // The follow-up carries the calls and their results; the model answers in text.
        fake.then(Reply::sse(
            &anthropic_text(&["It's the ", "Trek 2 ⛺", "."]),
            3,
        ));
        let events: Vec<_> = anthropic(&fake)
            .stream(follow_up("Let me look ⛺", &tool_calls(&events)))
            .collect()
            .await;
        assert_eq!(text(&events), "It's the Trek 2 ⛺.");
        assert_eq!(
            events.last(),
            Some(&Ok(ModelEvent::Stop(StopReason::EndTurn)))
        );
        let seen = &fake.seen()[1];
        assert_eq!(seen.path, "/v1/messages");
        assert_eq!(
            seen.body,
            json!({
                "model": "claude-test",
                "max_tokens": 256,
                "stream": true,
                "system": [{"type": "text", "text": "You are the shop's assistant.",
                            "cache_control": {"type": "ephemeral"}}],
                "tools": [
                    {"name": "search_products", "description": "Search the catalog",
                     "input_schema": shop_tools()[0].input_schema},
                    {"name": "list_categories", "description": "List the shop's categories",
                     "input_schema": {"type": "object", "properties": {}},
                     "cache_control": {"type": "ephemeral"}},
                ],
                "messages": [
                    // The result whose call was cut is gone; one text block stays a string.
                    {"role": "user", "content": "Two-person tents under 150 €?"},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "Let me look ⛺"},
                        {"type": "tool_use", "id": "toolu_01A", "name": "search_products",
                         "input": {"query": "tente 2 places ⛺", "max_price": 15000}},
                        {"type": "tool_use", "id": "toolu_01B", "name": "list_categories",
                         "input": {}},
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01A",
                         "content": r#"[{"sku":"TREK-2","price":12900}]"#, "is_error": false},
                        {"type": "tool_result", "tool_use_id": "toolu_01B",
                         "content": "category service unavailable", "is_error": true},
                        // The last block is a cache breakpoint when tools are offered.
                        {"type": "text", "text": "Only green ones, please.",
                         "cache_control": {"type": "ephemeral"}},
                    ]},
                ],
            }),
            "reply {n}"
        );
    }
}

#[actix_web::test]
async fn openai_parallel_tool_calls_assemble_by_index_and_go_back_as_tool_calls_and_tool_messages()
{
    // Two calls streamed in parallel, their fragments interleaved; OpenAI says something
    // first, the compatible server does not (its assistant content goes back as null).
    for (dialect, preamble, limit) in [
        (Dialect::OpenAi, "Let me look.", "max_completion_tokens"),
        (Dialect::Compatible, "", "max_tokens"),
    ] {
        let mut deltas = vec![json!({"role": "assistant", "content": null, "refusal": null})];
        if !preamble.is_empty() {
            deltas.push(json!({"content": preamble}));
        }
        let call = |index: u64, arguments: &str| json!({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]});
        let start = |index: u64, id: &str, name: &str| {
            json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                                   "function": {"name": name, "arguments": ""}}]})
        };
        deltas.extend([
            start(0, "call_A", "search_products"),
            call(0, "{\"query\": \"ten"),
            start(1, "call_B", "list_categories"),
            call(0, "te 2 places ⛺\", \"max_"),
            call(1, "{}"),
            call(0, "price\": 15000}"),
        ]);
        let stream = openai_chunks(&deltas, "tool_calls");
        let escaped = stream.find(r#"\"ten"#).unwrap() + 1;
        let tent = stream.find("places ⛺").unwrap() + "places ".len() + 1;
        let crlf = stream.find("\r\n").unwrap() + 1;
        let mut replies = vec![Reply::sse_split(&stream, &[crlf, escaped, tent])];
        replies.extend([1, 4, 100_000].map(|piece| Reply::sse(&stream, piece)));
        for (n, reply) in replies.into_iter().enumerate() {
            let fake = FakeLlm::start().await;
            fake.then(reply);
            let mut req = request();
            req.tools = shop_tools();
            let events: Vec<_> = openai(&fake, dialect).stream(req).collect().await;
            assert_eq!(text(&events), preamble, "{dialect:?} reply {n}");
            let rest: Vec<_> = events
                .iter()
                .filter(|e| !matches!(e, Ok(ModelEvent::Delta(_))))
                .cloned()
                .collect();
            assert_eq!(
                rest,
                vec![
                    Ok(ModelEvent::ToolCall(ToolCall {
                        id: "call_A".into(),
                        name: "search_products".into(),
                        input: search_input(),
                    })),
                    Ok(ModelEvent::ToolCall(ToolCall {
                        id: "call_B".into(),
                        name: "list_categories".into(),
                        input: json!({}),
                    })),
                    Ok(ModelEvent::Usage(Usage {
                        input_tokens: 120,
                        output_tokens: 40,
                        ..Usage::default()
                    })),
                    Ok(ModelEvent::Stop(StopReason::ToolUse)),
                ],
                "{dialect:?} reply {n}"
            );

            fake.then(Reply::sse(
                &compatible_text(&["It's the ", "Trek 2 ⛺", "."]),
                3,
            ));
            let events: Vec<_> = openai(&fake, dialect)
                .stream(follow_up(preamble, &tool_calls(&events)))
                .collect()
                .await;
            assert_eq!(text(&events), "It's the Trek 2 ⛺.");
            assert_eq!(
                events.last(),
                Some(&Ok(ModelEvent::Stop(StopReason::EndTurn)))
            );
            let seen = &fake.seen()[1];
            assert_eq!(seen.path, "/v1/chat/completions");
            let content = if preamble.is_empty() {
                serde_json::Value::Null
            } else {
                json!(preamble)
            };
            let mut expected = json!({
                "model": "gpt-test",
                "stream": true,
                "stream_options": {"include_usage": true},
                "tools": [
                    {"type": "function", "function": {"name": "search_products",
                     "description": "Search the catalog",
                     "parameters": shop_tools()[0].input_schema}},
                    {"type": "function", "function": {"name": "list_categories",
                     "description": "List the shop's categories",
                     "parameters": {"type": "object", "properties": {}}}},
                ],
                "messages": [
                    {"role": "system", "content": "You are the shop's assistant."},
                    // The result whose call was cut is gone: no orphan `tool` message.
                    {"role": "user", "content": "Two-person tents under 150 €?"},
                    {"role": "assistant", "content": content, "tool_calls": [
                        {"id": "call_A", "type": "function", "function": {
                            "name": "search_products",
                            "arguments": r#"{"max_price":15000,"query":"tente 2 places ⛺"}"#}},
                        {"id": "call_B", "type": "function", "function": {
                            "name": "list_categories", "arguments": "{}"}},
                    ]},
                    {"role": "tool", "tool_call_id": "call_A",
                     "content": r#"[{"sku":"TREK-2","price":12900}]"#},
                    {"role": "tool", "tool_call_id": "call_B",
                     "content": "Error: category service unavailable"},
                    {"role": "user", "content": "Only green ones, please."},
                ],
            });
            expected[limit] = json!(256);
            assert_eq!(seen.body, expected, "{dialect:?} reply {n}");
        }
    }
}

#[actix_web::test]
async fn tool_arguments_that_are_not_a_json_object_are_a_clear_error_retried_before_any_output() {
    // OpenAI: the arguments stop mid-string.
    let fake = FakeLlm::start().await;
    fake.then(Reply::sse(
        &openai_chunks(
            &[
                json!({"tool_calls": [{"index": 0, "id": "call_A", "type": "function",
                                       "function": {"name": "search_products", "arguments": "{\"query\": "}}]}),
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"ten"}}]}),
            ],
            "tool_calls",
        ),
        7,
    ));
    let events = collect(&*openai(&fake, Dialect::OpenAi)).await;
    match events.as_slice() {
        [Err(ModelError::BrokenStream(m))] => assert!(
            m.starts_with("tool call search_products (call_A): its arguments are not valid JSON"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }

    // Anthropic: valid JSON, but not an object.
    let fake = FakeLlm::start().await;
    let malformed = anthropic_tool_calls(
        &[],
        &[AnthropicCall {
            id: "toolu_X",
            name: "search_products",
            fragments: &["[\"tents\"", "]"],
        }],
    );
    fake.then(Reply::sse(&malformed, 5));
    let events = collect(&*anthropic(&fake)).await;
    assert_eq!(
        events,
        vec![Err(ModelError::BrokenStream(
            "tool call search_products (toolu_X): its arguments are JSON but not an object".into()
        ))]
    );

    // Nothing reached the caller yet, so the chain asks again, and the new sample is used.
    let fake = FakeLlm::start().await;
    fake.then(Reply::sse(&malformed, 5));
    fake.then(Reply::sse(&anthropic_text(&["Which size?"]), 5));
    let events = collect(&chain(vec![anthropic(&fake)], 5)).await;
    assert_eq!(text(&events), "Which size?");
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert_eq!(fake.seen().len(), 2);
}

#[actix_web::test]
async fn a_fallback_chain_passes_tool_calls_through_unchanged_and_never_retries_after_one() {
    let stream = anthropic_tool_calls(
        &[],
        &[AnthropicCall {
            id: "toolu_01A",
            name: "search_products",
            fragments: &[
                "{\"query\": \"tente 2 places ⛺\", ",
                "\"max_price\": 15000}",
            ],
        }],
    );
    let call = Ok(ModelEvent::ToolCall(ToolCall {
        id: "toolu_01A".into(),
        name: "search_products".into(),
        input: search_input(),
    }));
    let served = Ok(ModelEvent::Served {
        provider: "anthropic".into(),
        model: "claude-test".into(),
    });
    let fake = FakeLlm::start().await;
    let backup = FakeLlm::start().await;
    fake.then(Reply::sse(&stream, 9));
    let chain = chain(vec![anthropic(&fake), openai(&backup, Dialect::OpenAi)], 5);
    let events = collect(&chain).await;
    assert_eq!(
        events,
        vec![
            served.clone(),
            call.clone(),
            Ok(ModelEvent::Usage(Usage {
                input_tokens: 412,
                output_tokens: 58,
                ..Usage::default()
            })),
            Ok(ModelEvent::Stop(StopReason::ToolUse)),
        ]
    );

    // The connection is cut after the call was emitted: the caller has it, so the chain
    // neither asks again (the call would run twice) nor falls back.
    let cut = stream.find("event: message_delta").unwrap();
    fake.then(Reply::sse(&stream[..cut], 100_000).ending(Ending::Cut));
    let events = collect(&chain).await;
    assert_eq!(events[..2], [served, call]);
    assert!(
        matches!(events[2..], [Err(ModelError::BrokenStream(_))]),
        "{events:?}"
    );
    assert_eq!((fake.seen().len(), backup.seen().len()), (2, 0));
}

#[actix_web::test]
async fn a_429_is_retried_after_the_providers_retry_after_and_then_answers() {
    let fake = FakeLlm::start().await;
    fake.then(
        Reply::error(
            429,
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
        )
        .header("retry-after", "1"),
    );
    fake.then(Reply::sse(&anthropic_text(&["Bonjour", " !"]), 10));
    let started = Instant::now();
    let events = collect(&chain(vec![anthropic(&fake)], 5)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(text(&events), "Bonjour !");
    assert!(events.iter().all(Result::is_ok));
    assert_eq!(fake.seen().len(), 2);
}

#[actix_web::test]
async fn a_500_is_retried_and_an_overloaded_provider_falls_back_to_the_next() {
    let first = FakeLlm::start().await;
    first.then(Reply::error(
        500,
        r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#,
    ));
    first.then(Reply::sse(&anthropic_text(&["after a retry"]), 4));
    let events = collect(&chain(vec![anthropic(&first)], 5)).await;
    assert_eq!(text(&events), "after a retry");
    assert_eq!(first.seen().len(), 2);

    // 529 three times (the first attempt and two retries): the OpenAI fallback answers.
    let overloaded = FakeLlm::start().await;
    for _ in 0..3 {
        overloaded.then(Reply::error(
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ));
    }
    let backup = FakeLlm::start().await;
    backup.then(Reply::sse(&compatible_text(&["from ", "the backup"]), 8));
    let events = collect(&chain(
        vec![anthropic(&overloaded), openai(&backup, Dialect::OpenAi)],
        5,
    ))
    .await;
    assert_eq!(text(&events), "from the backup");
    assert_eq!(overloaded.seen().len(), 3);
    assert_eq!(backup.seen().len(), 1);
}

#[actix_web::test]
async fn an_error_event_after_text_ends_the_stream_without_a_retry_or_repeated_text() {
    let fake = FakeLlm::start().await;
    fake.then(Reply::sse(
        &anthropic_error_after(&["Partial ", "answer"]),
        16,
    ));
    fake.then(Reply::sse(&anthropic_text(&["must never be sent"]), 16));
    let events = collect(&chain(vec![anthropic(&fake)], 5)).await;
    assert_eq!(text(&events), "Partial answer");
    assert_eq!(events.last(), Some(&Err(ModelError::Overloaded)));
    assert_eq!(fake.seen().len(), 1, "no retry once text was streamed");
}

#[actix_web::test]
async fn a_stall_past_the_idle_timeout_and_a_cut_connection_are_errors_not_hangs() {
    // Stall after the first text: a timeout, no retry.
    let fake = FakeLlm::start().await;
    let body = anthropic_text(&["Hello", " there"]);
    let cut = body.find("event: content_block_stop").unwrap();
    fake.then(Reply::sse(&body[..cut], 100_000).ending(Ending::Stall));
    let started = Instant::now();
    let events = collect(&chain(vec![anthropic(&fake)], 5)).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(text(&events), "Hello there");
    assert_eq!(events.last(), Some(&Err(ModelError::Timeout)));
    assert_eq!(fake.seen().len(), 1);

    // Cut in the middle of an event, before any text: retried, then answered.
    let fake = FakeLlm::start().await;
    let body = anthropic_text(&["never seen"]);
    let mid = body.find("text_delta").unwrap();
    fake.then(Reply::sse(&body[..mid], 100_000).ending(Ending::Cut));
    fake.then(Reply::sse(&anthropic_text(&["second try"]), 5));
    let events = collect(&chain(vec![anthropic(&fake)], 5)).await;
    assert_eq!(text(&events), "second try");
    assert_eq!(fake.seen().len(), 2);

    // Cut without a retry left: the stream reports it broken.
    let fake = FakeLlm::start().await;
    fake.then(Reply::sse(&body[..mid], 100_000).ending(Ending::Cut));
    let events = collect(&*anthropic(&fake)).await;
    assert!(
        matches!(events.as_slice(), [Err(ModelError::BrokenStream(_))]),
        "{events:?}"
    );
}

#[actix_web::test]
async fn refused_requests_are_not_retried_and_an_open_breaker_skips_its_provider() {
    // 400: the request is at fault; neither a retry nor another provider would help.
    let fake = FakeLlm::start().await;
    fake.then(Reply::error(
        400,
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}"#,
    ));
    let backup = FakeLlm::start().await;
    let events = collect(&chain(
        vec![anthropic(&fake), openai(&backup, Dialect::OpenAi)],
        5,
    ))
    .await;
    assert_eq!(
        events,
        vec![Err(ModelError::BadRequest("max_tokens: too large".into()))]
    );
    assert_eq!((fake.seen().len(), backup.seen().len()), (1, 0));

    // 401: not retried; the backup answers. After two such calls the breaker (threshold 2)
    // opens and the third call goes straight to the backup.
    let bad_key = FakeLlm::start().await;
    let backup = FakeLlm::start().await;
    for _ in 0..3 {
        bad_key.then(Reply::error(
            401,
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
        ));
        backup.then(Reply::sse(&compatible_text(&["ok"]), 100));
    }
    let chain = chain(
        vec![anthropic(&bad_key), openai(&backup, Dialect::OpenAi)],
        2,
    );
    for _ in 0..3 {
        assert_eq!(text(&collect(&chain).await), "ok");
    }
    assert_eq!(
        bad_key.seen().len(),
        2,
        "the open breaker skipped the third call"
    );
    assert_eq!(backup.seen().len(), 3);
}

#[actix_web::test]
async fn a_conversation_streams_the_providers_reply_and_keeps_partial_text_when_it_fails() {
    use crate::helpers::spawn_app_with;
    use crate::ws_client::{Ws, apply_delta};
    let fake = FakeLlm::start().await;
    let url = fake.base_url.clone();
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__LLM__PROVIDER".into(), "anthropic".into());
        env.insert("AGENTPAY__LLM__ANTHROPIC__BASE_URL".into(), url);
        env.insert("AGENTPAY__LLM__RETRY_BASE_MS".into(), "10".into());
        env.insert("ANTHROPIC_API_KEY".into(), "sk-ant-e2e".into());
    })
    .await;
    let m = app.create_merchant("Provider Shop", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");

    // A 529, then the reply: the visitor sees it once, streamed.
    fake.then(Reply::error(
        529,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ));
    fake.then(Reply::sse(
        &anthropic_text(&["Yes, ", "we sell ", "tents ⛺"]),
        9,
    ));
    ws.say("c-1", "Do you sell tents?").await;
    let events = ws.until("assistant_end").await;
    let mut reply = String::new();
    for ev in events.iter().filter(|e| e["type"] == "delta") {
        apply_delta(&mut reply, ev);
    }
    assert_eq!(reply, "Yes, we sell tents ⛺");
    let end = events.last().unwrap();
    assert_eq!(end["text"], "Yes, we sell tents ⛺");
    assert_eq!(end["interrupted"], false);
    assert_eq!(end["usage"]["cache_read_tokens"], 900);
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].header("x-api-key"), Some("sk-ant-e2e"));
    let messages = seen[1].body["messages"].as_array().unwrap();
    // Tools are offered, so the last message is a cache breakpoint (a tool loop's next round
    // reads this prompt from the cache).
    assert_eq!(
        messages.last().unwrap()["content"],
        json!([{"type": "text", "text": "Do you sell tents?",
                "cache_control": {"type": "ephemeral"}}])
    );

    // Overloaded after some text: the partial text stays, marked interrupted, with a notice;
    // the provider is not asked again.
    fake.then(Reply::sse(
        &anthropic_error_after(&["Our tents ", "are"]),
        11,
    ));
    ws.say("c-2", "Which ones are waterproof?").await;
    let events = ws.until("assistant_end").await;
    assert!(events.iter().any(|e| e["type"] == "error"), "{events:?}");
    let end = events.last().unwrap();
    assert_eq!(end["interrupted"], true);
    assert_eq!(end["text"], "Our tents are");
    assert_eq!(fake.seen().len(), 3);
}

/// Starts (or reuses) the real llama.cpp server of `scripts/llm.sh` and returns its base URL.
pub fn real_model_server() -> String {
    let out = std::process::Command::new(crate::helpers::repo_root().join("scripts/llm.sh"))
        .arg("start")
        .output()
        .expect("run scripts/llm.sh");
    assert!(
        out.status.success(),
        "scripts/llm.sh start failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("LLM_URL="))
        .expect("LLM_URL=")
        .to_string()
}

#[actix_web::test]
async fn a_real_llama_cpp_server_streams_a_reply_through_a_websocket_conversation() {
    use crate::helpers::spawn_app_with;
    use crate::ws_client::{Ws, apply_delta};
    let url = real_model_server();

    // The client alone: text, usage, a stop reason, over the real server's SSE.
    // A real model on a CPU shared with the rest of the suite (the catalog tests embed
    // products at the same time): the deployment's own timeouts, not the fakes' tight ones.
    let real_timeouts = Timeouts {
        connect: Duration::from_secs(5),
        first_byte: Duration::from_secs(30),
        idle: Duration::from_secs(30),
    };
    let client =
        OpenAiClient::new(&url, "smollm2", None, Dialect::Compatible, real_timeouts).unwrap();
    let mut req = request();
    req.tools.clear();
    req.max_tokens = 24;
    let events: Vec<_> = client.stream(req).collect().await;
    assert!(!text(&events).trim().is_empty(), "{events:?}");
    assert!(
        events.iter().any(
            |e| matches!(e, Ok(ModelEvent::Usage(u)) if u.input_tokens > 0 && u.output_tokens > 0)
        ),
        "{events:?}"
    );
    assert!(
        matches!(events.last(), Some(Ok(ModelEvent::Stop(_)))),
        "{events:?}"
    );

    // Through the product: a visitor's message, the reply streamed and stored.
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__LLM__PROVIDER".into(), "openai_compatible".into());
        env.insert("AGENTPAY__LLM__OPENAI_COMPATIBLE__BASE_URL".into(), url);
        env.insert(
            "AGENTPAY__CONVERSATION__MAX_REPLY_TOKENS".into(),
            "32".into(),
        );
    })
    .await;
    let m = app.create_merchant("Llama Shop", &[]).await;
    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    ws.say("c-1", "Hello! Do you sell hiking boots?").await;
    let events = ws.until("assistant_end").await;
    let deltas = events.iter().filter(|e| e["type"] == "delta").count();
    let mut reply = String::new();
    for ev in events.iter().filter(|e| e["type"] == "delta") {
        apply_delta(&mut reply, ev);
    }
    let end = events.last().unwrap();
    assert!(deltas >= 2, "streamed token by token: {events:?}");
    assert_eq!(end["interrupted"], false, "{events:?}");
    assert_eq!(end["text"], reply.as_str());
    assert!(!reply.trim().is_empty());
    assert!(end["usage"]["output_tokens"].as_u64().unwrap() > 0);
}

#[actix_web::test]
async fn a_real_llama_cpp_server_takes_a_tool_result_follow_up_and_answers_in_text() {
    // SmolLM2's chat template knows no tools, so this server never calls one (docs/providers.md):
    // what is checked here is that a compatible server takes the follow-up's wire shape (an
    // assistant message with `tool_calls` and null content, `role: tool` messages) and that
    // the tool messages reach the prompt.
    let url = real_model_server();
    let real_timeouts = Timeouts {
        connect: Duration::from_secs(5),
        first_byte: Duration::from_secs(30),
        idle: Duration::from_secs(30),
    };
    let client =
        OpenAiClient::new(&url, "smollm2", None, Dialect::Compatible, real_timeouts).unwrap();
    let calls = [
        ToolCall {
            id: "call_A".into(),
            name: "search_products".into(),
            input: search_input(),
        },
        ToolCall {
            id: "call_B".into(),
            name: "list_categories".into(),
            input: json!({}),
        },
    ];
    let mut with_tools = follow_up("", &calls);
    with_tools.max_tokens = 8;
    // The same conversation without the tool round.
    let mut without = with_tools.clone();
    without.messages = vec![
        ChatMessage::text(Role::User, "Two-person tents under 150 €?"),
        ChatMessage::text(Role::User, "Only green ones, please."),
    ];
    let mut prompt_tokens = Vec::new();
    for req in [with_tools, without] {
        let events: Vec<_> = client.stream(req).collect().await;
        assert!(events.iter().all(Result::is_ok), "{events:?}");
        assert!(
            matches!(events.last(), Some(Ok(ModelEvent::Stop(_)))),
            "{events:?}"
        );
        let usage = events.iter().find_map(|e| match e {
            Ok(ModelEvent::Usage(u)) => Some(*u),
            _ => None,
        });
        prompt_tokens.push(usage.map(|u| u.input_tokens + u.cache_read_tokens));
    }
    assert!(
        prompt_tokens[0] > prompt_tokens[1],
        "the tool results are in the prompt: {prompt_tokens:?}"
    );
}

#[actix_web::test]
async fn costs_are_stored_per_reply_add_up_and_a_spent_budget_stops_model_calls() {
    use crate::helpers::{assert_error, spawn_app_with};
    use crate::ws_client::Ws;
    let fake = FakeLlm::start().await;
    let url = fake.base_url.clone();
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__LLM__PROVIDER".into(), "anthropic".into());
        env.insert("AGENTPAY__LLM__ANTHROPIC__BASE_URL".into(), url);
        env.insert("AGENTPAY__LLM__ANTHROPIC__MODEL".into(), "claude-test".into());
        env.insert("ANTHROPIC_API_KEY".into(), "sk-ant-cost".into());
        // Expensive on purpose: one reply (20 input, 12 output, 900 cache-read tokens) costs
        // 20×$1000/M + 12×$2000/M + 900×$10/M = $0.053.
        env.insert(
            "AGENTPAY__LLM__PRICES".into(),
            r#"[{model = "claude-test", input = 1000.0, output = 2000.0, cache_write = 500.0, cache_read = 10.0}]"#.into(),
        );
    })
    .await;
    let m = app.create_merchant("Metered Shop", &[]).await;
    // A 10-cent daily budget.
    let res = app
        .client
        .put(app.url("/v1/merchant/agent"))
        .bearer_auth(&m.secret_key)
        .json(&json!({"budget": {"daily_usd_cents": 10}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .put(app.url("/v1/merchant/agent"))
        .bearer_auth(&m.secret_key)
        .json(&json!({"budget": {"daily_usd_cents": 0.5}}))
        .send()
        .await
        .unwrap();
    assert_error(res, 422, "invalid_field").await;

    let c = app.create_conversation(&m.publishable_key).await;
    let mut ws = Ws::open(&c, None).await;
    assert_eq!(ws.event().await["type"], "hello");
    for i in 0..2 {
        fake.then(Reply::sse(
            &anthropic_text(&["Reply ", "number ", "one"]),
            20,
        ));
        ws.say(&format!("c-{i}"), "Hello?").await;
        let end = ws.until("assistant_end").await.pop().unwrap();
        assert_eq!(end["interrupted"], false);
    }

    // Per conversation and per merchant, the two replies add up.
    let expected = json!({
        "replies": 2, "input_tokens": 40, "output_tokens": 24, "cache_write_tokens": 0,
        "cache_read_tokens": 1800, "cost_nanos": 106_000_000i64, "cost_usd": "0.106000"
    });
    let res = app
        .get(
            &format!("/v1/merchant/conversations/{}/usage", c.id),
            Some(&m.secret_key),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["total"], expected);
    assert_eq!(body["models"][0]["provider"], "anthropic");
    assert_eq!(body["models"][0]["model"], "claude-test");
    let body: serde_json::Value = app
        .get("/v1/merchant/usage?period=today", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], expected);
    assert_eq!(body["budget"]["daily_cap"]["usd"], "0.100000");
    assert_eq!(body["budget"]["spent_today_usd"], "0.106000");
    assert_eq!(body["budget"]["over_budget"], true);

    // Over budget: a clear, polite reply, and the provider is not called.
    ws.say("c-3", "Are you there?").await;
    let end = ws.until("assistant_end").await.pop().unwrap();
    assert_eq!(end["interrupted"], false);
    assert!(
        end["text"]
            .as_str()
            .unwrap()
            .contains("can't answer right now"),
        "{end}"
    );
    assert!(end["usage"].is_null());
    assert_eq!(fake.seen().len(), 2, "no model call over budget");

    // Another merchant's view: 404 for this conversation, nothing spent.
    let other = app.create_merchant("Other Shop", &[]).await;
    let res = app
        .get(
            &format!("/v1/merchant/conversations/{}/usage", c.id),
            Some(&other.secret_key),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let body: serde_json::Value = app
        .get("/v1/merchant/usage", Some(&other.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"]["cost_usd"], "0.000000");
    assert_eq!(body["budget"]["over_budget"], false);

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("agentpay_llm_over_budget_replies_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"agentpay_llm_cost_usd_total{model="claude-test"} 0.106"#),
        "{metrics}"
    );
    let cache_reads = metrics
        .lines()
        .find(|l| {
            l.starts_with("agentpay_llm_tokens_total")
                && l.contains(r#"kind="cache_read""#)
                && l.contains(r#"model="claude-test""#)
        })
        .unwrap_or_default()
        .to_string();
    assert!(cache_reads.ends_with(" 1800"), "{cache_reads}");
}

#[actix_web::test]
async fn a_merchants_preferred_provider_goes_first_and_the_chain_still_backs_it() {
    let first = FakeLlm::start().await;
    let preferred = FakeLlm::start().await;
    preferred.then(Reply::sse(
        &compatible_text(&["from the preferred one"]),
        50,
    ));
    let chain = chain(
        vec![anthropic(&first), openai(&preferred, Dialect::OpenAi)],
        5,
    );
    let mut req = request();
    req.preferred_provider = Some(ProviderKind::Openai);
    let events: Vec<_> = chain.stream(req.clone()).collect().await;
    assert_eq!(text(&events), "from the preferred one");
    assert_eq!(
        events[0],
        Ok(ModelEvent::Served {
            provider: "openai".into(),
            model: "gpt-test".into()
        })
    );
    assert_eq!((first.seen().len(), preferred.seen().len()), (0, 1));

    // The preferred provider down (400 excepted, it falls back): the deployment's first answers.
    preferred.then(Reply::error(
        401,
        r#"{"error":{"message":"bad key","type":"invalid_request_error"}}"#,
    ));
    first.then(Reply::sse(&anthropic_text(&["the fallback"]), 50));
    let events: Vec<_> = chain.stream(req).collect().await;
    assert_eq!(text(&events), "the fallback");
    assert_eq!((first.seen().len(), preferred.seen().len()), (1, 2));
}
