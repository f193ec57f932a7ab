-- The conversation's session state, and what every model call of a turn cost.

-- The session state (cart, products last shown) as one JSON document, written in the same
-- statement as the reply end that changed it (or alone, for a change outside a turn). Every
-- field of the document has a default, so '{}' is the empty state.
ALTER TABLE conversations ADD COLUMN state jsonb NOT NULL DEFAULT '{}';

-- One row per metered model call. A turn may call models several times (tool rounds, the fast
-- model, a fallback provider); each call is stored here in the same statement as the reply's
-- end. The reply's message row keeps the turn's totals (usage and cost summed, provider and
-- model of the last call), which spend, budgets and usage totals read.
CREATE TABLE model_calls (
    -- The reply whose turn made the call. The only foreign key: deleting a merchant or a
    -- conversation reaches these rows through it, so the two copied ids below need none (and
    -- each key would cost one more lookup per stored call).
    message_id          uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    -- The call's place in its turn, from 0.
    call_index          integer NOT NULL CHECK (call_index >= 0),
    -- Copied from the conversation when the call is stored, so totals per conversation and per
    -- merchant need no join.
    conversation_id     uuid NOT NULL,
    merchant_id         uuid NOT NULL,
    provider            text NOT NULL,
    model               text NOT NULL,
    -- Tokens by kind: integer columns (not a JSON document) so totals are plain sums.
    input_tokens        bigint NOT NULL CHECK (input_tokens >= 0),
    output_tokens       bigint NOT NULL CHECK (output_tokens >= 0),
    cache_write_tokens  bigint NOT NULL CHECK (cache_write_tokens >= 0),
    cache_read_tokens   bigint NOT NULL CHECK (cache_read_tokens >= 0),
    -- Cost in nano-USD (10^-9 USD); integer, never floating point.
    cost_nanos          bigint NOT NULL CHECK (cost_nanos >= 0),
    -- When the call was stored (with its reply's end).
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, call_index)
);
CREATE INDEX model_calls_merchant_idx ON model_calls (merchant_id, created_at);
CREATE INDEX model_calls_conversation_idx ON model_calls (conversation_id);

-- Replies charged before this migration made one model call each: record it, so the table
-- holds every call ever charged.
INSERT INTO model_calls (message_id, call_index, conversation_id, merchant_id, provider, model,
                         input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
                         cost_nanos, created_at)
SELECT m.id, 0, m.conversation_id, c.merchant_id, COALESCE(m.provider, ''), COALESCE(m.model, ''),
       COALESCE((m.usage->>'input_tokens')::int8, 0),
       COALESCE((m.usage->>'output_tokens')::int8, 0),
       COALESCE((m.usage->>'cache_write_tokens')::int8, 0),
       COALESCE((m.usage->>'cache_read_tokens')::int8, 0),
       m.cost_nanos, COALESCE(m.completed_at, m.created_at)
FROM messages m JOIN conversations c ON c.id = m.conversation_id
WHERE m.cost_nanos IS NOT NULL;
