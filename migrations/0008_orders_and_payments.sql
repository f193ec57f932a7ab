-- Orders made from carts at checkout, their lines at the prices charged, the payment provider's
-- events (each recorded once), and merchants' connected payment accounts.

CREATE SEQUENCE order_numbers START 1001;

CREATE TABLE orders (
    id                   uuid PRIMARY KEY,
    -- What visitors and merchants quote ("order 1042"); unique across the platform.
    number               bigint NOT NULL UNIQUE DEFAULT nextval('order_numbers'),
    merchant_id          uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    conversation_id      uuid REFERENCES conversations (id) ON DELETE SET NULL,
    status               text NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'paid', 'expired', 'canceled', 'refunded', 'disputed')),
    currency             text NOT NULL CHECK (char_length(currency) = 3),
    total_minor          bigint NOT NULL CHECK (total_minor >= 0),
    provider             text NOT NULL,
    -- The provider's checkout session and payment, once known.
    provider_session_id  text UNIQUE,
    payment_intent_id    text,
    checkout_url         text,
    expires_at           timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    paid_at              timestamptz
);
CREATE INDEX orders_merchant ON orders (merchant_id, created_at DESC);
CREATE INDEX orders_conversation ON orders (conversation_id, created_at DESC);
CREATE INDEX orders_payment_intent ON orders (payment_intent_id) WHERE payment_intent_id IS NOT NULL;

CREATE TABLE order_lines (
    order_id          uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no           integer NOT NULL,
    external_id       text NOT NULL,
    sku               text,
    title             text NOT NULL,
    quantity          integer NOT NULL CHECK (quantity > 0),
    unit_price_minor  bigint NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line_no)
);

-- Every provider event seen, once: a redelivered event id is acknowledged and ignored.
CREATE TABLE payment_events (
    provider     text NOT NULL,
    event_id     text NOT NULL,
    type         text NOT NULL,
    order_id     uuid REFERENCES orders (id) ON DELETE SET NULL,
    -- applied, unchanged, unmatched (kept to apply once its order is known), ignored.
    outcome      text NOT NULL,
    -- For an unmatched event: the status it carries and the payment it names.
    pending_status  text,
    payment_intent  text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX payment_events_unmatched ON payment_events (payment_intent) WHERE outcome = 'unmatched';

-- A merchant's connected account at the payment provider (Stripe Connect) and its readiness.
CREATE TABLE payment_accounts (
    merchant_id       uuid PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    provider          text NOT NULL,
    account_id        text NOT NULL UNIQUE,
    charges_enabled   boolean NOT NULL DEFAULT false,
    details_submitted boolean NOT NULL DEFAULT false,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
