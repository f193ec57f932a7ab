-- Conversations and their messages.
CREATE TABLE conversations (
    id                  uuid PRIMARY KEY,
    merchant_id         uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- SHA-256 of the visitor token (vt_…); the token itself is shown once, at creation.
    visitor_token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(visitor_token_hash) = 32),
    -- The last sequence number used by any durable event of this conversation.
    last_seq            bigint NOT NULL DEFAULT 0,
    origin              text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_merchant_idx ON conversations (merchant_id, created_at);

CREATE TABLE messages (
    id               uuid PRIMARY KEY,
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- Sequence number of the message (user) or of its start (assistant).
    seq              bigint NOT NULL,
    -- Sequence number of an assistant message's end; NULL while streaming.
    end_seq          bigint,
    role             text NOT NULL CHECK (role IN ('user', 'assistant')),
    -- The visitor's idempotency key: a resent message is recognised, not stored twice.
    client_id        text,
    reply_to_seq     bigint,
    text             text NOT NULL DEFAULT '',
    status           text NOT NULL CHECK (status IN ('complete', 'streaming', 'interrupted')),
    usage            jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, client_id)
);
CREATE INDEX messages_end_seq_idx ON messages (conversation_id, end_seq) WHERE end_seq IS NOT NULL;
