//! Merchants and keys: creation, hashing at rest, isolation between merchants, revocation.

use crate::helpers::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

#[actix_web::test]
async fn an_operator_creates_a_merchant_and_its_keys_work() {
    let app = spawn_app().await;
    let m = app
        .create_merchant("Acme Outdoor", &["https://shop.example"])
        .await;
    assert!(m.secret_key.starts_with("sk_") && m.secret_key.len() >= 35);
    assert!(m.publishable_key.starts_with("pk_"));
    assert_eq!(m.body["merchant"]["currency"], "USD");
    assert_eq!(
        m.body["merchant"]["allowed_origins"],
        json!(["https://shop.example"])
    );

    let res = app.get("/v1/merchant", Some(&m.secret_key)).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["id"], m.id.as_str());
    assert_eq!(me["name"], "Acme Outdoor");
}

#[actix_web::test]
async fn the_cli_creates_a_merchant_too() {
    let app = spawn_app().await;
    let out = std::process::Command::new(binary())
        .args([
            "merchant",
            "create",
            "--name",
            "CLI Shop",
            "--currency",
            "eur",
            "--origin",
            "https://cli.example",
            "--json",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AGENTPAY_ENV", "test")
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["merchant"]["currency"], "EUR");
    let sk = created["secret_key"]["key"].as_str().unwrap();
    let res = app.get("/v1/merchant", Some(sk)).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["name"], "CLI Shop");
}

#[actix_web::test]
async fn keys_are_stored_only_as_digests() {
    let app = spawn_app().await;
    let m = app.create_merchant("Hash Shop", &[]).await;
    let mut conn = app.db.connect().await;
    let rows = sqlx::query("SELECT key_hash, row_to_json(k)::text AS whole FROM api_keys k WHERE merchant_id = $1::uuid")
        .bind(&m.id)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let hashes: Vec<Vec<u8>> = rows.iter().map(|r| r.get("key_hash")).collect();
    for key in [&m.secret_key, &m.publishable_key] {
        let digest = Sha256::digest(key.as_bytes()).to_vec();
        assert!(
            hashes.contains(&digest),
            "the digest of {} is stored",
            &key[..6]
        );
        for r in &rows {
            let whole: String = r.get("whole");
            assert!(
                !whole.contains(key.as_str()),
                "plain key found in row {whole}"
            );
            assert!(!whole.contains(&key[3..]), "key body found in row {whole}");
        }
    }
}

#[actix_web::test]
async fn a_merchant_cannot_see_another_merchants_resources() {
    let app = spawn_app().await;
    let a = app.create_merchant("Shop A", &[]).await;
    let b = app.create_merchant("Shop B", &[]).await;

    // A's key on B's key id: 404, exactly as for an id that does not exist.
    let path = format!("/v1/merchant/keys/{}", b.secret_key_id);
    let res = app.get(&path, Some(&a.secret_key)).await;
    let body = assert_error(res, 404, "not_found").await;
    let missing = app
        .get(
            &format!("/v1/merchant/keys/{}", uuid::Uuid::new_v4()),
            Some(&a.secret_key),
        )
        .await;
    let missing_body = assert_error(missing, 404, "not_found").await;
    assert_eq!(
        body, missing_body,
        "another merchant's key looks like no key at all"
    );

    // A cannot revoke B's key, and B's key keeps working.
    let res = app
        .delete(
            &format!("/v1/merchant/keys/{}", b.publishable_key_id),
            &a.secret_key,
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let res = app
        .get(
            &format!("/v1/merchant/keys/{}", b.publishable_key_id),
            Some(&b.secret_key),
        )
        .await;
    assert_eq!(res.status(), 200);
    let key: Value = res.json().await.unwrap();
    assert!(key["revoked_at"].is_null());

    // Each merchant lists only its own keys and sees only itself.
    let res = app.get("/v1/merchant/keys", Some(&a.secret_key)).await;
    let list: Value = res.json().await.unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        ids.contains(&a.secret_key_id.as_str()) && ids.contains(&a.publishable_key_id.as_str())
    );
    let me: Value = app
        .get("/v1/merchant", Some(&b.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], b.id.as_str());
    // Merchant keys do not open the operator endpoints.
    let res = app
        .get(&format!("/v1/merchants/{}", b.id), Some(&a.secret_key))
        .await;
    assert_error(res, 401, "invalid_credentials").await;
}

#[actix_web::test]
async fn a_revoked_key_is_refused_and_rotation_keeps_access() {
    let app = spawn_app().await;
    let m = app.create_merchant("Rotate Shop", &[]).await;

    // The last active secret key cannot be revoked: the merchant would be locked out.
    let res = app
        .delete(
            &format!("/v1/merchant/keys/{}", m.secret_key_id),
            &m.secret_key,
        )
        .await;
    assert_error(res, 409, "conflict").await;

    // Rotation: issue a new secret key, then revoke the old one with it.
    let res = app
        .post_json(
            "/v1/merchant/keys",
            Some(&m.secret_key),
            &json!({"kind": "secret", "label": "rotated"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let new: Value = res.json().await.unwrap();
    let new_key = new["key"].as_str().unwrap().to_string();
    assert_eq!(new["label"], "rotated");
    let res = app
        .delete(&format!("/v1/merchant/keys/{}", m.secret_key_id), &new_key)
        .await;
    assert_eq!(res.status(), 200);
    let revoked: Value = res.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string());

    let res = app.get("/v1/merchant", Some(&m.secret_key)).await;
    assert_error(res, 401, "invalid_key").await;
    assert_eq!(app.get("/v1/merchant", Some(&new_key)).await.status(), 200);

    // A revoked publishable key stops working in the widget too, at once, even right after a
    // request that put its lookup in the server's cache.
    let res = app.get("/v1/widget/config", Some(&m.publishable_key)).await;
    assert_eq!(res.status(), 200);
    let res = app
        .delete(
            &format!("/v1/merchant/keys/{}", m.publishable_key_id),
            &new_key,
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app.get("/v1/widget/config", Some(&m.publishable_key)).await;
    assert_error(res, 401, "invalid_key").await;
}

#[actix_web::test]
async fn credentials_are_checked_for_kind_and_presence() {
    let app = spawn_app().await;
    let m = app.create_merchant("Kinds", &[]).await;
    assert_error(
        app.get("/v1/merchant", None).await,
        401,
        "missing_credentials",
    )
    .await;
    assert_error(
        app.get("/v1/merchant", Some("sk_not_a_real_key_000000000000000"))
            .await,
        401,
        "invalid_key",
    )
    .await;
    assert_error(
        app.get("/v1/merchant", Some("garbage")).await,
        401,
        "invalid_key",
    )
    .await;
    assert_error(
        app.get("/v1/merchant", Some(&m.publishable_key)).await,
        403,
        "secret_key_required",
    )
    .await;
    assert_error(
        app.get("/v1/widget/config", Some(&m.secret_key)).await,
        403,
        "publishable_key_required",
    )
    .await;
    // Operator endpoints: no token, wrong token.
    let res = app
        .post_json("/v1/merchants", None, &json!({"name": "x"}))
        .await;
    assert_error(res, 401, "missing_credentials").await;
    let res = app
        .post_json("/v1/merchants", Some("wrong"), &json!({"name": "x"}))
        .await;
    assert_error(res, 401, "invalid_credentials").await;
}

#[actix_web::test]
async fn operator_endpoints_are_disabled_without_an_admin_token() {
    let app = spawn_app_with(|env| {
        env.remove("AGENTPAY_ADMIN_TOKEN");
    })
    .await;
    let res = app
        .post_json("/v1/merchants", Some(ADMIN_TOKEN), &json!({"name": "x"}))
        .await;
    assert_error(res, 401, "admin_disabled").await;
}

#[actix_web::test]
async fn an_invalid_update_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let m = app
        .create_merchant("Patch Shop", &["https://a.example"])
        .await;
    let res = app
        .patch_json(
            "/v1/merchant",
            &m.secret_key,
            &json!({"name": "Renamed", "allowed_origins": ["https://ok.example", "not an origin"]}),
        )
        .await;
    let body = assert_error(res, 422, "invalid_field").await;
    assert_eq!(body["error"]["field"], "allowed_origins[1]");
    let me: Value = app
        .get("/v1/merchant", Some(&m.secret_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Patch Shop", "nothing changed");
    assert_eq!(me["allowed_origins"], json!(["https://a.example"]));

    let res = app
        .patch_json("/v1/merchant", &m.secret_key, &json!({"currency": "USS"}))
        .await;
    let body = assert_error(res, 422, "invalid_field").await;
    assert_eq!(body["error"]["field"], "currency");

    let res = app
        .patch_json(
            "/v1/merchant",
            &m.secret_key,
            &json!({"name": "Renamed", "currency": "eur"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["name"], "Renamed");
    assert_eq!(me["currency"], "EUR");
    assert_eq!(
        me["allowed_origins"],
        json!(["https://a.example"]),
        "absent fields stay"
    );
}

#[actix_web::test]
async fn merchant_creation_validates_its_input() {
    let app = spawn_app().await;
    let cases = [
        (json!({"name": "", "currency": "USD"}), "name"),
        (json!({"name": "Ok", "currency": "DOLLARS"}), "currency"),
        (
            json!({"name": "Ok", "allowed_origins": ["https://x.example/path"]}),
            "allowed_origins[0]",
        ),
        (json!({"name": 42}), "name"),
    ];
    for (body, field) in cases {
        let res = app
            .post_json("/v1/merchants", Some(ADMIN_TOKEN), &body)
            .await;
        let err = assert_error(res, 422, "invalid_field").await;
        assert_eq!(err["error"]["field"], field, "{body}");
    }
    let list: Value = app
        .get("/v1/merchants", Some(ADMIN_TOKEN))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
}
