//! The client side of the conversation protocol v1: parsing and validating client frames, with
//! an error code for every way a frame can be wrong (`docs/protocol.md`).

use serde::Deserialize;
use serde_json::Value;

/// A client → server frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// A visitor message.
    UserMessage {
        /// Idempotency key chosen by the client.
        client_id: String,
        /// The text.
        text: String,
    },
    /// Stop the reply in progress.
    Cancel,
    /// Application-level ping; answered with `pong`.
    Ping,
    /// Replay everything after `after`.
    Resume {
        /// Last sequence number the client saw.
        after: i64,
    },
    /// Put a product in the cart (the widget's "add to cart" button).
    CartAdd {
        /// The product.
        external_id: String,
        /// Units (1 to 99; default 1).
        quantity: u32,
        /// The variant's SKU.
        sku: Option<String>,
        /// A size, when the variant is chosen by size.
        size: Option<String>,
        /// A colour, when the variant is chosen by colour.
        color: Option<String>,
    },
    /// Take a product (or some units of it) out of the cart.
    CartRemove {
        /// The product.
        external_id: String,
        /// The variant's SKU (any variant of the product when absent).
        sku: Option<String>,
        /// Units to remove; the whole line when absent.
        quantity: Option<u32>,
    },
}

/// A refused frame: the `error` event's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// Stable code.
    pub code: &'static str,
    /// Explanation.
    pub message: String,
}

impl FrameError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Size limits applied to visitor messages.
#[derive(Debug, Clone, Copy)]
pub struct MessageLimits {
    /// Largest text in bytes.
    pub max_text_bytes: usize,
    /// Longest client_id in bytes.
    pub max_client_id_bytes: usize,
}

/// Checks a visitor message's fields (shared by the WebSocket and HTTP edges).
pub fn validate_user_message(
    client_id: &str,
    text: &str,
    limits: MessageLimits,
) -> Result<(), FrameError> {
    if client_id.is_empty() || client_id.len() > limits.max_client_id_bytes {
        return Err(FrameError::new(
            "invalid_client_id",
            format!(
                "client_id must be 1 to {} bytes",
                limits.max_client_id_bytes
            ),
        ));
    }
    if client_id.chars().any(char::is_control) {
        return Err(FrameError::new(
            "invalid_client_id",
            "client_id must not contain control characters",
        ));
    }
    if text.len() > limits.max_text_bytes {
        return Err(FrameError::new(
            "message_too_large",
            format!(
                "text is {} bytes; the limit is {}",
                text.len(),
                limits.max_text_bytes
            ),
        ));
    }
    if text.contains('\0') {
        return Err(FrameError::new(
            "invalid_message",
            "text must not contain the NUL character",
        ));
    }
    if text.trim().is_empty() {
        return Err(FrameError::new("empty_message", "text must not be empty"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserMessageBody {
    #[serde(rename = "type")]
    _type: String,
    client_id: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CartAddBody {
    #[serde(rename = "type")]
    _type: String,
    external_id: String,
    #[serde(default)]
    quantity: Option<u32>,
    #[serde(default)]
    sku: Option<String>,
    #[serde(default)]
    size: Option<String>,
    #[serde(default)]
    color: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CartRemoveBody {
    #[serde(rename = "type")]
    _type: String,
    external_id: String,
    #[serde(default)]
    sku: Option<String>,
    #[serde(default)]
    quantity: Option<u32>,
}

/// Checks a cart frame's product id, optional short texts and quantity.
fn validate_cart_fields(
    kind: &str,
    external_id: &str,
    texts: &[(&str, &Option<String>)],
    quantity: Option<u32>,
) -> Result<(), FrameError> {
    let bad = |m: String| FrameError::new("invalid_message", format!("{kind}: {m}"));
    if external_id.trim().is_empty() || external_id.len() > 200 {
        return Err(bad("external_id must be 1 to 200 bytes".into()));
    }
    let texts_of = texts.iter().filter_map(|(_, v)| v.as_deref());
    if std::iter::once(external_id)
        .chain(texts_of)
        .any(|t| t.chars().any(char::is_control))
    {
        return Err(bad("fields must not contain control characters".into()));
    }
    for (name, value) in texts {
        if value
            .as_ref()
            .is_some_and(|v| v.trim().is_empty() || v.len() > 100)
        {
            return Err(bad(format!("{name} must be 1 to 100 bytes")));
        }
    }
    if quantity.is_some_and(|q| !(1..=99).contains(&q)) {
        return Err(bad("quantity must be from 1 to 99".into()));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResumeBody {
    #[serde(rename = "type")]
    _type: String,
    after: i64,
}

/// Parses and validates one text frame.
pub fn parse_client_frame(raw: &str, limits: MessageLimits) -> Result<ClientFrame, FrameError> {
    let value: Value = serde_json::from_str(raw).map_err(|e| {
        FrameError::new("invalid_json", format!("the frame is not valid JSON: {e}"))
    })?;
    let Some(kind) = value.get("type").and_then(Value::as_str) else {
        return Err(FrameError::new(
            "invalid_message",
            "a frame must be a JSON object with a string `type`",
        ));
    };
    let field_error = |e: serde_json::Error| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        FrameError::new("invalid_message", format!("{kind}: {msg}"))
    };
    match kind {
        "user_message" => {
            let body: UserMessageBody =
                serde_json::from_value(value.clone()).map_err(field_error)?;
            validate_user_message(&body.client_id, &body.text, limits)?;
            Ok(ClientFrame::UserMessage {
                client_id: body.client_id,
                text: body.text,
            })
        }
        "resume" => {
            let body: ResumeBody = serde_json::from_value(value.clone()).map_err(field_error)?;
            if body.after < 0 {
                return Err(FrameError::new(
                    "invalid_message",
                    "resume: after must be >= 0",
                ));
            }
            Ok(ClientFrame::Resume { after: body.after })
        }
        "cancel" => Ok(ClientFrame::Cancel),
        "ping" => Ok(ClientFrame::Ping),
        "cart_add" => {
            let b: CartAddBody = serde_json::from_value(value.clone()).map_err(field_error)?;
            validate_cart_fields(
                kind,
                &b.external_id,
                &[("sku", &b.sku), ("size", &b.size), ("color", &b.color)],
                b.quantity,
            )?;
            Ok(ClientFrame::CartAdd {
                external_id: b.external_id,
                quantity: b.quantity.unwrap_or(1),
                sku: b.sku,
                size: b.size,
                color: b.color,
            })
        }
        "cart_remove" => {
            let b: CartRemoveBody = serde_json::from_value(value.clone()).map_err(field_error)?;
            validate_cart_fields(kind, &b.external_id, &[("sku", &b.sku)], b.quantity)?;
            Ok(ClientFrame::CartRemove {
                external_id: b.external_id,
                sku: b.sku,
                quantity: b.quantity,
            })
        }
        other => Err(FrameError::new(
            "unknown_type",
            format!(
                "unknown frame type {other:?}; expected user_message, cancel, ping, resume, \
                 cart_add or cart_remove"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: MessageLimits = MessageLimits {
        max_text_bytes: 10,
        max_client_id_bytes: 8,
    };

    fn code(raw: &str) -> &'static str {
        parse_client_frame(raw, LIMITS).unwrap_err().code
    }

    #[test]
    fn valid_frames_parse() {
        assert_eq!(
            parse_client_frame(
                r#"{"type":"user_message","client_id":"a1","text":"hi"}"#,
                LIMITS
            )
            .unwrap(),
            ClientFrame::UserMessage {
                client_id: "a1".into(),
                text: "hi".into()
            }
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"cancel"}"#, LIMITS).unwrap(),
            ClientFrame::Cancel
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"ping"}"#, LIMITS).unwrap(),
            ClientFrame::Ping
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"resume","after":7}"#, LIMITS).unwrap(),
            ClientFrame::Resume { after: 7 }
        );
    }

    #[test]
    fn every_bad_frame_has_its_code() {
        assert_eq!(code("{not json"), "invalid_json");
        assert_eq!(code("[1,2]"), "invalid_message");
        assert_eq!(code(r#"{"type":"dance"}"#), "unknown_type");
        assert_eq!(
            code(r#"{"type":"user_message","text":"hi"}"#),
            "invalid_message"
        );
        assert_eq!(
            code(r#"{"type":"user_message","client_id":"a","text":5}"#),
            "invalid_message"
        );
        assert_eq!(
            code(r#"{"type":"user_message","client_id":"a","text":"01234567890"}"#),
            "message_too_large"
        );
        assert_eq!(
            code(r#"{"type":"user_message","client_id":"a","text":"  "}"#),
            "empty_message"
        );
        assert_eq!(
            code(r#"{"type":"user_message","client_id":"","text":"x"}"#),
            "invalid_client_id"
        );
        assert_eq!(
            code(r#"{"type":"user_message","client_id":"123456789","text":"x"}"#),
            "invalid_client_id"
        );
        assert_eq!(code(r#"{"type":"resume","after":-1}"#), "invalid_message");
    }
}
