//! Endpoints the chat widget calls from the merchant's store pages, with the publishable key.
//! CORS for them is in `http::middleware::cors`.

use crate::http::auth::PublishableKeyAuth;
use actix_web::HttpResponse;
use serde_json::json;

/// `GET /v1/widget/config`: what the widget shows before a conversation starts (the store's
/// name and currency). Nothing secret: the publishable key is public by design.
pub async fn get_widget_config(auth: PublishableKeyAuth) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "merchant": {
            "id": auth.merchant.id,
            "name": auth.merchant.name,
            "currency": auth.merchant.currency,
        }
    }))
}
