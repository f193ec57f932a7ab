//! Token counts and the two prompt-cache models: Anthropic's explicit `cache_control`
//! breakpoints and OpenAI's automatic prefix caching in 128-token steps.

use super::State;
use serde_json::{Value, json};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::Hasher;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Hashes of prompt prefixes with an expiry, bounded: beyond `capacity` entries the least
/// recently written go first.
pub(super) struct PrefixCache {
    ttl: Duration,
    capacity: usize,
    /// Expiry and write stamp by key.
    entries: HashMap<u64, (Instant, u64)>,
    /// Keys in write order with their stamp; an entry whose stamp changed since is skipped.
    order: VecDeque<(u64, u64)>,
    stamp: u64,
}

impl PrefixCache {
    pub(super) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
            stamp: 0,
        }
    }

    /// Whether `key` is in the cache and not expired at `now`.
    fn live(&mut self, key: u64, now: Instant) -> bool {
        match self.entries.get(&key) {
            Some((expires, _)) if *expires > now => true,
            Some(_) => {
                self.entries.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Writes (or refreshes) `key`, expiring `ttl` after `now`.
    fn put(&mut self, key: u64, now: Instant) {
        self.stamp += 1;
        self.entries.insert(key, (now + self.ttl, self.stamp));
        self.order.push_back((key, self.stamp));
        while self.entries.len() > self.capacity {
            let Some((k, stamp)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&k).is_some_and(|e| e.1 == stamp) {
                self.entries.remove(&k);
            }
        }
        if self.order.len() > 2 * self.capacity {
            let entries = &self.entries;
            self.order
                .retain(|(k, stamp)| entries.get(k).is_some_and(|e| e.1 == *stamp));
        }
    }
}

/// A hasher for prefixes of one model's prompts.
fn prefix_hasher(model: &str) -> DefaultHasher {
    let mut h = DefaultHasher::new();
    h.write(model.as_bytes());
    h.write(&[0xff]);
    h
}

/// Tokens of `chars` characters: `ceil(chars / 3.5)` (the fake has no tokenizer).
pub(super) fn tokens_of_chars(chars: usize) -> u64 {
    (chars as u64 * 2).div_ceil(7)
}

/// Tokens of `text`: `ceil(chars / 3.5)`, chars being Unicode scalar values.
pub(super) fn tokens(text: &str) -> u64 {
    tokens_of_chars(text.chars().count())
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages.

/// A block serialized without its `cache_control`, and whether it had one (a breakpoint).
fn without_cache_control(block: &Value) -> (String, bool) {
    match block.get("cache_control") {
        Some(_) => {
            let mut b = block.clone();
            if let Some(map) = b.as_object_mut() {
                map.remove("cache_control");
            }
            (b.to_string(), true)
        }
        None => (block.to_string(), false),
    }
}

/// The prompt text in cache order (tools, system, messages) as pieces, each with whether a
/// breakpoint follows it.
pub(super) fn anthropic_prompt(body: &Value) -> Vec<(String, bool)> {
    let mut pieces = Vec::new();
    for tool in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        pieces.push(without_cache_control(tool));
    }
    match body.get("system") {
        Some(Value::String(s)) => pieces.push((s.clone(), false)),
        Some(Value::Array(blocks)) => {
            for block in blocks {
                let breakpoint = block.get("cache_control").is_some();
                match block.get("text").and_then(Value::as_str) {
                    Some(text) => pieces.push((text.to_string(), breakpoint)),
                    None => pieces.push(without_cache_control(block)),
                }
            }
        }
        _ => {}
    }
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match message.get("content") {
            Some(Value::Array(blocks)) => {
                let role = message.get("role").cloned().unwrap_or(Value::Null);
                pieces.push((json!({ "role": role }).to_string(), false));
                for block in blocks {
                    pieces.push(without_cache_control(block));
                }
            }
            _ => pieces.push(without_cache_control(message)),
        }
    }
    pieces
}

/// Anthropic usage of a prompt: `(input, cache write, cache read)` tokens.
pub(super) fn anthropic_usage(
    state: &State,
    model: &str,
    prompt: &[(String, bool)],
) -> (u64, u64, u64) {
    let minimum = if model.contains("haiku") { 2048 } else { 1024 };
    let mut hasher = prefix_hasher(model);
    let mut chars = 0;
    // Cacheable breakpoint prefixes, shortest first: their tokens and key.
    let mut points: Vec<(u64, u64)> = Vec::new();
    for (text, breakpoint) in prompt {
        hasher.write(text.as_bytes());
        chars += text.chars().count();
        if *breakpoint && tokens_of_chars(chars) >= minimum {
            points.push((tokens_of_chars(chars), hasher.finish()));
        }
    }
    let total = tokens_of_chars(chars);
    let Some(&(longest, _)) = points.last() else {
        return (total, 0, 0);
    };
    let now = Instant::now();
    let mut cache = lock(&state.anthropic);
    let hit = points.iter().rposition(|&(_, key)| cache.live(key, now));
    let read = hit.map_or(0, |i| points[i].0);
    let first_write = hit.map_or(0, |i| {
        cache.put(points[i].1, now);
        i + 1
    });
    for &(_, key) in &points[first_write..] {
        cache.put(key, now);
    }
    let write = longest - read;
    (total - read - write, write, read)
}

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions.

/// The prompt text: the tools, then the messages (the system prompt first among them), each
/// as JSON.
pub(super) fn openai_prompt(body: &Value, messages: &[Value]) -> String {
    let mut text = String::new();
    for tool in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        text.push_str(&tool.to_string());
    }
    for message in messages {
        text.push_str(&message.to_string());
    }
    text
}

/// The tokens OpenAI would report cached for `prompt`: the longest prefix seen before (same
/// model, within 10 minutes) in whole 128-token steps from 1024; 0 below 1024 tokens. Every
/// step boundary of `prompt` is remembered.
pub(super) fn openai_cached(state: &State, model: &str, prompt: &str) -> u64 {
    let total_chars = prompt.chars().count();
    if tokens_of_chars(total_chars) < 1024 {
        return 0;
    }
    let mut keys: Vec<(u64, u64)> = Vec::new();
    let mut hasher = prefix_hasher(model);
    let mut step = 1024u64;
    let mut boundary = usize::try_from(step * 7 / 2).unwrap_or(usize::MAX);
    let mut from = 0;
    let positions = prompt
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(prompt.len()));
    for (count, byte) in positions.enumerate() {
        if count == boundary {
            hasher.write(prompt.as_bytes().get(from..byte).unwrap_or_default());
            from = byte;
            keys.push((step, hasher.finish()));
            step += 128;
            boundary = usize::try_from(step * 7 / 2).unwrap_or(usize::MAX);
        }
    }
    let now = Instant::now();
    let mut cache = lock(&state.openai);
    let cached = keys
        .iter()
        .rev()
        .find(|&&(_, key)| cache.live(key, now))
        .map_or(0, |&(tokens, _)| tokens);
    for &(_, key) in &keys {
        cache.put(key, now);
    }
    cached
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_cache_is_bounded_and_expires() {
        let mut cache = PrefixCache::new(Duration::from_secs(1), 3);
        let now = Instant::now();
        for key in 0..5 {
            cache.put(key, now);
        }
        assert!(!cache.live(0, now) && !cache.live(1, now));
        assert!(cache.live(2, now) && cache.live(4, now));
        // A rewritten key is newest again.
        cache.put(2, now);
        cache.put(5, now);
        assert!(!cache.live(3, now) && cache.live(2, now));
        assert!(!cache.live(2, now + Duration::from_secs(2)));
        for key in 0..100 {
            cache.put(key % 2, now);
        }
        assert!(cache.order.len() <= 6);
    }
}
