//! Black-box tests: the real server on port 0 (or the real binary) against a real Postgres with
//! pgvector. Each test gets its own database, dropped afterwards. See `helpers.rs`.

// Tests fail loudly: unwrap/expect/panic are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../support/fake_llm.rs"]
mod fake_llm;
#[path = "../support/fake_stripe.rs"]
mod fake_stripe;
mod helpers;

mod agent_tools;
mod attacks;
mod bad_input;
mod browser;
mod catalog;
mod chaos;
mod checkout;
mod config_and_startup;
mod conversations;
mod cors;
mod demo;
mod errors;
mod fuzz;
mod health_and_metrics;
mod limits;
mod llm;
mod loadtest_smoke;
mod merchants;
mod model_agent;
mod readiness;
mod restart;
mod security;
mod shopping;
mod store_state;
mod stripe;
mod webhooks;
mod writer;
mod ws_client;
mod ws_close;
