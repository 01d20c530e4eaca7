DROP TABLE account.idempotency_keys;
DROP TABLE account.cards;
DROP TABLE account.profiles;
DROP TABLE account.accounts;
