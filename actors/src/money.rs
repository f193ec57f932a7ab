//! Money as integer minor units plus an ISO 4217 currency code. Never floating point: a price
//! shown or charged is exactly the catalog's integer.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency this engine accepts, with its number of minor-unit digits.
///
/// The list is explicit (not "any three letters") so a typo such as `USS` is refused at the edge
/// instead of reaching a payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    /// Upper-case ISO code, e.g. `b"USD"`.
    code: [u8; 3],
    /// Digits after the decimal point (2 for USD, 0 for JPY, 3 for KWD).
    exponent: u8,
}

/// A currency code that is not in the accepted ISO 4217 list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency code {0:?} (expected an ISO 4217 code such as \"USD\" or \"EUR\")")]
pub struct CurrencyError(pub String);

/// ISO 4217 codes accepted, with their minor-unit exponent. Covers the currencies Stripe
/// settles in; extend here when a merchant needs another.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PHP", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

impl Currency {
    /// The upper-case ISO code.
    pub fn code(&self) -> &str {
        // The bytes come only from CURRENCIES, which is ASCII.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits after the decimal point.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(code, _)| *code == upper)
            .map(|(code, exponent)| {
                let b = code.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    exponent: *exponent,
                }
            })
            .ok_or_else(|| CurrencyError(s.to_string()))
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount in minor units (cents for USD) of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Amount in minor units; negative for refunds and discounts.
    pub amount_minor: i64,
    /// The currency the amount is in.
    pub currency: Currency,
}

impl fmt::Display for Money {
    /// Formats as `12.50 USD` (exponent-aware, exact integer arithmetic).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = u32::from(self.currency.exponent());
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        if exp == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let scale = 10u64.pow(exp);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / scale,
            abs % scale,
            self.currency,
            width = exp as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_parse_case_insensitively_and_unknown_ones_are_refused() {
        assert_eq!("usd".parse::<Currency>().unwrap().code(), "USD");
        assert_eq!("JPY".parse::<Currency>().unwrap().exponent(), 0);
        assert!("USS".parse::<Currency>().is_err());
        assert!("".parse::<Currency>().is_err());
    }

    #[test]
    fn money_formats_with_the_currency_exponent() {
        let usd = "USD".parse().unwrap();
        let jpy = "JPY".parse().unwrap();
        let kwd = "KWD".parse().unwrap();
        let m = |amount_minor, currency| Money {
            amount_minor,
            currency,
        };
        assert_eq!(m(1250, usd).to_string(), "12.50 USD");
        assert_eq!(m(5, usd).to_string(), "0.05 USD");
        assert_eq!(m(-199, usd).to_string(), "-1.99 USD");
        assert_eq!(m(1500, jpy).to_string(), "1500 JPY");
        assert_eq!(m(1001, kwd).to_string(), "1.001 KWD");
    }

    #[test]
    fn currency_serializes_as_its_code() {
        let c: Currency = serde_json::from_str("\"eur\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"EUR\"");
        assert!(serde_json::from_str::<Currency>("\"XXX\"").is_err());
    }
}
