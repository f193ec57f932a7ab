-- Merchants' agent configurations, versioned; and which version produced each reply.
CREATE TABLE agent_configs (
    merchant_id  uuid PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    config       jsonb NOT NULL,
    -- Increases by one with every change; 0 means "defaults, never saved".
    version      bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE messages ADD COLUMN agent_version bigint;
