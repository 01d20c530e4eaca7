-- Accounts, account holder profiles, debit cards and idempotency records.
-- Enum columns hold the bank.account.v1 enum numbers; CHECKs make a value the
-- code would never write impossible to store.

CREATE TABLE account.accounts (
    id                uuid        PRIMARY KEY,
    -- 12 digits, ISO 7064 MOD 97-10: the whole number mod 97 is 1.
    number            text        NOT NULL CHECK (number ~ '^[0-9]{12}$' AND number::numeric % 97 = 1),
    -- NULL exactly for system accounts.
    owner_user_id     uuid,
    -- AccountType: 1 checking, 2 savings, 3 loan, 4 system.
    account_type      smallint    NOT NULL CHECK (account_type IN (1, 2, 3, 4)),
    -- AccountStatus: 1 open, 2 frozen, 3 closed.
    status            smallint    NOT NULL CHECK (status IN (1, 2, 3)),
    currency          text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    display_name      text        NOT NULL DEFAULT '' CHECK (char_length(display_name) <= 64),
    -- bank.transfer.v1.LedgerAccountKind of a system account (2..5); 0 otherwise.
    system_kind       smallint    NOT NULL DEFAULT 0 CHECK (system_kind IN (0, 2, 3, 4, 5)),
    status_reason     text        NOT NULL DEFAULT '' CHECK (char_length(status_reason) <= 500),
    -- False until the ledger confirmed the account's ledger account; such a
    -- row is invisible to every read and finished by a retry or the healer.
    ledger_ready      boolean     NOT NULL DEFAULT false,
    opened_at         timestamptz NOT NULL DEFAULT now(),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((account_type = 4) = (owner_user_id IS NULL)),
    CHECK ((account_type = 4) = (system_kind <> 0)),
    -- System accounts are never frozen or closed.
    CHECK (account_type <> 4 OR status = 1),
    CHECK (status_changed_at >= opened_at)
);
CREATE UNIQUE INDEX accounts_number_key ON account.accounts (number);
-- One system account per kind and currency.
CREATE UNIQUE INDEX accounts_system_key ON account.accounts (system_kind, currency) WHERE account_type = 4;
-- ListAccounts: a member's accounts, oldest first.
CREATE INDEX accounts_owner_idx ON account.accounts (owner_user_id, opened_at, id);
-- ListAllAccounts: newest first.
CREATE INDEX accounts_opened_idx ON account.accounts (opened_at DESC, id DESC);
-- The healer's work list.
CREATE INDEX accounts_unready_idx ON account.accounts (opened_at) WHERE NOT ledger_ready;

CREATE TABLE account.profiles (
    user_id    uuid        PRIMARY KEY,
    full_name  text        NOT NULL DEFAULT '' CHECK (char_length(full_name) <= 100),
    phone      text        NOT NULL DEFAULT '' CHECK (phone = '' OR phone ~ '^\+[0-9]{8,15}$'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Debit cards. The PAN is stored only encrypted (AES-256-GCM under
-- pan_key_id, the card id as associated data) plus a keyed MAC to find a
-- card by number; the CVV is never stored.
CREATE TABLE account.cards (
    id              uuid        PRIMARY KEY,
    account_id      uuid        NOT NULL REFERENCES account.accounts (id),
    owner_user_id   uuid        NOT NULL,
    -- HMAC-SHA-256 of the PAN under a key derived from the issuer key.
    pan_index       bytea       NOT NULL CHECK (length(pan_index) = 32),
    -- 12-byte nonce || ciphertext || 16-byte tag of the 16-digit PAN.
    pan_ciphertext  bytea       NOT NULL CHECK (length(pan_ciphertext) = 12 + 16 + 16),
    pan_key_id      text        NOT NULL CHECK (pan_key_id ~ '^[A-Za-z0-9_-]{1,32}$'),
    last_four       text        NOT NULL CHECK (last_four ~ '^[0-9]{4}$'),
    expiry_month    smallint    NOT NULL CHECK (expiry_month BETWEEN 1 AND 12),
    expiry_year     smallint    NOT NULL CHECK (expiry_year BETWEEN 2000 AND 9999),
    cardholder_name text        NOT NULL CHECK (cardholder_name ~ '^[A-Z .''-]{2,26}$'),
    -- CardStatus: 1 active, 2 blocked, 3 expired (past the expiry month;
    -- also reported for active rows past it).
    status          smallint    NOT NULL CHECK (status IN (1, 2, 3)),
    -- CardBlockReason; 0 unless blocked.
    block_reason    smallint    NOT NULL DEFAULT 0 CHECK (block_reason BETWEEN 0 AND 5),
    issued_at       timestamptz NOT NULL DEFAULT now(),
    blocked_at      timestamptz,
    CHECK ((status = 2) = (block_reason <> 0)),
    CHECK ((status = 2) = (blocked_at IS NOT NULL))
);
CREATE UNIQUE INDEX cards_pan_index_key ON account.cards (pan_index);
-- At most one active card per account.
CREATE UNIQUE INDEX cards_one_active_key ON account.cards (account_id) WHERE status = 1;
-- ListCards: newest first.
CREATE INDEX cards_account_idx ON account.cards (account_id, issued_at DESC, id DESC);

-- Idempotency records of OpenAccount, IssueCard and CreateCardPurchase,
-- scoped to the caller and the RPC and kept indefinitely. `fingerprint`
-- lists `field:mac` pairs (keyed MACs, so no card secret is recoverable);
-- `response` is the encoded response message without secrets; a recorded
-- error (a purchase decline) is kept as code, message and the encoded
-- google.rpc.Status details.
CREATE TABLE account.idempotency_keys (
    caller_id      uuid        NOT NULL,
    rpc            text        NOT NULL CHECK (rpc IN ('OpenAccount', 'IssueCard', 'CreateCardPurchase')),
    request_id     text        NOT NULL CHECK (request_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    fingerprint    text        NOT NULL,
    -- 1 claimed, 2 submitted to the ledger, 3 completed.
    state          smallint    NOT NULL CHECK (state IN (1, 2, 3)),
    -- The account or card created, or the card a purchase used.
    resource_id    uuid,
    response       bytea,
    error_code     integer,
    error_message  text,
    error_details  bytea,
    -- ErrorInfo reason of a recorded decline (counts CARD_INVALID attempts).
    decline_reason text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    PRIMARY KEY (caller_id, rpc, request_id),
    CHECK ((state = 3) = (completed_at IS NOT NULL)),
    CHECK (state <> 3 OR ((response IS NULL) <> (error_code IS NULL))),
    CHECK ((decline_reason IS NULL) OR (error_code IS NOT NULL))
);
CREATE INDEX idempotency_declines_idx ON account.idempotency_keys (caller_id, decline_reason, created_at)
    WHERE decline_reason IS NOT NULL;
