DROP TABLE transfer.outbox;
