//! The HTTP edge's error answers: malformed JSON, wrong types, wrong media type, oversized
//! bodies, unknown routes and methods.

use crate::helpers::*;
use serde_json::json;

#[actix_web::test]
async fn malformed_json_is_400_and_says_where() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v1/merchants"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body("{\"name\": \"Acme\",,}")
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 400, "malformed_json").await;
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("line 1 column"), "{msg}");
}

#[actix_web::test]
async fn a_wrong_field_type_is_422_naming_the_field() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/v1/merchants",
            Some(ADMIN_TOKEN),
            &json!({"name": "A", "allowed_origins": ["https://a.example", 7]}),
        )
        .await;
    let body = assert_error(res, 422, "invalid_field").await;
    assert_eq!(body["error"]["field"], "allowed_origins[1]");
    let res = app
        .post_json("/v1/merchants", Some(ADMIN_TOKEN), &json!({"nme": "A"}))
        .await;
    let body = assert_error(res, 422, "invalid_field").await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("nme"),
        "{body}"
    );
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v1/merchants"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/plain")
        .body("name=Acme")
        .send()
        .await
        .unwrap();
    assert_error(res, 415, "unsupported_media_type").await;
}

#[actix_web::test]
async fn an_oversized_body_is_413_and_creates_nothing() {
    let app = spawn_app_with(|env| {
        env.insert("AGENTPAY__SERVER__MAX_BODY_BYTES".into(), "4096".into());
    })
    .await;
    let big = "x".repeat(10_000);
    let res = app
        .post_json("/v1/merchants", Some(ADMIN_TOKEN), &json!({"name": big}))
        .await;
    let body = assert_error(res, 413, "payload_too_large").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("4096"));

    // Chunked (no Content-Length): refused while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![b' '; 1000])).collect();
    let res = app
        .client
        .post(app.url("/v1/merchants"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_error(res, 413, "payload_too_large").await;

    let list: serde_json::Value = app
        .get("/v1/merchants", Some(ADMIN_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

#[actix_web::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let app = spawn_app().await;
    assert_error(app.get("/v1/nope", None).await, 404, "not_found").await;
    let res = app
        .client
        .put(app.url("/v1/merchant"))
        .send()
        .await
        .unwrap();
    assert_error(res, 405, "method_not_allowed").await;
    // A malformed id in a path names nothing.
    let m = app.create_merchant("Ids", &[]).await;
    assert_error(
        app.get("/v1/merchant/keys/not-a-uuid", Some(&m.secret_key))
            .await,
        404,
        "not_found",
    )
    .await;
    // A bad query parameter is a 400.
    assert_error(
        app.get("/v1/merchants?limit=abc", Some(ADMIN_TOKEN)).await,
        400,
        "invalid_query",
    )
    .await;
    assert_error(
        app.get("/v1/merchants?limit=0", Some(ADMIN_TOKEN)).await,
        400,
        "invalid_query",
    )
    .await;
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/health", None).await;
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let res = app
        .client
        .get(app.url("/v1/nope"))
        .header("x-request-id", "edge-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "edge-abc-123");
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}
