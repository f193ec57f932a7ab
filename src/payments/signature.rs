//! Webhook signatures in Stripe's scheme: the `Stripe-Signature` header is
//! `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each `v1` the HMAC-SHA256 of `"{t}.{raw body}"` keyed
//! with the endpoint's secret (`whsec_…`, used as is). An event is genuine when any `v1` matches
//! (two during a secret rotation) and `t` is within the tolerance of now (300 s, either way).
//! `v0` and unknown schemes are ignored. Comparisons are constant-time (`ring::hmac::verify`).

use ring::hmac;

/// How far `t` may be from now, in seconds (Stripe's libraries use 300).
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("the Stripe-Signature header is missing")]
    Missing,
    /// The header has no timestamp or no `v1` signature.
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    /// The timestamp is further than the tolerance from now.
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    /// No `v1` signature matches the payload.
    #[error("no signature matches the payload")]
    Mismatch,
}

impl SignatureError {
    /// Its metrics label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Stale => "stale",
            Self::Mismatch => "mismatch",
        }
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Checks `header` against `body` and `secret` at `now` (unix seconds); the event's timestamp
/// when genuine.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &str,
    now: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(hex_decode(v)),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut message = format!("{t}.").into_bytes();
    message.extend_from_slice(body);
    if signatures
        .iter()
        .any(|sig| hmac::verify(&key, &message, sig).is_ok())
    {
        Ok(t)
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The header that signs `body` with `secret` at `t` (the simulated provider signs its own
/// events with it, so they take the same path as Stripe's).
pub fn sign(body: &[u8], secret: &str, t: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut message = format!("{t}.").into_bytes();
    message.extend_from_slice(body);
    let tag = hmac::sign(&key, &message);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with Python's hmac module, independently of this code:
    // hmac.new(b"whsec_test_secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    const BODY: &[u8] = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
    const SECRET: &str = "whsec_test_secret";
    const T: i64 = 1_700_000_000;
    const PY_V1: &str = "a13d4b1f9003bc2fb6c06224e878b6056185eaa50d40e1e7dc05517f8af41d7b";

    #[test]
    fn a_signature_made_elsewhere_is_accepted_and_ours_matches_it() {
        let header = format!("t={T},v1={PY_V1}");
        assert_eq!(verify(Some(&header), BODY, SECRET, T + 10), Ok(T));
        assert_eq!(sign(BODY, SECRET, T), header);
    }

    #[test]
    fn forged_stale_and_malformed_signatures_are_refused() {
        let good = sign(BODY, SECRET, T);
        assert_eq!(verify(None, BODY, SECRET, T), Err(SignatureError::Missing));
        assert_eq!(
            verify(Some("v1=abcd"), BODY, SECRET, T),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&good), b"{\"id\":\"evt_2\"}", SECRET, T),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), BODY, "whsec_other", T),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), BODY, SECRET, T + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(Some(&good), BODY, SECRET, T - 301),
            Err(SignatureError::Stale)
        );
        // During a rotation: one old, one new signature; either secret's matches.
        let old = sign(BODY, "whsec_old", T);
        let rotated = format!(
            "{good},v1={},v0=ignored",
            &old[old.find("v1=").unwrap() + 3..]
        );
        assert_eq!(verify(Some(&rotated), BODY, "whsec_old", T), Ok(T));
        assert_eq!(verify(Some(&rotated), BODY, SECRET, T), Ok(T));
    }
}
