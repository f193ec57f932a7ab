//! A wire-compatible fake of the parts of Stripe's API the engine uses (Checkout Sessions,
//! Connect accounts and account links): a real HTTP/1.1 server on loopback that reads the
//! bracketed, unencoded form keys async-stripe sends (protocols.md §3), validates them like
//! Stripe, honours idempotency keys (scoped by `Stripe-Account`, 5xx saved, 4xx not) and records
//! every request. It also builds the event bodies Stripe would deliver for what it holds.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How far short of 30 minutes an `expires_at` may fall (the client computed it a moment ago).
const EXPIRY_GRACE_SECS: i64 = 5;

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct StripeRequest {
    pub method: String,
    /// The path without its query string.
    pub path: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    /// Decoded query and form fields; keys keep their brackets
    /// (`line_items[0][price_data][unit_amount]`).
    pub form: BTreeMap<String, String>,
}

impl StripeRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.form.get(key).map(String::as_str)
    }

    /// A required field.
    fn need(&self, key: &str) -> Result<&str, Failure> {
        self.get(key).ok_or_else(|| missing(key))
    }

    /// A required integer field.
    fn int(&self, key: &str) -> Result<i64, Failure> {
        let v = self.need(key)?;
        let invalid_integer = || invalid(key, &format!("Invalid integer: {v}"));
        v.parse().map_err(|_| invalid_integer())
    }
}

/// A checkout session held by the fake, with the account it was created on and the payment
/// its completion will carry.
struct Session {
    json: Value,
    account: Option<String>,
    payment_intent: String,
}

/// A result saved under an idempotency key, with the request it answered.
struct Saved {
    path: String,
    form: BTreeMap<String, String>,
    status: u16,
    body: String,
}

#[derive(Default)]
struct State {
    requests: Vec<StripeRequest>,
    sessions: Vec<Session>,
    accounts: Vec<Value>,
    /// By (`Stripe-Account` or "", `Idempotency-Key`).
    saved: HashMap<(String, String), Saved>,
    stalls: usize,
    stall_pause: Duration,
    fail: Option<(u16, Value)>,
}

/// Status, body, extra headers, and a pause to sleep before closing instead of answering.
type Answer = (u16, String, Vec<(String, String)>, Option<Duration>);

/// A Stripe error: status and body.
type Failure = (u16, Value);

/// The fake server.
#[derive(Clone)]
pub struct FakeStripe {
    /// `http://127.0.0.1:PORT/`, for `ClientBuilder::url`.
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

impl FakeStripe {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/", listener.local_addr().unwrap());
        let fake = Self {
            base_url,
            state: Arc::default(),
        };
        let f = fake.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let f = f.clone();
                tokio::spawn(async move { f.serve(socket).await });
            }
        });
        fake
    }

    /// The next `n` `POST /v1/checkout/sessions` requests (past authentication and
    /// `fail_next`) are processed fully (session created, result saved under its idempotency
    /// key; a replay counts too) but the reply is withheld: the server sleeps `pause`, then
    /// closes the connection without answering.
    pub fn stall_next_sessions(&self, n: usize, pause: Duration) {
        let mut st = self.state.lock().unwrap();
        st.stalls = n;
        st.stall_pause = pause;
    }

    /// The next request (any endpoint) is answered with this Stripe error; like Stripe, a 5xx
    /// is saved under the request's idempotency key (when not already taken), a 4xx is not.
    pub fn fail_next(&self, status: u16, ty: &str, message: &str) {
        self.state.lock().unwrap().fail =
            Some((status, json!({"error": {"type": ty, "message": message}})));
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<StripeRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Each distinct checkout session created, as it is now (an event moves its status).
    pub fn sessions(&self) -> Vec<Value> {
        let st = self.state.lock().unwrap();
        st.sessions.iter().map(|s| s.json.clone()).collect()
    }

    /// Each connected account created, as it is now.
    pub fn accounts(&self) -> Vec<Value> {
        self.state.lock().unwrap().accounts.clone()
    }

    /// Marks account `id` ready (charges, payouts and details) and returns the body of its
    /// `account.updated` event, with top-level `"account": id` like a Connect event.
    pub fn account_updated_event(&self, id: &str) -> String {
        let mut st = self.state.lock().unwrap();
        let account = st
            .accounts
            .iter_mut()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("fake Stripe has no account {id}"));
        for flag in ["charges_enabled", "details_submitted", "payouts_enabled"] {
            account[flag] = json!(true);
        }
        event("account.updated", Some(id), account.clone())
    }

    /// Completes session `id` (paid, with a `pi_…` stable per session) and returns the body of
    /// its `checkout.session.completed` event.
    pub fn completed_event(&self, id: &str) -> String {
        self.session_event(id, "checkout.session.completed", "complete", "paid")
    }

    /// Expires session `id` and returns the body of its `checkout.session.expired` event.
    pub fn expired_event(&self, id: &str) -> String {
        self.session_event(id, "checkout.session.expired", "expired", "unpaid")
    }

    fn session_event(&self, id: &str, kind: &str, status: &str, payment_status: &str) -> String {
        let mut st = self.state.lock().unwrap();
        let s = st
            .sessions
            .iter_mut()
            .find(|s| s.json["id"] == id)
            .unwrap_or_else(|| panic!("fake Stripe has no checkout session {id}"));
        s.json["status"] = json!(status);
        s.json["payment_status"] = json!(payment_status);
        if status == "complete" {
            s.json["payment_intent"] = json!(s.payment_intent);
        }
        event(kind, s.account.as_deref(), s.json.clone())
    }

    async fn serve(&self, mut socket: TcpStream) {
        let Some(request) = read_request(&mut socket).await else {
            return;
        };
        let (status, body, headers, stall) = self.answer(request);
        if let Some(pause) = stall {
            tokio::time::sleep(pause).await;
            let _ = socket.shutdown().await;
            return;
        }
        let reason = if status < 400 { "OK" } else { "Error" };
        let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
        for (k, v) in &headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!(
            "content-type: application/json\r\nrequest-id: req_{}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            hex(14),
            body.len()
        ));
        if socket.write_all(out.as_bytes()).await.is_ok() {
            let _ = socket.flush().await;
            let _ = socket.shutdown().await;
        }
    }

    /// Records `req` and decides its answer.
    fn answer(&self, req: StripeRequest) -> Answer {
        let mut guard = self.state.lock().unwrap();
        let st = &mut *guard;
        st.requests.push(req.clone());
        let key = req
            .header("idempotency-key")
            .filter(|_| req.method == "POST")
            .map(|k| {
                let scope = req.header("stripe-account").unwrap_or_default();
                (scope.to_string(), k.to_string())
            });
        let mut headers = Vec::new();
        if let Some((_, k)) = &key {
            headers.push(("idempotency-key".to_string(), k.clone()));
        }
        // (status, body, save it under the key, reached the endpoint)
        let (status, body, save, reached) = if let Some((status, body)) = st.fail.take() {
            (status, body.to_string(), true, false)
        } else if let Err((status, body)) = authorize(&req) {
            (status, body.to_string(), false, false)
        } else if let Some(saved) = key.as_ref().and_then(|k| st.saved.get(k)) {
            if saved.path == req.path && saved.form == req.form {
                headers.push(("idempotent-replayed".to_string(), "true".to_string()));
                (saved.status, saved.body.clone(), false, true)
            } else {
                let k = req.header("idempotency-key").unwrap_or_default();
                let message = format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{k}' if you meant to execute a different request."
                );
                let (status, body) = error(400, "idempotency_error", &message, None);
                (status, body.to_string(), false, false)
            }
        } else {
            let (status, body) = route(st, &req).map_or_else(|e| e, |v| (200, v));
            (status, body.to_string(), true, true)
        };
        if let Some(k) = key.filter(|_| save && !(400..500).contains(&status)) {
            st.saved.entry(k).or_insert_with(|| Saved {
                path: req.path.clone(),
                form: req.form.clone(),
                status,
                body: body.clone(),
            });
        }
        let stalls =
            reached && st.stalls > 0 && req.method == "POST" && req.path == "/v1/checkout/sessions";
        if stalls {
            st.stalls -= 1;
        }
        (status, body, headers, stalls.then_some(st.stall_pause))
    }
}

/// Reads one request: the head, then the body by content-length, across however many reads.
async fn read_request(socket: &mut TcpStream) -> Option<StripeRequest> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut tmp).await.ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut tmp).await.ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&tmp[..n]);
    }
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut form = parse_form(query.as_bytes());
    form.extend(parse_form(&buf[head_end..head_end + length]));
    Some(StripeRequest {
        method,
        path: path.to_string(),
        headers,
        form,
    })
}

/// `a=1&b[c]=2` into decoded pairs.
fn parse_form(raw: &[u8]) -> BTreeMap<String, String> {
    raw.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(i) => (decode(&pair[..i]), decode(&pair[i + 1..])),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// Percent-decoding, with `+` as a space; a stray `%` stays as it is.
fn decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let escaped = s
            .get(i + 1..i + 3)
            .filter(|h| s[i] == b'%' && h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (s[i], escaped) {
            (_, Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b'+', None) => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `n` random hex digits (at most 32).
fn hex(n: usize) -> String {
    uuid::Uuid::new_v4().simple().to_string()[..n].to_string()
}

fn error(status: u16, ty: &str, message: &str, param: Option<&str>) -> Failure {
    let mut e = json!({"type": ty, "message": message});
    if let Some(param) = param {
        e["param"] = json!(param);
    }
    (status, json!({ "error": e }))
}

fn invalid(param: &str, message: &str) -> Failure {
    error(400, "invalid_request_error", message, Some(param))
}

fn missing(param: &str) -> Failure {
    invalid(param, &format!("Missing required param: {param}."))
}

fn no_such(kind: &str, id: &str) -> Failure {
    let message = format!("No such {kind}: '{id}'");
    let (status, mut body) = error(404, "invalid_request_error", &message, Some("id"));
    body["error"]["code"] = json!("resource_missing");
    (status, body)
}

/// `Err(invalid(param, message))` unless `ok`.
fn ensure(ok: bool, param: &str, message: &str) -> Result<(), Failure> {
    ok.then_some(()).ok_or_else(|| invalid(param, message))
}

/// The `metadata[k]=v` fields as an object.
fn metadata(req: &StripeRequest) -> Value {
    let map: serde_json::Map<String, Value> = req
        .form
        .iter()
        .filter_map(|(k, v)| {
            let k = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((k.to_string(), json!(v)))
        })
        .collect();
    Value::Object(map)
}

/// A Stripe event around `object`.
fn event(kind: &str, account: Option<&str>, object: Value) -> String {
    let mut e = json!({
        "id": format!("evt_{}", uuid::Uuid::new_v4().simple()), "object": "event",
        "api_version": "2026-09-30.endive", "created": now(), "livemode": false,
        "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null}, "type": kind,
        "data": {"object": object},
    });
    if let Some(account) = account {
        e["account"] = json!(account);
    }
    e.to_string()
}

/// A secret key (`sk_test_…`/`sk_live_…`) is required, as a bearer token.
fn authorize(req: &StripeRequest) -> Result<(), Failure> {
    let Some(auth) = req.header("authorization") else {
        let message = "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').";
        return Err(error(401, "invalid_request_error", message, None));
    };
    let key = auth.strip_prefix("Bearer ").unwrap_or(auth).trim();
    if key.len() > key_prefix(key).len() && !key_prefix(key).is_empty() {
        return Ok(());
    }
    let message = format!("Invalid API Key provided: {}", mask(key));
    Err(error(401, "invalid_request_error", &message, None))
}

/// `sk_test_` or `sk_live_` when `key` starts with it, else "".
fn key_prefix(key: &str) -> &'static str {
    let found = ["sk_test_", "sk_live_"]
        .into_iter()
        .find(|p| key.starts_with(p));
    found.unwrap_or_default()
}

/// A key as Stripe echoes it: its prefix, stars, and the last 4 characters of a long key.
fn mask(key: &str) -> String {
    let prefix = key_prefix(key);
    let rest: Vec<char> = key[prefix.len()..].chars().collect();
    let shown = if rest.len() > 8 { 4 } else { 0 };
    let tail: String = rest[rest.len() - shown..].iter().collect();
    format!("{prefix}{}{tail}", "*".repeat(rest.len() - shown))
}

fn route(st: &mut State, req: &StripeRequest) -> Result<Value, Failure> {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["v1", "checkout", "sessions"]) => create_session(st, req),
        ("GET", ["v1", "checkout", "sessions", id]) => st
            .sessions
            .iter()
            .find(|s| s.json["id"] == *id)
            .map(|s| s.json.clone())
            .ok_or_else(|| no_such("checkout.session", id)),
        ("POST", ["v1", "accounts"]) => create_account(st, req),
        ("GET", ["v1", "accounts", id]) => st
            .accounts
            .iter()
            .find(|a| a["id"] == *id)
            .cloned()
            .ok_or_else(|| no_such("account", id)),
        ("POST", ["v1", "account_links"]) => create_account_link(st, req),
        _ => {
            let message = format!("Unrecognized request URL ({}: {}).", req.method, req.path);
            Err(error(404, "invalid_request_error", &message, None))
        }
    }
}

fn create_session(st: &mut State, req: &StripeRequest) -> Result<Value, Failure> {
    let mode = req.need("mode")?;
    ensure(mode == "payment", "mode", "Only mode=payment is supported.")?;
    let success_url = req.need("success_url")?;
    let mut indices: Vec<usize> = req.form.keys().filter_map(|k| line_index(k)).collect();
    indices.sort_unstable();
    indices.dedup();
    let none = "line_items is required in payment mode.";
    ensure(!indices.is_empty(), "line_items", none)?;
    let (mut total, mut currency) = (0i64, None::<String>);
    for i in indices {
        let key = |field: &str| format!("line_items[{i}]{field}");
        let quantity_key = key("[quantity]");
        let quantity = req.int(&quantity_key)?;
        ensure(quantity >= 1, &quantity_key, "Must be at least 1.")?;
        let currency_key = key("[price_data][currency]");
        let cur = req.need(&currency_key)?;
        let valid = cur.len() == 3 && cur.bytes().all(|b| b.is_ascii_lowercase());
        ensure(valid, &currency_key, &format!("Invalid currency: {cur}."))?;
        let same = currency.as_deref().is_none_or(|c| c == cur);
        let mixed = "All line items must use the same currency.";
        ensure(same, "line_items", mixed)?;
        currency = Some(cur.to_string());
        let amount_key = key("[price_data][unit_amount]");
        let amount = req.int(&amount_key)?;
        ensure(amount >= 0, &amount_key, "Must be at least 0.")?;
        let name_key = key("[price_data][product_data][name]");
        let empty = format!("You passed an empty string for '{name_key}'.");
        ensure(!req.need(&name_key)?.trim().is_empty(), &name_key, &empty)?;
        let line = amount.checked_mul(quantity);
        let sum = line.and_then(|l| total.checked_add(l));
        total = sum.ok_or_else(|| invalid("line_items", "The total is too large."))?;
    }
    let now = now();
    let expires_at = match req.get("expires_at") {
        None => now + 86_400,
        Some(_) => req.int("expires_at")?,
    };
    let early = "expires_at must be at least 30 minutes after creation.";
    let earliest = now + 1_800 - EXPIRY_GRACE_SECS;
    ensure(expires_at >= earliest, "expires_at", early)?;
    let late = "expires_at must be less than 24 hours after creation.";
    ensure(expires_at <= now + 86_400, "expires_at", late)?;
    let id = format!("cs_test_{}", uuid::Uuid::new_v4().simple());
    let json = json!({
        "id": id, "object": "checkout.session", "automatic_tax": {"enabled": false},
        "created": now, "custom_fields": [], "custom_text": {}, "expires_at": expires_at,
        "livemode": false, "mode": "payment", "payment_method_types": ["card"],
        "payment_status": "unpaid", "shipping_options": [], "status": "open",
        "url": format!("https://checkout.stripe.com/c/pay/{id}"), "metadata": metadata(req),
        "amount_total": total, "currency": currency,
        "client_reference_id": req.get("client_reference_id"),
        "customer_email": req.get("customer_email"), "payment_intent": null,
        "success_url": success_url, "cancel_url": req.get("cancel_url"),
    });
    st.sessions.push(Session {
        json: json.clone(),
        account: req.header("stripe-account").map(str::to_string),
        payment_intent: format!("pi_{}", hex(24)),
    });
    Ok(json)
}

/// The `i` of a `line_items[i]...` key.
fn line_index(key: &str) -> Option<usize> {
    let (i, _) = key.strip_prefix("line_items[")?.split_once(']')?;
    i.parse().ok()
}

fn create_account(st: &mut State, req: &StripeRequest) -> Result<Value, Failure> {
    let ty = req.get("type").unwrap_or("standard");
    let known = matches!(ty, "standard" | "express" | "custom");
    let message = "Invalid type: must be custom, express or standard.";
    ensure(known, "type", message)?;
    let account = json!({
        "id": format!("acct_{}", hex(16)), "object": "account", "type": ty,
        "country": req.get("country").unwrap_or("US"), "email": req.get("email"),
        "charges_enabled": false, "details_submitted": false, "payouts_enabled": false,
        "created": now(), "metadata": metadata(req),
    });
    st.accounts.push(account.clone());
    Ok(account)
}

fn create_account_link(st: &State, req: &StripeRequest) -> Result<Value, Failure> {
    let account = req.need("account")?;
    let known = st.accounts.iter().any(|a| a["id"] == account);
    ensure(known, "account", &format!("No such account: '{account}'"))?;
    let ty = req.need("type")?;
    let known = matches!(ty, "account_onboarding" | "account_update");
    let message = "Invalid type: must be account_onboarding or account_update.";
    ensure(known, "type", message)?;
    for param in ["return_url", "refresh_url"] {
        ensure(!req.need(param)?.is_empty(), param, "Must not be empty.")?;
    }
    let now = now();
    Ok(json!({
        "object": "account_link", "created": now, "expires_at": now + 300,
        "url": format!("https://connect.stripe.com/setup/s/{account}/{}", hex(12)),
    }))
}
