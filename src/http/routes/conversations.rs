//! Conversation endpoints.
//!
//! - `POST /v1/conversations` (publishable key, allowed origin): creates a conversation and its
//!   visitor token.
//! - `GET /v1/conversations/{id}`, `GET /v1/conversations/{id}/messages?after=&limit=`: the
//!   visitor token of that conversation, or the merchant's secret key.
//! - `POST /v1/conversations/{id}/messages`: the HTTP fallback of the WebSocket. Answers the
//!   finished reply as JSON, or streams the same events as Server-Sent Events when the request
//!   accepts `text/event-stream`.

use crate::http::auth::{CorsAllowed, PublishableKeyAuth, authenticate_secret, bearer};
use crate::http::errors::ApiError;
use crate::http::extract::ApiJson;
use crate::http::protocol::{MessageLimits, validate_user_message};
use crate::http::state::AppState;
use crate::http::wire::{Frame, SUBPROTOCOL};
use crate::merchants::{generate_token, hash_key, normalize_origin};
use crate::store::{self, StoreError, conversations::Conversation};
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use agentpay_actors::conversation::{
    AskError, ConversationError, ConversationEvent, PostUserMessage, Posted, Signal, Subscribe,
    Unsubscribe,
};
use agentpay_actors::ids::{ConversationId, MessageId};
use agentpay_actors::ports::store::{MessageStatus, StoredMessage};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use tokio::sync::mpsc;

/// Prefix of visitor tokens.
pub const VISITOR_TOKEN_PREFIX: &str = "vt_";

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
    let id: ConversationId = raw_id
        .parse()
        .map_err(|_| ApiError::not_found("conversation"))?;
    if token.starts_with(VISITOR_TOKEN_PREFIX) {
        let (conversation, hash) = match store::conversations::get_with_token(&state.pool, id).await
        {
            Err(StoreError::NotFound) => return Err(ApiError::not_found("conversation")),
            other => other?,
        };
        if hash.as_slice() != hash_key(&token).as_slice() {
            return Err(ApiError::not_found("conversation"));
        }
        check_origin(req, state, &conversation).await?;
        return Ok((conversation, Opener::Visitor));
    }
    let (merchant, _) = authenticate_secret(req).await?;
    match store::conversations::get_with_token(&state.pool, id).await {
        Ok((c, _)) if c.merchant_id == merchant.id => Ok((c, Opener::Merchant)),
        Ok(_) | Err(StoreError::NotFound) => Err(ApiError::not_found("conversation")),
        Err(e) => Err(e.into()),
    }
}

/// A browser request with a visitor token must come from one of the merchant's origins.
async fn check_origin(
    req: &HttpRequest,
    state: &AppState,
    c: &Conversation,
) -> Result<(), ApiError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let merchant = store::merchants::get(&state.pool, c.merchant_id).await?;
    let origin = origin.to_str().ok().and_then(normalize_origin);
    let allowed = merchant.allowed_origins.is_empty()
        || origin.is_some_and(|o| merchant.allowed_origins.contains(&o));
    if !allowed {
        return Err(ApiError::forbidden(
            "origin_not_allowed",
            "this origin is not in the merchant's allowed origins",
        ));
    }
    req.extensions_mut().insert(CorsAllowed);
    Ok(())
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

fn ask_to_api(e: AskError) -> ApiError {
    match e {
        AskError::Conversation(ConversationError::NotFound) => ApiError::not_found("conversation"),
        AskError::Conversation(ConversationError::ShuttingDown) => {
            ApiError::Unavailable("the server is restarting; retry shortly".into())
        }
        AskError::Conversation(ConversationError::Unavailable(_)) | AskError::Gone => {
            ApiError::Unavailable("the conversation is unavailable; retry shortly".into())
        }
        AskError::Timeout => {
            ApiError::Unavailable("the conversation did not answer in time".into())
        }
    }
}

/// Tracks which events belong to the reply of one user message.
struct ReplyWatch {
    user_seq: i64,
    message_id: Option<MessageId>,
}

impl ReplyWatch {
    /// True if `ev` belongs to this exchange; sets the reply id when its start passes.
    fn relevant(&mut self, ev: &ConversationEvent) -> bool {
        match ev {
            ConversationEvent::AssistantStart {
                message_id,
                reply_to_seq,
                ..
            } if *reply_to_seq == self.user_seq => {
                self.message_id = Some(*message_id);
                true
            }
            ConversationEvent::Delta { message_id, .. }
            | ConversationEvent::AssistantEnd { message_id, .. } => {
                Some(*message_id) == self.message_id
            }
            ConversationEvent::Ack { seq, .. } | ConversationEvent::UserMessage { seq, .. } => {
                *seq == self.user_seq
            }
            ConversationEvent::Error { .. } => true,
            _ => false,
        }
    }

    fn is_end(&self, ev: &ConversationEvent) -> bool {
        matches!(ev, ConversationEvent::AssistantEnd { message_id, .. } if Some(*message_id) == self.message_id)
    }
}

fn end_event(m: &StoredMessage) -> Option<ConversationEvent> {
    Some(ConversationEvent::AssistantEnd {
        message_id: m.id,
        seq: m.end_seq?,
        text: m.text.clone(),
        usage: m.usage,
        interrupted: m.status == MessageStatus::Interrupted,
    })
}

fn sse_frame(ev: &ConversationEvent) -> web::Bytes {
    let frame = Frame::from(ev);
    let id = frame
        .seq()
        .map(|s| format!("id: {s}\n"))
        .unwrap_or_default();
    web::Bytes::from(format!(
        "event: {}\n{id}data: {}\n\n",
        frame.kind(),
        frame.to_json()
    ))
}

/// `POST /v1/conversations/{id}/messages`: the HTTP fallback (see the module docs).
pub async fn post_message(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    body: ApiJson<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, _) = open_conversation(&req, &state, &path).await?;
    let body = body.0;
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
        .await
        .map_err(ask_to_api)?;
    drop(tx);
    let posted: Posted = registry
        .ask(id, || PostUserMessage {
            subscriber: Some(subscriber),
            client_id: body.client_id.clone(),
            text: body.text.clone(),
        })
        .await
        .map_err(ask_to_api)?;
    let mut watch = ReplyWatch {
        user_seq: posted.seq,
        message_id: None,
    };
    // A resent message may already have its reply.
    let mut finished = None;
    if posted.duplicate
        && let Some(reply) = store::conversations::reply_to(&state.pool, id, posted.seq)
            .await
            .map_err(StoreError::from)?
    {
        watch.message_id = Some(reply.id);
        finished = end_event(&reply);
    }
    let ack = ConversationEvent::Ack {
        client_id: body.client_id.clone(),
        seq: posted.seq,
    };
    let reply_timeout = Duration::from_secs(state.settings.conversation.reply_timeout_secs);
    let unsubscribe = move || {
        // Losing this is fine: the closed channel is dropped on the conversation's next send.
        registry
            .get_or_start(id)
            .do_send(Unsubscribe { id: subscriber });
    };

    if wants_sse {
        let deadline = tokio::time::Instant::now() + reply_timeout;
        let first = vec![ack.clone()];
        let state0 = (rx, watch, finished, first, false, Some(unsubscribe));
        let stream = futures_util::stream::unfold(
            state0,
            move |(mut rx, mut watch, finished, mut first, done, mut unsub)| async move {
                if done {
                    if let Some(u) = unsub.take() {
                        u();
                    }
                    return None;
                }
                if let Some(ev) = first.pop() {
                    return Some((
                        Ok::<_, actix_web::Error>(sse_frame(&ev)),
                        (rx, watch, finished, first, false, unsub),
                    ));
                }
                if let Some(ev) = finished.clone() {
                    return Some((Ok(sse_frame(&ev)), (rx, watch, None, first, true, unsub)));
                }
                loop {
                    let next = tokio::time::timeout_at(deadline, rx.recv()).await;
                    let ev = match next {
                        Ok(Some(Signal::Event(ev))) => (*ev).clone(),
                        Ok(Some(Signal::Close(_))) | Ok(None) => {
                            let ev = ConversationEvent::error(
                                "unavailable",
                                "the conversation closed before the reply ended",
                            );
                            return Some((
                                Ok(sse_frame(&ev)),
                                (rx, watch, None, first, true, unsub),
                            ));
                        }
                        Err(_) => {
                            let ev = ConversationEvent::error(
                                "timeout",
                                "the reply did not finish in time",
                            );
                            return Some((
                                Ok(sse_frame(&ev)),
                                (rx, watch, None, first, true, unsub),
                            ));
                        }
                    };
                    if matches!(
                        ev,
                        ConversationEvent::Ack { .. } | ConversationEvent::Hello { .. }
                    ) {
                        continue;
                    }
                    if watch.relevant(&ev) {
                        let end = watch.is_end(&ev);
                        return Some((Ok(sse_frame(&ev)), (rx, watch, None, first, end, unsub)));
                    }
                }
            },
        );
        return Ok(HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header(("x-accel-buffering", "no"))
            .streaming(stream));
    }

    let end = match finished {
        Some(ev) => Some(ev),
        None => {
            let wait = async {
                while let Some(signal) = rx.recv().await {
                    if let Signal::Event(ev) = signal
                        && watch.relevant(&ev)
                        && watch.is_end(&ev)
                    {
                        return Some((*ev).clone());
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
    unsubscribe();
    let Some(ConversationEvent::AssistantEnd {
        message_id,
        seq,
        text,
        usage,
        interrupted,
    }) = end
    else {
        return Err(ApiError::Unavailable(
            "the reply did not finish; your message is stored, fetch the messages later".into(),
        ));
    };
    Ok(HttpResponse::Ok().json(json!({
        "ack": {"client_id": body.client_id, "seq": posted.seq, "duplicate": posted.duplicate},
        "reply": {"message_id": message_id, "seq": seq, "text": text, "usage": usage, "interrupted": interrupted},
    })))
}
