//! Route handlers, one module per area.

pub mod agent;
pub mod checkout;
pub mod conversations;
pub mod health;
pub mod merchants;
pub mod payments;
pub mod products;
pub mod usage;
pub mod widget;
