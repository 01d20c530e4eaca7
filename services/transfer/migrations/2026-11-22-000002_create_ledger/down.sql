DROP TABLE transfer.transfers; DROP TABLE transfer.system_slots; DROP TABLE transfer.ledger_accounts;
