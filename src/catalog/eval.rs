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
    /// Per query.
    pub per_query: Vec<QueryScore>,
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
