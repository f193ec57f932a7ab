//! Which turns the `main` model answers. The offline agent is exact and free for what it is sure
//! of; the model is worth its cost for open questions, comparisons, advice and references the
//! rules cannot resolve. The merchant's [`Routing`] sets the balance; without a real `main`
//! model every turn stays with the offline agent.

use super::config::Routing;
use crate::conversation::SessionState;
use crate::understanding::{Intent, Understanding};

/// Who answers a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The offline agent.
    Rules,
    /// The `main` model with the tools.
    Model,
}

/// Words that ask for advice rather than name a product (`gift`, `recommend`, …), in the five
/// languages, folded like the understanding's tokens (lower case, no accents).
const ADVICE_WORDS: &[&str] = &[
    // en
    "recommend",
    "recommendation",
    "suggest",
    "suggestion",
    "advice",
    "advise",
    "gift",
    "present",
    "beginner",
    "beginners",
    "ideal",
    "best",
    "should",
    "worth",
    "vs",
    "versus",
    // es
    "recomiendas",
    "recomienda",
    "recomendarias",
    "recomendacion",
    "sugieres",
    "sugerencia",
    "consejo",
    "regalo",
    "principiante",
    "mejor",
    "deberia",
    "vale",
    // fr
    "recommandes",
    "recommandez",
    "conseilles",
    "conseillez",
    "conseil",
    "cadeau",
    "debutant",
    "meilleur",
    "meilleure",
    "devrais",
    "vaut",
    // de
    "empfiehlst",
    "empfehlen",
    "empfehlung",
    "rat",
    "ratschlag",
    "geschenk",
    "anfanger",
    "beste",
    "besten",
    "sollte",
    "lohnt",
    // pt
    "recomenda",
    "recomendacao",
    "sugere",
    "sugestao",
    "conselho",
    "presente",
    "iniciante",
    "melhor",
    "deveria",
    "compensa",
];

/// Whether the message asks for advice (see [`ADVICE_WORDS`]).
fn asks_advice(u: &Understanding) -> bool {
    u.tokens.iter().any(|t| ADVICE_WORDS.contains(&t.as_str()))
}

/// The route of a turn on `intent` (decided from `u`) with `state`, for a merchant routing by
/// `routing`, when a real `main` model exists (`model_available`).
pub fn route(
    routing: Routing,
    model_available: bool,
    intent: Intent,
    u: &Understanding,
    state: &SessionState,
) -> Route {
    if !model_available {
        return Route::Rules;
    }
    match routing {
        Routing::Rules => Route::Rules,
        Routing::Model => Route::Model,
        Routing::Balanced => {
            if balanced_needs_model(intent, u, state) {
                Route::Model
            } else {
                Route::Rules
            }
        }
    }
}

/// The balanced split: see [`Routing::Balanced`].
fn balanced_needs_model(intent: Intent, u: &Understanding, state: &SessionState) -> bool {
    let clear_reference =
        !u.entities.references.is_empty() || u.names_products || state.focus.is_some();
    match intent {
        Intent::ProductComparison | Intent::ProductQuestion => true,
        Intent::ProductSearch => {
            // A refinement of the last search ("any under 100?") names no product but keeps
            // the last one's words: the rules search again with the new bounds.
            let e = &u.entities;
            let refines = state.last_query.is_some()
                && (e.max_price_minor.is_some()
                    || e.min_price_minor.is_some()
                    || e.colour.is_some()
                    || e.size.is_some());
            (!u.names_products && !refines) || asks_advice(u)
        }
        Intent::AddToCart | Intent::PriceQuestion => !clear_reference,
        Intent::RemoveFromCart => !clear_reference && state.cart.lines.len() > 1,
        Intent::Greeting
        | Intent::Farewell
        | Intent::ViewCart
        | Intent::Checkout
        | Intent::OrderStatus
        | Intent::ShippingQuestion
        | Intent::ReturnQuestion
        | Intent::DiscountQuestion
        | Intent::PaymentIssue
        | Intent::HumanHandoff
        | Intent::OffTopic
        | Intent::Unknown => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understanding::Understander;

    fn routed(text: &str) -> Route {
        let u = Understander::shared().understand(text);
        route(
            Routing::Balanced,
            true,
            u.intent,
            &u,
            &SessionState::default(),
        )
    }

    #[test]
    fn sure_turns_stay_with_the_rules_and_open_ones_go_to_the_model() {
        for text in [
            "hello",
            "show me my cart",
            "I want to pay now",
            "do you ship to Ireland?",
            "waterproof hiking boots",
            "tienen tiendas de campaña?",
        ] {
            assert_eq!(routed(text), Route::Rules, "{text}");
        }
        for text in [
            "which one is lighter, the first or the second?",
            "what would you recommend as a gift for my dad who loves cooking?",
            "is the first one waterproof?",
            "quel est le meilleur cadeau pour un randonneur débutant ?",
        ] {
            assert_eq!(routed(text), Route::Model, "{text}");
        }
    }

    #[test]
    fn a_refinement_of_the_last_search_stays_with_the_rules() {
        let u = Understander::shared().understand("anything under 30 bucks?");
        let mut s = SessionState::default();
        assert_eq!(
            route(Routing::Balanced, true, Intent::ProductSearch, &u, &s),
            Route::Model,
            "nothing to refine: the model asks what they want"
        );
        s.last_query = Some("headphones".into());
        assert_eq!(
            route(Routing::Balanced, true, Intent::ProductSearch, &u, &s),
            Route::Rules
        );
    }

    #[test]
    fn without_a_model_or_with_rules_routing_nothing_goes_to_the_model() {
        let u = Understander::shared().understand("which one is lighter?");
        let s = SessionState::default();
        assert_eq!(
            route(Routing::Balanced, false, u.intent, &u, &s),
            Route::Rules
        );
        assert_eq!(route(Routing::Rules, true, u.intent, &u, &s), Route::Rules);
        let hello = Understander::shared().understand("hello");
        assert_eq!(
            route(Routing::Model, true, hello.intent, &hello, &s),
            Route::Model
        );
    }
}
