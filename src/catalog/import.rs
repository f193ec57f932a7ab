//! Catalog imports: a byte stream (an HTTP body, a file) in CSV, JSON or Polar's export format,
//! decoded row by row, validated, and written in batches, so 100,000 rows never sit in memory.
//!
//! Policies: `atomic` writes everything in one transaction and commits only when no row was
//! rejected; `partial` commits each batch as it goes and skips rejected rows. Either way every
//! rejected row is reported with its row number, field and reason.

use super::csv::{CsvParser, CsvRecord};
use super::json_stream::{JsonItem, JsonSplitter};
use super::product::{FieldError, KEYS, ProductInput, parse_decimal_price};
use crate::store::StoreError;
use crate::store::products::{self, WriteCounts};
use agentpay_actors::{Currency, MerchantId};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::HashMap;

/// Largest CSV record or JSON element accepted.
const MAX_ROW_BYTES: usize = 1 << 20;
/// Rejected rows listed in a report; the count goes on past it.
const MAX_REPORTED_ERRORS: usize = 1000;

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// CSV with a header row (docs/catalog.md lists the columns).
    Csv,
    /// A JSON array of products, JSON Lines, or `{"products": [...]}`; Polar products in it are
    /// recognised by their shape.
    Json,
    /// A Polar products export: an array of Polar products or a `{"items": [...]}` page.
    Polar,
}

impl Format {
    /// Parses `csv`, `json` or `polar`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "json" | "jsonl" | "ndjson" => Some(Self::Json),
            "polar" => Some(Self::Polar),
            _ => None,
        }
    }
}

/// What happens to good rows when some are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// All or nothing: one transaction, committed only if no row is rejected.
    Atomic,
    /// Good rows are written, rejected ones skipped.
    Partial,
}

impl Policy {
    /// Parses `atomic` or `partial`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "atomic" | "all_or_nothing" => Some(Self::Atomic),
            "partial" => Some(Self::Partial),
            _ => None,
        }
    }
}

/// A rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based data row (the first row after a CSV header is 1; the first JSON element is 1).
    pub row: u64,
    /// The CSV line the row starts on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The row's external id, when it has a readable one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The field at fault, or `row`.
    pub field: String,
    /// Why.
    pub message: String,
}

/// The outcome of an import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The format read.
    pub format: Format,
    /// The policy applied.
    pub policy: Policy,
    /// Data rows read.
    pub rows: u64,
    /// Products created (0 when an atomic import was rolled back).
    pub created: u64,
    /// Products changed.
    pub updated: u64,
    /// Products written again with identical fields.
    pub unchanged: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Whether the writes are in the catalog (false: an atomic import found bad rows, or the
    /// file could not be read to its end and nothing was kept).
    pub committed: bool,
    /// The rejected rows (the first 1,000).
    pub errors: Vec<RowError>,
    /// More rows were rejected than listed.
    pub errors_truncated: bool,
    /// Bytes read.
    pub bytes: u64,
    /// Why the file could not be read to its end, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read on (bad header, broken JSON structure, too large).
    #[error("{0}")]
    Malformed(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One decoded row.
#[derive(Debug)]
pub struct Row {
    /// 1-based data row.
    pub row: u64,
    /// CSV line.
    pub line: Option<u64>,
    /// The product, or the first field that is wrong.
    pub result: Result<ProductInput, FieldError>,
    /// The external id as written, for reporting.
    pub external_id: Option<String>,
}

enum State {
    Csv {
        parser: CsvParser,
        header: Option<Vec<Column>>,
    },
    Json {
        splitter: JsonSplitter,
        polar: bool,
    },
}

/// Turns bytes into rows.
pub struct Decoder {
    state: State,
    currency: Currency,
    rows: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Field(&'static str),
    Attribute(String),
}

/// CSV columns: the JSON shape's keys, except `attributes` (one `attr.<name>` column each).
fn csv_fields() -> impl Iterator<Item = &'static str> {
    KEYS.iter().copied().filter(|k| *k != "attributes")
}

impl Decoder {
    /// A decoder for `format`; products without a currency get `currency` (the store's).
    pub fn new(format: Format, currency: Currency) -> Self {
        let state = match format {
            Format::Csv => State::Csv {
                parser: CsvParser::new(MAX_ROW_BYTES),
                header: None,
            },
            Format::Json | Format::Polar => State::Json {
                splitter: JsonSplitter::new(MAX_ROW_BYTES),
                polar: format == Format::Polar,
            },
        };
        Self {
            state,
            currency,
            rows: 0,
        }
    }

    /// Decodes the rows completed by `chunk`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Row>) -> Result<(), ImportError> {
        match &mut self.state {
            State::Csv { parser, .. } => {
                let mut records = Vec::new();
                parser.feed(chunk, &mut records);
                self.csv_records(records, out)
            }
            State::Json { splitter, .. } => {
                let mut items = Vec::new();
                let split = splitter.feed(chunk, &mut items);
                // The values completed before a syntax error are rows like any others, so the
                // rows read before the error do not depend on how the input was chunked.
                self.json_items(items, out)?;
                split.map_err(|e| ImportError::Malformed(format!("the JSON is malformed: {e}")))
            }
        }
    }

    /// Decodes what is left at the end of the input.
    pub fn finish(&mut self, out: &mut Vec<Row>) -> Result<(), ImportError> {
        match &mut self.state {
            State::Csv { parser, header } => {
                let mut records = Vec::new();
                parser.finish(&mut records);
                let no_header = header.is_none() && records.is_empty();
                self.csv_records(records, out)?;
                if no_header {
                    return Err(ImportError::Malformed(
                        "the CSV is empty: a header row is required".into(),
                    ));
                }
                Ok(())
            }
            State::Json { splitter, .. } => {
                let mut items = Vec::new();
                let split = splitter.finish(&mut items);
                // The values completed before a syntax error are rows like any others, so the
                // rows read before the error do not depend on how the input was chunked.
                self.json_items(items, out)?;
                split.map_err(|e| ImportError::Malformed(format!("the JSON is malformed: {e}")))
            }
        }
    }

    fn csv_records(
        &mut self,
        records: Vec<Result<CsvRecord, super::csv::CsvError>>,
        out: &mut Vec<Row>,
    ) -> Result<(), ImportError> {
        for record in records {
            let State::Csv { header, .. } = &mut self.state else {
                return Ok(());
            };
            let Some(columns) = header else {
                let record = record.map_err(|e| {
                    ImportError::Malformed(format!("the CSV header cannot be read: {e}"))
                })?;
                *header = Some(parse_header(&record.fields)?);
                continue;
            };
            self.rows += 1;
            let row = self.rows;
            match record {
                Err(e) => out.push(Row {
                    row,
                    line: Some(error_line(&e)),
                    result: Err(FieldError::new("row", format!("malformed CSV: {e}"))),
                    external_id: None,
                }),
                Ok(record) => {
                    let external_id = columns
                        .iter()
                        .position(|c| *c == Column::Field("external_id"))
                        .and_then(|i| record.fields.get(i))
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty());
                    let result = csv_product(columns, &record.fields, self.currency);
                    out.push(Row {
                        row,
                        line: Some(record.line),
                        result,
                        external_id,
                    });
                }
            }
        }
        Ok(())
    }

    fn json_items(&mut self, items: Vec<JsonItem>, out: &mut Vec<Row>) -> Result<(), ImportError> {
        let State::Json { polar, .. } = &self.state else {
            return Ok(());
        };
        let polar = *polar;
        for item in items {
            match item {
                JsonItem::Element { bytes, .. } => self.json_row(&bytes, polar, out),
                JsonItem::Object { bytes } => {
                    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                        ImportError::Malformed(format!("the JSON is malformed: {e}"))
                    })?;
                    match value {
                        Value::Object(mut obj)
                            if matches!(obj.get("items"), Some(Value::Array(_)))
                                || matches!(obj.get("products"), Some(Value::Array(_))) =>
                        {
                            let list = obj
                                .remove("items")
                                .or_else(|| obj.remove("products"))
                                .unwrap_or_default();
                            for element in list.as_array().into_iter().flatten() {
                                self.json_value(element.clone(), polar, out);
                            }
                        }
                        other => self.json_value(other, polar, out),
                    }
                }
            }
        }
        Ok(())
    }

    fn json_row(&mut self, bytes: &[u8], polar: bool, out: &mut Vec<Row>) {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => self.json_value(v, polar, out),
            Err(e) => {
                self.rows += 1;
                out.push(Row {
                    row: self.rows,
                    line: None,
                    result: Err(FieldError::new("row", format!("is not valid JSON: {e}"))),
                    external_id: None,
                });
            }
        }
    }

    fn json_value(&mut self, value: Value, polar: bool, out: &mut Vec<Row>) {
        self.rows += 1;
        let is_polar = polar || looks_like_polar(&value);
        let (external_id, result) = if is_polar {
            let id = value.get("id").and_then(Value::as_str).map(str::to_string);
            (id, polar_product(&value, self.currency))
        } else {
            let id = value
                .get("external_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            (id, ProductInput::from_json(&value, self.currency))
        };
        out.push(Row {
            row: self.rows,
            line: None,
            result,
            external_id,
        });
    }
}

fn error_line(e: &super::csv::CsvError) -> u64 {
    use super::csv::CsvError::*;
    match e {
        QuoteInUnquotedField { line }
        | TextAfterClosingQuote { line }
        | UnclosedQuote { line }
        | InvalidUtf8 { line }
        | RecordTooLarge { line, .. } => *line,
    }
}

fn parse_header(fields: &[String]) -> Result<Vec<Column>, ImportError> {
    let mut columns = Vec::with_capacity(fields.len());
    for name in fields {
        let name = name.trim().to_lowercase();
        let column = if let Some(attr) = name.strip_prefix("attr.") {
            if attr.is_empty() {
                return Err(ImportError::Malformed(
                    "the CSV header has an `attr.` column without a name".into(),
                ));
            }
            Column::Attribute(attr.to_string())
        } else if let Some(f) = csv_fields().find(|f| *f == name) {
            Column::Field(f)
        } else {
            return Err(ImportError::Malformed(format!(
                "the CSV header has an unknown column {name:?}; columns are {} and attr.<name>",
                csv_fields().collect::<Vec<_>>().join(", ")
            )));
        };
        if columns.contains(&column) {
            return Err(ImportError::Malformed(format!(
                "the CSV header names the column {name:?} twice"
            )));
        }
        columns.push(column);
    }
    for required in ["external_id", "title", "price"] {
        if !columns.contains(&Column::Field(required)) {
            return Err(ImportError::Malformed(format!(
                "the CSV header has no {required:?} column (required: external_id, title, price)"
            )));
        }
    }
    Ok(columns)
}

fn csv_bool(s: &str, field: &str) -> Result<Value, FieldError> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(Value::Bool(true)),
        "false" | "no" | "0" => Ok(Value::Bool(false)),
        _ => Err(FieldError::new(
            field,
            format!("{s:?} is not true or false"),
        )),
    }
}

fn csv_product(
    columns: &[Column],
    fields: &[String],
    store_currency: Currency,
) -> Result<ProductInput, FieldError> {
    if fields.len() != columns.len() {
        return Err(FieldError::new(
            "row",
            format!(
                "has {} fields but the header has {} columns",
                fields.len(),
                columns.len()
            ),
        ));
    }
    // Prices are decimals in the row's currency (or the store's): convert them with it.
    let currency = columns
        .iter()
        .position(|c| *c == Column::Field("currency"))
        .and_then(|i| fields.get(i))
        .map(|s| s.trim())
        .and_then(|c| c.parse::<Currency>().ok())
        .unwrap_or(store_currency);
    let mut obj = Map::new();
    let mut attributes = Map::new();
    for (column, raw) in columns.iter().zip(fields) {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let value =
            match column {
                Column::Attribute(name) => {
                    attributes.insert(name.clone(), Value::String(raw.to_string()));
                    continue;
                }
                Column::Field(f @ ("price" | "compare_at_price")) => Value::from(
                    parse_decimal_price(raw, currency).map_err(|m| FieldError::new(*f, m))?,
                ),
                Column::Field("stock") => Value::from(raw.parse::<i64>().map_err(|_| {
                    FieldError::new("stock", format!("{raw:?} is not a whole number"))
                })?),
                Column::Field(f @ ("in_stock" | "active")) => csv_bool(raw, f)?,
                Column::Field("tags" | "image_urls") => Value::Array(
                    raw.split('|')
                        .map(|s| Value::String(s.trim().to_string()))
                        .collect(),
                ),
                Column::Field("variants") => serde_json::from_str(raw).map_err(|e| {
                    FieldError::new("variants", format!("is not a JSON array of variants: {e}"))
                })?,
                Column::Field(f) => {
                    obj.insert((*f).to_string(), Value::String(raw.to_string()));
                    continue;
                }
            };
        if let Column::Field(f) = column {
            obj.insert((*f).to_string(), value);
        }
    }
    if !attributes.is_empty() {
        obj.insert("attributes".into(), Value::Object(attributes));
    }
    ProductInput::from_json(&Value::Object(obj), store_currency)
}

fn looks_like_polar(v: &Value) -> bool {
    v.get("prices").is_some_and(Value::is_array)
        && v.get("name").is_some()
        && v.get("title").is_none()
}

/// Maps a Polar product (`name`, `description`, `prices[]`, `medias[]`, `metadata`,
/// `is_archived`) to the product shape and validates it.
fn polar_product(v: &Value, store_currency: Currency) -> Result<ProductInput, FieldError> {
    let Value::Object(p) = v else {
        return Err(FieldError::new(
            "row",
            "a Polar product must be a JSON object",
        ));
    };
    let prices = p.get("prices").and_then(Value::as_array);
    let price = prices
        .into_iter()
        .flatten()
        .find(|price| {
            price.get("amount_type").and_then(Value::as_str) == Some("fixed")
                && price.get("is_archived").and_then(Value::as_bool) != Some(true)
        })
        .ok_or_else(|| {
            FieldError::new(
                "prices",
                "has no active price with amount_type \"fixed\" (free, custom and metered prices \
                 cannot be sold through the assistant)",
            )
        })?;
    let mut obj = Map::new();
    obj.insert(
        "external_id".into(),
        p.get("id").cloned().unwrap_or(Value::Null),
    );
    obj.insert(
        "title".into(),
        p.get("name").cloned().unwrap_or(Value::Null),
    );
    if let Some(d) = p.get("description").filter(|d| !d.is_null()) {
        obj.insert("description".into(), d.clone());
    }
    obj.insert(
        "price".into(),
        price.get("price_amount").cloned().unwrap_or(Value::Null),
    );
    if let Some(c) = price.get("price_currency") {
        obj.insert("currency".into(), c.clone());
    }
    let images: Vec<Value> = p
        .get("medias")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("public_url").cloned())
        .collect();
    if !images.is_empty() {
        obj.insert("image_urls".into(), Value::Array(images));
    }
    let mut attributes = p
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if p.get("is_recurring").and_then(Value::as_bool) == Some(true) {
        attributes.insert("billing".into(), Value::String("recurring".into()));
    }
    if !attributes.is_empty() {
        obj.insert("attributes".into(), Value::Object(attributes));
    }
    let archived = p
        .get("is_archived")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    obj.insert("active".into(), Value::Bool(!archived));
    ProductInput::from_json(&Value::Object(obj), store_currency).map_err(|mut e| {
        // Name Polar's fields, which is what the merchant's file has.
        e.field = match e.field.as_str() {
            "external_id" => "id".into(),
            "title" => "name".into(),
            "price" => "prices[].price_amount".into(),
            "currency" => "prices[].price_currency".into(),
            "image_urls" => "medias".into(),
            "attributes" => "metadata".into(),
            other => other.to_string(),
        };
        e
    })
}

/// Writes rows in batches under a policy and keeps the report.
pub struct Importer {
    pool: PgPool,
    merchant: MerchantId,
    batch_rows: usize,
    tx: Option<Transaction<'static, Postgres>>,
    batch: Vec<ProductInput>,
    seen: HashMap<String, u64>,
    report: ImportReport,
}

impl Importer {
    /// Starts an import for `merchant` (an atomic one opens its transaction now).
    pub async fn start(
        pool: PgPool,
        merchant: MerchantId,
        format: Format,
        policy: Policy,
        batch_rows: usize,
    ) -> Result<Self, ImportError> {
        let tx = match policy {
            Policy::Atomic => Some(pool.begin().await.map_err(StoreError::from)?),
            Policy::Partial => None,
        };
        Ok(Self {
            pool,
            merchant,
            batch_rows: batch_rows.max(1),
            tx,
            batch: Vec::new(),
            seen: HashMap::new(),
            report: ImportReport {
                format,
                policy,
                rows: 0,
                created: 0,
                updated: 0,
                unchanged: 0,
                rejected: 0,
                committed: false,
                errors: Vec::new(),
                errors_truncated: false,
                bytes: 0,
                aborted: None,
            },
        })
    }

    /// The report so far.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    fn reject(&mut self, row: u64, line: Option<u64>, external_id: Option<String>, e: FieldError) {
        self.report.rejected += 1;
        if self.report.errors.len() < MAX_REPORTED_ERRORS {
            self.report.errors.push(RowError {
                row,
                line,
                external_id,
                field: e.field,
                message: e.message,
            });
        } else {
            self.report.errors_truncated = true;
        }
    }

    /// Takes decoded rows; writes a batch whenever one is full.
    pub async fn push(&mut self, rows: Vec<Row>) -> Result<(), ImportError> {
        for row in rows {
            self.report.rows += 1;
            match row.result {
                Err(e) => self.reject(row.row, row.line, row.external_id, e),
                Ok(product) => {
                    if let Some(first) = self.seen.get(&product.external_id) {
                        let e = FieldError::new(
                            "external_id",
                            format!(
                                "{:?} was already used by row {first} of this file",
                                product.external_id
                            ),
                        );
                        self.reject(row.row, row.line, Some(product.external_id), e);
                        continue;
                    }
                    self.seen.insert(product.external_id.clone(), row.row);
                    self.batch.push(product);
                    if self.batch.len() >= self.batch_rows {
                        self.flush().await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ImportError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        // An atomic import that already rejected a row will be rolled back: stop writing.
        if self.tx.is_some() && self.report.rejected > 0 {
            self.batch.clear();
            return Ok(());
        }
        let counts: WriteCounts = match &mut self.tx {
            Some(tx) => products::upsert_batch(tx, self.merchant, &self.batch).await?,
            None => {
                let mut conn = self.pool.acquire().await.map_err(StoreError::from)?;
                products::upsert_batch(&mut conn, self.merchant, &self.batch).await?
            }
        };
        self.report.created += counts.created;
        self.report.updated += counts.updated;
        self.report.unchanged += counts.unchanged;
        self.batch.clear();
        Ok(())
    }

    /// Ends the import: writes the last batch and commits or rolls back by the policy. With
    /// `aborted` (the file could not be read on) an atomic import keeps nothing and a partial
    /// one keeps what it wrote.
    pub async fn finish(mut self, aborted: Option<String>) -> Result<ImportReport, ImportError> {
        if aborted.is_none() {
            self.flush().await?;
        }
        let keep = aborted.is_none() && self.report.rejected == 0;
        match self.tx.take() {
            Some(tx) if keep => {
                tx.commit().await.map_err(StoreError::from)?;
                self.report.committed = true;
            }
            Some(tx) => {
                tx.rollback().await.map_err(StoreError::from)?;
                self.report.created = 0;
                self.report.updated = 0;
                self.report.unchanged = 0;
                self.report.committed = false;
            }
            None => self.report.committed = true,
        }
        self.report.aborted = aborted;
        Ok(self.report)
    }
}

/// Reads `chunks` to the end through a decoder and an importer. A malformed file, a broken
/// stream or more than `max_bytes` ends the import with `aborted` set (see
/// [`Importer::finish`]); `progress` is called after each chunk with the report so far.
pub async fn run<S, E>(
    mut importer: Importer,
    currency: Currency,
    mut chunks: S,
    max_bytes: u64,
    mut progress: impl FnMut(&ImportReport),
) -> Result<ImportReport, ImportError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    use futures_util::StreamExt;
    let mut decoder = Decoder::new(importer.report.format, currency);
    let mut rows = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                return importer
                    .finish(Some(format!("the upload broke off: {e}")))
                    .await;
            }
        };
        importer.report.bytes += chunk.len() as u64;
        if importer.report.bytes > max_bytes {
            return importer
                .finish(Some(format!("the file is larger than {max_bytes} bytes")))
                .await;
        }
        if let Err(e) = decoder.feed(&chunk, &mut rows) {
            importer.push(std::mem::take(&mut rows)).await?;
            return abort(importer, e).await;
        }
        importer.push(std::mem::take(&mut rows)).await?;
        progress(importer.report());
    }
    if let Err(e) = decoder.finish(&mut rows) {
        importer.push(std::mem::take(&mut rows)).await?;
        return abort(importer, e).await;
    }
    importer.push(rows).await?;
    importer.finish(None).await
}

async fn abort(importer: Importer, e: ImportError) -> Result<ImportReport, ImportError> {
    match e {
        ImportError::Malformed(message) => importer.finish(Some(message)).await,
        other => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(format: Format, input: &str) -> (Vec<Row>, Result<(), String>) {
        let mut d = Decoder::new(format, "USD".parse().unwrap());
        let mut out = Vec::new();
        let r = d
            .feed(input.as_bytes(), &mut out)
            .and_then(|_| d.finish(&mut out))
            .map_err(|e| e.to_string());
        (out, r)
    }

    #[test]
    fn csv_rows_become_products_with_exact_prices_and_named_errors() {
        let csv = "external_id,title,price,currency,tags,attr.color,stock\n\
                   A1,\"Tee, red\",19.99,USD,cotton|summer,red,3\n\
                   A2,Mug,abc,USD,,,\n\
                   A3,,5,USD,,,\n\
                   A4,Cap,5,XYZ,,,\n\
                   A5,Hat,\"5\"x,USD,,,\n\
                   A6,Sock,2.5,USD,,,0\n";
        let (rows, r) = decode(Format::Csv, csv);
        r.unwrap();
        assert_eq!(rows.len(), 6);
        let a1 = rows[0].result.as_ref().unwrap();
        assert_eq!((a1.title.as_str(), a1.price_minor), ("Tee, red", 1999));
        assert_eq!(a1.tags, vec!["cotton", "summer"]);
        assert_eq!(a1.attributes["color"], "red");
        let field = |i: usize| rows[i].result.as_ref().unwrap_err().field.clone();
        assert_eq!(field(1), "price");
        assert_eq!(field(2), "title");
        assert_eq!(field(3), "currency");
        assert_eq!(field(4), "row");
        assert_eq!(rows[4].line, Some(6));
        let a6 = rows[5].result.as_ref().unwrap();
        assert_eq!(a6.price_minor, 250);
        assert!(!a6.in_stock);
    }

    #[test]
    fn a_bad_header_stops_the_import() {
        let (_, r) = decode(Format::Csv, "external_id,title,cost\nA,B,1\n");
        assert!(r.unwrap_err().contains("unknown column \"cost\""));
        let (_, r) = decode(Format::Csv, "external_id,title\nA,B\n");
        assert!(r.unwrap_err().contains("\"price\""));
        let (_, r) = decode(Format::Csv, "");
        assert!(r.unwrap_err().contains("header"));
    }

    #[test]
    fn polar_products_map_to_the_catalog() {
        let polar = r#"{"items": [
          {"id": "p-1", "name": "Pro plan", "description": "Yearly", "is_recurring": true,
           "is_archived": false, "metadata": {"tier": "pro"},
           "prices": [{"amount_type": "fixed", "price_amount": 2500, "price_currency": "usd"}],
           "medias": [{"public_url": "https://cdn.polar.test/p1.png"}]},
          {"id": "p-2", "name": "Tip jar", "prices": [{"amount_type": "custom"}], "medias": []}
        ], "pagination": {"total_count": 2, "max_page": 1}}"#;
        let (rows, r) = decode(Format::Polar, polar);
        r.unwrap();
        let p = rows[0].result.as_ref().unwrap();
        assert_eq!((p.external_id.as_str(), p.price_minor), ("p-1", 2500));
        assert_eq!(p.image_urls, vec!["https://cdn.polar.test/p1.png"]);
        assert_eq!(p.attributes["billing"], "recurring");
        assert_eq!(rows[1].result.as_ref().unwrap_err().field, "prices");
        // The same products in a plain array are recognised without format=polar.
        let (rows, _) = decode(
            Format::Json,
            r#"[{"id": "p-1", "name": "Pro", "prices": [{"amount_type": "fixed", "price_amount": 900, "price_currency": "usd"}]}]"#,
        );
        assert_eq!(rows[0].result.as_ref().unwrap().price_minor, 900);
    }

    #[test]
    fn json_arrays_and_lines_number_their_rows() {
        let (rows, r) = decode(
            Format::Json,
            "{\"external_id\":\"a\",\"title\":\"A\",\"price\":1}\n{\"external_id\":\"b\",\"price\":1}\n",
        );
        r.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].row, 2);
        assert_eq!(rows[1].result.as_ref().unwrap_err().field, "title");
        let (_, r) = decode(Format::Json, "[{\"external_id\":\"a\"} {}]");
        assert!(r.is_err());
    }
}
