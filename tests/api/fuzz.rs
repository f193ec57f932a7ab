//! Fuzzing of every parser that reads outside input: the WebSocket client frame parser, the CSV
//! and JSON (and Polar) import parsers, the Server-Sent Events parser of the model providers, the
//! webhook signature check and event reader, and the price phrases of search queries.
//!
//! cargo-fuzz needs a nightly compiler, which this project does not use, so these are property
//! tests with shrinking (proptest). Each target first replays its corpus in
//! `tests/fuzz-corpus/<target>/` (real inputs and every input that once broke something), then
//! runs generated cases: corpus entries with random edits (bytes inserted, deleted, replaced,
//! repeated, structural tokens spliced in), random bytes, and well-formed inputs built from a
//! model whose parse is known. Properties: nothing panics or overflows, results respect the
//! documented limits and error codes, the incremental parsers give the same result however the
//! input is split into chunks, and well-formed inputs round-trip.
//!
//! Budget: `AGENTPAY_FUZZ_CASES` cases per property (256 by default, what `.ci/run` runs);
//! `scripts/fuzz.sh` runs longer. A failure prints the shrunk input; add it to the target's
//! corpus with the fix.

use agentpay::catalog::csv::{CsvError, CsvParser, CsvRecord};
use agentpay::catalog::import::{Decoder, Format};
use agentpay::catalog::json_stream::{JsonItem, JsonSplitError, JsonSplitter};
use agentpay::catalog::product::parse_decimal_price;
use agentpay::catalog::query;
use agentpay::http::protocol::{ClientFrame, MessageLimits, parse_client_frame};
use agentpay::llm::sse::{SseError, SseEvent, SseParser, StreamEnd};
use agentpay::payments::{events, signature};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

/// Cases per property.
fn cases() -> u32 {
    std::env::var("AGENTPAY_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    }
}

/// The corpus of `target`, sorted by file name.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = crate::helpers::repo_root()
        .join("tests/fuzz-corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let entries: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(!entries.is_empty(), "the {target} corpus is empty");
    entries
}

/// Structural pieces spliced into corpus entries.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b",",
    b"\r\n",
    b"\n",
    b"\r",
    b"\n\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\xEF\xBB\xBF",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\0",
    b"data:",
    b"event:",
    b"id:",
    b"retry:",
    b"t=",
    b"v1=",
    b"99999999999999999999999",
    b"-1",
    b"1e400",
    b"-0",
    b"null",
    b"true",
    b"under",
    b"between",
    b"and",
    b"$",
    b"\xe2\x82\xac",
    b".",
    b"-",
];

/// A corpus entry with up to ten random edits.
fn mutated(corpus: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = corpus.len();
    (
        0..n,
        vec((0u8..5, any::<Index>(), any::<u8>(), 1usize..32), 0..10),
    )
        .prop_map(move |(i, edits)| {
            let mut b = corpus[i].clone();
            for (op, at, byte, len) in edits {
                let pos = at.index(b.len() + 1);
                match op {
                    0 => b.insert(pos, byte),
                    1 if pos < b.len() => {
                        let end = (pos + len).min(b.len());
                        b.drain(pos..end);
                    }
                    2 if pos < b.len() => b[pos] = byte,
                    3 => {
                        let end = (pos + len).min(b.len());
                        let piece = b[pos..end].to_vec();
                        b.splice(
                            pos..pos,
                            piece.iter().copied().cycle().take(piece.len() * 3),
                        );
                    }
                    _ => {
                        let token = TOKENS[usize::from(byte) % TOKENS.len()];
                        b.splice(pos..pos, token.iter().copied());
                    }
                }
            }
            b
        })
}

/// Mostly edited corpus entries, some plain random bytes.
fn input(target: &str) -> impl Strategy<Value = Vec<u8>> + use<> {
    prop_oneof![4 => mutated(corpus(target)), 1 => vec(any::<u8>(), 0..600)]
}

/// Chunk sizes to split an input by (cycled).
fn splits() -> impl Strategy<Value = Vec<usize>> {
    vec(1usize..48, 1..8)
}

/// `bytes` cut into chunks of the given sizes, cycled.
fn chunked<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        let end = (at + size).min(bytes.len());
        out.push(&bytes[at..end]);
        at = end;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Client frames (WebSocket text frames are UTF-8: actix-ws refuses anything else).

const LIMITS: MessageLimits = MessageLimits {
    max_text_bytes: 4096,
    max_client_id_bytes: 64,
};

/// The codes docs/protocol.md lists for refused frames.
const FRAME_CODES: &[&str] = &[
    "invalid_json",
    "invalid_message",
    "unknown_type",
    "message_too_large",
    "empty_message",
    "invalid_client_id",
];

fn check_frame(raw: &str) {
    match parse_client_frame(raw, LIMITS) {
        Ok(ClientFrame::UserMessage { client_id, text }) => {
            assert!(!client_id.is_empty() && client_id.len() <= LIMITS.max_client_id_bytes);
            assert!(!client_id.chars().any(char::is_control), "{client_id:?}");
            assert!(text.len() <= LIMITS.max_text_bytes && !text.trim().is_empty());
        }
        Ok(ClientFrame::Resume { after }) => assert!(after >= 0),
        Ok(ClientFrame::CartAdd {
            external_id,
            quantity,
            ..
        }) => {
            assert!((1..=99).contains(&quantity), "{quantity}");
            assert!(!external_id.trim().is_empty() && external_id.len() <= 200);
        }
        Ok(ClientFrame::CartRemove {
            external_id,
            quantity,
            ..
        }) => {
            assert!(quantity.is_none_or(|q| (1..=99).contains(&q)));
            assert!(!external_id.trim().is_empty() && external_id.len() <= 200);
        }
        Ok(ClientFrame::Cancel | ClientFrame::Ping) => {}
        Err(e) => {
            assert!(
                FRAME_CODES.contains(&e.code),
                "undocumented code {}",
                e.code
            );
            assert!(!e.message.is_empty());
        }
    }
}

fn valid_frame() -> impl Strategy<Value = (Value, ClientFrame)> {
    let client_id = "[A-Za-z0-9_.:-]{1,64}";
    let text = "\\PC{0,40}[a-zA-Zé€\u{1F45F}]\\PC{0,40}";
    prop_oneof![
        (client_id, text).prop_map(|(c, t)| (
            json!({"type": "user_message", "client_id": c, "text": t}),
            ClientFrame::UserMessage {
                client_id: c,
                text: t
            }
        )),
        (0i64..i64::MAX).prop_map(|after| (
            json!({"type": "resume", "after": after}),
            ClientFrame::Resume { after }
        )),
        (
            "[A-Z0-9-]{1,20}",
            1u32..=99,
            proptest::option::of("[A-Z0-9-]{1,12}")
        )
            .prop_map(|(id, q, sku)| (
                json!({"type": "cart_add", "external_id": id, "quantity": q, "sku": sku}),
                ClientFrame::CartAdd {
                    external_id: id,
                    quantity: q,
                    sku,
                    size: None,
                    color: None
                }
            )),
        ("[A-Z0-9-]{1,20}", proptest::option::of(1u32..=99)).prop_map(|(id, q)| (
            json!({"type": "cart_remove", "external_id": id, "quantity": q}),
            ClientFrame::CartRemove {
                external_id: id,
                sku: None,
                quantity: q
            }
        )),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn client_frames_never_panic_and_keep_their_limits(raw in input("frames")) {
        check_frame(&String::from_utf8_lossy(&raw));
    }

    #[test]
    fn client_frames_from_any_text_never_panic(raw in "\\PC{0,200}") {
        check_frame(&raw);
    }

    #[test]
    fn well_formed_client_frames_round_trip((value, frame) in valid_frame()) {
        prop_assert_eq!(parse_client_frame(&value.to_string(), LIMITS), Ok(frame));
    }
}

#[test]
fn the_frame_corpus_and_deep_or_huge_frames_are_refused_cleanly() {
    for entry in corpus("frames") {
        check_frame(&String::from_utf8_lossy(&entry));
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        parse_client_frame(&deep, LIMITS).unwrap_err().code,
        "invalid_json"
    );
    let deep_object = format!(
        r#"{{"type":"user_message","client_id":"a","text":"x","extra":{}1{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(
        parse_client_frame(&deep_object, LIMITS).unwrap_err().code,
        "invalid_json"
    );
    let long = format!(
        r#"{{"type":"user_message","client_id":"a","text":"{}"}}"#,
        "x".repeat(LIMITS.max_text_bytes + 1)
    );
    assert_eq!(
        parse_client_frame(&long, LIMITS).unwrap_err().code,
        "message_too_large"
    );
}

// ---------------------------------------------------------------------------------------------
// CSV uploads.

fn csv_parse(chunks: &[&[u8]], limit: usize) -> Vec<Result<CsvRecord, CsvError>> {
    let mut parser = CsvParser::new(limit);
    let mut out = Vec::new();
    for chunk in chunks {
        parser.feed(chunk, &mut out);
    }
    parser.finish(&mut out);
    out
}

fn check_csv(bytes: &[u8], sizes: &[usize], limit: usize) -> Result<(), TestCaseError> {
    let whole = csv_parse(&[bytes], limit);
    let split = csv_parse(&chunked(bytes, sizes), limit);
    prop_assert_eq!(&whole, &split, "splitting the input changed the records");
    let mut last = 0;
    for r in &whole {
        let line = match r {
            Ok(rec) => {
                let size: usize = rec.fields.iter().map(String::len).sum();
                prop_assert!(size <= limit, "a record over the limit was accepted");
                rec.line
            }
            Err(
                CsvError::QuoteInUnquotedField { line }
                | CsvError::TextAfterClosingQuote { line }
                | CsvError::UnclosedQuote { line }
                | CsvError::InvalidUtf8 { line }
                | CsvError::RecordTooLarge { line, .. },
            ) => *line,
        };
        prop_assert!(line >= last, "records out of line order");
        last = line;
    }
    Ok(())
}

fn csv_field() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9 ]{0,12}", "[\"a,\r\n ]{0,8}", "\\PC{0,16}",]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csv_records_do_not_depend_on_chunking(bytes in input("csv"), sizes in splits(), limit in prop_oneof![Just(1 << 20), 8usize..200]) {
        check_csv(&bytes, &sizes, limit)?;
    }

    #[test]
    fn quoted_csv_round_trips(rows in vec(vec(csv_field(), 1..6), 1..12), endings in vec(prop_oneof![Just("\n"), Just("\r\n"), Just("\r")], 12), sizes in splits()) {
        let mut text = String::new();
        for (i, row) in rows.iter().enumerate() {
            let fields: Vec<String> = row.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
            text.push_str(&fields.join(","));
            text.push_str(endings[i]);
        }
        let parsed = csv_parse(&chunked(text.as_bytes(), &sizes), 1 << 20);
        let fields: Vec<Vec<String>> = parsed.into_iter().map(|r| r.map(|r| r.fields)).collect::<Result<_, _>>().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(fields, rows);
    }
}

#[test]
fn the_csv_corpus_parses_the_same_in_any_chunks() {
    for entry in corpus("csv") {
        for sizes in [vec![1], vec![2, 3], vec![7], vec![4096]] {
            check_csv(&entry, &sizes, 1 << 20).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON uploads (arrays, single objects, JSON Lines) and the import decoder over all formats.

type Split = (Vec<JsonItem>, Option<JsonSplitError>);

fn json_split(chunks: &[&[u8]], limit: usize) -> Split {
    let mut s = JsonSplitter::new(limit);
    let mut items = Vec::new();
    for chunk in chunks {
        if let Err(e) = s.feed(chunk, &mut items) {
            return (items, Some(e));
        }
    }
    let error = s.finish(&mut items).err();
    (items, error)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(Value::String),
        "[\"\\\\\\[\\]{},:]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec(("\\PC{0,8}", inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Every import format's rows, as text (rows hold no comparable type), or the error.
fn decode(format: Format, chunks: &[&[u8]]) -> String {
    let currency = "USD".parse().unwrap();
    let mut d = Decoder::new(format, currency);
    let mut rows = Vec::new();
    for chunk in chunks {
        if let Err(e) = d.feed(chunk, &mut rows) {
            return format!("{rows:?} then {e:?}");
        }
    }
    match d.finish(&mut rows) {
        Ok(()) => format!("{rows:?}"),
        Err(e) => format!("{rows:?} then {e:?}"),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_values_do_not_depend_on_chunking(bytes in input("json"), sizes in splits()) {
        let whole = json_split(&[&bytes], 1 << 20);
        let split = json_split(&chunked(&bytes, &sizes), 1 << 20);
        // The same values before the same error (an error may be found a chunk later, after
        // values completed by that chunk, so compare the values up to the shorter list).
        let n = whole.0.len().min(split.0.len());
        prop_assert_eq!(&whole.0[..n], &split.0[..n]);
        prop_assert_eq!(whole.1.is_some(), split.1.is_some());
        if whole.1.is_none() {
            prop_assert_eq!(whole.0.len(), split.0.len());
        }
    }

    #[test]
    fn json_arrays_and_lines_round_trip(values in vec(json_value(), 1..8), pretty in any::<bool>(), lines in any::<bool>(), sizes in splits()) {
        let encode = |v: &Value| if pretty { serde_json::to_string_pretty(v).unwrap() } else { v.to_string() };
        let objects: Vec<Value> = values.iter().map(|v| json!({"v": v})).collect();
        let text = if lines {
            objects.iter().map(encode).collect::<Vec<_>>().join("\n")
        } else {
            format!("[ {} ]", values.iter().map(encode).collect::<Vec<_>>().join(" ,\n"))
        };
        let (items, error) = json_split(&chunked(text.as_bytes(), &sizes), 1 << 20);
        prop_assert!(error.is_none(), "{:?}", error);
        let parsed: Vec<Value> = items.iter().map(|item| match item {
            JsonItem::Element { bytes, .. } | JsonItem::Object { bytes } => serde_json::from_slice(bytes).unwrap(),
        }).collect();
        let expected = if lines { objects } else { values };
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn imports_decode_the_same_in_any_chunks(csv in input("csv"), json in input("json"), sizes in splits()) {
        for (format, bytes) in [(Format::Csv, &csv), (Format::Json, &json), (Format::Polar, &json)] {
            prop_assert_eq!(decode(format, &[bytes]), decode(format, &chunked(bytes, &sizes)));
        }
    }
}

#[test]
fn the_json_corpus_and_deep_nesting_split_cleanly() {
    for entry in corpus("json") {
        for sizes in [vec![1], vec![3, 5], vec![4096]] {
            let whole = json_split(&[&entry], 1 << 20);
            assert_eq!(whole, json_split(&chunked(&entry, &sizes), 1 << 20));
        }
        decode(Format::Json, &[&entry]);
        decode(Format::Polar, &[&entry]);
    }
    // A million open brackets: refused by size or as truncated, never a stack overflow.
    let deep = "[".repeat(1 << 20);
    let (_, error) = json_split(&[deep.as_bytes()], 1 << 16);
    assert!(error.is_some());
    let deep_rows = format!("[{}{}]", "[".repeat(50_000), "]".repeat(50_000));
    let rows = decode(Format::Json, &[deep_rows.as_bytes()]);
    assert!(rows.contains("row"), "{}", &rows[..rows.len().min(300)]);
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events from the model providers.

fn sse_parse(chunks: &[&[u8]], max: usize) -> (Vec<SseEvent>, Option<SseError>, StreamEnd) {
    let mut p = SseParser::new().with_max_event_bytes(max);
    let mut events = Vec::new();
    let mut error = None;
    for chunk in chunks {
        match p.push(chunk) {
            Ok(evs) => events.extend(evs),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let end = p.finish();
    (events, error, end)
}

#[derive(Debug, Clone)]
struct ModelEvent {
    event: String,
    data: Vec<String>,
    id: Option<String>,
}

fn sse_event() -> impl Strategy<Value = ModelEvent> {
    (
        "[a-z_.]{0,12}",
        vec("[^\r\n]{0,20}", 1..4).prop_filter("dispatched", |d| !d.join("\n").is_empty()),
        proptest::option::of("[^\r\n\0]{0,10}"),
    )
        .prop_map(|(event, data, id)| ModelEvent { event, data, id })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sse_events_do_not_depend_on_chunking(bytes in input("sse"), sizes in splits()) {
        let whole = sse_parse(&[&bytes], 1 << 20);
        prop_assert_eq!(whole, sse_parse(&chunked(&bytes, &sizes), 1 << 20));
    }

    #[test]
    fn sse_events_stay_within_the_bound(bytes in input("sse"), sizes in splits(), max in 1usize..128) {
        let (events, _, _) = sse_parse(&chunked(&bytes, &sizes), max);
        for e in events {
            prop_assert!(e.data.len() <= max, "an event of {} bytes passed a {max}-byte bound", e.data.len());
        }
    }

    #[test]
    fn generated_sse_streams_round_trip(events in vec(sse_event(), 0..6), ending in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")], bom in any::<bool>(), sizes in splits()) {
        let mut text = String::from(if bom { "\u{feff}" } else { "" });
        let mut expected = Vec::new();
        let mut last_id: Option<String> = None;
        // One line ending for the whole stream: a CR then a LF would be one CRLF.
        let eol = || ending;
        for e in &events {
            text.push_str(&format!(": comment{}", eol()));
            if !e.event.is_empty() {
                text.push_str(&format!("event: {}{}", e.event, eol()));
            }
            for line in &e.data {
                text.push_str(&format!("data: {line}{}", eol()));
            }
            if let Some(id) = &e.id {
                text.push_str(&format!("id: {id}{}", eol()));
                last_id = Some(id.clone()).filter(|s| !s.is_empty());
            }
            text.push_str(eol());
            expected.push(SseEvent {
                event: Some(e.event.clone()).filter(|s| !s.is_empty()),
                data: e.data.join("\n"),
                id: last_id.clone(),
                retry: None,
            });
        }
        // A stream that ends in "\r" may still be followed by "\n": the parser waits.
        let (got, error, _) = sse_parse(&chunked(text.as_bytes(), &sizes), 1 << 20);
        prop_assert!(error.is_none());
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn the_sse_corpus_parses_the_same_in_any_chunks() {
    for entry in corpus("sse") {
        let whole = sse_parse(&[&entry], 1 << 20);
        assert!(!whole.0.is_empty());
        for sizes in [vec![1], vec![2, 7], vec![4096]] {
            assert_eq!(whole, sse_parse(&chunked(&entry, &sizes), 1 << 20));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Payment webhooks: the Stripe-Signature check and the event reader.

const NOW: i64 = 1_700_000_000;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn signed_bodies_verify_and_any_change_is_refused(body in vec(any::<u8>(), 0..400), secret in "whsec_[!-~]{1,40}", skew in -300i64..=300, flip in any::<Index>(), bit in 0u8..8) {
        let header = signature::sign(&body, &secret, NOW);
        prop_assert_eq!(signature::verify(Some(&header), &body, &secret, NOW + skew), Ok(NOW));
        prop_assert_eq!(signature::verify(Some(&header), &body, &secret, NOW + 301), Err(signature::SignatureError::Stale));
        prop_assert_eq!(signature::verify(Some(&header), &body, &format!("{secret}x"), NOW), Err(signature::SignatureError::Mismatch));
        if !body.is_empty() {
            let mut tampered = body.clone();
            tampered[flip.index(body.len())] ^= 1 << bit;
            prop_assert_eq!(signature::verify(Some(&header), &tampered, &secret, NOW), Err(signature::SignatureError::Mismatch));
        }
    }

    #[test]
    fn forged_signature_headers_are_refused(header in input("webhook-header"), body in input("webhook-event")) {
        let header = String::from_utf8_lossy(&header);
        let genuine = signature::sign(&body, "whsec_test", NOW);
        let v1 = genuine.split_once("v1=").unwrap().1;
        let result = signature::verify(Some(&header), &body, "whsec_test", NOW);
        if result.is_ok() {
            prop_assert!(header.contains(v1), "{header:?} verified without the signature");
        }
    }

    #[test]
    fn webhook_events_never_panic(body in input("webhook-event")) {
        if let Ok(event) = events::parse(&body) {
            let v: Value = serde_json::from_slice(&body).unwrap();
            prop_assert_eq!(Some(event.id.as_str()), v["id"].as_str());
            prop_assert_eq!(Some(event.kind.as_str()), v["type"].as_str());
        }
    }
}

#[test]
fn the_webhook_corpus_is_read_without_panics() {
    for entry in corpus("webhook-event") {
        let _ = events::parse(&entry);
    }
    for entry in corpus("webhook-header") {
        let header = String::from_utf8_lossy(&entry);
        assert!(signature::verify(Some(&header), b"{}", "whsec_test", NOW).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Price phrases in search queries and decimal prices.

fn check_query(text: &str) -> Result<(), TestCaseError> {
    let parsed = query::parse(text);
    prop_assert!(parsed.text.split_whitespace().count() <= text.split_whitespace().count());
    for currency in ["USD", "JPY", "BHD"] {
        let currency = currency.parse().unwrap();
        for bound in [&parsed.min, &parsed.max].into_iter().flatten() {
            if let Ok(minor) = parse_decimal_price(bound, currency) {
                prop_assert!(
                    (0..=1_000_000_000_000).contains(&minor),
                    "{bound} -> {minor}"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn price_phrases_never_panic(text in input("prices")) {
        check_query(&String::from_utf8_lossy(&text))?;
    }

    #[test]
    fn any_text_is_a_query(text in "\\PC{0,80}") {
        check_query(&text)?;
    }

    #[test]
    fn decimal_prices_parse_exactly_or_not_at_all(s in prop_oneof!["[0-9.,$ -]{0,30}", "\\PC{0,20}"]) {
        for (code, digits) in [("USD", 2u32), ("JPY", 0), ("BHD", 3)] {
            if let Ok(minor) = parse_decimal_price(&s, code.parse().unwrap()) {
                prop_assert!((0..=1_000_000_000_000).contains(&minor));
                // The amount written back in major units reads the same.
                let scale = 10i64.pow(digits);
                let back = if digits == 0 { format!("{minor}") } else { format!("{}.{:0w$}", minor / scale, minor % scale, w = digits as usize) };
                prop_assert_eq!(parse_decimal_price(&back, code.parse().unwrap()), Ok(minor));
            }
        }
    }

    #[test]
    fn a_stated_maximum_is_read(words in vec(prop_oneof![Just("red"), Just("rain"), Just("jacket"), Just("boots"), Just("kids")], 0..4), whole in 0u64..1_000_000, cents in proptest::option::of(0u8..100), phrase in prop_oneof![Just("under"), Just("below"), Just("less than"), Just("menos de"), Just("unter")], sign in prop_oneof![Just(""), Just("$")]) {
        let amount = match cents { Some(c) => format!("{whole}.{c:02}"), None => whole.to_string() };
        let text = format!("{} {phrase} {sign}{amount}", words.join(" "));
        let parsed = query::parse(&text);
        prop_assert_eq!(parsed.max.as_deref(), Some(amount.as_str()));
        prop_assert_eq!(parsed.text.split_whitespace().collect::<Vec<_>>(), words);
    }
}

#[test]
fn the_price_corpus_reads_without_panics() {
    for entry in corpus("prices") {
        check_query(&String::from_utf8_lossy(&entry)).unwrap();
    }
    assert!(
        parse_decimal_price("99999999999999999999999", "USD".parse().unwrap())
            .unwrap_err()
            .contains("too large")
    );
}

/// Found by `imports_decode_the_same_in_any_chunks`: a JSON upload whose syntax error came in
/// the same chunk as complete products dropped those products' rows, so the rows reported
/// before the error depended on how the network split the upload.
#[test]
fn rows_before_a_json_syntax_error_do_not_depend_on_chunking() {
    let upload = br#"[{"external_id":"A-1","title":"Tent","price":2490}, {"external_id": ]"#;
    let whole = decode(Format::Json, &[upload]);
    assert!(
        whole.contains("A-1") && whole.contains("Malformed"),
        "{whole}"
    );
    assert_eq!(whole, decode(Format::Json, &chunked(upload, &[1])));
}
