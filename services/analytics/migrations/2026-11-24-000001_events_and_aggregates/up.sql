-- Analytics' own tables. Everything here is derived from the domain events
-- of bank.events.v1; no other service's table is ever read.

-- Every event applied, keyed by its id: the deduplication record (an id
-- inserted here is applied in the same transaction, exactly once) and, in
-- consumption order (`position`), the feed WatchEvents replays. The
-- encoded Event is dropped after a retention; the id stays forever.
CREATE TABLE analytics.events (
    event_id    uuid        PRIMARY KEY,
    position    bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_type  integer     NOT NULL,
    producer    text        NOT NULL,
    sequence    bigint      NOT NULL,
    occurred_at timestamptz NOT NULL,
    consumed_at timestamptz NOT NULL DEFAULT now(),
    payload     bytea
);
CREATE INDEX events_type_position_idx ON analytics.events (event_type, position);
CREATE INDEX events_occurred_at_idx ON analytics.events (occurred_at);
CREATE INDEX events_payload_kept_idx ON analytics.events (position) WHERE payload IS NOT NULL;

-- Stream entries that are not a usable Event (undecodable, no UUID event
-- id) or that failed to apply on their own: kept with their bytes for a
-- human, and acknowledged so that one bad entry cannot stall a stream.
CREATE TABLE analytics.rejected_entries (
    stream      text        NOT NULL,
    entry_id    text        NOT NULL,
    reason      text        NOT NULL,
    payload     bytea       NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, entry_id)
);

-- Users by registration time (UserRegistered).
CREATE TABLE analytics.users (
    user_id       uuid        PRIMARY KEY,
    registered_at timestamptz NOT NULL
);
CREATE INDEX users_registered_at_idx ON analytics.users (registered_at);

-- Successful and failed log-ins per user and UTC day.
CREATE TABLE analytics.logins_daily (
    day           date        NOT NULL,
    user_id       uuid        NOT NULL,
    login_count   bigint      NOT NULL DEFAULT 0 CHECK (login_count >= 0),
    failed_count  bigint      NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
    last_login_at timestamptz,
    PRIMARY KEY (day, user_id),
    CONSTRAINT last_login_iff_logins CHECK ((login_count = 0) = (last_login_at IS NULL))
);

-- Failed log-ins per UTC day and reason, including unknown emails (no user).
CREATE TABLE analytics.login_failures_daily (
    day    date    NOT NULL,
    reason integer NOT NULL,
    count  bigint  NOT NULL CHECK (count > 0),
    PRIMARY KEY (day, reason)
);

-- Users active on a UTC day: logged in or initiated a transfer.
CREATE TABLE analytics.active_users_daily (
    day     date NOT NULL,
    user_id uuid NOT NULL,
    PRIMARY KEY (day, user_id)
);

-- Posted transfers per UTC day and currency. The volume is numeric so that
-- a sum past i64 cannot make an event unappliable; readers saturate.
CREATE TABLE analytics.transfers_daily (
    day      date    NOT NULL,
    currency text    NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    count    bigint  NOT NULL CHECK (count > 0),
    volume   numeric NOT NULL CHECK (volume > 0),
    PRIMARY KEY (day, currency)
);

-- Declined transfer attempts per UTC day and bank.transfer.v1.DeclineReason.
CREATE TABLE analytics.declines_daily (
    day    date    NOT NULL,
    reason integer NOT NULL,
    count  bigint  NOT NULL CHECK (count > 0),
    PRIMARY KEY (day, reason)
);

-- Loan applications with their latest known status. Events of one
-- application may be applied out of order (a claimed retry): the status
-- with the newest (status_at, status_sequence) wins, and submitted_at is
-- filled whenever ApplicationSubmitted arrives.
CREATE TABLE analytics.applications (
    application_id    uuid        PRIMARY KEY,
    applicant_user_id uuid        NOT NULL,
    submitted_at      timestamptz,
    status            integer     NOT NULL,
    status_at         timestamptz NOT NULL,
    status_sequence   bigint      NOT NULL
);
CREATE INDEX applications_submitted_at_idx ON analytics.applications (submitted_at);

-- Financing-option selections per UTC day, user and option.
CREATE TABLE analytics.option_selections_daily (
    day          date    NOT NULL,
    user_id      uuid    NOT NULL,
    option_id    uuid    NOT NULL,
    product_type integer NOT NULL,
    count        bigint  NOT NULL CHECK (count > 0),
    PRIMARY KEY (day, user_id, option_id)
);

-- Account -> owner (and opening time), learned from AccountOpened (and
-- from CardIssued / AccountStatusChanged, which also carry the owner).
CREATE TABLE analytics.accounts (
    account_id    uuid        PRIMARY KEY,
    owner_user_id uuid,
    currency      text,
    opened_at     timestamptz
);
CREATE INDEX accounts_owner_idx ON analytics.accounts (owner_user_id) WHERE owner_user_id IS NOT NULL;

-- Posted transfers (TransferPosted): the input of the fraud rules and of
-- members' spending, which joins them with `accounts` when asked, so an
-- account's owner may become known after its transfers were consumed.
CREATE TABLE analytics.transfers (
    transfer_id       uuid        PRIMARY KEY,
    kind              integer     NOT NULL,
    debit_account_id  uuid        NOT NULL,
    credit_account_id uuid        NOT NULL,
    amount_minor      bigint      NOT NULL CHECK (amount_minor > 0),
    currency          text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    posted_at         timestamptz NOT NULL,
    initiator_user_id uuid
);
CREATE INDEX transfers_debit_idx ON analytics.transfers (debit_account_id, posted_at);
CREATE INDEX transfers_credit_idx ON analytics.transfers (credit_account_id, posted_at);

-- Fraud flags: at most one per transfer and rule (an event applied twice,
-- or a rule evaluated again later, flags once).
CREATE TABLE analytics.flags (
    flag_id           uuid        PRIMARY KEY,
    transfer_id       uuid        NOT NULL,
    rule              smallint    NOT NULL CHECK (rule IN (1, 2, 3)),
    detail            text        NOT NULL,
    debit_account_id  uuid        NOT NULL,
    credit_account_id uuid        NOT NULL,
    amount_minor      bigint      NOT NULL CHECK (amount_minor > 0),
    currency          text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    transfer_time     timestamptz NOT NULL,
    flag_time         timestamptz NOT NULL,
    review_status     smallint    NOT NULL DEFAULT 1 CHECK (review_status IN (1, 2)),
    review_outcome    smallint    NOT NULL DEFAULT 0 CHECK (review_outcome IN (0, 1, 2)),
    review_note       text        NOT NULL DEFAULT '' CHECK (char_length(review_note) <= 1000),
    reviewer_user_id  uuid,
    review_time       timestamptz,
    CONSTRAINT one_flag_per_rule UNIQUE (transfer_id, rule),
    CONSTRAINT review_consistent CHECK (
        (review_status = 1 AND review_outcome = 0 AND review_note = ''
            AND reviewer_user_id IS NULL AND review_time IS NULL)
        OR (review_status = 2 AND review_outcome IN (1, 2) AND char_length(review_note) >= 1
            AND reviewer_user_id IS NOT NULL AND review_time IS NOT NULL)
    )
);
CREATE INDEX flags_time_idx ON analytics.flags (flag_time DESC, flag_id DESC);
CREATE INDEX flags_debit_idx ON analytics.flags (debit_account_id);
CREATE INDEX flags_credit_idx ON analytics.flags (credit_account_id);
