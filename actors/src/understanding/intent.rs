//! The 18 visitor intents (the intent guide, data/intents/README.md), spelled exactly as the labelled data and the wire
//! spell them.

use serde::{Deserialize, Serialize};

/// What a visitor's message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Opens the chat or makes small talk, asking for nothing.
    Greeting,
    /// Closes the chat.
    Farewell,
    /// Wants products not yet identified.
    ProductSearch,
    /// Asks about one identified product.
    ProductQuestion,
    /// Compares two or more products.
    ProductComparison,
    /// Asks what identified products cost.
    PriceQuestion,
    /// Asks about promotions, coupons and discounts.
    DiscountQuestion,
    /// Wants to buy or add a product, or raise a quantity.
    AddToCart,
    /// Wants something out of the cart or a lower quantity.
    RemoveFromCart,
    /// Wants to see the cart.
    ViewCart,
    /// Wants to pay, or asks how paying works.
    Checkout,
    /// Asks about an order already placed.
    OrderStatus,
    /// Asks about delivery before buying.
    ShippingQuestion,
    /// Asks about returns, exchanges and refunds.
    ReturnQuestion,
    /// Reports that paying went wrong.
    PaymentIssue,
    /// Asks for a person.
    HumanHandoff,
    /// A clear request unrelated to shopping here.
    OffTopic,
    /// Nothing actionable.
    Unknown,
}

impl Intent {
    /// Every intent, in a fixed order (the classifier's class order).
    pub const ALL: [Intent; 18] = [
        Intent::Greeting,
        Intent::Farewell,
        Intent::ProductSearch,
        Intent::ProductQuestion,
        Intent::ProductComparison,
        Intent::PriceQuestion,
        Intent::DiscountQuestion,
        Intent::AddToCart,
        Intent::RemoveFromCart,
        Intent::ViewCart,
        Intent::Checkout,
        Intent::OrderStatus,
        Intent::ShippingQuestion,
        Intent::ReturnQuestion,
        Intent::PaymentIssue,
        Intent::HumanHandoff,
        Intent::OffTopic,
        Intent::Unknown,
    ];

    /// Its label.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Greeting => "greeting",
            Intent::Farewell => "farewell",
            Intent::ProductSearch => "product_search",
            Intent::ProductQuestion => "product_question",
            Intent::ProductComparison => "product_comparison",
            Intent::PriceQuestion => "price_question",
            Intent::DiscountQuestion => "discount_question",
            Intent::AddToCart => "add_to_cart",
            Intent::RemoveFromCart => "remove_from_cart",
            Intent::ViewCart => "view_cart",
            Intent::Checkout => "checkout",
            Intent::OrderStatus => "order_status",
            Intent::ShippingQuestion => "shipping_question",
            Intent::ReturnQuestion => "return_question",
            Intent::PaymentIssue => "payment_issue",
            Intent::HumanHandoff => "human_handoff",
            Intent::OffTopic => "off_topic",
            Intent::Unknown => "unknown",
        }
    }

    /// The intent with this label.
    pub fn parse(label: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == label)
    }

    /// Its position in [`Intent::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The languages the agent understands and answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// Spanish.
    Es,
    /// French.
    Fr,
    /// German.
    De,
    /// Portuguese.
    Pt,
}

impl Lang {
    /// Every language, in the language classifier's class order.
    pub const ALL: [Lang; 5] = [Lang::En, Lang::Es, Lang::Fr, Lang::De, Lang::Pt];

    /// Its ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Pt => "pt",
        }
    }

    /// The language of a BCP 47 tag (`es`, `pt-BR`), when it is one of ours.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// Its position in [`Lang::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_index_their_position() {
        for (i, intent) in Intent::ALL.into_iter().enumerate() {
            assert_eq!(Intent::parse(intent.as_str()), Some(intent));
            assert_eq!(intent.index(), i);
        }
        assert_eq!(Intent::parse("buy"), None);
        assert_eq!(Lang::from_tag("pt-BR"), Some(Lang::Pt));
        assert_eq!(Lang::from_tag("it"), None);
    }
}
