//! The HTTP edge: routes, extractors, authentication, errors, middleware.
//!
//! Handlers are thin: they authenticate, parse, call the core (`crate::merchants`, `crate::store`)
//! and shape the response. Route table in [`configure`]; the API is documented in
//! `docs/http-api.md`.

pub mod auth;
pub mod errors;
pub mod extract;
pub mod limits;
pub mod middleware;
pub mod protocol;
pub mod routes;
pub mod sse;
pub mod state;
pub mod wire;
pub mod ws;

use actix_web::{HttpResponse, web};
use errors::ApiError;

/// Registers every route, the JSON error handlers and the 404/405 fallbacks.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PathConfig::default().error_handler(|_, _| {
        // A malformed id in a path can name no resource.
        ApiError::NotFound("not found".into()).into()
    }))
    .app_data(web::QueryConfig::default().error_handler(|e, _| {
        ApiError::bad_request("invalid_query", format!("invalid query string: {e}")).into()
    }))
    .route("/health", web::get().to(routes::health::health))
    .route("/ready", web::get().to(routes::health::ready))
    .route("/metrics", web::get().to(routes::health::metrics))
    .service(
        web::resource("/v1/merchants")
            .get(routes::merchants::list_merchants)
            .post(routes::merchants::create_merchant)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/merchants/{merchant_id}")
            .get(routes::merchants::get_merchant_admin)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/merchant")
            .get(routes::merchants::get_merchant)
            .patch(routes::merchants::update_merchant)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/merchant/agent")
            .get(routes::agent::get_agent_config)
            .put(routes::agent::put_agent_config)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/widget/v1/agentpay.js")
            .get(routes::widget::bundle)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/demo")
            .get(crate::demo::page)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/merchant/payments")
            .get(routes::payments::get_payment_settings)
            .put(routes::payments::put_payment_settings)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/merchant/payments/connect")
            .post(routes::payments::connect)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/merchant/usage")
            .get(routes::usage::merchant_usage)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/merchant/conversations/{conversation_id}/usage")
            .get(routes::usage::conversation_usage)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/merchant/keys")
            .get(routes::merchants::list_keys)
            .post(routes::merchants::create_key)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/merchant/keys/{key_id}")
            .get(routes::merchants::get_key)
            .delete(routes::merchants::revoke_key)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/conversations")
            .post(routes::conversations::create_conversation)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/conversations/{conversation_id}")
            .get(routes::conversations::get_conversation)
            .delete(routes::conversations::delete_conversation)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/conversations/{conversation_id}/export")
            .get(routes::conversations::export_conversation)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/conversations/{conversation_id}/messages")
            .get(routes::conversations::list_messages)
            .post(routes::conversations::post_message)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/conversations/{conversation_id}/ws")
            .get(ws::conversation_ws)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/products")
            .get(routes::products::list_products)
            .post(routes::products::create_product)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/products/bulk")
            .post(routes::products::bulk)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/products/import")
            .post(routes::products::import_file)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/products/index")
            .get(routes::products::index_status)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/products/search")
            .post(routes::products::search)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/products/{external_id}")
            .get(routes::products::get_product)
            .put(routes::products::put_product)
            .patch(routes::products::patch_product)
            .delete(routes::products::delete_product)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/checkout/{order_id}")
            .get(routes::checkout::show)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/checkout/{order_id}/pay")
            .post(routes::checkout::pay)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/checkout/{order_id}/cancel")
            .post(routes::checkout::cancel)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/webhooks/stripe")
            .post(routes::payments::stripe_webhook)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/orders")
            .get(routes::payments::list_orders)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/orders/{order_id}")
            .get(routes::payments::get_order)
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v1/widget/config")
            .get(routes::widget::get_widget_config)
            .default_service(web::to(method_not_allowed)),
    )
    .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such route".into()))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}
