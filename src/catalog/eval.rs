//! Relevance evaluation of catalog search: labelled queries (`{"query": "...", "relevant":
//! {"<external_id>": grade 0-3}}` per line) scored by nDCG@10, recall@10 and MRR.

use super::search::PgCatalogSearch;
use agentpay_actors::MerchantId;
use agentpay_actors::ports::{SearchError, SearchMode, SearchQuery};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Results considered per query.
pub const K: usize = 10;

/// One labelled query.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledQuery {
    /// What a visitor typed.
    pub query: String,
    /// The kind of query (`exact`, `descriptive`, `synonym`, `misspelling`, `attribute`,
    /// `gift`, `multilingual`, …), for the per-kind table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its language (`en`, `es`, `fr`, `de`, `pt`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// `tune` (ranking choices were made on it) or `holdout` (only checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Relevant products by external id, graded 0 (not relevant) to 3 (exactly what was asked).
    pub relevant: BTreeMap<String, u8>,
}

/// Reads a JSON Lines file of labelled queries; errors name the line.
pub fn parse_queries(text: &str) -> Result<Vec<LabelledQuery>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let q: LabelledQuery =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        if let Some((id, g)) = q.relevant.iter().find(|(_, g)| **g > 3) {
            return Err(format!("line {}: grade {g} of {id:?} is not 0-3", i + 1));
        }
        out.push(q);
    }
    if out.is_empty() {
        return Err("the file has no queries".into());
    }
    Ok(out)
}

/// Scores of one query.
#[derive(Debug, Clone, Serialize)]
pub struct QueryScore {
    /// The query.
    pub query: String,
    /// Its kind, language and split, as labelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub split: Option<String>,
    /// nDCG@10 with gains 2^grade - 1.
    pub ndcg: f64,
    /// Relevant (grade >= 1) found in the top 10 over min(10, relevant).
    pub recall: f64,
    /// 1 / rank of the first relevant result (0 when none in the top 10).
    pub reciprocal_rank: f64,
    /// The top results' external ids.
    pub top: Vec<String>,
}

/// Scores of one mode over the whole set.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// The mode evaluated.
    pub mode: String,
    /// Queries.
    pub queries: usize,
    /// Mean nDCG@10.
    pub ndcg_at_10: f64,
    /// Mean recall@10.
    pub recall_at_10: f64,
    /// Mean reciprocal rank.
    pub mrr: f64,
    /// The same means over groups of queries: `kind:<kind>`, `lang:<lang>`, `split:<split>`
    /// and `non-english` (every language but `en`), in that order.
    pub groups: Vec<GroupScore>,
    /// Per query.
    pub per_query: Vec<QueryScore>,
}

/// Mean scores over one group of queries.
#[derive(Debug, Clone, Serialize)]
pub struct GroupScore {
    /// `kind:synonym`, `lang:es`, `split:holdout`, `non-english`.
    pub group: String,
    /// Queries in the group.
    pub queries: usize,
    /// Mean nDCG@10.
    pub ndcg_at_10: f64,
    /// Mean recall@10.
    pub recall_at_10: f64,
    /// Mean reciprocal rank.
    pub mrr: f64,
}

impl EvalReport {
    /// The group named `name`, if any query is in it.
    pub fn group(&self, name: &str) -> Option<&GroupScore> {
        self.groups.iter().find(|g| g.group == name)
    }
}

/// Means over `scores`.
fn group(name: String, scores: &[&QueryScore]) -> GroupScore {
    let n = scores.len().max(1) as f64;
    let mean = |f: fn(&QueryScore) -> f64| scores.iter().map(|s| f(s)).sum::<f64>() / n;
    GroupScore {
        group: name,
        queries: scores.len(),
        ndcg_at_10: mean(|s| s.ndcg),
        recall_at_10: mean(|s| s.recall),
        mrr: mean(|s| s.reciprocal_rank),
    }
}

/// The per-group means of a scored set (groups with no query are left out).
pub fn groups(per_query: &[QueryScore]) -> Vec<GroupScore> {
    let mut out = Vec::new();
    type Field = fn(&QueryScore) -> Option<&String>;
    let fields: [(&str, Field); 3] = [
        ("kind", |s| s.kind.as_ref()),
        ("lang", |s| s.lang.as_ref()),
        ("split", |s| s.split.as_ref()),
    ];
    for (prefix, field) in fields {
        let mut by: BTreeMap<&String, Vec<&QueryScore>> = BTreeMap::new();
        for s in per_query {
            if let Some(v) = field(s) {
                by.entry(v).or_default().push(s);
            }
        }
        for (value, scores) in by {
            out.push(group(format!("{prefix}:{value}"), &scores));
        }
    }
    let foreign: Vec<&QueryScore> = per_query
        .iter()
        .filter(|s| s.lang.as_deref().is_some_and(|l| l != "en"))
        .collect();
    if !foreign.is_empty() {
        out.push(group("non-english".into(), &foreign));
    }
    out
}

/// Scores one ranked list against its labels.
pub fn score(query: &LabelledQuery, ranked: &[String]) -> QueryScore {
    let gain = |g: u8| f64::from((1u32 << g) - 1);
    let discount = |i: usize| 1.0 / ((i + 2) as f64).log2();
    let grade = |id: &String| query.relevant.get(id).copied().unwrap_or(0);
    let top: Vec<String> = ranked.iter().take(K).cloned().collect();
    let dcg: f64 = top
        .iter()
        .enumerate()
        .map(|(i, id)| gain(grade(id)) * discount(i))
        .sum();
    let mut ideal: Vec<u8> = query
        .relevant
        .values()
        .copied()
        .filter(|g| *g > 0)
        .collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(K)
        .enumerate()
        .map(|(i, g)| gain(*g) * discount(i))
        .sum();
    let relevant = ideal.len();
    let found = top.iter().filter(|id| grade(id) > 0).count();
    let first = top.iter().position(|id| grade(id) > 0);
    QueryScore {
        query: query.query.clone(),
        kind: query.kind.clone(),
        lang: query.lang.clone(),
        split: query.split.clone(),
        ndcg: if idcg > 0.0 { dcg / idcg } else { 0.0 },
        recall: if relevant > 0 {
            found as f64 / relevant.min(K) as f64
        } else {
            0.0
        },
        reciprocal_rank: first.map(|r| 1.0 / (r + 1) as f64).unwrap_or(0.0),
        top,
    }
}

/// Runs every query through `search` in `mode` and scores it.
pub async fn evaluate(
    search: &PgCatalogSearch,
    merchant: MerchantId,
    queries: &[LabelledQuery],
    mode: SearchMode,
) -> Result<EvalReport, SearchError> {
    let mut per_query = Vec::with_capacity(queries.len());
    for q in queries {
        let hits = search
            .run(
                merchant,
                SearchQuery {
                    text: q.query.clone(),
                    filters: Default::default(),
                    limit: K,
                    mode,
                },
            )
            .await?;
        let ranked: Vec<String> = hits.into_iter().map(|h| h.external_id).collect();
        per_query.push(score(q, &ranked));
    }
    let n = per_query.len().max(1) as f64;
    let mean = |f: fn(&QueryScore) -> f64| per_query.iter().map(f).sum::<f64>() / n;
    Ok(EvalReport {
        mode: super::search::mode_name(mode).to_string(),
        queries: per_query.len(),
        ndcg_at_10: mean(|s| s.ndcg),
        recall_at_10: mean(|s| s.recall),
        mrr: mean(|s| s.reciprocal_rank),
        groups: groups(&per_query),
        per_query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_ranking_scores_one_and_a_miss_scores_zero() {
        let q = LabelledQuery {
            query: "q".into(),
            kind: None,
            lang: None,
            split: None,
            relevant: [("a".to_string(), 3u8), ("b".to_string(), 1u8)].into(),
        };
        let s = score(&q, &["a".into(), "b".into(), "c".into()]);
        assert!((s.ndcg - 1.0).abs() < 1e-9);
        assert_eq!((s.recall, s.reciprocal_rank), (1.0, 1.0));
        let s = score(&q, &["c".into(), "b".into()]);
        assert!(s.ndcg > 0.0 && s.ndcg < 0.2, "{}", s.ndcg);
        assert_eq!((s.recall, s.reciprocal_rank), (0.5, 0.5));
        let s = score(&q, &["x".into()]);
        assert_eq!((s.ndcg, s.recall, s.reciprocal_rank), (0.0, 0.0, 0.0));
    }
}
