-- The account service's own schema; its tables arrive with its RPCs.
CREATE SCHEMA IF NOT EXISTS account;
