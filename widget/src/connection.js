// Talking to the engine: the two HTTP calls (widget config, new conversation), the stored
// conversation, and the WebSocket with its reconnects (docs/protocol.md).

/**
 * @typedef {{id: string, token: string, lastSeq: number, ws_url?: string}} StoredConversation
 * @typedef {'connected'|'offline'|'busy'|'reset'|'disabled'} ConnectionEvent
 */

/** The WebSocket subprotocol; the visitor token travels as a second entry. */
const SUBPROTOCOL = 'agentpay.v1';
/** How often the client pings (the server drops a connection silent for 45 s). */
const PING_MS = 25000;
/** A connection that has received nothing for this long is treated as lost. */
const SILENCE_MS = 60000;
/** Reconnect backoff: 0.5 s doubling up to 15 s, with jitter. */
const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 15000;

/** An HTTP call that failed: `status` 0 is a network failure; `code` is the engine's error code. */
export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {number} retryAfterMs
   */
  constructor(status, code, message, retryAfterMs) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * One call to the engine with the publishable key; resolves to the JSON body.
 * @param {string} method
 * @param {string} url
 * @param {string} key
 */
async function request(method, url, key) {
  let response;
  try {
    response = await fetch(url, { method, headers: { Authorization: 'Bearer ' + key }, credentials: 'omit' });
  } catch (e) {
    throw new HttpError(0, 'network', String((e && e.message) || e), 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    // An empty or non-JSON body: the status says enough.
  }
  if (!response.ok) {
    const error = (body && body.error) || {};
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new HttpError(
      response.status,
      error.code || 'http_' + response.status,
      error.message || response.statusText,
      retryAfter > 0 ? retryAfter * 1000 : 0,
    );
  }
  return body;
}

/**
 * `GET /v1/widget/config`: the merchant, the assistant and the theme.
 * @param {string} api
 * @param {string} key
 */
export function fetchConfig(api, key) {
  return request('GET', api + '/v1/widget/config', key);
}

/**
 * The conversation stored for this merchant's key, kept across page loads. Storage can be
 * unavailable (private modes, sandboxed frames); the conversation then lives in memory.
 */
export class ConversationStore {
  /** @param {string} publishableKey */
  constructor(publishableKey) {
    this.key = 'agentpay:v1:' + publishableKey;
    /** @type {string|null} */
    this.memory = null;
  }

  /** @returns {StoredConversation|null} */
  load() {
    let raw = this.memory;
    try {
      raw = localStorage.getItem(this.key);
    } catch (_) {
      // Storage refused: use the in-memory copy.
    }
    try {
      const value = raw && JSON.parse(raw);
      if (value && typeof value.id === 'string' && typeof value.token === 'string') {
        return {
          id: value.id,
          token: value.token,
          lastSeq: Number(value.lastSeq) || 0,
          ws_url: typeof value.ws_url === 'string' ? value.ws_url : undefined,
        };
      }
    } catch (_) {
      // Corrupt entry: treat as absent.
    }
    return null;
  }

  /** @param {StoredConversation} conversation */
  save(conversation) {
    this.memory = JSON.stringify(conversation);
    try {
      localStorage.setItem(this.key, this.memory);
    } catch (_) {
      // Storage refused or full: the in-memory copy still serves this page.
    }
  }

  clear() {
    this.memory = null;
    try {
      localStorage.removeItem(this.key);
    } catch (_) {
      // Nothing to do.
    }
  }
}

/**
 * The live link to one conversation: creates it when none is stored, opens the WebSocket,
 * reconnects with backoff and `?after=`, and keeps the last sequence number seen.
 *
 * Each page starts reading at sequence 0 so the server replays the conversation's history
 * into the fresh page; within the page every reconnect asks only for what came after the last
 * sequence number seen. The stored `lastSeq` is kept up to date either way.
 */
export class Connection {
  /**
   * @param {{api: string, publishableKey: string,
   *   onFrame: (frame: any) => void, onEvent: (event: ConnectionEvent) => void}} options
   */
  constructor(options) {
    this.api = options.api;
    this.publishableKey = options.publishableKey;
    this.onFrame = options.onFrame;
    this.onEvent = options.onEvent;
    this.store = new ConversationStore(options.publishableKey);
    /** @type {StoredConversation|null} */
    this.conversation = null;
    /** The last sequence number this page has seen. */
    this.seq = 0;
    this.running = false;
    /** True between the server's `hello` and the connection's end. */
    this.ready = false;
    this.attempt = 0;
    /** @type {WebSocket|null} */
    this.ws = null;
    /** @type {ReturnType<typeof setTimeout>|null} */
    this.retryTimer = null;
    /** @type {ReturnType<typeof setInterval>|null} */
    this.pingTimer = null;
    this.lastReceived = 0;
  }

  /** Connects (creating the conversation first when none is stored). */
  start() {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.seq = 0;
    this.conversation = this.store.load();
    this.connect();
  }

  /** Closes the connection for good (the element left the page). */
  stop() {
    this.running = false;
    this.ready = false;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        ws.close(1000);
      } catch (_) {
        // Already closing.
      }
    }
  }

  /** Skips the backoff wait (the browser came back online). */
  retryNow() {
    if (this.running && this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.connect();
    }
  }

  /**
   * Sends a frame when the connection is up; returns whether it went out.
   * @param {object} frame
   */
  send(frame) {
    if (!this.ready || !this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  clearTimers() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }

  /** @param {ConnectionEvent} event */
  emit(event) {
    this.onEvent(event);
  }

  async connect() {
    this.retryTimer = null;
    if (!this.running) return;
    if (!this.conversation) {
      try {
        const created = await request('POST', this.api + '/v1/conversations', this.publishableKey);
        if (!this.running) return;
        this.conversation = { id: created.id, token: created.visitor_token, lastSeq: 0, ws_url: created.ws_url };
        this.seq = 0;
        this.store.save(this.conversation);
      } catch (e) {
        if (!this.running) return;
        const error = /** @type {HttpError} */ (e);
        if (error.code === 'origin_not_allowed') return this.fail();
        this.emit(error.status === 503 || error.status === 429 ? 'busy' : 'offline');
        return this.scheduleRetry(error.retryAfterMs);
      }
    }
    this.open(this.conversation);
  }

  /** @param {StoredConversation} conversation */
  socketUrl(conversation) {
    const url = new URL(
      conversation.ws_url || this.api + '/v1/conversations/' + encodeURIComponent(conversation.id) + '/ws',
      location.href,
    );
    if (url.protocol === 'https:') url.protocol = 'wss:';
    else if (url.protocol === 'http:') url.protocol = 'ws:';
    url.searchParams.set('after', String(this.seq));
    return url.href;
  }

  /** @param {StoredConversation} conversation */
  open(conversation) {
    let ws;
    try {
      ws = new WebSocket(this.socketUrl(conversation), [SUBPROTOCOL, conversation.token]);
    } catch (_) {
      // A stored URL or token the browser refuses outright: start a new conversation.
      this.forget();
      return this.scheduleRetry(0);
    }
    this.ws = ws;
    this.ready = false;
    this.lastReceived = Date.now();
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.pingTimer = setInterval(() => this.heartbeat(ws), PING_MS);
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.lastReceived = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      if (!frame || typeof frame.type !== 'string') return;
      if (typeof frame.seq === 'number' && frame.seq > this.seq) this.remember(frame.seq);
      if (frame.type === 'hello') {
        this.ready = true;
        this.attempt = 0;
        this.emit('connected');
      }
      this.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.lost(event.code);
    };
  }

  /** Pings, and gives up on a connection that has gone silent (a dead network path). */
  heartbeat(ws) {
    if (ws !== this.ws || ws.readyState !== 1) return;
    if (Date.now() - this.lastReceived > SILENCE_MS) {
      try {
        ws.close(4000);
      } catch (_) {
        // Closing anyway.
      }
      return this.lost(1006);
    }
    ws.send('{"type":"ping"}');
  }

  /**
   * The connection ended: decide from the close code what comes next.
   * @param {number} code
   */
  lost(code) {
    this.ws = null;
    this.ready = false;
    this.clearTimers();
    if (!this.running) return;
    if (code === 4003) return this.fail();
    if (code === 4001 || code === 4004) {
      // The token no longer opens the conversation, or it is gone: start a new one.
      this.forget();
      this.emit('reset');
    } else {
      // 1006, 1011, 1012, 4008 and anything else: come back with `after`.
      this.emit('offline');
    }
    this.scheduleRetry(0);
  }

  /** @param {number} seq */
  remember(seq) {
    this.seq = seq;
    const conversation = this.conversation;
    if (conversation && seq > conversation.lastSeq) {
      conversation.lastSeq = seq;
      this.store.save(conversation);
    }
  }

  forget() {
    this.conversation = null;
    this.seq = 0;
    this.store.clear();
  }

  /** The page's origin is refused: nothing will work until the merchant allows it. */
  fail() {
    this.stop();
    this.emit('disabled');
  }

  /** @param {number} minimumMs */
  scheduleRetry(minimumMs) {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    const delay = Math.max(minimumMs || 0, ceiling / 2 + (Math.random() * ceiling) / 2);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
