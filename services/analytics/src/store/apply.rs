//! What the consumer writes. One batch is one transaction: the event ids
//! go into `events` (a conflict means "already applied", so that event is
//! skipped), then each new event updates the aggregates and may raise
//! fraud flags. Nothing is acknowledged to Redis before this commits.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bytea, Date, Integer, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{Store, StoreError};
use crate::events::{Envelope, Fact, Posted};
use crate::fraud::{FraudRules, Raised};

/// Transfers looked at when an account's opening arrives after them
/// (RULE_NEW_ACCOUNT_LARGE_TRANSFER evaluated late).
const LATE_NEW_ACCOUNT_SCAN_MAX: i64 = 1_000;
/// Event payloads dropped per pruning statement.
const PRUNE_BATCH_MAX: i64 = 1_000;
/// Stored rejection reasons are cut to this many characters.
const REJECT_REASON_MAX_CHARS: usize = 500;

/// A decoded event of one stream entry, ready to apply.
#[derive(Clone, Debug)]
pub struct Incoming {
    /// Its envelope.
    pub envelope: Envelope,
    /// What it contributes.
    pub fact: Fact,
    /// The encoded Event (kept for WatchEvents' replay).
    pub payload: Vec<u8>,
}

/// A stream entry that is not a usable event.
#[derive(Clone, Debug)]
pub struct Rejected {
    /// The stream key.
    pub stream: String,
    /// The entry id.
    pub entry_id: String,
    /// Why.
    pub reason: String,
    /// The entry's `event` field as received (may be empty).
    pub payload: Vec<u8>,
}

/// An event this batch applied for the first time.
#[derive(Clone, Copy, Debug)]
pub struct Applied {
    /// Index in the batch's `Incoming` slice.
    pub index: usize,
    /// Its position in consumption order.
    pub position: i64,
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = SqlUuid)]
    event_id: Uuid,
    #[diesel(sql_type = BigInt)]
    position: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct OpenedAt {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    opened_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct TransferRow {
    #[diesel(sql_type = SqlUuid)]
    transfer_id: Uuid,
    #[diesel(sql_type = Integer)]
    kind: i32,
    #[diesel(sql_type = SqlUuid)]
    debit_account_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    credit_account_id: Uuid,
    #[diesel(sql_type = BigInt)]
    amount_minor: i64,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = Timestamptz)]
    posted_at: DateTime<Utc>,
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

async fn insert_rejected(conn: &mut AsyncPgConnection, rejected: &[Rejected]) -> diesel::QueryResult<()> {
    if rejected.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO analytics.rejected_entries (stream, entry_id, reason, payload) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) \
         ON CONFLICT (stream, entry_id) DO NOTHING",
    )
    .bind::<Array<Text>, _>(rejected.iter().map(|r| r.stream.clone()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rejected.iter().map(|r| r.entry_id.clone()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        rejected
            .iter()
            .map(|r| truncate(&r.reason, REJECT_REASON_MAX_CHARS))
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Bytea>, _>(rejected.iter().map(|r| r.payload.clone()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the ids of `events` (in order) and returns those that were new.
async fn insert_events(conn: &mut AsyncPgConnection, events: &[Incoming]) -> diesel::QueryResult<Vec<Applied>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let inserted: Vec<Inserted> = diesel::sql_query(
        "INSERT INTO analytics.events (event_id, event_type, producer, sequence, occurred_at, payload) \
         SELECT u.event_id, u.event_type, u.producer, u.sequence, u.occurred_at, u.payload \
         FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bigint[], $5::timestamptz[], $6::bytea[]) \
              WITH ORDINALITY AS u(event_id, event_type, producer, sequence, occurred_at, payload, ord) \
         ORDER BY u.ord \
         ON CONFLICT (event_id) DO NOTHING \
         RETURNING event_id, position",
    )
    .bind::<Array<SqlUuid>, _>(events.iter().map(|e| e.envelope.event_id).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(events.iter().map(|e| e.envelope.event_type).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(events.iter().map(|e| e.envelope.producer.clone()).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(events.iter().map(|e| e.envelope.sequence).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(events.iter().map(|e| e.envelope.occurred_at).collect::<Vec<_>>())
    .bind::<Array<Bytea>, _>(events.iter().map(|e| e.payload.clone()).collect::<Vec<_>>())
    .load(conn)
    .await?;
    let positions: std::collections::HashMap<Uuid, i64> =
        inserted.into_iter().map(|row| (row.event_id, row.position)).collect();
    let mut applied: Vec<Applied> = events
        .iter()
        .enumerate()
        .filter_map(|(index, e)| {
            positions
                .get(&e.envelope.event_id)
                .map(|&position| Applied { index, position })
        })
        .collect();
    applied.sort_by_key(|a| a.position);
    Ok(applied)
}

async fn mark_active(conn: &mut AsyncPgConnection, env: &Envelope, user: Uuid) -> diesel::QueryResult<()> {
    diesel::sql_query("INSERT INTO analytics.active_users_daily (day, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind::<Date, _>(env.day())
        .bind::<SqlUuid, _>(user)
        .execute(conn)
        .await?;
    Ok(())
}

async fn raise(
    conn: &mut AsyncPgConnection,
    transfer: &Posted,
    posted_at: DateTime<Utc>,
    raised: Raised,
) -> diesel::QueryResult<()> {
    let inserted = diesel::sql_query(
        "INSERT INTO analytics.flags (flag_id, transfer_id, rule, detail, debit_account_id, credit_account_id, \
                                      amount_minor, currency, transfer_time, flag_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (transfer_id, rule) DO NOTHING",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(transfer.transfer_id)
    .bind::<SmallInt, _>(raised.rule.code())
    .bind::<Text, _>(&raised.detail)
    .bind::<SqlUuid, _>(transfer.debit_account_id)
    .bind::<SqlUuid, _>(transfer.credit_account_id)
    .bind::<BigInt, _>(transfer.amount_minor)
    .bind::<Text, _>(&transfer.currency)
    .bind::<Timestamptz, _>(posted_at)
    .bind::<Timestamptz, _>(Utc::now())
    .execute(conn)
    .await?;
    if inserted == 1 {
        tracing::info!(
            transfer_id = %transfer.transfer_id,
            debit_account_id = %transfer.debit_account_id,
            rule = ?raised.rule,
            "fraud flag raised"
        );
    }
    Ok(())
}

async fn apply_posted(
    conn: &mut AsyncPgConnection,
    env: &Envelope,
    transfer: &Posted,
    rules: &FraudRules,
) -> diesel::QueryResult<()> {
    let posted_at = env.occurred_at;
    let inserted = diesel::sql_query(
        "INSERT INTO analytics.transfers (transfer_id, kind, debit_account_id, credit_account_id, amount_minor, \
                                          currency, posted_at, initiator_user_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (transfer_id) DO NOTHING",
    )
    .bind::<SqlUuid, _>(transfer.transfer_id)
    .bind::<Integer, _>(transfer.kind)
    .bind::<SqlUuid, _>(transfer.debit_account_id)
    .bind::<SqlUuid, _>(transfer.credit_account_id)
    .bind::<BigInt, _>(transfer.amount_minor)
    .bind::<Text, _>(&transfer.currency)
    .bind::<Timestamptz, _>(posted_at)
    .bind::<Nullable<SqlUuid>, _>(transfer.initiator)
    .execute(conn)
    .await?;
    if inserted == 0 {
        // The same transfer under another event id: count it once.
        tracing::warn!(transfer_id = %transfer.transfer_id, event_id = %env.event_id, "transfer already consumed; event ignored");
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO analytics.transfers_daily (day, currency, count, volume) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (day, currency) DO UPDATE \
         SET count = transfers_daily.count + 1, volume = transfers_daily.volume + excluded.volume",
    )
    .bind::<Date, _>(env.day())
    .bind::<Text, _>(&transfer.currency)
    .bind::<BigInt, _>(transfer.amount_minor)
    .execute(conn)
    .await?;
    if let Some(user) = transfer.initiator {
        mark_active(conn, env, user).await?;
    }
    if !rules.watches(transfer) {
        return Ok(());
    }
    if let Some(raised) = rules.large_amount(transfer) {
        raise(conn, transfer, posted_at, raised).await?;
    }
    // Counted up to one past the limit: the rule only asks whether the
    // limit is exceeded, and an uncapped count read the account's whole
    // window for every transfer (quadratic in a busy account's rate).
    let recent: Count = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM analytics.transfers \
         WHERE debit_account_id = $1 AND posted_at > $2 AND posted_at <= $3 LIMIT $4) AS recent",
    )
    .bind::<SqlUuid, _>(transfer.debit_account_id)
    .bind::<Timestamptz, _>(posted_at - rules.velocity_window())
    .bind::<Timestamptz, _>(posted_at)
    .bind::<BigInt, _>(rules.velocity_count_cap())
    .get_result(conn)
    .await?;
    if let Some(raised) = rules.high_velocity(recent.n) {
        raise(conn, transfer, posted_at, raised).await?;
    }
    let opened: Option<OpenedAt> = diesel::sql_query("SELECT opened_at FROM analytics.accounts WHERE account_id = $1")
        .bind::<SqlUuid, _>(transfer.debit_account_id)
        .get_results(conn)
        .await?
        .pop();
    if let Some(opened_at) = opened.and_then(|o| o.opened_at)
        && let Some(raised) = rules.new_account(transfer, posted_at, opened_at)
    {
        raise(conn, transfer, posted_at, raised).await?;
    }
    Ok(())
}

/// An account's opening arrived: record it, then evaluate the new-account
/// rule on its transfers that were consumed before it (the account and
/// transfer streams are not ordered with each other).
async fn apply_opened(
    conn: &mut AsyncPgConnection,
    env: &Envelope,
    account: Uuid,
    owner: Option<Uuid>,
    currency: Option<&str>,
    rules: &FraudRules,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO analytics.accounts (account_id, owner_user_id, currency, opened_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id) DO UPDATE SET \
            owner_user_id = COALESCE(excluded.owner_user_id, accounts.owner_user_id), \
            currency = COALESCE(excluded.currency, accounts.currency), \
            opened_at = excluded.opened_at",
    )
    .bind::<SqlUuid, _>(account)
    .bind::<Nullable<SqlUuid>, _>(owner)
    .bind::<Nullable<Text>, _>(currency)
    .bind::<Timestamptz, _>(env.occurred_at)
    .execute(conn)
    .await?;
    let earlier: Vec<TransferRow> = diesel::sql_query(
        "SELECT transfer_id, kind, debit_account_id, credit_account_id, amount_minor, currency, posted_at \
         FROM analytics.transfers WHERE debit_account_id = $1 AND posted_at < $2 \
         ORDER BY posted_at LIMIT $3",
    )
    .bind::<SqlUuid, _>(account)
    .bind::<Timestamptz, _>(env.occurred_at + chrono::Duration::hours(crate::fraud::NEW_ACCOUNT_AGE_HOURS))
    .bind::<BigInt, _>(LATE_NEW_ACCOUNT_SCAN_MAX)
    .load(conn)
    .await?;
    for row in earlier {
        let transfer = Posted {
            transfer_id: row.transfer_id,
            kind: row.kind,
            debit_account_id: row.debit_account_id,
            credit_account_id: row.credit_account_id,
            amount_minor: row.amount_minor,
            currency: row.currency,
            initiator: None,
        };
        if rules.watches(&transfer)
            && let Some(raised) = rules.new_account(&transfer, row.posted_at, env.occurred_at)
        {
            raise(conn, &transfer, row.posted_at, raised).await?;
        }
    }
    Ok(())
}

/// Updates the aggregates for one new event.
async fn apply(conn: &mut AsyncPgConnection, incoming: &Incoming, rules: &FraudRules) -> diesel::QueryResult<()> {
    let env = &incoming.envelope;
    match &incoming.fact {
        Fact::UserRegistered { user } => {
            diesel::sql_query(
                "INSERT INTO analytics.users (user_id, registered_at) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO UPDATE SET registered_at = LEAST(users.registered_at, excluded.registered_at)",
            )
            .bind::<SqlUuid, _>(*user)
            .bind::<Timestamptz, _>(env.occurred_at)
            .execute(conn)
            .await?;
        }
        Fact::UserLoggedIn { user } => {
            diesel::sql_query(
                "INSERT INTO analytics.logins_daily (day, user_id, login_count, last_login_at) VALUES ($1, $2, 1, $3) \
                 ON CONFLICT (day, user_id) DO UPDATE SET login_count = logins_daily.login_count + 1, \
                    last_login_at = GREATEST(logins_daily.last_login_at, excluded.last_login_at)",
            )
            .bind::<Date, _>(env.day())
            .bind::<SqlUuid, _>(*user)
            .bind::<Timestamptz, _>(env.occurred_at)
            .execute(conn)
            .await?;
            mark_active(conn, env, *user).await?;
        }
        Fact::LoginFailed { user, reason } => {
            diesel::sql_query(
                "INSERT INTO analytics.login_failures_daily (day, reason, count) VALUES ($1, $2, 1) \
                 ON CONFLICT (day, reason) DO UPDATE SET count = login_failures_daily.count + 1",
            )
            .bind::<Date, _>(env.day())
            .bind::<Integer, _>(*reason)
            .execute(conn)
            .await?;
            if let Some(user) = user {
                diesel::sql_query(
                    "INSERT INTO analytics.logins_daily (day, user_id, failed_count) VALUES ($1, $2, 1) \
                     ON CONFLICT (day, user_id) DO UPDATE SET failed_count = logins_daily.failed_count + 1",
                )
                .bind::<Date, _>(env.day())
                .bind::<SqlUuid, _>(*user)
                .execute(conn)
                .await?;
            }
        }
        Fact::AccountOpened {
            account,
            owner,
            currency,
        } => apply_opened(conn, env, *account, *owner, currency.as_deref(), rules).await?,
        Fact::AccountOwner { account, owner } => {
            diesel::sql_query(
                "INSERT INTO analytics.accounts (account_id, owner_user_id) VALUES ($1, $2) \
                 ON CONFLICT (account_id) DO UPDATE \
                 SET owner_user_id = COALESCE(accounts.owner_user_id, excluded.owner_user_id)",
            )
            .bind::<SqlUuid, _>(*account)
            .bind::<SqlUuid, _>(*owner)
            .execute(conn)
            .await?;
        }
        Fact::TransferPosted(transfer) => apply_posted(conn, env, transfer, rules).await?,
        Fact::TransferDeclined { reason, initiator } => {
            diesel::sql_query(
                "INSERT INTO analytics.declines_daily (day, reason, count) VALUES ($1, $2, 1) \
                 ON CONFLICT (day, reason) DO UPDATE SET count = declines_daily.count + 1",
            )
            .bind::<Date, _>(env.day())
            .bind::<Integer, _>(*reason)
            .execute(conn)
            .await?;
            if let Some(user) = initiator {
                mark_active(conn, env, *user).await?;
            }
        }
        Fact::TransferInitiated { initiator } => mark_active(conn, env, *initiator).await?,
        Fact::ApplicationSubmitted { application, applicant } => {
            // A resubmission is a status change too; the first submission
            // time is the application's.
            diesel::sql_query(
                "INSERT INTO analytics.applications \
                    (application_id, applicant_user_id, submitted_at, status, status_at, status_sequence) \
                 VALUES ($1, $2, $3, $4, $3, $5) \
                 ON CONFLICT (application_id) DO UPDATE SET \
                    submitted_at = LEAST(applications.submitted_at, excluded.submitted_at), \
                    status = CASE WHEN (excluded.status_at, excluded.status_sequence) \
                                     > (applications.status_at, applications.status_sequence) \
                             THEN excluded.status ELSE applications.status END, \
                    status_sequence = CASE WHEN (excluded.status_at, excluded.status_sequence) \
                                     > (applications.status_at, applications.status_sequence) \
                             THEN excluded.status_sequence ELSE applications.status_sequence END, \
                    status_at = GREATEST(applications.status_at, excluded.status_at)",
            )
            .bind::<SqlUuid, _>(*application)
            .bind::<SqlUuid, _>(*applicant)
            .bind::<Timestamptz, _>(env.occurred_at)
            .bind::<Integer, _>(bank_proto::bank::finance::v1::ApplicationStatus::Submitted as i32)
            .bind::<BigInt, _>(env.sequence)
            .execute(conn)
            .await?;
        }
        Fact::ApplicationDecided {
            application,
            applicant,
            status,
        } => {
            diesel::sql_query(
                "INSERT INTO analytics.applications \
                    (application_id, applicant_user_id, submitted_at, status, status_at, status_sequence) \
                 VALUES ($1, $2, NULL, $3, $4, $5) \
                 ON CONFLICT (application_id) DO UPDATE SET \
                    status = excluded.status, status_at = excluded.status_at, \
                    status_sequence = excluded.status_sequence \
                 WHERE (excluded.status_at, excluded.status_sequence) \
                     > (applications.status_at, applications.status_sequence)",
            )
            .bind::<SqlUuid, _>(*application)
            .bind::<SqlUuid, _>(*applicant)
            .bind::<Integer, _>(*status)
            .bind::<Timestamptz, _>(env.occurred_at)
            .bind::<BigInt, _>(env.sequence)
            .execute(conn)
            .await?;
        }
        Fact::OptionSelected {
            user,
            option,
            product_type,
        } => {
            diesel::sql_query(
                "INSERT INTO analytics.option_selections_daily (day, user_id, option_id, product_type, count) \
                 VALUES ($1, $2, $3, $4, 1) \
                 ON CONFLICT (day, user_id, option_id) DO UPDATE \
                 SET count = option_selections_daily.count + 1, product_type = excluded.product_type",
            )
            .bind::<Date, _>(env.day())
            .bind::<SqlUuid, _>(*user)
            .bind::<SqlUuid, _>(*option)
            .bind::<Integer, _>(*product_type)
            .execute(conn)
            .await?;
        }
        Fact::Nothing(problem) => {
            if let Some(problem) = problem {
                tracing::warn!(event_id = %env.event_id, event_type = env.event_type, problem, "event payload unusable; kept but not aggregated");
            }
        }
    }
    Ok(())
}

impl Store {
    /// Applies one batch in one transaction: records `rejected` entries,
    /// records every event id, and updates the aggregates for the events
    /// seen for the first time. Returns those, in consumption order.
    pub async fn apply_batch(
        &self,
        events: &[Incoming],
        rejected: &[Rejected],
        rules: &FraudRules,
    ) -> Result<Vec<Applied>, StoreError> {
        let mut conn = self.conn().await?;
        let applied = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                insert_rejected(conn, rejected).await?;
                let applied = insert_events(conn, events).await?;
                for new in &applied {
                    if let Some(incoming) = events.get(new.index) {
                        apply(conn, incoming, rules).await?;
                    }
                }
                Ok(applied)
            })
            .await?;
        Ok(applied)
    }

    /// Drops the payloads of events consumed more than `retention` ago
    /// (their ids stay, for deduplication). Returns how many.
    pub async fn prune_payloads(&self, retention: chrono::Duration) -> Result<usize, StoreError> {
        let mut conn = self.conn().await?;
        let pruned = diesel::sql_query(
            "UPDATE analytics.events SET payload = NULL WHERE event_id IN ( \
                SELECT event_id FROM analytics.events \
                WHERE payload IS NOT NULL AND consumed_at < $1 ORDER BY consumed_at LIMIT $2)",
        )
        .bind::<Timestamptz, _>(Utc::now() - retention)
        .bind::<BigInt, _>(PRUNE_BATCH_MAX)
        .execute(&mut conn)
        .await?;
        Ok(pruned)
    }
}
