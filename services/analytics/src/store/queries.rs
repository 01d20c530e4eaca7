//! What the handlers read (and the one thing they write: a flag's review).
//! Sums are computed as numeric and saturate at i64 on the way out, so a
//! huge total is reported as the largest amount instead of failing.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Integer, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use super::{Store, StoreError};
use crate::schema::flags;

/// `flags.review_status`: reviewed.
pub const REVIEW_DONE: i16 = 2;

/// A page position of ListFlaggedTransfers: the last flag's (time, id).
pub type Cursor = (DateTime<Utc>, Uuid);

/// `value` clamped into i64 (sums are numeric in SQL).
pub fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

/// The days of a summary, inclusive.
#[derive(Clone, Copy, Debug)]
pub struct SummaryRange {
    /// First day (UTC).
    pub start: NaiveDate,
    /// Last day (UTC).
    pub end: NaiveDate,
    /// Rows of the per-user lists.
    pub top_users: i64,
}

#[derive(QueryableByName, Debug)]
struct Users {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    new: i64,
}

#[derive(QueryableByName, Debug)]
struct Total {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// One user's log-ins in the range.
#[derive(QueryableByName, Debug)]
pub struct LoginRow {
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// Successful log-ins.
    #[diesel(sql_type = BigInt)]
    pub logins: i64,
    /// Failed log-ins.
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    /// Latest successful log-in.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A count of one day.
#[derive(QueryableByName, Debug)]
pub struct DayCount {
    /// The day.
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    /// The count.
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Posted transfers of one day and currency.
#[derive(QueryableByName, Debug)]
pub struct VolumeRow {
    /// The day.
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    /// ISO-4217 code.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub currency: String,
    /// Number of transfers.
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    /// Sum of amounts (saturated).
    #[diesel(sql_type = BigInt)]
    pub volume: i64,
}

/// A count per enum value (decline reason, application status).
#[derive(QueryableByName, Debug)]
pub struct CodeCount {
    /// The enum number.
    #[diesel(sql_type = Integer)]
    pub code: i32,
    /// The count.
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Selections of one option by one user.
#[derive(QueryableByName, Debug)]
pub struct SelectionRow {
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// The option.
    #[diesel(sql_type = SqlUuid)]
    pub option_id: Uuid,
    /// ProductType number.
    #[diesel(sql_type = Integer)]
    pub product_type: i32,
    /// Number of selections.
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

#[derive(QueryableByName, Debug)]
struct Newest {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<DateTime<Utc>>,
}

/// Everything GetSummary reports, read from one snapshot.
#[derive(Debug)]
pub struct SummaryData {
    /// Users registered up to the end of the range.
    pub total_users: i64,
    /// Users registered within it.
    pub new_users: i64,
    /// Successful log-ins.
    pub total_logins: i64,
    /// Failed log-ins.
    pub failed_logins: i64,
    /// Per user, most log-ins first.
    pub logins_per_user: Vec<LoginRow>,
    /// One row per day, zeros included.
    pub active_users_by_day: Vec<DayCount>,
    /// Per day and currency.
    pub transfers_by_day: Vec<VolumeRow>,
    /// Per decline reason, most first.
    pub declines_by_reason: Vec<CodeCount>,
    /// Applications submitted in the range by current status.
    pub applications_by_status: Vec<CodeCount>,
    /// Per user and option, most first.
    pub option_selections: Vec<SelectionRow>,
    /// Occurrence time of the newest consumed event.
    pub data_as_of: Option<DateTime<Utc>>,
}

/// A flag row.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = flags)]
pub struct FlagRow {
    /// Id.
    pub flag_id: Uuid,
    /// The flagged transfer.
    pub transfer_id: Uuid,
    /// FraudRule number.
    pub rule: i16,
    /// Explanation.
    pub detail: String,
    /// Debited ledger account.
    pub debit_account_id: Uuid,
    /// Credited ledger account.
    pub credit_account_id: Uuid,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO-4217 code.
    pub currency: String,
    /// When the transfer was posted.
    pub transfer_time: DateTime<Utc>,
    /// When the flag was raised.
    pub flag_time: DateTime<Utc>,
    /// ReviewStatus number.
    pub review_status: i16,
    /// ReviewOutcome number.
    pub review_outcome: i16,
    /// Reviewer's note.
    pub review_note: String,
    /// Reviewing admin.
    pub reviewer_user_id: Option<Uuid>,
    /// Review time.
    pub review_time: Option<DateTime<Utc>>,
}

/// Filters of ListFlaggedTransfers.
#[derive(Debug, Default, Clone)]
pub struct FlagFilter {
    /// Only these review states (empty: all).
    pub statuses: Vec<i16>,
    /// Only these rules (empty: all).
    pub rules: Vec<i16>,
    /// Only flags whose transfer touches this ledger account.
    pub account: Option<Uuid>,
    /// Raised at or after.
    pub start: Option<DateTime<Utc>>,
    /// Raised before.
    pub end: Option<DateTime<Utc>>,
}

/// An admin's review.
#[derive(Debug, Clone)]
pub struct Review {
    /// The flag.
    pub flag_id: Uuid,
    /// ReviewOutcome number (not UNSPECIFIED).
    pub outcome: i16,
    /// The note.
    pub note: String,
    /// The admin.
    pub reviewer: Uuid,
}

/// Why a review was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// No such flag.
    #[error("flag not found")]
    NotFound,
    /// Already reviewed differently.
    #[error("flag already reviewed")]
    AlreadyReviewed(Box<FlagRow>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ReviewError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// Money of one month, currency, direction and kind for one member.
#[derive(QueryableByName, Debug)]
pub struct SpendingRow {
    /// First day of the month.
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    /// ISO-4217 code.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub currency: String,
    /// TransferKind number.
    #[diesel(sql_type = Integer)]
    pub kind: i32,
    /// Whether money left the member (spent) rather than entered.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub outgoing: bool,
    /// Sum (saturated).
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    /// Number of transfers.
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

#[derive(QueryableByName, Debug)]
struct StoredEvent {
    #[diesel(sql_type = BigInt)]
    position: i64,
    #[diesel(sql_type = diesel::sql_types::Bytea)]
    payload: Vec<u8>,
}

/// `i64::MAX` as SQL, to saturate numeric sums.
const I64_MAX_SQL: &str = "9223372036854775807";

impl Store {
    /// Reads everything GetSummary reports from one consistent snapshot.
    pub async fn summary(&self, range: SummaryRange) -> Result<SummaryData, StoreError> {
        let mut conn = self.conn().await?;
        let start_time = range.start.and_time(NaiveTime::MIN).and_utc();
        // Validation keeps years at most 9999, so the next day exists.
        let end_time = range
            .end
            .succ_opt()
            .unwrap_or(range.end)
            .and_time(NaiveTime::MIN)
            .and_utc();
        let data = conn
            .build_transaction()
            .read_only()
            .repeatable_read()
            .run::<_, diesel::result::Error, _>(async |conn| {
                let users: Users = diesel::sql_query(
                    "SELECT (SELECT COUNT(*) FROM analytics.users WHERE registered_at < $2) AS total, \
                            (SELECT COUNT(*) FROM analytics.users \
                             WHERE registered_at >= $1 AND registered_at < $2) AS new",
                )
                .bind::<Timestamptz, _>(start_time)
                .bind::<Timestamptz, _>(end_time)
                .get_result(conn)
                .await?;
                let logins: Total = diesel::sql_query(
                    "SELECT COALESCE(SUM(login_count), 0)::bigint AS n FROM analytics.logins_daily \
                     WHERE day BETWEEN $1 AND $2",
                )
                .bind::<Date, _>(range.start)
                .bind::<Date, _>(range.end)
                .get_result(conn)
                .await?;
                let failed: Total = diesel::sql_query(
                    "SELECT COALESCE(SUM(count), 0)::bigint AS n FROM analytics.login_failures_daily \
                     WHERE day BETWEEN $1 AND $2",
                )
                .bind::<Date, _>(range.start)
                .bind::<Date, _>(range.end)
                .get_result(conn)
                .await?;
                let logins_per_user: Vec<LoginRow> = diesel::sql_query(
                    "SELECT user_id, SUM(login_count)::bigint AS logins, SUM(failed_count)::bigint AS failed, \
                            MAX(last_login_at) AS last_login_at \
                     FROM analytics.logins_daily WHERE day BETWEEN $1 AND $2 \
                     GROUP BY user_id ORDER BY logins DESC, failed DESC, user_id LIMIT $3",
                )
                .bind::<Date, _>(range.start)
                .bind::<Date, _>(range.end)
                .bind::<BigInt, _>(range.top_users)
                .load(conn)
                .await?;
                let active_users_by_day: Vec<DayCount> = diesel::sql_query(
                    "SELECT d::date AS day, COUNT(a.user_id) AS count \
                     FROM generate_series($1::date, $2::date, interval '1 day') AS d \
                     LEFT JOIN analytics.active_users_daily a ON a.day = d::date \
                     GROUP BY d ORDER BY d",
                )
                .bind::<Date, _>(range.start)
                .bind::<Date, _>(range.end)
                .load(conn)
                .await?;
                let transfers_by_day: Vec<VolumeRow> = diesel::sql_query(format!(
                    "SELECT day, currency, count, LEAST(volume, {I64_MAX_SQL})::bigint AS volume \
                     FROM analytics.transfers_daily WHERE day BETWEEN $1 AND $2 ORDER BY day, currency"
                ))
                .bind::<Date, _>(range.start)
                .bind::<Date, _>(range.end)
                .load(conn)
                .await?;
                let declines_by_reason: Vec<CodeCount> = diesel::sql_query(
                    "SELECT reason AS code, SUM(count)::bigint AS count FROM analytics.declines_daily \
                     WHERE day BETWEEN $1 AND $2 GROUP BY reason ORDER BY count DESC, reason",
                )
                .bind::<Date, _>(range.start)
                .bind::<Date, _>(range.end)
                .load(conn)
                .await?;
                let applications_by_status: Vec<CodeCount> = diesel::sql_query(
                    "SELECT status AS code, COUNT(*) AS count FROM analytics.applications \
                     WHERE submitted_at >= $1 AND submitted_at < $2 GROUP BY status ORDER BY status",
                )
                .bind::<Timestamptz, _>(start_time)
                .bind::<Timestamptz, _>(end_time)
                .load(conn)
                .await?;
                let option_selections: Vec<SelectionRow> = diesel::sql_query(
                    "SELECT user_id, option_id, MAX(product_type) AS product_type, SUM(count)::bigint AS count \
                     FROM analytics.option_selections_daily WHERE day BETWEEN $1 AND $2 \
                     GROUP BY user_id, option_id ORDER BY count DESC, user_id, option_id LIMIT $3",
                )
                .bind::<Date, _>(range.start)
                .bind::<Date, _>(range.end)
                .bind::<BigInt, _>(range.top_users)
                .load(conn)
                .await?;
                let newest: Newest = diesel::sql_query("SELECT MAX(occurred_at) AS at FROM analytics.events")
                    .get_result(conn)
                    .await?;
                Ok(SummaryData {
                    total_users: users.total,
                    new_users: users.new,
                    total_logins: logins.n,
                    failed_logins: failed.n,
                    logins_per_user,
                    active_users_by_day,
                    transfers_by_day,
                    declines_by_reason,
                    applications_by_status,
                    option_selections,
                    data_as_of: newest.at,
                })
            })
            .await?;
        Ok(data)
    }

    /// Occurrence time of the newest consumed event.
    pub async fn data_as_of(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut conn = self.conn().await?;
        let newest: Newest = diesel::sql_query("SELECT MAX(occurred_at) AS at FROM analytics.events")
            .get_result(&mut conn)
            .await?;
        Ok(newest.at)
    }

    /// Flags matching `filter`, newest first, after `after`, at most `limit`.
    pub async fn flags(
        &self,
        filter: &FlagFilter,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<FlagRow>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = flags::table.into_boxed();
        if !filter.statuses.is_empty() {
            query = query.filter(flags::review_status.eq_any(filter.statuses.clone()));
        }
        if !filter.rules.is_empty() {
            query = query.filter(flags::rule.eq_any(filter.rules.clone()));
        }
        if let Some(account) = filter.account {
            query = query.filter(
                flags::debit_account_id
                    .eq(account)
                    .or(flags::credit_account_id.eq(account)),
            );
        }
        if let Some(start) = filter.start {
            query = query.filter(flags::flag_time.ge(start));
        }
        if let Some(end) = filter.end {
            query = query.filter(flags::flag_time.lt(end));
        }
        if let Some((time, id)) = after {
            query = query.filter(
                flags::flag_time
                    .lt(time)
                    .or(flags::flag_time.eq(time).and(flags::flag_id.lt(id))),
            );
        }
        let rows = query
            .order((flags::flag_time.desc(), flags::flag_id.desc()))
            .limit(limit)
            .select(FlagRow::as_select())
            .load(&mut conn)
            .await?;
        Ok(rows)
    }

    /// Marks a flag reviewed. The same review again returns the flag as
    /// it is; a different one on a reviewed flag is refused.
    pub async fn review(&self, review: &Review) -> Result<FlagRow, ReviewError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, ReviewError, _>(async |conn| {
            let row: Option<FlagRow> = flags::table
                .find(review.flag_id)
                .for_update()
                .select(FlagRow::as_select())
                .first(conn)
                .await
                .optional()?;
            let Some(row) = row else {
                return Err(ReviewError::NotFound);
            };
            if row.review_status == REVIEW_DONE {
                return if row.review_outcome == review.outcome && row.review_note == review.note {
                    Ok(row)
                } else {
                    Err(ReviewError::AlreadyReviewed(Box::new(row)))
                };
            }
            let updated = diesel::update(flags::table.find(review.flag_id))
                .set((
                    flags::review_status.eq(REVIEW_DONE),
                    flags::review_outcome.eq(review.outcome),
                    flags::review_note.eq(&review.note),
                    flags::reviewer_user_id.eq(Some(review.reviewer)),
                    flags::review_time.eq(Some(Utc::now())),
                ))
                .returning(FlagRow::as_returning())
                .get_result(conn)
                .await?;
            Ok(updated)
        })
        .await
    }

    /// `user`'s money in and out by month, currency, direction and kind,
    /// for transfers posted in `[from, until)`. Transfers between two of
    /// the user's own accounts are neither.
    pub async fn spending(
        &self,
        user: Uuid,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<SpendingRow>, StoreError> {
        let mut conn = self.conn().await?;
        let rows = diesel::sql_query(format!(
            "WITH mine AS (SELECT account_id FROM analytics.accounts WHERE owner_user_id = $1), \
             moves AS ( \
                SELECT t.posted_at, t.currency, t.kind, TRUE AS outgoing, t.amount_minor \
                FROM analytics.transfers t JOIN mine m ON m.account_id = t.debit_account_id \
                WHERE t.posted_at >= $2 AND t.posted_at < $3 \
                  AND t.credit_account_id NOT IN (SELECT account_id FROM mine) \
                UNION ALL \
                SELECT t.posted_at, t.currency, t.kind, FALSE AS outgoing, t.amount_minor \
                FROM analytics.transfers t JOIN mine m ON m.account_id = t.credit_account_id \
                WHERE t.posted_at >= $2 AND t.posted_at < $3 \
                  AND t.debit_account_id NOT IN (SELECT account_id FROM mine)) \
             SELECT date_trunc('month', posted_at AT TIME ZONE 'UTC')::date AS month, currency, kind, outgoing, \
                    LEAST(SUM(amount_minor), {I64_MAX_SQL})::bigint AS amount, COUNT(*) AS count \
             FROM moves GROUP BY 1, currency, kind, outgoing ORDER BY 1, currency, kind"
        ))
        .bind::<SqlUuid, _>(user)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(until)
        .load(&mut conn)
        .await?;
        Ok(rows)
    }

    /// The `limit` most recently consumed events whose payload is kept, of
    /// `types` (all when empty), oldest first, with their positions.
    pub async fn recent_events(&self, types: &[i32], limit: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn().await?;
        let mut rows: Vec<StoredEvent> = diesel::sql_query(
            "SELECT position, payload FROM analytics.events \
             WHERE payload IS NOT NULL AND (cardinality($1::int[]) = 0 OR event_type = ANY($1)) \
             ORDER BY position DESC LIMIT $2",
        )
        .bind::<Array<Integer>, _>(types.to_vec())
        .bind::<BigInt, _>(limit)
        .load(&mut conn)
        .await?;
        rows.reverse();
        Ok(rows.into_iter().map(|row| (row.position, row.payload)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_saturate() {
        assert_eq!(saturate(i128::from(i64::MAX) + 1), i64::MAX);
        assert_eq!(saturate(i128::from(i64::MIN) - 1), i64::MIN);
        assert_eq!(saturate(42), 42);
    }
}
