-- Financing options, loan applications with their history, loans with
-- their amortization schedules, repayments, idempotency records and the
-- event outbox. Enum columns hold the bank.finance.v1 enum numbers; money
-- columns are bigint minor units; CHECKs make a value the code would never
-- write impossible to store.

CREATE TABLE finance.financing_options (
    id               uuid        PRIMARY KEY,
    name             text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description      text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    -- ProductType: 1 personal, 2 auto, 3 mortgage, 4 business, 5 student.
    product_type     smallint    NOT NULL CHECK (product_type BETWEEN 1 AND 5),
    currency         text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    annual_rate_bps  integer     NOT NULL CHECK (annual_rate_bps BETWEEN 0 AND 10000),
    min_term_months  integer     NOT NULL CHECK (min_term_months BETWEEN 1 AND 480),
    max_term_months  integer     NOT NULL CHECK (max_term_months BETWEEN 1 AND 480),
    min_amount_minor bigint      NOT NULL CHECK (min_amount_minor > 0),
    max_amount_minor bigint      NOT NULL CHECK (max_amount_minor <= 1000000000000),
    active           boolean     NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (max_term_months >= min_term_months),
    CHECK (max_amount_minor >= min_amount_minor),
    CHECK (updated_at >= created_at)
);
-- ListFinancingOptions: by product type, then name.
CREATE INDEX financing_options_order_idx ON finance.financing_options (product_type, name, id);

CREATE TABLE finance.applications (
    id                      uuid        PRIMARY KEY,
    applicant_user_id       uuid        NOT NULL,
    product_type            smallint    NOT NULL CHECK (product_type BETWEEN 1 AND 5),
    amount_minor            bigint      NOT NULL CHECK (amount_minor BETWEEN 1 AND 1000000000000),
    currency                text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    term_months             integer     NOT NULL CHECK (term_months BETWEEN 1 AND 480),
    purpose                 text        NOT NULL CHECK (char_length(purpose) BETWEEN 1 AND 500),
    disbursement_account_id uuid        NOT NULL,
    -- ApplicationStatus: 1 submitted, 2 more info requested, 3 approved,
    -- 4 rejected, 5 withdrawn.
    status                  smallint    NOT NULL CHECK (status BETWEEN 1 AND 5),
    status_reason           text        NOT NULL DEFAULT '' CHECK (char_length(status_reason) <= 500),
    -- The selected financing option, its terms frozen at selection time.
    option_id               uuid        REFERENCES finance.financing_options (id),
    option_name             text,
    option_rate_bps         integer     CHECK (option_rate_bps BETWEEN 0 AND 10000),
    selected_at             timestamptz,
    -- Disbursement attempts started; attempt n > 1 uses a ledger request id
    -- derived from the application id (attempt 1 uses the id itself): a
    -- new attempt starts only after the previous one was declined, which
    -- moved nothing.
    approval_attempt        integer     NOT NULL DEFAULT 0 CHECK (approval_attempt >= 0),
    -- An approval in flight: recorded before the ledger is asked, cleared
    -- when its outcome is recorded. While set, the status is still
    -- SUBMITTED and every other change of the application finishes it first.
    approval_pending        boolean     NOT NULL DEFAULT false,
    approval_admin_id       uuid,
    approval_reason         text        CHECK (char_length(approval_reason) <= 500),
    approval_started_at     timestamptz,
    loan_id                 uuid,
    submitted_at            timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK ((option_id IS NULL) = (option_rate_bps IS NULL)),
    CHECK ((option_id IS NULL) = (option_name IS NULL)),
    CHECK ((option_id IS NULL) = (selected_at IS NULL)),
    CHECK (approval_pending = (approval_admin_id IS NOT NULL)),
    CHECK (approval_pending = (approval_started_at IS NOT NULL)),
    CHECK (approval_pending = (approval_reason IS NOT NULL)),
    CHECK (NOT approval_pending OR (status = 1 AND option_id IS NOT NULL AND approval_attempt >= 1)),
    CHECK ((status = 3) = (loan_id IS NOT NULL)),
    CHECK (status <> 3 OR option_id IS NOT NULL),
    CHECK (updated_at >= submitted_at)
);
-- ListMyApplications (newest first) and the open-application limit.
CREATE INDEX applications_applicant_idx ON finance.applications (applicant_user_id, submitted_at DESC, id DESC);
-- ListAllApplications: oldest submitted first.
CREATE INDEX applications_submitted_idx ON finance.applications (submitted_at, id);
-- The healer's work list.
CREATE INDEX applications_pending_idx ON finance.applications (approval_started_at) WHERE approval_pending;

CREATE TABLE finance.application_history (
    id             bigserial   PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES finance.applications (id),
    -- 0 (UNSPECIFIED) for the submission itself.
    from_status    smallint    NOT NULL CHECK (from_status BETWEEN 0 AND 5),
    to_status      smallint    NOT NULL CHECK (to_status BETWEEN 1 AND 5),
    actor_user_id  uuid        NOT NULL,
    note           text        NOT NULL DEFAULT '' CHECK (char_length(note) <= 2000),
    changed_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (from_status <> to_status)
);
CREATE INDEX application_history_idx ON finance.application_history (application_id, id);

CREATE TABLE finance.loans (
    id                       uuid        PRIMARY KEY,
    -- One loan per application, whatever the number of approvals.
    application_id           uuid        NOT NULL UNIQUE REFERENCES finance.applications (id),
    borrower_user_id         uuid        NOT NULL,
    option_id                uuid        NOT NULL REFERENCES finance.financing_options (id),
    product_type             smallint    NOT NULL CHECK (product_type BETWEEN 1 AND 5),
    currency                 text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    principal_minor          bigint      NOT NULL CHECK (principal_minor BETWEEN 1 AND 1000000000000),
    annual_rate_bps          integer     NOT NULL CHECK (annual_rate_bps BETWEEN 0 AND 10000),
    term_months              integer     NOT NULL CHECK (term_months BETWEEN 1 AND 480),
    installment_amount_minor bigint      NOT NULL CHECK (installment_amount_minor > 0),
    total_interest_minor     bigint      NOT NULL CHECK (total_interest_minor >= 0),
    total_payable_minor      bigint      NOT NULL,
    principal_paid_minor     bigint      NOT NULL DEFAULT 0,
    interest_paid_minor      bigint      NOT NULL DEFAULT 0,
    disbursement_account_id  uuid        NOT NULL,
    disbursement_transfer_id uuid        NOT NULL,
    -- LoanStatus: 1 active, 2 paid off.
    status                   smallint    NOT NULL CHECK (status IN (1, 2)),
    disbursed_at             timestamptz NOT NULL,
    paid_off_at              timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (total_payable_minor = principal_minor + total_interest_minor),
    CHECK (principal_paid_minor BETWEEN 0 AND principal_minor),
    CHECK (interest_paid_minor BETWEEN 0 AND total_interest_minor),
    CHECK ((status = 2) = (principal_paid_minor = principal_minor AND interest_paid_minor = total_interest_minor)),
    CHECK ((status = 2) = (paid_off_at IS NOT NULL))
);
-- ListLoans: newest first, per borrower or all.
CREATE INDEX loans_borrower_idx ON finance.loans (borrower_user_id, created_at DESC, id DESC);
CREATE INDEX loans_created_idx ON finance.loans (created_at DESC, id DESC);

CREATE TABLE finance.installments (
    loan_id             uuid     NOT NULL REFERENCES finance.loans (id),
    number              integer  NOT NULL CHECK (number BETWEEN 1 AND 480),
    due_date            date     NOT NULL,
    payment_minor       bigint   NOT NULL CHECK (payment_minor > 0),
    principal_minor     bigint   NOT NULL CHECK (principal_minor > 0),
    interest_minor      bigint   NOT NULL CHECK (interest_minor >= 0),
    balance_after_minor bigint   NOT NULL CHECK (balance_after_minor >= 0),
    paid_minor          bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (loan_id, number),
    CHECK (payment_minor = principal_minor + interest_minor),
    CHECK (paid_minor BETWEEN 0 AND payment_minor)
);

CREATE TABLE finance.repayments (
    id                   uuid        PRIMARY KEY,
    loan_id              uuid        NOT NULL REFERENCES finance.loans (id),
    borrower_user_id     uuid        NOT NULL,
    from_account_id      uuid        NOT NULL,
    currency             text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor         bigint      NOT NULL CHECK (amount_minor > 0),
    principal_part_minor bigint      NOT NULL CHECK (principal_part_minor >= 0),
    interest_part_minor  bigint      NOT NULL CHECK (interest_part_minor >= 0),
    -- 1 pending (sent to the ledger, outcome not recorded yet), 2 received,
    -- 3 declined by the ledger.
    state                smallint    NOT NULL CHECK (state IN (1, 2, 3)),
    transfer_ids         uuid[]      NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    received_at          timestamptz,
    CHECK (amount_minor = principal_part_minor + interest_part_minor),
    CHECK ((state = 2) = (received_at IS NOT NULL)),
    CHECK (state <> 2 OR cardinality(transfer_ids) BETWEEN 1 AND 2)
);
-- Repayments of one loan are serialized: at most one is in flight.
CREATE UNIQUE INDEX repayments_one_pending_key ON finance.repayments (loan_id) WHERE state = 1;
CREATE INDEX repayments_loan_idx ON finance.repayments (loan_id, created_at, id);

-- Idempotency records of CreateFinancingOption, SubmitApplication,
-- DecideApplication and RepayLoan, scoped to the caller and the RPC and kept
-- indefinitely. `fingerprint` lists `field:hash` pairs; `response` is the
-- encoded response message; a recorded decline is kept as code, message and
-- the encoded google.rpc.Status details.
CREATE TABLE finance.idempotency_keys (
    caller_id     uuid        NOT NULL,
    rpc           text        NOT NULL CHECK (rpc IN ('CreateFinancingOption', 'SubmitApplication',
                                                      'DecideApplication', 'RepayLoan')),
    request_id    text        NOT NULL CHECK (request_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    fingerprint   text        NOT NULL,
    -- 2 submitted (waits for a ledger outcome), 3 completed.
    state         smallint    NOT NULL CHECK (state IN (2, 3)),
    -- The option or application created, the application decided, or the
    -- repayment made.
    resource_id   uuid        NOT NULL,
    response      bytea,
    error_code    integer,
    error_message text,
    error_details bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (caller_id, rpc, request_id),
    CHECK ((state = 3) = (completed_at IS NOT NULL)),
    CHECK (state <> 3 OR ((response IS NULL) <> (error_code IS NULL)))
);
CREATE INDEX idempotency_submitted_idx ON finance.idempotency_keys (resource_id) WHERE state = 2;

-- Domain events written in the same transaction as the change they
-- describe; the relay (crates/outbox) publishes them to Redis Streams.
CREATE TABLE finance.outbox (
    sequence     bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    payload      bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished_idx ON finance.outbox (sequence) WHERE published_at IS NULL;
