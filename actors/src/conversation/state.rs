//! The conversation's session state beyond its messages: the cart and the products the visitor
//! was last shown (so "the second one" means something). Persisted with the conversation as one
//! JSON document, written in the same transaction as the reply that changed it, and rehydrated
//! when the actor starts again (after passivation, a crash or a restart).

use crate::cart::Cart;
use crate::money::Money;
use serde::{Deserialize, Serialize};

/// Most products remembered as "last shown".
pub const MAX_SHOWN: usize = 10;

/// A product the visitor was shown, in the order shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownProduct {
    /// The merchant's id for the product.
    pub external_id: String,
    /// Its title.
    pub title: String,
    /// The catalog's price when shown.
    pub price: Money,
}

/// The session state. Every field has a default, so documents written by older versions load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionState {
    /// The cart.
    pub cart: Cart,
    /// The products last shown, at most [`MAX_SHOWN`].
    pub last_shown: Vec<ShownProduct>,
}

impl SessionState {
    /// Replaces the products last shown (keeping the first [`MAX_SHOWN`]).
    pub fn show(&mut self, mut products: Vec<ShownProduct>) {
        products.truncate(MAX_SHOWN);
        self.last_shown = products;
    }
}
