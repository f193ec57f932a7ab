// Small pure helpers: prices, times, streamed text, ids, URLs and colours.

/** @typedef {{amount_minor: number, currency: string}} Money */

/** @type {Map<string, Intl.NumberFormat|null>} */
const moneyFormats = new Map();

/**
 * Formats a price given in integer minor units (cents for USD, yen for JPY). The number of
 * fraction digits comes from Intl itself (`maximumFractionDigits` of the currency), so
 * `{amount_minor: 10249, currency: 'USD'}` is `$102.49` and `{amount_minor: 500, currency: 'JPY'}`
 * is `¥500`.
 * @param {Money|null|undefined} price
 * @param {string} locale
 * @returns {string}
 */
export function formatMoney(price, locale) {
  if (!price || typeof price.amount_minor !== 'number' || typeof price.currency !== 'string') return '';
  const key = locale + '|' + price.currency;
  let format = moneyFormats.get(key);
  if (format === undefined) {
    format = null;
    for (const loc of [locale, 'en']) {
      try {
        format = new Intl.NumberFormat(loc, { style: 'currency', currency: price.currency });
        break;
      } catch (_) {
        // An unknown locale or currency: try English, then give up below.
      }
    }
    moneyFormats.set(key, format);
  }
  if (!format) return (price.amount_minor / 100).toFixed(2) + ' ' + price.currency;
  const exponent = format.resolvedOptions().maximumFractionDigits;
  return format.format(price.amount_minor / 10 ** exponent);
}

/**
 * A short local date and time for an RFC 3339 timestamp: the time alone when it is today.
 * @param {string} iso
 * @param {string} locale
 */
export function formatTime(iso, locale) {
  const date = new Date(iso);
  if (isNaN(date.getTime())) return '';
  const sameDay = date.toDateString() === new Date().toDateString();
  /** @type {Intl.DateTimeFormatOptions} */
  const options = sameDay
    ? { hour: 'numeric', minute: '2-digit' }
    : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' };
  try {
    return new Intl.DateTimeFormat(locale, options).format(date);
  } catch (_) {
    return date.toLocaleString();
  }
}

/**
 * Applies a streamed `delta` to the text so far: `text[..index] + piece`, where `index` counts
 * Unicode code points (what the server calls scalar values), not UTF-16 units.
 * @param {string} text
 * @param {number} index
 * @param {string} piece
 */
export function applyDelta(text, index, piece) {
  // No usable index: append. An index past the end means a piece went missing; appending is the
  // best guess, and the reply's `assistant_end` carries the whole text anyway.
  if (typeof index !== 'number' || index < 0) return text + piece;
  const points = Array.from(text);
  return index >= points.length ? text + piece : points.slice(0, index).join('') + piece;
}

/** A fresh id for a visitor message (`client_id`). */
export function newClientId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch (_) {
      // randomUUID exists only in secure contexts; fall through.
    }
  }
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  return 'c-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The UTF-8 length of `text` in bytes (the server's message limit counts bytes). */
export function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

/**
 * `url` when it is an absolute http(s) URL, else null: nothing else ever reaches an `href` or a
 * `src` (no `javascript:`, no `data:`).
 * @param {unknown} url
 * @returns {string|null}
 */
export function safeUrl(url) {
  if (typeof url !== 'string' || !url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

/** Whether `value` is a `#rrggbb` colour. */
export function isHexColour(value) {
  return typeof value === 'string' && /^#[0-9a-f]{6}$/i.test(value);
}

/** The WCAG contrast ratio of two `#rrggbb` colours (1 to 21). */
export function contrast(a, b) {
  const luminance = (hex) => {
    const channels = [1, 3, 5].map((i) => {
      const v = parseInt(hex.slice(i, i + 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
