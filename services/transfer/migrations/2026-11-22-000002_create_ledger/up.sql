-- The ledger. Numbers in comments are bank.transfer.v1 enum values.
--
-- Invariants enforced here as well as in code:
-- * amounts are positive integers in minor units (bigint);
-- * a customer account never goes below zero:
--   debits_posted + debits_pending <= credits_posted;
-- * every transfer debits one account and credits another, same currency;
-- * an idempotency key (initiator, operation, request id, leg) is used once.
--
-- Hot rows: a system account (cash, merchant settlement, loan funding,
-- interest income) is touched by every deposit, purchase or loan payment.
-- Its posted columns are spread over SYSTEM_SLOTS rows in system_slots so
-- concurrent transactions rarely wait on one row; its balance is their sum.
-- System accounts may go negative and take no pending reservations.

CREATE TABLE transfer.ledger_accounts (
    id              uuid        PRIMARY KEY,
    -- 1 customer, 2 cash, 3 merchant settlement, 4 loan funding, 5 interest income
    kind            smallint    NOT NULL CHECK (kind BETWEEN 1 AND 5),
    currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- 1 open, 2 frozen, 3 closed (LedgerAccountStatus)
    status          smallint    NOT NULL DEFAULT 1 CHECK (status IN (1, 2, 3)),
    -- Customer accounts only; system accounts keep these at zero and use system_slots.
    debits_posted   bigint      NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted  bigint      NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    debits_pending  bigint      NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    credits_pending bigint      NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    -- Number of posted entries: the last entry's sequence (customer accounts).
    entry_count     bigint      NOT NULL DEFAULT 0 CHECK (entry_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_never_negative
        CHECK (kind <> 1 OR debits_posted::numeric + debits_pending <= credits_posted),
    CONSTRAINT system_columns_unused
        CHECK (kind = 1 OR (debits_posted = 0 AND credits_posted = 0 AND debits_pending = 0
                            AND credits_pending = 0 AND entry_count = 0 AND status = 1))
);
-- One system account per (kind, currency).
CREATE UNIQUE INDEX ledger_accounts_system_key ON transfer.ledger_accounts (kind, currency) WHERE kind <> 1;

CREATE TABLE transfer.system_slots (
    account_id     uuid     NOT NULL REFERENCES transfer.ledger_accounts (id),
    slot           smallint NOT NULL CHECK (slot >= 0),
    debits_posted  bigint   NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted bigint   NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    PRIMARY KEY (account_id, slot)
);

CREATE TABLE transfer.transfers (
    id                    uuid        PRIMARY KEY,
    -- Idempotency: who asked ('user:<uuid>' or 'service:<name>'), which
    -- operation, their key, and the leg for multi-leg internal transfers.
    initiator             text        NOT NULL CHECK (length(initiator) BETWEEN 1 AND 80),
    operation             smallint    NOT NULL CHECK (operation BETWEEN 1 AND 7),
    request_id            text        NOT NULL CHECK (request_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    leg                   smallint    NOT NULL DEFAULT 0 CHECK (leg BETWEEN 0 AND 15),
    -- 1 immediate, 2 pending, 3 post pending, 4 void pending
    type                  smallint    NOT NULL CHECK (type BETWEEN 1 AND 4),
    -- 1 transfer .. 7 loan interest (TransferKind)
    kind                  smallint    NOT NULL CHECK (kind BETWEEN 1 AND 7),
    -- 1 pending, 2 posted, 3 voided, 4 expired, 5 declined
    status                smallint    NOT NULL CHECK (status BETWEEN 1 AND 5),
    debit_account_id      uuid        NOT NULL REFERENCES transfer.ledger_accounts (id),
    credit_account_id     uuid        NOT NULL REFERENCES transfer.ledger_accounts (id),
    amount                bigint      NOT NULL CHECK (amount > 0),
    currency              text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    description           text        NOT NULL DEFAULT '' CHECK (length(description) <= 140),
    reference             text        NOT NULL DEFAULT '' CHECK (length(reference) <= 64),
    pending_transfer_id   uuid        REFERENCES transfer.transfers (id),
    resolving_transfer_id uuid,
    decline_reason        smallint    NOT NULL DEFAULT 0 CHECK (decline_reason BETWEEN 0 AND 9),
    initiator_user_id     uuid,
    initiator_service     text        NOT NULL DEFAULT '',
    -- Entry positions and balances after posting, per customer side (NULL
    -- for system accounts and for rows that moved no money).
    debit_sequence        bigint,
    debit_balance_after   bigint,
    credit_sequence       bigint,
    credit_balance_after  bigint,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    expire_at             timestamptz,
    resolved_at           timestamptz,
    CONSTRAINT double_entry CHECK (debit_account_id <> credit_account_id),
    CONSTRAINT declined_has_reason CHECK ((status = 5) = (decline_reason <> 0)),
    CONSTRAINT pending_has_expiry CHECK ((type = 2) = (expire_at IS NOT NULL)),
    CONSTRAINT second_phase_references CHECK ((type IN (3, 4)) = (pending_transfer_id IS NOT NULL)),
    CONSTRAINT idempotency_key UNIQUE (initiator, operation, request_id, leg)
);
CREATE INDEX transfers_debit_idx ON transfer.transfers (debit_account_id, created_at DESC, id DESC);
CREATE INDEX transfers_credit_idx ON transfer.transfers (credit_account_id, created_at DESC, id DESC);
CREATE INDEX transfers_time_idx ON transfer.transfers (created_at DESC, id DESC);
-- The expiry sweep finds open reservations by deadline.
CREATE INDEX transfers_open_pending_idx ON transfer.transfers (expire_at) WHERE type = 2 AND status = 1;
