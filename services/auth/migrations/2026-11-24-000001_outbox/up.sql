-- Domain events (bank.events.v1.Event), appended in the transaction of the
-- change they describe and relayed in sequence order to Redis Streams.
-- Exactly bank_outbox::create_table_sql("auth").
CREATE TABLE auth.outbox (
    sequence     bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    payload      bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished_idx ON auth.outbox (sequence) WHERE published_at IS NULL;
