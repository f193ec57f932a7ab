//! The turn pipeline: one visitor turn, from the conversation's snapshot to a stream of
//! [`AgentEvent`]s.
//!
//! Rules first (`agent.mode = "rules"`, [`RulesDeps`]): understand the message locally (intent,
//! language, entities); when the understanding is unsure and a real `fast` model is configured,
//! that model decides the intent in one constrained call ([`decide`]). Then the merchant's
//! routing ([`super::routing`]) picks who answers:
//! - the offline agent ([`super::rules`]) acts through the shop operations and composes a
//!   grounded reply, streamed in small pieces (worded by the `fast` model when the merchant
//!   asks for it);
//! - or, for open questions, comparisons and advice when a real `main` model is configured, the
//!   model's tool loop ([`super::model_turn`]); when that model fails (after the chain's own
//!   fallbacks), the offline agent answers instead. A `main` model that cannot call tools only
//!   words the offline agent's reply.
//!
//! The turn finishes with the intent and who handled it.
//!
//! Model mode (no `RulesDeps`): every turn goes to the `main` model's tool loop. The model may
//! call tools for up to `max_tool_rounds` rounds; the last round offers none, so it must
//! answer. Every model call is metered as its own [`AgentEvent::ModelCall`]. All model text
//! passes the guard ([`super::guard`]); all model calls of a turn share its deadline.
//!
//! A turn has no side effect before the visitor's message is durable: when it starts while the
//! message is still being stored (the conversation's early start), its first tool call waits for
//! the commit, and a turn whose commit failed stops without running any tool.

use super::config::{AgentConfig, Wording};
use super::events::{AgentEvent, HandledBy, TurnOutcome};
use super::guard::Instructions;
use super::model_turn::{PassEnd, Voice, allowed_at_start, tool_loop, word};
use super::routing::{Route, route};
use super::tools::{ToolContext, Toolbox};
use crate::conversation::SessionState;
use crate::ports::metering::{Charge, Metering};
use crate::ports::model::{ChatMessage, ModelClient, ModelEvent, ModelRequest, ProviderKind, Role};
use crate::understanding::{Intent, Lang, Understander};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// The reply when the merchant's model budget is spent (no model is called).
pub const OVER_BUDGET_REPLY: &str = "I'm sorry, I can't answer right now. Please try again \
     later, or contact the store directly.";

/// What a turn starts from: a snapshot, owned by the turn.
pub struct TurnInput {
    /// The system prompt: the deployment's base, the ground rules and the merchant's
    /// configuration; the same for every turn of the conversation (cacheable).
    pub system: String,
    /// What the model should know of earlier turns that left the window (the summary); the
    /// model's context also gets the cart and the products shown.
    pub context: String,
    /// The context window: earlier messages that fit, then the visitor's new message.
    pub messages: Vec<ChatMessage>,
    /// The session state before the turn.
    pub state: SessionState,
    /// The merchant's preferred provider for the `main` role.
    pub preferred_provider: Option<ProviderKind>,
    /// True when the merchant's model budget is spent: no model is called.
    pub over_budget: bool,
    /// The visitor's message.
    pub text: String,
    /// The merchant's agent configuration (name, greeting, tone, policies, routing).
    pub agent: Arc<AgentConfig>,
}

/// What a turn uses, shared by every turn.
#[derive(Clone)]
pub struct TurnDeps {
    /// The `main` model.
    pub model: Arc<dyn ModelClient>,
    /// The tools offered to it.
    pub tools: Arc<Toolbox>,
    /// The merchant and catalog the tools act on.
    pub tool_context: ToolContext,
    /// Prices of model calls.
    pub metering: Arc<dyn Metering>,
    /// Most tokens per model call.
    pub max_tokens: u32,
    /// Most rounds of tool calls before the model must answer.
    pub max_tool_rounds: usize,
    /// The most a turn's model calls may take together; a provider still streaming then has
    /// failed (timeout).
    pub deadline: Duration,
    /// Rules first: the local understanding routes each turn to the offline agent or the
    /// `main` model; `None`: every turn goes to the `main` model.
    pub rules: Option<RulesDeps>,
}

/// What the rules-first turn uses.
#[derive(Clone)]
pub struct RulesDeps {
    /// The trained understanding.
    pub understander: Arc<Understander>,
    /// The `fast` model: it decides the intent of a message the understanding is unsure of,
    /// and words the offline agent's replies for merchants who ask for it; `None` when no real
    /// model is configured (offline, the best local guess stands).
    pub classifier: Option<Arc<dyn ModelClient>>,
    /// Below this confidence the classifier decides.
    pub threshold: f32,
    /// Whether a real `main` model is configured: the merchant's routing sends open questions
    /// to it. False: the offline agent answers every turn.
    pub model_routes: bool,
}

/// One turn. See the module docs.
pub struct Turn {
    input: TurnInput,
    deps: TurnDeps,
    /// Completed (with `()`) once the visitor's message is durable; dropped when its write
    /// failed. `None`: it already is.
    committed: Option<oneshot::Receiver<()>>,
}

/// Where a turn's events go. The conversation actor's sink sends each event straight into its
/// mailbox (no extra channel or task between the turn and the actor); tests collect them.
///
/// A sink may hold text back to send several deltas as one. Whoever reads a model sends the
/// held text ([`EventSink::flush`]) when nothing more is ready and the sink says it may go
/// ([`EventSink::ready`]), and when nothing comes by [`EventSink::due`]; other events send it
/// first by themselves.
pub trait EventSink: Send {
    /// Delivers `ev`, waiting while the listener is busy (backpressure); false when nobody
    /// listens any more, and the turn stops.
    fn emit(&mut self, ev: AgentEvent) -> impl std::future::Future<Output = bool> + Send;

    /// Whether the text held back may go out now (the first of a reply, or enough time since
    /// the last batch). False when none is held.
    fn ready(&self) -> bool {
        false
    }

    /// When text held back must go out even if nothing else comes; `None`: none is held.
    fn due(&self) -> Option<tokio::time::Instant> {
        None
    }

    /// Sends the text held back, if any; false when nobody listens any more.
    fn flush(&mut self) -> impl std::future::Future<Output = bool> + Send {
        std::future::ready(true)
    }
}

impl<S: EventSink> EventSink for &mut S {
    fn emit(&mut self, ev: AgentEvent) -> impl std::future::Future<Output = bool> + Send {
        (**self).emit(ev)
    }

    fn ready(&self) -> bool {
        (**self).ready()
    }

    fn due(&self) -> Option<tokio::time::Instant> {
        (**self).due()
    }

    fn flush(&mut self) -> impl std::future::Future<Output = bool> + Send {
        (**self).flush()
    }
}

impl EventSink for mpsc::Sender<AgentEvent> {
    async fn emit(&mut self, ev: AgentEvent) -> bool {
        self.send(ev).await.is_ok()
    }
}

/// Sends `ev` to `sink`.
pub(super) async fn emit<S: EventSink>(sink: &mut S, ev: AgentEvent) -> bool {
    sink.emit(ev).await
}

/// The guard's view of the system prompt: its private instructions.
fn instructions(input: &TurnInput) -> Arc<Instructions> {
    Instructions::shared(&input.agent.instructions(&input.system))
}

impl Turn {
    /// A turn over `input`.
    pub fn new(input: TurnInput, deps: TurnDeps) -> Self {
        Self {
            input,
            deps,
            committed: None,
        }
    }

    /// Makes the turn wait for `committed` before its first side effect (see the module docs).
    pub fn after_commit(mut self, committed: oneshot::Receiver<()>) -> Self {
        self.committed = Some(committed);
        self
    }

    /// Runs the turn, sending its events to `sink` (a slow listener slows the turn). The last
    /// event is always [`AgentEvent::Finished`], unless the listener went away or the visitor's
    /// message was not stored.
    pub async fn run<S: EventSink>(self, mut sink: S) {
        let Turn {
            input,
            deps,
            mut committed,
        } = self;
        let before = input.state.clone();
        let mut state = input.state.clone();
        let deadline = Instant::now() + deps.deadline;
        let finish = |outcome, intent: Option<Intent>, handled_by, state: SessionState| {
            AgentEvent::Finished {
                outcome,
                intent: intent.map(|i| i.as_str().to_string()),
                handled_by,
                state: (state != before).then_some(state),
            }
        };
        let Some(rules) = &deps.rules else {
            // Every turn to the `main` model.
            if input.over_budget {
                if emit(&mut sink, AgentEvent::TextDelta(OVER_BUDGET_REPLY.into())).await {
                    let ev = finish(TurnOutcome::OverBudget, None, HandledBy::Rules, state);
                    let _ = emit(&mut sink, ev).await;
                }
                return;
            }
            let lang = state.lang.unwrap_or(Lang::En);
            let mut voice =
                Voice::new(allowed_at_start(&state, &input.agent), instructions(&input));
            let end = tool_loop(
                &deps,
                &input,
                &mut state,
                &mut committed,
                &mut sink,
                &mut voice,
                lang,
                deadline,
            )
            .await;
            let outcome = match end {
                PassEnd::Gone => return,
                PassEnd::Failed(e) => TurnOutcome::Failed(e),
                PassEnd::Done | PassEnd::Guarded(_) => TurnOutcome::Complete,
            };
            let _ = emit(&mut sink, finish(outcome, None, HandledBy::Model, state)).await;
            return;
        };
        let understanding = rules.understander.understand(&input.text);
        let fast = rules.classifier.as_deref().filter(|_| !input.over_budget);
        let decision = decide(
            &understanding,
            fast,
            rules.threshold,
            deps.metering.as_ref(),
            &input.text,
        )
        .await;
        let intent = decision.intent;
        if let Some(charge) = decision.charge
            && !emit(&mut sink, AgentEvent::ModelCall(charge)).await
        {
            return;
        }
        let lang = super::rules::reply_language(&understanding, &state, &input.agent);
        let route = route(
            input.agent.routing,
            rules.model_routes && !input.over_budget,
            intent,
            &understanding,
            &state,
        );
        // The guard's view of the instructions costs a pass over the whole system prompt: only
        // made when a model may speak in this turn (most turns are the offline agent's alone).
        let model_may_speak =
            route == Route::Model || (input.agent.wording == Wording::FastModel && fast.is_some());
        let instructions = if model_may_speak {
            instructions(&input)
        } else {
            Arc::default()
        };
        let mut voice = Voice::new(allowed_at_start(&state, &input.agent), instructions);
        let mut handled_by = decision.handled_by;
        let mut acting_intent = intent;
        if route == Route::Model && deps.model.supports_tools() {
            let end = tool_loop(
                &deps,
                &input,
                &mut state,
                &mut committed,
                &mut sink,
                &mut voice,
                lang,
                deadline,
            )
            .await;
            match end {
                PassEnd::Gone => return,
                PassEnd::Done | PassEnd::Guarded(_) => {
                    let ev = finish(TurnOutcome::Complete, Some(intent), HandledBy::Model, state);
                    let _ = emit(&mut sink, ev).await;
                    return;
                }
                PassEnd::Failed(e) => {
                    // The offline agent answers instead. If the model's tools already changed
                    // the cart, it shows the cart rather than act a second time.
                    tracing::warn!(error = %e, "the main model failed; the offline agent answers");
                    if !emit(&mut sink, AgentEvent::FellBack(e.to_string())).await {
                        return;
                    }
                    if state.cart != before.cart {
                        acting_intent = Intent::ViewCart;
                    }
                    handled_by = HandledBy::Rules;
                }
            }
        }
        if let Some(rx) = committed.take()
            && rx.await.is_err()
        {
            return;
        }
        let reply = super::rules::respond(
            &deps.tool_context,
            &input.agent,
            &input.text,
            &understanding,
            acting_intent,
            &mut state,
        )
        .await;
        for ev in reply.events {
            if !emit(&mut sink, ev).await {
                return;
            }
        }
        // Who words the offline agent's reply: nobody after a model failure (its sentences
        // go out as they are); the `main` model when the turn was routed to it but it cannot
        // call tools; the `fast` model when the merchant asks for it; else nobody.
        let fell_back = route == Route::Model && deps.model.supports_tools();
        let wording: Option<&dyn ModelClient> = if fell_back {
            None
        } else if route == Route::Model {
            handled_by = HandledBy::Model;
            Some(deps.model.as_ref())
        } else if input.agent.wording == Wording::FastModel {
            fast
        } else {
            None
        };
        let spoken = match wording {
            Some(model) => {
                word(
                    model,
                    deps.metering.as_ref(),
                    &input.agent,
                    lang,
                    &input.text,
                    &reply.text,
                    deps.max_tokens,
                    &mut sink,
                    &mut voice,
                    deadline,
                )
                .await
            }
            None => {
                if voice.say_own(&mut sink, &reply.text).await {
                    PassEnd::Done
                } else {
                    PassEnd::Gone
                }
            }
        };
        if matches!(spoken, PassEnd::Gone) {
            return;
        }
        let ev = finish(TurnOutcome::Complete, Some(intent), handled_by, state);
        let _ = emit(&mut sink, ev).await;
    }
}

/// `text` in pieces of `words` words (each with its following whitespace), as a reply streams.
pub(super) fn word_chunks(text: &str, words: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut n = 0;
    for (i, c) in text.char_indices() {
        cur.push(c);
        let at_end_of_word =
            c.is_whitespace() && !text[i + c.len_utf8()..].starts_with(char::is_whitespace);
        if at_end_of_word {
            n += 1;
            if n == words {
                out.push(std::mem::take(&mut cur));
                n = 0;
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The instruction for the `fast` model when the understanding is unsure.
fn classifier_prompt() -> String {
    let labels: Vec<&str> = Intent::ALL.iter().map(|i| i.as_str()).collect();
    format!(
        "You label messages that visitors type into an online store's chat. Answer with exactly \
         one label from this list and nothing else: {}. A request for a human anywhere wins; \
         otherwise the last request in the message wins; greetings and thanks around a request \
         do not count.",
        labels.join(", ")
    )
}

/// The intent a turn acts on, and who decided it.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The intent.
    pub intent: Intent,
    /// `Rules` when the local understanding was sure enough (or no model is configured),
    /// `Model` when the `fast` model decided.
    pub handled_by: HandledBy,
    /// What the `fast` model's call cost, when it was called.
    pub charge: Option<Charge>,
}

/// Decides the intent of `text` understood as `u`: the local understanding's when its
/// confidence reaches `threshold` or no `classifier` is configured (the best local guess),
/// else the `classifier`'s (a constrained, cheap call), falling back to the local guess when
/// the call fails or answers something that is not a label.
pub async fn decide(
    u: &crate::understanding::Understanding,
    classifier: Option<&dyn ModelClient>,
    threshold: f32,
    metering: &dyn Metering,
    text: &str,
) -> Decision {
    let local = Decision {
        intent: u.intent,
        handled_by: HandledBy::Rules,
        charge: None,
    };
    let Some(model) = classifier.filter(|_| u.confidence < threshold) else {
        return local;
    };
    let (decided, charge) = classify(model, metering, text).await;
    match decided {
        Some(intent) => Decision {
            intent,
            handled_by: HandledBy::Model,
            charge,
        },
        None => Decision { charge, ..local },
    }
}

/// Asks the `fast` model for the intent of `text`: a constrained, cheap call (one short
/// answer, no tools). `None` when it fails or answers something that is not a label.
async fn classify(
    model: &dyn ModelClient,
    metering: &dyn Metering,
    text: &str,
) -> (Option<Intent>, Option<Charge>) {
    let request = ModelRequest {
        system: classifier_prompt(),
        context: String::new(),
        messages: vec![ChatMessage::text(Role::User, text)],
        tools: Vec::new(),
        max_tokens: 8,
        preferred_provider: None,
    };
    let mut stream = model.stream(request);
    let mut answer = String::new();
    let mut usage = None;
    let mut served = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(ModelEvent::Delta(t)) => answer.push_str(&t),
            Ok(ModelEvent::Usage(u)) => usage = Some(u),
            Ok(ModelEvent::Served { provider, model }) => served = Some((provider, model)),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "the fast model could not classify a message");
                break;
            }
        }
    }
    let charge = usage.map(|u| Charge::priced(metering, model, served, u));
    let label = answer
        .trim()
        .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    (Intent::parse(&label), charge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MerchantId;
    use crate::money::Money;
    use crate::ports::PortFuture;
    use crate::ports::catalog::{CatalogSearch, ProductHit, SearchError, SearchQuery};
    use crate::ports::metering::FreeMetering;
    use crate::ports::model::{ContentBlock, ModelError, ToolCall};
    use crate::ports::model::{ModelStream, Usage};
    use std::sync::Mutex;
    use std::time::Duration;

    /// A model that plays one scripted call per request and records the requests.
    struct ScriptedModel {
        calls: Mutex<Vec<Vec<ModelEvent>>>,
        seen: Mutex<Vec<ModelRequest>>,
    }

    impl ModelClient for ScriptedModel {
        fn provider(&self) -> &str {
            "scripted"
        }
        fn model(&self) -> &str {
            "scripted-1"
        }
        fn stream(&self, request: ModelRequest) -> ModelStream {
            self.seen.lock().unwrap().push(request);
            let events = self.calls.lock().unwrap().remove(0);
            futures_util::stream::iter(events)
                .then(|ev| async move {
                    // A real model takes time; the paused clock makes this instant.
                    tokio::time::sleep(Duration::from_millis(40)).await;
                    Ok(ev)
                })
                .boxed()
        }
    }

    /// One merchant's catalog with one tent.
    struct OneTent(MerchantId);

    impl CatalogSearch for OneTent {
        fn search(
            &self,
            merchant: MerchantId,
            query: SearchQuery,
        ) -> PortFuture<Result<Vec<ProductHit>, SearchError>> {
            let hits = if merchant == self.0 && query.text.contains("tent") {
                vec![ProductHit {
                    external_id: "tent-2p".into(),
                    title: "Trail Tent 2P".into(),
                    brand: None,
                    category: vec!["Camping".into()],
                    price: Money {
                        amount_minor: 19_900,
                        currency: "USD".parse().unwrap(),
                    },
                    compare_at_price: None,
                    stock: Some(3),
                    in_stock: true,
                    url: None,
                    image_url: None,
                    score: 1.0,
                }]
            } else {
                vec![]
            };
            Box::pin(async move { Ok(hits) })
        }

        fn products(
            &self,
            _merchant: MerchantId,
            _external_ids: Vec<String>,
        ) -> PortFuture<Result<Vec<crate::ports::ProductDetail>, SearchError>> {
            Box::pin(async { Ok(Vec::new()) })
        }
    }

    fn usage(output: u64) -> ModelEvent {
        ModelEvent::Usage(Usage {
            input_tokens: 100,
            output_tokens: output,
            ..Usage::default()
        })
    }

    fn setup(calls: Vec<Vec<ModelEvent>>) -> (Arc<ScriptedModel>, TurnInput, TurnDeps) {
        let merchant = MerchantId::new_random();
        let model = Arc::new(ScriptedModel {
            calls: Mutex::new(calls),
            seen: Mutex::new(Vec::new()),
        });
        let deps = TurnDeps {
            model: model.clone(),
            tools: Arc::new(Toolbox::standard()),
            tool_context: ToolContext {
                merchant,
                conversation: crate::ids::ConversationId::new_random(),
                catalog: Arc::new(OneTent(merchant)),
                desk: Arc::new(crate::conversation::MemoryDesk::default()),
                orders: None,
                payments: None,
            },
            metering: Arc::new(FreeMetering),
            max_tokens: 256,
            max_tool_rounds: 3,
            deadline: Duration::from_secs(60),
            rules: None,
        };
        let input = TurnInput {
            system: "You are the shop's assistant.".into(),
            context: String::new(),
            messages: vec![ChatMessage::text(Role::User, "do you sell tents?")],
            state: SessionState::default(),
            preferred_provider: None,
            over_budget: false,
            text: "do you sell tents?".into(),
            agent: Arc::default(),
        };
        (model, input, deps)
    }

    async fn collect(turn: Turn) -> Vec<AgentEvent> {
        let (tx, mut rx) = mpsc::channel(4);
        let run = tokio::spawn(turn.run(tx));
        let mut events = Vec::new();
        while let Some(ev) = rx.recv().await {
            events.push(ev);
        }
        run.await.unwrap();
        events
    }

    #[tokio::test(start_paused = true)]
    async fn the_model_calls_a_tool_reads_its_result_and_answers() {
        let started = tokio::time::Instant::now();
        let (model, input, deps) = setup(vec![
            vec![
                ModelEvent::ToolCall(ToolCall {
                    id: "call_1".into(),
                    name: "search_products".into(),
                    input: serde_json::json!({"query": "tent"}),
                }),
                usage(20),
            ],
            vec![
                ModelEvent::Delta("We have the ".into()),
                ModelEvent::Delta("Trail Tent 2P.".into()),
                usage(8),
            ],
        ]);
        let events = collect(Turn::new(input, deps)).await;
        // Two scripted calls of three and two 40 ms steps: virtual time, no real waiting.
        assert_eq!(started.elapsed(), Duration::from_millis(200));

        // The product card comes from the catalog, then the answer streams.
        let AgentEvent::ProductsShown(hits) = &events[1] else {
            panic!("expected products second: {events:?}");
        };
        assert_eq!(hits[0].hit.external_id, "tent-2p");
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::TextDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "We have the Trail Tent 2P.");
        // Each model call is metered on its own.
        let calls: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::ModelCall(c) => Some(c.usage.output_tokens),
                _ => None,
            })
            .collect();
        assert_eq!(calls, [20, 8]);
        // The final record carries the new state: the tent was shown.
        let Some(AgentEvent::Finished {
            outcome,
            handled_by,
            state: Some(state),
            ..
        }) = events.last()
        else {
            panic!("expected a finish with state: {events:?}");
        };
        assert_eq!(*outcome, TurnOutcome::Complete);
        assert_eq!(*handled_by, HandledBy::Model);
        assert_eq!(state.last_shown[0].title, "Trail Tent 2P");

        // The second call saw the tool use and its result, as content blocks.
        let seen = model.seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(
            seen[0].tools.len(),
            Toolbox::standard().specs().len(),
            "the tools are offered"
        );
        let m = &seen[1].messages;
        assert_eq!(m.len(), 3);
        assert!(matches!(
            &m[1].content[..],
            [ContentBlock::ToolUse { id, name, .. }] if id == "call_1" && name == "search_products"
        ));
        let [
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error: false,
            },
        ] = &m[2].content[..]
        else {
            panic!("expected one tool result: {:?}", m[2]);
        };
        assert_eq!(tool_use_id, "call_1");
        assert!(content.contains("199.00 USD"), "{content}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_turn_whose_message_was_not_stored_runs_no_tool() {
        let (_model, input, deps) = setup(vec![vec![
            ModelEvent::ToolCall(ToolCall {
                id: "call_1".into(),
                name: "search_products".into(),
                input: serde_json::json!({"query": "tent"}),
            }),
            usage(20),
        ]]);
        let (commit, committed) = oneshot::channel::<()>();
        drop(commit);
        let events = collect(Turn::new(input, deps).after_commit(committed)).await;
        assert!(
            !events.iter().any(|e| matches!(
                e,
                AgentEvent::ProductsShown(_) | AgentEvent::Finished { .. }
            )),
            "{events:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_round_offers_no_tools_so_the_model_must_answer() {
        let search = || {
            vec![
                ModelEvent::ToolCall(ToolCall {
                    id: "c".into(),
                    name: "view_cart".into(),
                    input: serde_json::json!({}),
                }),
                usage(1),
            ]
        };
        let (model, input, mut deps) = setup(vec![
            search(),
            search(),
            vec![ModelEvent::Delta("Your cart is empty.".into()), usage(5)],
        ]);
        deps.max_tool_rounds = 2;
        let events = collect(Turn::new(input, deps)).await;
        assert!(matches!(
            events.last(),
            Some(AgentEvent::Finished {
                outcome: TurnOutcome::Complete,
                state: None,
                ..
            })
        ));
        let seen = model.seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert!(seen[2].tools.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn over_budget_turns_call_no_model_and_say_so() {
        let (model, mut input, deps) = setup(vec![]);
        input.over_budget = true;
        let events = collect(Turn::new(input, deps)).await;
        assert_eq!(events[0], AgentEvent::TextDelta(OVER_BUDGET_REPLY.into()));
        assert!(matches!(
            events[1],
            AgentEvent::Finished {
                outcome: TurnOutcome::OverBudget,
                handled_by: HandledBy::Rules,
                ..
            }
        ));
        assert!(model.seen.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_model_failure_ends_the_turn_with_what_it_cost() {
        let (_model, input, deps) = setup(vec![vec![ModelEvent::Delta("Let me".into()), usage(2)]]);
        // A model that fails after its text: swap in a stream ending with an error.
        struct Failing;
        impl ModelClient for Failing {
            fn provider(&self) -> &str {
                "failing"
            }
            fn model(&self) -> &str {
                "f-1"
            }
            fn stream(&self, _: ModelRequest) -> ModelStream {
                futures_util::stream::iter([
                    Ok(ModelEvent::Delta("Let me".into())),
                    Ok(usage(2)),
                    Err(ModelError::BrokenStream("reset".into())),
                ])
                .boxed()
            }
        }
        let deps = TurnDeps {
            model: Arc::new(Failing),
            ..deps
        };
        let events = collect(Turn::new(input, deps)).await;
        assert!(
            events
                .iter()
                .any(|e| matches!(e, AgentEvent::ModelCall(c) if c.provider == "failing"))
        );
        assert!(matches!(
            events.last(),
            Some(AgentEvent::Finished {
                outcome: TurnOutcome::Failed(ModelError::BrokenStream(_)),
                ..
            })
        ));
    }

    /// A provider that answers nothing, ever.
    struct Stalled;

    impl ModelClient for Stalled {
        fn provider(&self) -> &str {
            "stalled"
        }
        fn model(&self) -> &str {
            "stalled-1"
        }
        fn stream(&self, _request: ModelRequest) -> ModelStream {
            futures_util::stream::pending().boxed()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_model_that_stalls_fails_the_turn_at_its_deadline() {
        let started = tokio::time::Instant::now();
        let (_, input, mut deps) = setup(Vec::new());
        deps.model = Arc::new(Stalled);
        deps.deadline = Duration::from_secs(7);
        let events = collect(Turn::new(input, deps)).await;
        assert!(
            matches!(
                events.last(),
                Some(AgentEvent::Finished {
                    outcome: TurnOutcome::Failed(ModelError::Timeout),
                    ..
                })
            ),
            "{events:?}"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(7));
    }
}
