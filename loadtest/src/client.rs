//! The client side of the wire: the [`Target`] server, HTTP clients bound to spread source
//! addresses, merchant key and conversation creation, and the WebSocket (connect, wait for
//! `hello`, read JSON events). Used by every scenario.

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://127.0.0.1:8080`.
    pub base_url: String,
    /// A publishable key; created with `admin_token` when absent.
    pub publishable_key: Option<String>,
    /// The server's admin token (to create a merchant when no key is given).
    pub admin_token: Option<String>,
    /// Source addresses to spread client sockets over (127.0.0.1 .. 127.0.0.N).
    pub sources: u8,
    /// The server's pid, to read its RSS and CPU from /proc.
    pub server_pid: Option<u32>,
}

/// A created conversation.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// Its id.
    pub id: String,
    /// Its visitor token.
    pub token: String,
    /// Its WebSocket URL.
    pub ws_url: String,
}

pub(crate) fn source(i: usize, sources: u8) -> IpAddr {
    let n = sources.max(1) as usize;
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % n) as u8))
}

/// Installs the TLS crypto provider reqwest needs when it is built with rustls (as it is when
/// this crate is built together with the server); the harness itself only speaks plain HTTP.
pub(crate) fn tls_ready() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub(crate) fn clients(sources: u8) -> anyhow::Result<Vec<reqwest::Client>> {
    tls_ready();
    (0..sources.max(1) as usize)
        .map(|i| {
            reqwest::Client::builder()
                .local_address(source(i, sources))
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(64)
                .build()
                .context("failed to build an HTTP client")
        })
        .collect()
}

/// Resolves the publishable key: the given one, or a new merchant's (needs the admin token).
pub async fn publishable_key(target: &Target) -> anyhow::Result<String> {
    Ok(merchant(target, None, None).await?.0)
}

/// Like [`publishable_key`]; a new merchant gets the products of `catalog` (a JSON array file,
/// such as data/catalog/dev-catalog.json) imported first.
/// The merchant a run talks to: its publishable key, and its secret key when the run created
/// it (with the admin token), importing `catalog` into it.
pub async fn merchant(
    target: &Target,
    catalog: Option<&std::path::Path>,
    agent_config: Option<&std::path::Path>,
) -> anyhow::Result<(String, Option<String>)> {
    if let Some(pk) = &target.publishable_key {
        return Ok((pk.clone(), None));
    }
    let Some(admin) = &target.admin_token else {
        bail!(
            "give --publishable-key, or --admin-token (AGENTPAY_ADMIN_TOKEN) to create a merchant"
        );
    };
    tls_ready();
    let body: Value = reqwest::Client::new()
        .post(format!("{}/v1/merchants", target.base_url))
        .bearer_auth(admin)
        .json(&json!({"name": "Load test store", "currency": "USD"}))
        .send()
        .await
        .context("could not reach the server")?
        .error_for_status()
        .context("creating the load-test merchant failed")?
        .json()
        .await?;
    if let Some(file) = catalog {
        let sk = body["secret_key"]["key"]
            .as_str()
            .context("the merchant response has no secret key")?;
        let products = std::fs::read(file)
            .with_context(|| format!("cannot read the catalog {}", file.display()))?;
        reqwest::Client::new()
            .post(format!(
                "{}/v1/products/import?policy=atomic",
                target.base_url
            ))
            .bearer_auth(sk)
            .header("content-type", "application/json")
            .body(products)
            .send()
            .await
            .context("could not reach the server")?
            .error_for_status()
            .context("importing the catalog failed")?;
        wait_indexed(target, sk).await?;
    }
    if let Some(file) = agent_config {
        let sk = body["secret_key"]["key"]
            .as_str()
            .context("the merchant response has no secret key")?;
        let config = std::fs::read(file)
            .with_context(|| format!("cannot read the agent configuration {}", file.display()))?;
        reqwest::Client::new()
            .put(format!("{}/v1/merchant/agent", target.base_url))
            .bearer_auth(sk)
            .header("content-type", "application/json")
            .body(config)
            .send()
            .await
            .context("could not reach the server")?
            .error_for_status()
            .context("setting the agent configuration failed")?;
    }
    let pk = body["publishable_key"]["key"]
        .as_str()
        .map(str::to_string)
        .context("the merchant response has no publishable key")?;
    Ok((pk, body["secret_key"]["key"].as_str().map(str::to_string)))
}

/// Waits until every product of the merchant has its vector for the server's embedding model
/// (`GET /v1/products/index`), as a store's catalog is before its visitors search it: a run
/// that starts while the indexer works would measure a half-indexed search.
async fn wait_indexed(target: &Target, secret_key: &str) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let status: Value = reqwest::Client::new()
            .get(format!("{}/v1/products/index", target.base_url))
            .bearer_auth(secret_key)
            .send()
            .await
            .context("could not reach the server")?
            .error_for_status()
            .context("reading the catalog index status failed")?
            .json()
            .await?;
        // Without an embedding model (`"model": null`) search is full-text only: nothing to
        // wait for.
        if status["complete"] == true || status["model"].is_null() {
            return Ok(());
        }
        if let Some(e) = status["last_error"].as_str() {
            anyhow::bail!("the server could not index the catalog: {e}");
        }
        if started.elapsed() > std::time::Duration::from_secs(1800) {
            anyhow::bail!("the catalog was not indexed within 30 minutes: {status}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// The model cost per 1,000 of `conversations`, in US dollars, by model and in total (`all`),
/// from the merchant's usage report (`GET /v1/merchant/usage?period=all`).
pub async fn cost_per_1000(
    target: &Target,
    secret_key: &str,
    conversations: usize,
) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
    let usage: Value = reqwest::Client::new()
        .get(format!("{}/v1/merchant/usage?period=all", target.base_url))
        .bearer_auth(secret_key)
        .send()
        .await
        .context("could not reach the server")?
        .error_for_status()
        .context("reading the merchant's usage failed")?
        .json()
        .await?;
    let per_1000 =
        |nanos: &Value| nanos.as_f64().unwrap_or(0.0) / 1e9 / conversations.max(1) as f64 * 1000.0;
    let mut out = std::collections::BTreeMap::new();
    for m in usage["models"].as_array().into_iter().flatten() {
        let name = m["model"].as_str().unwrap_or("?").to_string();
        out.insert(name, per_1000(&m["cost_nanos"]));
    }
    out.insert("all".into(), per_1000(&usage["total"]["cost_nanos"]));
    Ok(out)
}

pub(crate) async fn create_conversation(
    client: &reqwest::Client,
    base: &str,
    pk: &str,
) -> Result<Conversation, String> {
    let res = client
        .post(format!("{base}/v1/conversations"))
        .bearer_auth(pk)
        .json(&json!({}))
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "create_timeout".to_string()
            } else {
                "create_connect".to_string()
            }
        })?;
    if res.status().as_u16() != 201 {
        return Err(format!("create_http_{}", res.status().as_u16()));
    }
    let body: Value = res.json().await.map_err(|_| "create_body".to_string())?;
    Ok(Conversation {
        id: body["id"].as_str().unwrap_or_default().into(),
        token: body["visitor_token"].as_str().unwrap_or_default().into(),
        ws_url: body["ws_url"].as_str().unwrap_or_default().into(),
    })
}

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The WebSocket upgrade request for `url`, with the visitor token as a subprotocol (as the
/// widget sends it).
pub(crate) fn ws_request(
    url: &str,
    token: &str,
) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request, String> {
    let mut req = url
        .into_client_request()
        .map_err(|_| "ws_url".to_string())?;
    let protocols = format!("agentpay.v1, {token}");
    req.headers_mut().insert(
        "sec-websocket-protocol",
        protocols.parse().map_err(|_| "ws_token".to_string())?,
    );
    Ok(req)
}

pub(crate) async fn open_ws(c: &Conversation, from: IpAddr) -> Result<Ws, String> {
    let url = c.ws_url.replace("ws://", "");
    let host = url.split('/').next().unwrap_or_default();
    let addr: SocketAddr = host.parse().map_err(|_| "ws_url".to_string())?;
    let socket = tokio::net::TcpSocket::new_v4().map_err(|_| "socket".to_string())?;
    socket
        .bind(SocketAddr::new(from, 0))
        .map_err(|_| "bind".to_string())?;
    let tcp = socket
        .connect(addr)
        .await
        .map_err(|_| "ws_connect".to_string())?;
    // Like a browser: small frames leave at once.
    tcp.set_nodelay(true).map_err(|_| "nodelay".to_string())?;
    let req = ws_request(&c.ws_url, &c.token)?;
    let (mut ws, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await
            .map_err(|_| "ws_handshake".to_string())?;
    match next_event(&mut ws, Duration::from_secs(30)).await {
        Ok(ev) if ev["type"] == "hello" => Ok(ws),
        Ok(_) => Err("ws_no_hello".into()),
        Err(e) => Err(e),
    }
}

/// The next JSON event, answering nothing (tungstenite answers pings as it reads).
pub(crate) async fn next_event(ws: &mut Ws, within: Duration) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Err("timeout".into()),
            Ok(Some(Ok(Message::Text(t)))) => {
                return serde_json::from_str(&t).map_err(|_| "bad_frame".to_string());
            }
            Ok(Some(Ok(Message::Close(f)))) => {
                return Err(format!(
                    "closed_{}",
                    f.map(|f| u16::from(f.code)).unwrap_or(0)
                ));
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_))) | Ok(None) => return Err("ws_broken".into()),
        }
    }
}
