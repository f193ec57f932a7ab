// Entry point of the bundle (dist/agentpay.js): defines <agentpay-chat> and, for the one-tag
// embed, adds one to the page:
//
//   <script src="https://engine.example/widget/v1/agentpay.js" data-publishable-key="pk_…" async></script>
//
// Script attributes: data-publishable-key (required for the embed), data-api (the engine's base
// URL; default: the origin the script was loaded from), data-lang, data-open ("true" opens the
// panel at once).

import { AgentPayChat, setDefaultApi } from './element.js';

const TAG = 'agentpay-chat';

/** @type {HTMLScriptElement|null} */
const script =
  /** @type {HTMLScriptElement|null} */ (document.currentScript) || document.querySelector('script[data-publishable-key]');

let scriptOrigin = '';
if (script && script.src) {
  try {
    scriptOrigin = new URL(script.src, location.href).origin;
  } catch (_) {
    // Leave the default to the page's origin.
  }
}
setDefaultApi(scriptOrigin);

// The script may be on the page twice (an embed and a framework wrapper): define once.
if (!customElements.get(TAG)) customElements.define(TAG, AgentPayChat);

const data = script ? script.dataset : {};
if (data.publishableKey) {
  const mount = () => {
    if (document.querySelector(TAG)) return;
    const el = document.createElement(TAG);
    el.setAttribute('publishable-key', data.publishableKey || '');
    el.setAttribute('api', data.api || scriptOrigin || location.origin);
    if (data.lang) el.setAttribute('lang', data.lang);
    if (data.open === 'true') el.setAttribute('open', '');
    document.body.append(el);
  };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
}
