ALTER TABLE transfer.outbox RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);
ALTER TABLE transfer.transfers ADD CONSTRAINT transfers_pending_transfer_id_fkey FOREIGN KEY (pending_transfer_id) REFERENCES transfer.transfers (id);
ALTER TABLE transfer.transfers ADD CONSTRAINT transfers_credit_account_id_fkey FOREIGN KEY (credit_account_id) REFERENCES transfer.ledger_accounts (id);
ALTER TABLE transfer.transfers ADD CONSTRAINT transfers_debit_account_id_fkey FOREIGN KEY (debit_account_id) REFERENCES transfer.ledger_accounts (id);
