//! `/health` (the process answers), `/ready` (it can serve: database reachable and migrated),
//! `/metrics` (Prometheus text).

use crate::http::auth::MetricsAuth;
use crate::http::errors::ApiError;
use crate::http::state::AppState;
use crate::metrics::CONTENT_TYPE;
use crate::store::migrations;
use actix_web::{HttpResponse, web};
use serde_json::json;
use std::time::Duration;

/// `GET /health`: 200 while the process runs. Touches nothing else, so orchestrators do not
/// restart a healthy process because its database is down.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// `GET /ready`: 200 when the database answers within `readiness.timeout_ms` and every
/// migration is applied; 503 otherwise, with the reason. It recovers by itself when the
/// database returns (the pool reconnects).
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let timeout = Duration::from_millis(state.settings.readiness.timeout_ms);
    let check = tokio::time::timeout(timeout, migrations::all_applied(&state.pool)).await;
    let (status, database, migrations) = match check {
        Ok(Ok(true)) => (200, "ok", "ok"),
        Ok(Ok(false)) => (503, "ok", "pending"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            (503, "unreachable", "unknown")
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = state.settings.readiness.timeout_ms,
                "readiness: database check timed out"
            );
            (503, "timeout", "unknown")
        }
    };
    let body = json!({
        "status": if status == 200 { "ready" } else { "not_ready" },
        "checks": {"database": database, "migrations": migrations},
    });
    if status == 200 {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// `GET /metrics`: the app's registry in the Prometheus text format.
pub async fn metrics(_: MetricsAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render(&state.pool)?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}
