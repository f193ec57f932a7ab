// <AgentPayChat> for React: loads the AgentPay widget script once and renders the
// <agentpay-chat> custom element. Plain ESM, no JSX, no build step.

import { createElement, useEffect, useRef } from 'react';

/** Marks the script tag this wrapper added, so it is added once per page. */
const SCRIPT_MARK = 'data-agentpay-widget';

/**
 * Adds `<script src="{apiBase}/widget/v1/agentpay.js" async>` to the page unless the widget is
 * already defined or its script already requested. The script carries no
 * data-publishable-key, so it does not add a second widget by itself.
 * @param {string} apiBase
 * @param {string|undefined} integrity
 */
function loadWidget(apiBase, integrity) {
  if (typeof document === 'undefined') return;
  if (window.customElements && window.customElements.get('agentpay-chat')) return;
  if (document.querySelector('script[' + SCRIPT_MARK + ']')) return;
  const script = document.createElement('script');
  script.src = apiBase + '/widget/v1/agentpay.js';
  script.async = true;
  if (integrity) {
    script.integrity = integrity;
    script.crossOrigin = 'anonymous';
  }
  script.setAttribute(SCRIPT_MARK, '');
  document.head.appendChild(script);
}

/**
 * The AgentPay chat widget.
 * @param {{publishableKey: string, apiBase: string, lang?: string, open?: boolean, integrity?: string}} props
 */
export function AgentPayChat({ publishableKey, apiBase, lang, open, integrity }) {
  const ref = useRef(null);
  const base = String(apiBase || '').replace(/\/+$/, '');

  useEffect(() => {
    loadWidget(base, integrity);
  }, [base, integrity]);

  // `open` is applied as the element's attribute: true opens the panel, false closes it.
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (open) el.setAttribute('open', '');
    else el.removeAttribute('open');
  }, [open]);

  return createElement('agentpay-chat', {
    ref,
    'publishable-key': publishableKey,
    api: base,
    lang: lang || undefined,
  });
}

export default AgentPayChat;
