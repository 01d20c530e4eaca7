-- Measured on the hot path (docs/BENCHMARKS.md): each foreign key on
-- transfers cost a referential-integrity query per inserted row, on rows
-- the transaction already holds FOR UPDATE. The ledger never deletes a
-- ledger account and every writer locks or looks up the accounts it names
-- in the same transaction, so the references cannot dangle; and DESIGN.md
-- asks for no cross-shard foreign keys, which these would become once the
-- ledger is sharded by account id. CheckIntegrity still recomputes every
-- balance from these rows.
ALTER TABLE transfer.transfers DROP CONSTRAINT transfers_debit_account_id_fkey;
ALTER TABLE transfer.transfers DROP CONSTRAINT transfers_credit_account_id_fkey;
ALTER TABLE transfer.transfers DROP CONSTRAINT transfers_pending_transfer_id_fkey;

-- The outbox is marked as it is published: keep its partial index free of
-- dead entries instead of waiting for the default 20% of the table.
ALTER TABLE transfer.outbox SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);
