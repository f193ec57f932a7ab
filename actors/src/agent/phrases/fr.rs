//! French phrases (same keys and slots as English).

/// Key → template.
pub const PHRASES: &[(&str, &str)] = &[
    ("and", "et"),
    (
        "greeting",
        "Bonjour ! Je suis {name}. Je peux trouver des produits pour vous, répondre à vos questions à leur sujet et gérer votre panier. Que recherchez-vous ?",
    ),
    (
        "greeting_back",
        "Bon retour ! Votre panier est toujours là ({count} articles, {total}). En quoi puis-je encore vous aider ?",
    ),
    ("farewell", "Merci de votre visite, excellente journée !"),
    (
        "farewell_cart",
        "Merci de votre visite ! Votre panier est enregistré ({count} articles, {total}), vous pourrez le retrouver quand vous voudrez.",
    ),
    ("search_intro", "Voici ce que j'ai trouvé :"),
    (
        "search_intro_budget",
        "Voici ce que j'ai trouvé dans votre budget :",
    ),
    (
        "search_intro_size",
        "Voici ce que j'ai trouvé en taille {size} :",
    ),
    ("search_line", "{n}. {title} — {price}"),
    (
        "search_line_sale",
        "{n}. {title} — {price} (au lieu de {was})",
    ),
    ("out_of_stock_tag", " (en rupture de stock)"),
    (
        "search_outro",
        "Dites-moi lequel vous plaît, ou écrivez « ajoutez le premier » pour le mettre dans votre panier.",
    ),
    (
        "search_none",
        "Je n'ai rien trouvé qui ressemble à « {query} » dans le catalogue. Pourriez-vous le décrire autrement ?",
    ),
    (
        "search_none_budget",
        "Je n'ai pas trouvé « {query} » dans ce budget. Voulez-vous voir des options sans limite de prix ?",
    ),
    (
        "search_none_size",
        "Je n'ai pas trouvé « {query} » en taille {size}. Voulez-vous voir d'autres tailles ?",
    ),
    (
        "search_what",
        "Quel type de produit recherchez-vous ? Dites-moi à quoi il doit servir, votre budget, une couleur ou une taille, et je cherche dans le catalogue.",
    ),
    (
        "which_product",
        "De quel produit parlez-vous ? Donnez-moi son numéro dans la liste ou son nom, ou dites-moi ce que vous recherchez.",
    ),
    (
        "catalog_down",
        "Désolé, je n'arrive pas à accéder au catalogue pour le moment. Veuillez réessayer dans un instant.",
    ),
    ("product_price", "{title} coûte {price}."),
    (
        "product_price_sale",
        "{title} coûte {price} (au lieu de {was}).",
    ),
    ("product_sizes", "Tailles : {sizes}."),
    ("product_colours", "Couleurs : {colours}."),
    ("in_stock", "Ce produit est en stock."),
    (
        "out_of_stock",
        "Ce produit est en rupture de stock pour le moment.",
    ),
    (
        "size_available",
        "Oui, {title} existe en taille {size} et est en stock.",
    ),
    (
        "size_sold_out",
        "La taille {size} de {title} est en rupture de stock pour le moment.",
    ),
    (
        "size_missing",
        "{title} n'existe pas en taille {size}. Tailles disponibles : {sizes}.",
    ),
    ("colour_available", "Oui, {title} existe en {colour}."),
    (
        "colour_missing",
        "{title} n'existe pas en {colour}. Couleurs : {colours}.",
    ),
    (
        "from_description",
        "D'après la description du produit : « {sentence} »",
    ),
    (
        "no_detail",
        "Les informations du produit ne le précisent pas. Si vous le souhaitez, je peux transmettre votre question à quelqu'un de la boutique.",
    ),
    (
        "price_tax",
        "Les prix sont ceux du catalogue ; les éventuels frais de livraison et taxes sont indiqués au moment de la commande, avant le paiement.",
    ),
    ("compare_intro", "Voici la comparaison :"),
    ("compare_line", "• {title} : {price}, {stock}{extra}"),
    ("compare_cheaper", "{title} est l'option la moins chère."),
    ("compare_same_price", "Les deux sont au même prix."),
    (
        "compare_need_two",
        "Quels produits dois-je comparer ? Choisissez-en deux dans la liste, par exemple « le premier et le deuxième ».",
    ),
    ("stock_word_in", "en stock"),
    ("stock_word_out", "en rupture de stock"),
    (
        "discount_none",
        "Je n'ai aucun code promo ni aucune réduction à vous proposer.",
    ),
    (
        "discount_on_sale",
        "Voici les articles en promotion en ce moment :",
    ),
    (
        "discount_code",
        "Je ne peux ni vérifier ni appliquer de codes dans le chat. Si un code ne fonctionne pas, quelqu'un de la boutique pourra vous aider.",
    ),
    ("added", "J'ai ajouté {qty} × {title} à {price} l'unité."),
    (
        "set_quantity",
        "C'est fait : {qty} × {title} dans votre panier.",
    ),
    (
        "cart_summary",
        "Votre panier : {count} articles, {total} au total.",
    ),
    (
        "needs_variant",
        "{title} est disponible en {options}. Que souhaitez-vous comme {dimension} ?",
    ),
    (
        "no_such_variant",
        "{title} n'existe pas en {wanted}. Options disponibles : {options}.",
    ),
    (
        "sold_out",
        "Désolé, {title} est en rupture de stock pour le moment.",
    ),
    (
        "not_enough_stock",
        "Désolé, il ne reste que {available} en stock pour {title}.",
    ),
    (
        "not_sold_here",
        "Désolé, ce produit n'est pas disponible dans cette boutique.",
    ),
    (
        "cart_refused",
        "Je n'ai pas pu modifier votre panier : {reason}.",
    ),
    ("removed", "J'ai retiré {title} de votre panier."),
    (
        "reduced",
        "Vous avez maintenant {qty} × {title} dans votre panier.",
    ),
    ("emptied", "Votre panier est maintenant vide."),
    (
        "not_in_cart",
        "Je n'ai pas compris quel article retirer. Votre panier contient : {items}.",
    ),
    ("cart_already_empty", "Votre panier est déjà vide."),
    ("cart_view", "Votre panier :"),
    ("cart_line", "• {qty} × {title} — {line_total}"),
    ("cart_total", "Total : {total}."),
    (
        "cart_empty",
        "Votre panier est vide. Que puis-je vous aider à trouver ?",
    ),
    (
        "cart_repriced",
        "Remarque : le prix de {title} est passé de {old} à {new}.",
    ),
    (
        "cart_gone",
        "Remarque : {title} n'est plus disponible, je l'ai donc retiré de votre panier.",
    ),
    (
        "cart_lowered",
        "Remarque : il ne reste que {qty} en stock pour {title}, j'ai donc réduit la quantité.",
    ),
    (
        "checkout_not_configured",
        "Le paiement en ligne n'est pas encore configuré pour cette boutique, je ne peux donc pas créer de lien de paiement. Votre panier est enregistré : {count} articles, {total}.",
    ),
    (
        "checkout_empty",
        "Votre panier est vide. Ajoutez d'abord un article et je vous aiderai à finaliser votre commande.",
    ),
    (
        "order_ask",
        "Quel est votre numéro de commande ? Vous le trouverez dans l'e-mail de confirmation de votre commande.",
    ),
    (
        "order_not_found",
        "Je n'ai trouvé aucune commande portant le numéro {number} dans cette boutique. Vérifiez le numéro dans votre e-mail de confirmation, ou demandez-moi de vous mettre en relation avec une personne.",
    ),
    (
        "order_found",
        "Commande {number} : {status}, total {total}.",
    ),
    (
        "shipping_policy",
        "Voici la politique de livraison de la boutique : {policy}",
    ),
    (
        "returns_policy",
        "Voici la politique de retour de la boutique : {policy}",
    ),
    (
        "policy_unknown",
        "La boutique ne m'a pas communiqué ces informations. Si vous le souhaitez, je peux transmettre votre question à quelqu'un de la boutique.",
    ),
    (
        "payment_issue",
        "Désolé pour ce problème de paiement. Je ne peux pas voir les informations de paiement d'ici, j'ai donc demandé à quelqu'un de la boutique de revenir vers vous.",
    ),
    (
        "handoff",
        "J'ai demandé à quelqu'un de la boutique de prendre le relais. Cette personne vous répondra ici dès que possible.",
    ),
    (
        "handoff_failed",
        "Désolé, je n'ai pas réussi à joindre l'équipe de la boutique pour le moment. Veuillez réessayer dans un instant.",
    ),
    (
        "off_topic",
        "Ici, je peux seulement vous aider pour vos achats : trouver des produits, gérer votre panier, la livraison et les retours. Que recherchez-vous ?",
    ),
    (
        "unknown",
        "Désolé, je n'ai pas bien compris. Je peux trouver des produits, répondre à vos questions à leur sujet, gérer votre panier ou vous renseigner sur la livraison et les retours.",
    ),
    ("items_word", "articles"),
    ("opener_friendly", "Excellent choix ! "),
    ("opener_playful", "Oh, joli choix ! "),
    (
        "guard_price",
        "Je ne peux indiquer que les prix, totaux et remises tels que notre catalogue et votre panier les donnent, je ne peux donc pas le confirmer. Demandez-moi n'importe quel produit et je vous donnerai son vrai prix.",
    ),
    (
        "guard_prompt",
        "Je ne peux pas partager ma configuration, mais je vous aide volontiers à trouver quelque chose dans la boutique.",
    ),
    (
        "off_topic_professional",
        "Je suis désolé, je ne peux vous aider que pour vos achats dans cette boutique : produits, panier, livraison et retours. Que puis-je faire pour vous ?",
    ),
    (
        "off_topic_playful",
        "J'aimerais bien vous aider pour ça ! Mais mon super-pouvoir, ce sont les achats : produits, panier, livraison et retours. Qu'est-ce qu'on cherche ?",
    ),
    (
        "checkout_ready",
        "Voici le lien de paiement de la commande n° {number} ({total}) : {url}",
    ),
    (
        "checkout_failed",
        "Désolé, je n'ai pas pu créer le lien de paiement pour le moment. Votre panier est conservé ; réessayez dans un instant.",
    ),
    (
        "order_paid",
        "Paiement reçu, merci ! La commande n° {number} ({total}) est confirmée.",
    ),
    (
        "order_expired",
        "Le lien de paiement de la commande n° {number} a expiré sans être payé. Demandez-m'en un nouveau quand vous voulez.",
    ),
    (
        "order_canceled",
        "La commande n° {number} a été annulée et rien n'a été débité. Demandez-moi un nouveau lien de paiement quand vous voulez.",
    ),
    (
        "order_refunded",
        "La commande n° {number} a été remboursée ({total}).",
    ),
    (
        "order_disputed",
        "Un litige de paiement a été ouvert pour la commande n° {number}. L'équipe de la boutique va s'en occuper.",
    ),
];
