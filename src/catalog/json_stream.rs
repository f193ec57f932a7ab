//! Splits a JSON byte stream into its top-level values, incrementally.
//!
//! Bytes are fed in chunks split anywhere; each complete value is handed out as its exact bytes
//! for the caller to parse (with `serde_json`), so a large catalog is never parsed in one piece.
//! Only structure is checked here: strings and escapes, bracket balance, commas between array
//! elements; scalars are not validated.
//!
//! The first non-whitespace byte (after an optional UTF-8 BOM) chooses the mode:
//! - `[`: array mode. Each element is emitted as [`JsonItem::Element`] as soon as it is complete;
//!   after the closing `]` only whitespace may follow.
//! - `{`: object-or-lines mode. The first value is held back: if a second top-level value starts
//!   (JSON Lines, or values simply concatenated), the first is emitted as `Element` 0 and every
//!   later value as an `Element` as soon as it is complete; if the input ends after the first
//!   value, [`JsonSplitter::finish`] emits it as [`JsonItem::Object`].
//!
//! Errors are sticky: once `feed` or `finish` has failed, every later call returns the same error.

use std::fmt;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// A complete value found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonItem {
    /// One element of a top-level array, or one top-level value of a JSON Lines / concatenated
    /// stream.
    Element {
        /// 0-based position in the array or stream.
        index: u64,
        /// The element's exact bytes, without surrounding whitespace or commas.
        bytes: Vec<u8>,
    },
    /// The document is a single top-level JSON object, delivered whole, once, at `finish`.
    Object {
        /// The object's exact bytes, without surrounding whitespace.
        bytes: Vec<u8>,
    },
}

/// Why the stream cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonSplitError {
    /// A structural error: unbalanced brackets, a stray character, a missing comma, trailing
    /// garbage after the array.
    Syntax {
        /// Byte offset (0-based, from the start of the input) of the offending byte.
        offset: u64,
        /// What is wrong, in plain words.
        message: String,
    },
    /// The input ended inside a value or before the array's closing `]`.
    Truncated {
        /// Byte offset of the end of the input (its total length).
        offset: u64,
    },
    /// A value longer than the splitter's limit.
    ValueTooLarge {
        /// Byte offset where the value starts.
        offset: u64,
        /// The limit in bytes.
        limit: usize,
    },
}

impl fmt::Display for JsonSplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { offset, message } => {
                write!(f, "invalid JSON at byte {offset}: {message}")
            }
            Self::Truncated { offset } => write!(
                f,
                "the JSON input ends at byte {offset} before the document is complete"
            ),
            Self::ValueTooLarge { offset, limit } => write!(
                f,
                "the JSON value starting at byte {offset} is longer than the limit of {limit} bytes"
            ),
        }
    }
}

impl std::error::Error for JsonSplitError {}

/// Where the splitter is between values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first non-whitespace byte.
    Start,
    /// After `[`: an element or `]`.
    ArrayOpen,
    /// After a `,`: an element.
    ArrayValue,
    /// After an element: `,` or `]`.
    ArrayNext,
    /// After the closing `]`: only whitespace.
    ArrayClosed,
    /// Object-or-lines mode, between top-level values.
    Lines,
    /// Inside a value.
    Value,
}

/// Incremental splitter of a JSON array, a single object or JSON Lines into values.
#[derive(Debug)]
pub struct JsonSplitter {
    max_value_bytes: usize,
    state: State,
    /// Offset of the byte being processed (then the total length consumed).
    offset: u64,
    bom_matched: usize,
    array_mode: bool,
    /// Values completed so far.
    count: u64,
    /// Object-or-lines mode: the first value, until we know whether another follows.
    first: Option<Vec<u8>>,
    value: Vec<u8>,
    value_start: u64,
    /// Open brackets of the current value.
    stack: Vec<u8>,
    scalar: bool,
    in_string: bool,
    escape: bool,
    error: Option<JsonSplitError>,
}

impl JsonSplitter {
    /// A splitter rejecting values longer than `max_value_bytes`.
    #[must_use]
    pub fn new(max_value_bytes: usize) -> Self {
        Self {
            max_value_bytes,
            state: State::Start,
            offset: 0,
            bom_matched: 0,
            array_mode: false,
            count: 0,
            first: None,
            value: Vec::new(),
            value_start: 0,
            stack: Vec::new(),
            scalar: false,
            in_string: false,
            escape: false,
            error: None,
        }
    }

    /// Splits the next chunk, appending every value completed by it to `out`.
    ///
    /// # Errors
    /// A structural error or a value over the limit (values completed before it stay in `out`).
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<JsonItem>) -> Result<(), JsonSplitError> {
        self.check()?;
        for &b in chunk {
            let stepped = self.step(b, out);
            self.remember(stepped)?;
            self.offset += 1;
        }
        Ok(())
    }

    /// Ends the input: completes a last top-level scalar of a JSON Lines stream, emits a single
    /// object as [`JsonItem::Object`], or reports a truncated document.
    ///
    /// # Errors
    /// [`JsonSplitError::Truncated`] if the input ended inside a value or before `]`.
    pub fn finish(&mut self, out: &mut Vec<JsonItem>) -> Result<(), JsonSplitError> {
        self.check()?;
        if self.state == State::Value && self.scalar && !self.array_mode {
            self.complete(out);
        }
        let result = match self.state {
            State::ArrayClosed => Ok(()),
            State::Lines => {
                if let Some(bytes) = self.first.take() {
                    out.push(JsonItem::Object { bytes });
                }
                Ok(())
            }
            _ => Err(JsonSplitError::Truncated {
                offset: self.offset,
            }),
        };
        self.remember(result)
    }

    fn check(&self) -> Result<(), JsonSplitError> {
        self.error.clone().map_or(Ok(()), Err)
    }

    fn remember(&mut self, result: Result<(), JsonSplitError>) -> Result<(), JsonSplitError> {
        if let Err(error) = &result {
            self.error = Some(error.clone());
        }
        result
    }

    fn syntax(&self, message: &str) -> JsonSplitError {
        JsonSplitError::Syntax {
            offset: self.offset,
            message: message.to_owned(),
        }
    }

    fn step(&mut self, b: u8, out: &mut Vec<JsonItem>) -> Result<(), JsonSplitError> {
        let space = matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        match self.state {
            State::Start => {
                let n = self.bom_matched;
                if n < BOM.len() && self.offset == n as u64 && b == BOM[n] {
                    self.bom_matched += 1;
                } else if (1..BOM.len()).contains(&n) {
                    return Err(self.syntax("incomplete byte order mark"));
                } else if b == b'[' {
                    self.array_mode = true;
                    self.state = State::ArrayOpen;
                } else if b == b'{' {
                    self.start_value(b)?;
                } else if !space {
                    return Err(self.syntax("expected '[' or '{' at the start of the document"));
                }
            }
            State::ArrayOpen if b == b']' => self.state = State::ArrayClosed,
            State::ArrayValue if b == b']' => {
                return Err(self.syntax("expected a value after ',' but found ']'"));
            }
            State::ArrayOpen | State::ArrayValue | State::Lines if !space => {
                self.start_value(b)?;
                if let Some(bytes) = self.first.take() {
                    out.push(JsonItem::Element { index: 0, bytes });
                }
            }
            State::ArrayNext if b == b',' => self.state = State::ArrayValue,
            State::ArrayNext if b == b']' => self.state = State::ArrayClosed,
            State::ArrayNext if !space => {
                return Err(self.syntax("expected ',' or ']' after an array element"));
            }
            State::ArrayClosed if !space => {
                return Err(self.syntax("unexpected text after the end of the array"));
            }
            State::Value => return self.value_byte(b, space, out),
            _ => {}
        }
        Ok(())
    }

    fn start_value(&mut self, b: u8) -> Result<(), JsonSplitError> {
        if matches!(b, b',' | b':' | b']' | b'}') {
            return Err(self.syntax(&format!("expected a value but found '{}'", b as char)));
        }
        self.value_start = self.offset;
        self.value.clear();
        self.stack.clear();
        self.scalar = false;
        self.in_string = b == b'"';
        self.escape = false;
        match b {
            b'{' | b'[' => self.stack.push(b),
            b'"' => {}
            _ => self.scalar = true,
        }
        self.state = State::Value;
        self.push(b)
    }

    fn value_byte(
        &mut self,
        b: u8,
        space: bool,
        out: &mut Vec<JsonItem>,
    ) -> Result<(), JsonSplitError> {
        if self.scalar {
            if space || b"{}[],:\"".contains(&b) {
                self.complete(out);
                return self.step(b, out);
            }
            return self.push(b);
        }
        self.push(b)?;
        if self.in_string {
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
            }
        } else {
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.stack.push(b),
                b'}' | b']' => {
                    let open = if b == b'}' { b'{' } else { b'[' };
                    if self.stack.pop() != Some(open) {
                        return Err(self.syntax(&format!(
                            "'{}' does not close the innermost open bracket",
                            b as char
                        )));
                    }
                }
                _ => {}
            }
        }
        if !self.in_string && self.stack.is_empty() {
            self.complete(out);
        }
        Ok(())
    }

    fn push(&mut self, b: u8) -> Result<(), JsonSplitError> {
        if self.value.len() >= self.max_value_bytes {
            return Err(JsonSplitError::ValueTooLarge {
                offset: self.value_start,
                limit: self.max_value_bytes,
            });
        }
        self.value.push(b);
        Ok(())
    }

    /// Hands out the current value (or holds it back if it may be a single object).
    fn complete(&mut self, out: &mut Vec<JsonItem>) {
        let bytes = std::mem::take(&mut self.value);
        if self.array_mode {
            self.state = State::ArrayNext;
        } else {
            self.state = State::Lines;
        }
        if !self.array_mode && self.count == 0 {
            self.first = Some(bytes);
        } else {
            out.push(JsonItem::Element {
                index: self.count,
                bytes,
            });
        }
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_chunks(chunks: &[&[u8]], limit: usize) -> Result<Vec<JsonItem>, JsonSplitError> {
        let mut splitter = JsonSplitter::new(limit);
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.feed(chunk, &mut out)?;
        }
        splitter.finish(&mut out)?;
        Ok(out)
    }

    fn split(input: &[u8]) -> Result<Vec<JsonItem>, JsonSplitError> {
        split_chunks(&[input], 1 << 20)
    }

    fn elements(values: &[&str]) -> Vec<JsonItem> {
        (0u64..)
            .zip(values)
            .map(|(index, v)| JsonItem::Element {
                index,
                bytes: v.as_bytes().to_vec(),
            })
            .collect()
    }

    fn syntax_offset(result: Result<Vec<JsonItem>, JsonSplitError>) -> u64 {
        match result {
            Err(JsonSplitError::Syntax { offset, .. }) => offset,
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    const ARRAY: &str = "\u{feff} [\n  {\"a\": [1, {\"b\": \"]\"}], \"c\": \"x,y}\"},\n  \
        \"q\\\"uote\" ,\"back\\\\\",\"\\\\\\\"\",[],{},\t-12.5e3,true,null,\r\n  \
        \"caf\u{e9} \u{65e5}\u{672c} \u{1f600}\",[[[\"deep\"]],{\"k\":[]}]\n]\n";

    fn array_expected() -> Vec<JsonItem> {
        elements(&[
            "{\"a\": [1, {\"b\": \"]\"}], \"c\": \"x,y}\"}",
            "\"q\\\"uote\"",
            "\"back\\\\\"",
            "\"\\\\\\\"\"",
            "[]",
            "{}",
            "-12.5e3",
            "true",
            "null",
            "\"café 日本 😀\"",
            "[[[\"deep\"]],{\"k\":[]}]",
        ])
    }

    #[test]
    fn splits_an_array_whole() {
        assert_eq!(split(ARRAY.as_bytes()), Ok(array_expected()));
    }

    #[test]
    fn any_split_gives_the_same_items() {
        let input = ARRAY.as_bytes();
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            assert_eq!(
                split_chunks(&[a, b], 1 << 20),
                Ok(array_expected()),
                "split at {i}"
            );
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(split_chunks(&bytes, 1 << 20), Ok(array_expected()));
    }

    #[test]
    fn elements_are_emitted_as_soon_as_complete() {
        let mut splitter = JsonSplitter::new(100);
        let mut out = Vec::new();
        splitter.feed(b"[{\"a\":1},", &mut out).unwrap();
        assert_eq!(out, elements(&["{\"a\":1}"]));
        splitter.feed(b"2", &mut out).unwrap();
        assert_eq!(out.len(), 1, "a scalar may continue in the next chunk");
        splitter.feed(b"]", &mut out).unwrap();
        splitter.finish(&mut out).unwrap();
        assert_eq!(out, elements(&["{\"a\":1}", "2"]));
    }

    #[test]
    fn json_lines() {
        let input = b"{\"a\":1}\n{\"b\":\"}\\n{\"}\r\n\n{\"c\":[1]}{\"d\":2} 7";
        let expected = elements(&[
            "{\"a\":1}",
            "{\"b\":\"}\\n{\"}",
            "{\"c\":[1]}",
            "{\"d\":2}",
            "7",
        ]);
        assert_eq!(split(input), Ok(expected.clone()));
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            assert_eq!(
                split_chunks(&[a, b], 100),
                Ok(expected.clone()),
                "split at {i}"
            );
        }
        let mut splitter = JsonSplitter::new(100);
        let mut out = Vec::new();
        splitter.feed(b"{\"a\":1}\n", &mut out).unwrap();
        assert!(out.is_empty(), "the first value waits for a second one");
        splitter.feed(b"{", &mut out).unwrap();
        assert_eq!(out, elements(&["{\"a\":1}"]));
    }

    #[test]
    fn single_object() {
        let mut splitter = JsonSplitter::new(100);
        let mut out = Vec::new();
        splitter
            .feed(b"\xEF\xBB\xBF  {\"a\": {\"b\": [1, \"]\"]}}\n", &mut out)
            .unwrap();
        assert!(out.is_empty());
        splitter.finish(&mut out).unwrap();
        let bytes = b"{\"a\": {\"b\": [1, \"]\"]}}".to_vec();
        assert_eq!(out, vec![JsonItem::Object { bytes }]);
    }

    #[test]
    fn empty_array() {
        assert_eq!(split(b" [ \n ] \n"), Ok(vec![]));
        assert_eq!(split(b"[]"), Ok(vec![]));
    }

    #[test]
    fn truncated() {
        assert_eq!(
            split(b"[1, 2"),
            Err(JsonSplitError::Truncated { offset: 5 })
        );
        assert_eq!(
            split(b"[1, 2,"),
            Err(JsonSplitError::Truncated { offset: 6 })
        );
        assert_eq!(
            split(b"[\"ab]"),
            Err(JsonSplitError::Truncated { offset: 5 })
        );
        assert_eq!(
            split(b"{\"a\":1}\n{"),
            Err(JsonSplitError::Truncated { offset: 9 })
        );
        assert_eq!(split(b" \n"), Err(JsonSplitError::Truncated { offset: 2 }));
        assert_eq!(split(b""), Err(JsonSplitError::Truncated { offset: 0 }));
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(syntax_offset(split(b"[1 2]")), 3);
        assert_eq!(syntax_offset(split(b"[{} {}]")), 4);
        assert_eq!(syntax_offset(split(b"[1] x")), 4);
        assert_eq!(syntax_offset(split(b"[1] []")), 4);
        assert_eq!(syntax_offset(split(b"[1,]")), 3);
        assert_eq!(syntax_offset(split(b"[,1]")), 1);
        assert_eq!(syntax_offset(split(b"[{]}")), 2);
        assert_eq!(syntax_offset(split(b"{\"a\":1}}")), 7);
        assert_eq!(syntax_offset(split(b"{\"a\":1},{}")), 7);
        assert_eq!(syntax_offset(split(b"  \"text\"")), 2);
        assert_eq!(syntax_offset(split(b"\xEF\xBB[]")), 2);
    }

    #[test]
    fn value_too_large() {
        let error = JsonSplitError::ValueTooLarge {
            offset: 5,
            limit: 4,
        };
        assert_eq!(split_chunks(&[b"[12, \"long\"]"], 4), Err(error.clone()));
        assert_eq!(
            split_chunks(&[b"[12, \"ok\"]"], 4),
            Ok(elements(&["12", "\"ok\""]))
        );
        // Errors are sticky.
        let mut splitter = JsonSplitter::new(4);
        let mut out = Vec::new();
        assert_eq!(
            splitter.feed(b"[12, \"long\"", &mut out),
            Err(error.clone())
        );
        assert_eq!(splitter.feed(b"]", &mut out), Err(error.clone()));
        assert_eq!(splitter.finish(&mut out), Err(error));
        assert_eq!(out, elements(&["12"]));
    }

    #[test]
    fn errors_name_their_offset() {
        let syntax = JsonSplitError::Syntax {
            offset: 42,
            message: "missing comma".into(),
        };
        assert_eq!(syntax.to_string(), "invalid JSON at byte 42: missing comma");
        assert!(
            JsonSplitError::Truncated { offset: 42 }
                .to_string()
                .contains("byte 42")
        );
        let large = JsonSplitError::ValueTooLarge {
            offset: 42,
            limit: 7,
        };
        assert!(large.to_string().contains("byte 42") && large.to_string().contains("7 bytes"));
    }
}
