//! Conversation endpoints.
//!
//! - `POST /v1/conversations` (publishable key, allowed origin): creates a conversation and its
//!   visitor token.
//! - `GET /v1/conversations/{id}`, `GET /v1/conversations/{id}/messages?after=&limit=`: the
//!   visitor token of that conversation (checked by [`authorize_visitor`], as on the WebSocket),
//!   or the merchant's secret key.
//! - `GET /v1/conversations/{id}/export`, `DELETE /v1/conversations/{id}`: the visitor's data
//!   as one JSON document, and its erasure (the same visitor token or secret key).
//! - `POST /v1/conversations/{id}/messages`: the HTTP fallback of the WebSocket. Answers the
//!   finished reply as JSON, or streams the same events as Server-Sent Events (`http::sse`) when
//!   the request accepts `text/event-stream`.

use crate::http::auth::{
    PublishableKeyAuth, VISITOR_TOKEN_PREFIX, authenticate_secret, authorize_visitor, bearer,
};
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::http::protocol::{MessageLimits, validate_user_message};
use crate::http::sse::{self, ReplyWatch, Subscription};
use crate::http::state::AppState;
use crate::http::wire::{Frame, ProductItem, SUBPROTOCOL};
use crate::merchants::{generate_token, normalize_origin};
use crate::store::{self, StoreError, conversations::Conversation};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use agentpay_actors::conversation::{
    ConversationEvent, PostUserMessage, Posted, SharedEvent, Signal, Subscribe,
};
use agentpay_actors::ids::ConversationId;
use agentpay_actors::ports::store::{MessageStatus, StoredMessage};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// `POST /v1/conversations`: a new conversation for the publishable key's merchant.
pub async fn create_conversation(
    req: HttpRequest,
    auth: PublishableKeyAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let ip = state.limits.client_ip(&req);
    state
        .limits
        .check_create(&state.pool, auth.merchant.id, &ip)
        .await?;
    let token = generate_token(VISITOR_TOKEN_PREFIX)?;
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .and_then(normalize_origin);
    let conversation = state
        .writer
        .create_conversation(auth.merchant.id, token.hash, origin)
        .await?;
    // A visitor arrived: their first search should not wait for the catalog's vocabulary.
    state.catalog.warm(auth.merchant.id);
    let ws_base = state
        .public_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    Ok(HttpResponse::Created().json(json!({
        "id": conversation.id,
        "visitor_token": token.plain,
        "ws_url": format!("{ws_base}/v1/conversations/{}/ws", conversation.id),
        "ws_protocol": SUBPROTOCOL,
        "last_seq": conversation.last_seq,
        "created_at": conversation.created_at,
    })))
}

/// Who opened a conversation.
pub enum Opener {
    /// Its visitor.
    Visitor,
    /// Its merchant (secret key).
    Merchant,
}

/// Resolves `{id}` + the bearer credential to the conversation, or 404 when the credential does
/// not open it (another conversation's token, another merchant's key: indistinguishable from a
/// missing conversation).
pub async fn open_conversation(
    req: &HttpRequest,
    state: &AppState,
    raw_id: &str,
) -> Result<(Conversation, Opener), ApiError> {
    let token = bearer(req)?;
    if token.starts_with(VISITOR_TOKEN_PREFIX) {
        let conversation = authorize_visitor(req, state, raw_id, Some(&token)).await?;
        return Ok((conversation, Opener::Visitor));
    }
    let id: ConversationId = raw_id
        .parse()
        .map_err(|_| ApiError::not_found("conversation"))?;
    let (merchant, _) = authenticate_secret(req).await?;
    match store::conversations::get_with_token(&state.pool, id).await {
        Ok(a) if a.conversation.merchant_id == merchant.id => {
            Ok((a.conversation, Opener::Merchant))
        }
        Ok(_) | Err(StoreError::NotFound) => Err(ApiError::not_found("conversation")),
        Err(e) => Err(e.into()),
    }
}

/// `GET /v1/conversations/{id}`.
pub async fn get_conversation(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, _) = open_conversation(&req, &state, &path).await?;
    Ok(HttpResponse::Ok().json(conversation))
}

/// `GET /v1/conversations/{id}/export`: everything stored for the conversation's visitor
/// (messages, session state, orders, handoff requests) as one JSON document.
pub async fn export_conversation(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, _) = open_conversation(&req, &state, &path).await?;
    let doc =
        store::privacy::export(&state.pool, conversation.merchant_id, conversation.id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"conversation-{}.json\"",
                conversation.id
            ),
        ))
        .json(doc))
}

/// `DELETE /v1/conversations/{id}`: erases the conversation and everything of its visitor. A
/// live conversation is stopped first (its connections close with 1012, and reconnecting finds
/// nothing); its orders stay, without the link.
pub async fn delete_conversation(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, opener) = open_conversation(&req, &state, &path).await?;
    state.registry.stop(conversation.id).await;
    store::privacy::erase(&state.pool, conversation.merchant_id, conversation.id).await?;
    tracing::info!(
        conversation_id = %conversation.id,
        merchant_id = %conversation.merchant_id,
        by = match opener { Opener::Visitor => "visitor", Opener::Merchant => "merchant" },
        "conversation erased"
    );
    Ok(HttpResponse::NoContent().finish())
}

/// Query of the messages list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Only messages with an event after this sequence number (default 0: all).
    pub after: Option<i64>,
    /// Most messages (1-500, default 100).
    pub limit: Option<i64>,
}

/// `GET /v1/conversations/{id}/messages?after=&limit=`.
pub async fn list_messages(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<MessagesQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, _) = open_conversation(&req, &state, &path).await?;
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(100);
    if after < 0 || !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "after must be >= 0 and limit between 1 and 500",
        ));
    }
    let messages = store::conversations::list_messages(&state.pool, conversation.id, after, limit)
        .await
        .map_err(StoreError::from)?;
    let next_after = messages
        .iter()
        .map(|m| m.end_seq.unwrap_or(m.seq).max(m.seq))
        .max();
    Ok(HttpResponse::Ok().json(json!({
        "data": messages,
        "last_seq": conversation.last_seq,
        "next_after": next_after,
    })))
}

/// Body of `POST /v1/conversations/{id}/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// Idempotency key: a resent message with the same key is not processed twice.
    pub client_id: String,
    /// The visitor's text.
    pub text: String,
}

/// The end event of a stored reply, if it has ended.
fn end_event(m: &StoredMessage) -> Option<ConversationEvent> {
    Some(ConversationEvent::AssistantEnd {
        message_id: m.id,
        seq: m.end_seq?,
        text: m.text.clone(),
        usage: m.usage,
        interrupted: m.status == MessageStatus::Interrupted,
        intent: m.meta.intent.clone(),
        handled_by: m.meta.handled_by.clone(),
    })
}

/// `POST /v1/conversations/{id}/messages`: the HTTP fallback (see the module docs).
pub async fn post_message(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    body: ApiJson<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, _) = open_conversation(&req, &state, &path).await?;
    let body = body.into_inner()?;
    let limits = MessageLimits {
        max_text_bytes: state.settings.conversation.max_message_bytes,
        max_client_id_bytes: state.settings.conversation.max_client_id_bytes,
    };
    validate_user_message(&body.client_id, &body.text, limits).map_err(|e| {
        let field = if e.code == "invalid_client_id" {
            "client_id"
        } else {
            "text"
        };
        ApiError::Unprocessable {
            field: field.into(),
            message: e.message,
        }
    })?;
    state
        .limits
        .check_chat(
            &state.pool,
            conversation.merchant_id,
            &conversation.id.to_string(),
        )
        .await?;
    let wants_sse = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));

    let registry = state.registry.clone();
    let id = conversation.id;
    let (tx, mut rx) = mpsc::channel::<Signal>(state.settings.websocket.subscriber_queue_events);
    let (subscriber, _) = registry
        .ask(id, || Subscribe {
            after: None,
            sender: tx.clone(),
        })
        .await?;
    drop(tx);
    // From here on, every way out (an error, the JSON answer, the SSE stream's end or the
    // client hanging up) unsubscribes.
    let subscription = Subscription::new(registry.clone(), id, subscriber);
    let posted: Posted = registry
        .ask(id, || PostUserMessage {
            subscriber: Some(subscription.id()),
            client_id: body.client_id.clone(),
            text: body.text.clone(),
        })
        .await?;
    // A resent message may already have its reply.
    let mut stored_reply = None;
    let mut finished: Option<Arc<SharedEvent>> = None;
    let mut products: Vec<Value> = Vec::new();
    let mut cart: Option<Value> = None;
    let mut checkout: Option<Value> = None;
    if posted.duplicate
        && let Some(reply) = store::conversations::reply_to(&state.pool, id, posted.seq)
            .await
            .map_err(StoreError::from)?
    {
        stored_reply = Some(reply.id);
        finished = end_event(&reply).map(Into::into);
        products = reply
            .meta
            .products
            .iter()
            .map(|c| json!(ProductItem::from(c)))
            .collect();
        cart = reply
            .meta
            .cart
            .as_ref()
            .map(|c| frame_json(&ConversationEvent::Cart { cart: c.clone() }));
        checkout = reply
            .meta
            .checkout
            .as_ref()
            .map(|link| frame_json(&ConversationEvent::Checkout { link: link.clone() }));
    }
    let mut watch = ReplyWatch::new(posted.seq, stored_reply);
    let reply_timeout = Duration::from_secs(state.settings.conversation.reply_timeout_secs);

    if wants_sse {
        let ack: Arc<SharedEvent> = ConversationEvent::Ack {
            client_id: body.client_id,
            seq: posted.seq,
        }
        .into();
        let first = std::iter::once(ack).chain(finished).collect();
        let deadline = tokio::time::Instant::now() + reply_timeout;
        let events = sse::reply_stream(subscription, rx, watch, first, deadline);
        return Ok(sse::response(events));
    }

    let end = match finished {
        Some(ev) => Some(ev),
        None => {
            let wait = async {
                while let Some(signal) = rx.recv().await {
                    let Signal::Event(ev) = signal else { continue };
                    if !watch.relevant(&ev) {
                        continue;
                    }
                    if watch.is_end(&ev) {
                        return Some(ev);
                    }
                    match &**ev {
                        ConversationEvent::Products { items, .. } => {
                            products = items.iter().map(|c| json!(ProductItem::from(c))).collect();
                        }
                        ConversationEvent::Cart { .. } => cart = Some(frame_json(&ev)),
                        ConversationEvent::Checkout { .. } => checkout = Some(frame_json(&ev)),
                        _ => {}
                    }
                }
                None
            };
            tokio::time::timeout(reply_timeout, wait)
                .await
                .ok()
                .flatten()
        }
    };
    drop(subscription);
    let Some(ConversationEvent::AssistantEnd {
        message_id,
        seq,
        text,
        usage,
        interrupted,
        intent,
        handled_by,
    }) = end.as_deref().map(|e| &**e)
    else {
        return Err(ApiError::Unavailable(
            "the reply did not finish; your message is stored, fetch the messages later".into(),
        ));
    };
    Ok(HttpResponse::Ok().json(json!({
        "ack": {"client_id": body.client_id, "seq": posted.seq, "duplicate": posted.duplicate},
        "reply": {
            "message_id": message_id, "seq": seq, "text": text, "usage": usage,
            "interrupted": interrupted, "intent": intent, "handled_by": handled_by,
            "products": products, "cart": cart, "checkout": checkout,
        },
    })))
}

/// An event's wire frame as JSON, without its `type`.
fn frame_json(ev: &ConversationEvent) -> Value {
    let mut v = serde_json::to_value(Frame::from(ev)).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("type");
    }
    v
}
