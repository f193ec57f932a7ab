//! `AgentConfigStore`: where merchants' agent configurations come from (Postgres in the
//! `agentpay` crate), and the snapshot conversations hold.

use super::PortFuture;
use super::store::PersistError;
use crate::agent::AgentConfig;
use crate::ids::MerchantId;

/// What conversations need to know about their merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSnapshot {
    /// Configuration version; increases with every change.
    pub version: i64,
    /// The store's name.
    pub store_name: String,
    /// The configuration.
    pub config: AgentConfig,
}

/// Loads merchants' agent configurations.
pub trait AgentConfigStore: Send + Sync + 'static {
    /// The current snapshot of a merchant.
    fn load(&self, merchant: MerchantId) -> PortFuture<Result<AgentSnapshot, PersistError>>;
}
