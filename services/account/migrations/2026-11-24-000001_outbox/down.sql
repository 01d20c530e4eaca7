DROP TABLE account.outbox;
