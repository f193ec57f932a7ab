//! Merchants and their API keys: the core rules shared by the HTTP API and the CLI.
//!
//! A merchant has secret keys (`sk_…`, full access to its own data, server-side only) and
//! publishable keys (`pk_…`, safe in a browser, limited to the widget endpoints and to the
//! merchant's allowed origins). Keys are random (190 bits), shown once, and stored as SHA-256
//! digests: a leaked database does not leak usable keys. A fast hash is enough because the keys
//! are high-entropy random strings, not passwords (see docs/decisions/0003-api-keys.md).

use crate::store::{self, StoreError};
use agentpay_actors::{ApiKeyId, Currency, MerchantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// Longest merchant name accepted.
pub const MAX_NAME_CHARS: usize = 200;
/// Most allowed origins per merchant.
pub const MAX_ORIGINS: usize = 50;
/// Random characters in a key after its `sk_`/`pk_` prefix (base62: 32 chars ≈ 190 bits).
const KEY_RANDOM_CHARS: usize = 32;

/// A merchant as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Merchant {
    /// Its id.
    pub id: MerchantId,
    /// Display name (the store's name).
    pub name: String,
    /// Default currency of its catalog and checkouts.
    pub currency: Currency,
    /// Browser origins allowed to use its publishable keys.
    pub allowed_origins: Vec<String>,
    /// Language of its catalog's full-text search (a Postgres text search configuration).
    pub catalog_language: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// `sk_…`: the merchant's server-side key.
    Secret,
    /// `pk_…`: the widget's key, public by design.
    Publishable,
}

impl KeyKind {
    /// The text prefix of keys of this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Secret => "sk_",
            Self::Publishable => "pk_",
        }
    }

    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Publishable => "publishable",
        }
    }

    /// Parses the database spelling.
    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "secret" => Some(Self::Secret),
            "publishable" => Some(Self::Publishable),
            _ => None,
        }
    }

    /// The kind a presented key claims by its prefix.
    pub fn of_key(key: &str) -> Option<Self> {
        if key.starts_with("sk_") {
            Some(Self::Secret)
        } else if key.starts_with("pk_") {
            Some(Self::Publishable)
        } else {
            None
        }
    }
}

/// An API key's metadata (never the key itself).
#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyInfo {
    /// Its id, used to revoke it.
    pub id: ApiKeyId,
    /// Secret or publishable.
    pub kind: KeyKind,
    /// The first characters, to recognise it.
    pub prefix: String,
    /// Optional operator label ("ci", "storefront").
    pub label: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Set once revoked; a revoked key is refused everywhere.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A newly created key: the plain text exists only in this value.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedKey {
    /// Metadata as stored.
    #[serde(flatten)]
    pub info: ApiKeyInfo,
    /// The key itself, shown once.
    pub key: String,
}

/// A key presented by a caller, generated or parsed, with its digest.
pub struct KeyMaterial {
    /// The plain key.
    pub plain: String,
    /// Its first characters.
    pub prefix: String,
    /// SHA-256 of the plain key.
    pub hash: [u8; 32],
}

/// SHA-256 of a key, the only form stored.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A fresh random key of the given kind.
pub fn generate_key(kind: KeyKind) -> anyhow::Result<KeyMaterial> {
    generate_token(kind.prefix())
}

/// A fresh random token: `prefix` + 32 base62 characters (≈190 bits), with its digest.
pub fn generate_token(prefix: &str) -> anyhow::Result<KeyMaterial> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut plain = String::from(prefix);
    let want = prefix.len() + KEY_RANDOM_CHARS;
    let mut buf = [0u8; 64];
    while plain.len() < want {
        getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        // Rejection sampling keeps the alphabet uniform: 248 = 4 * 62.
        for b in buf.iter().filter(|b| **b < 248) {
            if plain.len() == want {
                break;
            }
            plain.push(char::from(ALPHABET[usize::from(*b % 62)]));
        }
    }
    Ok(KeyMaterial {
        prefix: plain[..(prefix.len() + 6).min(plain.len())].to_string(),
        hash: hash_key(&plain),
        plain,
    })
}

/// A rule a request broke, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The field, as named in the request (`allowed_origins[2]`).
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl ValidationError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Errors of merchant operations.
#[derive(Debug, thiserror::Error)]
pub enum MerchantError {
    /// The input broke a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Storage failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else (randomness unavailable).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Checks and normalises a merchant name.
pub fn validate_name(name: &str) -> Result<String, ValidationError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ValidationError::new("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ValidationError::new(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

/// Parses a currency field.
pub fn validate_currency(code: &str) -> Result<Currency, ValidationError> {
    code.parse().map_err(|e: agentpay_actors::CurrencyError| {
        ValidationError::new("currency", e.to_string())
    })
}

/// Checks and normalises browser origins: `scheme://host[:port]`, http or https, no path.
pub fn validate_origins(origins: &[String]) -> Result<Vec<String>, ValidationError> {
    if origins.len() > MAX_ORIGINS {
        return Err(ValidationError::new(
            "allowed_origins",
            format!("at most {MAX_ORIGINS} origins"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(origins.len());
    for (i, raw) in origins.iter().enumerate() {
        let field = format!("allowed_origins[{i}]");
        let o = normalize_origin(raw).ok_or_else(|| {
            ValidationError::new(
                &field,
                format!("{raw:?} is not an origin; expected scheme://host[:port], e.g. https://shop.example"),
            )
        })?;
        if !out.contains(&o) {
            out.push(o);
        }
    }
    Ok(out)
}

/// `https://Shop.Example:443/` → `https://shop.example:443`; `None` if it is not an origin.
pub fn normalize_origin(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.len() > 255 {
        return None;
    }
    let (scheme, rest) = raw.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let (host, port) = if let Some(after) = rest.strip_prefix('[') {
        let (h, p) = after.split_once(']')?;
        (format!("[{h}]"), p)
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), &rest[h.len()..][..p.len() + 1]),
            None => (rest.to_string(), ""),
        }
    };
    if host.is_empty() {
        return None;
    }
    let host_ok = host.starts_with('[')
        || host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !host_ok {
        return None;
    }
    if !port.is_empty() {
        let digits = port.strip_prefix(':')?;
        if digits.is_empty() || digits.parse::<u16>().is_err() {
            return None;
        }
    }
    Some(format!("{scheme}://{}{port}", host.to_ascii_lowercase()))
}

/// A request to create a merchant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMerchant {
    /// Display name.
    pub name: String,
    /// ISO 4217 code; defaults to USD.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Allowed browser origins.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

fn default_currency() -> String {
    "USD".to_string()
}

/// A partial update of a merchant; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantPatch {
    /// New name.
    pub name: Option<String>,
    /// New currency.
    pub currency: Option<String>,
    /// New origins (replaces the list).
    pub allowed_origins: Option<Vec<String>>,
    /// New catalog language (`english`, `french`, `german`, `spanish`, `simple`, ...).
    pub catalog_language: Option<String>,
}

/// A created merchant with its first keys, each shown once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedMerchant {
    /// The merchant.
    pub merchant: Merchant,
    /// Its first secret key.
    pub secret_key: IssuedKey,
    /// Its first publishable key.
    pub publishable_key: IssuedKey,
}

/// Creates a merchant with one secret and one publishable key.
pub async fn create(pool: &PgPool, req: NewMerchant) -> Result<CreatedMerchant, MerchantError> {
    let name = validate_name(&req.name)?;
    let currency = validate_currency(&req.currency)?;
    let origins = validate_origins(&req.allowed_origins)?;
    let sk = generate_key(KeyKind::Secret)?;
    let pk = generate_key(KeyKind::Publishable)?;
    let (merchant, sk_info, pk_info) =
        store::merchants::insert_with_keys(pool, &name, currency, &origins, &sk, &pk).await?;
    Ok(CreatedMerchant {
        merchant,
        secret_key: IssuedKey {
            info: sk_info,
            key: sk.plain,
        },
        publishable_key: IssuedKey {
            info: pk_info,
            key: pk.plain,
        },
    })
}

/// Applies a partial update.
pub async fn update(
    pool: &PgPool,
    id: MerchantId,
    patch: MerchantPatch,
) -> Result<Merchant, MerchantError> {
    let name = patch.name.as_deref().map(validate_name).transpose()?;
    let currency = patch
        .currency
        .as_deref()
        .map(validate_currency)
        .transpose()?;
    let origins = patch
        .allowed_origins
        .as_deref()
        .map(validate_origins)
        .transpose()?;
    let language = patch
        .catalog_language
        .as_deref()
        .map(|l| {
            let l = l.trim().to_ascii_lowercase();
            if l.is_empty() || l.len() > 63 || !l.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                Err(ValidationError::new(
                    "catalog_language",
                    "must be a text search configuration name such as english, french, german, spanish or simple",
                ))
            } else {
                Ok(l)
            }
        })
        .transpose()?;
    match store::merchants::update(
        pool,
        id,
        name.as_deref(),
        currency,
        origins.as_deref(),
        language.as_deref(),
    )
    .await
    {
        Err(StoreError::Conflict(m)) if language.is_some() => {
            Err(ValidationError::new("catalog_language", m).into())
        }
        other => Ok(other?),
    }
}

/// Issues a new key of `kind` for a merchant (rotation: issue, deploy, then revoke the old one).
pub async fn issue_key(
    pool: &PgPool,
    id: MerchantId,
    kind: KeyKind,
    label: Option<String>,
) -> Result<IssuedKey, MerchantError> {
    let label = match label.map(|l| l.trim().to_string()) {
        Some(l) if l.chars().count() > 100 => {
            return Err(ValidationError::new("label", "must be at most 100 characters").into());
        }
        Some(l) if l.is_empty() => None,
        other => other,
    };
    let material = generate_key(kind)?;
    let info = store::merchants::insert_key(pool, id, kind, &material, label.as_deref()).await?;
    Ok(IssuedKey {
        info,
        key: material.plain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_their_prefix_length_and_differ() {
        let a = generate_key(KeyKind::Secret).unwrap();
        let b = generate_key(KeyKind::Secret).unwrap();
        assert!(a.plain.starts_with("sk_"));
        assert_eq!(a.plain.len(), 3 + KEY_RANDOM_CHARS);
        assert!(a.plain[3..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.plain, b.plain);
        assert_eq!(a.hash, hash_key(&a.plain));
        assert!(a.plain.starts_with(&a.prefix));
        assert!(
            generate_key(KeyKind::Publishable)
                .unwrap()
                .plain
                .starts_with("pk_")
        );
    }

    #[test]
    fn origins_are_normalised_or_refused_with_their_index() {
        let ok = validate_origins(&[
            "https://Shop.Example/".into(),
            "http://localhost:3000".into(),
            "https://shop.example".into(),
            "http://[::1]:8080".into(),
        ])
        .unwrap();
        assert_eq!(
            ok,
            vec![
                "https://shop.example",
                "http://localhost:3000",
                "http://[::1]:8080"
            ]
        );
        for bad in [
            "shop.example",
            "ftp://shop.example",
            "https://shop.example/path",
            "https://",
            "https://shop.example:99999",
            "https://user@shop.example",
            "*",
        ] {
            let err = validate_origins(&["https://fine.example".into(), bad.into()]).unwrap_err();
            assert_eq!(err.field, "allowed_origins[1]", "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name("  Acme  ").unwrap(), "Acme");
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"x".repeat(201)).is_err());
        assert!(validate_name("a\u{0007}b").is_err());
    }
}
