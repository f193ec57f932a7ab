//! Building and running the server: `Application::build` connects to the database, migrates,
//! binds the listener (recording the real port, so tests bind port 0) and assembles the app;
//! `run_until_stopped` serves until SIGTERM/SIGINT; then every conversation stores its reply in
//! progress as interrupted and closes its WebSockets with 1012, in-flight requests get
//! `server.shutdown_timeout_secs` to finish, and the pool is closed.

use crate::config::{LoadedConfig, redact_database_url};
use crate::http::extract::BodyLimit;
use crate::http::middleware;
use crate::http::state::AppState;
use crate::metrics::Metrics;
use crate::store::{self, migrations};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use agentpay_actors::conversation::ConversationRegistry;
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// A built, bound, not yet running server.
pub struct Application {
    /// The port actually bound.
    port: u16,
    /// The actix server future.
    server: Server,
    /// The pool, closed after the server stops.
    pool: PgPool,
    /// The conversations, shut down before the server stops.
    registry: Arc<ConversationRegistry>,
    /// Deadline for the whole shutdown.
    shutdown_timeout: Duration,
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
        // Singletons start here, once, not in the per-worker closure below.
        let merchants = crate::engine::merchants(&settings, pool.clone(), metrics.clone());
        let commits = metrics.clone();
        let writer = crate::store::writer::Writer::start(
            pool.clone(),
            settings.database.write_lanes,
            settings.database.write_batch_max,
            Arc::new(move |writes| {
                commits.db_write_commits_total.inc();
                commits.db_writes_total.inc_by(writes as u64);
            }),
        );
        let models = crate::engine::Models {
            main: crate::engine::model(
                &settings,
                &config.secrets,
                metrics.clone(),
                crate::llm::Role::Main,
            )?,
            fast: crate::engine::model(
                &settings,
                &config.secrets,
                metrics.clone(),
                crate::llm::Role::Fast,
            )?,
        };
        let metering = Arc::new(crate::metering::PgMetering::new(
            pool.clone(),
            &settings.llm.prices,
        ));
        if settings.embeddings.provider == crate::config::EmbeddingProvider::E5 {
            crate::embed::check_e5(&settings).await?;
        }
        let embedder = crate::embed::build(
            &settings,
            &config.secrets,
            Some(metrics.catalog_query_cache_total.clone()),
        )?;
        if settings.demo.enabled {
            crate::demo::seed(&pool, &settings, embedder.as_deref())
                .await
                .context("could not set up the demo store (demo.enabled)")?;
        }
        let indexer = embedder.as_ref().map(|e| {
            crate::catalog::indexer::spawn(
                pool.clone(),
                e.clone(),
                settings.embeddings.batch_size,
                std::time::Duration::from_millis(settings.embeddings.index_interval_ms),
                metrics.clone(),
            )
        });
        let catalog = crate::catalog::search::PgCatalogSearch::new(
            pool.clone(),
            embedder,
            &settings.catalog,
            Some(metrics.clone()),
        );
        let limits = crate::http::limits::Limits::start(&settings.rate_limit, metrics.clone());
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
        let pricing = crate::engine::pricing(&settings, Arc::new(catalog.clone()), metrics.clone());
        let payments = crate::payments::build(
            &settings,
            &config.secrets,
            pool.clone(),
            &public_url,
            metrics.clone(),
        )?;
        let hooks = Arc::new(crate::payments::EdgeHooks::default());
        let checkouts =
            crate::engine::checkouts(payments.gateway.clone(), hooks.clone(), metrics.clone());
        let registry = crate::engine::registry(
            &settings,
            crate::engine::EngineParts {
                pool: pool.clone(),
                writer: writer.clone(),
                models,
                metering,
                catalog: Arc::new(catalog.clone()),
                pricing: pricing.clone(),
                metrics: metrics.clone(),
                merchants: merchants.clone(),
                payments: checkouts
                    .clone()
                    .map(|c| c as Arc<dyn agentpay_actors::ports::PaymentGateway>),
            },
        );
        if config.secrets.admin_token.is_none() {
            tracing::warn!("AGENTPAY_ADMIN_TOKEN is not set: the operator endpoints are disabled");
        }
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings: settings.clone(),
            admin_token_hash: digest(config.secrets.admin_token.as_ref()),
            metrics_token_hash: digest(config.secrets.metrics_token.as_ref()),
            metrics,
            public_url: public_url.clone(),
            registry: registry.clone(),
            merchants,
            limits,
            in_flight: Default::default(),
            key_cache: Default::default(),
            writer,
            catalog,
            indexer,
            stripe_webhook_secret: config.secrets.stripe_webhook_secret.clone(),
            stripe: payments.stripe.clone(),
            checkouts,
            pricing,
            simulated_webhook_secret: {
                let mut buf = [0u8; 32];
                getrandom::fill(&mut buf)
                    .map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
                let hex: String = buf.iter().map(|b| format!("{b:02x}")).collect();
                format!("whsec_sim_{hex}")
            },
        });
        hooks.attach(&state);
        if settings.privacy.retention_days > 0 {
            let pool = state.pool.clone();
            let days = settings.privacy.retention_days;
            let every = std::time::Duration::from_secs(settings.privacy.sweep_interval_secs);
            actix_web::rt::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    sweep_inactive(&pool, days).await;
                }
            });
        }
        if settings.payments.provider == crate::config::PaymentProvider::Simulated {
            // The simulated provider's pages expire on time (Stripe sends its own events).
            let sweeper = state.clone();
            actix_web::rt::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
                loop {
                    tick.tick().await;
                    if let Err(e) = crate::http::routes::checkout::expire_due(&sweeper).await {
                        tracing::warn!(error = %e, "could not expire payment pages");
                    }
                }
            });
        }
        let body_limit = web::Data::new(BodyLimit(settings.server.max_body_bytes));

        // The closure runs once per worker: it only clones handles built above.
        let send_buffer = settings.server.socket_send_buffer_bytes;
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(body_limit.clone())
                // Every response: no MIME sniffing, no referrer, never framed. Pages set their
                // own Content-Security-Policy (the demo store, the payment page).
                .wrap(
                    actix_web::middleware::DefaultHeaders::new()
                        .add(("x-content-type-options", "nosniff"))
                        .add(("referrer-policy", "no-referrer"))
                        .add(("x-frame-options", "DENY")),
                )
                .wrap(actix_web::middleware::from_fn(
                    middleware::refuse_nul_in_query,
                ))
                .wrap(actix_web::middleware::from_fn(middleware::shed))
                .wrap(actix_web::middleware::from_fn(middleware::cors))
                .wrap(actix_web::middleware::from_fn(middleware::observe))
                .configure(crate::http::configure)
        })
        .on_connect(move |conn, _| {
            if send_buffer == 0 {
                return;
            }
            if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>()
                && let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(send_buffer)
            {
                tracing::warn!(error = %e, "could not set SO_SNDBUF");
            }
        })
        // Deltas are small frames that must leave at once: no Nagle delay behind an unacked one.
        .tcp_nodelay(true)
        .listen(listener)
        .context("failed to listen")?
        // Signals are handled in `run_until_stopped`: conversations must shut down first.
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();
        tracing::info!(%public_url, port, "listening");
        Ok(Self {
            port,
            server,
            pool,
            registry,
            shutdown_timeout: Duration::from_secs(settings.server.shutdown_timeout_secs),
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server gracefully (tests; signals do the same in production).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT (or a stop through [`Application::handle`]), shuts down
    /// gracefully, then closes the database pool.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        let result = tokio::select! {
            res = &mut server => res.context("the HTTP server failed"),
            signal = shutdown_signal() => {
                tracing::info!(signal, "shutting down: closing conversations");
                self.registry.shutdown_all(self.shutdown_timeout).await;
                tracing::info!("conversations closed; stopping the HTTP server");
                // The server future must keep being polled while it stops.
                let (res, ()) = tokio::join!(&mut server, handle.stop(true));
                res.context("the HTTP server failed")
            }
        };
        tracing::info!("server stopped; closing the database pool");
        self.pool.close().await;
        tracing::info!("shutdown complete");
        result
    }
}

/// Resolves with the signal's name on SIGTERM or SIGINT.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            _ => {
                tracing::error!("could not install signal handlers; stop the process with SIGKILL");
                std::future::pending().await
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "ctrl-c"
    }
}

/// Deletes the conversations inactive for longer than `days` (`privacy.retention_days`), a
/// thousand at a time so no statement holds many locks.
async fn sweep_inactive(pool: &sqlx::PgPool, days: u32) {
    let mut total = 0;
    loop {
        match crate::store::privacy::erase_inactive(pool, days, 1000).await {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) => {
                tracing::warn!(error = %e, "the retention sweep failed; retrying at the next one");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(
            conversations = total,
            days,
            "retention sweep deleted inactive conversations"
        );
    }
}

/// The SHA-256 of a token, the only form of it the server keeps after start-up.
fn digest(token: Option<&crate::config::Secret>) -> Option<[u8; 32]> {
    token.map(|t| Sha256::digest(t.expose().as_bytes()).into())
}
