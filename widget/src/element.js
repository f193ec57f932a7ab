// The <agentpay-chat> custom element: the launcher, the chat panel and everything in it.
//
// Rendering keeps one record per message (see `Row`), found by the server's `message_id` or
// the widget's own `client_id`, so replays after a reconnect update bubbles instead of
// duplicating them.

import { Connection, fetchConfig } from './connection.js';
import { applyDelta, contrast, isHexColour, newClientId, utf8Length } from './format.js';
import { pickLanguage, translate } from './i18n.js';
import { cartView, checkoutBlock, h, icon, orderBadge, productCard, renderRichText } from './render.js';
import { adoptStyles } from './styles.js';

/**
 * @typedef {{row: HTMLElement, bubble: HTMLElement, attach: HTMLElement, role: 'user'|'assistant',
 *   text: string, ended: boolean, messageId?: string, clientId?: string, lists: Set<string>,
 *   note?: HTMLElement}} Row
 * @typedef {{text: string, row: Row, failed?: boolean}} Pending
 */

/** The server's limit on a message's text (`conversation.max_message_bytes`). */
const MAX_MESSAGE_BYTES = 4096;
/** Error codes answering a `cart_add` or `cart_remove` (docs/protocol.md §3). */
const CART_ERRORS = ['busy', 'product_not_found', 'variant_required', 'variant_not_found', 'out_of_stock',
  'insufficient_stock', 'cart_limit', 'not_in_cart'];
/** Error codes refusing a message for good: resending the same text cannot help. */
const REJECTED = ['message_too_large', 'empty_message', 'invalid_client_id', 'invalid_message'];
/** How long a transient status line stays. */
const NOTICE_MS = 8000;

/** The engine's base URL when the element has no `api` attribute (set by index.js). */
let defaultApi = '';
/** @param {string} api */
export function setDefaultApi(api) {
  defaultApi = api;
}

export class AgentPayChat extends HTMLElement {
  static get observedAttributes() {
    return ['open', 'lang'];
  }

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    adoptStyles(this.root);

    /** @type {any} the `GET /v1/widget/config` answer */
    this.config = null;
    /** @type {Promise<any>|null} */
    this.configLoading = null;
    /** @type {Connection|null} */
    this.conn = null;
    this.isOpen = false;
    this.disabled = false;
    /** @type {Map<string, Row>} rows by `m:<message_id>` and `c:<client_id>` */
    this.rows = new Map();
    /** @type {Map<string, Pending>} visitor messages not yet acknowledged, oldest first */
    this.pending = new Map();
    /** @type {Row|null} the assistant reply in progress */
    this.current = null;
    /** @type {Row|null} */
    this.greetingRow = null;
    /** @type {Map<string, {el: HTMLElement, meta: HTMLElement}>} checkout blocks by order id */
    this.checkouts = new Map();
    /** @type {any} the last `cart` frame */
    this.cart = null;
    /** @type {{button: HTMLButtonElement|null, timer: any, item?: any, selection?: Record<string, string>}|null}
     * the cart change awaiting an answer */
    this.cartAction = null;
    /** Whether a message this page sent is waiting for its reply to start. */
    this.awaitingReply = false;
    this.awaitTimer = null;
    /** @type {null|'offline'|'busy'} the connection's standing notice */
    this.connNotice = null;
    /** @type {{text: string, retry?: () => void}|null} a passing notice */
    this.notice = null;
    this.noticeTimer = null;
    this.rateTimer = null;
    this.rateUntil = 0;
    this.resendTimer = null;
    // Not `lang`: that property is the element's own `lang` attribute.
    this.language = pickLanguage([]).lang;
    this.locale = 'en';
    this.onOnline = () => this.conn && this.conn.retryNow();
    this.build();
  }

  // ---- Public API -------------------------------------------------------------------------

  /** Whether the panel is open; setting it opens or closes the panel. */
  get open() {
    return this.isOpen;
  }
  set open(value) {
    if (value) this.show();
    else this.close();
  }

  /** Opens the panel (and, the first time, the conversation). */
  show() {
    if (this.disabled || this.isOpen) return;
    this.isOpen = true;
    this.panel.hidden = false;
    this.launcher.setAttribute('aria-expanded', 'true');
    if (!this.hasAttribute('open')) this.setAttribute('open', '');
    this.input.focus();
    this.scrollToEnd();
    this.emit('open');
    if (this.isConnected) this.begin();
  }

  /** Closes the panel; focus returns to the launcher when it was in the panel. */
  close() {
    if (!this.isOpen) return;
    const hadFocus = this.root.activeElement != null;
    this.isOpen = false;
    this.panel.hidden = true;
    this.toggleCart(false, false);
    this.launcher.setAttribute('aria-expanded', 'false');
    if (this.hasAttribute('open')) this.removeAttribute('open');
    if (hadFocus && this.launcher.isConnected) this.launcher.focus();
    this.emit('close');
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.show();
  }

  // ---- Custom element lifecycle -----------------------------------------------------------

  connectedCallback() {
    if (this.disabled) return;
    this.applyLanguage();
    window.addEventListener('online', this.onOnline);
    if (!this.config) this.loadConfig();
    if (this.isOpen || this.hasAttribute('open')) {
      if (this.isOpen) this.begin();
      else this.show();
    }
  }

  disconnectedCallback() {
    window.removeEventListener('online', this.onOnline);
    if (this.conn) this.conn.stop();
    this.conn = null;
  }

  attributeChangedCallback(name, _old, value) {
    if (name === 'lang') {
      this.applyLanguage();
    } else if (name === 'open') {
      if (value !== null && value !== 'false') this.show();
      else this.close();
    }
  }

  // ---- Static structure -------------------------------------------------------------------

  build() {
    this.launcher = h(
      'button',
      { type: 'button', class: 'launcher', 'data-test': 'launcher', 'aria-expanded': 'false', 'aria-controls': 'ap-panel', hidden: true },
      icon('chat'),
    );
    this.launcher.addEventListener('click', () => this.toggle());

    this.titleEl = h('h2', { class: 'title', id: 'ap-title' });
    this.subEl = h('p', { class: 'sub', id: 'ap-sub' });
    this.countEl = h('span', { class: 'count', 'data-test': 'cart-count', 'aria-hidden': 'true', hidden: true, text: '0' });
    this.cartButton = h(
      'button',
      { type: 'button', class: 'icon-btn', 'data-test': 'cart-button', 'aria-expanded': 'false', 'aria-controls': 'ap-cart' },
      icon('cart'),
      this.countEl,
    );
    this.cartButton.addEventListener('click', () => this.toggleCart(this.drawer.hidden, true));
    this.closeButton = h('button', { type: 'button', class: 'icon-btn', 'data-test': 'close' }, icon('close'));
    this.closeButton.addEventListener('click', () => this.close());

    this.log = h('div', { class: 'log', 'data-test': 'log', role: 'log', 'aria-live': 'polite', tabindex: '0' });
    this.drawer = h('div', { class: 'drawer', id: 'ap-cart', 'data-test': 'cart', role: 'region', hidden: true });
    this.statusRegion = h('div', { role: 'status', 'aria-live': 'polite' });
    this.input = /** @type {HTMLTextAreaElement} */ (h('textarea', { class: 'input', 'data-test': 'input', rows: '1' }));
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => this.fitInput());
    this.sendButton = h('button', { type: 'button', class: 'send', 'data-test': 'send' }, icon('send'));
    this.sendButton.addEventListener('click', () => this.submit());

    this.typing = h(
      'div',
      { class: 'typing', 'data-test': 'typing', role: 'status' },
      h('span', { class: 'sr' }),
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
    );
    // While a message of ours waits for its reply to start, the indicator has a row of its own.
    this.typingRow = h('div', { class: 'row assistant typing-row' });

    this.panel = h(
      'div',
      { class: 'panel', id: 'ap-panel', 'data-test': 'panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'ap-title ap-sub', hidden: true },
      h('div', { class: 'head' }, h('div', { class: 'titles' }, this.titleEl, this.subEl), this.cartButton, this.closeButton),
      h('div', { class: 'body' }, this.log, this.drawer),
      this.statusRegion,
      h('div', { class: 'composer' }, this.input, this.sendButton),
    );
    this.panel.addEventListener('keydown', (e) => this.onPanelKey(e));

    this.wrap = h('div', { class: 'ap' }, this.launcher, this.panel);
    this.root.append(this.wrap);
    this.renderCart();
  }

  /** Escape closes; Tab and Shift+Tab cycle inside the panel. */
  onPanelKey(/** @type {KeyboardEvent} */ e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      this.close();
      return;
    }
    if (e.key !== 'Tab') return;
    const focusable = /** @type {HTMLElement[]} */ (
      Array.from(this.panel.querySelectorAll('button, textarea, a[href], [tabindex]'))
    ).filter((el) => !(/** @type {any} */ (el).disabled) && el.tabIndex >= 0 && el.getClientRects().length > 0);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = this.root.activeElement;
    const inside = active && this.panel.contains(active);
    if (e.shiftKey && (active === first || !inside)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !inside)) {
      e.preventDefault();
      first.focus();
    }
  }

  /**
   * Opens or closes the cart drawer.
   * @param {boolean} open
   * @param {boolean} moveFocus
   */
  toggleCart(open, moveFocus) {
    this.drawer.hidden = !open;
    this.cartButton.setAttribute('aria-expanded', String(open));
    if (!moveFocus) return;
    if (open) {
      const first = this.drawer.querySelector('button');
      if (first) /** @type {HTMLElement} */ (first).focus();
    } else {
      this.cartButton.focus();
    }
  }

  fitInput() {
    this.input.style.height = 'auto';
    this.input.style.height = Math.min(this.input.scrollHeight + 2, 120) + 'px';
  }

  // ---- Language and theme -----------------------------------------------------------------

  /** @param {string} key @param {Record<string, string|number>} [vars] */
  t(key, vars) {
    return translate(this.language, key, vars);
  }

  /** Chooses the language (attribute, page, browser, the assistant's first) and relabels. */
  applyLanguage() {
    const languages = this.config && this.config.assistant && this.config.assistant.languages;
    const picked = pickLanguage([
      this.getAttribute('lang'),
      document.documentElement.lang,
      navigator.language,
      Array.isArray(languages) ? languages[0] : null,
    ]);
    this.language = picked.lang;
    this.locale = picked.locale;
    this.wrap.setAttribute('lang', picked.locale);
    this.launcher.setAttribute('aria-label', this.t('openChat'));
    this.closeButton.setAttribute('aria-label', this.t('closeChat'));
    this.log.setAttribute('aria-label', this.t('conversation'));
    this.drawer.setAttribute('aria-label', this.t('cartTitle'));
    this.input.setAttribute('aria-label', this.t('inputLabel'));
    this.input.setAttribute('placeholder', this.t('placeholder'));
    this.sendButton.setAttribute('aria-label', this.t('send'));
    /** @type {HTMLElement} */ (this.typing.firstChild).textContent = this.t('typing');
    if (!this.config) this.titleEl.textContent = this.t('chat');
    this.renderCart();
    this.renderStatus();
  }

  /** @param {any} theme `{accent, on_accent}` as `#rrggbb` */
  applyTheme(theme) {
    const accent = theme && isHexColour(theme.accent) ? theme.accent : '#1f5f8b';
    let onAccent = theme && isHexColour(theme.on_accent) ? theme.on_accent : '#ffffff';
    // Keep text on the accent readable (WCAG AA) whatever the merchant chose.
    if (contrast(accent, onAccent) < 4.5) onAccent = contrast(accent, '#ffffff') >= contrast(accent, '#000000') ? '#ffffff' : '#000000';
    const style = this.wrap.style;
    style.setProperty('--ap-accent', accent);
    style.setProperty('--ap-on-accent', onAccent);
    style.setProperty('--ap-link', contrast(accent, '#ffffff') >= 4.5 ? accent : '#0b57d0');
    style.setProperty('--ap-focus', contrast(accent, '#ffffff') >= 3 ? accent : '#1b1f24');
  }

  // ---- Start-up: config, then the conversation --------------------------------------------

  get publishableKey() {
    return (this.getAttribute('publishable-key') || '').trim();
  }

  get api() {
    const api = this.getAttribute('api') || defaultApi || location.origin;
    return api.replace(/\/+$/, '');
  }

  /** @param {string} state `loading`, `ready`, `disabled`, `offline` or `connected` */
  setState(state) {
    if (!this.disabled || state === 'disabled') this.setAttribute('data-state', state);
  }

  /** Loads the widget config (at most one request at a time); resolves to it or null. */
  loadConfig() {
    if (this.config) return Promise.resolve(this.config);
    if (this.configLoading) return this.configLoading;
    if (!this.publishableKey) {
      console.error('AgentPay: the <agentpay-chat> element has no publishable-key; the chat is disabled.');
      this.disable();
      return Promise.resolve(null);
    }
    this.setState('loading');
    this.configLoading = fetchConfig(this.api, this.publishableKey).then(
      (config) => {
        this.configLoading = null;
        this.config = config || {};
        this.applyConfig();
        this.launcher.hidden = false;
        this.setState('ready');
        this.emit('ready', this.config);
        return this.config;
      },
      (error) => {
        this.configLoading = null;
        if (error.code === 'origin_not_allowed') {
          this.refuseOrigin();
          return null;
        }
        this.launcher.hidden = false;
        this.setState('offline');
        if (error.status === 503 || error.status === 429) {
          // Overloaded: say so and try again by itself.
          this.connNotice = 'busy';
          this.renderStatus();
          setTimeout(() => this.isOpen && this.begin(), Math.max(error.retryAfterMs, 2000));
        } else {
          this.showNotice(this.t('loadError'), 0, () => this.begin());
        }
        return null;
      },
    );
    return this.configLoading;
  }

  applyConfig() {
    const { merchant = {}, assistant = {}, theme } = this.config;
    this.applyTheme(theme);
    this.applyLanguage();
    this.titleEl.textContent = assistant.name || merchant.name || this.t('chat');
    this.subEl.textContent = assistant.name && merchant.name ? merchant.name : '';
    this.showGreeting(assistant.greeting);
  }

  /** Config first (again, if it failed at load), then the conversation. */
  async begin() {
    if (this.disabled || this.conn) return;
    const config = await this.loadConfig();
    if (!config || this.conn || this.disabled || !this.isConnected) return;
    this.clearNotice();
    this.connNotice = null;
    this.renderStatus();
    this.conn = new Connection({
      api: this.api,
      publishableKey: this.publishableKey,
      onFrame: (frame) => this.onFrame(frame),
      onEvent: (event) => this.onConnectionEvent(event),
    });
    this.conn.start();
  }

  refuseOrigin() {
    console.error(
      "AgentPay: this page's origin (" + location.origin + ') is not allowed by the merchant (allowed origins); the chat is disabled.',
    );
    this.disable();
  }

  /** Removes the whole widget from view for good. */
  disable() {
    if (this.disabled) return;
    if (this.conn) this.conn.stop();
    this.conn = null;
    this.isOpen = false;
    this.disabled = true;
    this.wrap.textContent = '';
    this.setState('disabled');
    this.emit('disabled');
  }

  /** @param {import('./connection.js').ConnectionEvent} event */
  onConnectionEvent(event) {
    if (event === 'disabled') return this.refuseOrigin();
    if (event === 'connected') {
      this.connNotice = null;
      this.setState('connected');
      this.emit('connected');
    } else if (event === 'reset') {
      this.clearConversation();
      this.setState('ready');
    } else {
      // The banner replaces any passing notice, which will be stale by the time we are back.
      this.connNotice = event;
      clearTimeout(this.noticeTimer);
      this.notice = null;
      this.setState('offline');
      this.finishCartAction(false);
    }
    this.renderStatus();
  }

  // ---- Frames from the server -------------------------------------------------------------

  /** @param {any} frame */
  onFrame(frame) {
    switch (frame.type) {
      case 'hello':
        if (!this.greetingRow && frame.greeting) this.showGreeting(frame.greeting);
        this.resendPending();
        break;
      case 'ack':
        this.onAck(frame);
        break;
      case 'user_message':
        this.onUserMessage(frame);
        break;
      case 'assistant_start':
        this.onStart(frame);
        break;
      case 'delta':
        this.onDelta(frame);
        break;
      case 'assistant_end':
        this.onEnd(frame);
        break;
      case 'products':
        this.onProducts(frame);
        break;
      case 'cart':
        this.onCart(frame);
        break;
      case 'checkout':
        this.onCheckout(frame);
        break;
      case 'order':
        this.onOrder(frame);
        break;
      case 'error':
        this.onError(frame);
        break;
    }
  }

  /** @param {any} frame */
  onAck(frame) {
    const pending = this.pending.get(frame.client_id);
    if (!pending) return;
    this.pending.delete(frame.client_id);
    pending.row.bubble.setAttribute('data-state', 'sent');
    this.expectReply();
  }

  /** @param {any} frame */
  onUserMessage(frame) {
    if (this.rows.has('m:' + frame.message_id)) return;
    let row = frame.client_id ? this.rows.get('c:' + frame.client_id) : undefined;
    if (row) {
      // Our own message coming back: it now has its id, and it is stored.
      this.pending.delete(frame.client_id);
      row.bubble.setAttribute('data-state', 'sent');
    } else {
      row = this.addRow('user', String(frame.text || ''), frame.client_id);
      row.bubble.setAttribute('data-state', 'sent');
    }
    this.setMessageId(row, frame.message_id);
  }

  /** @param {any} frame */
  onStart(frame) {
    const row = this.replyRow(frame.message_id);
    if (!row.ended) this.current = row;
    this.awaitingReply = false;
    this.updateTyping();
  }

  /** @param {any} frame */
  onDelta(frame) {
    const row = this.replyRow(frame.message_id);
    if (row.ended || typeof frame.text !== 'string') return;
    if (!this.current) this.current = row;
    row.text = applyDelta(row.text, frame.index, frame.text);
    this.renderText(row);
  }

  /** @param {any} frame */
  onEnd(frame) {
    // The end of a reply never started here that says nothing: a start the server stored while
    // it lost the store's answer, closed when the message came again (protocol §4). The real
    // answer follows; there is nothing to show.
    if (frame.interrupted && !frame.text && !this.rows.has('m:' + frame.message_id)) return;
    const row = this.replyRow(frame.message_id);
    if (typeof frame.text === 'string') row.text = frame.text;
    row.ended = true;
    row.row.removeAttribute('aria-busy');
    if (frame.interrupted && !row.note) {
      row.note = h('div', { class: 'note', text: this.t('interrupted') });
      row.row.insertBefore(row.note, row.attach);
    }
    if (this.current === row) this.current = null;
    this.renderText(row);
    this.updateTyping();
    this.emit('message', frame);
  }

  /** @param {any} frame */
  onProducts(frame) {
    const items = Array.isArray(frame.items) ? frame.items : [];
    if (!items.length) return;
    const row = this.replyRow(frame.message_id);
    const key = items.map((item) => item.external_id).join('\n');
    if (row.lists.has(key)) return;
    row.lists.add(key);
    const ctx = this.ctx();
    const onAdd = (item, button) => this.addToCart(item, button);
    this.keepAtEnd(() => row.attach.append(h('div', { class: 'cards' }, ...items.map((item) => productCard(item, ctx, onAdd)))));
  }

  /** @param {any} frame */
  onCart(frame) {
    this.cart = frame;
    this.renderCart();
    this.finishCartAction(true);
    this.emit('cart', frame);
  }

  /** @param {any} frame */
  onCheckout(frame) {
    const existing = this.checkouts.get(frame.checkout_id);
    if (existing) return;
    const block = checkoutBlock(frame, this.ctx());
    this.checkouts.set(frame.checkout_id, block);
    const row = this.hostRow();
    this.keepAtEnd(() => row.attach.append(block.el));
    this.emit('checkout', frame);
  }

  /** @param {any} frame */
  onOrder(frame) {
    let block = this.checkouts.get(frame.order_id);
    if (!block) {
      // The checkout itself is not on screen (older than the replay): show the order alone.
      block = checkoutBlock({ checkout_id: frame.order_id, order_number: frame.order_number, total: frame.total }, this.ctx());
      this.checkouts.set(frame.order_id, block);
      const row = this.hostRow();
      this.keepAtEnd(() => row.attach.append(block.el));
    }
    const old = block.meta.querySelector('[data-test="order-status"]');
    const badge = orderBadge(String(frame.status), this.ctx());
    if (old) old.replaceWith(badge);
    else block.meta.prepend(badge);
    block.el.classList.toggle('settled', frame.status !== 'open');
    this.emit('order', frame);
  }

  /** @param {any} frame */
  onError(frame) {
    const code = String(frame.code || '');
    const message = typeof frame.message === 'string' && frame.message ? frame.message : '';
    this.emit('error', frame);
    if (CART_ERRORS.includes(code) || (this.cartAction && (code === 'invalid_message' || code === 'unavailable'))) {
      // A cart button was refused: say why, in the server's words (and, when the product needs
      // a size or colour, offer the choices under its card).
      const action = this.cartAction;
      this.finishCartAction(false);
      if (code === 'variant_required' && action) this.offerVariants(action, message);
      this.showNotice(message || this.t('unavailable'), NOTICE_MS);
      return;
    }
    this.awaitingReply = false;
    this.updateTyping();
    if (code === 'rate_limited') {
      this.rateLimit(Number(frame.retry_after_ms) || 5000);
    } else if (code === 'timeout' || code === 'restarting' || code === 'overloaded') {
      this.showNotice(this.t('busy'), NOTICE_MS);
      this.resendLater(2000);
    } else if (code === 'unavailable') {
      this.showNotice(this.t('unavailable'), NOTICE_MS);
      this.resendLater(3000);
    } else if (code === 'model_error') {
      this.showNotice(this.t('modelError'), NOTICE_MS);
    } else if (REJECTED.includes(code)) {
      // The oldest unacknowledged message was refused: mark it and stop resending it.
      const [first] = this.pending.values();
      if (first) this.failMessage(first, message);
      this.showNotice(message || this.t('failed'), NOTICE_MS);
    }
    // `conversation_restarted` and other codes need nothing: what was missed follows.
  }

  // ---- Visitor messages -------------------------------------------------------------------

  submit() {
    const text = this.input.value.trim();
    if (!text || this.disabled) return;
    if (utf8Length(text) > MAX_MESSAGE_BYTES) {
      this.showNotice(this.t('tooLong'), NOTICE_MS);
      return;
    }
    // A new message makes an earlier notice (a refused cart change, say) stale.
    if (Date.now() >= this.rateUntil) this.clearNotice();
    const clientId = newClientId();
    const row = this.addRow('user', text, clientId);
    row.bubble.setAttribute('data-state', 'pending');
    this.pending.set(clientId, { text, row });
    this.input.value = '';
    this.fitInput();
    if (Date.now() >= this.rateUntil && this.conn) {
      this.conn.send({ type: 'user_message', client_id: clientId, text });
    }
    // Not connected yet: `hello` sends it. Not even started: start now.
    if (!this.conn) this.begin();
  }

  /** Sends every unacknowledged message again, with its original `client_id`. */
  resendPending() {
    if (!this.conn || Date.now() < this.rateUntil) return;
    for (const [clientId, pending] of this.pending) {
      if (!pending.failed) this.conn.send({ type: 'user_message', client_id: clientId, text: pending.text });
    }
  }

  /** @param {number} ms */
  resendLater(ms) {
    clearTimeout(this.resendTimer);
    this.resendTimer = setTimeout(() => this.resendPending(), ms);
  }

  /**
   * Rate limited: count down, then send what is waiting.
   * @param {number} ms
   */
  rateLimit(ms) {
    this.rateUntil = Date.now() + ms;
    clearInterval(this.rateTimer);
    const tick = () => {
      const left = Math.ceil((this.rateUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(this.rateTimer);
        this.rateUntil = 0;
        this.clearNotice();
        this.resendPending();
      } else {
        this.showNotice(this.t('rateLimited', { n: left }), 0);
      }
    };
    tick();
    this.rateTimer = setInterval(tick, 1000);
  }

  /** @param {Pending} pending @param {string} reason */
  failMessage(pending, reason) {
    pending.failed = true;
    const clientId = pending.row.clientId;
    if (clientId) this.pending.delete(clientId);
    pending.row.bubble.setAttribute('data-state', 'failed');
    if (!pending.row.note) {
      pending.row.note = h('div', { class: 'note error', text: reason ? this.t('failed') + ' — ' + reason : this.t('failed') });
      pending.row.row.append(pending.row.note);
    }
  }

  /** A message of ours was stored: show the typing indicator until its reply starts. */
  expectReply() {
    if (this.current) return;
    this.awaitingReply = true;
    clearTimeout(this.awaitTimer);
    // A reply that never starts (e.g. the agent stays silent) must not leave dots forever.
    this.awaitTimer = setTimeout(() => {
      this.awaitingReply = false;
      this.updateTyping();
    }, 60000);
    this.updateTyping();
  }

  // ---- Cart -------------------------------------------------------------------------------

  /**
   * `cart_add` for a product card: its variant's SKU when the card shows one, else the size
   * and colour the visitor picked after a `variant_required` refusal.
   * @param {any} item @param {HTMLButtonElement} button @param {Record<string, string>} [selection]
   */
  addToCart(item, button, selection = {}) {
    /** @type {Record<string, string>} */
    const frame = { type: 'cart_add', external_id: item.external_id };
    if (item.variant && item.variant.sku) frame.sku = item.variant.sku;
    if (selection.size) frame.size = selection.size;
    if (selection.color) frame.color = selection.color;
    this.cartRequest(frame, button, { item, selection });
  }

  /**
   * After `variant_required` ("choose a size: XS, S, L"), shows the choices under the card;
   * picking one sends `cart_add` again with it. Only sizes and colours can be sent.
   * @param {{button: HTMLButtonElement|null, item?: any, selection?: Record<string, string>}} action
   * @param {string} message
   */
  offerVariants(action, message) {
    const match = /^choose an? (\w+): (.+)$/.exec(message);
    const card = action.button && action.button.closest('[data-test="product"]');
    if (!match || !card || !action.item) return;
    const dimension = match[1] === 'colour' ? 'color' : match[1];
    if (dimension !== 'size' && dimension !== 'color') return;
    const label = this.t(dimension === 'size' ? 'chooseSize' : 'chooseColor');
    const pick = (value) => this.addToCart(action.item, /** @type {HTMLButtonElement} */ (action.button), { ...action.selection, [dimension]: value });
    const group = h(
      'div',
      { class: 'options', role: 'group', 'aria-label': label },
      h('div', { class: 'label muted small', text: label }),
      ...match[2].split(', ').filter(Boolean).map((value) =>
        h('button', { type: 'button', class: 'opt', 'data-test': 'variant-option', 'data-value': value, onclick: () => pick(value) }, value),
      ),
    );
    const old = card.querySelector('.options');
    if (old) old.replaceWith(group);
    else card.append(group);
    const first = group.querySelector('button');
    if (first) /** @type {HTMLElement} */ (first).focus();
  }

  /** @param {any} line */
  removeFromCart(line) {
    /** @type {Record<string, string>} */
    const frame = { type: 'cart_remove', external_id: line.external_id };
    if (line.sku) frame.sku = line.sku;
    this.cartRequest(frame, null);
  }

  /**
   * Sends a cart change; the answer is a `cart` frame or an `error`.
   * @param {object} frame @param {HTMLButtonElement|null} button
   * @param {{item: any, selection: Record<string, string>}} [card] the product card's request
   */
  cartRequest(frame, button, card) {
    if (!this.conn || !this.conn.send(frame)) {
      this.showNotice(this.t('notConnected'), NOTICE_MS);
      return;
    }
    this.finishCartAction(false);
    if (button) {
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
    }
    // No answer within 10 s (connection trouble): give the button back.
    this.cartAction = { button, timer: setTimeout(() => this.finishCartAction(false), 10000), ...card };
  }

  /** The pending cart change got its answer (`ok`: a `cart` frame) or is given up. */
  finishCartAction(ok) {
    const action = this.cartAction;
    if (!action) return;
    this.cartAction = null;
    clearTimeout(action.timer);
    const button = action.button;
    if (!button) return;
    button.removeAttribute('aria-busy');
    if (!ok) {
      button.disabled = false;
      return;
    }
    // Added: the size or colour choices, if any, are done with.
    const options = button.parentElement && button.parentElement.querySelector('.options');
    if (options) {
      const hadFocus = options.contains(this.root.activeElement);
      options.remove();
      // Focus was on a choice that is gone: the cart button (now counting the item) takes it.
      if (hadFocus) this.cartButton.focus();
    }
    button.textContent = this.t('added');
    setTimeout(() => {
      button.textContent = this.t('addToCart');
      button.disabled = false;
    }, 1500);
  }

  renderCart() {
    const count = (this.cart && Number(this.cart.item_count)) || 0;
    this.countEl.textContent = String(count);
    this.countEl.hidden = count === 0;
    this.cartButton.setAttribute('aria-label', this.t('cartLabel', { n: count }));
    const focusWasIn = this.root.activeElement != null && this.drawer.contains(this.root.activeElement);
    this.drawer.replaceChildren(
      ...cartView(this.cart, this.ctx(), (line) => this.removeFromCart(line), () => this.toggleCart(false, true)),
    );
    // The button that had focus was just replaced: keep focus in the drawer.
    if (focusWasIn) {
      const first = this.drawer.querySelector('button');
      if (first) /** @type {HTMLElement} */ (first).focus();
    }
  }

  // ---- Message rows -----------------------------------------------------------------------

  ctx() {
    return { t: (key, vars) => this.t(key, vars), locale: this.locale };
  }

  /**
   * Adds a message to the end of the log.
   * @param {'user'|'assistant'} role
   * @param {string} text
   * @param {string} [clientId]
   * @returns {Row}
   */
  addRow(role, text, clientId) {
    const bubble = h('div', { class: 'bubble', 'data-test': 'message', 'data-role': role, 'data-client-id': clientId });
    const attach = h('div', { class: 'attach' });
    /** @type {Row} */
    const row = { row: h('div', { class: 'row ' + role }, bubble, attach), bubble, attach, role, text, ended: role === 'user', clientId, lists: new Set() };
    if (clientId) this.rows.set('c:' + clientId, row);
    this.log.append(row.row);
    this.renderText(row);
    this.updateTyping();
    this.scrollToEnd();
    return row;
  }

  /** @param {Row} row @param {string} messageId */
  setMessageId(row, messageId) {
    if (!messageId) return;
    row.messageId = messageId;
    row.bubble.setAttribute('data-message-id', messageId);
    this.rows.set('m:' + messageId, row);
  }

  /**
   * The assistant reply `messageId`, created (as in progress) when it is not on screen yet.
   * @param {string|undefined} messageId
   */
  replyRow(messageId) {
    const known = messageId && this.rows.get('m:' + messageId);
    if (known) return known;
    const row = this.addRow('assistant', '');
    row.ended = false;
    row.row.setAttribute('aria-busy', 'true');
    this.setMessageId(row, /** @type {string} */ (messageId));
    return row;
  }

  /**
   * Where a `checkout` or `order` frame goes (they carry no message id): the reply in
   * progress, else the last reply, else a new empty one.
   * @returns {Row}
   */
  hostRow() {
    if (this.current) return this.current;
    const rows = this.log.querySelectorAll('.row.assistant:not(.typing-row)');
    const last = rows[rows.length - 1];
    for (const row of this.rows.values()) if (last && row.row === last) return row;
    const row = this.addRow('assistant', '');
    row.ended = true;
    this.renderText(row);
    return row;
  }

  /** @param {Row} row */
  renderText(row) {
    this.keepAtEnd(() => {
      renderRichText(row.bubble, row.text);
      // An empty bubble stays hidden: a reply before its first delta shows the typing indicator
      // instead, and a finished reply without text (e.g. one carrying only a checkout) shows
      // just what it carries.
      row.bubble.hidden = !row.text;
    });
    if (row === this.current) this.updateTyping();
  }

  /** @param {string|undefined} greeting */
  showGreeting(greeting) {
    if (!greeting || this.greetingRow) return;
    const bubble = h('div', { class: 'bubble', 'data-test': 'message', 'data-role': 'assistant', 'data-greeting': 'true' });
    renderRichText(bubble, greeting);
    this.greetingRow = { row: h('div', { class: 'row assistant' }, bubble), bubble, attach: h('div'), role: 'assistant', text: greeting, ended: true, lists: new Set() };
    this.log.prepend(this.greetingRow.row);
  }

  /** The conversation was replaced (4001/4004): start over, keeping unsent messages. */
  clearConversation() {
    const greeting = this.greetingRow;
    this.log.textContent = '';
    this.rows.clear();
    this.checkouts.clear();
    this.current = null;
    this.awaitingReply = false;
    if (greeting) this.log.append(greeting.row);
    for (const [clientId, pending] of this.pending) {
      this.rows.set('c:' + clientId, pending.row);
      pending.row.bubble.removeAttribute('data-message-id');
      pending.row.messageId = undefined;
      this.log.append(pending.row.row);
    }
    this.cart = null;
    this.renderCart();
    this.updateTyping();
  }

  /**
   * Puts the single typing indicator where it belongs, or takes it away: in the reply in
   * progress until its first text (next to its still hidden bubble, so the bubble's text is
   * only ever the reply's), else at the end of the log while a reply is awaited.
   */
  updateTyping() {
    const current = this.current && !this.current.ended ? this.current : null;
    const typing = this.typing;
    if (current) {
      this.typingRow.remove();
      if (current.text) typing.remove();
      else if (typing.parentNode !== current.row) this.keepAtEnd(() => current.row.insertBefore(typing, current.attach));
    } else if (this.awaitingReply) {
      if (typing.parentNode !== this.typingRow) this.typingRow.append(typing);
      if (this.typingRow !== this.log.lastChild) this.keepAtEnd(() => this.log.append(this.typingRow));
    } else {
      typing.remove();
      this.typingRow.remove();
    }
  }

  /** Runs `change`, then scrolls to the end if the visitor was reading the end. */
  keepAtEnd(change) {
    const log = this.log;
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
    change();
    if (atEnd) this.scrollToEnd();
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  // ---- Status line ------------------------------------------------------------------------

  /**
   * Shows a passing notice (`ms` 0: until replaced or cleared), optionally with a retry button.
   * @param {string} text @param {number} ms @param {() => void} [retry]
   */
  showNotice(text, ms, retry) {
    clearTimeout(this.noticeTimer);
    this.notice = { text, retry };
    if (ms) this.noticeTimer = setTimeout(() => this.clearNotice(), ms);
    this.renderStatus();
  }

  clearNotice() {
    clearTimeout(this.noticeTimer);
    this.notice = null;
    this.renderStatus();
  }

  /** The status line: the connection's trouble first (nothing else works meanwhile), else a
   * passing notice. */
  renderStatus() {
    const notice = (this.connNotice ? { text: this.t(this.connNotice) } : null) || this.notice;
    if (!notice) {
      this.statusRegion.textContent = '';
      return;
    }
    const retry = notice.retry;
    this.statusRegion.replaceChildren(
      h(
        'div',
        { class: 'status', 'data-test': 'status' },
        h('span', { text: notice.text }),
        retry
          ? h('button', { type: 'button', class: 'btn secondary', text: this.t('retry'), onclick: () => { this.clearNotice(); retry(); } })
          : null,
      ),
    );
  }

  /** @param {string} name @param {any} [detail] */
  emit(name, detail) {
    this.dispatchEvent(new CustomEvent('agentpay:' + name, { detail, bubbles: true, composed: true }));
  }
}
