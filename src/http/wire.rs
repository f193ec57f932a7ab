//! The conversation wire format, owned by the edge: the JSON shape of every server frame (the
//! same for WebSocket frames, SSE events and the HTTP fallback), the protocol version and the
//! WebSocket close codes. The core emits domain events ([`ConversationEvent`]); this module is
//! the one place that says how a client sees them (`docs/protocol.md`).
//!
//! Frames borrow from the event they describe: an event shared by every subscriber is
//! serialized without being copied first.

use agentpay_actors::Money;
use agentpay_actors::agent::shop::Card;
use agentpay_actors::cart::CartLine;
use agentpay_actors::conversation::{CloseCause, ConversationEvent};
use agentpay_actors::ids::{ConversationId, MessageId};
use agentpay_actors::ports::{Usage, VariantDetail};
use serde::Serialize;
use std::collections::BTreeMap;

/// A product card on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductItem<'a> {
    /// The merchant's id for it.
    pub external_id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Brand.
    pub brand: Option<&'a str>,
    /// The catalog's price (the matched variant's when there is one).
    pub price: Money,
    /// The "was" price, when discounted.
    pub compare_at_price: Option<Money>,
    /// Whether it can be bought now.
    pub in_stock: bool,
    /// The product page.
    pub url: Option<&'a str>,
    /// The main image.
    pub image_url: Option<&'a str>,
    /// The variant matching the size or colour asked for, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<VariantItem<'a>>,
}

/// A product's variant on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantItem<'a> {
    /// Its SKU.
    pub sku: &'a str,
    /// What distinguishes it (`size`, `color`).
    pub attributes: &'a BTreeMap<String, String>,
    /// Its price.
    pub price: Money,
    /// Whether it can be bought now.
    pub in_stock: bool,
}

impl<'a> From<&'a VariantDetail> for VariantItem<'a> {
    fn from(v: &'a VariantDetail) -> Self {
        Self {
            sku: &v.sku,
            attributes: &v.attributes,
            price: v.price,
            in_stock: v.available(),
        }
    }
}

impl<'a> From<&'a Card> for ProductItem<'a> {
    fn from(c: &'a Card) -> Self {
        let h = &c.hit;
        Self {
            external_id: &h.external_id,
            title: &h.title,
            brand: h.brand.as_deref(),
            price: c.variant.as_ref().map_or(h.price, |v| v.price),
            compare_at_price: h.compare_at_price,
            in_stock: c
                .variant
                .as_ref()
                .map_or(h.in_stock, VariantDetail::available),
            url: h.url.as_deref(),
            image_url: h.image_url.as_deref(),
            variant: c.variant.as_ref().map(VariantItem::from),
        }
    }
}

/// A cart line on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartItem<'a> {
    /// The product.
    pub external_id: &'a str,
    /// The variant's SKU, when it has variants.
    pub sku: Option<&'a str>,
    /// The product's title.
    pub title: &'a str,
    /// The variant's attribute values ("M / black").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<&'a str>,
    /// Units.
    pub quantity: u32,
    /// The catalog's unit price.
    pub unit_price: Money,
    /// `unit_price × quantity`.
    pub line_total: Option<Money>,
}

impl<'a> From<&'a CartLine> for CartItem<'a> {
    fn from(l: &'a CartLine) -> Self {
        Self {
            external_id: &l.external_id,
            sku: l.sku.as_deref(),
            title: &l.title,
            variant: l.variant.as_deref(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            line_total: l.line_total(),
        }
    }
}

/// The protocol version spoken by the WebSocket and SSE edges.
pub const PROTOCOL_VERSION: u32 = 1;

/// The subprotocol a WebSocket client may offer (with its token as a second entry).
pub const SUBPROTOCOL: &str = "agentpay.v1";

/// WebSocket close codes the server sends (documented in docs/protocol.md). A close the client
/// starts is answered with the client's own code instead (RFC 6455 §5.5.1).
pub mod close {
    /// A normal close.
    pub const NORMAL: u16 = 1000;
    /// The client broke the WebSocket protocol (a malformed frame).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A client frame larger than `websocket.max_frame_bytes`.
    pub const TOO_BIG: u16 = 1009;
    /// No valid visitor token for this conversation.
    pub const UNAUTHORIZED: u16 = 4001;
    /// The page's origin is not one of the merchant's allowed origins.
    pub const FORBIDDEN_ORIGIN: u16 = 4003;
    /// No such conversation.
    pub const NOT_FOUND: u16 = 4004;
    /// Policy: too slow to read, or silent past the heartbeat timeout.
    pub const POLICY: u16 = 4008;
    /// Server error.
    pub const INTERNAL: u16 = 1011;
    /// The server is restarting; reconnect with `after`.
    pub const RESTARTING: u16 = 1012;
}

/// The close code and reason for a conversation's [`CloseCause`].
pub fn close_for(cause: CloseCause) -> (u16, &'static str) {
    match cause {
        CloseCause::ServerRestarting => (close::RESTARTING, "server restarting"),
    }
}

/// A server → client frame: `{"type": "...", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame<'a> {
    /// First frame of a subscription.
    Hello {
        /// The conversation.
        conversation_id: ConversationId,
        /// The last sequence number stored when the subscription started.
        last_seq: i64,
        /// Protocol version.
        protocol: u32,
        /// The assistant's name (merchant configuration).
        #[serde(skip_serializing_if = "Option::is_none")]
        assistant_name: Option<&'a str>,
        /// The greeting to show (merchant configuration).
        #[serde(skip_serializing_if = "Option::is_none")]
        greeting: Option<&'a str>,
    },
    /// The sender's message is stored (durable) under `seq`.
    Ack {
        /// The sender's idempotency key.
        client_id: &'a str,
        /// Its sequence number.
        seq: i64,
    },
    /// A visitor message, to every subscriber.
    UserMessage {
        /// Its id.
        message_id: MessageId,
        /// Its sequence number.
        seq: i64,
        /// The sender's idempotency key.
        client_id: &'a str,
        /// The text.
        text: &'a str,
    },
    /// An assistant reply starts.
    AssistantStart {
        /// The reply's id.
        message_id: MessageId,
        /// Its start sequence number.
        seq: i64,
        /// The sequence number of the user message it answers.
        reply_to_seq: i64,
    },
    /// Reply text at character offset `index`.
    Delta {
        /// The reply's id.
        message_id: MessageId,
        /// The text.
        text: &'a str,
        /// Character (Unicode scalar) offset of `text` in the reply.
        index: usize,
    },
    /// The reply is finished and stored.
    AssistantEnd {
        /// The reply's id.
        message_id: MessageId,
        /// The end's sequence number.
        seq: i64,
        /// The whole reply text.
        text: &'a str,
        /// Model usage, when a model ran.
        usage: Option<Usage>,
        /// True when the reply was cut short.
        interrupted: bool,
        /// The visitor's intent (one of the 18 labels), when the turn understood it.
        #[serde(skip_serializing_if = "Option::is_none")]
        intent: Option<&'a str>,
        /// `rules` or `model`: who decided the reply.
        #[serde(skip_serializing_if = "Option::is_none")]
        handled_by: Option<&'a str>,
    },
    /// Product cards the reply shows, best first.
    Products {
        /// The reply's id.
        message_id: MessageId,
        /// The products.
        items: Vec<ProductItem<'a>>,
    },
    /// The whole cart.
    Cart {
        /// Its lines.
        items: Vec<CartItem<'a>>,
        /// The sum of the lines; absent when the cart is empty.
        total: Option<Money>,
        /// Units in the cart.
        item_count: u32,
    },
    /// Something went wrong; the connection stays usable.
    Error {
        /// Stable machine code.
        code: &'a str,
        /// Human explanation.
        message: &'a str,
        /// When to retry, for rate limits and overload.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// A checkout started: the order's payment page.
    Checkout {
        /// The checkout (the order's id).
        checkout_id: uuid::Uuid,
        /// The order's number, as the visitor quotes it.
        order_number: i64,
        /// Where the visitor pays.
        url: &'a str,
        /// When the page expires (RFC 3339).
        expires_at: String,
        /// What the visitor pays.
        total: Money,
    },
    /// An order of the conversation changed status.
    Order {
        /// The order.
        order_id: uuid::Uuid,
        /// Its number.
        order_number: i64,
        /// `paid`, `expired`, `canceled`, `refunded` or `disputed`.
        status: &'static str,
        /// Its total.
        total: Money,
    },
    /// Answer to a client `ping`.
    Pong,
}

impl<'a> From<&'a agentpay_actors::conversation::SharedEvent> for Frame<'a> {
    fn from(ev: &'a agentpay_actors::conversation::SharedEvent) -> Self {
        Frame::from(&**ev)
    }
}

impl<'a> From<&'a ConversationEvent> for Frame<'a> {
    fn from(ev: &'a ConversationEvent) -> Self {
        match ev {
            ConversationEvent::Hello {
                conversation_id,
                last_seq,
                assistant_name,
                greeting,
            } => Frame::Hello {
                conversation_id: *conversation_id,
                last_seq: *last_seq,
                protocol: PROTOCOL_VERSION,
                assistant_name: assistant_name.as_deref(),
                greeting: greeting.as_deref(),
            },
            ConversationEvent::Ack { client_id, seq } => Frame::Ack {
                client_id,
                seq: *seq,
            },
            ConversationEvent::UserMessage {
                message_id,
                seq,
                client_id,
                text,
            } => Frame::UserMessage {
                message_id: *message_id,
                seq: *seq,
                client_id,
                text,
            },
            ConversationEvent::AssistantStart {
                message_id,
                seq,
                reply_to_seq,
            } => Frame::AssistantStart {
                message_id: *message_id,
                seq: *seq,
                reply_to_seq: *reply_to_seq,
            },
            ConversationEvent::Delta {
                message_id,
                text,
                index,
            } => Frame::Delta {
                message_id: *message_id,
                text,
                index: *index,
            },
            ConversationEvent::AssistantEnd {
                message_id,
                seq,
                text,
                usage,
                interrupted,
                intent,
                handled_by,
            } => Frame::AssistantEnd {
                message_id: *message_id,
                seq: *seq,
                text,
                usage: *usage,
                interrupted: *interrupted,
                intent: intent.as_deref(),
                handled_by: handled_by.as_deref(),
            },
            ConversationEvent::Products { message_id, items } => Frame::Products {
                message_id: *message_id,
                items: items.iter().map(ProductItem::from).collect(),
            },
            ConversationEvent::Cart { cart } => Frame::Cart {
                items: cart.lines.iter().map(CartItem::from).collect(),
                total: cart.total(),
                item_count: cart.lines.iter().map(|l| l.quantity).sum(),
            },
            ConversationEvent::Checkout { link } => Frame::Checkout {
                checkout_id: link.order_id,
                order_number: link.number,
                url: &link.url,
                expires_at: chrono::DateTime::from_timestamp(link.expires_at, 0)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default(),
                total: link.total,
            },
            ConversationEvent::Order { update } => Frame::Order {
                order_id: update.order_id,
                order_number: update.number,
                status: update.status.as_str(),
                total: update.total,
            },
            ConversationEvent::Error { code, message } => Frame::Error {
                code,
                message,
                retry_after_ms: None,
            },
        }
    }
}

impl Frame<'_> {
    /// An `error` frame.
    pub fn error<'a>(code: &'a str, message: &'a str) -> Frame<'a> {
        Frame::Error {
            code,
            message,
            retry_after_ms: None,
        }
    }

    /// The `type` tag (also the SSE event name and the frames-sent metric's label).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Ack { .. } => "ack",
            Self::UserMessage { .. } => "user_message",
            Self::AssistantStart { .. } => "assistant_start",
            Self::Delta { .. } => "delta",
            Self::AssistantEnd { .. } => "assistant_end",
            Self::Products { .. } => "products",
            Self::Cart { .. } => "cart",
            Self::Checkout { .. } => "checkout",
            Self::Order { .. } => "order",
            Self::Error { .. } => "error",
            Self::Pong => "pong",
        }
    }

    /// The sequence number of a durable frame (the SSE event id).
    pub fn seq(&self) -> Option<i64> {
        match self {
            Self::Ack { seq, .. }
            | Self::UserMessage { seq, .. }
            | Self::AssistantStart { seq, .. }
            | Self::AssistantEnd { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// The frame as JSON text.
    pub fn to_json(&self) -> String {
        // Serializing these plain structs cannot fail (string keys, no maps of other keys).
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// Appends the frame's JSON to `buf` (for encodings that wrap it, such as SSE: the text is
    /// written once, straight into the event).
    pub fn write_json(&self, buf: &mut Vec<u8>) {
        // As above: cannot fail; writing into a Vec has no I/O error either.
        if serde_json::to_writer(&mut *buf, self).is_err() {
            buf.extend_from_slice(b"{}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_the_documented_shape() {
        let id = MessageId::new_random();
        let ev = ConversationEvent::Delta {
            message_id: id,
            text: "héllo".into(),
            index: 3,
        };
        let v: serde_json::Value = serde_json::from_str(&Frame::from(&ev).to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "delta", "message_id": id, "text": "héllo", "index": 3})
        );
        let hello = ConversationEvent::Hello {
            conversation_id: ConversationId::new_random(),
            last_seq: 4,
            assistant_name: None,
            greeting: Some("Hi".into()),
        };
        let v: serde_json::Value = serde_json::from_str(&Frame::from(&hello).to_json()).unwrap();
        assert_eq!(v["protocol"], PROTOCOL_VERSION);
        assert_eq!(v["greeting"], "Hi");
        assert!(v.get("assistant_name").is_none());
        assert_eq!(Frame::Pong.to_json(), r#"{"type":"pong"}"#);
    }
}
