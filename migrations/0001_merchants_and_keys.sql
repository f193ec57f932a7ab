-- Merchants (tenants) and their API keys.
-- pgvector is required by the catalog; checking it here makes a server without it fail at the
-- first migration with Postgres' own message rather than later.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE merchants (
    id              uuid PRIMARY KEY,
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    currency        char(3) NOT NULL,
    -- Browser origins allowed to call publishable-key endpoints ('https://shop.example').
    allowed_origins text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Keys are stored as SHA-256 digests only; the plain key is shown once, at creation.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    merchant_id  uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('secret', 'publishable')),
    -- The first characters of the key ('sk_Ab3d'), enough to recognise it in a list.
    key_prefix   text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    label        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

CREATE INDEX api_keys_merchant_idx ON api_keys (merchant_id, created_at);
