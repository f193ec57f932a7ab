//! The WebSocket edge: `GET /v1/conversations/{id}/ws`, one `WsSession` actor per connection.
//!
//! The session bridges actix-ws to its conversation actor: client frames come in through the
//! actix-ws message stream (added with `ctx.add_stream`), conversation events through a bounded
//! channel (also a stream). Outbound frames go through a queue the actor drains one batch at a
//! time, so writes stay ordered; a queue that stays longer than `websocket.max_outbound_frames`
//! means the client is too slow and the connection is closed with 4008 (it resumes with `after`).
//!
//! Deltas arrive already batched (the turn sends reply text to the conversation about once per
//! `websocket.flush_interval_ms`, see `ConversationSettings::delta_flush`). A delta that finds
//! the connection idle goes out at once; one that finds a write in progress waits in a
//! coalescing buffer that later deltas join, written as one frame when the write completes. So a
//! slow reader gets fewer, bigger frames, and no timer runs per delta.
//!
//! A frame is encoded once however many connections watch the conversation: the conversation
//! shares one event between its subscribers, and the first connection to send it stores its
//! JSON there (`SharedEvent::encoded`); the others send the same bytes. The one copy of a
//! delta's text is the coalescing buffer, made only when the delta must wait. All the frames
//! queued on a connection reach actix-ws's channel together, and actix-http encodes everything
//! waiting there into its write buffer before one `write` to the socket.
//!
//! Closing: a close the client starts is answered at once with a Close frame carrying the
//! client's code (RFC 6455 §5.5.1), after giving back the connection's subscription and limit
//! slots, so a new connection can take its place immediately. A close the server starts writes
//! what is queued, then the Close frame with a code from `wire::close`.
//!
//! Authorisation is [`authorize_visitor`] (token and origin), the same check as the HTTP
//! endpoints; a refusal is an upgrade then a close (4001, 4003, 4004), so browsers see why.

use super::auth::{VISITOR_TOKEN_PREFIX, authorize_visitor};
use super::errors::ApiError;
use super::limits::ConnectionSlots;
use super::protocol::{ClientFrame, MessageLimits, parse_client_frame};
use super::state::AppState;
use super::wire::{Frame, SUBPROTOCOL, close, close_for};
use actix::prelude::*;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError, Session};
use agentpay_actors::agent::shop::{AddRefusal, AddRequest, RemoveRequest};
use agentpay_actors::conversation::{
    AskError, CancelReply, CartChangeError, CartOp, ChangeCart, ConversationError,
    ConversationEvent, ConversationRegistry, PostUserMessage, SharedEvent, Signal, Subscribe,
    SubscriberId, Unsubscribe,
};
use agentpay_actors::ids::{ConversationId, MerchantId, MessageId};
use bytestring::ByteString;
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// Per-connection settings, copied from `[websocket]` and `[conversation]`.
#[derive(Debug, Clone, Copy)]
struct WsSettings {
    heartbeat: Duration,
    client_timeout: Duration,
    max_outbound: usize,
    queue_events: usize,
    limits: MessageLimits,
}

/// A delta waiting to be coalesced with the next ones.
struct PendingDelta {
    /// The reply it belongs to.
    message_id: MessageId,
    /// Character offset of `text` in the reply.
    index: usize,
    /// Character offset just past `text`: where a contiguous next delta starts.
    end: usize,
    /// The coalesced text (the one copy of the deltas' text before serialization).
    text: String,
}

/// One WebSocket connection. See the module docs.
pub struct WsSession {
    /// Writes to the socket (a bounded sender inside actix-ws).
    session: Session,
    /// The conversation this connection watches; fixed.
    conversation_id: ConversationId,
    /// Finds (or restarts) the conversation actor.
    registry: Arc<ConversationRegistry>,
    /// Our subscription, once subscribed.
    subscriber: Option<SubscriberId>,
    /// Bumped on every new subscription; a finished stream of an older one is ignored.
    generation: u64,
    /// The last durable sequence number sent to the client: resubscriptions replay after it.
    last_seq: Option<i64>,
    /// The reply whose text was sent last, and where its text sent so far ends.
    delta_end: Option<(MessageId, usize)>,
    /// Last frame from the client, for the heartbeat timeout.
    last_heard: Instant,
    /// Frames waiting to be written, in order.
    outbound: VecDeque<ByteString>,
    /// True while a batch is being written.
    writing: bool,
    /// Delta text waiting for the write in progress (coalescing).
    pending: Option<Box<PendingDelta>>,
    /// Set once closing: nothing more is read or written.
    closing: bool,
    /// Limits and timings.
    settings: WsSettings,
    /// Shared state (metrics, limits).
    state: web::Data<AppState>,
    /// The conversation's merchant (for its limits).
    merchant_id: MerchantId,
    /// Connection slots, given back (dropped) when the client closes or the session stops.
    slots: Option<ConnectionSlots>,
}

/// Stream item carrying conversation signals, tagged with the subscription generation; `None`
/// marks the end of that subscription's stream.
struct Tagged(u64, Option<Signal>);

impl WsSession {
    fn enqueue_frame(&mut self, frame: &Frame<'_>, ctx: &mut Context<Self>) {
        self.state
            .metrics
            .websocket_frames_sent_total
            .with_label_values(&[frame.kind()])
            .inc();
        self.enqueue(frame.to_json().into(), ctx);
    }

    /// Queues a conversation's event, encoded once for all its connections.
    fn enqueue_shared(&mut self, ev: &SharedEvent, ctx: &mut Context<Self>) {
        let metrics = &self.state.metrics;
        if matches!(**ev, ConversationEvent::Delta { .. }) {
            metrics.websocket_delta_frames_sent.inc();
        } else {
            metrics
                .websocket_frames_sent_total
                .with_label_values(&[Frame::from(&**ev).kind()])
                .inc();
        }
        let json = ev.encoded(|e| web::Bytes::from(Frame::from(e).to_json()));
        match ByteString::try_from(json) {
            Ok(frame) => self.enqueue(frame, ctx),
            // Unreachable: the bytes are a `String`'s.
            Err(_) => self.enqueue_frame(&Frame::from(&**ev), ctx),
        }
    }

    fn enqueue(&mut self, frame: ByteString, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        if self.outbound.len() >= self.settings.max_outbound {
            tracing::info!(conversation_id = %self.conversation_id, "closing a connection that reads too slowly");
            self.state
                .metrics
                .websocket_slow_consumer_disconnects_total
                .inc();
            self.close(
                ctx,
                close::POLICY,
                "too slow: reconnect with `after` to resume",
            );
            return;
        }
        self.outbound.push_back(frame);
        self.write_next(ctx);
    }

    /// Writes everything queued, one batch at a time, in order.
    fn write_next(&mut self, ctx: &mut Context<Self>) {
        if self.writing || self.outbound.is_empty() {
            return;
        }
        self.writing = true;
        let batch: Vec<ByteString> = self.outbound.drain(..).collect();
        let mut session = self.session.clone();
        let write = async move {
            for frame in batch {
                session.text(frame).await?;
            }
            Ok::<_, actix_ws::Closed>(())
        };
        ctx.spawn(write.into_actor(self).map(|res, act, ctx| {
            act.writing = false;
            if res.is_err() {
                ctx.stop();
                return;
            }
            // What waited for this write goes next, coalesced.
            act.flush_delta(ctx);
            act.write_next(ctx);
        }));
    }

    /// Gives back what the connection holds in the conversation and the limiter: the
    /// subscription and the connection slots. Idempotent.
    fn release(&mut self) {
        if let Some(id) = self.subscriber.take() {
            // Losing this is fine: a closed channel is dropped on the next broadcast.
            self.registry.tell(self.conversation_id, Unsubscribe { id });
        }
        // Dropping the slots sends their release to the limiter.
        self.slots = None;
    }

    /// The client sent a Close frame: answer with the same code (none if it gave none, as RFC
    /// 6455 §5.5.1 has it), as soon as practical: frames still queued are dropped, the client
    /// reads no more. Everything held is given back before the answer is even queued, so a
    /// client that reconnects on seeing it finds its slot free.
    fn answer_close(&mut self, reason: Option<CloseReason>, ctx: &mut Context<Self>) {
        self.closing = true;
        self.release();
        self.pending = None;
        self.outbound.clear();
        let answer = reason.map(|r| CloseReason {
            code: r.code,
            description: None,
        });
        let session = self.session.clone();
        // Detached, not ctx.spawn: the actor stops now and the answer must still go out. If a
        // close of ours already went, this fails harmlessly (the session is closed).
        actix_web::rt::spawn(async move {
            let _ = session.close(answer).await;
        });
        ctx.stop();
    }

    /// Queues the coalesced delta, if any.
    fn flush_delta(&mut self, ctx: &mut Context<Self>) {
        if let Some(p) = self.pending.take() {
            let frame = Frame::Delta {
                message_id: p.message_id,
                text: &p.text,
                index: p.index,
            };
            self.enqueue_frame(&frame, ctx);
        }
    }

    fn is_idle(&self) -> bool {
        !self.writing && self.outbound.is_empty()
    }

    fn on_event(&mut self, ev: &SharedEvent, ctx: &mut Context<Self>) {
        if let ConversationEvent::Delta {
            message_id,
            text,
            index,
        } = &**ev
        {
            let (message_id, index) = (*message_id, *index);
            let end = index + text.chars().count();
            if let Some((m, shown)) = self.delta_end
                && m == message_id
                && index > shown
            {
                // Text of this reply never reached this connection (no event is dropped for a
                // subscriber without ending its subscription, so this should not happen): the
                // client would show a reply with a hole. A new subscription sends the reply's
                // text so far at index 0.
                tracing::warn!(conversation_id = %self.conversation_id, shown, index, "a reply's text skipped on this connection; subscribing again");
                self.state.metrics.websocket_text_gaps_total.inc();
                self.delta_end = None;
                self.flush_delta(ctx);
                let after = self.last_seq;
                self.subscribe(ctx, after);
                return;
            }
            self.delta_end = Some((message_id, end));
            if let Some(p) = self.pending.as_mut()
                && p.message_id == message_id
                && p.end == index
            {
                p.text.push_str(text);
                p.end = end;
                self.state.metrics.websocket_deltas_coalesced_total.inc();
                return;
            }
            self.flush_delta(ctx);
            if self.is_idle() {
                // Nothing to wait for: the shared encoding goes straight out.
                self.enqueue_shared(ev, ctx);
                return;
            }
            self.pending = Some(Box::new(PendingDelta {
                message_id,
                index,
                end,
                text: text.clone(),
            }));
            return;
        }
        // Anything else keeps its place after the deltas before it.
        self.flush_delta(ctx);
        if let Some(seq) = ev.seq() {
            self.last_seq = Some(self.last_seq.map_or(seq, |s| s.max(seq)));
        }
        if let ConversationEvent::Hello { last_seq, .. } = &**ev
            && self.last_seq.is_none()
        {
            self.last_seq = Some(*last_seq);
        }
        self.enqueue_shared(ev, ctx);
    }

    fn send_error(&mut self, code: &str, message: &str, ctx: &mut Context<Self>) {
        self.flush_delta(ctx);
        self.enqueue_frame(&Frame::error(code, message), ctx);
    }

    /// Closes after writing what is queued.
    fn close(&mut self, ctx: &mut Context<Self>, code: u16, reason: &str) {
        if self.closing {
            return;
        }
        self.flush_delta(ctx);
        self.closing = true;
        self.state
            .metrics
            .websocket_closes_total
            .with_label_values(&[code.to_string().as_str()])
            .inc();
        let pending: Vec<ByteString> = self.outbound.drain(..).collect();
        let session = self.session.clone();
        let reason = CloseReason {
            code: CloseCode::Other(code),
            description: Some(reason.to_string()),
        };
        ctx.spawn(
            async move {
                let mut s = session.clone();
                for frame in pending {
                    if s.text(frame).await.is_err() {
                        return;
                    }
                }
                let _ = session.close(Some(reason)).await;
            }
            .into_actor(self)
            .map(|_, _, ctx| ctx.stop()),
        );
    }

    /// Subscribes (again) to the conversation, replaying after `after`.
    fn subscribe(&mut self, ctx: &mut Context<Self>, after: Option<i64>) {
        if let Some(old) = self.subscriber.take() {
            self.registry
                .tell(self.conversation_id, Unsubscribe { id: old });
        }
        self.generation += 1;
        let generation = self.generation;
        let (tx, rx) = mpsc::channel(self.settings.queue_events);
        let signals = ReceiverStream::new(rx)
            .map(move |s| Tagged(generation, Some(s)))
            .chain(futures_util::stream::once(async move {
                Tagged(generation, None)
            }));
        ctx.add_stream(signals);
        let registry = self.registry.clone();
        let id = self.conversation_id;
        ctx.wait(
            async move {
                registry
                    .ask(id, || Subscribe {
                        after,
                        sender: tx.clone(),
                    })
                    .await
            }
            .into_actor(self)
            .map(move |res, act, ctx| match res {
                Ok((sid, _)) => {
                    if act.generation == generation && !act.closing {
                        act.subscriber = Some(sid);
                    } else {
                        // Superseded, or the client closed while we waited: do not keep it.
                        act.registry.tell(act.conversation_id, Unsubscribe { id: sid });
                    }
                }
                Err(e) => {
                    tracing::warn!(conversation_id = %act.conversation_id, error = %e, "could not subscribe");
                    let code = if e == AskError::Conversation(ConversationError::ShuttingDown) {
                        close::RESTARTING
                    } else {
                        close::INTERNAL
                    };
                    let e = ApiError::from(e);
                    act.send_error(e.code(), &e.to_string(), ctx);
                    act.close(ctx, code, "conversation unavailable");
                }
            }),
        );
    }

    /// Checks the chat limit, then posts. The check runs under `ctx.wait` so messages reach the
    /// conversation in the order the client sent them.
    fn post(&mut self, client_id: String, text: String, ctx: &mut Context<Self>) {
        let state = self.state.clone();
        let merchant = self.merchant_id;
        let id = self.conversation_id;
        let check = async move {
            state
                .limits
                .check_chat(&state.pool, merchant, &id.to_string())
                .await
        };
        ctx.wait(check.into_actor(self).map(move |res, act, ctx| match res {
            Ok(()) => act.send_post(client_id, text, ctx),
            Err(limited) => {
                // Nothing was stored; the visitor may send it again after the wait.
                act.flush_delta(ctx);
                act.enqueue_frame(
                    &Frame::Error {
                        code: "rate_limited",
                        message: "too many messages; wait a moment before sending again",
                        retry_after_ms: Some(
                            u64::try_from(limited.retry_after.as_millis()).unwrap_or(u64::MAX),
                        ),
                    },
                    ctx,
                );
            }
        }));
    }

    fn send_post(&mut self, client_id: String, text: String, ctx: &mut Context<Self>) {
        let registry = self.registry.clone();
        let id = self.conversation_id;
        let subscriber = self.subscriber;
        // `ask` enqueues the message when first polled; spawned futures are polled in order.
        let fut = async move {
            registry
                .ask(id, || PostUserMessage {
                    subscriber,
                    client_id: client_id.clone(),
                    text: text.clone(),
                })
                .await
        };
        ctx.spawn(fut.into_actor(self).map(|res, act, ctx| {
            if let Err(e) = res {
                let e = ApiError::from(e);
                act.send_error(e.code(), &e.to_string(), ctx);
            }
        }));
    }

    fn handle_frame(&mut self, raw: &str, ctx: &mut Context<Self>) {
        match parse_client_frame(raw, self.settings.limits) {
            Err(e) => self.send_error(e.code, &e.message, ctx),
            Ok(ClientFrame::Ping) => self.enqueue_frame(&Frame::Pong, ctx),
            Ok(ClientFrame::UserMessage { client_id, text }) => self.post(client_id, text, ctx),
            Ok(ClientFrame::Cancel) => {
                // Told, not asked: never refused for a full mailbox; lost only when the actor
                // is gone, and then there is no reply left to cancel.
                self.registry.tell(self.conversation_id, CancelReply);
            }
            Ok(ClientFrame::Resume { after }) => {
                self.flush_delta(ctx);
                self.last_seq = Some(after);
                self.subscribe(ctx, Some(after));
            }
            Ok(ClientFrame::CartAdd {
                external_id,
                quantity,
                sku,
                size,
                color,
            }) => self.change_cart(
                CartOp::Add(AddRequest {
                    external_id,
                    quantity,
                    sku,
                    size: size.map(|s| s.to_uppercase()),
                    colour: color.map(|c| c.to_lowercase()),
                    set: false,
                }),
                ctx,
            ),
            Ok(ClientFrame::CartRemove {
                external_id,
                sku,
                quantity,
            }) => self.change_cart(
                CartOp::Remove(RemoveRequest {
                    external_id: Some(external_id),
                    sku,
                    quantity,
                    keep: None,
                    all: false,
                }),
                ctx,
            ),
        }
    }

    /// Applies a cart frame; the new cart reaches every subscriber as a `cart` event, a refusal
    /// only this connection as an `error`.
    fn change_cart(&mut self, op: CartOp, ctx: &mut Context<Self>) {
        let registry = self.registry.clone();
        let id = self.conversation_id;
        let fut = async move { registry.ask(id, || ChangeCart { op: op.clone() }).await };
        ctx.spawn(fut.into_actor(self).map(|res, act, ctx| {
            let (code, message) = match res {
                Ok(Ok(_)) => return,
                Ok(Err(e)) => cart_refusal(e),
                Err(e) => {
                    let e = ApiError::from(e);
                    (e.code(), e.to_string())
                }
            };
            act.send_error(code, &message, ctx);
        }));
    }
}

impl Actor for WsSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.state.metrics.websocket_connections.inc();
        ctx.run_interval(self.settings.heartbeat, |act, ctx| {
            if act.last_heard.elapsed() > act.settings.client_timeout {
                act.close(ctx, close::POLICY, "heartbeat timeout");
                return;
            }
            let mut s = act.session.clone();
            ctx.spawn(
                async move {
                    let _ = s.ping(b"").await;
                }
                .into_actor(act),
            );
        });
        let after = self.last_seq;
        self.subscribe(ctx, after);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.state.metrics.websocket_connections.dec();
        self.release();
    }
}

impl StreamHandler<Result<AggregatedMessage, ProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<AggregatedMessage, ProtocolError>, ctx: &mut Self::Context) {
        if let Ok(AggregatedMessage::Close(reason)) = item {
            // Also while closing ourselves: our Close may not have gone out yet, and if it has,
            // this completes the handshake and the answer is skipped.
            self.answer_close(reason, ctx);
            return;
        }
        if self.closing {
            return;
        }
        self.last_heard = Instant::now();
        match item {
            Ok(AggregatedMessage::Text(text)) => self.handle_frame(&text, ctx),
            Ok(AggregatedMessage::Binary(_)) => {
                self.send_error("binary_not_supported", "send JSON text frames", ctx);
            }
            Ok(AggregatedMessage::Ping(bytes)) => {
                let mut s = self.session.clone();
                ctx.spawn(
                    async move {
                        let _ = s.pong(&bytes).await;
                    }
                    .into_actor(self),
                );
            }
            Ok(AggregatedMessage::Pong(_) | AggregatedMessage::Close(_)) => {}
            Err(ProtocolError::Io(e)) => {
                // The connection itself failed: nobody is left to tell.
                tracing::debug!(error = %e, "websocket connection error");
                ctx.stop();
            }
            Err(e) => {
                tracing::debug!(error = %e, "websocket protocol error");
                let (code, reason) = match e {
                    ProtocolError::Overflow => (close::TOO_BIG, "frame too large"),
                    _ => (close::PROTOCOL_ERROR, "protocol error"),
                };
                self.close(ctx, code, reason);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl StreamHandler<Tagged> for WsSession {
    fn handle(&mut self, Tagged(generation, signal): Tagged, ctx: &mut Self::Context) {
        if generation != self.generation || self.closing {
            return;
        }
        match signal {
            Some(Signal::Event(ev)) => self.on_event(&ev, ctx),
            Some(Signal::Close(cause)) => {
                let (code, reason) = close_for(cause);
                self.close(ctx, code, reason);
            }
            None => {
                // The conversation actor went away (it crashed or restarted): tell the client
                // and resubscribe; the registry starts a fresh actor and replays what was missed.
                self.subscriber = None;
                self.send_error(
                    "conversation_restarted",
                    "the conversation restarted; events since the last one you saw follow",
                    ctx,
                );
                let after = self.last_seq;
                self.subscribe(ctx, after);
            }
        }
    }

    fn finished(&mut self, _: &mut Self::Context) {
        // Each subscription's stream ends with a `None` item handled above; the session
        // outlives its subscriptions, so the default (stop the actor) must not run.
    }
}

/// The visitor token a WebSocket request offers: a `Sec-WebSocket-Protocol` entry (browsers
/// cannot set headers on a WebSocket), else the `token` query parameter.
fn offered_token(req: &HttpRequest) -> Option<String> {
    if let Some(h) = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        && let Some(t) = h
            .split(',')
            .map(str::trim)
            .find(|p| p.starts_with(VISITOR_TOKEN_PREFIX))
    {
        return Some(t.to_string());
    }
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("token").cloned())
}

fn after_param(req: &HttpRequest) -> Option<i64> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("after").and_then(|a| a.parse::<i64>().ok()))
        .filter(|a| *a >= 0)
}

/// `GET /v1/conversations/{id}/ws`: authorises (token and origin), upgrades (closing at once
/// with 4001/4003/4004 when refused, so browsers see why), and starts the session.
pub async fn conversation_ws(
    req: HttpRequest,
    body: web::Payload,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    let token = offered_token(&req);
    let auth = authorize_visitor(&req, &state, &path, token.as_deref())
        .await
        .map(|c| (c.id, c.merchant_id));
    let offers_protocol = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| h.split(',').any(|p| p.trim() == SUBPROTOCOL));
    // Connection limits are checked before the upgrade: a refused client gets a plain 429.
    let slots = match &auth {
        Ok((id, merchant)) => {
            let ip = state.limits.client_ip(&req);
            match state
                .limits
                .acquire_connection(&state.pool, *merchant, &id.to_string(), &ip)
                .await
            {
                Ok(slots) => Some(slots),
                Err(limited) => {
                    return Ok(actix_web::ResponseError::error_response(
                        &super::errors::ApiError::from(limited),
                    ));
                }
            }
        }
        Err(_) => None,
    };
    let (response, session, stream) = if offers_protocol {
        actix_ws::handle_with_protocols(&req, body, &[SUBPROTOCOL])?
    } else {
        actix_ws::handle(&req, body)?
    };
    let (id, merchant_id) = match auth {
        Ok(ids) => ids,
        Err(refusal) => {
            let (code, reason) = refusal.close();
            state
                .metrics
                .websocket_closes_total
                .with_label_values(&[code.to_string().as_str()])
                .inc();
            actix_web::rt::spawn(async move {
                let _ = session
                    .close(Some(CloseReason {
                        code: CloseCode::Other(code),
                        description: Some(reason.to_string()),
                    }))
                    .await;
            });
            return Ok(response);
        }
    };
    // A returning visitor (after a restart): their next search should not wait either.
    state.catalog.warm(merchant_id);
    let s = &state.settings;
    let settings = WsSettings {
        heartbeat: Duration::from_secs(s.websocket.heartbeat_interval_secs),
        client_timeout: Duration::from_secs(s.websocket.client_timeout_secs),
        max_outbound: s.websocket.max_outbound_frames,
        queue_events: s.websocket.subscriber_queue_events,
        limits: MessageLimits {
            max_text_bytes: s.conversation.max_message_bytes,
            max_client_id_bytes: s.conversation.max_client_id_bytes,
        },
    };
    let stream = stream
        .max_frame_size(s.websocket.max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(s.websocket.max_frame_bytes);
    let registry = state.registry.clone();
    let after = after_param(&req);
    let state = state.clone();
    WsSession::create(move |ctx| {
        ctx.add_stream(stream);
        WsSession {
            session,
            conversation_id: id,
            registry,
            subscriber: None,
            generation: 0,
            last_seq: after,
            delta_end: None,
            last_heard: Instant::now(),
            outbound: VecDeque::new(),
            writing: false,
            pending: None,
            closing: false,
            settings,
            state,
            merchant_id,
            slots,
        }
    });
    Ok(response)
}

/// The `error` frame's code and message for a refused cart change.
fn cart_refusal(e: CartChangeError) -> (&'static str, String) {
    match e {
        CartChangeError::Busy => (
            "busy",
            "the assistant is answering; change the cart when its reply ends".into(),
        ),
        CartChangeError::NotInCart => ("not_in_cart", "that product is not in the cart".into()),
        CartChangeError::Refused(r) => match r {
            AddRefusal::NotFound => ("product_not_found", "this store has no such product".into()),
            AddRefusal::NeedsVariant {
                dimension, options, ..
            } => (
                "variant_required",
                format!("choose a {dimension}: {}", options.join(", ")),
            ),
            AddRefusal::NoSuchVariant {
                wanted, options, ..
            } => (
                "variant_not_found",
                format!("no variant {wanted:?}; available: {}", options.join(", ")),
            ),
            AddRefusal::OutOfStock { title } => {
                ("out_of_stock", format!("{title} is out of stock"))
            }
            AddRefusal::NotEnoughStock { title, available } => (
                "insufficient_stock",
                format!("only {available} of {title} in stock"),
            ),
            AddRefusal::Cart { message } => ("cart_limit", message),
            AddRefusal::Unavailable { message } => ("unavailable", message),
        },
    }
}
