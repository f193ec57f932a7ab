//! German phrases (same keys and slots as English).

/// Key → template.
pub const PHRASES: &[(&str, &str)] = &[
    ("and", "und"),
    (
        "greeting",
        "Hallo! Ich bin {name}. Ich kann Produkte für dich finden, deine Fragen dazu beantworten und mich um deinen Warenkorb kümmern. Wonach suchst du?",
    ),
    (
        "greeting_back",
        "Hallo nochmal! Dein Warenkorb wartet noch auf dich ({count} Artikel, {total}). Wobei kann ich dir noch helfen?",
    ),
    (
        "farewell",
        "Danke für deinen Besuch und einen schönen Tag noch!",
    ),
    (
        "farewell_cart",
        "Danke für deinen Besuch! Dein Warenkorb ist gespeichert ({count} Artikel, {total}), du kannst jederzeit darauf zurückkommen.",
    ),
    ("search_intro", "Das habe ich gefunden:"),
    (
        "search_intro_budget",
        "Das habe ich innerhalb deines Budgets gefunden:",
    ),
    (
        "search_intro_size",
        "Das habe ich in Größe {size} gefunden:",
    ),
    ("search_line", "{n}. {title} — {price}"),
    ("search_line_sale", "{n}. {title} — {price} (statt {was})"),
    ("out_of_stock_tag", " (ausverkauft)"),
    (
        "search_outro",
        "Sag mir, welcher Artikel dir gefällt, oder schreib „füge den ersten hinzu“, dann lege ich ihn in deinen Warenkorb.",
    ),
    (
        "search_none",
        "Ich konnte im Katalog nichts Passendes zu „{query}“ finden. Kannst du es anders beschreiben?",
    ),
    (
        "search_none_budget",
        "Ich konnte „{query}“ in diesem Budget nicht finden. Möchtest du Optionen ohne Preisgrenze sehen?",
    ),
    (
        "search_none_size",
        "Ich konnte „{query}“ nicht in Größe {size} finden. Möchtest du andere Größen sehen?",
    ),
    (
        "search_what",
        "Was für ein Produkt suchst du? Sag mir, wofür es ist, dein Budget, eine Farbe oder eine Größe, und ich durchsuche den Katalog.",
    ),
    (
        "which_product",
        "Welches Produkt meinst du? Nenn mir seine Nummer in der Liste oder seinen Namen, oder sag mir, wonach du suchst.",
    ),
    (
        "catalog_down",
        "Tut mir leid, ich erreiche den Katalog gerade nicht. Bitte versuch es gleich noch einmal.",
    ),
    ("product_price", "{title} kostet {price}."),
    (
        "product_price_sale",
        "{title} kostet {price} (statt {was}).",
    ),
    ("product_sizes", "Größen: {sizes}."),
    ("product_colours", "Farben: {colours}."),
    ("in_stock", "Der Artikel ist auf Lager."),
    ("out_of_stock", "Der Artikel ist gerade ausverkauft."),
    (
        "size_available",
        "Ja, {title} ist in Größe {size} auf Lager.",
    ),
    (
        "size_sold_out",
        "{title} in Größe {size} ist gerade ausverkauft.",
    ),
    (
        "size_missing",
        "{title} gibt es nicht in Größe {size}. Verfügbare Größen: {sizes}.",
    ),
    ("colour_available", "Ja, {title} gibt es in {colour}."),
    (
        "colour_missing",
        "{title} gibt es nicht in {colour}. Farben: {colours}.",
    ),
    (
        "from_description",
        "Aus der Produktbeschreibung: „{sentence}“",
    ),
    (
        "no_detail",
        "Dazu steht nichts in den Produktdetails. Wenn du möchtest, kann ich deine Frage an jemanden aus dem Shop weitergeben.",
    ),
    (
        "price_tax",
        "Die Preise stammen aus dem Katalog; eventuelle Steuern oder Versandkosten siehst du an der Kasse, bevor du bezahlst.",
    ),
    ("compare_intro", "Hier der Vergleich:"),
    ("compare_line", "• {title}: {price}, {stock}{extra}"),
    ("compare_cheaper", "{title} ist die günstigere Wahl."),
    ("compare_same_price", "Beide kosten gleich viel."),
    (
        "compare_need_two",
        "Welche Produkte soll ich vergleichen? Wähl zwei aus der Liste, zum Beispiel „den ersten und den zweiten“.",
    ),
    ("stock_word_in", "auf Lager"),
    ("stock_word_out", "ausverkauft"),
    (
        "discount_none",
        "Ich kann dir leider keine Gutscheincodes oder Rabatte anbieten.",
    ),
    ("discount_on_sale", "Diese Artikel sind gerade im Angebot:"),
    (
        "discount_code",
        "Im Chat kann ich keine Codes prüfen oder einlösen. Wenn ein Code nicht funktioniert, kann dir jemand aus dem Shop helfen.",
    ),
    ("added", "{qty} × {title} zu je {price} hinzugefügt."),
    (
        "set_quantity",
        "Erledigt: {qty} × {title} in deinem Warenkorb.",
    ),
    (
        "cart_summary",
        "Dein Warenkorb: {count} Artikel, insgesamt {total}.",
    ),
    (
        "needs_variant",
        "{title} gibt es in {options}. Welche Variante ({dimension}) hättest du gern?",
    ),
    (
        "no_such_variant",
        "{title} gibt es nicht in {wanted}. Verfügbar: {options}.",
    ),
    ("sold_out", "Tut mir leid, {title} ist gerade ausverkauft."),
    (
        "not_enough_stock",
        "Tut mir leid, von {title} haben wir nur noch {available} auf Lager.",
    ),
    (
        "not_sold_here",
        "Tut mir leid, dieses Produkt gibt es in diesem Shop nicht.",
    ),
    (
        "cart_refused",
        "Ich konnte deinen Warenkorb nicht ändern: {reason}.",
    ),
    ("removed", "Ich habe {title} aus deinem Warenkorb entfernt."),
    ("reduced", "Jetzt hast du {qty} × {title} im Warenkorb."),
    ("emptied", "Dein Warenkorb ist jetzt leer."),
    (
        "not_in_cart",
        "Ich konnte nicht erkennen, welchen Artikel ich entfernen soll. In deinem Warenkorb liegen: {items}.",
    ),
    ("cart_already_empty", "Dein Warenkorb ist schon leer."),
    ("cart_view", "Dein Warenkorb:"),
    ("cart_line", "• {qty} × {title} — {line_total}"),
    ("cart_total", "Gesamt: {total}."),
    (
        "cart_empty",
        "Dein Warenkorb ist leer. Was darf ich für dich finden?",
    ),
    (
        "cart_repriced",
        "Hinweis: Der Preis von {title} hat sich von {old} auf {new} geändert.",
    ),
    (
        "cart_gone",
        "Hinweis: {title} ist nicht mehr verfügbar, deshalb habe ich den Artikel aus deinem Warenkorb entfernt.",
    ),
    (
        "cart_lowered",
        "Hinweis: Von {title} haben wir nur noch {qty} auf Lager, deshalb habe ich die Menge angepasst.",
    ),
    (
        "checkout_not_configured",
        "Der Online-Checkout ist für diesen Shop noch nicht eingerichtet, deshalb kann ich keinen Zahlungslink erstellen. Dein Warenkorb ist gespeichert: {count} Artikel, {total}.",
    ),
    (
        "checkout_empty",
        "Dein Warenkorb ist leer. Leg zuerst etwas hinein, dann helfe ich dir beim Bestellen.",
    ),
    (
        "order_ask",
        "Wie lautet deine Bestellnummer? Du findest sie in der Bestätigungs-E-Mail zu deiner Bestellung.",
    ),
    (
        "order_not_found",
        "Ich konnte in diesem Shop keine Bestellung mit der Nummer {number} finden. Prüf bitte die Nummer in deiner Bestätigungs-E-Mail, oder sag Bescheid, dann hole ich dir jemanden aus dem Team dazu.",
    ),
    (
        "order_found",
        "Bestellung {number}: {status}, Gesamtbetrag {total}.",
    ),
    (
        "shipping_policy",
        "Hier sind die Versandbedingungen des Shops: {policy}",
    ),
    (
        "returns_policy",
        "Hier sind die Rückgabebedingungen des Shops: {policy}",
    ),
    (
        "policy_unknown",
        "Dazu hat mir der Shop keine Angaben gemacht. Wenn du möchtest, kann ich deine Frage an jemanden aus dem Shop weitergeben.",
    ),
    (
        "payment_issue",
        "Tut mir leid, dass es mit deiner Zahlung Probleme gibt. Zahlungsdetails kann ich von hier aus nicht sehen, deshalb habe ich jemanden aus dem Shop gebeten, sich bei dir zu melden.",
    ),
    (
        "handoff",
        "Ich habe jemanden aus dem Shop gebeten, zu übernehmen. Die Person meldet sich hier bei dir, so schnell es geht.",
    ),
    (
        "handoff_failed",
        "Tut mir leid, ich konnte das Shop-Team gerade nicht erreichen. Bitte versuch es gleich noch einmal.",
    ),
    (
        "off_topic",
        "Hier kann ich dir nur beim Einkaufen helfen: Produkte finden, Warenkorb, Versand und Rückgaben. Wonach suchst du?",
    ),
    (
        "unknown",
        "Sorry, das habe ich nicht ganz verstanden. Ich kann Produkte finden, Fragen dazu beantworten, deinen Warenkorb verwalten oder dir etwas zu Versand und Rückgaben sagen.",
    ),
    ("items_word", "Artikel"),
    ("opener_friendly", "Gute Wahl! "),
    ("opener_playful", "Oh, schicke Wahl! "),
    (
        "guard_price",
        "Ich kann Preise, Summen und Rabatte nur so nennen, wie sie in unserem Katalog und deinem Warenkorb stehen, deshalb kann ich das nicht bestätigen. Frag mich nach einem Produkt, und ich nenne dir den echten Preis.",
    ),
    (
        "guard_prompt",
        "Ich kann nicht verraten, wie ich eingerichtet bin, aber ich helfe dir gern, etwas im Shop zu finden.",
    ),
    (
        "off_topic_professional",
        "Es tut mir leid, ich kann Ihnen hier nur beim Einkaufen helfen: Produkte, Warenkorb, Versand und Rückgaben. Wie kann ich Ihnen weiterhelfen?",
    ),
    (
        "off_topic_playful",
        "Da würde ich zu gern helfen! Aber meine Superkraft ist Shopping: Produkte, Warenkorb, Versand und Rückgaben. Was suchen wir?",
    ),
    (
        "checkout_ready",
        "Hier ist der Zahlungslink für Bestellung #{number} ({total}): {url}",
    ),
    (
        "checkout_failed",
        "Leider konnte ich den Zahlungslink gerade nicht erstellen. Dein Warenkorb ist gespeichert; versuch es gleich noch einmal.",
    ),
    (
        "order_paid",
        "Zahlung erhalten, danke! Bestellung #{number} ({total}) ist bestätigt.",
    ),
    (
        "order_expired",
        "Der Zahlungslink für Bestellung #{number} ist abgelaufen, ohne dass bezahlt wurde. Frag mich einfach nach einem neuen.",
    ),
    (
        "order_canceled",
        "Bestellung #{number} wurde storniert, es wurde nichts abgebucht. Frag mich nach einem neuen Zahlungslink, wann immer du willst.",
    ),
    (
        "order_refunded",
        "Bestellung #{number} wurde erstattet ({total}).",
    ),
    (
        "order_disputed",
        "Für Bestellung #{number} wurde ein Zahlungseinspruch eröffnet. Das Team des Shops kümmert sich darum.",
    ),
];
