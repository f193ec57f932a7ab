//! A strict, incremental (push) RFC 4180 CSV parser for catalog uploads.
//!
//! Bytes are fed in chunks of any size, split anywhere (inside a quoted field, between `\r` and
//! `\n`, inside a multi-byte UTF-8 character); complete records are appended to the caller's
//! output as soon as their line ending is seen, so a large file is never held in memory.
//!
//! Rules: delimiter `,`, quote `"`, `""` inside quotes is a literal quote; quoted fields may
//! contain commas, CR and LF; records end at LF, CRLF or a lone CR outside quotes; a UTF-8 BOM at
//! the very start is skipped; empty lines are skipped; fields are not trimmed and must be UTF-8.
//! After an error the rest of that record is skipped (quotes are still tracked as far as the
//! parser can tell) and parsing resumes at the next record, so one bad row does not hide the rest.

use std::fmt;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// One parsed CSV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    /// 1-based physical line where the record starts.
    pub line: u64,
    /// The record's fields, unquoted and unescaped.
    pub fields: Vec<String>,
}

/// A problem with one record; the parser skips that record and carries on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvError {
    /// A `"` inside a field that does not start with a quote (e.g. `ab"c`).
    QuoteInUnquotedField {
        /// Line of the stray quote.
        line: u64,
    },
    /// Text after the closing quote of a quoted field (e.g. `"abc"def`).
    TextAfterClosingQuote {
        /// Line of the unexpected text.
        line: u64,
    },
    /// A quoted field still open at the end of the input.
    UnclosedQuote {
        /// Line where the quoted field started.
        line: u64,
    },
    /// A field that is not valid UTF-8.
    InvalidUtf8 {
        /// Line where the field started.
        line: u64,
    },
    /// A record longer than the parser's limit (counted in raw bytes, line ending excluded).
    RecordTooLarge {
        /// Line where the record started.
        line: u64,
        /// The limit in bytes.
        limit: usize,
    },
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QuoteInUnquotedField { line } => write!(
                f,
                "line {line}: a quote appears inside a field that is not quoted"
            ),
            Self::TextAfterClosingQuote { line } => write!(
                f,
                "line {line}: unexpected text after the closing quote of a field"
            ),
            Self::UnclosedQuote { line } => write!(
                f,
                "line {line}: a quoted field is never closed before the end of the file"
            ),
            Self::InvalidUtf8 { line } => write!(f, "line {line}: a field is not valid UTF-8"),
            Self::RecordTooLarge { line, limit } => write!(
                f,
                "line {line}: the record is longer than the limit of {limit} bytes"
            ),
        }
    }
}

impl std::error::Error for CsvError {}

/// Where the parser is inside the current record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between records (also skipping empty lines).
    StartOfRecord,
    /// At the start of a field, nothing read yet.
    StartOfField,
    /// Inside a field that does not start with a quote.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a `"` inside a quoted field: an escaped quote or the closing one.
    QuoteInQuoted,
}

/// Incremental CSV parser: feed it chunks, collect records and errors.
#[derive(Debug)]
pub struct CsvParser {
    max_record_bytes: usize,
    /// `Some(n)`: the first `n` bytes of the input matched the BOM, still deciding.
    bom_prefix: Option<usize>,
    state: State,
    /// Physical line of the byte being processed.
    line: u64,
    prev_cr: bool,
    record_line: u64,
    field_line: u64,
    record_bytes: usize,
    /// The current record already produced an error: skip it until its end.
    failed: bool,
    field: Vec<u8>,
    fields: Vec<String>,
}

impl CsvParser {
    /// A parser rejecting records longer than `max_record_bytes` raw bytes (line ending excluded).
    #[must_use]
    pub fn new(max_record_bytes: usize) -> Self {
        Self {
            max_record_bytes,
            bom_prefix: Some(0),
            state: State::StartOfRecord,
            line: 1,
            prev_cr: false,
            record_line: 1,
            field_line: 1,
            record_bytes: 0,
            failed: false,
            field: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Parses the next chunk, appending every record (or error) completed by it to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Result<CsvRecord, CsvError>>) {
        for &b in chunk {
            match self.bom_prefix {
                Some(n) if BOM[n] == b => {
                    self.bom_prefix = (n + 1 < BOM.len()).then_some(n + 1);
                }
                Some(n) => {
                    self.bom_prefix = None;
                    for &p in &BOM[..n] {
                        self.byte(p, out);
                    }
                    self.byte(b, out);
                }
                None => self.byte(b, out),
            }
        }
    }

    /// Ends the input: flushes a last record without trailing newline, or reports an unclosed
    /// quote.
    pub fn finish(&mut self, out: &mut Vec<Result<CsvRecord, CsvError>>) {
        if let Some(n) = self.bom_prefix.take() {
            for &p in &BOM[..n] {
                self.byte(p, out);
            }
        }
        match self.state {
            State::StartOfRecord => {}
            State::Quoted => {
                let line = self.field_line;
                self.fail(CsvError::UnclosedQuote { line }, out);
                self.end_record(out);
            }
            _ => self.end_record(out),
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Result<CsvRecord, CsvError>>) {
        let newline = matches!(b, b'\r' | b'\n');
        if self.state == State::StartOfRecord && !newline {
            self.record_line = self.line;
            self.field_line = self.line;
            self.record_bytes = 0;
            self.state = State::StartOfField;
        }
        if self.state != State::StartOfRecord {
            self.in_record(b, newline, out);
        }
        if b == b'\r' || (b == b'\n' && !self.prev_cr) {
            self.line += 1;
        }
        self.prev_cr = b == b'\r';
    }

    fn in_record(&mut self, b: u8, newline: bool, out: &mut Vec<Result<CsvRecord, CsvError>>) {
        if !newline || self.state == State::Quoted {
            self.record_bytes += 1;
            if self.record_bytes > self.max_record_bytes {
                let (line, limit) = (self.record_line, self.max_record_bytes);
                self.fail(CsvError::RecordTooLarge { line, limit }, out);
            }
        }
        match (self.state, b) {
            (State::StartOfField, b'"') => self.state = State::Quoted,
            (State::StartOfField | State::Unquoted | State::QuoteInQuoted, b',') => {
                self.end_field(out);
            }
            (State::StartOfField | State::Unquoted | State::QuoteInQuoted, b'\r' | b'\n') => {
                self.end_record(out);
            }
            (State::Unquoted, b'"') => {
                let line = self.line;
                self.fail(CsvError::QuoteInUnquotedField { line }, out);
            }
            (State::StartOfField | State::Unquoted, _) => {
                self.push(b);
                self.state = State::Unquoted;
            }
            (State::Quoted, b'"') => self.state = State::QuoteInQuoted,
            (State::Quoted, _) => self.push(b),
            (State::QuoteInQuoted, b'"') => {
                self.push(b'"');
                self.state = State::Quoted;
            }
            (State::QuoteInQuoted, _) => {
                let line = self.line;
                self.fail(CsvError::TextAfterClosingQuote { line }, out);
                self.state = State::Unquoted;
            }
            (State::StartOfRecord, _) => {}
        }
    }

    fn push(&mut self, b: u8) {
        if !self.failed {
            self.field.push(b);
        }
    }

    /// Reports the record's first error and drops what was collected of it.
    fn fail(&mut self, error: CsvError, out: &mut Vec<Result<CsvRecord, CsvError>>) {
        if !self.failed {
            out.push(Err(error));
            self.failed = true;
            self.field.clear();
            self.fields.clear();
        }
    }

    fn end_field(&mut self, out: &mut Vec<Result<CsvRecord, CsvError>>) {
        let line = self.field_line;
        self.state = State::StartOfField;
        self.field_line = self.line;
        if self.failed {
            return;
        }
        match String::from_utf8(std::mem::take(&mut self.field)) {
            Ok(field) => self.fields.push(field),
            Err(_) => self.fail(CsvError::InvalidUtf8 { line }, out),
        }
    }

    fn end_record(&mut self, out: &mut Vec<Result<CsvRecord, CsvError>>) {
        self.end_field(out);
        if !self.failed {
            let fields = std::mem::take(&mut self.fields);
            out.push(Ok(CsvRecord {
                line: self.record_line,
                fields,
            }));
        }
        self.state = State::StartOfRecord;
        self.failed = false;
        self.field.clear();
        self.fields.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Output = Vec<Result<CsvRecord, CsvError>>;

    fn parse_chunks(chunks: &[&[u8]], limit: usize) -> Output {
        let mut parser = CsvParser::new(limit);
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out);
        }
        parser.finish(&mut out);
        out
    }

    fn parse(input: &[u8]) -> Output {
        parse_chunks(&[input], 1 << 20)
    }

    fn rec(line: u64, fields: &[&str]) -> Result<CsvRecord, CsvError> {
        Ok(CsvRecord {
            line,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        })
    }

    const DOC: &[u8] = b"\xEF\xBB\xBFsku,name,notes\r\n\
        1,\"Widget, large\",\"He said \"\"hi\"\"\"\r\n\
        2,,\"multi\r\nline\r\nnote\"\r\n\
        \r\n\
        3,caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC,\xF0\x9F\x98\x80\n\
        4,\"\",\r\
        5,\"a\"\"b\",end";

    fn doc_expected() -> Output {
        vec![
            rec(1, &["sku", "name", "notes"]),
            rec(2, &["1", "Widget, large", "He said \"hi\""]),
            rec(3, &["2", "", "multi\r\nline\r\nnote"]),
            rec(7, &["3", "café 日本", "😀"]),
            rec(8, &["4", "", ""]),
            rec(9, &["5", "a\"b", "end"]),
        ]
    }

    #[test]
    fn parses_whole_document() {
        assert_eq!(parse(DOC), doc_expected());
    }

    #[test]
    fn any_split_gives_the_same_records() {
        let whole = parse(DOC);
        for i in 0..=DOC.len() {
            let (a, b) = DOC.split_at(i);
            assert_eq!(parse_chunks(&[a, b], 1 << 20), whole, "split at {i}");
        }
        let bytes: Vec<&[u8]> = DOC.chunks(1).collect();
        assert_eq!(parse_chunks(&bytes, 1 << 20), whole);
    }

    #[test]
    fn records_are_delivered_as_soon_as_their_line_ends() {
        let mut parser = CsvParser::new(100);
        let mut out = Vec::new();
        parser.feed(b"a,b\nc", &mut out);
        assert_eq!(out, vec![rec(1, &["a", "b"])]);
        parser.finish(&mut out);
        assert_eq!(out, vec![rec(1, &["a", "b"]), rec(2, &["c"])]);
    }

    #[test]
    fn final_record_without_newline_and_trailing_empty_field() {
        assert_eq!(
            parse(b"a,b\nc,"),
            vec![rec(1, &["a", "b"]), rec(2, &["c", ""])]
        );
        assert_eq!(parse(b"x\n\n\r\n\r\r"), vec![rec(1, &["x"])]);
        assert_eq!(parse(b""), vec![]);
        assert_eq!(parse(b"\"\""), vec![rec(1, &[""])]);
    }

    #[test]
    fn fields_are_not_trimmed() {
        assert_eq!(parse(b" a , b \n"), vec![rec(1, &[" a ", " b "])]);
    }

    #[test]
    fn quote_in_unquoted_field() {
        let out = parse(b"h\nab\"c,d\n");
        assert_eq!(
            out,
            vec![
                rec(1, &["h"]),
                Err(CsvError::QuoteInUnquotedField { line: 2 })
            ]
        );
    }

    #[test]
    fn text_after_closing_quote_resyncs_outside_quotes() {
        let out = parse(b"\"abc\"def,\"x\ny\"\nnext\n");
        assert_eq!(
            out,
            vec![
                Err(CsvError::TextAfterClosingQuote { line: 1 }),
                rec(3, &["next"])
            ]
        );
    }

    #[test]
    fn unclosed_quote_is_reported_only_at_finish() {
        let mut parser = CsvParser::new(100);
        let mut out = Vec::new();
        parser.feed(b"a\nb,\"cd\nef\n", &mut out);
        assert_eq!(out, vec![rec(1, &["a"])]);
        parser.finish(&mut out);
        assert_eq!(
            out,
            vec![rec(1, &["a"]), Err(CsvError::UnclosedQuote { line: 2 })]
        );
    }

    #[test]
    fn invalid_utf8() {
        let out = parse(b"ok\n\"x\ny\",\xC3(\nfine\n");
        assert_eq!(
            out,
            vec![
                rec(1, &["ok"]),
                Err(CsvError::InvalidUtf8 { line: 3 }),
                rec(4, &["fine"])
            ]
        );
        // A partial BOM is not skipped: it is data, and not UTF-8.
        assert_eq!(
            parse(b"\xEF\xBBa\n"),
            vec![Err(CsvError::InvalidUtf8 { line: 1 })]
        );
    }

    #[test]
    fn error_row_between_good_rows() {
        let out = parse(b"a,b\r\nx\"y,z\r\nc,d\r\n");
        assert_eq!(
            out,
            vec![
                rec(1, &["a", "b"]),
                Err(CsvError::QuoteInUnquotedField { line: 2 }),
                rec(3, &["c", "d"]),
            ]
        );
    }

    #[test]
    fn record_too_large_is_reported_once_and_skipped() {
        let input = b"short\nthis record is too long,x\n\"ok\"\n";
        let expected = vec![
            rec(1, &["short"]),
            Err(CsvError::RecordTooLarge { line: 2, limit: 10 }),
            rec(3, &["ok"]),
        ];
        assert_eq!(parse_chunks(&[input], 10), expected);
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(parse_chunks(&bytes, 10), expected);
        // Exactly at the limit is fine; the line ending does not count.
        assert_eq!(
            parse_chunks(&[b"0123456789\r\n"], 10),
            vec![rec(1, &["0123456789"])]
        );
    }

    #[test]
    fn errors_name_their_line() {
        let messages = [
            CsvError::QuoteInUnquotedField { line: 4 }.to_string(),
            CsvError::TextAfterClosingQuote { line: 4 }.to_string(),
            CsvError::UnclosedQuote { line: 4 }.to_string(),
            CsvError::InvalidUtf8 { line: 4 }.to_string(),
            CsvError::RecordTooLarge { line: 4, limit: 9 }.to_string(),
        ];
        for message in messages {
            assert!(message.starts_with("line 4: "), "{message}");
        }
    }
}
