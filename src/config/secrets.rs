//! Secrets: values read only from the environment (`DATABASE_URL`, `AGENTPAY_ADMIN_TOKEN`, API
//! keys), held in [`Secret`] so they never reach logs, `Debug` output or serialized settings; and
//! [`redact_database_url`] for the one URL that is logged.

use anyhow::anyhow;
use std::collections::BTreeMap;
use std::fmt;

/// A secret value: never shown by `Debug`, `Display` or serialization.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Secrets, read only from the environment.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// `DATABASE_URL`.
    pub database_url: Option<Secret>,
    /// `AGENTPAY_ADMIN_TOKEN`; when unset the operator endpoints refuse every request.
    pub admin_token: Option<Secret>,
    /// `AGENTPAY_METRICS_TOKEN`; when set `/metrics` wants it as a bearer token (Prometheus's
    /// `authorization` scrape setting), when unset `/metrics` is open.
    pub metrics_token: Option<Secret>,
    /// `ANTHROPIC_API_KEY`.
    pub anthropic_api_key: Option<Secret>,
    /// `OPENAI_API_KEY`.
    pub openai_api_key: Option<Secret>,
    /// `OPENAI_COMPATIBLE_API_KEY` (most self-hosted servers want none).
    pub openai_compatible_api_key: Option<Secret>,
    /// `STRIPE_WEBHOOK_SECRET` (`whsec_…`): the signing secret of the Stripe webhook endpoint,
    /// or several separated by commas (a Connect endpoint and an account endpoint, or a
    /// rotation); when unset `POST /v1/webhooks/stripe` answers 503.
    pub stripe_webhook_secret: Option<Secret>,
    /// `STRIPE_SECRET_KEY` (`sk_…`): the platform's Stripe API key, required by
    /// `payments.provider = "stripe"`.
    pub stripe_secret_key: Option<Secret>,
}

impl Secrets {
    /// Reads the secrets from an environment snapshot. Empty values count as unset.
    pub fn from_env(env: &BTreeMap<String, String>) -> Self {
        let get = |k: &str| {
            env.get(k)
                .filter(|v| !v.trim().is_empty())
                .map(|v| Secret::new(v.trim()))
        };
        Self {
            database_url: get("DATABASE_URL"),
            admin_token: get("AGENTPAY_ADMIN_TOKEN"),
            metrics_token: get("AGENTPAY_METRICS_TOKEN"),
            anthropic_api_key: get("ANTHROPIC_API_KEY"),
            openai_api_key: get("OPENAI_API_KEY"),
            openai_compatible_api_key: get("OPENAI_COMPATIBLE_API_KEY"),
            stripe_webhook_secret: get("STRIPE_WEBHOOK_SECRET"),
            stripe_secret_key: get("STRIPE_SECRET_KEY"),
        }
    }

    /// `DATABASE_URL`, or an error that says how to get one.
    pub fn require_database_url(&self) -> anyhow::Result<&Secret> {
        self.database_url.as_ref().ok_or_else(|| {
            anyhow!(
                "DATABASE_URL is not set. Start the local Postgres with `scripts/pg.sh start` \
                 (it prints the URL) or use `scripts/run.sh`, which does it for you"
            )
        })
    }
}

/// A Postgres URL with its password replaced by `***`, for logs.
pub fn redact_database_url(url: &str) -> String {
    // postgres://user:password@host:port/db?params
    let Some(scheme_end) = url.find("://") else {
        return "<unparseable DATABASE_URL>".to_string();
    };
    let after = &url[scheme_end + 3..];
    // Credentials end at the last '@' before the path.
    let authority_end = after.find('/').unwrap_or(after.len());
    let (redacted, tail) = match after[..authority_end].rfind('@') {
        Some(at) => {
            let creds = &after[..at];
            let user = match creds.find(':') {
                Some(colon) => format!("{}:***", &creds[..colon]),
                None => creds.to_string(),
            };
            (user, &after[at..])
        }
        None => (String::new(), after),
    };
    // A password may also travel as a query parameter.
    let tail = match tail.find("password=") {
        Some(i) => {
            let end = tail[i..].find('&').map(|e| i + e).unwrap_or(tail.len());
            format!("{}password=***{}", &tail[..i], &tail[end..])
        }
        None => tail.to_string(),
    };
    format!("{}://{}{}", &url[..scheme_end], redacted, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_redacted() {
        assert_eq!(
            redact_database_url("postgres://app:s3cret@db:5432/agentpay"),
            "postgres://app:***@db:5432/agentpay"
        );
        assert_eq!(
            redact_database_url("postgres://postgres@127.0.0.1:54329/agentpay"),
            "postgres://postgres@127.0.0.1:54329/agentpay"
        );
        assert_eq!(
            redact_database_url("postgres://u@h/db?password=x&sslmode=require"),
            "postgres://u@h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact_database_url("postgres://h/db?password=x"),
            "postgres://h/db?password=***"
        );
        assert_eq!(
            redact_database_url("postgres://u:p%40ss@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
