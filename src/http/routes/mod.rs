//! Route handlers, one module per area.

pub mod health;
pub mod merchants;
pub mod widget;
