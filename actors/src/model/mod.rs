//! Model implementations that live in the engine core.

pub mod simulated;

pub use simulated::{SimulatedModel, SimulatedModelSettings};
