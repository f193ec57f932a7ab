-- What a reply showed besides its text, for resuming clients: the intent, who handled it
-- (rules or model), the product cards and the cart after the turn. NULL for older replies.
ALTER TABLE messages ADD COLUMN meta jsonb;

-- Visitors' requests for a person (the operator side that answers them comes later). One open
-- request per conversation: a repeated request updates it.
CREATE TABLE handoff_requests (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    merchant_id      uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    reason           text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 100),
    message          text NOT NULL CHECK (char_length(message) <= 2000),
    lang             text NOT NULL DEFAULT '' CHECK (char_length(lang) <= 16),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    requests         integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX handoff_requests_open ON handoff_requests (conversation_id) WHERE status = 'open';
CREATE INDEX handoff_requests_merchant ON handoff_requests (merchant_id, created_at DESC);
