//! Configuration: typed settings, loaded in layers, validated at startup.
//!
//! Precedence (later wins):
//! 1. `config/default.toml`, compiled into the binary, so every key has a default that matches
//!    the code;
//! 2. `{config_dir}/{env}.toml`, where `env` is `AGENTPAY_ENV` (`development` by default, `test`,
//!    `production`) and `config_dir` is `--config-dir` / `AGENTPAY_CONFIG_DIR`, falling back to
//!    the source tree's `config/` folder when it exists (never the working directory);
//! 3. environment variables `AGENTPAY__SECTION__KEY` (for example `AGENTPAY__SERVER__PORT=8081`).
//!
//! Every key of every layer is checked against `default.toml`: an unknown key stops startup with
//! a message naming the key and where it came from. Secrets (`DATABASE_URL`,
//! `AGENTPAY_ADMIN_TOKEN`) are read only from the environment, held in [`Secret`], and never
//! printed.
//!
//! Map:
//! - this file: the layering (`Settings::load`), `Environment`, `LoadOptions`, `LoadedConfig`;
//! - `settings`: the typed `[section]` structs that make up [`Settings`];
//! - `validate`: the checks serde cannot make (ranges, relations between keys);
//! - `secrets`: [`Secret`], [`Secrets`] and [`redact_database_url`].

mod secrets;
mod settings;
mod validate;

pub use secrets::{Secret, Secrets, redact_database_url};
pub use settings::*;

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Value;

/// The compiled-in defaults: every key the settings accept.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// Prefix of environment variables that override configuration keys.
const ENV_PREFIX: &str = "AGENTPAY__";

/// Which deployment this process is: selects the `{env}.toml` layer and log defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine (the default).
    Development,
    /// The black-box test suite.
    Test,
    /// A deployed server.
    Production,
}

impl Environment {
    /// Reads `AGENTPAY_ENV`; unset means development.
    pub fn from_value(value: Option<&str>) -> anyhow::Result<Self> {
        match value.map(str::trim) {
            None | Some("") | Some("development") | Some("dev") => Ok(Self::Development),
            Some("test") => Ok(Self::Test),
            Some("production") | Some("prod") => Ok(Self::Production),
            Some(other) => bail!(
                "AGENTPAY_ENV={other:?} is not valid: expected development, test or production"
            ),
        }
    }

    /// The file name of this environment's layer.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// Where the configuration came from, for the startup log.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The typed settings.
    pub settings: Settings,
    /// Secrets from the environment.
    pub secrets: Secrets,
    /// The environment selected by `AGENTPAY_ENV`.
    pub environment: Environment,
    /// Layers applied, in order, for the startup log.
    pub sources: Vec<String>,
}

/// Inputs of [`Settings::load`]: an explicit environment snapshot, so tests never race on the
/// process environment.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The environment variables to read (usually `std::env::vars()`).
    pub env: BTreeMap<String, String>,
    /// `--config-dir`, which wins over `AGENTPAY_CONFIG_DIR`.
    pub config_dir: Option<PathBuf>,
}

impl LoadOptions {
    /// Options from the real process environment.
    pub fn from_process(config_dir: Option<PathBuf>) -> Self {
        Self {
            env: std::env::vars().collect(),
            config_dir,
        }
    }
}

/// The config folder of the source tree, used when neither `--config-dir` nor
/// `AGENTPAY_CONFIG_DIR` is given. Compiled in, so it never depends on the working directory.
fn source_config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

impl Settings {
    /// Loads and validates the settings (precedence in the module docs).
    pub fn load(opts: &LoadOptions) -> anyhow::Result<LoadedConfig> {
        let environment =
            Environment::from_value(opts.env.get("AGENTPAY_ENV").map(String::as_str))?;
        let defaults: Value = toml::from_str(DEFAULT_TOML).context("built-in default.toml")?;
        let mut merged = defaults.clone();
        let mut sources = vec!["built-in default.toml".to_string()];

        let explicit_dir = opts
            .config_dir
            .clone()
            .or_else(|| opts.env.get("AGENTPAY_CONFIG_DIR").map(PathBuf::from));
        let dir = explicit_dir.clone().unwrap_or_else(source_config_dir);
        if explicit_dir.is_some() && !dir.is_dir() {
            bail!("config folder {} does not exist", dir.display());
        }
        let file = dir.join(format!("{}.toml", environment.as_str()));
        if file.is_file() {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("failed to read {}", file.display()))?;
            let layer: Value = toml::from_str(&text)
                .map_err(|e| anyhow!("{} is not valid TOML: {e}", file.display()))?;
            check_known_keys(&defaults, &layer, "", &file.display().to_string())?;
            merge(&mut merged, layer);
            sources.push(file.display().to_string());
        }

        let mut env_keys: Vec<_> = opts
            .env
            .iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        env_keys.sort();
        for (name, raw) in env_keys {
            apply_env_override(&defaults, &mut merged, name, raw)?;
            sources.push(format!("env {name}"));
        }

        let de = merged;
        let settings: Settings = serde_path_to_error::deserialize(de)
            .map_err(|e| anyhow!("configuration key `{}` is invalid: {}", e.path(), e.inner()))?;
        settings.validate()?;
        if settings.conversation.fault_injection && environment == Environment::Production {
            bail!(
                "configuration key `conversation.fault_injection` is for tests and must not be \
                 true in production"
            );
        }
        Ok(LoadedConfig {
            settings,
            secrets: Secrets::from_env(&opts.env),
            environment,
            sources,
        })
    }
}

/// Fails on any key of `layer` that `defaults` does not have.
fn check_known_keys(
    defaults: &Value,
    layer: &Value,
    prefix: &str,
    origin: &str,
) -> anyhow::Result<()> {
    let (Value::Table(known), Value::Table(given)) = (defaults, layer) else {
        return Ok(());
    };
    for (key, value) in given {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match known.get(key) {
            None => bail!("unknown configuration key `{path}` in {origin}"),
            Some(Value::Table(_)) if !value.is_table() => {
                bail!("configuration key `{path}` in {origin} must be a table")
            }
            Some(sub) => check_known_keys(sub, value, &path, origin)?,
        }
    }
    Ok(())
}

/// Deep-merges `layer` into `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut Value, layer: Value) {
    match (base, layer) {
        (Value::Table(b), Value::Table(l)) => {
            for (k, v) in l {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_table() && v.is_table() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, l) => *b = l,
    }
}

/// Applies one `AGENTPAY__SECTION__KEY=value`. The value is parsed as the type of the key's
/// default (integer, float, bool, string, or array as TOML), so `AGENTPAY__SERVER__PORT=8081` is
/// a number and a string key keeps digits as text.
fn apply_env_override(
    defaults: &Value,
    merged: &mut Value,
    name: &str,
    raw: &str,
) -> anyhow::Result<()> {
    let rest = &name[ENV_PREFIX.len()..];
    let parts: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
    let path = parts.join(".");
    if parts.iter().any(String::is_empty) {
        bail!(
            "environment variable {name} does not name a configuration key (expected AGENTPAY__SECTION__KEY)"
        );
    }
    let mut default = defaults;
    for p in &parts {
        default = default.get(p.as_str()).ok_or_else(|| {
            anyhow!("unknown configuration key `{path}` in environment variable {name}")
        })?;
    }
    let value = match default {
        Value::Table(_) => {
            bail!("environment variable {name} names the section `{path}`, not a key")
        }
        Value::String(_) => Value::String(raw.to_string()),
        Value::Integer(_) => Value::Integer(raw.trim().parse().map_err(|_| {
            anyhow!("configuration key `{path}` (from {name}) must be an integer, got {raw:?}")
        })?),
        Value::Float(_) => Value::Float(raw.trim().parse().map_err(|_| {
            anyhow!("configuration key `{path}` (from {name}) must be a number, got {raw:?}")
        })?),
        Value::Boolean(_) => Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => {
                bail!("configuration key `{path}` (from {name}) must be true or false, got {raw:?}")
            }
        }),
        Value::Array(_) => {
            let doc: toml::Table = toml::from_str(&format!("v = {raw}")).map_err(|_| {
                anyhow!("configuration key `{path}` (from {name}) must be a TOML array such as [\"a\", \"b\"], got {raw:?}")
            })?;
            doc.get("v").cloned().unwrap_or(Value::Array(vec![]))
        }
        Value::Datetime(_) => Value::String(raw.to_string()),
    };
    let mut target = merged;
    for (i, p) in parts.iter().enumerate() {
        let Value::Table(t) = target else {
            bail!("configuration key `{path}` cannot be set");
        };
        if i == parts.len() - 1 {
            t.insert(p.clone(), value);
            break;
        }
        target = t
            .entry(p.clone())
            .or_insert_with(|| Value::Table(Default::default()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> LoadOptions {
        LoadOptions {
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            config_dir: None,
        }
    }

    #[test]
    fn defaults_load_and_validate() {
        let c = Settings::load(&opts(&[])).unwrap();
        assert_eq!(c.settings.server.port, 8080);
        assert_eq!(c.environment, Environment::Development);
    }

    #[test]
    fn an_environment_variable_overrides_a_key_with_its_type() {
        let c = Settings::load(&opts(&[
            ("AGENTPAY__SERVER__PORT", "8181"),
            ("AGENTPAY__DATABASE__MIGRATE_ON_STARTUP", "false"),
            ("AGENTPAY__SERVER__HOST", "0.0.0.0"),
        ]))
        .unwrap();
        assert_eq!(c.settings.server.port, 8181);
        assert!(!c.settings.database.migrate_on_startup);
        assert_eq!(c.settings.server.host, "0.0.0.0");
    }

    #[test]
    fn a_misspelled_environment_key_is_refused_by_name() {
        let err = Settings::load(&opts(&[("AGENTPAY__SERVER__PROT", "1")])).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("server.prot"), "{msg}");
        assert!(msg.contains("AGENTPAY__SERVER__PROT"), "{msg}");
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = Settings::load(&opts(&[("AGENTPAY__SERVER__PORT", "eighty")])).unwrap_err();
        assert!(err.to_string().contains("server.port"), "{err}");
        let err = Settings::load(&opts(&[("AGENTPAY__LOG__FORMAT", "xml")])).unwrap_err();
        assert!(err.to_string().contains("log.format"), "{err}");
        let err = Settings::load(&opts(&[("AGENTPAY__SERVER__PORT", "70000")])).unwrap_err();
        assert!(err.to_string().contains("server.port"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_a_file_names_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("test.toml"), "[server]\nprot = 1\n").unwrap();
        let mut o = opts(&[("AGENTPAY_ENV", "test")]);
        o.config_dir = Some(dir.path().to_path_buf());
        let err = Settings::load(&o).unwrap_err().to_string();
        assert!(
            err.contains("server.prot") && err.contains("test.toml"),
            "{err}"
        );
    }

    #[test]
    fn the_environment_layer_file_applies() {
        let c = Settings::load(&opts(&[("AGENTPAY_ENV", "test")])).unwrap();
        assert_eq!(c.settings.server.port, 0);
        let c = Settings::load(&opts(&[("AGENTPAY_ENV", "production")])).unwrap();
        assert_eq!(c.settings.log.format, LogFormat::Json);
    }

    #[test]
    fn test_only_fault_injection_is_refused_in_production() {
        let on = ("AGENTPAY__CONVERSATION__FAULT_INJECTION", "true");
        let err = Settings::load(&opts(&[("AGENTPAY_ENV", "production"), on]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("conversation.fault_injection"), "{err}");
        assert!(Settings::load(&opts(&[("AGENTPAY_ENV", "test"), on])).is_ok());
    }

    #[test]
    fn min_connections_above_max_is_refused() {
        let err =
            Settings::load(&opts(&[("AGENTPAY__DATABASE__MIN_CONNECTIONS", "99")])).unwrap_err();
        assert!(
            err.to_string().contains("database.min_connections"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let c = Settings::load(&opts(&[
            ("DATABASE_URL", "postgres://u:hunter2@h/db"),
            ("AGENTPAY_ADMIN_TOKEN", "tok-very-secret"),
        ]))
        .unwrap();
        let dbg = format!("{:?}", c);
        assert!(
            !dbg.contains("hunter2") && !dbg.contains("tok-very-secret"),
            "{dbg}"
        );
        assert!(!c.settings.to_toml().contains("hunter2"));
    }
}
