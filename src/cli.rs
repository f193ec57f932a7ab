//! The `agentpay` command line: `serve` (default), `migrate`, `merchant …`, `config`.

use crate::config::{LoadOptions, LoadedConfig, Settings, redact_database_url};
use crate::merchants::{self, KeyKind, NewMerchant};
use crate::startup::Application;
use crate::{store, telemetry};
use agentpay_actors::MerchantId;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// AgentPay engine: conversational commerce for merchant stores.
#[derive(Debug, Parser)]
#[command(name = "agentpay", version, about)]
pub struct Cli {
    /// Folder holding `{AGENTPAY_ENV}.toml` overrides (default: the source tree's config/).
    #[arg(long, global = true, env = "AGENTPAY_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrating first unless database.migrate_on_startup = false).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the effective configuration (secrets redacted) and exit.
    Config,
    /// Manage merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Import a catalog file (CSV, JSON array or lines, Polar export) into a merchant's catalog.
    Import(ImportArgs),
    /// Evaluate things against labelled data.
    #[command(subcommand)]
    Eval(EvalCommand),
}

/// `agentpay import`
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The merchant's id.
    #[arg(long)]
    pub merchant: MerchantId,
    /// `csv`, `json` or `polar` (default: from the file's extension).
    #[arg(long)]
    pub format: Option<String>,
    /// `atomic` (nothing is written if any row is rejected) or `partial` (good rows are written).
    #[arg(long, default_value = "atomic")]
    pub policy: String,
    /// Also embed the imported products now (otherwise a running server's indexer does it).
    #[arg(long)]
    pub embed: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The file.
    pub file: PathBuf,
}

/// `agentpay eval …`
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Intent understanding: accuracy, per-label precision/recall/F1, per-language accuracy and
    /// the confusion matrix over JSON Lines of `{"text": "...", "intent": "<label>"}` (a `lang`
    /// field feeds the per-language table). Offline; needs no database.
    Intents {
        /// Print one JSON object (`accuracy`, `per_label`, `per_language`, `confusion`, …).
        #[arg(long)]
        json: bool,
        /// Let the configured `fast` model decide the messages the understanding is unsure of
        /// (`agent.intent_threshold`), as conversations do.
        #[arg(long)]
        with_model: bool,
        /// The labelled files (their messages are evaluated together).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Search relevance: nDCG@10, recall@10 and MRR over labelled queries (JSON Lines of
    /// `{"query": "...", "relevant": {"<external_id>": 0-3}}`).
    Search {
        /// The merchant whose catalog is searched.
        #[arg(long)]
        merchant: MerchantId,
        /// `hybrid`, `vector`, `text`, or `all` to compare the three.
        #[arg(long, default_value = "all")]
        mode: String,
        /// Print JSON (with per-query scores) instead of a table.
        #[arg(long)]
        json: bool,
        /// The labelled queries.
        queries: PathBuf,
    },
    /// Recall@k of the approximate (HNSW) vector stage against an exact scan, and the time of
    /// each, for the queries of a file (JSON Lines with `query`, or one query per line).
    Recall {
        /// The merchant whose catalog is searched.
        #[arg(long)]
        merchant: MerchantId,
        /// Results compared per query.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// The queries.
        queries: PathBuf,
    },
}

/// `agentpay merchant …`
#[derive(Debug, Subcommand)]
pub enum MerchantCommand {
    /// Create a merchant and print its secret and publishable keys (shown once).
    Create {
        /// The store's name.
        #[arg(long)]
        name: String,
        /// ISO 4217 currency code.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Browser origin allowed to use the publishable key (repeatable), e.g. https://shop.example
        #[arg(long = "origin")]
        origins: Vec<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List merchants.
    List,
    /// Issue a new key for a merchant (recovery when its keys are lost).
    IssueKey {
        /// The merchant's id.
        #[arg(long)]
        merchant: MerchantId,
        /// `secret` or `publishable`.
        #[arg(long, value_parser = parse_kind)]
        kind: KeyKind,
    },
}

fn parse_kind(s: &str) -> Result<KeyKind, String> {
    match s {
        "secret" => Ok(KeyKind::Secret),
        "publishable" => Ok(KeyKind::Publishable),
        _ => Err("expected `secret` or `publishable`".into()),
    }
}

fn load(cli: &Cli) -> anyhow::Result<LoadedConfig> {
    let config = Settings::load(&LoadOptions::from_process(cli.config_dir.clone()))?;
    telemetry::init(&config.settings.log);
    Ok(config)
}

fn log_config(config: &LoadedConfig) {
    tracing::info!(
        environment = config.environment.as_str(),
        sources = ?config.sources,
        database_url = %config.secrets.database_url.as_ref().map(|u| redact_database_url(u.expose())).unwrap_or_else(|| "<unset>".into()),
        admin_token = if config.secrets.admin_token.is_some() { "<set>" } else { "<unset>" },
        anthropic_api_key = if config.secrets.anthropic_api_key.is_some() { "<set>" } else { "<unset>" },
        openai_api_key = if config.secrets.openai_api_key.is_some() { "<set>" } else { "<unset>" },
        "configuration loaded:\n{}",
        config.settings.to_toml()
    );
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None | Some(Command::Serve) => {
            let config = load(&cli)?;
            log_config(&config);
            let app = Application::build(config).await?;
            app.run_until_stopped().await
        }
        Some(Command::Config) => {
            let config = Settings::load(&LoadOptions::from_process(cli.config_dir.clone()))?;
            println!("# environment: {}", config.environment.as_str());
            println!("# layers: {}", config.sources.join(", "));
            println!(
                "# DATABASE_URL: {}",
                config
                    .secrets
                    .database_url
                    .as_ref()
                    .map(|u| redact_database_url(u.expose()))
                    .unwrap_or_else(|| "<unset>".into())
            );
            let set =
                |s: &Option<crate::config::Secret>| if s.is_some() { "<set>" } else { "<unset>" };
            println!(
                "# AGENTPAY_ADMIN_TOKEN: {}",
                set(&config.secrets.admin_token)
            );
            println!(
                "# ANTHROPIC_API_KEY: {}",
                set(&config.secrets.anthropic_api_key)
            );
            println!("# OPENAI_API_KEY: {}", set(&config.secrets.openai_api_key));
            print!("{}", config.settings.to_toml());
            Ok(())
        }
        Some(Command::Migrate) => {
            let config = load(&cli)?;
            let pool = connect(&config).await?;
            store::check_vector_available(&pool).await?;
            store::migrations::run(&pool).await?;
            println!("migrations applied");
            Ok(())
        }
        Some(Command::Import(ref args)) => {
            let config = load(&cli)?;
            let pool = connect(&config).await?;
            ensure_migrated(&pool).await?;
            crate::catalog::cli::import(&pool, &config, args).await
        }
        Some(Command::Eval(EvalCommand::Intents {
            json,
            with_model,
            ref files,
        })) => {
            let config = load(&cli)?;
            eval_intents(&config, files, json, with_model).await
        }
        Some(Command::Eval(ref cmd)) => {
            let config = load(&cli)?;
            let pool = connect(&config).await?;
            ensure_migrated(&pool).await?;
            crate::catalog::cli::eval(&pool, &config, cmd).await
        }
        Some(Command::Merchant(ref cmd)) => {
            let config = load(&cli)?;
            let pool = connect(&config).await?;
            if !store::migrations::all_applied(&pool).await? {
                anyhow::bail!("the database is not migrated: run `agentpay migrate` first");
            }
            merchant_command(&pool, cmd).await
        }
    }
}

async fn ensure_migrated(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    if !store::migrations::all_applied(pool).await? {
        anyhow::bail!("the database is not migrated: run `agentpay migrate` first");
    }
    Ok(())
}

async fn connect(config: &LoadedConfig) -> anyhow::Result<sqlx::PgPool> {
    let url = config.secrets.require_database_url()?;
    store::connect(url, &config.settings.database).await
}

async fn merchant_command(pool: &sqlx::PgPool, cmd: &MerchantCommand) -> anyhow::Result<()> {
    match cmd {
        MerchantCommand::Create {
            name,
            currency,
            origins,
            json,
        } => {
            let created = merchants::create(
                pool,
                NewMerchant {
                    name: name.clone(),
                    currency: currency.clone(),
                    allowed_origins: origins.clone(),
                },
            )
            .await
            .context("failed to create the merchant")?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&created)?);
            } else {
                let m = &created.merchant;
                println!("merchant created");
                println!("  id:              {}", m.id);
                println!("  name:            {}", m.name);
                println!("  currency:        {}", m.currency);
                println!(
                    "  allowed origins: {}",
                    if m.allowed_origins.is_empty() {
                        "(any)".to_string()
                    } else {
                        m.allowed_origins.join(", ")
                    }
                );
                println!("  secret key:      {}", created.secret_key.key);
                println!("  publishable key: {}", created.publishable_key.key);
                println!("The keys are shown only now; store them safely.");
            }
            Ok(())
        }
        MerchantCommand::List => {
            for m in store::merchants::list(pool, 1000).await? {
                println!(
                    "{}  {}  {}  {}",
                    m.id,
                    m.currency,
                    m.created_at.format("%Y-%m-%d"),
                    m.name
                );
            }
            Ok(())
        }
        MerchantCommand::IssueKey { merchant, kind } => {
            let issued = merchants::issue_key(pool, *merchant, *kind, Some("cli".into()))
                .await
                .map_err(|e| match e {
                    merchants::MerchantError::Store(store::StoreError::NotFound) => {
                        anyhow::anyhow!("no merchant with id {merchant}")
                    }
                    other => anyhow::Error::new(other),
                })?;
            println!("{}", issued.key);
            Ok(())
        }
    }
}

/// `agentpay eval intents`.
async fn eval_intents(
    config: &LoadedConfig,
    files: &[PathBuf],
    json: bool,
    with_model: bool,
) -> anyhow::Result<()> {
    let set = crate::intents::read_sets(files)?;
    let understander = agentpay_actors::understanding::Understander::shared();
    let settings = &config.settings;
    let classifier = if with_model {
        if !crate::llm::is_real(&settings.llm, crate::llm::Role::Fast) {
            anyhow::bail!(
                "--with-model needs a real model for the fast role (llm.provider, llm.chain or \
                 llm.fast_chain other than \"simulated\")"
            );
        }
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::new(
            settings.database.max_connections,
        )?);
        Some(crate::engine::model(
            settings,
            &config.secrets,
            metrics,
            crate::llm::Role::Fast,
        )?)
    } else {
        None
    };
    let report = crate::intents::evaluate(
        &understander,
        &set,
        classifier.as_deref(),
        settings.agent.intent_threshold,
    )
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::intents::table(&report));
    }
    Ok(())
}
