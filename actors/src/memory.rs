//! An in-memory `ConversationStore` for actor tests. std `Mutex`: never held across `.await`.

use crate::ids::{ConversationId, MerchantId, MessageId};
use crate::ports::PortFuture;
use crate::ports::store::*;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Default)]
struct Conv {
    last_seq: i64,
    messages: Vec<StoredMessage>,
    state: crate::conversation::SessionState,
}

/// The store. `fail_writes` makes every write fail, to test error paths; `lose_start_answers`
/// stores a reply's start but answers `Unavailable` (a commit whose answer was lost);
/// `commit_delay` makes `append_and_start` answer that much later (a slow commit);
/// `read_delays` makes the next `messages_after` calls answer that much later, one delay each,
/// with what the store held when they were called (a slow read of an old snapshot).
#[derive(Default)]
pub struct MemoryStore {
    convs: Mutex<HashMap<ConversationId, Conv>>,
    pub fail_writes: AtomicBool,
    pub lose_start_answers: AtomicBool,
    pub commit_delay: Mutex<std::time::Duration>,
    pub read_delays: Mutex<std::collections::VecDeque<std::time::Duration>>,
}

impl MemoryStore {
    pub fn create(&self, id: ConversationId) {
        self.convs.lock().unwrap().insert(id, Conv::default());
    }

    pub fn state(&self, id: ConversationId) -> crate::conversation::SessionState {
        self.convs
            .lock()
            .unwrap()
            .get(&id)
            .map(|c| c.state.clone())
            .unwrap_or_default()
    }

    pub fn messages(&self, id: ConversationId) -> Vec<StoredMessage> {
        self.convs
            .lock()
            .unwrap()
            .get(&id)
            .map(|c| c.messages.clone())
            .unwrap_or_default()
    }

    fn write<T>(
        &self,
        id: ConversationId,
        f: impl FnOnce(&mut Conv) -> T,
    ) -> Result<T, PersistError> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(PersistError::Unavailable("injected".into()));
        }
        let mut convs = self.convs.lock().unwrap();
        let conv = convs.get_mut(&id).ok_or(PersistError::NotFound)?;
        Ok(f(conv))
    }
}

impl ConversationStore for MemoryStore {
    fn load(
        &self,
        id: ConversationId,
        history: usize,
    ) -> PortFuture<Result<LoadedConversation, PersistError>> {
        let res = self.write(id, |c| {
            let mut next = c.last_seq;
            for m in c.messages.iter_mut() {
                if m.status == MessageStatus::Streaming {
                    next += 1;
                    m.status = MessageStatus::Interrupted;
                    m.end_seq = Some(next);
                }
            }
            c.last_seq = next;
            let done: Vec<_> = c
                .messages
                .iter()
                .filter(|m| m.status != MessageStatus::Streaming)
                .cloned()
                .collect();
            LoadedConversation {
                merchant_id: MerchantId(uuid::Uuid::nil()),
                last_seq: c.last_seq,
                recent: done[done.len().saturating_sub(history)..].to_vec(),
                state: c.state.clone(),
            }
        });
        Box::pin(async move { res })
    }

    fn append_user_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        client_id: String,
        text: String,
    ) -> PortFuture<Result<AppendOutcome, PersistError>> {
        let res = self.write(id, |c| {
            if let Some(m) = c
                .messages
                .iter()
                .find(|m| m.client_id.as_deref() == Some(&client_id))
            {
                return AppendOutcome::Duplicate {
                    seq: m.seq,
                    message_id: m.id,
                };
            }
            c.last_seq += 1;
            c.messages.push(StoredMessage {
                id: message_id,
                seq: c.last_seq,
                end_seq: None,
                role: Role::User,
                client_id: Some(client_id),
                reply_to_seq: None,
                text,
                status: MessageStatus::Complete,
                usage: None,
                agent_version: None,
                created_at: chrono::Utc::now(),
                meta: Default::default(),
            });
            AppendOutcome::Stored {
                seq: c.last_seq,
                message_id,
            }
        });
        Box::pin(async move { res })
    }

    fn append_and_start(
        &self,
        id: ConversationId,
        message_id: MessageId,
        client_id: String,
        text: String,
        reply_id: MessageId,
        agent_version: Option<i64>,
    ) -> PortFuture<Result<(AppendOutcome, Option<i64>), PersistError>> {
        let appended = self.append_user_message(id, message_id, client_id, text);
        let started = |seq| self.start_assistant_message(id, reply_id, seq, agent_version);
        // The in-memory store answers synchronously; the futures are ready at once.
        let res = futures_util::FutureExt::now_or_never(appended)
            .unwrap_or(Err(PersistError::Unavailable("not ready".into())));
        let res = match res {
            Ok(AppendOutcome::Stored { seq, message_id }) => {
                let start = futures_util::FutureExt::now_or_never(started(seq))
                    .unwrap_or(Err(PersistError::Unavailable("not ready".into())));
                start.map(|s| (AppendOutcome::Stored { seq, message_id }, Some(s)))
            }
            Ok(dup) => Ok((dup, None)),
            Err(e) => Err(e),
        };
        let delay = *self.commit_delay.lock().unwrap();
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            res
        })
    }

    fn start_assistant_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        reply_to_seq: i64,
        agent_version: Option<i64>,
    ) -> PortFuture<Result<i64, PersistError>> {
        let res = self.write(id, |c| {
            c.last_seq += 1;
            c.messages.push(StoredMessage {
                id: message_id,
                seq: c.last_seq,
                end_seq: None,
                role: Role::Assistant,
                client_id: None,
                reply_to_seq: Some(reply_to_seq),
                text: String::new(),
                status: MessageStatus::Streaming,
                usage: None,
                agent_version,
                created_at: chrono::Utc::now(),
                meta: Default::default(),
            });
            c.last_seq
        });
        let res = match res {
            Ok(_) if self.lose_start_answers.load(Ordering::SeqCst) => Err(
                PersistError::Unavailable("the commit's answer was lost".into()),
            ),
            other => other,
        };
        Box::pin(async move { res })
    }

    fn finish_assistant_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        end: ReplyEnd,
    ) -> PortFuture<Result<i64, PersistError>> {
        let ReplyEnd {
            text,
            status,
            charges,
            state,
            meta,
        } = end;
        let res = self.write(id, |c| {
            c.last_seq += 1;
            let seq = c.last_seq;
            if let Some(m) = c.messages.iter_mut().find(|m| m.id == message_id) {
                m.meta = meta;
                m.text = text;
                m.status = status;
                m.usage = crate::ports::metering::total_usage(&charges);
                m.end_seq = Some(seq);
            }
            if let Some(state) = state {
                c.state = state;
            }
            seq
        });
        Box::pin(async move { res })
    }

    fn save_state(
        &self,
        id: ConversationId,
        state: crate::conversation::SessionState,
    ) -> PortFuture<Result<(), PersistError>> {
        let res = self.write(id, |c| c.state = state);
        Box::pin(async move { res })
    }

    fn messages_after(
        &self,
        id: ConversationId,
        after: i64,
        limit: usize,
    ) -> PortFuture<Result<Vec<StoredMessage>, PersistError>> {
        let res = self.write(id, |c| {
            c.messages
                .iter()
                .filter(|m| m.seq > after || m.end_seq.is_some_and(|e| e > after))
                .take(limit)
                .cloned()
                .collect()
        });
        let delay = self.read_delays.lock().unwrap().pop_front();
        Box::pin(async move {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            res
        })
    }
}

/// A fixed agent configuration per merchant; `set` changes it and bumps the version.
#[derive(Default)]
pub struct MemoryAgentStore {
    configs: Mutex<HashMap<MerchantId, crate::merchant::AgentSnapshot>>,
}

impl MemoryAgentStore {
    pub fn set(&self, merchant: MerchantId, config: crate::agent::AgentConfig) {
        let mut m = self.configs.lock().unwrap();
        let version = m.get(&merchant).map(|s| s.version + 1).unwrap_or(1);
        m.insert(
            merchant,
            crate::merchant::AgentSnapshot {
                version,
                store_name: "Test Store".into(),
                config,
            },
        );
    }
}

impl crate::merchant::AgentConfigStore for MemoryAgentStore {
    fn load(
        &self,
        merchant: MerchantId,
    ) -> PortFuture<Result<crate::merchant::AgentSnapshot, PersistError>> {
        let s = self
            .configs
            .lock()
            .unwrap()
            .get(&merchant)
            .cloned()
            .unwrap_or(crate::merchant::AgentSnapshot {
                version: 0,
                store_name: "Test Store".into(),
                config: crate::agent::AgentConfig::default(),
            });
        Box::pin(async move { Ok(s) })
    }
}

/// The development catalog (`data/catalog/dev-catalog.json`) in memory, for one merchant: a
/// naive word-match search (title, tags, category, description; words matched without a plural
/// `s`) with the price and attribute filters, and product details. Enough to test the
/// agent's behaviour without Postgres; the real ranking is tested in `agentpay`.
pub struct MemoryCatalog {
    pub merchant: MerchantId,
    products: Vec<crate::ports::ProductDetail>,
}

impl MemoryCatalog {
    pub fn dev(merchant: MerchantId) -> Self {
        let raw: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../data/catalog/dev-catalog.json")).unwrap();
        let usd: crate::Currency = "USD".parse().unwrap();
        let money = |a: i64| crate::Money {
            amount_minor: a,
            currency: usd,
        };
        let products = raw
            .iter()
            .filter(|p| p["active"].as_bool().unwrap_or(true))
            .map(|p| {
                let price = p["price"].as_i64().unwrap();
                let strings = |v: &serde_json::Value| -> Vec<String> {
                    v.as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let variants: Vec<crate::ports::VariantDetail> = p["variants"]
                    .as_array()
                    .map(|vs| {
                        vs.iter()
                            .map(|v| crate::ports::VariantDetail {
                                sku: v["sku"].as_str().unwrap().into(),
                                attributes: serde_json::from_value(v["attributes"].clone())
                                    .unwrap_or_default(),
                                price: money(v["price"].as_i64().unwrap_or(price)),
                                stock: v["stock"].as_i64().map(|s| s as i32),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let stock = p["stock"].as_i64().map(|s| s as i32);
                crate::ports::ProductDetail {
                    hit: crate::ports::ProductHit {
                        external_id: p["external_id"].as_str().unwrap().into(),
                        title: p["title"].as_str().unwrap().into(),
                        brand: p["brand"].as_str().map(String::from),
                        category: p["category"]
                            .as_str()
                            .unwrap_or("")
                            .split(" > ")
                            .map(String::from)
                            .collect(),
                        price: money(price),
                        compare_at_price: p["compare_at_price"].as_i64().map(money),
                        stock,
                        in_stock: p["in_stock"]
                            .as_bool()
                            .unwrap_or(stock.is_none_or(|s| s > 0)),
                        url: p["url"].as_str().map(String::from),
                        image_url: strings(&p["image_urls"]).into_iter().next(),
                        score: 0.0,
                    },
                    description: p["description"].as_str().unwrap_or("").into(),
                    tags: strings(&p["tags"]),
                    attributes: serde_json::from_value(p["attributes"].clone()).unwrap_or_default(),
                    variants,
                }
            })
            .collect();
        Self { merchant, products }
    }

    /// Changes a product's price (a catalog update).
    pub fn reprice(&mut self, external_id: &str, amount_minor: i64) {
        for p in &mut self.products {
            if p.hit.external_id == external_id {
                p.hit.price.amount_minor = amount_minor;
                for v in &mut p.variants {
                    v.price.amount_minor = amount_minor;
                }
            }
        }
    }

    /// Stops selling a product.
    pub fn remove(&mut self, external_id: &str) {
        self.products.retain(|p| p.hit.external_id != external_id);
    }
}

impl crate::ports::CatalogSearch for MemoryCatalog {
    fn search(
        &self,
        merchant: MerchantId,
        query: crate::ports::SearchQuery,
    ) -> PortFuture<Result<Vec<crate::ports::ProductHit>, crate::ports::SearchError>> {
        let stem = |w: &str| {
            let w = w.to_lowercase();
            w.strip_suffix('s').map(String::from).unwrap_or(w)
        };
        let words: Vec<String> = query
            .text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(stem)
            .collect();
        let f = &query.filters;
        let mut scored: Vec<(usize, &crate::ports::ProductDetail)> = self
            .products
            .iter()
            .filter(|_| merchant == self.merchant)
            .filter(|p| f.max_price.is_none_or(|m| p.hit.price.amount_minor <= m))
            .filter(|p| f.min_price.is_none_or(|m| p.hit.price.amount_minor >= m))
            .filter(|p| {
                f.attributes.iter().all(|(k, v)| {
                    p.variants.iter().any(|var| {
                        var.attributes
                            .get(k)
                            .is_some_and(|x| x.eq_ignore_ascii_case(v))
                    })
                })
            })
            .map(|p| {
                let hay = format!(
                    "{} {} {} {}",
                    p.hit.title,
                    p.tags.join(" "),
                    p.hit.category.join(" "),
                    p.description
                );
                let hay: Vec<String> = hay
                    .split(|c: char| !c.is_alphanumeric())
                    .map(stem)
                    .collect();
                let title: Vec<String> = p
                    .hit
                    .title
                    .split(|c: char| !c.is_alphanumeric())
                    .map(stem)
                    .collect();
                let score = words
                    .iter()
                    .map(|w| usize::from(hay.contains(w)) + 2 * usize::from(title.contains(w)))
                    .sum();
                (score, p)
            })
            .filter(|(s, _)| *s > 0)
            .collect();
        scored.sort_by_key(|s| std::cmp::Reverse(s.0));
        let hits = scored
            .into_iter()
            .take(query.limit)
            .map(|(_, p)| p.hit.clone())
            .collect();
        Box::pin(async move { Ok(hits) })
    }

    fn products(
        &self,
        merchant: MerchantId,
        external_ids: Vec<String>,
    ) -> PortFuture<Result<Vec<crate::ports::ProductDetail>, crate::ports::SearchError>> {
        let found = self
            .products
            .iter()
            .filter(|p| merchant == self.merchant && external_ids.contains(&p.hit.external_id))
            .cloned()
            .collect();
        Box::pin(async move { Ok(found) })
    }
}
