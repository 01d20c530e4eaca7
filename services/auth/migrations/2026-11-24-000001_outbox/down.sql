DROP TABLE auth.outbox;
