//! `agentpay-loadtest`: the load harness. Scenarios:
//! - [`run_connections`]: ramp to N live conversations (HTTP create, then a WebSocket), hold them;
//! - [`run_chat`]: N conversations each sending messages with think time, measuring ack latency,
//!   time to first token, gaps between deltas, whole turns, tokens and frames delivered;
//! - [`run_http`]: a fixed rate of conversation creations;
//! - [`run_chaos`]: conversations chatting through the agent while the run kills the server,
//!   stops and crashes Postgres, makes the fake provider fail and drops connections, then
//!   checks every stored transcript and cart against what the clients were acknowledged and
//!   shown (docs/reliability.md).
//!
//! Besides the scenarios, [`fake_llm`] is a fake model provider to point the engine at during a
//! load run: the Anthropic and OpenAI streaming wire formats, answers like a small shopping
//! model, and token usage with prompt caching like the real APIs ([`fake_llm::serve`]).
//!
//! Every scenario is bounded in count and time and talks only to the base URL it is given (meant
//! for loopback). Client sockets are spread over several source addresses in 127.0.0.0/8
//! (`sources`) to get past the ephemeral-port range. Latencies go into HDR histograms.
//!
//! Map:
//! - `client`: the [`Target`], HTTP clients spread over source addresses, conversation creation,
//!   WebSocket connect and event reads;
//! - `scenarios`: the four scenarios and their options, with the shared error and progress
//!   counters;
//! - `report`: the [`Report`] every scenario returns, HDR histograms and their [`Latency`]
//!   summaries;
//! - `sampler`: the server's RSS and CPU from /proc ([`ServerUsage`]);
//! - `fake_llm`: the fake model provider and its [`FakeLlmOptions`], with fault injection;
//! - `chaos`: the chaos run, its [`ChaosOptions`] and [`ChaosReport`];
//! - `rng`: the small seeded random generator the chaos run and the fake's faults use.

mod chaos;
mod client;
pub mod fake_llm;
pub mod relay;
mod report;
mod rng;
mod sampler;
mod scenarios;

pub use chaos::{CHECKS, ChaosOptions, ChaosReport, RUN_FAULTS, run_chaos};

pub use client::{Conversation, Target, publishable_key};
pub use fake_llm::{FakeLlmOptions, FaultOptions, ProviderFault};
pub use report::{Latency, Report};
pub use sampler::{ServerUsage, read_proc};
pub use scenarios::{
    ChatOptions, ConnectionsOptions, HttpOptions, ScriptTurn, SearchOptions, Session, read_script,
    run_chat, run_connections, run_http, run_search,
};
