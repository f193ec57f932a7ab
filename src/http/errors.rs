//! API errors and their one mapping to HTTP: `{"error": {"code", "message", "field"?}}`.
//!
//! Messages are written for the caller; internal details (`Debug` output, SQL errors) never
//! reach a response. A 500 is logged here, once, with its cause.
//!
//! A failed ask to a conversation ([`AskError`]) is mapped here too, once, for every edge: the
//! JSON fallback answers the [`ApiError`], and the WebSocket and the SSE stream put its
//! [`ApiError::code`] and message in an `error` frame, so a client reads the same code whichever
//! way it talks.

use crate::merchants::{MerchantError, ValidationError};
use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use agentpay_actors::conversation::{AskError, ConversationError};
use serde_json::json;

/// Every error the HTTP API answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON syntax, bad query).
    #[error("{message}")]
    BadRequest {
        /// Stable machine code.
        code: &'static str,
        /// Human explanation.
        message: String,
    },
    /// 401: no valid credentials.
    #[error("{message}")]
    Unauthorized {
        /// Stable machine code.
        code: &'static str,
        /// Human explanation.
        message: String,
    },
    /// 403: valid credentials that may not do this.
    #[error("{message}")]
    Forbidden {
        /// Stable machine code.
        code: &'static str,
        /// Human explanation.
        message: String,
    },
    /// 404: no such resource for this caller (including other merchants' resources).
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists with other methods.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the change conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the limit.
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed JSON with an invalid field.
    #[error("{message}")]
    Unprocessable {
        /// The field at fault (`allowed_origins[1]`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// 429: slow down.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// 503: too many requests are in flight; this one was refused before doing any work.
    #[error("the server is busy; retry in {retry_after_secs} s")]
    Overloaded {
        /// Seconds after which a retry is likely to be served.
        retry_after_secs: u64,
    },
    /// 503: a dependency is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// 503: the conversation could not take the request; retry. `code` says why (`restarting`,
    /// `unavailable`, `timeout`); made only by the `From<AskError>` mapping below.
    #[error("{message}")]
    ConversationUnavailable {
        /// Stable machine code, also used in WebSocket and SSE `error` frames.
        code: &'static str,
        /// Human explanation.
        message: &'static str,
    },
    /// 500: a bug or an unexpected failure; details are logged, not returned.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::ConversationUnavailable { code, .. } => code,
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unprocessable { .. } => "invalid_field",
            Self::RateLimited { .. } => "rate_limited",
            Self::Overloaded { .. } => "overloaded",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// 401 with a code and message.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    /// 403 with a code and message.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    /// 400 with a code and message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// 404 for a resource kind ("merchant", "key").
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Overloaded { .. }
            | Self::Unavailable(_)
            | Self::ConversationUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let mut body = json!({"code": self.code(), "message": self.to_string()});
        if let Self::Unprocessable { field, .. } = self {
            body["field"] = json!(field);
        }
        let mut res = HttpResponse::build(self.status_code());
        if let Self::RateLimited { retry_after_secs } | Self::Overloaded { retry_after_secs } = self
        {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if matches!(self, Self::Unauthorized { .. }) {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        res.json(json!({ "error": body }))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound("not found".into()),
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Database(e) => match e {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    tracing::warn!(error = %e, "database unavailable");
                    Self::Unavailable("the database is unavailable; retry shortly".into())
                }
                other => Self::Internal(anyhow::Error::new(other).context("database query failed")),
            },
        }
    }
}

/// The one mapping of a failed ask to what a client sees (see the module docs). Nothing the
/// client sent was processed unless the message says so; resending with the same `client_id` is
/// always safe.
impl From<AskError> for ApiError {
    fn from(e: AskError) -> Self {
        let (code, message) = match e {
            AskError::Conversation(ConversationError::NotFound) => {
                return Self::not_found("conversation");
            }
            AskError::Conversation(ConversationError::ShuttingDown) => (
                "restarting",
                "the server is restarting; reconnect and send again",
            ),
            AskError::Conversation(ConversationError::Unavailable(_)) | AskError::Gone => (
                "unavailable",
                "the conversation is unavailable and nothing was stored; send again shortly",
            ),
            AskError::Timeout => (
                "timeout",
                "the conversation did not answer in time; send again with the same client_id",
            ),
        };
        Self::ConversationUnavailable { code, message }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::Unprocessable {
            message: e.to_string(),
            field: e.field,
        }
    }
}

impl From<MerchantError> for ApiError {
    fn from(e: MerchantError) -> Self {
        match e {
            MerchantError::Invalid(v) => v.into(),
            MerchantError::Store(s) => s.into(),
            MerchantError::Other(o) => Self::Internal(o),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_ask_has_one_status_and_code_for_every_edge() {
        let cases = [
            (
                AskError::Conversation(ConversationError::NotFound),
                404,
                "not_found",
            ),
            (
                AskError::Conversation(ConversationError::ShuttingDown),
                503,
                "restarting",
            ),
            (
                AskError::Conversation(ConversationError::Unavailable("db down".into())),
                503,
                "unavailable",
            ),
            (AskError::Gone, 503, "unavailable"),
            (AskError::Timeout, 503, "timeout"),
        ];
        for (ask, status, code) in cases {
            let e = ApiError::from(ask.clone());
            assert_eq!(e.status_code().as_u16(), status, "{ask:?}");
            assert_eq!(e.code(), code, "{ask:?}");
            // The cause stays in the server: nothing internal reaches the message.
            assert!(!e.to_string().contains("db down"), "{e}");
        }
    }
}
