//! Building and running the server: `Application::build` connects to the database, migrates,
//! binds the listener (recording the real port, so tests bind port 0) and assembles the app;
//! `run_until_stopped` serves until SIGTERM/SIGINT, lets in-flight requests finish within
//! `server.shutdown_timeout_secs`, then closes the pool.

use crate::config::{LoadedConfig, redact_database_url};
use crate::http::extract::BodyLimit;
use crate::http::middleware;
use crate::http::state::AppState;
use crate::metrics::Metrics;
use crate::store::{self, migrations};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::net::TcpListener;
use std::sync::Arc;

/// A built, bound, not yet running server.
pub struct Application {
    /// The port actually bound.
    port: u16,
    /// The actix server future.
    server: Server,
    /// The pool, closed after the server stops.
    pool: PgPool,
}

impl Application {
    /// Connects, checks and migrates the database, binds, and builds the server.
    pub async fn build(config: LoadedConfig) -> anyhow::Result<Self> {
        let settings = Arc::new(config.settings);
        let url = config.secrets.require_database_url()?;
        tracing::info!(database_url = %redact_database_url(url.expose()), "connecting to the database");
        let pool = store::connect(url, &settings.database).await?;
        store::check_vector_available(&pool).await?;
        if settings.database.migrate_on_startup {
            migrations::run(&pool).await?;
        }
        store::check_vector_installed(&pool).await?;
        if !migrations::all_applied(&pool)
            .await
            .context("failed to read the applied migrations")?
        {
            bail!(
                "the database schema is not up to date and database.migrate_on_startup is false: \
                 run `agentpay migrate`"
            );
        }

        let metrics = Arc::new(Metrics::new(settings.database.max_connections)?);
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!(
                    "failed to bind {}:{} (server.host / server.port)",
                    settings.server.host, settings.server.port
                )
            })?;
        let port = listener
            .local_addr()
            .context("failed to read the bound address")?
            .port();
        let public_url = if settings.server.public_url.is_empty() {
            let host = match settings.server.host.as_str() {
                "0.0.0.0" | "::" => "127.0.0.1",
                h => h,
            };
            format!("http://{host}:{port}")
        } else {
            settings.server.public_url.trim_end_matches('/').to_string()
        };
        if config.secrets.admin_token.is_none() {
            tracing::warn!("AGENTPAY_ADMIN_TOKEN is not set: the operator endpoints are disabled");
        }
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings: settings.clone(),
            admin_token_hash: config
                .secrets
                .admin_token
                .as_ref()
                .map(|t| Sha256::digest(t.expose().as_bytes()).into()),
            metrics,
            public_url: public_url.clone(),
        });
        let body_limit = web::Data::new(BodyLimit(settings.server.max_body_bytes));

        // The closure runs once per worker: it only clones handles built above.
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(body_limit.clone())
                .wrap(actix_web::middleware::from_fn(middleware::cors))
                .wrap(actix_web::middleware::from_fn(middleware::observe))
                .configure(crate::http::configure)
        })
        .listen(listener)
        .context("failed to listen")?
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();
        tracing::info!(%public_url, port, "listening");
        Ok(Self { port, server, pool })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server gracefully (tests; signals do the same in production).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped, then closes the database pool.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let result = self.server.await.context("the HTTP server failed");
        tracing::info!("server stopped; closing the database pool");
        self.pool.close().await;
        tracing::info!("shutdown complete");
        result
    }
}
