//! The offline demo store (`demo.enabled`, on with `scripts/run.sh`): a storefront page at
//! `/demo` over the development catalog with the chat widget embedded, so a newcomer sees the
//! product working with no account, key or network.
//!
//! On start, [`seed`] creates the demo merchant (a fixed id), its publishable key
//! (`demo.publishable_key`), its agent configuration and its catalog (`data/catalog/
//! dev-catalog.json`, compiled into the binary), each only if missing, so restarts change
//! nothing. The catalog's vectors are made by the server's indexer like any other import.

use crate::catalog::import::{self, Format, Importer, Policy};
use crate::config::Settings;
use crate::http::routes::checkout::escape;
use crate::http::state::AppState;
use crate::merchants::hash_key;
use crate::store;
use actix_web::{HttpResponse, web};
use agentpay_actors::agent::config::{AgentConfig, Theme};
use agentpay_actors::ids::MerchantId;
use agentpay_actors::money::{Currency, Money};
use std::collections::BTreeMap;

/// The demo merchant's fixed id.
pub const MERCHANT_ID: uuid::Uuid =
    uuid::Uuid::from_u128(0x0a6e_7a9d_de30_4000_8000_0000_0000_0001);
/// The demo store's name.
pub const NAME: &str = "Trailhead Outfitters";

/// The development catalog, served by the demo store.
const CATALOG: &[u8] = include_bytes!("../../data/catalog/dev-catalog.json");

/// Creates what is missing of the demo store; logs what it did. A catalog imported now is
/// embedded before the server starts listening (a few seconds), so the first search is hybrid
/// over the whole catalog rather than over the part the indexer has reached.
pub async fn seed(
    pool: &sqlx::PgPool,
    settings: &Settings,
    embedder: Option<&dyn agentpay_actors::ports::Embedder>,
) -> anyhow::Result<()> {
    let merchant = MerchantId(MERCHANT_ID);
    let key = &settings.demo.publishable_key;
    let prefix: String = key.chars().take(7).collect();
    let created =
        store::demo::ensure_merchant(pool, merchant, NAME, &prefix, &hash_key(key)).await?;
    if created {
        let config = AgentConfig {
            assistant_name: "Juniper".into(),
            greeting: "Hi! I'm Juniper, Trailhead's shopping assistant. Ask me for anything: \
                       \"show me rain jackets\", \"running shoes under $100\", a gift idea…"
                .into(),
            languages: ["en", "es", "fr", "de", "pt"].map(String::from).to_vec(),
            theme: Theme {
                accent: "#1f5f4b".into(),
                on_accent: "#ffffff".into(),
            },
            ..AgentConfig::default()
        };
        store::agent_configs::save(pool, merchant, &config).await?;
    }
    if store::demo::product_count(pool, merchant).await? == 0 {
        let importer = Importer::start(
            pool.clone(),
            merchant,
            Format::Json,
            Policy::Atomic,
            settings.catalog.import_batch_rows,
        )
        .await?;
        let usd: Currency = "USD"
            .parse()
            .map_err(|_| anyhow::anyhow!("USD is a currency"))?;
        let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(
            bytes::Bytes::from_static(CATALOG),
        )]);
        let report = import::run(importer, usd, chunks, u64::MAX, |_| {}).await?;
        tracing::info!(
            created = report.created,
            rejected = report.rejected,
            "demo store catalog imported"
        );
        if let Some(embedder) = embedder {
            let started = std::time::Instant::now();
            store::products::ensure_vector_index(pool, embedder.key(), embedder.dimensions())
                .await?;
            let n = crate::catalog::indexer::index_all(
                pool,
                embedder,
                settings.embeddings.batch_size,
                |_| {},
            )
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
            tracing::info!(
                products = n,
                ms = started.elapsed().as_millis() as u64,
                "demo store catalog embedded"
            );
        }
    }
    tracing::info!(merchant_id = %MERCHANT_ID, "demo store ready at /demo");
    Ok(())
}

/// The demo page's Content-Security-Policy: its own script (the widget) and styles, and
/// connections to itself (the API and the WebSocket).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data: https:; connect-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /demo`: the storefront.
pub async fn page(
    state: web::Data<AppState>,
) -> Result<HttpResponse, crate::http::errors::ApiError> {
    if !state.settings.demo.enabled {
        return Err(crate::http::errors::ApiError::NotFound(
            "the demo store is off (demo.enabled)".into(),
        ));
    }
    let items = store::demo::shelf(&state.pool, MerchantId(MERCHANT_ID), 500).await?;
    let mut by_category: BTreeMap<String, Vec<&store::demo::ShelfItem>> = BTreeMap::new();
    for item in &items {
        let top = item
            .category
            .split(" > ")
            .next()
            .unwrap_or("Other")
            .to_string();
        by_category.entry(top).or_default().push(item);
    }
    let mut shelves = String::new();
    for (category, items) in &by_category {
        shelves.push_str(&format!(
            "<section><h2>{} <small>({})</small></h2><ul class=\"grid\">",
            escape(category),
            items.len()
        ));
        for item in items {
            let price = match item.currency.parse::<Currency>() {
                Ok(currency) => Money {
                    amount_minor: item.price_minor,
                    currency,
                }
                .to_string(),
                Err(_) => format!("{} {}", item.price_minor, item.currency),
            };
            shelves.push_str(&format!(
                "<li class=\"card\" data-external-id=\"{}\"><span class=\"cat\">{}</span>\
                 <strong>{}</strong><span class=\"brand\">{}</span><span class=\"price\">{}</span></li>",
                escape(&item.external_id),
                escape(&item.category),
                escape(&item.title),
                escape(item.brand.as_deref().unwrap_or("")),
                escape(&price),
            ));
        }
        shelves.push_str("</ul></section>");
    }
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name} — AgentPay demo store</title><style>{STYLE}</style></head><body>\
         <header><h1>{name}</h1><p>The AgentPay demo store: {count} products, an AI shopping \
         assistant, checkout and payment, all offline. Open the chat (bottom right) and ask \
         \"show me rain jackets\", add one to your cart and check out.</p></header>\
         <main>{shelves}</main>\
         <footer>Payments here are simulated: no card and no money involved.</footer>\
         <script src=\"/widget/v1/agentpay.js\" data-publishable-key=\"{key}\" async></script>\
         </body></html>",
        name = escape(NAME),
        count = items.len(),
        key = escape(&state.settings.demo.publishable_key),
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("content-security-policy", CSP))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", "no-referrer"))
        .insert_header(("cache-control", "no-store"))
        .body(body))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f7f7f4}\
header{background:#1f5f4b;color:#fff;padding:1.5rem 2rem}header p{max-width:48rem;margin:.5rem 0 0}\
main{padding:1rem 2rem 6rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}h2 small{color:#666;font-weight:normal}\
.grid{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.75rem}\
.card{background:#fff;border:1px solid #ddd;border-radius:.5rem;padding:.75rem;display:flex;flex-direction:column;gap:.25rem}\
.cat{color:#666;font-size:.75rem}.brand{color:#444;font-size:.85rem}.price{font-weight:600}\
footer{padding:1rem 2rem;color:#555;font-size:.85rem}";
