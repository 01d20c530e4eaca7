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

#[derive(QueryableByName)]
struct NewTransfer {
    #[diesel(sql_type = SqlUuid)]
    transfer_id: Uuid,
}

#[derive(QueryableByName)]
struct Recent {
    #[diesel(sql_type = BigInt)]
    ord: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Opened {
    #[diesel(sql_type = SqlUuid)]
    account_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    opened_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Flagged {
    #[diesel(sql_type = SqlUuid)]
    transfer_id: Uuid,
    #[diesel(sql_type = SmallInt)]
    rule: i16,
}

/// Applies consecutive posted transfers of one batch with a fixed number
/// of statements whatever their count (the per-event path costs five or
/// more each, and a busy ledger posts thousands a second). Same outcome as
/// applying them one by one, except that the velocity rule counts every
/// transfer of the run posted up to each one's time, including those that
/// arrived out of order within the run.
async fn apply_posted_run(
    conn: &mut AsyncPgConnection,
    run: &[(&Envelope, &Posted)],
    rules: &FraudRules,
) -> diesel::QueryResult<()> {
    if run.is_empty() {
        return Ok(());
    }
    let inserted: Vec<NewTransfer> = diesel::sql_query(
        "INSERT INTO analytics.transfers (transfer_id, kind, debit_account_id, credit_account_id, amount_minor, \
                                          currency, posted_at, initiator_user_id) \
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::uuid[], $5::int8[], $6::text[], \
                              $7::timestamptz[], $8::uuid[]) \
         ON CONFLICT (transfer_id) DO NOTHING RETURNING transfer_id",
    )
    .bind::<Array<SqlUuid>, _>(run.iter().map(|(_, t)| t.transfer_id).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(run.iter().map(|(_, t)| t.kind).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(run.iter().map(|(_, t)| t.debit_account_id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(run.iter().map(|(_, t)| t.credit_account_id).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(run.iter().map(|(_, t)| t.amount_minor).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(run.iter().map(|(_, t)| t.currency.clone()).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(run.iter().map(|(e, _)| e.occurred_at).collect::<Vec<_>>())
    .bind::<Array<Nullable<SqlUuid>>, _>(run.iter().map(|(_, t)| t.initiator).collect::<Vec<_>>())
    .load(conn)
    .await?;
    // Each transfer counts once: the first event of a newly inserted one.
    let mut fresh: std::collections::HashSet<Uuid> = inserted.into_iter().map(|r| r.transfer_id).collect();
    let mut new: Vec<(&Envelope, &Posted)> = Vec::with_capacity(run.len());
    for &(env, transfer) in run {
        if fresh.remove(&transfer.transfer_id) {
            new.push((env, transfer));
        } else {
            tracing::warn!(transfer_id = %transfer.transfer_id, event_id = %env.event_id, "transfer already consumed; event ignored");
        }
    }
    if new.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO analytics.transfers_daily (day, currency, count, volume) \
         SELECT day, currency, count(*), sum(amount) FROM unnest($1::date[], $2::text[], $3::int8[]) \
              AS u(day, currency, amount) GROUP BY day, currency \
         ON CONFLICT (day, currency) DO UPDATE \
         SET count = transfers_daily.count + excluded.count, volume = transfers_daily.volume + excluded.volume",
    )
    .bind::<Array<Date>, _>(new.iter().map(|(e, _)| e.day()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(new.iter().map(|(_, t)| t.currency.clone()).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(new.iter().map(|(_, t)| t.amount_minor).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    let mut active: Vec<(chrono::NaiveDate, Uuid)> = new
        .iter()
        .filter_map(|(e, t)| t.initiator.map(|user| (e.day(), user)))
        .collect();
    active.sort_unstable();
    active.dedup();
    if !active.is_empty() {
        diesel::sql_query(
            "INSERT INTO analytics.active_users_daily (day, user_id) \
             SELECT * FROM unnest($1::date[], $2::uuid[]) ON CONFLICT DO NOTHING",
        )
        .bind::<Array<Date>, _>(active.iter().map(|(day, _)| *day).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(active.iter().map(|(_, user)| *user).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    }

    let watched: Vec<(&Envelope, &Posted)> = new.into_iter().filter(|(_, t)| rules.watches(t)).collect();
    if watched.is_empty() {
        return Ok(());
    }
    let mut raised: Vec<(&Posted, DateTime<Utc>, Raised)> = Vec::new();
    for &(env, transfer) in &watched {
        if let Some(r) = rules.large_amount(transfer) {
            raised.push((transfer, env.occurred_at, r));
        }
    }
    // Velocity: each transfer's debit account, counted up to one past the
    // limit (see `FraudRules::velocity_count_cap`).
    let recent: Vec<Recent> = diesel::sql_query(
        "SELECT u.ord, (SELECT COUNT(*) FROM (SELECT 1 FROM analytics.transfers t \
                 WHERE t.debit_account_id = u.debit AND t.posted_at > u.since AND t.posted_at <= u.until \
                 LIMIT $4) AS r) AS n \
         FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS u(debit, since, until, ord)",
    )
    .bind::<Array<SqlUuid>, _>(watched.iter().map(|(_, t)| t.debit_account_id).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(
        watched
            .iter()
            .map(|(e, _)| e.occurred_at - rules.velocity_window())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Timestamptz>, _>(watched.iter().map(|(e, _)| e.occurred_at).collect::<Vec<_>>())
    .bind::<BigInt, _>(rules.velocity_count_cap())
    .load(conn)
    .await?;
    for row in recent {
        let index = usize::try_from(row.ord - 1).unwrap_or(usize::MAX);
        if let (Some(&(env, transfer)), Some(r)) = (watched.get(index), rules.high_velocity(row.n)) {
            raised.push((transfer, env.occurred_at, r));
        }
    }
    let mut debits: Vec<Uuid> = watched.iter().map(|(_, t)| t.debit_account_id).collect();
    debits.sort_unstable();
    debits.dedup();
    let opened: std::collections::HashMap<Uuid, DateTime<Utc>> = diesel::sql_query(
        "SELECT account_id, opened_at FROM analytics.accounts \
         WHERE account_id = ANY($1) AND opened_at IS NOT NULL",
    )
    .bind::<Array<SqlUuid>, _>(debits)
    .load::<Opened>(conn)
    .await?
    .into_iter()
    .map(|o| (o.account_id, o.opened_at))
    .collect();
    for &(env, transfer) in &watched {
        if let Some(&opened_at) = opened.get(&transfer.debit_account_id)
            && let Some(r) = rules.new_account(transfer, env.occurred_at, opened_at)
        {
            raised.push((transfer, env.occurred_at, r));
        }
    }
    raise_many(conn, &raised).await
}

/// Records `raised` flags (at most one per transfer and rule) and logs the
/// new ones.
async fn raise_many(
    conn: &mut AsyncPgConnection,
    raised: &[(&Posted, DateTime<Utc>, Raised)],
) -> diesel::QueryResult<()> {
    if raised.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let flagged: Vec<Flagged> = diesel::sql_query(
        "INSERT INTO analytics.flags (flag_id, transfer_id, rule, detail, debit_account_id, credit_account_id, \
                                      amount_minor, currency, transfer_time, flag_time) \
         SELECT u.*, $10 FROM unnest($1::uuid[], $2::uuid[], $3::int2[], $4::text[], $5::uuid[], $6::uuid[], \
                                     $7::int8[], $8::text[], $9::timestamptz[]) AS u \
         ON CONFLICT (transfer_id, rule) DO NOTHING RETURNING transfer_id, rule",
    )
    .bind::<Array<SqlUuid>, _>(raised.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(raised.iter().map(|(t, _, _)| t.transfer_id).collect::<Vec<_>>())
    .bind::<Array<SmallInt>, _>(raised.iter().map(|(_, _, r)| r.rule.code()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(raised.iter().map(|(_, _, r)| r.detail.clone()).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(raised.iter().map(|(t, _, _)| t.debit_account_id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(raised.iter().map(|(t, _, _)| t.credit_account_id).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(raised.iter().map(|(t, _, _)| t.amount_minor).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(raised.iter().map(|(t, _, _)| t.currency.clone()).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(raised.iter().map(|(_, at, _)| *at).collect::<Vec<_>>())
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await?;
    for flag in flagged {
        if let Some((transfer, _, r)) = raised
            .iter()
            .find(|(t, _, r)| t.transfer_id == flag.transfer_id && r.rule.code() == flag.rule)
        {
            tracing::info!(
                transfer_id = %transfer.transfer_id,
                debit_account_id = %transfer.debit_account_id,
                rule = ?r.rule,
                "fraud flag raised"
            );
        }
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
    let earlier: Vec<(Posted, DateTime<Utc>)> = earlier
        .into_iter()
        .map(|row| {
            let transfer = Posted {
                transfer_id: row.transfer_id,
                kind: row.kind,
                debit_account_id: row.debit_account_id,
                credit_account_id: row.credit_account_id,
                amount_minor: row.amount_minor,
                currency: row.currency,
                initiator: None,
            };
            (transfer, row.posted_at)
        })
        .collect();
    let raised: Vec<(&Posted, DateTime<Utc>, Raised)> = earlier
        .iter()
        .filter(|(transfer, _)| rules.watches(transfer))
        .filter_map(|(transfer, posted_at)| {
            rules
                .new_account(transfer, *posted_at, env.occurred_at)
                .map(|r| (transfer, *posted_at, r))
        })
        .collect();
    raise_many(conn, &raised).await
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
        Fact::TransferPosted(transfer) => apply_posted_run(conn, &[(env, transfer)], rules).await?,
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
                // In consumption order; consecutive posted transfers go
                // together, set-based.
                let mut run: Vec<(&Envelope, &Posted)> = Vec::new();
                for new in &applied {
                    let Some(incoming) = events.get(new.index) else {
                        continue;
                    };
                    if let Fact::TransferPosted(transfer) = &incoming.fact {
                        run.push((&incoming.envelope, transfer));
                        continue;
                    }
                    apply_posted_run(conn, &run, rules).await?;
                    run.clear();
                    apply(conn, incoming, rules).await?;
                }
                apply_posted_run(conn, &run, rules).await?;
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
