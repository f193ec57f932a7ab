//! Per-language word lists, folded (lower case, no accents): concepts shared by the five
//! languages (a cart word, a payment word, a request for a person…), number words, colours,
//! sizes, ordinals, and the words that are not product words. The classifier sees the concepts
//! as features, so what it learns from "carrito" helps with "Warenkorb"; the entity extractor
//! uses the rest. The lists are kept packed (`rustfmt::skip`): one word per line would make
//! them unreadable.

/// Concepts and the words that evoke them, in any of the five languages.
#[rustfmt::skip]
pub const CONCEPTS: &[(&str, &[&str])] = &[
    (
        "cart",
        &[
            "cart", "basket", "bag", "trolley", "carrito", "carro", "cesta", "canasta", "panier",
            "warenkorb", "korb", "einkaufswagen", "carrinho", "cesto", "sacola", "bolsa", "drin",
            "dedans", "added", "agrego", "agregado", "adicionado", "hinzugefugt",
        ],
    ),
    (
        "pay",
        &[
            "pay", "paying", "payment", "checkout", "pagar", "pago", "pagamento", "pague", "payer",
            "paie", "paye", "paiement", "regler", "bezahlen", "zahlen", "zahlung", "kasse",
            "bezahle", "zahle", "finalizar", "finalizo", "zahlungslink", "concluir", "abschicken",
        ],
    ),
    (
        "method",
        &[
            "card", "credit", "debit", "paypal", "apple", "google", "visa", "mastercard", "amex",
            "klarna", "afterpay", "tarjeta", "carte", "karte", "kreditkarte", "cartao", "pix",
            "boleto", "bizum", "sofort", "giropay", "wallet", "mbway", "multibanco", "cb",
            "rechnung", "lastschrift", "crypto", "bitcoin", "cash",
        ],
    ),
    (
        "human",
        &[
            "human", "agent", "representative", "operator", "manager", "someone", "somebody",
            "supervisor", "humano", "humana", "persona", "agente", "asesor", "asesora",
            "encargado", "humain", "personne", "conseiller", "conseillere", "responsable",
            "mensch", "menschen", "mitarbeiter", "mitarbeiterin", "berater", "beraterin",
            "kundendienst", "kundenservice", "pessoa", "atendente", "atendimento", "gerente",
            "callback", "appelez", "appelle", "appeler", "rappeler", "rappel", "ruft", "anrufen",
            "ruckruf", "liga", "ligue", "ligar", "llamame", "llamar", "llamada", "vendeur",
            "vendedor", "vendedora", "funcionario", "funcionaria", "whatsapp", "alguem",
            "jemandem", "jemand", "alguien", "quelqu",
        ],
    ),
    (
        "ship",
        &[
            "shipping", "ship", "ships", "delivery", "deliver", "courier", "postage", "envio",
            "envios", "envian", "enviar", "entrega", "entregan", "mensajeria", "livraison",
            "livrer", "livrez", "expedition", "expediez", "versand", "versandkosten", "lieferung",
            "liefern", "liefert", "lieferzeit", "frete", "entregam", "enviam", "correios",
            "pickup", "abholung", "retrait", "recogida", "retirada", "dhl", "ups", "fedex", "gls",
            "dpd", "hermes", "correos", "chronopost", "colissimo", "sedex", "recoger", "abholen",
        ],
    ),
    (
        "return",
        &[
            "return", "returns", "returning", "refund", "refunds", "devolver", "devolucion",
            "devoluciones", "devuelvo", "reembolso", "cambiar", "retour", "retourner", "renvoyer",
            "rembourser", "remboursement", "echange", "echanger", "rucksendung", "zurucksenden",
            "zuruckschicken", "zuruckgeben", "retoure", "erstattung", "umtausch", "umtauschen",
            "devolucao", "devolver", "trocar", "troca", "estorno", "reembolsar", "damaged",
            "danado", "aplastado", "undicht", "abgebrochen", "descosio", "defekt", "defective",
            "faulty", "defeituoso", "abime", "casse", "quebrou", "quebrado", "rasgado", "stain",
            "mancha", "leak", "leaking", "kaputt", "broken", "cracked",
        ],
    ),
    (
        "order",
        &[
            "order", "orders", "ordered", "package", "parcel", "tracking", "pedido", "pedidos",
            "paquete", "seguimiento", "commande", "commandes", "colis", "suivi", "bestellung",
            "bestellt", "paket", "sendung", "sendungsverfolgung", "encomenda", "pacote",
            "rastreio", "rastreamento",
        ],
    ),
    (
        "discount",
        &[
            "discount", "discounts", "coupon", "coupons", "code", "promo", "promotion", "sale",
            "sales", "deal", "deals", "voucher", "offer", "descuento", "descuentos", "cupon",
            "codigo", "rebajas", "oferta", "ofertas", "promocion", "reduction", "remise", "soldes",
            "promo", "bon", "rabatt", "rabattcode", "gutschein", "gutscheincode", "angebot",
            "aktion", "sale", "desconto", "descontos", "cupom", "promocao", "liquidacao",
            "student", "estudiante", "etudiant", "studenten", "estudante", "loyalty", "reward",
            "rewards", "points", "punkte", "puntos", "pontos", "treueprogramm", "fidelite",
            "fidelidad", "fidelidade", "brinde", "bundle", "bundles", "cashback", "off",
        ],
    ),
    (
        "price",
        &[
            "price", "prices", "cost", "costs", "precio", "precios", "cuesta", "cuestan", "cuanto",
            "prix", "coute", "coutent", "combien", "tarif", "preis", "preise", "kostet", "kosten",
            "wieviel", "preco", "precos", "custa", "custam", "quanto", "vat", "tax", "iva", "tva",
            "mwst", "imposto", "teuer", "preislich", "valor", "cobran",
        ],
    ),
    (
        "greet",
        &[
            "hi", "hello", "hey", "hiya", "yo", "howdy", "morning", "evening", "hola", "buenas",
            "buenos", "bonjour", "bonsoir", "salut", "coucou", "hallo", "servus", "moin", "gruss",
            "oi", "ola", "bom", "boa", "alo", "sup", "ahoy", "tach", "guden", "saudacoes",
            "nabend", "mornin", "gm", "wassup", "ey", "hej", "hallochen", "ciao",
        ],
    ),
    (
        "thanks",
        &[
            "thanks", "thank", "thx", "ty", "cheers", "gracias", "merci", "danke", "dankeschon",
            "vielen", "obrigado", "obrigada", "valeu", "brigado",
        ],
    ),
    (
        "bye",
        &[
            "bye", "goodbye", "ciao", "cya", "adios", "chao", "revoir", "bientot", "tschuss",
            "wiedersehen", "tschau", "tchau", "abraco", "ta", "gtg", "adeus", "adiosito", "chaoo",
            "tscho", "tschoe", "care",
        ],
    ),
    (
        "remove",
        &[
            "remove", "delete", "empty", "quitar", "quita", "quitame", "saca", "sacar", "elimina",
            "eliminar", "borra", "borrar", "vaciar", "vacia", "enlever", "enleve", "enlevez",
            "retirer", "retire", "supprimer", "supprime", "vider", "vide", "entfernen", "entferne",
            "losch", "losche", "loschen", "raus", "leeren", "remover", "remove", "tirar", "tira",
            "excluir", "exclui", "apagar", "apaga", "esvaziar", "retirar", "fewer", "zero", "cero",
            "null", "weg", "sair", "sacame", "fuera", "deshaz", "desfaz", "undo", "schmeiss",
            "vire", "virer", "degage", "ditch", "rid", "retira", "quitale", "entfern", "streich",
            "streiche", "sobra", "borralo", "rausnehmen", "ruckgangig",
        ],
    ),
    (
        "add",
        &[
            "add", "put", "anade", "anadir", "agrega", "agregar", "pon", "ponlo", "ponme", "meter",
            "mete", "llevo", "ajoute", "ajouter", "ajoutez", "prends", "prend", "mets", "mettez",
            "hinzufugen", "fuge", "nehme", "nehm", "pack", "packe", "adiciona", "adicionar",
            "adicione", "coloca", "colocar", "bota", "levo", "sube", "aumenta", "aumentar",
            "increase", "bump", "joga", "adding", "grab", "rein", "dazu", "glisse", "rajoute",
            "compro", "quedo", "sold", "mine", "pongame", "ponga", "anada", "agregue", "coloque",
            "ponha", "bote",
        ],
    ),
    (
        "compare",
        &[
            "compare", "comparison", "difference", "differ", "better", "vs", "versus", "comparar",
            "diferencia", "mejor", "comparer", "difference", "mieux", "meilleur", "lequel",
            "laquelle", "vergleich", "vergleichen", "unterschied", "besser", "diferenca", "melhor",
        ],
    ),
    (
        "ordinal",
        &[
            "first", "second", "third", "fourth", "fifth", "last", "1st", "2nd", "3rd", "primero",
            "primer", "primera", "segundo", "segunda", "tercero", "tercer", "tercera", "cuarto",
            "ultimo", "ultima", "premier", "premiere", "deuxieme", "second", "seconde",
            "troisieme", "quatrieme", "dernier", "derniere", "erste", "ersten", "erster", "zweite",
            "zweiten", "zweiter", "dritte", "dritten", "vierte", "letzte", "letzten", "primeiro",
            "primeira", "terceiro", "terceira", "quarto",
        ],
    ),
    (
        "fail",
        &[
            "declined", "decline", "failed", "fails", "failing", "error", "errors", "rejected",
            "denied", "expired", "rechazada", "rechazado", "rechaza", "fallo", "falla", "cobraron",
            "caducado", "expirado", "refusee", "refuse", "echoue", "echec", "erreur", "debite",
            "abgelehnt", "fehler", "fehlgeschlagen", "abgebucht", "doppelt", "zweimal", "recusado",
            "recusada", "falhou", "erro", "cobraram", "expirou", "rechazan", "rechazo", "lehnt",
            "sturzt", "crash", "crashes", "unable", "preleve", "debitado",
        ],
    ),
    (
        "offtopic",
        &[
            "translate", "traduz", "traduce", "traduis", "traduire", "ubersetze", "ubersetz",
            "conjugate", "conjugue", "konjugier", "conjuga", "weather", "clima", "wetter", "meteo",
            "riddle", "riddles", "adivinanza", "charada", "devinette", "ratsel", "joke", "jokes",
            "chiste", "blague", "witz", "piada", "poem", "poema", "poeme", "gedicht", "homework",
            "tarea", "devoirs", "hausaufgaben", "recipe", "receta", "recette", "rezept", "receita",
            "workout", "rutina", "treino", "entrenamiento", "python", "javascript",
            "indentationerror", "capital", "president", "presidente", "epoca", "gimnasio",
            "academia", "wanderung", "trail", "rio", "river", "fluss", "rei", "king", "konig",
            "roi", "rey", "copas", "meister", "champion", "campeon", "campeao", "mundial",
            "history", "historia", "geschichte", "capitale", "hauptstadt", "population", "planet",
            "planeta",
        ],
    ),
    (
        "spec",
        &[
            "warranty", "garantia", "garantie", "battery", "bateria", "batterie", "autonomie",
            "autonomia", "akkulaufzeit", "material", "materiau", "dimensions", "medidas", "mide",
            "mesure", "abmessungen", "weight", "peso", "poids", "gewicht", "bluetooth",
            "compatible", "compativel", "kompatibel", "washable", "waschbar", "lavable", "lavavel",
            "dishwasher", "spulmaschinenfest", "lavavajillas", "mikro", "mikrofon", "microfono",
            "microfone", "microphone", "cancelacion", "cancelamento", "ruido", "bruit", "protege",
            "montiert", "montado", "assembled", "assembly", "montage", "heures", "horas",
            "stunden", "hours",
        ],
    ),
    (
        "seek",
        &[
            "looking", "searching", "suche", "suchen", "busco", "buscando", "cherche", "procuro",
            "procurando", "zeig", "muestrame", "montrez", "mostra", "carry", "sell", "vendeis",
            "venden", "verkauft",
        ],
    ),
    (
        "total",
        &[
            "subtotal", "zwischensumme", "gesamt", "insgesamt", "junto", "tout",
        ],
    ),
    (
        "this",
        &[
            "this", "these", "those", "that", "esto", "este", "esta", "estos", "estas", "ese",
            "esa", "esos", "esas", "esse", "essa", "esses", "essas", "isso", "isto", "cet",
            "cette", "ces", "celui", "celle", "dieser", "diese", "dieses", "diesen",
        ],
    ),
    (
        "laugh",
        &[
            "haha", "hahaha", "lol", "lmao", "jaja", "jajaja", "jeje", "mdr", "ptdr", "kkk",
            "kkkk", "kkkkk", "rsrs", "hehe", "hihi",
        ],
    ),
    (
        "ack",
        &[
            "ok", "okay", "okey", "k", "kk", "sure", "yes", "yeah", "yep", "no", "nope", "nah",
            "si", "vale", "dale", "claro", "oui", "non", "ouais", "d", "accord", "ja", "nein",
            "genau", "klar", "sim", "nao", "beleza", "certo", "hmm", "mmm", "hm", "uh", "um",
            "copy", "passt", "scho", "klarchen", "marche", "entendido", "okidoki", "roger",
        ],
    ),
];

/// Function words and shopping verbs that are never what a visitor searches for.
#[rustfmt::skip]
pub const NOT_PRODUCT_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "for", "to", "in", "on", "with", "without", "at", "by",
    "from", "i", "im", "me", "my", "we", "our", "you", "your", "u", "ur", "do", "does", "did",
    "have", "has", "got", "any", "some", "is", "are", "am", "be", "it", "this", "that", "these",
    "those", "there", "please", "pls", "plz", "can", "could", "would", "will", "want", "wanna",
    "need", "looking", "look", "search", "searching", "find", "show", "see", "sell", "carry",
    "stock", "like", "d", "ll", "s", "m", "re", "ve", "hi", "hello", "hey", "thanks", "thank",
    "what", "which", "something", "anything", "good", "nice", "cheap", "cheaper", "cheapest",
    "under", "below", "less", "than", "over", "above", "more", "between", "max", "maximum",
    "around", "about", "budget", "price", "priced", "dollars", "dollar", "usd", "eur", "euros",
    "euro", "bucks", "$", "€", "£", "?", "get", "buy", "also", "too", "maybe", "options", "option",
    "one", "ones", "other", "others", "else", "similar", "got", "color", "colour", "size", "just",
    "really", "very", "so", "up", "guys", "y", "el", "la", "los", "las", "un", "una", "unos",
    "unas", "de", "del", "y", "o", "para", "por", "con", "sin", "en", "que", "tienen", "tiene",
    "tienes", "hay", "busco", "buscando", "quiero", "quisiera", "necesito", "me", "mi", "algo",
    "alguna", "algun", "algunos", "algunas", "menos", "mas", "entre", "barato", "baratos",
    "barata", "baratas", "hola", "gracias", "porfa", "favor", "venden", "vendeis", "talla",
    "color", "euros", "pesos", "dolares", "muestrame", "ensename", "ver", "otras", "otros", "otra",
    "otro", "buenas", "le", "les", "des", "du", "au", "aux", "et", "ou", "pour", "avec", "sans",
    "je", "j", "vous", "avez", "auriez", "est", "ce", "c", "cherche", "recherche", "voudrais",
    "veux", "moins", "plus", "entre", "de", "pas", "cher", "chers", "bonjour", "salut", "merci",
    "svp", "stp", "taille", "couleur", "qu", "quelque", "chose", "montrez", "moi", "autres",
    "vendez", "l", "n", "y", "a", "il", "der", "die", "das", "den", "dem", "ein", "eine", "einen",
    "einem", "und", "oder", "fur", "mit", "ohne", "ich", "du", "ihr", "sie", "habt", "haben",
    "hast", "gibt", "es", "suche", "brauche", "mochte", "hatte", "gern", "gerne", "unter", "uber",
    "weniger", "als", "bis", "zwischen", "billig", "billige", "gunstig", "gunstige", "hallo",
    "danke", "bitte", "grosse", "farbe", "euro", "zeig", "zeigt", "mir", "andere", "welche",
    "irgendwas", "verkauft", "im", "in", "von", "zu", "o", "os", "as", "um", "uma", "uns", "umas",
    "e", "para", "pra", "com", "sem", "no", "na", "nos", "nas", "do", "da", "dos", "das", "voces",
    "vcs", "vc", "tem", "tens", "procuro", "procurando", "quero", "queria", "preciso", "eu", "meu",
    "minha", "algum", "alguma", "barato", "baratos", "ate", "abaixo", "acima", "oi", "ola",
    "obrigado", "obrigada", "tamanho", "cor", "reais", "mostra", "mostre", "outros", "outras",
    "vendem",
];

/// Number words up to twelve, in the five languages.
#[rustfmt::skip]
pub const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1), ("a", 1), ("an", 1), ("single", 1), ("two", 2), ("three", 3), ("four", 4),
    ("five", 5), ("six", 6), ("seven", 7), ("eight", 8), ("nine", 9), ("ten", 10), ("eleven", 11),
    ("twelve", 12), ("dozen", 12), ("uno", 1), ("una", 1), ("un", 1), ("dos", 2), ("tres", 3),
    ("cuatro", 4), ("cinco", 5), ("seis", 6), ("siete", 7), ("ocho", 8), ("nueve", 9),
    ("diez", 10), ("une", 1), ("deux", 2), ("trois", 3), ("quatre", 4), ("cinq", 5), ("sept", 7),
    ("huit", 8), ("neuf", 9), ("dix", 10), ("ein", 1), ("eine", 1), ("einen", 1), ("eins", 1),
    ("zwei", 2), ("drei", 3), ("vier", 4), ("funf", 5), ("sechs", 6), ("sieben", 7), ("acht", 8),
    ("neun", 9), ("zehn", 10), ("um", 1), ("uma", 1), ("dois", 2), ("duas", 2), ("quatro", 4),
    ("sete", 7), ("oito", 8), ("nove", 9), ("dez", 10),
];

/// Colour words, to the English value the catalog uses.
#[rustfmt::skip]
pub const COLOURS: &[(&str, &str)] = &[
    ("black", "black"), ("white", "white"), ("red", "red"), ("blue", "blue"), ("navy", "navy"),
    ("green", "green"), ("olive", "olive"), ("yellow", "yellow"), ("orange", "orange"),
    ("pink", "pink"), ("purple", "purple"), ("grey", "grey"), ("gray", "grey"), ("brown", "brown"),
    ("beige", "beige"), ("tan", "tan"), ("silver", "silver"), ("gold", "gold"), ("cream", "cream"),
    ("teal", "teal"), ("negro", "black"), ("negra", "black"), ("negros", "black"),
    ("negras", "black"), ("blanco", "white"), ("blanca", "white"), ("rojo", "red"),
    ("roja", "red"), ("azul", "blue"), ("marino", "navy"), ("verde", "green"),
    ("amarillo", "yellow"), ("amarilla", "yellow"), ("naranja", "orange"), ("rosa", "pink"),
    ("rosado", "pink"), ("morado", "purple"), ("gris", "grey"), ("marron", "brown"),
    ("cafe", "brown"), ("noir", "black"), ("noire", "black"), ("blanc", "white"),
    ("blanche", "white"), ("rouge", "red"), ("bleu", "blue"), ("bleue", "blue"),
    ("marine", "navy"), ("vert", "green"), ("verte", "green"), ("jaune", "yellow"),
    ("violet", "purple"), ("schwarz", "black"), ("schwarze", "black"), ("schwarzen", "black"),
    ("schwarzer", "black"), ("weiss", "white"), ("weisse", "white"), ("rot", "red"),
    ("rote", "red"), ("roten", "red"), ("blau", "blue"), ("blaue", "blue"), ("blauen", "blue"),
    ("dunkelblau", "navy"), ("grun", "green"), ("grune", "green"), ("gelb", "yellow"),
    ("gelbe", "yellow"), ("lila", "purple"), ("grau", "grey"), ("graue", "grey"),
    ("braun", "brown"), ("braune", "brown"), ("preto", "black"), ("preta", "black"),
    ("branco", "white"), ("branca", "white"), ("vermelho", "red"), ("vermelha", "red"),
    ("amarelo", "yellow"), ("amarela", "yellow"), ("laranja", "orange"), ("roxo", "purple"),
    ("cinza", "grey"), ("marrom", "brown"),
];

/// Letter sizes, as the catalog spells them.
#[rustfmt::skip]
pub const LETTER_SIZES: &[&str] = &[
    "xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl", "2xl", "3xl",
];

/// Words that announce a size.
#[rustfmt::skip]
pub const SIZE_WORDS: &[&str] = &[
    "size", "sz", "talla", "taille", "grosse", "gr", "tamanho", "numero", "num", "pointure",
    "schuhgrosse",
];

/// Ordinals: the word and the 1-based position (0 means the last).
#[rustfmt::skip]
pub const ORDINALS: &[(&str, usize)] = &[
    ("first", 1), ("1st", 1), ("second", 2), ("2nd", 2), ("third", 3), ("3rd", 3), ("fourth", 4),
    ("4th", 4), ("fifth", 5), ("5th", 5), ("last", 0), ("primero", 1), ("primer", 1),
    ("primera", 1), ("segundo", 2), ("segunda", 2), ("tercero", 3), ("tercer", 3), ("tercera", 3),
    ("cuarto", 4), ("cuarta", 4), ("quinto", 5), ("ultimo", 0), ("ultima", 0), ("premier", 1),
    ("premiere", 1), ("deuxieme", 2), ("seconde", 2), ("troisieme", 3), ("quatrieme", 4),
    ("dernier", 0), ("derniere", 0), ("erste", 1), ("ersten", 1), ("erster", 1), ("erstes", 1),
    ("zweite", 2), ("zweiten", 2), ("zweiter", 2), ("zweites", 2), ("dritte", 3), ("dritten", 3),
    ("dritter", 3), ("drittes", 3), ("vierte", 4), ("vierten", 4), ("funfte", 5), ("sechste", 6),
    ("sexta", 6), ("sixth", 6), ("sixieme", 6), ("cinquieme", 5), ("letzte", 0), ("letzten", 0),
    ("letzter", 0), ("letztes", 0), ("primeiro", 1), ("primeira", 1), ("terceiro", 3),
    ("terceira", 3), ("quarto", 4), ("quarta", 4), ("quinta", 5),
];

/// Words for "cheapest" and "most expensive".
#[rustfmt::skip]
pub const CHEAPEST: &[&str] = &[
    "cheapest", "cheaper", "barato", "barata", "economico", "economica", "cher", "gunstigste",
    "gunstigsten", "billigste", "billigsten", "gunstigere", "billigere",
];
/// Words for "most expensive".
#[rustfmt::skip]
pub const PRICIEST: &[&str] = &[
    "expensive", "priciest", "caro", "cara", "teuerste", "teuersten",
];

/// The words of `concept` (none for an unknown concept).
pub fn concept_words(concept: &str) -> &'static [&'static str] {
    CONCEPTS
        .iter()
        .find(|(c, _)| *c == concept)
        .map_or(&[], |(_, words)| words)
}

/// The number a word stands for (digits or a number word).
pub fn number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse::<u32>() {
        return Some(n);
    }
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, n)| *n)
}
