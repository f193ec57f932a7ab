-- Where Stripe Checkout sends a merchant's visitors back to (PUT /v1/merchant/payments); unset
-- means the engine's own order page.
CREATE TABLE checkout_settings (
    merchant_id uuid PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    success_url text CHECK (char_length(success_url) <= 2000),
    cancel_url  text CHECK (char_length(cancel_url) <= 2000),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The connected account an event came from (Connect), so an event kept unmatched is only ever
-- applied to an order of that account's merchant.
ALTER TABLE payment_events ADD COLUMN account text;
