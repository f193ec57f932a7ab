//! Corrections on top of the intent classifier: the intent guide's boundaries the classifier
//! cannot learn from a few thousand examples, each a rule on the words and entities of one
//! message (`tests.rs` lists what each fixes and the near misses each must leave alone).

use super::lexicon;
use super::{Intent, Reference, Understanding};

/// "Only" ("only one please", "melhor só duas"), folded.
pub const ONLY_WORDS: &[&str] = &[
    "only",
    "just",
    "solo",
    "so",
    "nur",
    "seulement",
    "seul",
    "seule",
    "apenas",
    "somente",
    "solamente",
];

/// Words that ask for one more of the same ("another one", "otra igual", "noch einen"),
/// folded.
pub const AGAIN_WORDS: &[&str] = &[
    "another", "more", "same", "otro", "otra", "igual", "mismo", "misma", "autre", "encore",
    "meme", "noch", "weitere", "weiteren", "gleiche", "gleichen", "selbe", "selben", "outro",
    "outra", "mesmo", "mesma",
];

/// Applies the corrections to the classifier's answer: a price bound ("under 50", "até 300")
/// with no other request is a search (or its refinement), a comparison that compares nothing
/// but names a quantity is a change of quantity, a cart view that names a product and not the
/// cart is a search, and the rules below, each with the message that called for it.
pub(super) fn apply(u: &mut Understanding) {
    /// Verbs that set a quantity ("que sean dos", "make it two", "mets-en deux").
    const QUANTITY_VERBS: &[&str] = &[
        "sean", "sea", "make", "mach", "mets", "deixa", "fica", "quero", "quiero", "ponme",
        "nehme", "prends",
    ];
    /// Words that ask how many, not how much money ("how many pieces", "combien de pièces").
    const COUNT_WORDS: &[&str] = &["many", "cuantos", "cuantas", "viele", "quantos", "quantas"];
    /// Words about money that keep a "how many / combien" question about the price.
    const MONEY_WORDS: &[&str] = &[
        "cost", "costs", "price", "prix", "coute", "coutent", "cuesta", "cuestan", "precio",
        "kostet", "kosten", "preis", "custa", "custam", "preco", "dollars", "dollar", "euros",
        "euro", "dolares", "reais", "bucks", "pay", "paye", "pagar", "zahlen", "payer",
    ];
    /// Nouns for the cart itself ("drin", "added" are cart words that also speak of products).
    const CART_NOUNS: &[&str] = &[
        "cart",
        "basket",
        "bag",
        "trolley",
        "carrito",
        "carro",
        "cesta",
        "canasta",
        "panier",
        "warenkorb",
        "korb",
        "einkaufswagen",
        "carrinho",
        "cesto",
        "sacola",
    ];
    /// Words that offer a choice between products ("or", "which").
    const CHOICE_WORDS: &[&str] = &[
        "or", "between", "o", "entre", "ou", "lequel", "laquelle", "oder", "zwischen",
    ];
    /// Words about a product's measures, not its price ("elle pèse combien").
    const MEASURE_WORDS: &[&str] = &[
        "weigh", "weighs", "pese", "pesa", "pesan", "wiegt", "long", "largo", "longue", "lang",
        "tall", "alto", "haut", "hoch", "wide", "ancho", "large", "breit", "tempo", "tiempo",
        "temps", "dure", "dura", "lange",
    ];
    /// Verbs that put something in the cart (a need alone is a search).
    const ADD_VERBS: &[&str] = &[
        "add",
        "put",
        "anade",
        "anadir",
        "agrega",
        "ajoute",
        "ajouter",
        "ajoutez",
        "mets",
        "hinzufugen",
        "fuge",
        "pack",
        "packe",
        "adiciona",
        "adicione",
        "coloca",
        "pon",
        "ponme",
        "pongame",
        "take",
        "nehm",
        "nehme",
        "prends",
        "llevo",
        "levo",
    ];
    /// Verbs that set a quantity outright ("mach 2 draus", "make it 3").
    const SET_VERBS: &[&str] = &[
        "mach", "make", "mets", "sean", "sea", "deixa", "fica", "change", "cambia",
    ];
    /// Words that, with "only", lower a quantity ("only one, not three").
    const FEWER_WORDS: &[&str] = &[
        "not", "no", "nao", "nicht", "pas", "fewer", "less", "menos", "moins", "weniger",
    ];
    /// Verbs that ask whether the store carries something.
    const CARRY_WORDS: &[&str] = &[
        "tienen", "tienes", "venden", "vendeis", "avez", "vendez", "habt", "gibt", "gibts",
        "fuhrt", "fuhren", "verkauft", "vendem", "teem",
    ];
    /// The payment link, and asking for it to be sent.
    const LINK_WORDS: &[&str] = &["link", "lien", "enlace", "liga"];
    const SEND_WORDS: &[&str] = &[
        "send", "envoyez", "envoie", "envoyer", "manda", "mande", "mandame", "envia", "envie",
        "enviame", "schick", "schicken", "schickt", "give", "dame", "donne", "donnez",
    ];
    /// Words that say the visitor needs or looks for something.
    const NEED_WORDS: &[&str] = &[
        "need", "looking", "want", "necesito", "busco", "quiero", "preciso", "procuro", "quero",
        "besoin", "cherche", "voudrais", "brauche", "brauch", "suche", "mochte", "needs",
        "necesita", "precisa", "faut",
    ];
    let e = &u.entities;
    let bound = e.max_price_minor.is_some() || e.min_price_minor.is_some();
    let has = |concept: &str| {
        let words = lexicon::concept_words(concept);
        u.tokens.iter().any(|t| words.contains(&t.as_str()))
    };
    let any = |words: &[&str]| u.tokens.iter().any(|t| words.contains(&t.as_str()));
    let ordinal = e
        .references
        .iter()
        .any(|r| matches!(r, Reference::Ordinal(_)));
    // An ordinal that opens or closes the message ("a primeira mantém…", "…du premier ?")
    // picks a product from the list; one inside it is usually not about the list ("my first
    // marathon", "o primeiro rei de Portugal").
    let picks_from_list = ordinal && {
        let ordinals = lexicon::concept_words("ordinal");
        let words: Vec<&str> = u
            .tokens
            .iter()
            .map(String::as_str)
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .filter(|t| !matches!(*t, "one" | "uno" | "una" | "um" | "uma" | "ones"))
            .collect();
        let n = words.len();
        words
            .iter()
            .enumerate()
            .any(|(i, t)| ordinals.contains(t) && (i <= 1 || i + 1 == n))
    };
    // "do you have…", "¿tienen…?", "vous avez…", "gibt es…", "vocês vendem…", Portuguese
    // "tem" opening or closing the message ("…, tem?"; inside it, "a barraca tem zíper?", it is
    // about a product).
    let asks_carried = {
        let t: Vec<&str> = u
            .tokens
            .iter()
            .map(String::as_str)
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .collect();
        let pairs = t.windows(2).any(|w| {
            matches!(
                (w[0], w[1]),
                ("you", "have" | "got" | "sell" | "carry" | "stock") | ("got", "any")
            )
        });
        pairs
            || t.iter().any(|w| CARRY_WORDS.contains(w))
            || t.first().is_some_and(|w| *w == "tem")
            || t.last().is_some_and(|w| *w == "tem")
    };
    let counts = u.tokens.iter().any(|t| COUNT_WORDS.contains(&t.as_str()))
        || any(MEASURE_WORDS)
        || u.tokens
            .windows(2)
            .any(|w| w[0] == "combien" && w[1] == "de");
    let about_money = u.tokens.iter().any(|t| MONEY_WORDS.contains(&t.as_str()));
    let corrected = match u.intent {
        Intent::OffTopic
        | Intent::Unknown
        | Intent::DiscountQuestion
        | Intent::Farewell
        | Intent::Greeting
            if bound && e.order_number.is_none() =>
        {
            Some(Intent::ProductSearch)
        }
        // "maximal 300 bitte", "preferably less than 160 bucks": a bare budget refines the
        // search; it points at nothing to add, remove or track.
        Intent::AddToCart | Intent::RemoveFromCart | Intent::OrderStatus
            if bound
                && e.order_number.is_none()
                && e.references.is_empty()
                && e.quantity.is_none()
                && !has("cart") =>
        {
            Some(Intent::ProductSearch)
        }
        // "y alguna que cueste menos de 150?": a budget and fewer than two products to compare.
        Intent::ProductComparison if bound && e.references.len() < 2 && !has("compare") => {
            Some(Intent::ProductSearch)
        }
        // "mach 2 draus": a verb that sets a quantity, and none that removes or lowers.
        Intent::RemoveFromCart
            if e.quantity.is_some()
                && any(SET_VERBS)
                && !has("remove")
                && !any(ONLY_WORDS)
                && !any(FEWER_WORDS) =>
        {
            Some(Intent::AddToCart)
        }
        // "brauch noch ne stehlampe dazu": needing a kind of product, with no verb that puts
        // one in the cart, is a search.
        Intent::AddToCart
            if u.names_products
                && e.references.is_empty()
                && any(NEED_WORDS)
                && !any(ADD_VERBS) =>
        {
            Some(Intent::ProductSearch)
        }
        // "c'est quoi la matière du premier ?", "a primeira mantém gelado por quanto tempo?":
        // a product picked from the list is what the question is about.
        Intent::OffTopic | Intent::Unknown if picks_from_list => Some(Intent::ProductQuestion),
        Intent::ShippingQuestion if picks_from_list && !has("ship") => {
            Some(Intent::ProductQuestion)
        }
        // "ah, melhor só duas": fewer of what is in the cart, not a comparison.
        Intent::ProductComparison
            if e.quantity.is_some() && e.references.len() < 2 && any(ONLY_WORDS) =>
        {
            Some(Intent::RemoveFromCart)
        }
        // "envoyez-moi le lien de paiement": asking for the payment link, with nothing failing.
        Intent::PaymentIssue if any(LINK_WORDS) && any(SEND_WORDS) && !has("fail") => {
            Some(Intent::Checkout)
        }
        // "Póngame otra igual": one more of the same.
        Intent::OffTopic if has("add") && any(AGAIN_WORDS) => Some(Intent::AddToCart),
        // "e uma frigideira de ferro fundido, tem?": whether the store carries a kind of
        // product is a search (the guide's boundary), unless the question asks about a feature.
        Intent::ProductQuestion
            if u.names_products && e.references.is_empty() && asks_carried && !has("spec") =>
        {
            Some(Intent::ProductSearch)
        }
        // "de que trata el primero?": one product picked by its place in the list, and no word
        // that compares or offers a choice, is a question about it.
        Intent::ProductComparison
            if matches!(e.references.as_slice(), [Reference::Ordinal(_)])
                && !has("compare")
                && !any(CHOICE_WORDS) =>
        {
            Some(Intent::ProductQuestion)
        }
        // "how does the first compare with the second": two products and a word that compares.
        Intent::ProductQuestion if e.references.len() >= 2 && has("compare") => {
            Some(Intent::ProductComparison)
        }
        // "il y a combien de pièces dans le deuxième ?": how many, not how much money.
        Intent::PriceQuestion if counts && !about_money => Some(Intent::ProductQuestion),
        // "wie viel ml sind beim ersten drin?": a product picked from the list and no noun for
        // the cart.
        Intent::ViewCart if ordinal && !any(CART_NOUNS) => Some(Intent::ProductQuestion),
        // "preciso de uma jaqueta bem quentinha pro inverno, tamanho S": an unsure off-topic
        // call on a message that needs a kind of product the store sells.
        Intent::OffTopic if u.names_products && u.confidence < 0.5 && any(NEED_WORDS) => {
            Some(Intent::ProductSearch)
        }
        // "show me mugs": a product kind and no word for the cart is a search.
        Intent::ViewCart
            if u.names_products
                && !u
                    .tokens
                    .iter()
                    .any(|t| lexicon::concept_words("cart").contains(&t.as_str())) =>
        {
            Some(Intent::ProductSearch)
        }
        // "quita la sudadera, me quedo con la chaqueta": a message that opens with a verb that
        // removes is a removal, whatever it says it takes after.
        Intent::AddToCart
            if u.tokens
                .first()
                .is_some_and(|t| lexicon::concept_words("remove").contains(&t.as_str())) =>
        {
            Some(Intent::RemoveFromCart)
        }
        Intent::ProductComparison
            if e.quantity.is_some()
                && e.references.len() < 2
                && u.tokens
                    .iter()
                    .any(|t| QUANTITY_VERBS.contains(&t.as_str())) =>
        {
            Some(Intent::AddToCart)
        }
        _ => None,
    };
    if let Some(intent) = corrected {
        u.runner_up = (u.intent, u.confidence);
        u.intent = intent;
        // A rule decided: as sure as the rule is.
        u.confidence = u.confidence.max(0.6);
    }
}
