//! The statements for a batch of one: the same writes as `batch.rs`, with scalar parameters.
//! Most writes find their lane idle and go alone, and for one row the `unnest` form costs about
//! twice as much in Postgres (0.75 against 0.36 ms for an append, prepared, measured on this
//! machine), which showed as +1.5 ms on every turn at low load (docs/benchmarks.md).

use super::batch::{Done, Outcome, Request, WriteError};
use crate::store::conversations::rows::{CONVERSATION_COLUMNS, conversation_from_row};
use agentpay_actors::ids::MessageId;
use agentpay_actors::ports::metering::total_usage;
use agentpay_actors::ports::store::AppendOutcome;
use sqlx::PgConnection;
use uuid::Uuid;

/// A new conversation (see `batch::create`).
pub(super) async fn create(
    conn: &mut PgConnection,
    request: &Request,
) -> Result<Outcome, sqlx::Error> {
    let Request::Create {
        merchant,
        token_hash,
        origin,
    } = request
    else {
        return Err(sqlx::Error::Protocol("not a create".into()));
    };
    let sql = format!(
        "INSERT INTO conversations (id, merchant_id, visitor_token_hash, origin) \
         VALUES ($1, $2, $3, $4) RETURNING {CONVERSATION_COLUMNS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::new_v4())
        .bind(merchant.0)
        .bind(&token_hash[..])
        .bind(origin.as_deref())
        .fetch_one(&mut *conn)
        .await?;
    Ok(Ok(Done::Created(conversation_from_row(&row)?)))
}

/// A visitor message, with its reply's start when `reply` is given (see `batch::append`).
pub(super) async fn append(
    conn: &mut PgConnection,
    request: &Request,
) -> Result<Outcome, sqlx::Error> {
    let Request::Append {
        conversation,
        message_id,
        client_id,
        text,
        reply,
    } = request
    else {
        return Err(sqlx::Error::Protocol("not an append".into()));
    };
    let row: Option<(bool, i64, Uuid)> = sqlx::query_as(
        "WITH dup AS ( \
             SELECT seq, id FROM messages WHERE conversation_id = $1 AND client_id = $2 \
         ), bump AS ( \
             UPDATE conversations \
             SET last_seq = last_seq + CASE WHEN $5::uuid IS NULL THEN 1 ELSE 2 END, \
                 updated_at = now() \
             WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM dup) \
             RETURNING last_seq \
         ), user_seq AS ( \
             SELECT CASE WHEN $5::uuid IS NULL THEN last_seq ELSE last_seq - 1 END AS seq \
             FROM bump \
         ), ins AS ( \
             INSERT INTO messages (id, conversation_id, seq, role, client_id, text, status, \
                                   reply_to_seq, agent_version) \
             SELECT $3, $1, u.seq, 'user', $2, $4, 'complete', NULL, NULL FROM user_seq u \
             UNION ALL \
             SELECT $5, $1, u.seq + 1, 'assistant', NULL, '', 'streaming', u.seq, $6 \
             FROM user_seq u WHERE $5::uuid IS NOT NULL \
         ) \
         SELECT true, seq, id FROM dup \
         UNION ALL SELECT false, seq, $3 FROM user_seq",
    )
    .bind(conversation.0)
    .bind(client_id.as_str())
    .bind(message_id.0)
    .bind(text.as_str())
    .bind(reply.map(|r| r.0.0))
    .bind(reply.and_then(|r| r.1))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        None => Err(WriteError::NotFound),
        Some((true, seq, existing)) => Ok(Done::Appended(
            AppendOutcome::Duplicate {
                seq,
                message_id: MessageId(existing),
            },
            None,
        )),
        Some((false, seq, _)) => Ok(Done::Appended(
            AppendOutcome::Stored {
                seq,
                message_id: *message_id,
            },
            reply.map(|_| seq + 1),
        )),
    })
}

/// A reply's end with its turn's totals, one `model_calls` row per charge and the session state
/// when it changed (see `batch::finish`).
pub(super) async fn finish(
    conn: &mut PgConnection,
    request: &Request,
) -> Result<Outcome, sqlx::Error> {
    let Request::Finish {
        conversation,
        message_id,
        text,
        status,
        charges,
        state,
        meta,
    } = request
    else {
        return Err(sqlx::Error::Protocol("not a finish".into()));
    };
    let tokens = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let usage = total_usage(charges)
        .map(|u| serde_json::to_string(&u))
        .transpose()
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    let last = charges.last();
    let cost = last.map(|_| {
        charges
            .iter()
            .fold(0i64, |sum, c| sum.saturating_add(c.cost_nanos))
    });
    let indexes: Vec<i32> = (0..charges.len())
        .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
        .collect();
    let seq: Option<i64> = sqlx::query_scalar(
        "WITH bump AS ( \
             UPDATE conversations c SET last_seq = c.last_seq + 1, updated_at = now(), \
                 state = COALESCE($9::jsonb, c.state) \
             WHERE c.id = $1 AND EXISTS ( \
                 SELECT 1 FROM messages m WHERE m.conversation_id = $1 AND m.id = $2) \
             RETURNING c.last_seq, c.merchant_id \
         ), calls AS ( \
             INSERT INTO model_calls (message_id, call_index, conversation_id, merchant_id, \
                 provider, model, input_tokens, output_tokens, cache_write_tokens, \
                 cache_read_tokens, cost_nanos) \
             SELECT $2, k.call_index, $1, b.merchant_id, k.provider, k.model, \
                    k.input_tokens, k.output_tokens, k.cache_write_tokens, \
                    k.cache_read_tokens, k.cost_nanos \
             FROM unnest($10::int4[], $11::text[], $12::text[], $13::int8[], $14::int8[], \
                         $15::int8[], $16::int8[], $17::int8[]) \
                 AS k(call_index, provider, model, input_tokens, output_tokens, \
                      cache_write_tokens, cache_read_tokens, cost_nanos) \
             CROSS JOIN bump b \
         ) \
         UPDATE messages m SET text = $3, status = $4, usage = $5::jsonb, \
             end_seq = b.last_seq, completed_at = now(), provider = $6, model = $7, \
             cost_nanos = $8, meta = $18::jsonb \
         FROM bump b WHERE m.conversation_id = $1 AND m.id = $2 \
         RETURNING b.last_seq",
    )
    .bind(conversation.0)
    .bind(message_id.0)
    .bind(text.as_str())
    .bind(status.as_str())
    .bind(usage)
    .bind(last.map(|c| c.provider.as_str()))
    .bind(last.map(|c| c.model.as_str()))
    .bind(cost)
    .bind(state.as_deref())
    .bind(indexes)
    .bind(
        charges
            .iter()
            .map(|c| c.provider.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(charges.iter().map(|c| c.model.as_str()).collect::<Vec<_>>())
    .bind(
        charges
            .iter()
            .map(|c| tokens(c.usage.input_tokens))
            .collect::<Vec<_>>(),
    )
    .bind(
        charges
            .iter()
            .map(|c| tokens(c.usage.output_tokens))
            .collect::<Vec<_>>(),
    )
    .bind(
        charges
            .iter()
            .map(|c| tokens(c.usage.cache_write_tokens))
            .collect::<Vec<_>>(),
    )
    .bind(
        charges
            .iter()
            .map(|c| tokens(c.usage.cache_read_tokens))
            .collect::<Vec<_>>(),
    )
    .bind(charges.iter().map(|c| c.cost_nanos).collect::<Vec<_>>())
    .bind(meta.as_deref())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(seq.map(Done::Seq).ok_or(WriteError::NotFound))
}
