//! `ApiJson<T>`: the JSON body extractor of every endpoint.
//!
//! Unlike `web::Json`, it reports errors in the API's shape and precisely: a wrong content type
//! is 415; a body over `server.max_body_bytes` is 413 (checked against `Content-Length` first,
//! then while reading, so an oversized body is never buffered whole); broken JSON syntax is 400
//! with line and column; valid JSON with a wrong or missing field is 422 naming the field path
//! (via `serde_path_to_error`).

use super::errors::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// Body size limit in bytes, registered as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body, deserialized with field-precise errors.
///
/// Extracting it never fails: its error waits in [`ApiJson::into_inner`], which handlers call
/// after authenticating. Actix polls a handler's extractors together, and a body read in full
/// before the credential's database lookup returns would otherwise answer an unauthenticated
/// caller with a body error (a 422 describing the fields) instead of 401.
#[derive(Debug)]
pub struct ApiJson<T>(Result<T, ApiError>);

impl<T> ApiJson<T> {
    /// The body, or why it was refused (400, 413, 415 or 422).
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<BodyLimit>>()
            .map(|l| l.0)
            .unwrap_or(256 * 1024);
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let essence = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            })
            .unwrap_or(false);
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        let read = async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType(
                    "the request body must be JSON: send Content-Type: application/json".into(),
                ));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::bad_request(
                        "unreadable_body",
                        format!("could not read the request body: {e}"),
                    )
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body)
        };
        Box::pin(async move { Ok(ApiJson(read.await)) })
    }
}

/// Parses JSON with the API's error rules (see the module docs).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "malformed_json",
            "the request body is empty; expected a JSON object",
        ));
    }
    if has_escaped_nul(body) {
        return Err(ApiError::Unprocessable {
            message: "text in the body must not contain the NUL character (\\u0000)".into(),
            field: String::new(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => ApiError::bad_request(
                "malformed_json",
                format!("the request body is not valid JSON: {inner}"),
            ),
            serde_json::error::Category::Data => ApiError::Unprocessable {
                message: describe_data_error(&path, &inner),
                field: if path == "." { String::new() } else { path },
            },
        }
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request(
            "malformed_json",
            format!("the request body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

/// Whether the JSON text has a `\u0000` escape (a raw NUL byte is already invalid JSON):
/// Postgres text cannot hold NUL, and no field of ours needs one.
fn has_escaped_nul(body: &[u8]) -> bool {
    let mut backslashes = 0;
    for (i, &b) in body.iter().enumerate() {
        if b == b'\\' {
            backslashes += 1;
            continue;
        }
        if b == b'u' && backslashes % 2 == 1 && body.get(i + 1..i + 5) == Some(b"0000") {
            return true;
        }
        backslashes = 0;
    }
    false
}

/// `missing field `name`` at the root reads better with the field named as the path.
fn describe_data_error(path: &str, inner: &serde_json::Error) -> String {
    let msg = inner.to_string();
    // serde_json appends " at line L column C"; the path is more useful to a caller.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    if path == "." || path.is_empty() {
        msg
    } else {
        format!("{path}: {msg}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        origins: Vec<String>,
    }

    fn err(body: &str) -> ApiError {
        parse_json::<Body>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn an_escaped_nul_is_refused_but_an_escaped_backslash_before_u0000_is_text() {
        assert_eq!(
            err(r#"{"name": "a\u0000b", "origins": []}"#).code(),
            "invalid_field"
        );
        assert!(has_escaped_nul(br#""\\\u0000""#));
        assert!(!has_escaped_nul(br#""\\u0000""#));
        assert!(!has_escaped_nul(br#""\u0001 u0000""#));
    }

    #[test]
    fn syntax_errors_are_400_with_position() {
        let e = err("{\"name\": \"a\",");
        assert_eq!(e.code(), "malformed_json");
        assert!(e.to_string().contains("line 1"), "{e}");
        assert_eq!(err("").code(), "malformed_json");
        assert_eq!(
            err("{\"name\":\"a\",\"origins\":[]} trailing").code(),
            "malformed_json"
        );
    }

    #[test]
    fn data_errors_name_the_field() {
        let e = err("{\"name\": 5, \"origins\": []}");
        match e {
            ApiError::Unprocessable { field, message } => {
                assert_eq!(field, "name");
                assert!(message.contains("invalid type"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match err("{\"name\": \"a\", \"origins\": [\"x\", 3]}") {
            ApiError::Unprocessable { field, .. } => assert_eq!(field, "origins[1]"),
            other => panic!("{other:?}"),
        }
        match err("{\"origins\": []}") {
            ApiError::Unprocessable { message, .. } => {
                assert!(message.contains("missing field `name`"))
            }
            other => panic!("{other:?}"),
        }
        match err("{\"name\": \"a\", \"origins\": [], \"nmae\": 1}") {
            ApiError::Unprocessable { message, .. } => {
                assert!(message.contains("unknown field `nmae`"))
            }
            other => panic!("{other:?}"),
        }
    }
}
