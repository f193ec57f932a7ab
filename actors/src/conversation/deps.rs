//! What every conversation actor shares: [`EngineDeps`] (the ports, the models, the tools and
//! the settings), built once at startup with [`EngineDeps::builder`]. The builder's defaults are
//! the offline, in-memory ones tests want (the simulated model, no catalog, free metering, no
//! metrics), so a test names only what it exercises.

use crate::agent::{RulesDeps, Toolbox};
use crate::ids::MerchantId;
use crate::merchant::MerchantRegistry;
use crate::model::{SimulatedModel, SimulatedModelSettings};
use crate::ports::agent::{AgentConfigStore, AgentSnapshot};
use crate::ports::catalog::{CatalogSearch, ProductDetail, ProductHit, SearchError, SearchQuery};
use crate::ports::clock::{Clock, SystemClock};
use crate::ports::metering::{FreeMetering, Metering};
use crate::ports::model::ModelClient;
use crate::ports::payments::PaymentGateway;
use crate::ports::store::{ConversationStore, PersistError};
use crate::ports::support::{HandoffRequest, OrderBook, SupportDesk};
use crate::ports::{PortFuture, Usage};
use std::sync::Arc;
use std::time::Duration;

/// Conversation behaviour settings.
#[derive(Debug, Clone)]
pub struct ConversationSettings {
    /// A conversation with no subscriber and no activity for this long stops (passivates).
    pub idle_timeout: Duration,
    /// Messages of history given to the model.
    pub history_messages: usize,
    /// Estimated tokens of history (the new message included) given to the model; older
    /// messages are left out to fit.
    pub history_tokens: usize,
    /// Most stored messages replayed to a resuming subscriber (older ones: use the messages API).
    pub replay_limit: usize,
    /// The system prompt.
    pub system_prompt: String,
    /// Most tokens per model call.
    pub max_reply_tokens: u32,
    /// Most rounds of tool calls in one turn before the model must answer.
    pub max_tool_rounds: usize,
    /// The most a turn's model calls may take together.
    pub turn_deadline: Duration,
    /// Reply text is batched on its way from the model to the conversation: what the model
    /// already sent goes together, and text arriving less than this after the last batch waits
    /// for the next piece (or, if none comes, for twice this), so a reply streams as one delta
    /// per interval or so instead of one per token. The first piece of a reply never waits.
    /// Zero: a batch goes as soon as nothing more is ready.
    pub delta_flush: Duration,
}

impl Default for ConversationSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(300),
            history_messages: 20,
            history_tokens: 4000,
            replay_limit: 1000,
            system_prompt: "You are a helpful shopping assistant.".into(),
            max_reply_tokens: 512,
            max_tool_rounds: 3,
            turn_deadline: Duration::from_secs(60),
            delta_flush: Duration::from_millis(25),
        }
    }
}

/// Hooks for metrics; the engine core knows nothing of Prometheus.
pub trait EngineObserver: Send + Sync + 'static {
    /// A conversation actor started (including rehydration).
    fn actor_started(&self) {}
    /// A conversation actor stopped.
    fn actor_stopped(&self) {}
    /// A supervisor restarted a conversation actor.
    fn actor_restarted(&self) {}
    /// The registry replaced a dead actor.
    fn actor_replaced(&self) {}
    /// A subscriber was dropped because its channel was full or closed.
    fn subscriber_dropped(&self) {}
    /// A turn was understood: its intent and who handled it (`rules` or `model`).
    fn turn_understood(&self, _intent: &str, _handled_by: &str) {}
    /// The agent stepped in on a model's answer: the guard stopped a `price`, `discount` or
    /// `prompt`, or the offline agent answered after the model failed (`fallback`).
    fn intervention(&self, _kind: &str) {}
    /// A turn ended (`complete` or `interrupted`).
    fn turn_finished(&self, _outcome: &'static str) {}
    /// The first token of a reply arrived, `seconds` after the turn started.
    fn first_token(&self, _provider: &str, _model: &str, _seconds: f64) {}
    /// A model call's usage.
    fn tokens(&self, _model: &str, _usage: &Usage) {}
    /// A model call's cost was recorded.
    fn cost(&self, _model: &str, _nanos: i64) {}
    /// A turn was answered without the model because the merchant's budget is spent.
    fn over_budget(&self) {}
}

/// An observer that records nothing.
#[derive(Debug, Default)]
pub struct NoopObserver;
impl EngineObserver for NoopObserver {}

/// Test-only faults, injected where production code has none (`EngineDeps::faults` is `None`
/// outside tests): the engine asks it once per turn, before the turn starts.
pub trait FaultInjector: Send + Sync + 'static {
    /// True when the turn for this visitor text must panic inside the conversation actor (to
    /// prove a dead actor is replaced and nothing stored is lost).
    fn panic_on(&self, text: &str) -> bool;
}

/// Panics the turns whose text is exactly this (tests).
#[derive(Debug, Clone)]
pub struct PanicOnText(pub String);

impl FaultInjector for PanicOnText {
    fn panic_on(&self, text: &str) -> bool {
        text.trim() == self.0
    }
}

/// What every conversation actor shares. Build it with [`EngineDeps::builder`].
pub struct EngineDeps {
    /// Durable state.
    pub store: Arc<dyn ConversationStore>,
    /// The model for replies (the `main` role).
    pub model: Arc<dyn ModelClient>,
    /// The model for cheap calls (the `fast` role: classification, summaries).
    pub fast_model: Arc<dyn ModelClient>,
    /// The merchants' catalogs, for the tools.
    pub catalog: Arc<dyn CatalogSearch>,
    /// The tools turns may call.
    pub tools: Arc<Toolbox>,
    /// Checkout, once a payment provider is configured (#15).
    pub payments: Option<Arc<dyn PaymentGateway>>,
    /// Wall-clock time.
    pub clock: Arc<dyn Clock>,
    /// Behaviour settings.
    pub settings: ConversationSettings,
    /// Metrics hooks.
    pub observer: Arc<dyn EngineObserver>,
    /// The merchants' actors, for agent configuration snapshots.
    pub merchants: Arc<MerchantRegistry>,
    /// Prices and spend, for cost records and budgets.
    pub metering: Arc<dyn Metering>,
    /// Test-only faults; `None` in production.
    pub faults: Option<Arc<dyn FaultInjector>>,
    /// Rules first (the local understanding and the offline agent); `None`: every turn goes to
    /// the `main` model.
    pub rules: Option<RulesDeps>,
    /// Where handoff requests go.
    pub desk: Arc<dyn SupportDesk>,
    /// The merchants' orders, once kept (#15).
    pub orders: Option<Arc<dyn OrderBook>>,
}

impl EngineDeps {
    /// A builder over `store`, with offline defaults for everything else.
    pub fn builder(store: Arc<dyn ConversationStore>) -> EngineDepsBuilder {
        EngineDepsBuilder {
            store,
            model: None,
            fast_model: None,
            catalog: None,
            tools: None,
            payments: None,
            clock: None,
            settings: ConversationSettings::default(),
            observer: None,
            merchants: None,
            metering: None,
            faults: None,
            rules: None,
            desk: None,
            orders: None,
        }
    }
}

/// Builds [`EngineDeps`]; every part not given takes its offline default.
pub struct EngineDepsBuilder {
    store: Arc<dyn ConversationStore>,
    model: Option<Arc<dyn ModelClient>>,
    fast_model: Option<Arc<dyn ModelClient>>,
    catalog: Option<Arc<dyn CatalogSearch>>,
    tools: Option<Toolbox>,
    payments: Option<Arc<dyn PaymentGateway>>,
    clock: Option<Arc<dyn Clock>>,
    settings: ConversationSettings,
    observer: Option<Arc<dyn EngineObserver>>,
    merchants: Option<Arc<MerchantRegistry>>,
    metering: Option<Arc<dyn Metering>>,
    faults: Option<Arc<dyn FaultInjector>>,
    rules: Option<RulesDeps>,
    desk: Option<Arc<dyn SupportDesk>>,
    orders: Option<Arc<dyn OrderBook>>,
}

impl EngineDepsBuilder {
    /// Rules first (default: off, every turn goes to the model).
    pub fn rules(mut self, rules: RulesDeps) -> Self {
        self.rules = Some(rules);
        self
    }
    /// Where handoff requests go (default: kept in memory, see [`MemoryDesk`]).
    pub fn desk(mut self, desk: Arc<dyn SupportDesk>) -> Self {
        self.desk = Some(desk);
        self
    }
    /// The merchants' orders (default: none).
    pub fn orders(mut self, orders: Arc<dyn OrderBook>) -> Self {
        self.orders = Some(orders);
        self
    }
    /// The `main` model (default: the simulated model, instant).
    pub fn model(mut self, model: Arc<dyn ModelClient>) -> Self {
        self.model = Some(model);
        self
    }
    /// The `fast` model (default: the simulated model, instant).
    pub fn fast_model(mut self, model: Arc<dyn ModelClient>) -> Self {
        self.fast_model = Some(model);
        self
    }
    /// The catalog (default: an empty one).
    pub fn catalog(mut self, catalog: Arc<dyn CatalogSearch>) -> Self {
        self.catalog = Some(catalog);
        self
    }
    /// The tools (default: [`Toolbox::standard`]).
    pub fn tools(mut self, tools: Toolbox) -> Self {
        self.tools = Some(tools);
        self
    }
    /// The payment provider (default: none).
    pub fn payments(mut self, payments: Arc<dyn PaymentGateway>) -> Self {
        self.payments = Some(payments);
        self
    }
    /// The clock (default: the system's).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// The settings (default: [`ConversationSettings::default`]).
    pub fn settings(mut self, settings: ConversationSettings) -> Self {
        self.settings = settings;
        self
    }
    /// The metrics hooks (default: none).
    pub fn observer(mut self, observer: Arc<dyn EngineObserver>) -> Self {
        self.observer = Some(observer);
        self
    }
    /// The merchants' registry (default: every merchant has the default configuration).
    pub fn merchants(mut self, merchants: Arc<MerchantRegistry>) -> Self {
        self.merchants = Some(merchants);
        self
    }
    /// Prices and spend (default: free, nothing spent).
    pub fn metering(mut self, metering: Arc<dyn Metering>) -> Self {
        self.metering = Some(metering);
        self
    }
    /// Test-only faults (default: none).
    pub fn faults(mut self, faults: Arc<dyn FaultInjector>) -> Self {
        self.faults = Some(faults);
        self
    }

    /// The dependencies.
    pub fn build(self) -> EngineDeps {
        let instant = || -> Arc<dyn ModelClient> {
            Arc::new(SimulatedModel::new(SimulatedModelSettings {
                ttft: Duration::ZERO,
                tokens_per_sec: 0.0,
                reply_tokens: 12,
            }))
        };
        EngineDeps {
            store: self.store,
            model: self.model.unwrap_or_else(instant),
            fast_model: self.fast_model.unwrap_or_else(instant),
            catalog: self.catalog.unwrap_or_else(|| Arc::new(EmptyCatalog)),
            tools: Arc::new(self.tools.unwrap_or_else(Toolbox::standard)),
            payments: self.payments,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            settings: self.settings,
            observer: self.observer.unwrap_or_else(|| Arc::new(NoopObserver)),
            merchants: self.merchants.unwrap_or_else(|| {
                MerchantRegistry::new(
                    Arc::new(DefaultAgentConfigs),
                    Arc::new(NoMerchantMetrics),
                    Duration::from_secs(5),
                )
            }),
            metering: self.metering.unwrap_or_else(|| Arc::new(FreeMetering)),
            faults: self.faults,
            rules: self.rules,
            desk: self.desk.unwrap_or_else(|| Arc::new(MemoryDesk::default())),
            orders: self.orders,
        }
    }
}

/// Handoff requests kept in memory (the builder's default; tests read them back).
#[derive(Debug, Default)]
pub struct MemoryDesk {
    /// The requests, in order.
    pub requests: std::sync::Mutex<Vec<HandoffRequest>>,
}

impl SupportDesk for MemoryDesk {
    fn request_handoff(&self, request: HandoffRequest) -> PortFuture<Result<(), PersistError>> {
        if let Ok(mut r) = self.requests.lock() {
            r.push(request);
        }
        Box::pin(async { Ok(()) })
    }
}

/// A catalog with no products (the builder's default).
struct EmptyCatalog;

impl CatalogSearch for EmptyCatalog {
    fn search(
        &self,
        _merchant: MerchantId,
        _query: SearchQuery,
    ) -> PortFuture<Result<Vec<ProductHit>, SearchError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn products(
        &self,
        _merchant: MerchantId,
        _external_ids: Vec<String>,
    ) -> PortFuture<Result<Vec<ProductDetail>, SearchError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// Every merchant has the default agent configuration (the builder's default).
struct DefaultAgentConfigs;

impl AgentConfigStore for DefaultAgentConfigs {
    fn load(&self, _merchant: MerchantId) -> PortFuture<Result<AgentSnapshot, PersistError>> {
        Box::pin(async {
            Ok(AgentSnapshot {
                version: 1,
                store_name: "Store".into(),
                config: Default::default(),
            })
        })
    }
}

struct NoMerchantMetrics;
impl crate::merchant::MerchantObserver for NoMerchantMetrics {}
