//! The cart: what a visitor means to buy, held in the conversation's state and persisted with
//! it. Lines carry the catalog's unit price at the time they were added (never a price from
//! model text); totals are integer minor units in one currency.

use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// Most distinct lines in one cart.
pub const MAX_LINES: usize = 50;
/// Most units of one line.
pub const MAX_QUANTITY: u32 = 99;

/// One product (and variant) in the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    /// The merchant's id for the product.
    pub external_id: String,
    /// The variant's SKU, when the product has variants and one was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The product's title (with the variant's name, when one was chosen).
    pub title: String,
    /// The chosen variant's attribute values ("M / black"), when the product has variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Units.
    pub quantity: u32,
    /// The catalog's price of one unit when the line was added or last checked.
    pub unit_price: Money,
}

impl CartLine {
    /// `unit_price × quantity`, or `None` on overflow.
    pub fn line_total(&self) -> Option<Money> {
        let amount = self
            .unit_price
            .amount_minor
            .checked_mul(i64::from(self.quantity))?;
        Some(Money {
            amount_minor: amount,
            currency: self.unit_price.currency,
        })
    }
}

/// Why a cart change was refused; the cart is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// The line's currency differs from the cart's.
    #[error("the cart is in {cart}, this product is priced in {line}")]
    CurrencyMismatch {
        /// The cart's currency.
        cart: String,
        /// The line's currency.
        line: String,
    },
    /// Too many lines or units.
    #[error("a cart holds at most {MAX_LINES} products and {MAX_QUANTITY} of each")]
    TooLarge,
    /// A quantity of zero where one is needed.
    #[error("the quantity must be at least 1")]
    ZeroQuantity,
}

/// The cart. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    /// Lines in the order they were first added.
    #[serde(default)]
    pub lines: Vec<CartLine>,
}

impl Cart {
    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The cart's currency (its first line's), if any.
    pub fn currency(&self) -> Option<Currency> {
        self.lines.first().map(|l| l.unit_price.currency)
    }

    /// The sum of its lines, `None` when empty or on overflow.
    pub fn total(&self) -> Option<Money> {
        let currency = self.currency()?;
        let mut amount: i64 = 0;
        for line in &self.lines {
            amount = amount.checked_add(line.line_total()?.amount_minor)?;
        }
        Some(Money {
            amount_minor: amount,
            currency,
        })
    }

    /// Adds `line.quantity` units; a line with the same product and variant grows instead of
    /// repeating (and takes the new unit price, the catalog's latest).
    pub fn add(&mut self, line: CartLine) -> Result<(), CartError> {
        if line.quantity == 0 {
            return Err(CartError::ZeroQuantity);
        }
        if let Some(c) = self.currency()
            && c != line.unit_price.currency
        {
            return Err(CartError::CurrencyMismatch {
                cart: c.code().to_string(),
                line: line.unit_price.currency.code().to_string(),
            });
        }
        match self
            .lines
            .iter_mut()
            .find(|l| l.external_id == line.external_id && l.sku == line.sku)
        {
            Some(existing) => {
                let quantity = existing.quantity + line.quantity;
                if quantity > MAX_QUANTITY {
                    return Err(CartError::TooLarge);
                }
                existing.quantity = quantity;
                existing.unit_price = line.unit_price;
                existing.title = line.title;
            }
            None => {
                if self.lines.len() >= MAX_LINES || line.quantity > MAX_QUANTITY {
                    return Err(CartError::TooLarge);
                }
                self.lines.push(line);
            }
        }
        Ok(())
    }

    /// Sets a line's quantity (0 removes it). Returns false when no such line exists.
    pub fn set_quantity(
        &mut self,
        external_id: &str,
        sku: Option<&str>,
        quantity: u32,
    ) -> Result<bool, CartError> {
        if quantity > MAX_QUANTITY {
            return Err(CartError::TooLarge);
        }
        let Some(i) = self
            .lines
            .iter()
            .position(|l| l.external_id == external_id && l.sku.as_deref() == sku)
        else {
            return Ok(false);
        };
        if quantity == 0 {
            self.lines.remove(i);
        } else {
            self.lines[i].quantity = quantity;
        }
        Ok(true)
    }

    /// Removes every line of `external_id` (any variant when `sku` is `None`). Returns how many
    /// lines went.
    pub fn remove(&mut self, external_id: &str, sku: Option<&str>) -> usize {
        let before = self.lines.len();
        self.lines.retain(|l| {
            !(l.external_id == external_id && (sku.is_none() || l.sku.as_deref() == sku))
        });
        before - self.lines.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, sku: Option<&str>, qty: u32, cents: i64) -> CartLine {
        CartLine {
            external_id: id.into(),
            sku: sku.map(Into::into),
            title: id.to_uppercase(),
            variant: None,
            quantity: qty,
            unit_price: Money {
                amount_minor: cents,
                currency: "USD".parse().unwrap(),
            },
        }
    }

    #[test]
    fn the_same_product_and_variant_grows_one_line_and_totals_are_exact() {
        let mut cart = Cart::default();
        cart.add(line("tent", None, 1, 19_999)).unwrap();
        cart.add(line("boot", Some("boot-42"), 2, 8_950)).unwrap();
        cart.add(line("boot", Some("boot-42"), 1, 8_950)).unwrap();
        cart.add(line("boot", Some("boot-43"), 1, 8_950)).unwrap();
        assert_eq!(cart.lines.len(), 3);
        assert_eq!(cart.lines[1].quantity, 3);
        assert_eq!(cart.total().unwrap().amount_minor, 19_999 + 4 * 8_950);
        assert!(cart.set_quantity("boot", Some("boot-42"), 0).unwrap());
        assert_eq!(cart.remove("boot", None), 1);
        assert_eq!(cart.total().unwrap().amount_minor, 19_999);
    }

    #[test]
    fn a_refused_change_leaves_the_cart_as_it_was() {
        let mut cart = Cart::default();
        cart.add(line("tent", None, 1, 100)).unwrap();
        let mut eur = line("mug", None, 1, 100);
        eur.unit_price.currency = "EUR".parse().unwrap();
        assert!(matches!(
            cart.add(eur),
            Err(CartError::CurrencyMismatch { .. })
        ));
        assert_eq!(
            cart.add(line("tent", None, 99, 100)),
            Err(CartError::TooLarge)
        );
        assert_eq!(
            cart.add(line("tent", None, 0, 100)),
            Err(CartError::ZeroQuantity)
        );
        assert_eq!(cart.lines, vec![line("tent", None, 1, 100)]);
    }

    #[test]
    fn the_cart_round_trips_through_json() {
        let mut cart = Cart::default();
        cart.add(line("boot", Some("b-1"), 2, 8_950)).unwrap();
        let json = serde_json::to_string(&cart).unwrap();
        assert_eq!(serde_json::from_str::<Cart>(&json).unwrap(), cart);
        assert_eq!(serde_json::from_str::<Cart>("{}").unwrap(), Cart::default());
    }
}
