// All of the widget's CSS. It lives in the shadow root, so page styles cannot reach the
// widget's elements and these rules cannot reach the page. `:host` resets everything the page
// could pass down by inheritance (`all: initial`), with !important so that even page rules on
// the `agentpay-chat` tag lose. The theme arrives as custom properties on `.ap`.

const CSS = `
:host { all: initial !important; display: block !important; position: fixed !important; right: 0 !important; bottom: 0 !important; width: 0 !important; height: 0 !important; z-index: 2147483000 !important; }
.ap { --ap-accent: #1f5f8b; --ap-on-accent: #ffffff; --ap-link: #1f5f8b; --ap-focus: #1f5f8b;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1b1f24; letter-spacing: normal; text-align: left; text-transform: none; -webkit-font-smoothing: antialiased; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button, textarea, a { font: inherit; color: inherit; letter-spacing: inherit; }
button { margin: 0; border: 0; background: none; cursor: pointer; -webkit-appearance: none; appearance: none; }
button:disabled { cursor: not-allowed; }
h2, h3, p, ul, li { margin: 0; padding: 0; font: inherit; }
ul { list-style: none; }
a { color: var(--ap-link); text-decoration: underline; }
:focus { outline: none; }
:focus-visible { outline: 2px solid var(--ap-focus); outline-offset: 2px; }
.icon { width: 20px; height: 20px; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; display: block; }
.sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.muted { color: #57606a; }
.small { font-size: 12px; }

.launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%;
  display: flex; align-items: center; justify-content: center; background: var(--ap-accent); color: var(--ap-on-accent);
  box-shadow: 0 4px 14px rgba(0, 0, 0, .25); transition: transform .15s ease; }
.launcher:hover { transform: scale(1.05); }
.launcher .icon { width: 26px; height: 26px; }

.panel { position: fixed; right: 20px; bottom: 88px; width: 380px; max-width: calc(100vw - 40px);
  height: 620px; max-height: calc(100vh - 108px); display: flex; flex-direction: column; overflow: hidden;
  background: #ffffff; color: #1b1f24; border-radius: 14px;
  box-shadow: 0 12px 40px rgba(0, 0, 0, .22), 0 2px 8px rgba(0, 0, 0, .12); }
@media (max-width: 599.98px) {
  .panel { inset: 0; width: 100%; max-width: none; height: 100%; max-height: none; border-radius: 0; }
}

.head { display: flex; align-items: center; gap: 4px; padding: 10px 8px 10px 16px; background: var(--ap-accent); color: var(--ap-on-accent); }
.head :focus-visible { outline-color: var(--ap-on-accent); outline-offset: -2px; }
.titles { flex: 1; min-width: 0; }
.title { font-size: 16px; font-weight: 700; line-height: 1.25; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.sub { font-size: 12px; opacity: .92; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.icon-btn { position: relative; width: 40px; height: 40px; border-radius: 8px; display: inline-flex; align-items: center; justify-content: center; flex: none; }
.icon-btn:hover { background: rgba(127, 127, 127, .18); }
.count { position: absolute; top: 2px; right: 0; min-width: 18px; height: 18px; padding: 0 5px; border-radius: 9px;
  background: var(--ap-on-accent); color: var(--ap-accent); font-size: 11px; font-weight: 700; line-height: 18px; text-align: center; }

.body { position: relative; flex: 1; min-height: 0; display: flex; flex-direction: column; }
.log { flex: 1; min-height: 0; overflow-y: auto; overscroll-behavior: contain; padding: 14px 12px; background: #f5f6f8;
  display: flex; flex-direction: column; gap: 10px; }
.row { display: flex; flex-direction: column; align-items: flex-start; gap: 6px; max-width: 100%; }
.row.user { align-items: flex-end; }
.bubble { max-width: 85%; padding: 8px 12px; border-radius: 14px; background: #ffffff; color: #1b1f24; border: 1px solid #dde1e6;
  overflow-wrap: anywhere; white-space: pre-wrap; }
.row.assistant .bubble { border-bottom-left-radius: 4px; }
.row.user .bubble { background: var(--ap-accent); color: var(--ap-on-accent); border-color: transparent; border-bottom-right-radius: 4px; }
.row.user .bubble a { color: inherit; }
.bubble strong { font-weight: 700; }
.bubble[data-state="pending"] { opacity: .7; }
.bubble[data-state="failed"] { opacity: .7; outline: 2px solid #b42318; outline-offset: 1px; }
.note { font-size: 12px; color: #57606a; }
.note.error { color: #b42318; }
.attach { display: flex; flex-direction: column; gap: 8px; width: 100%; }
.attach:empty { display: none; }

.typing { display: inline-flex; gap: 4px; align-items: center; padding: 12px 14px; border-radius: 14px; border-bottom-left-radius: 4px; background: #ffffff; border: 1px solid #dde1e6; }
.typing .dot { width: 7px; height: 7px; border-radius: 50%; background: #57606a; animation: ap-blink 1.2s infinite ease-in-out; }
.typing .dot:nth-child(2) { animation-delay: .2s; }
.typing .dot:nth-child(3) { animation-delay: .4s; }
@keyframes ap-blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
@media (prefers-reduced-motion: reduce) { .typing .dot { animation: none; opacity: .6; } .launcher { transition: none; } }

.cards { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; width: 100%; }
.card { display: flex; flex-direction: column; gap: 3px; padding: 8px; border: 1px solid #dde1e6; border-radius: 10px; background: #ffffff; min-width: 0; }
.card-media { aspect-ratio: 1 / 1; border-radius: 6px; overflow: hidden; background: #eef0f3; margin-bottom: 4px; }
.card-media img { width: 100%; height: 100%; object-fit: cover; display: block; border: 0; }
.card-title { font-weight: 600; font-size: 13px; line-height: 1.3; overflow-wrap: anywhere; }
.card-title a { color: #1b1f24; text-decoration: none; }
.card-title a:hover { text-decoration: underline; }
.price { display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; }
.price .now { font-weight: 700; }
.price .was { color: #57606a; font-size: 12px; }
.stock { font-size: 12px; font-weight: 600; }
.stock.in { color: #1a7f37; }
.stock.out { color: #b42318; }
.btn { margin-top: auto; padding: 7px 10px; border-radius: 8px; font-weight: 600; font-size: 13px; text-align: center; }
.btn.primary { background: var(--ap-accent); color: var(--ap-on-accent); }
.btn.primary:disabled { background: #d0d7de; color: #424a53; }
.options { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.options .label { flex-basis: 100%; }
.opt { min-width: 34px; padding: 4px 8px; border: 1px solid #8c959f; border-radius: 6px; background: #ffffff; color: #1b1f24; font-size: 12px; font-weight: 600; }
.opt:hover { border-color: var(--ap-accent); }
.btn.secondary { background: #ffffff; color: #1b1f24; border: 1px solid #c4cad1; }

.checkout { display: flex; flex-direction: column; gap: 6px; padding: 10px; border: 1px solid #dde1e6; border-radius: 10px; background: #ffffff; width: 100%; max-width: 320px; }
.pay { display: block; padding: 10px 14px; border-radius: 8px; background: var(--ap-accent); color: var(--ap-on-accent); font-weight: 700; font-size: 15px; text-align: center; text-decoration: none; }
.checkout.settled .pay { background: #d0d7de; color: #424a53; }
.checkout-meta { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; font-size: 12px; color: #57606a; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 999px; font-size: 12px; font-weight: 700; }
.badge-paid { background: #dafbe1; color: #116329; }
.badge-expired, .badge-canceled, .badge-other { background: #eaeef2; color: #424a53; }
.badge-refunded { background: #ddf4ff; color: #0a3069; }
.badge-disputed { background: #fff1e5; color: #953800; }

.drawer { position: absolute; inset: 0; display: flex; flex-direction: column; background: #ffffff; }
.drawer-head { display: flex; align-items: center; justify-content: space-between; padding: 8px 8px 8px 16px; border-bottom: 1px solid #dde1e6; }
.drawer-title { font-size: 15px; font-weight: 700; }
.lines { flex: 1; min-height: 0; overflow-y: auto; padding: 4px 8px 4px 16px; }
.line { display: flex; align-items: center; gap: 10px; padding: 10px 0; border-bottom: 1px solid #eef0f3; }
.line-main { flex: 1; min-width: 0; }
.line-title { font-weight: 600; overflow-wrap: anywhere; }
.line-total { font-weight: 600; white-space: nowrap; }
.cart-total { display: flex; justify-content: space-between; padding: 12px 16px; border-top: 1px solid #dde1e6; font-size: 15px; }
.empty { padding: 24px 16px; color: #57606a; text-align: center; }

.status { display: flex; align-items: center; gap: 10px; padding: 8px 12px; font-size: 13px; background: #fff8c5; color: #3b2300; border-top: 1px solid #eed888; }
.status span { flex: 1; }
.status .btn { margin: 0; padding: 4px 10px; }

.composer { display: flex; align-items: flex-end; gap: 8px; padding: 10px; border-top: 1px solid #dde1e6; background: #ffffff; }
.input { flex: 1; min-width: 0; resize: none; max-height: 120px; margin: 0; padding: 9px 12px; border: 1px solid #8c959f; border-radius: 10px; background: #ffffff; color: #1b1f24; line-height: 1.4; font-size: 15px; }
.input::placeholder { color: #6e7781; opacity: 1; }
.input:focus-visible { outline-offset: 0; }
.send { width: 42px; height: 42px; border-radius: 10px; display: inline-flex; align-items: center; justify-content: center; flex: none; background: var(--ap-accent); color: var(--ap-on-accent); }
`;

/** Puts the widget's CSS into `root`: a constructed stylesheet where supported (allowed by a
 * strict Content-Security-Policy), else a `<style>` element.
 * @param {ShadowRoot} root */
export function adoptStyles(root) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch (_) {
    const style = document.createElement('style');
    style.textContent = CSS;
    root.append(style);
  }
}
