//! Payment provider events (Stripe's event JSON, which the simulated provider also speaks) read
//! into what they mean for the engine: an order's new status, or a connected account's
//! readiness. Unknown types are recorded and otherwise ignored.

use agentpay_actors::order::OrderStatus;
use serde_json::Value;

/// Which order an event is about: by our id (the session's `metadata.order_id`), by the
/// provider's checkout session, or by its payment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderRef {
    /// `metadata.order_id`.
    pub order_id: Option<uuid::Uuid>,
    /// The checkout session's id (`cs_…`).
    pub session_id: Option<String>,
    /// The payment's id (`pi_…`).
    pub payment_intent: Option<String>,
}

/// What an event means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// An order moves to `status` (or only learns its payment, when `status` is `None`).
    Order {
        /// Which order.
        order: OrderRef,
        /// Its new status.
        status: Option<OrderStatus>,
    },
    /// A connected account's readiness.
    Account {
        /// `acct_…`.
        account_id: String,
        /// Whether it can take charges.
        charges_enabled: bool,
        /// Whether its owner finished onboarding.
        details_submitted: bool,
    },
    /// Nothing the engine acts on.
    Ignored,
}

/// One provider event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id (`evt_…`), recorded once.
    pub id: String,
    /// Its type (`checkout.session.completed`).
    pub kind: String,
    /// The connected account it came from (Connect events), if any.
    pub account: Option<String>,
    /// What it means.
    pub effect: Effect,
}

/// Why an event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a payment event: {0}")]
pub struct EventError(pub &'static str);

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The object's order reference.
fn order_ref(object: &Value) -> OrderRef {
    let order_id = object
        .pointer("/metadata/order_id")
        .and_then(Value::as_str)
        .and_then(|s| uuid::Uuid::parse_str(s).ok());
    let is_session = object.get("object").and_then(Value::as_str) == Some("checkout.session");
    OrderRef {
        order_id,
        session_id: if is_session { text(object, "id") } else { None },
        payment_intent: text(object, "payment_intent"),
    }
}

/// Reads an event from its raw JSON body.
pub fn parse(body: &[u8]) -> Result<ProviderEvent, EventError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| EventError("invalid JSON"))?;
    let id = text(&v, "id").ok_or(EventError("no id"))?;
    let kind = text(&v, "type").ok_or(EventError("no type"))?;
    let object = v
        .pointer("/data/object")
        .filter(|o| o.is_object())
        .ok_or(EventError("no data.object"))?;
    let order = |status| Effect::Order {
        order: order_ref(object),
        status,
    };
    let effect = match kind.as_str() {
        "checkout.session.completed" => {
            match object.get("payment_status").and_then(Value::as_str) {
                Some("paid" | "no_payment_required") => order(Some(OrderStatus::Paid)),
                // Delayed methods: paid later (async_payment_succeeded) or not at all.
                _ => order(None),
            }
        }
        "checkout.session.async_payment_succeeded" => order(Some(OrderStatus::Paid)),
        "checkout.session.async_payment_failed" => order(Some(OrderStatus::Canceled)),
        "checkout.session.expired" => order(Some(OrderStatus::Expired)),
        // The simulated provider's own: the visitor pressed Cancel on its page.
        "checkout.session.canceled" => order(Some(OrderStatus::Canceled)),
        "charge.refunded" if object.get("refunded").and_then(Value::as_bool) == Some(true) => {
            order(Some(OrderStatus::Refunded))
        }
        "charge.dispute.created" => order(Some(OrderStatus::Disputed)),
        "account.updated" => Effect::Account {
            account_id: text(object, "id").ok_or(EventError("account without id"))?,
            charges_enabled: object.get("charges_enabled").and_then(Value::as_bool) == Some(true),
            details_submitted: object.get("details_submitted").and_then(Value::as_bool)
                == Some(true),
        },
        _ => Effect::Ignored,
    };
    Ok(ProviderEvent {
        id,
        kind,
        account: text(&v, "account"),
        effect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_refund_dispute_and_account_events_mean_what_stripe_says() {
        let order = "7b2f5a4e-3c1d-4e8f-9a6b-1c2d3e4f5a6b";
        let session = |kind: &str, status: &str| {
            format!(
                r#"{{"id":"evt_1","object":"event","type":"{kind}","account":"acct_1",
                "data":{{"object":{{"id":"cs_1","object":"checkout.session","payment_status":"{status}",
                "payment_intent":"pi_1","metadata":{{"order_id":"{order}"}}}}}}}}"#
            )
        };
        let e = parse(session("checkout.session.completed", "paid").as_bytes()).unwrap();
        assert_eq!(e.account.as_deref(), Some("acct_1"));
        let Effect::Order { order: r, status } = e.effect else {
            panic!()
        };
        assert_eq!(status, Some(OrderStatus::Paid));
        assert_eq!(r.order_id.unwrap().to_string(), order);
        assert_eq!(r.session_id.as_deref(), Some("cs_1"));
        assert_eq!(r.payment_intent.as_deref(), Some("pi_1"));
        let unpaid = parse(session("checkout.session.completed", "unpaid").as_bytes()).unwrap();
        assert!(matches!(unpaid.effect, Effect::Order { status: None, .. }));
        let refund = br#"{"id":"evt_2","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge","refunded":true,"payment_intent":"pi_1"}}}"#;
        assert!(matches!(
            parse(refund).unwrap().effect,
            Effect::Order {
                status: Some(OrderStatus::Refunded),
                order: OrderRef {
                    session_id: None,
                    ..
                }
            }
        ));
        let account = br#"{"id":"evt_3","type":"account.updated","data":{"object":{"id":"acct_9","charges_enabled":true,"details_submitted":true}}}"#;
        assert_eq!(
            parse(account).unwrap().effect,
            Effect::Account {
                account_id: "acct_9".into(),
                charges_enabled: true,
                details_submitted: true
            }
        );
        assert_eq!(parse(b"{}"), Err(EventError("no id")));
        let unknown = br#"{"id":"evt_4","type":"some.new_event","data":{"object":{}}}"#;
        assert_eq!(parse(unknown).unwrap().effect, Effect::Ignored);
    }
}
