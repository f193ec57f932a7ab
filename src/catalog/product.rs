//! The product model and its validation. Every input format (the JSON API, JSON files, CSV rows,
//! Polar exports) is turned into the same JSON shape and validated here, so the rules and the
//! error messages are the same everywhere.

use agentpay_actors::Currency;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Longest external id.
pub const MAX_EXTERNAL_ID: usize = 200;
const MAX_TITLE: usize = 500;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_SHORT: usize = 200;
const MAX_LIST: usize = 100;
const MAX_VARIANTS: usize = 250;
/// The largest price accepted, in minor units (10^12: ten billion dollars).
const MAX_PRICE: i64 = 1_000_000_000_000;

/// A rejected field: which one and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name (`price`, `variants[2].sku`), or `row` for the row as a whole.
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A variant of a product (a size, a colour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// The variant's own SKU.
    pub sku: String,
    /// What distinguishes it: `{"size": "M", "color": "red"}`.
    pub attributes: BTreeMap<String, String>,
    /// Its price when it differs from the product's, in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    /// Units available, when tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<i32>,
}

/// A validated product, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInput {
    /// The merchant's id for it.
    pub external_id: String,
    /// Title.
    pub title: String,
    /// Description (may be empty).
    pub description: String,
    /// Brand.
    pub brand: Option<String>,
    /// Category path from the root.
    pub category: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Price in minor units.
    pub price_minor: i64,
    /// Its currency (the store's).
    pub currency: Currency,
    /// The "was" price in minor units.
    pub compare_at_minor: Option<i64>,
    /// Variants.
    pub variants: Vec<Variant>,
    /// Image URLs, first is the main one.
    pub image_urls: Vec<String>,
    /// The product page.
    pub url: Option<String>,
    /// Units available, when tracked.
    pub stock: Option<i32>,
    /// Whether a visitor can buy it now.
    pub in_stock: bool,
    /// Free-form attributes.
    pub attributes: BTreeMap<String, String>,
    /// Whether it is sold (inactive products are never found).
    pub active: bool,
}

/// Keys of the product JSON shape.
pub const KEYS: &[&str] = &[
    "external_id",
    "title",
    "description",
    "brand",
    "category",
    "tags",
    "price",
    "currency",
    "compare_at_price",
    "variants",
    "image_urls",
    "url",
    "stock",
    "in_stock",
    "attributes",
    "active",
];
/// Output-only keys accepted (and ignored) on input, so a product read can be written back.
const READ_ONLY: &[&str] = &["created_at", "updated_at"];

fn text(
    obj: &Map<String, Value>,
    field: &str,
    max: usize,
    required: bool,
) -> Result<Option<String>, FieldError> {
    match obj.get(field) {
        None | Some(Value::Null) if required => Err(FieldError::new(field, "is required")),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() && required {
                return Err(FieldError::new(field, "must not be empty"));
            }
            if s.chars().count() > max {
                return Err(FieldError::new(
                    field,
                    format!("is longer than {max} characters"),
                ));
            }
            if s.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
            {
                return Err(FieldError::new(field, "contains control characters"));
            }
            Ok((!s.is_empty()).then(|| s.to_string()))
        }
        Some(other) => Err(FieldError::new(
            field,
            format!("must be a string, not {}", kind(other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn money(v: Option<&Value>, field: &str) -> Result<Option<i64>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(m) if (0..=MAX_PRICE).contains(&m) => Ok(Some(m)),
            Some(_) => Err(FieldError::new(
                field,
                format!("must be between 0 and {MAX_PRICE} minor units"),
            )),
            None => Err(FieldError::new(
                field,
                format!(
                    "must be an integer number of minor units (1999 for 19.99), not {n}; money is \
                     never a fraction"
                ),
            )),
        },
        Some(other) => Err(FieldError::new(
            field,
            format!(
                "must be an integer number of minor units, not {}",
                kind(other)
            ),
        )),
    }
}

fn count(v: Option<&Value>, field: &str) -> Result<Option<i32>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(s) if (0..=i64::from(i32::MAX)).contains(&s) => Ok(Some(s as i32)),
            _ => Err(FieldError::new(
                field,
                "must be a whole number of units, 0 or more",
            )),
        },
        Some(other) => Err(FieldError::new(
            field,
            format!("must be a whole number, not {}", kind(other)),
        )),
    }
}

fn boolean(v: Option<&Value>, field: &str) -> Result<Option<bool>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(FieldError::new(
            field,
            format!("must be true or false, not {}", kind(other)),
        )),
    }
}

fn strings(v: Option<&Value>, field: &str, max_len: usize) -> Result<Vec<String>, FieldError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(FieldError::new(
                field,
                format!("must be an array of strings, not {}", kind(other)),
            ));
        }
    };
    if items.len() > MAX_LIST {
        return Err(FieldError::new(
            field,
            format!("has more than {MAX_LIST} entries"),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let Value::String(s) = item else {
            return Err(FieldError::new(
                f,
                format!("must be a string, not {}", kind(item)),
            ));
        };
        let s = s.trim();
        if s.chars().count() > max_len {
            return Err(FieldError::new(
                f,
                format!("is longer than {max_len} characters"),
            ));
        }
        if !s.is_empty() && !out.iter().any(|o: &String| o == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

fn web_url(s: &str, field: &str) -> Result<String, FieldError> {
    let ok = (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() <= 2048
        && s.len() > "https://".len()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(
            field,
            "must be an http:// or https:// URL without spaces",
        ))
    }
}

fn attributes(v: Option<&Value>, field: &str) -> Result<BTreeMap<String, String>, FieldError> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(FieldError::new(
                field,
                format!("must be an object of names to values, not {}", kind(other)),
            ));
        }
    };
    if obj.len() > MAX_LIST {
        return Err(FieldError::new(
            field,
            format!("has more than {MAX_LIST} attributes"),
        ));
    }
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        let key = k.trim().to_lowercase();
        if key.is_empty() || key.chars().count() > 100 {
            return Err(FieldError::new(
                field,
                "attribute names must be 1 to 100 characters",
            ));
        }
        let value = match v {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Value::Null => continue,
            other => {
                return Err(FieldError::new(
                    format!("{field}.{k}"),
                    format!("must be a string, number or boolean, not {}", kind(other)),
                ));
            }
        };
        if value.chars().count() > MAX_SHORT {
            return Err(FieldError::new(
                format!("{field}.{k}"),
                format!("is longer than {MAX_SHORT} characters"),
            ));
        }
        if !value.is_empty() {
            out.insert(key, value);
        }
    }
    Ok(out)
}

/// Splits a category path: `"Shoes > Running"` or `["Shoes", "Running"]`.
fn category(v: Option<&Value>) -> Result<Vec<String>, FieldError> {
    let levels: Vec<String> = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => s
            .split('>')
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        Some(Value::Array(_)) => strings(v, "category", MAX_SHORT)?,
        Some(other) => {
            return Err(FieldError::new(
                "category",
                format!(
                    "must be a path such as \"Shoes > Running\" or an array of levels, not {}",
                    kind(other)
                ),
            ));
        }
    };
    if levels.len() > 10 || levels.iter().any(|l| l.chars().count() > MAX_SHORT) {
        return Err(FieldError::new(
            "category",
            "has more than 10 levels or a level longer than 200 characters",
        ));
    }
    Ok(levels)
}

fn variants(v: Option<&Value>) -> Result<Vec<Variant>, FieldError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(FieldError::new(
                "variants",
                format!("must be an array of variants, not {}", kind(other)),
            ));
        }
    };
    if items.len() > MAX_VARIANTS {
        return Err(FieldError::new(
            "variants",
            format!("has more than {MAX_VARIANTS} variants"),
        ));
    }
    let mut out: Vec<Variant> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let f = |name: &str| format!("variants[{i}].{name}");
        let Value::Object(obj) = item else {
            return Err(FieldError::new(
                format!("variants[{i}]"),
                format!("must be an object, not {}", kind(item)),
            ));
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !["sku", "attributes", "price", "stock"].contains(&k.as_str()))
        {
            return Err(FieldError::new(
                f(k),
                "is not a variant field (sku, attributes, price, stock)",
            ));
        }
        let sku = text(obj, "sku", MAX_EXTERNAL_ID, true)
            .map_err(|e| FieldError::new(f("sku"), e.message))?
            .unwrap_or_default();
        if out.iter().any(|v| v.sku == sku) {
            return Err(FieldError::new(
                f("sku"),
                format!("repeats the SKU {sku:?}"),
            ));
        }
        out.push(Variant {
            sku,
            attributes: attributes(obj.get("attributes"), &f("attributes"))?,
            price: money(obj.get("price"), &f("price"))?,
            stock: count(obj.get("stock"), &f("stock"))?,
        });
    }
    Ok(out)
}

impl ProductInput {
    /// Validates a product in the JSON shape (docs/catalog.md). `store_currency` is the
    /// merchant's: a product in another currency is refused, one without a currency gets it.
    pub fn from_json(value: &Value, store_currency: Currency) -> Result<Self, FieldError> {
        let Value::Object(obj) = value else {
            return Err(FieldError::new(
                "row",
                format!("a product must be a JSON object, not {}", kind(value)),
            ));
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !KEYS.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()))
        {
            return Err(FieldError::new(k.as_str(), "is not a product field"));
        }
        let external_id = text(obj, "external_id", MAX_EXTERNAL_ID, true)?.unwrap_or_default();
        let title = text(obj, "title", MAX_TITLE, true)?.unwrap_or_default();
        let currency = match obj.get("currency") {
            None | Some(Value::Null) => store_currency,
            Some(Value::String(code)) => code.parse::<Currency>().map_err(|_| {
                FieldError::new(
                    "currency",
                    format!("{code:?} is not a known ISO 4217 currency"),
                )
            })?,
            Some(other) => {
                return Err(FieldError::new(
                    "currency",
                    format!(
                        "must be a currency code such as \"USD\", not {}",
                        kind(other)
                    ),
                ));
            }
        };
        if currency != store_currency {
            return Err(FieldError::new(
                "currency",
                format!("is {currency} but the store sells in {store_currency}"),
            ));
        }
        let price_minor = money(obj.get("price"), "price")?
            .ok_or_else(|| FieldError::new("price", "is required"))?;
        let compare_at_minor = money(obj.get("compare_at_price"), "compare_at_price")?;
        let variants = variants(obj.get("variants"))?;
        let stock = count(obj.get("stock"), "stock")?;
        let in_stock = boolean(obj.get("in_stock"), "in_stock")?.unwrap_or_else(|| {
            let variant_stock: Option<i64> = variants
                .iter()
                .map(|v| v.stock.map(i64::from))
                .sum::<Option<i64>>()
                .filter(|_| !variants.is_empty());
            match (stock, variant_stock) {
                (Some(s), _) => s > 0,
                (None, Some(v)) => v > 0,
                (None, None) => true,
            }
        });
        let image_urls = strings(obj.get("image_urls"), "image_urls", 2048)?
            .iter()
            .enumerate()
            .map(|(i, u)| web_url(u, &format!("image_urls[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let url = text(obj, "url", 2048, false)?
            .map(|u| web_url(&u, "url"))
            .transpose()?;
        Ok(Self {
            external_id,
            title,
            description: text(obj, "description", MAX_DESCRIPTION, false)?.unwrap_or_default(),
            brand: text(obj, "brand", MAX_SHORT, false)?,
            category: category(obj.get("category"))?,
            tags: strings(obj.get("tags"), "tags", MAX_SHORT)?,
            price_minor,
            currency,
            compare_at_minor,
            variants,
            image_urls,
            url,
            stock,
            in_stock,
            attributes: attributes(obj.get("attributes"), "attributes")?,
            active: boolean(obj.get("active"), "active")?.unwrap_or(true),
        })
    }

    /// Brand, category, tags and attribute values (the product's and its variants') as words,
    /// for full-text search.
    pub fn keywords(&self) -> String {
        let mut words: Vec<&str> = Vec::new();
        words.extend(self.brand.as_deref());
        words.extend(self.category.iter().map(String::as_str));
        words.extend(self.tags.iter().map(String::as_str));
        words.extend(self.attributes.values().map(String::as_str));
        for v in &self.variants {
            for value in v.attributes.values() {
                if !words.contains(&value.as_str()) {
                    words.push(value);
                }
            }
        }
        words.join(" ")
    }

    /// The text that is embedded: what the product is, in the words a visitor would use.
    pub fn embedding_text(&self) -> String {
        embedding_text(
            &self.title,
            self.brand.as_deref(),
            &self.category,
            &self.tags,
            &self.attributes,
            &self.description,
        )
    }

    /// SHA-256 of the embedded text.
    pub fn content_hash(&self) -> [u8; 32] {
        Sha256::digest(self.embedding_text().as_bytes()).into()
    }

    /// SHA-256 of every field.
    pub fn record_hash(&self) -> [u8; 32] {
        Sha256::digest(self.to_json().to_string().as_bytes()).into()
    }

    /// The product in its JSON shape (prices in minor units).
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::json!({
            "external_id": self.external_id,
            "title": self.title,
            "description": self.description,
            "brand": self.brand,
            "category": (!self.category.is_empty()).then(|| self.category.join(" > ")),
            "tags": self.tags,
            "price": self.price_minor,
            "currency": self.currency.code(),
            "compare_at_price": self.compare_at_minor,
            "variants": self.variants,
            "image_urls": self.image_urls,
            "url": self.url,
            "stock": self.stock,
            "in_stock": self.in_stock,
            "attributes": self.attributes,
            "active": self.active,
        });
        if let Some(obj) = v.as_object_mut() {
            obj.retain(|_, v| !v.is_null());
        }
        v
    }
}

/// The embedded text of a product's parts (shared with the indexer, which rebuilds it from
/// stored rows).
pub fn embedding_text(
    title: &str,
    brand: Option<&str>,
    category: &[String],
    tags: &[String],
    attributes: &BTreeMap<String, String>,
    description: &str,
) -> String {
    let mut out = String::with_capacity(title.len() + description.len() + 64);
    out.push_str(title);
    if let Some(b) = brand {
        out.push_str(" by ");
        out.push_str(b);
    }
    out.push_str(". ");
    if !category.is_empty() {
        out.push_str(&category.join(" > "));
        out.push_str(". ");
    }
    for (k, v) in attributes {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push_str(". ");
    }
    if !tags.is_empty() {
        out.push_str(&tags.join(", "));
        out.push_str(". ");
    }
    // The opening of a description says what the product is; the rest costs embedding time
    // (quadratic in length) for little gain.
    let mut cut = description.len().min(DESCRIPTION_EMBEDDED_BYTES);
    while !description.is_char_boundary(cut) {
        cut -= 1;
    }
    out.push_str(&description[..cut]);
    out.trim().to_string()
}

/// Bytes of a description that go into its embedding.
const DESCRIPTION_EMBEDDED_BYTES: usize = 400;

/// Parses a decimal amount in major units ("19.99", "1,234.50" is refused) into minor units of
/// `currency`, exactly: more decimals than the currency has is an error, never a rounding.
pub fn parse_decimal_price(s: &str, currency: Currency) -> Result<i64, String> {
    let s = s.trim();
    let digits = u32::from(currency.exponent());
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(frac)
        || (s.contains('.') && frac.is_empty())
    {
        return Err(format!(
            "{s:?} is not a price: write a plain decimal in {currency} such as 19.99, without \
             currency signs or thousands separators"
        ));
    }
    if frac.len() > digits as usize {
        return Err(format!(
            "{s:?} has more decimals than {currency} allows ({digits})"
        ));
    }
    let scale = 10i64.pow(digits);
    let whole: i64 = whole
        .parse()
        .ok()
        .filter(|w: &i64| *w <= MAX_PRICE / scale)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    let frac_value: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>()
            .map_err(|_| format!("{s:?} is not a price"))?
            * 10i64.pow(digits - frac.len() as u32)
    };
    Ok(whole * scale + frac_value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn usd() -> Currency {
        "USD".parse().unwrap()
    }

    #[test]
    fn a_full_product_round_trips_through_its_json_shape() {
        let v = json!({
            "external_id": "TEE-1", "title": "Tee", "description": "Soft.", "brand": "Acme",
            "category": "Apparel > Tops", "tags": ["cotton"], "price": 1999, "currency": "usd",
            "compare_at_price": 2499,
            "variants": [{"sku": "TEE-1-M", "attributes": {"Size": "M"}, "stock": 3}],
            "image_urls": ["https://cdn.example/tee.jpg"], "url": "https://shop.example/tee",
            "attributes": {"color": "red", "organic": true}
        });
        let p = ProductInput::from_json(&v, usd()).unwrap();
        assert_eq!(p.category, vec!["Apparel", "Tops"]);
        assert!(p.in_stock, "variant stock 3 means in stock");
        assert_eq!(p.attributes["organic"], "yes");
        assert_eq!(p.variants[0].attributes["size"], "M");
        let again = ProductInput::from_json(&p.to_json(), usd()).unwrap();
        assert_eq!(again, p);
        assert_eq!(again.record_hash(), p.record_hash());
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            (json!({"title": "x", "price": 1}), "external_id"),
            (json!({"external_id": "a", "price": 1}), "title"),
            (
                json!({"external_id": "a", "title": "x", "price": 19.99}),
                "price",
            ),
            (
                json!({"external_id": "a", "title": "x", "price": -1}),
                "price",
            ),
            (
                json!({"external_id": "a", "title": "x", "price": 1, "currency": "XXX"}),
                "currency",
            ),
            (
                json!({"external_id": "a", "title": "x", "price": 1, "currency": "EUR"}),
                "currency",
            ),
            (
                json!({"external_id": "a", "title": "x", "price": 1, "url": "ftp://x"}),
                "url",
            ),
            (
                json!({"external_id": "a", "title": "x", "price": 1, "colour": "red"}),
                "colour",
            ),
            (
                json!({"external_id": "a", "title": "x", "price": 1, "variants": [{"sku": "s"}, {"sku": "s"}]}),
                "variants[1].sku",
            ),
        ];
        for (v, field) in cases {
            let e = ProductInput::from_json(&v, usd()).unwrap_err();
            assert_eq!(e.field, field, "{v}: {e}");
        }
    }

    #[test]
    fn decimal_prices_convert_exactly_or_are_refused() {
        let jpy: Currency = "JPY".parse().unwrap();
        assert_eq!(parse_decimal_price("19.99", usd()), Ok(1999));
        assert_eq!(parse_decimal_price("19.9", usd()), Ok(1990));
        assert_eq!(parse_decimal_price("20", usd()), Ok(2000));
        assert_eq!(parse_decimal_price("1500", jpy), Ok(1500));
        for bad in ["19.999", "$19", "1,000.00", "-5", "abc", "", "19.", ".5"] {
            assert!(parse_decimal_price(bad, usd()).is_err(), "{bad}");
        }
        assert!(parse_decimal_price("15.5", jpy).is_err());
    }
}
