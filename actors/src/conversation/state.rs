//! The conversation's session state beyond its messages: the cart and the products the visitor
//! was last shown (so "the second one" means something). Persisted with the conversation as one
//! JSON document, written in the same transaction as the reply that changed it, and rehydrated
//! when the actor starts again (after passivation, a crash or a restart).

use crate::cart::Cart;
use crate::money::Money;
use crate::understanding::Lang;
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
    /// The colours it comes in (lower case), when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colours: Vec<String>,
}

/// The session state. Every field has a default, so documents written by older versions load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionState {
    /// The cart.
    pub cart: Cart,
    /// The products last shown, at most [`MAX_SHOWN`].
    pub last_shown: Vec<ShownProduct>,
    /// The product the conversation is about ("it"): the last one looked at or added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focus: Option<String>,
    /// The last search's product words, for refinements ("any under 100?").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_query: Option<String>,
    /// The visitor's language, once a message said it clearly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<Lang>,
}

impl SessionState {
    /// Replaces the products last shown (keeping the first [`MAX_SHOWN`]).
    pub fn show(&mut self, mut products: Vec<ShownProduct>) {
        products.truncate(MAX_SHOWN);
        self.last_shown = products;
    }
}
