//! A batch of conversation writes stored with one statement per kind (`unnest` arrays). A batch
//! of one kind is that single statement, committed on its own (one round trip, the common case
//! at low load); a batch of several kinds runs its statements in one transaction.
//!
//! Writes refused for their own reason (a conversation or message that does not exist) get that
//! outcome without failing the batch. Any database error fails the whole batch (rolled back);
//! the lane then stores its writes one by one.
//!
//! The statements may run in any order: a batch never holds two writes of one conversation.

use crate::store::conversations::rows::{
    CONVERSATION_COLUMNS, Conversation, conversation_from_row,
};
use agentpay_actors::ids::{ConversationId, MerchantId, MessageId};
use agentpay_actors::ports::metering::{Charge, total_usage};
use agentpay_actors::ports::store::{AppendOutcome, MessageStatus};
use sqlx::{Acquire, PgConnection, PgPool, Row};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// One durable write.
#[derive(Debug)]
pub(super) enum Request {
    /// A new conversation.
    Create {
        merchant: MerchantId,
        token_hash: [u8; 32],
        origin: Option<String>,
    },
    /// A visitor message and, with `reply`, its reply's start.
    Append {
        conversation: ConversationId,
        message_id: MessageId,
        client_id: String,
        text: String,
        reply: Option<(MessageId, Option<i64>)>,
    },
    /// A reply's start.
    Start {
        conversation: ConversationId,
        message_id: MessageId,
        reply_to_seq: i64,
        agent_version: Option<i64>,
    },
    /// A reply's end with its turn's charges and, when changed, the session state (a JSON
    /// document).
    Finish {
        conversation: ConversationId,
        message_id: MessageId,
        text: String,
        status: MessageStatus,
        charges: Vec<Charge>,
        state: Option<String>,
        /// What the reply showed besides its text (a JSON document), when anything.
        meta: Option<String>,
    },
    /// The session state (a JSON document) outside a turn.
    SaveState {
        conversation: ConversationId,
        state: String,
    },
}

impl Request {
    /// The conversation written, `None` for a creation.
    pub(super) fn conversation(&self) -> Option<ConversationId> {
        match self {
            Self::Create { .. } => None,
            Self::Append { conversation, .. }
            | Self::Start { conversation, .. }
            | Self::Finish { conversation, .. }
            | Self::SaveState { conversation, .. } => Some(*conversation),
        }
    }

    /// Its kind: one statement per kind.
    fn kind(&self) -> Kind {
        match self {
            Self::Create { .. } => Kind::Create,
            Self::Append { .. } => Kind::Append,
            Self::Start { .. } => Kind::Start,
            Self::Finish { .. } => Kind::Finish,
            Self::SaveState { .. } => Kind::SaveState,
        }
    }
}

/// The kinds of write, each stored with one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Create,
    Append,
    Start,
    Finish,
    SaveState,
}

/// What a stored write returns.
#[derive(Debug)]
pub(super) enum Done {
    /// The new conversation.
    Created(Conversation),
    /// The append's outcome and its reply's start sequence number.
    Appended(AppendOutcome, Option<i64>),
    /// A reply's start or end sequence number.
    Seq(i64),
    /// The state is stored.
    Saved,
}

/// Why a write was not stored.
#[derive(Debug)]
pub(super) enum WriteError {
    /// Its conversation (or, for a reply's end, its message) does not exist.
    NotFound,
    /// The database failed or refused it.
    Database(sqlx::Error),
    /// The writer stopped before answering (the runtime is shutting down).
    Stopped,
}

/// A write's outcome, sent to its caller.
pub(super) type Outcome = Result<Done, WriteError>;

/// Stores `requests`: one statement per kind present, in one transaction when there are
/// several. Answers each request in order.
pub(super) async fn store(
    pool: &PgPool,
    requests: &[&Request],
) -> Result<Vec<Outcome>, sqlx::Error> {
    let mut outcomes: Vec<Option<Outcome>> = requests.iter().map(|_| None).collect();
    let mut kinds: Vec<Kind> = requests.iter().map(|r| r.kind()).collect();
    kinds.sort();
    kinds.dedup();
    let mut conn = pool.acquire().await?;
    if kinds.len() > 1 {
        let mut tx = (&mut conn).begin().await?;
        for &kind in &kinds {
            write(&mut tx, kind, requests, &mut outcomes).await?;
        }
        tx.commit().await?;
    } else {
        // One statement is atomic by itself: no BEGIN and COMMIT round trips.
        for &kind in &kinds {
            write(&mut conn, kind, requests, &mut outcomes).await?;
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.ok_or(sqlx::Error::RowNotFound))
        .collect()
}

/// Runs the statement of the writes of `kind` in `requests`, filling their `outcomes`.
async fn write(
    conn: &mut PgConnection,
    kind: Kind,
    requests: &[&Request],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let indexes: Vec<usize> = (0..requests.len())
        .filter(|&i| requests[i].kind() == kind)
        .collect();
    match (kind, indexes.as_slice()) {
        // A write alone takes the scalar form of its statement (single.rs says why).
        (Kind::Create, &[i]) => {
            outcomes[i] = Some(super::single::create(conn, requests[i]).await?);
            Ok(())
        }
        (Kind::Append, &[i]) => {
            outcomes[i] = Some(super::single::append(conn, requests[i]).await?);
            Ok(())
        }
        (Kind::Finish, &[i]) => {
            outcomes[i] = Some(super::single::finish(conn, requests[i]).await?);
            Ok(())
        }
        (Kind::Create, _) => create(conn, requests, &indexes, outcomes).await,
        (Kind::Append, _) => append(conn, requests, &indexes, outcomes).await,
        (Kind::Start, _) => start(conn, requests, &indexes, outcomes).await,
        (Kind::Finish, _) => finish(conn, requests, &indexes, outcomes).await,
        (Kind::SaveState, _) => save_state(conn, requests, &indexes, outcomes).await,
    }
}

/// The outcome of writing the conversation `conv`: the `Seq` it returned, else `NotFound`.
fn seq_of(by_conv: &HashMap<Uuid, i64>, conv: Option<ConversationId>) -> Outcome {
    conv.and_then(|c| by_conv.get(&c.0))
        .map(|&seq| Done::Seq(seq))
        .ok_or(WriteError::NotFound)
}

/// New conversations.
async fn create(
    conn: &mut PgConnection,
    requests: &[&Request],
    indexes: &[usize],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let (mut ids, mut merchants, mut hashes, mut origins) = (vec![], vec![], vec![], vec![]);
    for &i in indexes {
        if let Request::Create {
            merchant,
            token_hash,
            origin,
        } = requests[i]
        {
            ids.push(Uuid::new_v4());
            merchants.push(merchant.0);
            hashes.push(token_hash.to_vec());
            origins.push(origin.as_deref());
        }
    }
    let sql = format!(
        "INSERT INTO conversations (id, merchant_id, visitor_token_hash, origin) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bytea[], $4::text[]) \
         RETURNING {CONVERSATION_COLUMNS}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&ids)
        .bind(merchants)
        .bind(hashes)
        .bind(origins)
        .fetch_all(&mut *conn)
        .await?;
    let mut created: HashMap<Uuid, Conversation> = HashMap::new();
    for row in &rows {
        let c = conversation_from_row(row)?;
        created.insert(c.id.0, c);
    }
    for (&i, id) in indexes.iter().zip(&ids) {
        let c = created.remove(id).ok_or(sqlx::Error::RowNotFound)?;
        outcomes[i] = Some(Ok(Done::Created(c)));
    }
    Ok(())
}

/// Visitor messages, with their reply's start when the conversation was idle: the conversation
/// row is locked and its sequence number bumped by one or two, unless a message with the same
/// `client_id` is already stored. A concurrent duplicate from another process makes the unique
/// index refuse the statement; the lane retries (see `run_one`).
async fn append(
    conn: &mut PgConnection,
    requests: &[&Request],
    indexes: &[usize],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let (mut convs, mut client_ids, mut ids, mut texts, mut reply_ids, mut versions) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for &i in indexes {
        if let Request::Append {
            conversation,
            message_id,
            client_id,
            text,
            reply,
        } = requests[i]
        {
            convs.push(conversation.0);
            client_ids.push(client_id.as_str());
            ids.push(message_id.0);
            texts.push(text.as_str());
            reply_ids.push(reply.map(|r| r.0.0));
            versions.push(reply.and_then(|r| r.1));
        }
    }
    let rows = sqlx::query(
        "WITH input AS ( \
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], \
                                  $5::uuid[], $6::int8[]) \
                 AS t(conv, client_id, msg_id, body, reply_id, agent_version) \
         ), dup AS ( \
             SELECT i.conv, m.seq, m.id FROM input i \
             JOIN messages m ON m.conversation_id = i.conv AND m.client_id = i.client_id \
         ), bump AS ( \
             UPDATE conversations c \
             SET last_seq = c.last_seq + CASE WHEN i.reply_id IS NULL THEN 1 ELSE 2 END, \
                 updated_at = now() \
             FROM input i \
             WHERE c.id = i.conv AND NOT EXISTS (SELECT 1 FROM dup d WHERE d.conv = i.conv) \
             RETURNING c.id AS conv, \
                 CASE WHEN i.reply_id IS NULL THEN c.last_seq ELSE c.last_seq - 1 END AS seq \
         ), ins AS ( \
             INSERT INTO messages (id, conversation_id, seq, role, client_id, text, status, \
                                   reply_to_seq, agent_version) \
             SELECT i.msg_id, i.conv, b.seq, 'user', i.client_id, i.body, 'complete', \
                    NULL, NULL \
             FROM bump b JOIN input i ON i.conv = b.conv \
             UNION ALL \
             SELECT i.reply_id, i.conv, b.seq + 1, 'assistant', NULL, '', 'streaming', \
                    b.seq, i.agent_version \
             FROM bump b JOIN input i ON i.conv = b.conv WHERE i.reply_id IS NOT NULL \
         ) \
         SELECT conv, true AS duplicate, seq, id FROM dup \
         UNION ALL SELECT conv, false, seq, NULL::uuid FROM bump",
    )
    .bind(convs)
    .bind(client_ids)
    .bind(ids)
    .bind(texts)
    .bind(reply_ids)
    .bind(versions)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_conv: HashMap<Uuid, (bool, i64, Option<Uuid>)> = HashMap::new();
    for row in &rows {
        by_conv.insert(
            row.try_get("conv")?,
            (
                row.try_get("duplicate")?,
                row.try_get("seq")?,
                row.try_get("id")?,
            ),
        );
    }
    for &i in indexes {
        if let Request::Append {
            conversation,
            message_id,
            reply,
            ..
        } = requests[i]
        {
            let outcome = match by_conv.get(&conversation.0) {
                None => Err(WriteError::NotFound),
                Some((true, seq, existing)) => Ok(Done::Appended(
                    AppendOutcome::Duplicate {
                        seq: *seq,
                        message_id: MessageId(existing.ok_or(sqlx::Error::RowNotFound)?),
                    },
                    None,
                )),
                Some((false, seq, _)) => Ok(Done::Appended(
                    AppendOutcome::Stored {
                        seq: *seq,
                        message_id: *message_id,
                    },
                    reply.map(|_| seq + 1),
                )),
            };
            outcomes[i] = Some(outcome);
        }
    }
    Ok(())
}

/// Starts of queued replies (rare under load: only when a visitor sent while a reply ran).
async fn start(
    conn: &mut PgConnection,
    requests: &[&Request],
    indexes: &[usize],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let (mut convs, mut ids, mut reply_to, mut versions) = (vec![], vec![], vec![], vec![]);
    for &i in indexes {
        if let Request::Start {
            conversation,
            message_id,
            reply_to_seq,
            agent_version,
        } = requests[i]
        {
            convs.push(conversation.0);
            ids.push(message_id.0);
            reply_to.push(*reply_to_seq);
            versions.push(*agent_version);
        }
    }
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "WITH input AS ( \
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::int8[]) \
                 AS t(conv, msg_id, reply_to_seq, agent_version) \
         ), bump AS ( \
             UPDATE conversations c SET last_seq = c.last_seq + 1, updated_at = now() \
             FROM input i WHERE c.id = i.conv \
             RETURNING c.id AS conv, c.last_seq \
         ), ins AS ( \
             INSERT INTO messages (id, conversation_id, seq, role, reply_to_seq, status, \
                                   agent_version) \
             SELECT i.msg_id, i.conv, b.last_seq, 'assistant', i.reply_to_seq, 'streaming', \
                    i.agent_version \
             FROM bump b JOIN input i ON i.conv = b.conv \
         ) \
         SELECT conv, last_seq FROM bump",
    )
    .bind(convs)
    .bind(ids)
    .bind(reply_to)
    .bind(versions)
    .fetch_all(&mut *conn)
    .await?;
    let by_conv: HashMap<Uuid, i64> = rows.into_iter().collect();
    for &i in indexes {
        outcomes[i] = Some(seq_of(&by_conv, requests[i].conversation()));
    }
    Ok(())
}

/// The columns of one model call, one vector per column (for `unnest`).
#[derive(Default)]
struct Calls<'a> {
    convs: Vec<Uuid>,
    messages: Vec<Uuid>,
    indexes: Vec<i32>,
    providers: Vec<&'a str>,
    models: Vec<&'a str>,
    input: Vec<i64>,
    output: Vec<i64>,
    cache_write: Vec<i64>,
    cache_read: Vec<i64>,
    costs: Vec<i64>,
}

/// Ends of replies: the message takes its text, status, the next sequence number and its
/// turn's totals (usage and cost summed, provider and model of the last call); each charge
/// becomes a `model_calls` row; a changed session state replaces the stored one. All in one
/// statement, and only for replies whose message exists.
async fn finish(
    conn: &mut PgConnection,
    requests: &[&Request],
    indexes: &[usize],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let tokens = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let (mut convs, mut ids, mut texts, mut statuses, mut usages) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut providers, mut models, mut costs, mut states) = (vec![], vec![], vec![], vec![]);
    let mut metas: Vec<Option<&str>> = vec![];
    let mut calls = Calls::default();
    for &i in indexes {
        if let Request::Finish {
            conversation,
            message_id,
            text,
            status,
            charges,
            state,
            meta,
        } = requests[i]
        {
            metas.push(meta.as_deref());
            convs.push(conversation.0);
            ids.push(message_id.0);
            texts.push(text.as_str());
            statuses.push(status.as_str());
            usages.push(
                total_usage(charges)
                    .map(|u| serde_json::to_string(&u))
                    .transpose()
                    .map_err(|e| sqlx::Error::Encode(e.into()))?,
            );
            let last = charges.last();
            providers.push(last.map(|c| c.provider.as_str()));
            models.push(last.map(|c| c.model.as_str()));
            costs.push(last.map(|_| {
                charges
                    .iter()
                    .fold(0i64, |sum, c| sum.saturating_add(c.cost_nanos))
            }));
            states.push(state.as_deref());
            for (n, c) in charges.iter().enumerate() {
                calls.convs.push(conversation.0);
                calls.messages.push(message_id.0);
                calls.indexes.push(i32::try_from(n).unwrap_or(i32::MAX));
                calls.providers.push(&c.provider);
                calls.models.push(&c.model);
                calls.input.push(tokens(c.usage.input_tokens));
                calls.output.push(tokens(c.usage.output_tokens));
                calls.cache_write.push(tokens(c.usage.cache_write_tokens));
                calls.cache_read.push(tokens(c.usage.cache_read_tokens));
                calls.costs.push(c.cost_nanos);
            }
        }
    }
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "WITH input AS ( \
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
                                  $6::text[], $7::text[], $8::int8[], $9::text[], $20::text[]) \
                 AS t(conv, msg_id, body, status, usage, provider, model, cost_nanos, state, \
                      meta) \
         ), bump AS ( \
             UPDATE conversations c SET last_seq = c.last_seq + 1, updated_at = now(), \
                 state = COALESCE(i.state::jsonb, c.state) \
             FROM input i \
             WHERE c.id = i.conv AND EXISTS ( \
                 SELECT 1 FROM messages m WHERE m.conversation_id = i.conv AND m.id = i.msg_id) \
             RETURNING c.id AS conv, c.last_seq, c.merchant_id \
         ), calls AS ( \
             INSERT INTO model_calls (message_id, call_index, conversation_id, merchant_id, \
                 provider, model, input_tokens, output_tokens, cache_write_tokens, \
                 cache_read_tokens, cost_nanos) \
             SELECT k.msg_id, k.call_index, b.conv, b.merchant_id, k.provider, k.model, \
                    k.input_tokens, k.output_tokens, k.cache_write_tokens, k.cache_read_tokens, \
                    k.cost_nanos \
             FROM unnest($10::uuid[], $11::uuid[], $12::int4[], $13::text[], $14::text[], \
                         $15::int8[], $16::int8[], $17::int8[], $18::int8[], $19::int8[]) \
                 AS k(conv, msg_id, call_index, provider, model, input_tokens, output_tokens, \
                      cache_write_tokens, cache_read_tokens, cost_nanos) \
             JOIN bump b ON b.conv = k.conv \
         ) \
         UPDATE messages m SET text = i.body, status = i.status, usage = i.usage::jsonb, \
             end_seq = b.last_seq, completed_at = now(), provider = i.provider, \
             model = i.model, cost_nanos = i.cost_nanos, meta = i.meta::jsonb \
         FROM bump b JOIN input i ON i.conv = b.conv \
         WHERE m.conversation_id = b.conv AND m.id = i.msg_id \
         RETURNING b.conv, b.last_seq",
    )
    .bind(convs)
    .bind(ids)
    .bind(texts)
    .bind(statuses)
    .bind(usages)
    .bind(providers)
    .bind(models)
    .bind(costs)
    .bind(states)
    .bind(calls.convs)
    .bind(calls.messages)
    .bind(calls.indexes)
    .bind(calls.providers)
    .bind(calls.models)
    .bind(calls.input)
    .bind(calls.output)
    .bind(calls.cache_write)
    .bind(calls.cache_read)
    .bind(calls.costs)
    .bind(metas)
    .fetch_all(&mut *conn)
    .await?;
    let by_conv: HashMap<Uuid, i64> = rows.into_iter().collect();
    for &i in indexes {
        outcomes[i] = Some(seq_of(&by_conv, requests[i].conversation()));
    }
    Ok(())
}

/// Session states saved outside a turn.
async fn save_state(
    conn: &mut PgConnection,
    requests: &[&Request],
    indexes: &[usize],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let (mut convs, mut states) = (vec![], vec![]);
    for &i in indexes {
        if let Request::SaveState {
            conversation,
            state,
        } = requests[i]
        {
            convs.push(conversation.0);
            states.push(state.as_str());
        }
    }
    let saved: HashSet<Uuid> = sqlx::query_scalar(
        "UPDATE conversations c SET state = i.state::jsonb, updated_at = now() \
         FROM unnest($1::uuid[], $2::text[]) AS i(conv, state) \
         WHERE c.id = i.conv RETURNING c.id",
    )
    .bind(convs)
    .bind(states)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    for &i in indexes {
        let found = requests[i]
            .conversation()
            .is_some_and(|c| saved.contains(&c.0));
        outcomes[i] = Some(if found {
            Ok(Done::Saved)
        } else {
            Err(WriteError::NotFound)
        });
    }
    Ok(())
}
