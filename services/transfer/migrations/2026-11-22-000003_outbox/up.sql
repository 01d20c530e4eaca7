-- Domain events written in the same transaction as the ledger change they
-- describe; the relay (crates/outbox) publishes them to Redis Streams.
CREATE TABLE transfer.outbox (
    sequence     bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    payload      bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished_idx ON transfer.outbox (sequence) WHERE published_at IS NULL;
