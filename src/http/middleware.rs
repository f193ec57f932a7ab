//! Request-scoped middleware: request ids, access logs, HTTP metrics, and CORS for the
//! publishable-key endpoints.

use super::auth::CorsAllowed;
use super::errors::ApiError;
use super::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tracing::Instrument;

/// The request id header, read from the caller when well-formed, else generated.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Path prefixes served to browsers with a publishable key; only these answer CORS.
pub const BROWSER_PREFIXES: &[&str] = &["/v1/widget", "/v1/conversations"];

/// Seconds browsers may cache a preflight answer.
const PREFLIGHT_MAX_AGE_SECS: &str = "600";

fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    ok.then(|| v.to_string())
}

/// Gives every request an id (echoed in `x-request-id`), a tracing span carrying it, one access
/// log line, and its metrics by route template.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = req.method().clone();
    let path = req.path().to_string();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, path = %path);
    let result = next.call(req).instrument(span.clone()).await;
    let mut res = match result {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => return Err(e),
    };
    let status = res.status();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let elapsed = started.elapsed();
    if let Some(m) = metrics {
        m.observe_http(
            &route,
            method.as_str(),
            status.as_u16(),
            elapsed.as_secs_f64(),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    let _enter = span.enter();
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    if route == "/health" || route == "/metrics" || route == "/ready" {
        tracing::debug!(status = status.as_u16(), elapsed_ms, %route, "request");
    } else if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), elapsed_ms, %route, "request");
    } else {
        tracing::info!(status = status.as_u16(), elapsed_ms, %route, "request");
    }
    Ok(res)
}

/// Counts one `/v1` request in flight until dropped.
struct InFlight<'a> {
    count: &'a AtomicUsize,
    gauge: &'a prometheus::IntGauge,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
        self.gauge.dec();
    }
}

/// A query string with an encoded NUL (`%00`) is refused with 400 `invalid_query` before any
/// handler sees it: Postgres text cannot hold NUL, and no parameter of ours needs one.
pub async fn refuse_nul_in_query(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let query = req.query_string().as_bytes();
    if query.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00")) {
        let error = ApiError::bad_request(
            "invalid_query",
            "the query string must not contain the NUL character (%00)",
        );
        return Ok(req.error_response(error).map_into_boxed_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// Load shedding: past `server.max_inflight_requests` API requests in flight, a new one gets
/// 503 `overloaded` with `Retry-After` before it does any work (no database connection, no
/// queueing). Under overload the server keeps serving what it can at its normal latency instead
/// of letting every request wait for the database until it times out. Health, readiness and
/// metrics are never shed; neither are CORS preflights.
pub async fn shed(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let limit = state
        .as_ref()
        .map_or(0, |s| s.settings.server.max_inflight_requests);
    let (Some(state), true) = (
        state,
        limit > 0 && req.path().starts_with("/v1/") && req.method() != Method::OPTIONS,
    ) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let guard = InFlight {
        count: &state.in_flight,
        gauge: &state.metrics.http_requests_in_flight,
    };
    let before = guard.count.fetch_add(1, Ordering::Relaxed);
    guard.gauge.inc();
    if before >= limit {
        drop(guard);
        state.metrics.http_requests_shed_total.inc();
        let error = ApiError::Overloaded {
            retry_after_secs: 1,
        };
        return Ok(req.error_response(error).map_into_boxed_body());
    }
    let res = next.call(req).await;
    drop(guard);
    res.map(ServiceResponse::map_into_boxed_body)
}

fn is_browser_path(path: &str) -> bool {
    BROWSER_PREFIXES
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// CORS for [`BROWSER_PREFIXES`].
///
/// Preflights are answered for any origin: a preflight carries no credentials, so the merchant
/// (and its allowed origins) is unknown at that point. The real request is where the origin is
/// enforced: `PublishableKeyAuth` refuses origins outside the merchant's list with 403, and only
/// responses that passed that check (or error responses, which carry no data) get
/// `Access-Control-Allow-Origin`. See docs/decisions/0004-cors.md.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let browser_path = is_browser_path(req.path());
    let (Some(origin), true) = (origin, browser_path) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let is_preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        let res = HttpResponse::build(StatusCode::NO_CONTENT)
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "authorization, content-type, x-request-id",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECS))
            .insert_header((header::VARY, "Origin"))
            .finish();
        return Ok(req.into_response(res));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    let allowed = res.request().extensions().get::<CorsAllowed>().is_some();
    if allowed || res.status().is_client_error() || res.status().is_server_error() {
        let headers = res.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id, retry-after"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(res)
}
