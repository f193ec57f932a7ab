import type { ReactElement } from 'react';

/** Props of {@link AgentPayChat}. */
export interface AgentPayChatProps {
  /** The merchant's publishable key (`pk_…`). Public by design. */
  publishableKey: string;
  /** The engine's base URL, e.g. `https://engine.example` (no trailing slash needed). */
  apiBase: string;
  /** The widget's language: `en`, `es`, `fr`, `de` or `pt` (a tag such as `pt-BR` works too).
   * Default: the page's `<html lang>`, then the browser's language. */
  lang?: string;
  /** `true` opens the chat panel, `false` closes it. */
  open?: boolean;
  /** Subresource Integrity for the widget script (`sha384-…`, from `dist/agentpay.js.sha384`). */
  integrity?: string;
}

/**
 * The AgentPay chat widget: loads `${apiBase}/widget/v1/agentpay.js` once and renders
 * `<agentpay-chat>`.
 */
export declare function AgentPayChat(props: AgentPayChatProps): ReactElement;

export default AgentPayChat;
