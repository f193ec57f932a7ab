-- The catalog: products per merchant, their full-text vectors and their embeddings.

-- The merchant's catalog language for full-text search (a Postgres text search configuration:
-- english, french, german, spanish, simple, ...).
ALTER TABLE merchants ADD COLUMN catalog_language regconfig NOT NULL DEFAULT 'english';

CREATE TABLE products (
    id                uuid PRIMARY KEY,
    merchant_id       uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- The merchant's own id (SKU, handle, Polar id); unique per merchant.
    external_id       text NOT NULL CHECK (char_length(external_id) BETWEEN 1 AND 200),
    title             text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
    description       text NOT NULL DEFAULT '',
    brand             text,
    -- Category path from the root: {Shoes, Running}.
    category          text[] NOT NULL DEFAULT '{}',
    tags              text[] NOT NULL DEFAULT '{}',
    -- Money in minor units of `currency`; never floating point.
    price_minor       bigint NOT NULL CHECK (price_minor >= 0),
    currency          char(3) NOT NULL,
    compare_at_minor  bigint CHECK (compare_at_minor >= 0),
    -- [{sku, attributes: {size, color, ...}, price?, stock?}]
    variants          jsonb NOT NULL DEFAULT '[]',
    image_urls        text[] NOT NULL DEFAULT '{}',
    url               text,
    -- Units available when tracked; in_stock is what a visitor can buy now.
    stock             integer CHECK (stock >= 0),
    in_stock          boolean NOT NULL,
    -- Free-form string attributes: {color: red, material: mesh}.
    attributes        jsonb NOT NULL DEFAULT '{}',
    active            boolean NOT NULL DEFAULT true,
    -- Brand, category, tags and attribute values as words, for full-text search.
    keywords          text NOT NULL DEFAULT '',
    search_language   regconfig NOT NULL DEFAULT 'english',
    search_tsv        tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(search_language, title), 'A') ||
        setweight(to_tsvector(search_language, keywords), 'B') ||
        setweight(to_tsvector(search_language, description), 'C')
    ) STORED,
    -- SHA-256 of the text that is embedded; a change re-embeds the product.
    content_hash      bytea NOT NULL,
    -- SHA-256 of every field; an import that changes nothing leaves the row untouched.
    record_hash       bytea NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, external_id)
);
CREATE INDEX products_search_idx ON products USING gin (search_tsv);
CREATE INDEX products_price_idx ON products (merchant_id, price_minor);

-- One vector per product and embedding model. The dimension is the model's: each model gets its
-- own partial HNSW index (created by the server for the configured model), so changing models
-- needs no schema change.
CREATE TABLE product_embeddings (
    product_id    uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    model         text NOT NULL,
    merchant_id   uuid NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- The product's content_hash when it was embedded.
    content_hash  bytea NOT NULL,
    embedding     vector NOT NULL,
    embedded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, model)
);
CREATE INDEX product_embeddings_merchant_idx ON product_embeddings (merchant_id, model);
