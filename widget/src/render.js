// Building the widget's DOM. Text from the model, the catalog or the visitor only ever goes
// through `textContent` (or text nodes); links and images get URLs checked by `safeUrl`.
// Nothing here uses innerHTML.

import { formatMoney, formatTime, safeUrl } from './format.js';

/**
 * Creates an element. `props`: `class`, `text` (textContent), `on<event>` listeners, and
 * attributes (`true` is an empty attribute; null, undefined and false are left out).
 * Children are nodes or strings (strings become text nodes).
 * @param {string} tag
 * @param {Record<string, any>|null} [props]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child != null && child !== false) el.append(child);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

/** Outline icons (24×24 paths). */
const ICONS = {
  chat: 'M4 5h16v11H8l-4 4z',
  close: 'M6 6l12 12M18 6L6 18',
  cart: 'M3 4h2l2.4 11h10.2L20 8H6.2M9 20h.01M17 20h.01',
  send: 'M4 12l16-8-6 16-2.5-6.5z',
  remove: 'M6 6l12 12M18 6L6 18',
};

/**
 * An inline SVG icon, hidden from assistive technology (its button carries the name).
 * @param {keyof typeof ICONS} name
 */
export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

/**
 * A link that opens in a new tab without giving the opened page a handle on this one.
 * @param {string} href an already checked http(s) URL
 * @param {string|Node} content
 * @param {string} [rel]
 */
export function externalLink(href, content, rel = 'noopener noreferrer') {
  return h('a', { href, target: '_blank', rel }, content);
}

// `**bold**` or an http(s) URL; the URL stops at whitespace and at characters that cannot end
// one in prose.
const BOLD_OR_URL = /\*\*(.+?)\*\*|https?:\/\/[^\s<>"'`]+/g;
const URL_ONLY = /https?:\/\/[^\s<>"'`]+/g;

/**
 * Trims punctuation that ends the sentence rather than the URL (`see https://x.test/a.`); a
 * closing parenthesis stays when the URL opened one.
 * @param {string} url
 */
function trimUrl(url) {
  for (;;) {
    const last = url[url.length - 1];
    if ('.,;:!?*\'"'.includes(last)) url = url.slice(0, -1);
    else if ((last === ')' || last === ']') && !url.includes(last === ')' ? '(' : '[')) url = url.slice(0, -1);
    else return url;
  }
}

/**
 * Appends one line of text with `**bold**` and links to `parent`.
 * @param {Node} parent
 * @param {string} line
 * @param {boolean} allowBold false inside bold text (no nesting)
 */
function appendInline(parent, line, allowBold) {
  let done = 0;
  for (const match of line.matchAll(allowBold ? BOLD_OR_URL : URL_ONLY)) {
    const start = /** @type {number} */ (match.index);
    if (start < done) continue;
    if (start > done) parent.append(line.slice(done, start));
    if (match[1] !== undefined) {
      const strong = document.createElement('strong');
      appendInline(strong, match[1], false);
      parent.append(strong);
      done = start + match[0].length;
    } else {
      const raw = trimUrl(match[0]);
      const href = safeUrl(raw);
      parent.append(href ? externalLink(href, raw) : raw);
      done = start + raw.length;
    }
  }
  if (done < line.length) parent.append(line.slice(done));
}

/**
 * Replaces `el`'s content with `text` rendered safely: line breaks, `**bold**` and http(s)
 * links; everything else stays literal text. Line breaks stay "\n" text nodes (the bubble's CSS
 * is `white-space: pre-wrap`), so the bubble's textContent is the text as sent, minus the
 * bold markers.
 * @param {HTMLElement} el
 * @param {string} text
 */
export function renderRichText(el, text) {
  el.textContent = '';
  text.split('\n').forEach((line, i) => {
    if (i) el.append('\n');
    appendInline(el, line, true);
  });
}

/**
 * @typedef {{t: (key: string, vars?: Record<string, string|number>) => string, locale: string}} Ctx
 */

/**
 * One product card with its "Add to cart" button.
 * @param {any} item a product card from a `products` frame
 * @param {Ctx} ctx
 * @param {(item: any, button: HTMLButtonElement) => void} onAdd
 */
export function productCard(item, ctx, onAdd) {
  const title = String(item.title || '');
  const inStock = item.in_stock !== false;
  const image = safeUrl(item.image_url);
  const url = safeUrl(item.url);
  const attributes = item.variant && item.variant.attributes ? Object.values(item.variant.attributes) : [];

  let media = null;
  if (image) {
    const img = /** @type {HTMLImageElement} */ (
      h('img', { src: image, alt: title, loading: 'lazy', decoding: 'async', referrerpolicy: 'no-referrer' })
    );
    media = h('div', { class: 'card-media' }, img);
    const hide = () => media && (media.hidden = true);
    img.addEventListener('error', hide);
  }
  const button = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'btn primary', 'data-test': 'add-to-cart', disabled: !inStock }, ctx.t('addToCart'))
  );
  button.addEventListener('click', () => onAdd(item, button));

  return h(
    'div',
    { class: 'card', role: 'group', 'aria-label': title, 'data-test': 'product', 'data-external-id': item.external_id },
    media,
    h('div', { class: 'card-title' }, url ? externalLink(url, title) : title),
    item.brand ? h('div', { class: 'muted small', text: String(item.brand) }) : null,
    attributes.length ? h('div', { class: 'muted small', text: attributes.join(' / ') }) : null,
    h(
      'div',
      { class: 'price' },
      h('span', { class: 'now', text: formatMoney(item.price, ctx.locale) }),
      item.compare_at_price
        ? h('span', { class: 'was' }, h('span', { class: 'sr', text: ctx.t('was') + ' ' }), h('s', { text: formatMoney(item.compare_at_price, ctx.locale) }))
        : null,
    ),
    h('div', { class: 'stock ' + (inStock ? 'in' : 'out'), text: ctx.t(inStock ? 'inStock' : 'outOfStock') }),
    button,
  );
}

/**
 * The cart drawer's content for a `cart` frame (or null before any).
 * @param {any} cart
 * @param {Ctx} ctx
 * @param {(line: any) => void} onRemove
 * @param {() => void} onClose
 */
export function cartView(cart, ctx, onRemove, onClose) {
  const items = (cart && Array.isArray(cart.items) && cart.items) || [];
  const head = h(
    'div',
    { class: 'drawer-head' },
    h('h3', { class: 'drawer-title', text: ctx.t('cartTitle') }),
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': ctx.t('closeCart'), onclick: onClose }, icon('close')),
  );
  if (!items.length) return [head, h('p', { class: 'empty', text: ctx.t('cartEmpty') })];
  const list = h(
    'ul',
    { class: 'lines' },
    ...items.map((line) =>
      h(
        'li',
        { class: 'line', 'data-test': 'cart-line', 'data-external-id': line.external_id, 'data-sku': line.sku || null },
        h(
          'div',
          { class: 'line-main' },
          h('div', { class: 'line-title', text: String(line.title || line.external_id) }),
          line.variant ? h('div', { class: 'muted small', text: String(line.variant) }) : null,
          h('div', { class: 'muted small', text: ctx.t('qty', { n: line.quantity }) }),
        ),
        h('div', { class: 'line-total', text: formatMoney(line.line_total, ctx.locale) }),
        h(
          'button',
          {
            type: 'button',
            class: 'icon-btn',
            'data-test': 'cart-remove',
            'aria-label': ctx.t('removeItem', { title: String(line.title || line.external_id) }),
            onclick: () => onRemove(line),
          },
          icon('remove'),
        ),
      ),
    ),
  );
  const total = h(
    'div',
    { class: 'cart-total', 'data-test': 'cart-total' },
    h('span', { text: ctx.t('total') }),
    h('strong', { text: formatMoney(cart.total, ctx.locale) }),
  );
  return [head, list, total];
}

/**
 * The payment block of a `checkout` frame: the "Pay {total}" link and the link's expiry.
 * Returns the block and the place its order status badge goes.
 * @param {any} checkout
 * @param {Ctx} ctx
 */
export function checkoutBlock(checkout, ctx) {
  const href = safeUrl(checkout.url);
  const label = ctx.t('pay', { total: formatMoney(checkout.total, ctx.locale) });
  const expiry = checkout.expires_at ? formatTime(checkout.expires_at, ctx.locale) : '';
  const meta = h(
    'div',
    { class: 'checkout-meta' },
    checkout.order_number != null ? h('span', { text: ctx.t('order', { n: checkout.order_number }) }) : null,
    expiry ? h('span', { class: 'expiry', text: ctx.t('validUntil', { time: expiry }) }) : null,
  );
  const el = h(
    'div',
    { class: 'checkout', 'data-checkout-id': checkout.checkout_id },
    href ? h('a', { class: 'pay', 'data-test': 'checkout', href, target: '_blank', rel: 'noopener' }, label) : null,
    meta,
  );
  return { el, meta };
}

/**
 * An order's status badge (`paid`, `expired`, `canceled`, `refunded`, `disputed`).
 * @param {string} status
 * @param {Ctx} ctx
 */
export function orderBadge(status, ctx) {
  const known = ['paid', 'expired', 'canceled', 'refunded', 'disputed'].includes(status);
  return h('span', {
    class: 'badge badge-' + (known ? status : 'other'),
    'data-test': 'order-status',
    'data-status': status,
    text: known ? ctx.t(status) : status,
  });
}
