//! The merchant's catalog (secret key): `POST|GET /v1/products`,
//! `GET|PUT|PATCH|DELETE /v1/products/{external_id}`, `POST /v1/products/bulk`,
//! `POST /v1/products/import`, `GET /v1/products/index`, `POST /v1/products/search`.
//! docs/catalog.md describes the product shape, the import formats and policies, and search.

use crate::catalog::import::{self, Format, ImportError, ImportReport, Importer, Policy};
use crate::catalog::product::{FieldError, MAX_EXTERNAL_ID, ProductInput};
use crate::catalog::search::{MAX_LIMIT, mode_name};
use crate::http::auth::SecretKeyAuth;
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::store::products;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use agentpay_actors::ids::MerchantId;
use agentpay_actors::ports::{SearchFilters, SearchMode, SearchQuery};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

fn invalid(e: FieldError) -> ApiError {
    ApiError::Unprocessable {
        field: e.field,
        message: e.message,
    }
}

/// After a write to `merchant`'s catalog: the indexer embeds what changed, and the prices carts
/// and checkouts read on this node are dropped at once.
fn catalog_changed(state: &AppState, merchant: MerchantId) {
    if let Some(indexer) = &state.indexer {
        indexer.wake();
    }
    state.pricing.invalidate(merchant, None);
}

/// `POST /v1/products`: creates a product (409 when its external id exists).
pub async fn create_product(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    body: ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let product =
        ProductInput::from_json(&body.into_inner()?, auth.merchant.currency).map_err(invalid)?;
    let stored = products::create(&state.pool, auth.merchant.id, &product).await?;
    catalog_changed(&state, auth.merchant.id);
    Ok(HttpResponse::Created().json(stored.to_json()))
}

fn external_id(path: &str) -> Result<String, ApiError> {
    if path.is_empty() || path.chars().count() > MAX_EXTERNAL_ID {
        return Err(ApiError::NotFound("product not found".into()));
    }
    Ok(path.to_string())
}

/// `GET /v1/products/{external_id}`.
pub async fn get_product(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = external_id(&path)?;
    let stored = products::get(&state.pool, auth.merchant.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    Ok(HttpResponse::Ok().json(stored.to_json()))
}

async fn write(
    state: &AppState,
    auth: &SecretKeyAuth,
    id: &str,
    mut value: Value,
) -> Result<HttpResponse, ApiError> {
    match value.get("external_id") {
        None => value["external_id"] = json!(id),
        Some(Value::String(s)) if s.trim() == id => {}
        Some(_) => {
            return Err(ApiError::Unprocessable {
                field: "external_id".into(),
                message: format!(
                    "differs from the product's URL ({id:?}); external ids cannot be renamed"
                ),
            });
        }
    }
    let product = ProductInput::from_json(&value, auth.merchant.currency).map_err(invalid)?;
    let (stored, created) = products::put(&state.pool, auth.merchant.id, &product).await?;
    catalog_changed(state, auth.merchant.id);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(stored.to_json()))
}

/// `PUT /v1/products/{external_id}`: creates or replaces the whole product.
pub async fn put_product(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let id = external_id(&path)?;
    let body = body.into_inner()?;
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a product object",
        ));
    }
    write(&state, &auth, &id, body).await
}

/// `PATCH /v1/products/{external_id}`: changes the given fields (`null` clears one).
pub async fn patch_product(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<Value>,
) -> Result<HttpResponse, ApiError> {
    let id = external_id(&path)?;
    let Value::Object(changes) = body.into_inner()? else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be an object of the fields to change",
        ));
    };
    let stored = products::get(&state.pool, auth.merchant.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    let mut value = stored.product.to_json();
    for (k, v) in changes {
        match v {
            Value::Null => {
                if let Some(obj) = value.as_object_mut() {
                    obj.remove(&k);
                }
            }
            v => value[k] = v,
        }
    }
    write(&state, &auth, &id, value).await
}

/// `DELETE /v1/products/{external_id}`: 204, or 404 when there is none.
pub async fn delete_product(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = external_id(&path)?;
    if products::delete(&state.pool, auth.merchant.id, &id).await? {
        catalog_changed(&state, auth.merchant.id);
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("product"))
    }
}

/// Query of `GET /v1/products`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Page size (1-200, default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Category path prefix.
    pub category: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// In stock or not.
    pub in_stock: Option<bool>,
    /// Active or not (default: both).
    pub active: Option<bool>,
    /// Lowest price in minor units.
    pub min_price: Option<i64>,
    /// Highest price in minor units.
    pub max_price: Option<i64>,
}

/// `GET /v1/products`: a page ordered by external id, `{products, next_cursor}`.
pub async fn list_products(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be between 1 and 200",
        ));
    }
    let filters = SearchFilters {
        min_price: q.min_price,
        max_price: q.max_price,
        category: q.category,
        brand: q.brand,
        in_stock: q.in_stock,
        attributes: Default::default(),
    };
    let page = products::list(
        &state.pool,
        auth.merchant.id,
        &filters,
        q.active,
        q.cursor.as_deref(),
        limit + 1,
    )
    .await?;
    let more = page.len() as i64 > limit;
    let items: Vec<Value> = page
        .iter()
        .take(limit as usize)
        .map(|p| p.to_json())
        .collect();
    let next = more
        .then(|| page.get(limit as usize - 1))
        .flatten()
        .map(|p| p.product.external_id.clone());
    Ok(HttpResponse::Ok().json(json!({"products": items, "next_cursor": next})))
}

/// Query of the import endpoints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `atomic` (all or nothing) or `partial` (good rows written, bad ones reported). Required.
    pub policy: Option<String>,
    /// `csv`, `json` or `polar`; default from the Content-Type.
    pub format: Option<String>,
}

fn policy(q: &ImportQuery) -> Result<Policy, ApiError> {
    let p = q.policy.as_deref().ok_or_else(|| {
        ApiError::bad_request(
            "policy_required",
            "say what happens when rows are rejected: ?policy=atomic (all or nothing) or \
             ?policy=partial (good rows are written)",
        )
    })?;
    Policy::parse(p)
        .ok_or_else(|| ApiError::bad_request("invalid_query", "policy must be atomic or partial"))
}

fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

async fn run_import(
    state: &AppState,
    auth: &SecretKeyAuth,
    mut payload: web::Payload,
    format: Format,
    policy: Policy,
    limit: u64,
) -> Result<HttpResponse, ApiError> {
    let importer = Importer::start(
        state.pool.clone(),
        auth.merchant.id,
        format,
        policy,
        state.settings.catalog.import_batch_rows,
    )
    .await
    .map_err(import_error)?;
    let report = import::run(
        importer,
        auth.merchant.currency,
        payload.by_ref(),
        limit,
        |_| {},
    )
    .await
    .map_err(import_error)?;
    let m = &state.metrics;
    m.catalog_import_rows_total
        .with_label_values(&["written"])
        .inc_by(if report.committed {
            report.created + report.updated + report.unchanged
        } else {
            0
        });
    m.catalog_import_rows_total
        .with_label_values(&["rejected"])
        .inc_by(report.rejected);
    if report.committed {
        catalog_changed(state, auth.merchant.id);
    }
    tracing::info!(
        merchant_id = %auth.merchant.id,
        rows = report.rows,
        created = report.created,
        updated = report.updated,
        rejected = report.rejected,
        committed = report.committed,
        "catalog import"
    );
    let too_large = report.bytes > limit;
    Ok(import_response(report, too_large, limit))
}

fn import_response(report: ImportReport, too_large: bool, limit: u64) -> HttpResponse {
    let (status, code, message) = if too_large {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the upload is larger than {limit} bytes (catalog.import_max_bytes)"),
        )
    } else if let Some(reason) = &report.aborted {
        (
            StatusCode::BAD_REQUEST,
            "malformed_file",
            format!(
                "the file could not be read to its end: {reason}{}",
                if report.committed {
                    " (rows before that point were written: partial policy)"
                } else {
                    "; nothing was written"
                }
            ),
        )
    } else if !report.committed {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "rows_rejected",
            format!(
                "{} of {} rows were rejected; nothing was written (atomic policy)",
                report.rejected, report.rows
            ),
        )
    } else {
        return HttpResponse::Ok().json(report);
    };
    HttpResponse::build(status)
        .json(json!({"error": {"code": code, "message": message}, "report": report}))
}

fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::Malformed(m) => ApiError::bad_request("malformed_file", m),
        ImportError::Store(e) => e.into(),
    }
}

/// `POST /v1/products/bulk?policy=…`: upserts a JSON array of products by external id.
pub async fn bulk(
    req: HttpRequest,
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let policy = policy(&query)?;
    if query.format.is_some() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "bulk takes JSON only; use /v1/products/import for other formats",
        ));
    }
    let media = media_type(&req);
    if media != "application/json" {
        return Err(ApiError::UnsupportedMediaType(
            "the body must be a JSON array of products: send Content-Type: application/json".into(),
        ));
    }
    let limit = state.settings.catalog.bulk_max_bytes as u64;
    run_import(&state, &auth, payload, Format::Json, policy, limit).await
}

/// `POST /v1/products/import?policy=…&format=…`: a CSV, JSON (array or lines) or Polar export,
/// streamed.
pub async fn import_file(
    req: HttpRequest,
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let policy = policy(&query)?;
    let format = match query.format.as_deref() {
        Some(f) => Format::parse(f).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "format must be csv, json or polar")
        })?,
        None => match media_type(&req).as_str() {
            "text/csv" => Format::Csv,
            "application/json" | "application/x-ndjson" | "application/jsonl" => Format::Json,
            _ => {
                return Err(ApiError::UnsupportedMediaType(
                    "send Content-Type text/csv or application/json, or say ?format=csv|json|polar"
                        .into(),
                ));
            }
        },
    };
    let limit = state.settings.catalog.import_max_bytes;
    run_import(&state, &auth, payload, format, policy, limit).await
}

/// `GET /v1/products/index`: embedding progress for the configured model.
pub async fn index_status(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(embedder) = state.catalog.embedder() else {
        return Ok(HttpResponse::Ok().json(json!({
            "model": null,
            "message": "no embedding model is configured (embeddings.provider = none): search is full-text only",
        })));
    };
    let counts = products::index_counts(&state.pool, auth.merchant.id, embedder.key()).await?;
    let pending = counts.products - counts.embedded;
    Ok(HttpResponse::Ok().json(json!({
        "model": embedder.key(),
        "dimensions": embedder.dimensions(),
        "products": counts.products,
        "embedded": counts.embedded,
        "pending": pending,
        "complete": pending == 0,
        "last_error": state.indexer.as_ref().and_then(|i| i.last_error()),
    })))
}

/// Body of `POST /v1/products/search`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// What to look for; price phrases ("under $50") become filters.
    pub query: String,
    /// Constraints.
    #[serde(default)]
    pub filters: SearchFilters,
    /// Results (1-100, default 10).
    pub limit: Option<usize>,
    /// `hybrid` (default), `vector` or `text`.
    #[serde(default)]
    pub mode: SearchMode,
}

/// `POST /v1/products/search`: the merchant's best matches, with catalog prices and stock.
pub async fn search(
    auth: SecretKeyAuth,
    state: web::Data<AppState>,
    body: ApiJson<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    let limit = b.limit.unwrap_or(10);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Unprocessable {
            field: "limit".into(),
            message: format!("must be between 1 and {MAX_LIMIT}"),
        });
    }
    let hits = state
        .catalog
        .run(
            auth.merchant.id,
            SearchQuery {
                text: b.query,
                filters: b.filters,
                limit,
                mode: b.mode,
            },
        )
        .await
        .map_err(|e| match e {
            agentpay_actors::ports::SearchError::Invalid(m) => ApiError::Unprocessable {
                field: "query".into(),
                message: m,
            },
            agentpay_actors::ports::SearchError::Unavailable(m) => {
                tracing::warn!(error = %m, "catalog search unavailable");
                ApiError::Unavailable("catalog search is unavailable; retry shortly".into())
            }
        })?;
    Ok(HttpResponse::Ok().json(json!({"mode": mode_name(b.mode), "results": hits})))
}
