//! `PaymentGateway`: turning a cart into a payment page and learning that it was paid. The
//! checkout issue (#15) gives it its methods (Stripe Checkout, and the offline simulated
//! checkout); until then the engine has no gateway and the agent says checkout is not
//! configured.

/// A payment provider.
pub trait PaymentGateway: Send + Sync + 'static {
    /// Provider name for logs and metrics (`stripe`, `simulated`).
    fn provider(&self) -> &str;
}
