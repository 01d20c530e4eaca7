DROP TABLE finance.outbox;
DROP TABLE finance.idempotency_keys;
DROP TABLE finance.repayments;
DROP TABLE finance.installments;
DROP TABLE finance.loans;
DROP TABLE finance.application_history;
DROP TABLE finance.applications;
DROP TABLE finance.financing_options;
