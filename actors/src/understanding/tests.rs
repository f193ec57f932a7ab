use super::*;

const HELDOUT: &str = include_str!("../../../data/intents/heldout.jsonl");
const BLIND: &str = include_str!("../../../data/intents/blind.jsonl");

fn understander() -> Arc<Understander> {
    Understander::shared()
}

#[test]
fn the_decision_rules_of_the_intent_guide_hold() {
    let u = understander();
    let cases = [
        ("hey there, got any camping stoves?", Intent::ProductSearch),
        ("history books", Intent::ProductSearch),
        (
            "do you have waterproof jackets under 150?",
            Intent::ProductSearch,
        ),
        ("add the second one in M", Intent::AddToCart),
        ("what's in my cart", Intent::ViewCart),
        ("has order 10423 shipped yet?", Intent::OrderStatus),
        ("can a real human help me?", Intent::HumanHandoff),
        ("hola", Intent::Greeting),
        ("merci beaucoup, au revoir", Intent::Farewell),
        ("ponlo en el carrito", Intent::AddToCart),
        (
            "welcher ist bequemer, der rote oder der blaue?",
            Intent::ProductComparison,
        ),
        ("quanto custa esse?", Intent::PriceQuestion),
        ("do you ship to Ireland?", Intent::ShippingQuestion),
        ("mi tarjeta fue rechazada", Intent::PaymentIssue),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(text, want)| {
            let got = u.understand(text);
            (got.intent != *want).then(|| format!("{text:?}: got {} want {want}", got.intent))
        })
        .collect();
    assert!(wrong.len() <= 1, "{wrong:#?}");
}

/// Accuracy overall and the lowest per-language accuracy of `set`.
fn accuracy(set: &str) -> (f64, f64) {
    let u = understander();
    let set = parse_labelled(set).unwrap();
    assert!(set.len() >= 400, "the set is too small: {}", set.len());
    let mut by_lang: std::collections::HashMap<String, (usize, usize)> = Default::default();
    for l in &set {
        let ok = u.understand(&l.text).intent.as_str() == l.intent;
        let e = by_lang
            .entry(l.lang.clone().unwrap_or_default())
            .or_default();
        e.0 += usize::from(ok);
        e.1 += 1;
    }
    assert_eq!(by_lang.len(), 5, "five languages");
    let right: usize = by_lang.values().map(|(r, _)| r).sum();
    let worst = by_lang
        .values()
        .map(|(r, n)| *r as f64 / *n as f64)
        .fold(1.0, f64::min);
    (right as f64 / set.len() as f64, worst)
}

// The measured figures are in docs/benchmarks.md; these guard against regressions below them.

#[test]
fn the_held_out_part_of_the_development_set_is_understood() {
    let (all, worst) = accuracy(HELDOUT);
    assert!(
        all >= 0.91 && worst >= 0.88,
        "held out: {all:.3}, worst language {worst:.3}"
    );
}

#[test]
fn an_independently_written_blind_set_is_understood() {
    let (all, worst) = accuracy(BLIND);
    assert!(
        all >= 0.95 && worst >= 0.93,
        "blind: {all:.3}, worst language {worst:.3}"
    );
}

#[test]
fn languages_are_told_apart_and_short_messages_stay_unsure() {
    let u = understander();
    assert_eq!(
        u.understand("¿tienen chaquetas impermeables?").lang,
        Some(Lang::Es)
    );
    assert_eq!(
        u.understand("vous avez des vestes imperméables ?").lang,
        Some(Lang::Fr)
    );
    assert_eq!(
        u.understand("habt ihr wasserdichte Jacken?").lang,
        Some(Lang::De)
    );
    assert_eq!(
        u.understand("vocês têm jaquetas impermeáveis?").lang,
        Some(Lang::Pt)
    );
    assert_eq!(
        u.understand("do you have waterproof jackets?").lang,
        Some(Lang::En)
    );
    assert_eq!(u.understand("42").lang, None);
}

#[test]
fn search_text_translates_product_words_to_the_catalog_language() {
    let u = understander();
    let got = u.understand("¿tienen chaquetas impermeables por menos de 150?");
    assert!(got.search_text.contains("jacket"), "{}", got.search_text);
    assert_eq!(got.entities.max_price_minor, Some(15000));
}

#[test]
fn the_same_training_set_gives_the_same_answers() {
    let examples = parse_labelled(TRAINING_SET).unwrap();
    let a = Understander::train(&examples);
    let b = Understander::train(&examples);
    for text in ["add two of those", "où est mon colis", "qwerty"] {
        assert_eq!(a.understand(text), b.understand(text));
    }
}

#[test]
fn corrections_on_top_of_the_classifier_fix_what_they_name_and_leave_the_rest() {
    let u = understander();
    // Each found in scripted sessions written apart from the training data; each was
    // classified as the label after `was` before its rule.
    let fixed = [
        ("maximal 300 bitte", Intent::ProductSearch), // was add_to_cart
        ("preferably less than 160 bucks", Intent::ProductSearch), // remove_from_cart
        ("y alguna que cueste menos de 150?", Intent::ProductSearch), // product_comparison
        ("de que trata el primero?", Intent::ProductQuestion), // product_comparison
        ("welche farben gibts beim ersten?", Intent::ProductQuestion), // product_comparison
        (
            "il y a combien de pièces dans le deuxième ?",
            Intent::ProductQuestion,
        ), // price
        ("elle pese combien la premiere ?", Intent::ProductQuestion), // price_question
        (
            "wie viel ml sind beim ersten drin?",
            Intent::ProductQuestion,
        ), // view_cart
        (
            "c'est quoi la matiere du premier ?",
            Intent::ProductQuestion,
        ), // off_topic
        (
            "a primeira mantem gelado por quanto tempo?",
            Intent::ProductQuestion,
        ), // shipping
        (
            "bom dia, preciso de uma jaqueta bem quentinha pro inverno, tamanho S",
            Intent::ProductSearch, // off_topic
        ),
        ("brauch noch ne stehlampe dazu", Intent::ProductSearch), // add_to_cart
        (
            "quita la sudadera, me quedo con la chaqueta",
            Intent::RemoveFromCart,
        ), // add
        ("mach 2 draus", Intent::AddToCart),                      // remove_from_cart
        ("ah, melhor so duas", Intent::RemoveFromCart),           // product_comparison
        (
            "Póngame otra igual, es para regalársela a mi hija.",
            Intent::AddToCart,
        ), // off_topic
        ("parfait, envoyez moi le lien de paiement", Intent::Checkout), // payment_issue
        (
            "e uma frigideira de ferro fundido, tem?",
            Intent::ProductSearch,
        ), // product_question
    ];
    // Near misses the rules must leave alone (all from the held-out and blind sets).
    let kept = [
        ("Who won the NBA finals last year?", Intent::OffTopic),
        ("quem foi o primeiro rei de portugal?", Intent::OffTopic),
        ("solo quiero una, no tres", Intent::RemoveFromCart),
        (
            "Le lien de paiement ne fonctionne plus, il a expiré.",
            Intent::PaymentIssue,
        ),
        (
            "qual das duas cafeteiras faz menos barulho",
            Intent::ProductComparison,
        ),
        (
            "ça fait combien au total pour l'instant ?",
            Intent::ViewCart,
        ),
        ("which one would u pick", Intent::ProductComparison),
        ("does the tent have a rainfly?", Intent::ProductQuestion),
        ("a barraca tem zíper?", Intent::ProductQuestion),
    ];
    let wrong: Vec<String> = fixed
        .iter()
        .chain(kept.iter())
        .filter_map(|(text, want)| {
            let got = u.understand(text);
            (got.intent != *want).then(|| format!("{text:?}: got {} want {want}", got.intent))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
