//! Opening a visitor's WebSocket: from its own source address, with `?after=`, up to `hello`.

use crate::client::{Conversation, Ws, ws_request};
use serde_json::Value;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Opens the conversation's WebSocket from `source` (`?after=` when `after` > 0) and reads its
/// `hello`.
pub(crate) async fn connect(
    c: &Conversation,
    after: i64,
    source: IpAddr,
) -> Result<(Ws, Value), String> {
    let url = if after > 0 {
        format!("{}?after={after}", c.ws_url)
    } else {
        c.ws_url.clone()
    };
    let host = c
        .ws_url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap_or_default();
    let addr: SocketAddr = host.parse().map_err(|_| "ws_url".to_string())?;
    let socket = tokio::net::TcpSocket::new_v4().map_err(|_| "socket".to_string())?;
    socket
        .bind(SocketAddr::new(source, 0))
        .map_err(|_| "bind".to_string())?;
    let tcp = tokio::time::timeout(Duration::from_secs(5), socket.connect(addr))
        .await
        .map_err(|_| "connect_timeout".to_string())?
        .map_err(|_| "refused".to_string())?;
    tcp.set_nodelay(true).map_err(|_| "nodelay".to_string())?;
    let req = ws_request(&url, &c.token)?;
    let handshake =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp));
    let (mut ws, _) = tokio::time::timeout(Duration::from_secs(10), handshake)
        .await
        .map_err(|_| "handshake_timeout".to_string())?
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(r) => {
                format!("http_{}", r.status().as_u16())
            }
            _ => "handshake".to_string(),
        })?;
    match crate::client::next_event(&mut ws, Duration::from_secs(10)).await {
        Ok(ev) if ev["type"] == "hello" => Ok((ws, ev)),
        Ok(_) => Err("no_hello".into()),
        Err(e) => Err(e),
    }
}
