-- What each reply cost: who served it and its price, for cost totals and budgets.
ALTER TABLE messages
    ADD COLUMN provider   text,
    ADD COLUMN model      text,
    -- Cost in nano-USD (10^-9 USD); integer, never floating point.
    ADD COLUMN cost_nanos bigint CHECK (cost_nanos >= 0);

-- Spend per merchant and period: replies are found by their completion time.
CREATE INDEX messages_completed_idx ON messages (completed_at) WHERE cost_nanos IS NOT NULL;
