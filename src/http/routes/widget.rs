//! Endpoints the chat widget calls from the merchant's store pages, with the publishable key.
//! CORS for them is in `http::middleware::cors`.

use crate::http::auth::PublishableKeyAuth;
use crate::http::errors::ApiError;
use crate::http::state::AppState;
use crate::store;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// `GET /v1/widget/config`: what the widget shows before a conversation starts: the store's
/// name and currency, the assistant's name, greeting and languages, and the colours. Nothing
/// secret: the publishable key is public by design.
pub async fn get_widget_config(
    auth: PublishableKeyAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let agent = store::agent_configs::load(&state.pool, auth.merchant.id).await?;
    let c = &agent.config;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "private, max-age=60"))
        .json(json!({
            "merchant": {
                "id": auth.merchant.id,
                "name": auth.merchant.name,
                "currency": auth.merchant.currency,
            },
            "assistant": {
                "name": c.assistant_name,
                "greeting": c.greeting,
                "languages": c.languages,
            },
            "theme": c.theme,
        })))
}

/// The widget's bundle (`widget/dist/agentpay.js`, built from `widget/src` and committed; CI
/// checks the two agree).
const BUNDLE: &[u8] = include_bytes!("../../../widget/dist/agentpay.js");

/// `GET /widget/v1/agentpay.js`: the widget, for any page (it is public, like the publishable
/// key). Cached for a day and revalidated by its ETag; readable cross-origin so pages can pin it
/// with Subresource Integrity (`crossorigin="anonymous"`).
pub async fn bundle(req: actix_web::HttpRequest) -> HttpResponse {
    static ETAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let etag = ETAG.get_or_init(|| {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(BUNDLE);
        let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    });
    let fresh = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header(("content-type", "text/javascript; charset=utf-8"))
        .insert_header((
            "cache-control",
            "public, max-age=86400, stale-while-revalidate=604800",
        ))
        .insert_header(("etag", etag.as_str()))
        .insert_header(("access-control-allow-origin", "*"))
        .insert_header(("cross-origin-resource-policy", "cross-origin"))
        .insert_header(("x-content-type-options", "nosniff"));
    if fresh {
        res.finish()
    } else {
        res.body(BUNDLE)
    }
}
