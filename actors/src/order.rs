//! Orders: what a checkout turns a cart into, and the one status machine every payment event
//! goes through.
//!
//! `open → paid | expired | canceled`, and from `paid`, `refunded` or `disputed`. Events arrive
//! in any order and any number of times (payment providers redeliver and do not keep order), so
//! a status only ever moves up a fixed ranking: applying the same events in any order gives the
//! same final status. Paid beats expired and canceled (the money was taken: the order must be
//! fulfilled or refunded), a refund or dispute beats paid.

use serde::{Deserialize, Serialize};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// Waiting for payment.
    Open,
    /// Paid.
    Paid,
    /// The payment page expired unpaid.
    Expired,
    /// Given up: the visitor canceled, or the payment failed.
    Canceled,
    /// Paid, then refunded in full.
    Refunded,
    /// Paid, then disputed by the payer.
    Disputed,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [OrderStatus; 6] = [
        Self::Open,
        Self::Paid,
        Self::Expired,
        Self::Canceled,
        Self::Refunded,
        Self::Disputed,
    ];

    /// Its spelling in the database, the API and the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Expired => "expired",
            Self::Canceled => "canceled",
            Self::Refunded => "refunded",
            Self::Disputed => "disputed",
        }
    }

    /// Parses [`Self::as_str`]'s spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn rank(self) -> u8 {
        match self {
            Self::Open => 0,
            Self::Expired | Self::Canceled => 1,
            Self::Paid => 2,
            Self::Refunded => 3,
            Self::Disputed => 4,
        }
    }

    /// The status after an event saying `next`: the higher ranked of the two; between two
    /// equally ranked ends (expired, canceled) the first stands.
    pub fn then(self, next: Self) -> Self {
        if next.rank() > self.rank() {
            next
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::{self, *};

    fn fold(events: &[OrderStatus]) -> OrderStatus {
        events.iter().fold(Open, |s, e| s.then(*e))
    }

    #[test]
    fn events_in_any_order_and_number_reach_the_same_status() {
        let events = [Paid, Refunded, Expired, Paid];
        let mut orders = vec![events.to_vec()];
        orders.push(events.iter().rev().copied().collect());
        orders.push(vec![Expired, Expired, Paid, Paid, Refunded, Refunded]);
        orders.push(vec![Refunded, Paid, Expired]);
        for o in orders {
            assert_eq!(fold(&o), Refunded, "{o:?}");
        }
        assert_eq!(fold(&[Expired, Paid]), Paid, "the money was taken");
        assert_eq!(fold(&[Canceled, Expired]), Canceled);
        assert_eq!(fold(&[Paid, Disputed, Refunded]), Disputed);
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
    }
}
