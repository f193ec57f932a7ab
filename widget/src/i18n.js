// The widget's strings in its five languages, and how the language is chosen.
//
// Placeholders are written `{name}` and filled by `translate`. Every language has every key;
// English is the fallback for a language the widget does not speak.

/** @typedef {'en'|'es'|'fr'|'de'|'pt'} Lang */

/** @type {Record<Lang, Record<string, string>>} */
const STRINGS = {
  en: {
    openChat: 'Open chat',
    closeChat: 'Close chat',
    chat: 'Chat',
    conversation: 'Conversation',
    placeholder: 'Type your message…',
    inputLabel: 'Message',
    send: 'Send',
    cartLabel: 'Cart ({n})',
    cartTitle: 'Your cart',
    cartEmpty: 'Your cart is empty.',
    closeCart: 'Close cart',
    total: 'Total',
    removeItem: 'Remove {title}',
    qty: 'Qty {n}',
    addToCart: 'Add to cart',
    chooseSize: 'Choose a size',
    chooseColor: 'Choose a color',
    added: 'Added ✓',
    inStock: 'In stock',
    outOfStock: 'Out of stock',
    was: 'Was',
    pay: 'Pay {total}',
    order: 'Order #{n}',
    validUntil: 'Link valid until {time}',
    paid: 'Paid ✓',
    expired: 'Expired',
    canceled: 'Canceled',
    refunded: 'Refunded',
    disputed: 'Disputed',
    typing: 'The assistant is typing…',
    rateLimited: "You're sending messages too fast. Try again in {n} s.",
    busy: 'The assistant is busy, trying again…',
    offline: 'Connection lost — reconnecting…',
    modelError: "Sorry, the assistant couldn't finish that reply. Please try again.",
    unavailable: 'The service is temporarily unavailable. Please try again in a moment.',
    loadError: "The chat couldn't load.",
    retry: 'Try again',
    tooLong: 'That message is too long.',
    failed: 'Not sent',
    interrupted: 'Reply interrupted',
    notConnected: 'Not connected yet — try again in a moment.',
  },
  es: {
    openChat: 'Abrir chat',
    closeChat: 'Cerrar chat',
    chat: 'Chat',
    conversation: 'Conversación',
    placeholder: 'Escribe tu mensaje…',
    inputLabel: 'Mensaje',
    send: 'Enviar',
    cartLabel: 'Carrito ({n})',
    cartTitle: 'Tu carrito',
    cartEmpty: 'Tu carrito está vacío.',
    closeCart: 'Cerrar carrito',
    total: 'Total',
    removeItem: 'Quitar {title}',
    qty: 'Cant. {n}',
    addToCart: 'Añadir al carrito',
    chooseSize: 'Elige una talla',
    chooseColor: 'Elige un color',
    added: 'Añadido ✓',
    inStock: 'Disponible',
    outOfStock: 'Agotado',
    was: 'Antes',
    pay: 'Pagar {total}',
    order: 'Pedido n.º {n}',
    validUntil: 'Enlace válido hasta {time}',
    paid: 'Pagado ✓',
    expired: 'Caducado',
    canceled: 'Cancelado',
    refunded: 'Reembolsado',
    disputed: 'En disputa',
    typing: 'El asistente está escribiendo…',
    rateLimited: 'Estás enviando mensajes demasiado rápido. Inténtalo de nuevo en {n} s.',
    busy: 'El asistente está ocupado, reintentando…',
    offline: 'Conexión perdida — reconectando…',
    modelError: 'Lo sentimos, el asistente no pudo terminar la respuesta. Inténtalo de nuevo.',
    unavailable: 'El servicio no está disponible en este momento. Inténtalo de nuevo en unos instantes.',
    loadError: 'No se pudo cargar el chat.',
    retry: 'Reintentar',
    tooLong: 'Ese mensaje es demasiado largo.',
    failed: 'No enviado',
    interrupted: 'Respuesta interrumpida',
    notConnected: 'Aún no hay conexión; inténtalo de nuevo en un momento.',
  },
  fr: {
    openChat: 'Ouvrir le chat',
    closeChat: 'Fermer le chat',
    chat: 'Chat',
    conversation: 'Conversation',
    placeholder: 'Écrivez votre message…',
    inputLabel: 'Message',
    send: 'Envoyer',
    cartLabel: 'Panier ({n})',
    cartTitle: 'Votre panier',
    cartEmpty: 'Votre panier est vide.',
    closeCart: 'Fermer le panier',
    total: 'Total',
    removeItem: 'Retirer {title}',
    qty: 'Qté {n}',
    addToCart: 'Ajouter au panier',
    chooseSize: 'Choisissez une taille',
    chooseColor: 'Choisissez une couleur',
    added: 'Ajouté ✓',
    inStock: 'En stock',
    outOfStock: 'Rupture de stock',
    was: 'Avant',
    pay: 'Payer {total}',
    order: 'Commande n° {n}',
    validUntil: 'Lien valable jusqu’à {time}',
    paid: 'Payée ✓',
    expired: 'Expirée',
    canceled: 'Annulée',
    refunded: 'Remboursée',
    disputed: 'Contestée',
    typing: 'L’assistant écrit…',
    rateLimited: 'Vous envoyez des messages trop vite. Réessayez dans {n} s.',
    busy: 'L’assistant est occupé, nouvelle tentative…',
    offline: 'Connexion perdue — reconnexion…',
    modelError: 'Désolé, l’assistant n’a pas pu terminer sa réponse. Veuillez réessayer.',
    unavailable: 'Le service est momentanément indisponible. Réessayez dans un instant.',
    loadError: 'Le chat n’a pas pu se charger.',
    retry: 'Réessayer',
    tooLong: 'Ce message est trop long.',
    failed: 'Non envoyé',
    interrupted: 'Réponse interrompue',
    notConnected: 'Pas encore connecté — réessayez dans un instant.',
  },
  de: {
    openChat: 'Chat öffnen',
    closeChat: 'Chat schließen',
    chat: 'Chat',
    conversation: 'Unterhaltung',
    placeholder: 'Nachricht eingeben…',
    inputLabel: 'Nachricht',
    send: 'Senden',
    cartLabel: 'Warenkorb ({n})',
    cartTitle: 'Ihr Warenkorb',
    cartEmpty: 'Ihr Warenkorb ist leer.',
    closeCart: 'Warenkorb schließen',
    total: 'Gesamt',
    removeItem: '{title} entfernen',
    qty: 'Menge {n}',
    addToCart: 'In den Warenkorb',
    chooseSize: 'Größe wählen',
    chooseColor: 'Farbe wählen',
    added: 'Hinzugefügt ✓',
    inStock: 'Auf Lager',
    outOfStock: 'Ausverkauft',
    was: 'Vorher',
    pay: '{total} bezahlen',
    order: 'Bestellung Nr. {n}',
    validUntil: 'Link gültig bis {time}',
    paid: 'Bezahlt ✓',
    expired: 'Abgelaufen',
    canceled: 'Storniert',
    refunded: 'Erstattet',
    disputed: 'Angefochten',
    typing: 'Der Assistent schreibt…',
    rateLimited: 'Sie senden Nachrichten zu schnell. Versuchen Sie es in {n} s erneut.',
    busy: 'Der Assistent ist ausgelastet, neuer Versuch…',
    offline: 'Verbindung verloren — wird wiederhergestellt…',
    modelError: 'Der Assistent konnte die Antwort leider nicht beenden. Bitte versuchen Sie es erneut.',
    unavailable: 'Der Dienst ist vorübergehend nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.',
    loadError: 'Der Chat konnte nicht geladen werden.',
    retry: 'Erneut versuchen',
    tooLong: 'Diese Nachricht ist zu lang.',
    failed: 'Nicht gesendet',
    interrupted: 'Antwort unterbrochen',
    notConnected: 'Noch nicht verbunden — bitte gleich noch einmal versuchen.',
  },
  pt: {
    openChat: 'Abrir chat',
    closeChat: 'Fechar chat',
    chat: 'Chat',
    conversation: 'Conversa',
    placeholder: 'Escreva sua mensagem…',
    inputLabel: 'Mensagem',
    send: 'Enviar',
    cartLabel: 'Carrinho ({n})',
    cartTitle: 'Seu carrinho',
    cartEmpty: 'Seu carrinho está vazio.',
    closeCart: 'Fechar carrinho',
    total: 'Total',
    removeItem: 'Remover {title}',
    qty: 'Qtd. {n}',
    addToCart: 'Adicionar ao carrinho',
    chooseSize: 'Escolha um tamanho',
    chooseColor: 'Escolha uma cor',
    added: 'Adicionado ✓',
    inStock: 'Em estoque',
    outOfStock: 'Esgotado',
    was: 'Antes',
    pay: 'Pagar {total}',
    order: 'Pedido nº {n}',
    validUntil: 'Link válido até {time}',
    paid: 'Pago ✓',
    expired: 'Expirado',
    canceled: 'Cancelado',
    refunded: 'Reembolsado',
    disputed: 'Em disputa',
    typing: 'O assistente está digitando…',
    rateLimited: 'Você está enviando mensagens rápido demais. Tente novamente em {n} s.',
    busy: 'O assistente está ocupado, tentando novamente…',
    offline: 'Conexão perdida — reconectando…',
    modelError: 'Desculpe, o assistente não conseguiu concluir a resposta. Tente novamente.',
    unavailable: 'O serviço está temporariamente indisponível. Tente novamente em instantes.',
    loadError: 'Não foi possível carregar o chat.',
    retry: 'Tentar novamente',
    tooLong: 'Essa mensagem é longa demais.',
    failed: 'Não enviada',
    interrupted: 'Resposta interrompida',
    notConnected: 'Ainda sem conexão — tente novamente em instantes.',
  },
};

/** The languages the widget speaks. */
export const LANGS = /** @type {Lang[]} */ (Object.keys(STRINGS));

/**
 * Picks the widget's language: the first candidate (a BCP 47 tag such as `pt-BR`) whose
 * language the widget speaks, else English. `locale` keeps the whole tag for number and date
 * formatting (so `en-GB` formats dates the British way).
 * @param {Array<string|null|undefined>} candidates
 * @returns {{lang: Lang, locale: string}}
 */
export function pickLanguage(candidates) {
  for (const candidate of candidates) {
    if (typeof candidate !== 'string' || !candidate.trim()) continue;
    const tag = candidate.trim().replace(/_/g, '-');
    const base = /** @type {Lang} */ (tag.split('-')[0].toLowerCase());
    if (!STRINGS[base]) continue;
    let locale = base;
    try {
      locale = Intl.getCanonicalLocales(tag)[0] || base;
    } catch (_) {
      // Not a valid tag: format with the bare language.
    }
    return { lang: base, locale };
  }
  return { lang: 'en', locale: 'en' };
}

/**
 * The string `key` in `lang` with its `{placeholders}` filled from `vars`.
 * @param {Lang} lang
 * @param {string} key
 * @param {Record<string, string|number>} [vars]
 */
export function translate(lang, key, vars) {
  const text = (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
}
