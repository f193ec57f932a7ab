//! The model's part of a turn, always behind the [`Guard`]: the tool loop ([`tool_loop`]) and
//! the wording of a reply the offline agent composed ([`word`]).
//!
//! Text reaches the visitor only through the guard: plain words at once, sentences with amounts
//! once checked (see [`super::guard`]). Product cards and cart changes come only from tool
//! results, never from the model's text. Every call has the turn's deadline: a provider that
//! stalls fails the call with [`ModelError::Timeout`] when the deadline passes.

use super::config::AgentConfig;
use super::events::{AgentEvent, ToolRecord};
use super::guard::{Allowed, Guard, Instructions, Step, Violation};
use super::phrases;
use super::turn::{EventSink, TurnDeps, TurnInput, emit};
use crate::cart::Cart;
use crate::conversation::SessionState;
use crate::ports::metering::{Charge, Metering};
use crate::ports::model::{
    ChatMessage, ContentBlock, ModelClient, ModelError, ModelEvent, ModelRequest, ModelStream,
    Role, ToolCall, Usage,
};
use crate::understanding::Lang;
use futures_util::{FutureExt as _, StreamExt};
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How a model pass ended.
#[derive(Debug)]
pub(super) enum PassEnd {
    /// The model answered.
    Done,
    /// Nobody listens any more: the turn stops.
    Gone,
    /// The guard stopped the text; its phrase was said instead.
    Guarded(Violation),
    /// The model failed.
    Failed(ModelError),
}

/// The visitor-facing side of a pass: the guard and what already went out.
pub(super) struct Voice {
    guard: Guard,
    /// Whether any text went out.
    pub wrote: bool,
    /// Whether the serving provider was announced.
    announced: bool,
}

impl Voice {
    /// A voice guarded by `allowed` and `instructions`.
    pub fn new(allowed: Allowed, instructions: Arc<Instructions>) -> Self {
        Self {
            guard: Guard::new(allowed, instructions),
            wrote: false,
            announced: false,
        }
    }

    /// Sends `text` (already checked) to the visitor, announcing who serves (`served()`)
    /// first.
    async fn say<S: EventSink>(
        &mut self,
        sink: &mut S,
        text: String,
        served: impl FnOnce() -> (String, String),
    ) -> bool {
        if text.is_empty() {
            return true;
        }
        if !self.announced {
            self.announced = true;
            let (provider, model) = served();
            if !emit(sink, AgentEvent::Serving { provider, model }).await {
                return false;
            }
        }
        self.wrote = true;
        emit(sink, AgentEvent::TextDelta(text)).await
    }

    /// Sends the engine's own `text` (a phrase, the offline agent's reply) after what went out.
    pub async fn say_own<S: EventSink>(&mut self, sink: &mut S, text: &str) -> bool {
        let sep = if self.wrote { "\n\n" } else { "" };
        self.wrote = true;
        for chunk in super::turn::word_chunks(&format!("{sep}{text}"), 4) {
            if !emit(sink, AgentEvent::TextDelta(chunk)).await {
                return false;
            }
        }
        // The engine's own text is whole: it goes at once, not with whatever comes next.
        sink.flush().await
    }
}

/// The amounts a reply may state at the start of a turn: the cart, the products shown, the
/// merchant's policies.
pub(super) fn allowed_at_start(state: &SessionState, agent: &AgentConfig) -> Allowed {
    let mut a = Allowed::new(agent.rules.max_discount_percent);
    allow_cart(&mut a, &state.cart);
    for p in &state.last_shown {
        a.allow(p.price);
    }
    a.allow_text(&agent.policies.shipping);
    a.allow_text(&agent.policies.returns);
    a
}

fn allow_cart(a: &mut Allowed, cart: &Cart) {
    for l in &cart.lines {
        a.allow(l.unit_price);
        if let Some(t) = l.line_total() {
            a.allow(t);
        }
    }
    if let Some(t) = cart.total() {
        a.allow(t);
    }
}

/// Adds the amounts an event carries (cards, a cart) to `a`.
pub(super) fn allow_event(a: &mut Allowed, ev: &AgentEvent) {
    match ev {
        AgentEvent::ProductsShown(cards) => {
            for c in cards {
                a.allow(c.hit.price);
                if let Some(v) = &c.variant {
                    a.allow(v.price);
                }
            }
        }
        AgentEvent::CartChanged(cart) => allow_cart(a, cart),
        _ => {}
    }
}

/// What the model is told about the session, after the cacheable system prompt: the visitor's
/// language, the cart and the products shown, then `summary` (earlier in the conversation).
fn store_context(state: &SessionState, lang: Lang, summary: &str) -> String {
    let mut c = format!(
        "Store context (from the catalog and the cart; the only amounts you may quote):\n\
         Visitor's language: {}\n",
        lang.code()
    );
    if state.cart.lines.is_empty() {
        c.push_str("Cart: empty\n");
    } else {
        c.push_str("Cart:\n");
        for l in &state.cart.lines {
            c.push_str(&format!(
                "- {} × {} ({}) at {} each\n",
                l.quantity, l.title, l.external_id, l.unit_price
            ));
        }
        if let Some(t) = state.cart.total() {
            c.push_str(&format!("Total: {t}\n"));
        }
    }
    if !state.last_shown.is_empty() {
        c.push_str("Products shown to the visitor, in order:\n");
        for (i, p) in state.last_shown.iter().enumerate() {
            c.push_str(&format!(
                "{}. {} ({}) at {}\n",
                i + 1,
                p.title,
                p.external_id,
                p.price
            ));
        }
    }
    if !summary.is_empty() {
        c.push_str(&format!(
            "Earlier in this conversation (summary): {summary}\n"
        ));
    }
    c
}

/// One model call's outcome.
struct Call {
    /// Its text (before the guard).
    text: String,
    /// The tools it called.
    tool_calls: Vec<ToolCall>,
    /// Its usage, when reported.
    usage: Option<Usage>,
    /// Who served it, when a chain said.
    served: Option<(String, String)>,
    /// How it ended.
    end: PassEnd,
    /// The rest of the stream when the guard stopped it (read for its usage).
    rest: Option<ModelStream>,
}

impl Call {
    /// Reads what is left of a stopped stream for its usage, until the deadline.
    async fn drain(&mut self, deadline: Instant) {
        if let Some(mut rest) = self.rest.take() {
            while let Ok(Some(Ok(ev))) = tokio::time::timeout_at(deadline, rest.next()).await {
                if let ModelEvent::Usage(u) = ev {
                    self.usage = Some(u);
                }
            }
        }
    }

    fn charge(&self, metering: &dyn Metering, model: &dyn ModelClient) -> Option<Charge> {
        self.usage
            .map(|u| Charge::priced(metering, model, self.served.clone(), u))
    }
}

/// Streams one call through `voice`.
async fn call<S: EventSink>(
    model: &dyn ModelClient,
    request: ModelRequest,
    sink: &mut S,
    voice: &mut Voice,
    deadline: Instant,
) -> Call {
    let mut stream = model.stream(request);
    let mut c = Call {
        text: String::new(),
        tool_calls: Vec::new(),
        usage: None,
        served: None,
        end: PassEnd::Done,
        rest: None,
    };
    let serving = |served: &Option<(String, String)>| {
        served
            .clone()
            .unwrap_or_else(|| (model.provider().into(), model.model().into()))
    };
    loop {
        // What the model already sent is taken without waiting, into the same batch: a reader
        // that fell behind catches up with one message to the conversation, not one per token.
        let item = match stream.next().now_or_never() {
            Some(Some(item)) => item,
            Some(None) => break,
            None => {
                // Nothing more is ready: the batch goes if it may, then wait for the model,
                // waking for the sink's held-back text too (cancel-safe: `next` loses no item).
                if sink.ready() && !sink.flush().await {
                    c.end = PassEnd::Gone;
                    break;
                }
                let wake = sink.due().map_or(deadline, |due| due.min(deadline));
                match tokio::time::timeout_at(wake, stream.next()).await {
                    Err(_) if wake < deadline => {
                        if !sink.flush().await {
                            c.end = PassEnd::Gone;
                            break;
                        }
                        continue;
                    }
                    Err(_) => {
                        c.end = PassEnd::Failed(ModelError::Timeout);
                        break;
                    }
                    Ok(None) => break,
                    Ok(Some(item)) => item,
                }
            }
        };
        match item {
            Ok(ModelEvent::Served { provider, model }) => c.served = Some((provider, model)),
            Ok(ModelEvent::Delta(t)) if t.is_empty() => {}
            Ok(ModelEvent::Delta(t)) => {
                let step = if c.text.is_empty() && voice.wrote {
                    voice.guard.push(&format!("\n\n{t}"))
                } else {
                    voice.guard.push(&t)
                };
                c.text.push_str(&t);
                match step {
                    Step::Release(out) => {
                        if !voice.say(sink, out, || serving(&c.served)).await {
                            c.end = PassEnd::Gone;
                            break;
                        }
                    }
                    Step::Stop(v) => {
                        c.end = PassEnd::Guarded(v);
                        c.rest = Some(stream);
                        return c;
                    }
                }
            }
            Ok(ModelEvent::ToolCall(tc)) => c.tool_calls.push(tc),
            Ok(ModelEvent::Usage(u)) => c.usage = Some(u),
            Ok(ModelEvent::Stop(_)) => {}
            Err(e) => {
                c.end = PassEnd::Failed(e);
                break;
            }
        }
    }
    if matches!(c.end, PassEnd::Done | PassEnd::Failed(_)) {
        // The rest of what the model said goes out once checked. After a failure, what fails
        // the check (an unfinished sentence with an amount) is dropped and the failure stands.
        match voice.guard.flush() {
            Step::Release(out) => {
                if !voice.say(sink, out, || serving(&c.served)).await {
                    c.end = PassEnd::Gone;
                }
            }
            Step::Stop(v) if matches!(c.end, PassEnd::Done) => c.end = PassEnd::Guarded(v),
            Step::Stop(_) => {}
        }
    }
    // Nothing stays held back once the call is over (tools may run next).
    if !matches!(c.end, PassEnd::Gone) && !sink.flush().await {
        c.end = PassEnd::Gone;
    }
    c
}

/// The tool loop: the `main` model reads `input`'s prompt (the system prompt, then the store
/// context of `state`, the history and the visitor's message), may call tools for up to
/// `max_tool_rounds` rounds (the last round offers none), and answers. Tools run only once the
/// visitor's message is durable (`committed`).
#[allow(clippy::too_many_arguments)]
pub(super) async fn tool_loop<S: EventSink>(
    deps: &TurnDeps,
    input: &TurnInput,
    state: &mut SessionState,
    committed: &mut Option<oneshot::Receiver<()>>,
    sink: &mut S,
    voice: &mut Voice,
    lang: Lang,
    deadline: Instant,
) -> PassEnd {
    let context = store_context(state, lang, &input.context);
    let mut messages = input.messages.clone();
    let tools_ok = deps.model.supports_tools() && !deps.tools.is_empty();
    for round in 0..=deps.max_tool_rounds {
        let offer = tools_ok && round < deps.max_tool_rounds;
        let request = ModelRequest {
            system: input.system.clone(),
            context: context.clone(),
            messages: messages.clone(),
            tools: if offer {
                deps.tools.specs()
            } else {
                Vec::new()
            },
            max_tokens: deps.max_tokens,
            preferred_provider: input.preferred_provider,
        };
        let mut c = call(deps.model.as_ref(), request, sink, voice, deadline).await;
        if let PassEnd::Guarded(v) = c.end {
            let said = voice
                .say_own(sink, &phrases::say(lang, v.phrase(), &[]))
                .await;
            c.drain(deadline).await;
            if !said {
                return PassEnd::Gone;
            }
            if let Some(charge) = c.charge(deps.metering.as_ref(), deps.model.as_ref())
                && !emit(sink, AgentEvent::ModelCall(charge)).await
            {
                return PassEnd::Gone;
            }
            return if emit(sink, AgentEvent::Guarded(v)).await {
                PassEnd::Guarded(v)
            } else {
                PassEnd::Gone
            };
        }
        if let Some(charge) = c.charge(deps.metering.as_ref(), deps.model.as_ref())
            && !emit(sink, AgentEvent::ModelCall(charge)).await
        {
            return PassEnd::Gone;
        }
        match c.end {
            PassEnd::Done => {}
            other => return other,
        }
        if c.tool_calls.is_empty() || !offer {
            return PassEnd::Done;
        }
        if let Some(rx) = committed.take()
            && rx.await.is_err()
        {
            // The visitor's message was not stored: nothing may happen on its behalf.
            return PassEnd::Gone;
        }
        let mut uses = Vec::new();
        if !c.text.is_empty() {
            uses.push(ContentBlock::Text { text: c.text });
        }
        let mut results = Vec::new();
        for tc in c.tool_calls {
            let output = deps.tools.call(&deps.tool_context, &tc, state).await;
            voice.guard.allowed_mut().allow_json(&output.content);
            for ev in output.events {
                allow_event(voice.guard.allowed_mut(), &ev);
                if !emit(sink, ev).await {
                    return PassEnd::Gone;
                }
            }
            let record = ToolRecord {
                name: tc.name.clone(),
                input: tc.input.clone(),
                result: output.content.clone(),
                is_error: output.is_error,
            };
            if !emit(sink, AgentEvent::ToolUsed(record)).await {
                return PassEnd::Gone;
            }
            uses.push(ContentBlock::ToolUse {
                id: tc.id.clone(),
                name: tc.name,
                input: tc.input,
            });
            results.push(ContentBlock::ToolResult {
                tool_use_id: tc.id,
                content: output.content.to_string(),
                is_error: output.is_error,
            });
        }
        messages.push(ChatMessage {
            role: Role::Assistant,
            content: uses,
        });
        messages.push(ChatMessage {
            role: Role::User,
            content: results,
        });
    }
    PassEnd::Done
}

/// The instruction of a wording call.
fn wording_prompt(agent: &AgentConfig, lang: Lang) -> String {
    let tone = match agent.tone {
        super::config::Tone::Friendly => "warm and friendly",
        super::config::Tone::Professional => "polite and professional",
        super::config::Tone::Playful => "light-hearted and playful",
    };
    format!(
        "You are {name}, a shop assistant. Rewrite the draft reply to the visitor's message so \
         it sounds {tone} and natural, in the language with code {lang}. Keep every fact, \
         product name, number and price of the draft exactly; add no facts, prices, discounts \
         or promises; keep it about as short as the draft. {emoji} Answer with the reply only.",
        name = agent.assistant_name,
        lang = lang.code(),
        emoji = if agent.emoji {
            "An emoji is welcome."
        } else {
            "No emoji."
        },
    )
}

/// Words the offline agent's `draft` with `model` (behind the guard). When the model fails or
/// the guard stops it, the draft itself goes out (after what was said).
#[allow(clippy::too_many_arguments)]
pub(super) async fn word<S: EventSink>(
    model: &dyn ModelClient,
    metering: &dyn Metering,
    agent: &AgentConfig,
    lang: Lang,
    visitor: &str,
    draft: &str,
    max_tokens: u32,
    sink: &mut S,
    voice: &mut Voice,
    deadline: Instant,
) -> PassEnd {
    voice.guard.allowed_mut().allow_text(draft);
    let request = ModelRequest {
        system: wording_prompt(agent, lang),
        context: String::new(),
        messages: vec![ChatMessage::text(
            Role::User,
            format!("Visitor: {visitor}\nDraft: {draft}"),
        )],
        tools: Vec::new(),
        max_tokens,
        preferred_provider: None,
    };
    let mut c = call(model, request, sink, voice, deadline).await;
    c.drain(deadline).await;
    if let Some(charge) = c.charge(metering, model)
        && !emit(sink, AgentEvent::ModelCall(charge)).await
    {
        return PassEnd::Gone;
    }
    let note = match &c.end {
        PassEnd::Done => return PassEnd::Done,
        PassEnd::Gone => return PassEnd::Gone,
        PassEnd::Guarded(v) => AgentEvent::Guarded(*v),
        PassEnd::Failed(e) => AgentEvent::FellBack(e.to_string()),
    };
    if !emit(sink, note).await || !voice.say_own(sink, draft).await {
        return PassEnd::Gone;
    }
    c.end
}
