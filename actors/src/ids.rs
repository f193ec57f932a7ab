//! Newtype identifiers. A bare `Uuid` never crosses a function boundary: the type says whose id
//! it is, so a merchant id cannot be passed where a conversation id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random (v4) identifier.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

uuid_id!(
    /// A merchant (tenant). Every row a merchant owns carries it.
    MerchantId
);
uuid_id!(
    /// One visitor conversation.
    ConversationId
);
uuid_id!(
    /// One API key (secret or publishable) of a merchant.
    ApiKeyId
);
uuid_id!(
    /// One message (user or assistant) of a conversation.
    MessageId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_round_trips_through_its_text_form() {
        let id = MerchantId::new_random();
        let parsed: MerchantId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
    }

    #[test]
    fn an_id_serializes_as_a_plain_string() {
        let id = ConversationId(Uuid::nil());
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"00000000-0000-0000-0000-000000000000\""
        );
    }
}
