//! Payments: the provider's webhook events, verified ([`signature`]), read ([`events`]) and
//! applied to orders once each (`crate::store::orders`), whatever their order and number.
//!
//! Status (issue #15, in progress): orders, the webhook endpoint and its verification are
//! built; creating checkout sessions (the simulated provider's page, Stripe Checkout with
//! Connect), the checkout actor and the agent's checkout flow are not yet (docs/payments.md).

pub mod checkout;
pub mod events;
pub mod signature;
