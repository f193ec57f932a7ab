//! The checks at the end of a chaos run, once every fault is healed: each conversation's
//! stored transcript (`GET /v1/conversations/{id}/messages` with the visitor token, paged with
//! `after`) and the cart a fresh connection shows, against the visitor's [`History`].
//!
//! What the engine promises (docs/protocol.md §4-§5, docs/architecture.md) and how it is
//! checked:
//! - `lost`: every acknowledged `client_id` is stored, at the `seq` it was acknowledged with;
//!   every durable event a visitor was shown (`user_message`, `assistant_start`,
//!   `assistant_end`) is stored at that `seq`, and a `hello` never reports less than was shown;
//! - `duplicates`: no `client_id` stored twice, no `seq` used twice, no message answered by two
//!   replies, no `client_id` acknowledged with two `seq`s, no `seq` shown as two events;
//! - `out_of_order`: the stored numbers are exactly 1..=`last_seq`; on each connection durable
//!   events came in increasing `seq` above the `after` it was opened with; deltas never
//!   skipped text; what was shown at a `seq` is what is stored there (same reply, same final
//!   text, same interrupted flag); a message sent after another was acknowledged is stored
//!   after it;
//!   each reply starts after the message it answers and ends after it starts, and replies
//!   answer messages in arrival order;
//! - `stuck`: no reply is left `streaming`; every stored visitor message the visitor saw
//!   acknowledged has a reply (complete or interrupted): one whose turn was lost to a crash or
//!   an outage is sent again by the visitor and answered then (protocol §5). Only a message
//!   whose ack never reached the visitor may stay unanswered after a crash or an outage; those
//!   are counted as excused;
//! - `carts`: every `cart` frame added up (line totals, total, item count); each change's
//!   result was the last acknowledged cart with the change applied; a fresh connection shows
//!   the last cart the visitor saw acknowledged (no frame meaning empty).
//!
//! `unverified` counts what could not be checked (a transcript that could not be read, a cart
//! left uncertain): a run that cannot check everything does not pass either.

use super::visitor::{CartKnowledge, CartView, History, Shown};
use crate::client::Ws;
use futures_util::SinkExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// The checks, in report order.
pub const CHECKS: [&str; 6] = [
    "lost",
    "duplicates",
    "out_of_order",
    "stuck",
    "carts",
    "unverified",
];

/// What the checks found for one conversation.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// Violations: (check, what).
    pub(crate) violations: Vec<(&'static str, String)>,
    /// Visitor messages left unanswered with an excuse (a crash or outage after they were
    /// sent).
    pub(crate) excused: u64,
    /// Stored visitor messages and replies, interrupted replies.
    pub(crate) stored_user: u64,
    /// Stored replies.
    pub(crate) stored_replies: u64,
    /// Stored replies marked interrupted.
    pub(crate) interrupted: u64,
}

/// A stored message, as the messages API gives it.
#[derive(Debug, Clone)]
struct Stored {
    id: String,
    seq: i64,
    end_seq: Option<i64>,
    role: String,
    client_id: Option<String>,
    reply_to_seq: Option<i64>,
    text: String,
    status: String,
}

impl Stored {
    fn parse(v: &Value) -> Self {
        Self {
            id: v["id"].as_str().unwrap_or_default().to_string(),
            seq: v["seq"].as_i64().unwrap_or(-1),
            end_seq: v["end_seq"].as_i64(),
            role: v["role"].as_str().unwrap_or_default().to_string(),
            client_id: v["client_id"].as_str().map(str::to_string),
            reply_to_seq: v["reply_to_seq"].as_i64(),
            text: v["text"].as_str().unwrap_or_default().to_string(),
            status: v["status"].as_str().unwrap_or_default().to_string(),
        }
    }
}

/// The transcript, all pages (a message on two pages is kept once, and must not differ), and
/// the conversation's `last_seq`.
async fn transcript(
    client: &reqwest::Client,
    base: &str,
    history: &History,
) -> anyhow::Result<(Vec<Stored>, i64)> {
    let c = &history.conversation;
    let mut after = 0i64;
    let mut by_id: BTreeMap<String, Value> = BTreeMap::new();
    let mut order = Vec::new();
    let mut last_seq = 0;
    for _ in 0..10_000 {
        let page: Value = client
            .get(format!(
                "{base}/v1/conversations/{}/messages?after={after}&limit=500",
                c.id
            ))
            .bearer_auth(&c.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        last_seq = page["last_seq"].as_i64().unwrap_or(0);
        let data = page["data"].as_array().cloned().unwrap_or_default();
        if data.is_empty() {
            break;
        }
        for m in data {
            let id = m["id"].as_str().unwrap_or_default().to_string();
            match by_id.get(&id) {
                Some(before) if *before != m => {
                    anyhow::bail!("message {id} differs between two pages");
                }
                Some(_) => {}
                None => {
                    order.push(id.clone());
                    by_id.insert(id, m);
                }
            }
        }
        match page["next_after"].as_i64() {
            Some(next) if next > after => after = next,
            _ => break,
        }
    }
    let stored = order
        .iter()
        .filter_map(|id| by_id.get(id))
        .map(Stored::parse)
        .collect();
    Ok((stored, last_seq))
}

/// The cart a fresh connection (no `after`) shows: its `cart` frame, or an empty cart when
/// none comes after `hello` (the frame is sent only for a non-empty cart) before the answer to
/// a `ping` and a grace period.
async fn fresh_cart(history: &History, source: IpAddr, grace: Duration) -> Result<Value, String> {
    let (mut ws, _) = super::visitor::connect(&history.conversation, 0, source).await?;
    let cart = read_cart(&mut ws, grace).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    cart
}

async fn read_cart(ws: &mut Ws, grace: Duration) -> Result<Value, String> {
    ws.send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .map_err(|_| "ping".to_string())?;
    let mut deadline = Instant::now() + Duration::from_secs(10);
    let mut ponged = false;
    loop {
        let ev =
            match crate::client::next_event(ws, deadline.saturating_duration_since(Instant::now()))
                .await
            {
                Ok(ev) => ev,
                Err(e) if e == "timeout" && ponged => {
                    return Ok(json!({"items": [], "total": null, "item_count": 0}));
                }
                Err(e) => return Err(e),
            };
        match ev["type"].as_str() {
            Some("cart") => return Ok(ev),
            Some("pong") if !ponged => {
                ponged = true;
                deadline = Instant::now() + grace;
            }
            _ => {}
        }
    }
}

/// Checks one conversation: reads the fresh cart (which also loads the conversation, closing
/// any reply a dead process left streaming), waits for replies in progress to end, then
/// compares the transcript with the history. `faults` are the intervals (since the run's start)
/// during which a crash or an outage could stop a reply from starting.
pub(crate) async fn check(
    client: &reqwest::Client,
    base: &str,
    history: &History,
    source: IpAddr,
    faults: &[(Duration, Duration)],
) -> Verdict {
    let mut v = Verdict::default();
    v.violations.extend(history.violations.iter().cloned());
    let id = history.conversation.id.clone();
    if let Some(why) = &history.fatal {
        v.violations.push(("unverified", format!("{id}: {why}")));
    }

    // The cart first: the connection loads the conversation.
    match &history.cart {
        CartKnowledge::Uncertain => v.violations.push((
            "unverified",
            format!("{id}: the visitor never learnt the result of its last cart change"),
        )),
        CartKnowledge::Known(expected) => {
            let mut outcome = None;
            // A non-empty cart's frame may trail the pong: look again, longer, before calling
            // it missing.
            for grace in [Duration::from_millis(300), Duration::from_secs(2)] {
                match fresh_cart(history, source, grace).await {
                    Ok(frame) => {
                        let parsed = CartView::parse(&frame);
                        let done = parsed
                            .as_ref()
                            .is_ok_and(|c| c.quantities == expected.quantities)
                            || parsed.is_err();
                        outcome = Some(parsed.map(|c| (c, frame)));
                        if done {
                            break;
                        }
                    }
                    Err(e) => outcome = Some(Err(format!("could not connect: {e}"))),
                }
            }
            match outcome {
                Some(Ok((shown, frame))) if shown.quantities != expected.quantities => {
                    v.violations.push((
                        "carts",
                        format!(
                            "{id}: a fresh connection shows {frame}, the last acknowledged cart was {:?}",
                            expected.quantities
                        ),
                    ));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) if e.starts_with("could not connect") => {
                    v.violations
                        .push(("unverified", format!("{id}: the cart: {e}")));
                }
                Some(Err(e)) => v.violations.push(("carts", format!("{id}: {e}"))),
                None => {}
            }
        }
    }

    // Replies still streaming get a moment to end.
    let mut stored = None;
    for attempt in 0..20 {
        match transcript(client, base, history).await {
            Ok((messages, last_seq)) => {
                let streaming = messages.iter().any(|m| m.status == "streaming");
                stored = Some((messages, last_seq));
                if !streaming {
                    break;
                }
            }
            Err(e) if attempt == 19 => {
                v.violations
                    .push(("unverified", format!("{id}: the transcript: {e:#}")));
                return v;
            }
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let Some((messages, last_seq)) = stored else {
        v.violations
            .push(("unverified", format!("{id}: no transcript")));
        return v;
    };
    compare(&mut v, history, &messages, last_seq, faults);
    v
}

fn compare(
    v: &mut Verdict,
    history: &History,
    messages: &[Stored],
    last_seq: i64,
    faults: &[(Duration, Duration)],
) {
    let id = &history.conversation.id;
    let users: Vec<&Stored> = messages.iter().filter(|m| m.role == "user").collect();
    let replies: Vec<&Stored> = messages.iter().filter(|m| m.role == "assistant").collect();
    v.stored_user = users.len() as u64;
    v.stored_replies = replies.len() as u64;
    v.interrupted = replies.iter().filter(|m| m.status == "interrupted").count() as u64;

    // Duplicates: client ids, sequence numbers, answers.
    let mut by_client: HashMap<&str, Vec<&Stored>> = HashMap::new();
    for m in &users {
        by_client
            .entry(m.client_id.as_deref().unwrap_or_default())
            .or_default()
            .push(m);
    }
    for (client_id, list) in &by_client {
        if list.len() > 1 {
            let seqs: Vec<i64> = list.iter().map(|m| m.seq).collect();
            v.violations.push((
                "duplicates",
                format!(
                    "{id}: client_id {client_id} stored {} times (seq {seqs:?})",
                    list.len()
                ),
            ));
        }
    }
    let mut used: BTreeMap<i64, u32> = BTreeMap::new();
    for m in messages {
        *used.entry(m.seq).or_insert(0) += 1;
        if let Some(end) = m.end_seq {
            *used.entry(end).or_insert(0) += 1;
        }
    }
    for (seq, n) in &used {
        if *n > 1 {
            v.violations
                .push(("duplicates", format!("{id}: seq {seq} used {n} times")));
        }
    }
    // A reply start stored while the store's answer was lost is an orphan: the message is sent
    // again and the orphan ends interrupted with no text before the real reply (protocol §4).
    // It is not a second answer.
    let mut answers: HashMap<i64, u32> = HashMap::new();
    for r in &replies {
        if let Some(to) = r.reply_to_seq {
            let orphan = r.status == "interrupted" && r.text.is_empty();
            *answers.entry(to).or_insert(0) += u32::from(!orphan);
        }
    }
    for (to, n) in &answers {
        if *n > 1 {
            v.violations.push((
                "duplicates",
                format!("{id}: the message at seq {to} was answered {n} times"),
            ));
        }
    }

    // Lost: acknowledged messages.
    for (client_id, seq) in &history.acks {
        match by_client.get(client_id.as_str()).and_then(|l| l.first()) {
            None => v.violations.push((
                "lost",
                format!("{id}: {client_id}, acknowledged as seq {seq}, is not stored"),
            )),
            Some(m) if m.seq != *seq => v.violations.push((
                "lost",
                format!(
                    "{id}: {client_id} was acknowledged as seq {seq} but is stored as seq {}",
                    m.seq
                ),
            )),
            Some(_) => {}
        }
    }

    // Lost or out of order: what was shown against what is stored there.
    let at_seq: HashMap<i64, &Stored> = messages.iter().map(|m| (m.seq, m)).collect();
    let at_end: HashMap<i64, &Stored> = messages
        .iter()
        .filter_map(|m| m.end_seq.map(|e| (e, m)))
        .collect();
    for (seq, shown) in &history.shown {
        let problem = match shown {
            Shown::User { client_id } => match at_seq.get(seq) {
                None => Some(("lost", "is not stored".to_string())),
                Some(m) if m.role != "user" || m.client_id.as_deref() != Some(client_id) => Some((
                    "out_of_order",
                    format!("holds {} {:?}", m.role, m.client_id),
                )),
                Some(_) => None,
            },
            Shown::Start {
                message_id,
                reply_to_seq,
            } => match at_seq.get(seq) {
                None => Some(("lost", "is not stored".to_string())),
                Some(m) if m.id != *message_id || m.reply_to_seq != Some(*reply_to_seq) => Some((
                    "out_of_order",
                    format!("holds {} {} replying to {:?}", m.role, m.id, m.reply_to_seq),
                )),
                Some(_) => None,
            },
            Shown::End {
                message_id,
                text,
                interrupted,
            } => match at_end.get(seq) {
                None => Some(("lost", "is not stored".to_string())),
                Some(m) if m.id != *message_id => {
                    Some(("out_of_order", format!("ends reply {}", m.id)))
                }
                Some(m) if m.text != *text => Some((
                    "out_of_order",
                    format!(
                        "stores other text ({} vs {} characters shown)",
                        m.text.len(),
                        text.len()
                    ),
                )),
                Some(m) if (m.status == "interrupted") != *interrupted => Some((
                    "out_of_order",
                    format!(
                        "is stored {} but was shown interrupted={interrupted}",
                        m.status
                    ),
                )),
                Some(_) => None,
            },
        };
        if let Some((check, what)) = problem {
            v.violations
                .push((check, format!("{id}: seq {seq} shown as {shown:?} {what}")));
        }
    }

    // Out of order: contiguous numbers, the visitor's sending order, replies after messages.
    let expected: BTreeSet<i64> = (1..=last_seq).collect();
    let present: BTreeSet<i64> = used.keys().copied().collect();
    if expected != present {
        let missing: Vec<_> = expected.difference(&present).take(10).collect();
        let extra: Vec<_> = present.difference(&expected).take(10).collect();
        v.violations.push((
            "out_of_order",
            format!(
                "{id}: stored seqs are not 1..={last_seq}: missing {missing:?}, beyond {extra:?}"
            ),
        ));
    }
    // A message first sent after an earlier one was acknowledged is stored after it. (Two
    // sent together may land either way when the first is refused and sent again.)
    let mut acked_before: Vec<(Duration, i64, &str)> = Vec::new();
    for sent in &history.sent {
        let Some(m) = by_client
            .get(sent.client_id.as_str())
            .and_then(|l| l.first())
        else {
            continue;
        };
        for (at, seq, before) in &acked_before {
            if *at <= sent.first_sent && m.seq <= *seq {
                v.violations.push((
                    "out_of_order",
                    format!(
                        "{id}: {} (seq {}) was sent after {before} (seq {seq}) was acknowledged",
                        sent.client_id, m.seq
                    ),
                ));
            }
        }
        if let Some(at) = sent.acked_at {
            acked_before.push((at, m.seq, sent.client_id.as_str()));
        }
    }
    let user_seqs: BTreeSet<i64> = users.iter().map(|m| m.seq).collect();
    let mut by_start: Vec<&&Stored> = replies.iter().collect();
    by_start.sort_by_key(|r| r.seq);
    // A message sent again after its turn was lost is answered when it comes again, after what
    // was answered meanwhile (protocol §4); the order holds among the others.
    let lost_turns: BTreeSet<i64> = users
        .iter()
        .filter(|m| {
            m.client_id
                .as_ref()
                .is_some_and(|c| history.resent_lost.contains(c))
        })
        .map(|m| m.seq)
        .collect();
    let mut last_answered = 0;
    for r in by_start {
        let to = r.reply_to_seq.unwrap_or(0);
        if !user_seqs.contains(&to) || to >= r.seq {
            v.violations.push((
                "out_of_order",
                format!(
                    "{id}: reply {} at seq {} answers seq {to}, not an earlier message",
                    r.id, r.seq
                ),
            ));
        }
        if r.end_seq.is_some_and(|e| e <= r.seq) {
            v.violations.push((
                "out_of_order",
                format!("{id}: reply {} ends before it starts", r.id),
            ));
        }
        if lost_turns.contains(&to) {
            continue;
        }
        if to < last_answered {
            v.violations.push((
                "out_of_order",
                format!(
                    "{id}: reply {} answers seq {to} after a reply to seq {last_answered}",
                    r.id
                ),
            ));
        }
        last_answered = last_answered.max(to);
    }

    // Stuck: streaming replies, unanswered messages.
    for r in &replies {
        if r.status == "streaming" || r.end_seq.is_none() {
            v.violations.push((
                "stuck",
                format!("{id}: reply {} (seq {}) is still streaming", r.id, r.seq),
            ));
        }
    }
    for m in &users {
        if answers.contains_key(&m.seq) {
            continue;
        }
        let client_id = m.client_id.clone().unwrap_or_default();
        let sent = history.sent.iter().find(|s| s.client_id == client_id);
        let sent_at = sent.map_or(Duration::ZERO, |s| s.first_sent);
        // A message the visitor saw acknowledged is answered, whatever happened: it sends an
        // unanswered one again after the faults, and the engine answers a message sent again
        // that has no reply. Only one whose ack never reached the visitor (who then stopped
        // asking) may be left by a crash or an outage.
        let acknowledged = sent.is_some_and(|s| s.acked.is_some());
        if !acknowledged && excused(sent_at, faults) {
            v.excused += 1;
        } else {
            v.violations.push((
                "stuck",
                format!(
                    "{id}: {client_id} (seq {}), sent {:.1} s into the run with no crash or outage after it, has no reply",
                    m.seq,
                    sent_at.as_secs_f64()
                ),
            ));
        }
    }
}

/// How long after a crash or an outage ends the server may still fail to start a reply (the
/// pool finding its broken connections, conversations reloading).
const FAULT_GRACE: Duration = Duration::from_secs(5);

/// Whether a message first sent at `sent_at` may stay unanswered: a crash or outage was under
/// way, or came, after it was sent (with a second's slack for the client's clock).
fn excused(sent_at: Duration, faults: &[(Duration, Duration)]) -> bool {
    let from = sent_at.saturating_sub(Duration::from_secs(1));
    faults.iter().any(|(_, end)| *end + FAULT_GRACE >= from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_excused_only_by_a_fault_after_it() {
        let s = Duration::from_secs;
        assert!(excused(s(10), &[(s(12), s(14))]));
        assert!(excused(s(10), &[(s(2), s(6))]), "within the grace");
        assert!(!excused(s(20), &[(s(2), s(6))]));
        assert!(!excused(s(20), &[]));
    }

    #[test]
    fn carts_must_add_up() {
        let ok = json!({"items": [{"external_id": "A", "quantity": 2,
            "unit_price": {"amount_minor": 150, "currency": "USD"},
            "line_total": {"amount_minor": 300, "currency": "USD"}}],
            "total": {"amount_minor": 300, "currency": "USD"}, "item_count": 2});
        assert_eq!(CartView::parse(&ok).unwrap().quantities["A"], 2);
        let mut bad = ok.clone();
        bad["total"]["amount_minor"] = json!(301);
        assert!(CartView::parse(&bad).is_err());
        let mut bad = ok.clone();
        bad["item_count"] = json!(1);
        assert!(CartView::parse(&bad).is_err());
        let empty = json!({"items": [], "total": null, "item_count": 0});
        assert!(CartView::parse(&empty).unwrap().quantities.is_empty());
    }
}
