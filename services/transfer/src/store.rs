//! The ledger's database work. Every money movement is one transaction:
//! look up idempotency keys, lock the customer accounts involved in
//! ascending id order (one statement, so no two transactions can deadlock),
//! apply the rules in memory (`ledger`), write the new columns, the slot
//! deltas of system accounts and the transfer rows, commit. A race on the
//! same idempotency key ends in a unique violation for the loser, whose
//! retry then finds the winner's row.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use bank_db::{Pool, PooledConnection, is_unique_violation};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int2, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures::future::{join_all, join3};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::domain::Currency;
use crate::ledger::{
    AccountKind, AccountStatus, Applied, Book, CustomerState, Decline, Movement, Side, apply_chained, system_account_id,
};
use crate::schema::{ledger_accounts, system_slots, transfers};

/// Rows each system account's posted columns are spread over.
pub const SYSTEM_SLOTS: i16 = 16;
/// Times a transaction is retried after losing an idempotency-key race.
const KEY_RACE_RETRIES: usize = 3;

/// Transfer type numbers.
pub mod ty {
    /// Posted at once.
    pub const IMMEDIATE: i16 = 1;
    /// Reservation.
    pub const PENDING: i16 = 2;
    /// Posts a reservation.
    pub const POST_PENDING: i16 = 3;
    /// Voids a reservation.
    pub const VOID_PENDING: i16 = 4;
}

/// Transfer status numbers.
pub mod st {
    /// Reserved.
    pub const PENDING: i16 = 1;
    /// Moved.
    pub const POSTED: i16 = 2;
    /// Released by void.
    pub const VOIDED: i16 = 3;
    /// Released by expiry.
    pub const EXPIRED: i16 = 4;
    /// Refused.
    pub const DECLINED: i16 = 5;
}

/// Idempotency scopes: which RPC a request id belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// CreateTransfer and CreateTransfers items.
    Transfer = 1,
    /// Deposit.
    Deposit = 2,
    /// Withdraw.
    Withdraw = 3,
    /// CreatePendingTransfer.
    Pending = 4,
    /// PostPendingTransfer.
    Post = 5,
    /// VoidPendingTransfer.
    Void = 6,
    /// CreateInternalTransfer.
    Internal = 7,
}

/// A store failure the caller cannot fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
}

/// A stored transfer.
#[derive(Queryable, Selectable, QueryableByName, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = transfers)]
pub struct TransferRow {
    pub id: Uuid,
    pub initiator: String,
    pub operation: i16,
    pub request_id: String,
    pub leg: i16,
    pub type_: i16,
    pub kind: i16,
    pub status: i16,
    pub debit_account_id: Uuid,
    pub credit_account_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub description: String,
    pub reference: String,
    pub pending_transfer_id: Option<Uuid>,
    pub resolving_transfer_id: Option<Uuid>,
    pub decline_reason: i16,
    pub initiator_user_id: Option<Uuid>,
    pub initiator_service: String,
    pub debit_sequence: Option<i64>,
    pub debit_balance_after: Option<i64>,
    pub credit_sequence: Option<i64>,
    pub credit_balance_after: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub expire_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = transfers)]
struct NewRow {
    id: Uuid,
    initiator: String,
    operation: i16,
    request_id: String,
    leg: i16,
    type_: i16,
    kind: i16,
    status: i16,
    debit_account_id: Uuid,
    credit_account_id: Uuid,
    amount: i64,
    currency: String,
    description: String,
    reference: String,
    pending_transfer_id: Option<Uuid>,
    decline_reason: i16,
    initiator_user_id: Option<Uuid>,
    initiator_service: String,
    debit_sequence: Option<i64>,
    debit_balance_after: Option<i64>,
    credit_sequence: Option<i64>,
    credit_balance_after: Option<i64>,
    created_at: DateTime<Utc>,
    expire_at: Option<DateTime<Utc>>,
}

impl NewRow {
    /// The row as stored: every column is set here (the creation time in
    /// whole microseconds, as PostgreSQL keeps it), so the insert needs no
    /// RETURNING and its events can be built before it runs.
    fn stored(&self) -> TransferRow {
        TransferRow {
            id: self.id,
            initiator: self.initiator.clone(),
            operation: self.operation,
            request_id: self.request_id.clone(),
            leg: self.leg,
            type_: self.type_,
            kind: self.kind,
            status: self.status,
            debit_account_id: self.debit_account_id,
            credit_account_id: self.credit_account_id,
            amount: self.amount,
            currency: self.currency.clone(),
            description: self.description.clone(),
            reference: self.reference.clone(),
            pending_transfer_id: self.pending_transfer_id,
            resolving_transfer_id: None,
            decline_reason: self.decline_reason,
            initiator_user_id: self.initiator_user_id,
            initiator_service: self.initiator_service.clone(),
            debit_sequence: self.debit_sequence,
            debit_balance_after: self.debit_balance_after,
            credit_sequence: self.credit_sequence,
            credit_balance_after: self.credit_balance_after,
            created_at: self.created_at,
            expire_at: self.expire_at,
            resolved_at: None,
        }
    }
}

/// Now, in the precision PostgreSQL stores.
fn now_micros() -> DateTime<Utc> {
    use chrono::SubsecRound as _;
    Utc::now().trunc_subsecs(6)
}

/// A ledger account row.
#[derive(Queryable, Selectable, QueryableByName, Clone, Debug)]
#[diesel(table_name = ledger_accounts)]
pub struct AccountRow {
    pub id: Uuid,
    pub kind: i16,
    pub currency: String,
    pub status: i16,
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
    pub entry_count: i64,
    pub created_at: DateTime<Utc>,
}

impl AccountRow {
    fn customer_state(&self) -> Option<CustomerState> {
        Some(CustomerState {
            id: self.id,
            currency: Currency::parse(&self.currency).ok()?,
            status: AccountStatus::from_i16(self.status)?,
            debits_posted: self.debits_posted,
            credits_posted: self.credits_posted,
            debits_pending: self.debits_pending,
            credits_pending: self.credits_pending,
            entry_count: self.entry_count,
        })
    }
}

/// Columns of a ledger account (for system accounts: the sum of its slots).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
}

/// A ledger account with its balance columns.
#[derive(Clone, Debug)]
pub struct AccountView {
    pub row: AccountRow,
    pub columns: Columns,
    pub read_at: DateTime<Utc>,
}

/// The system accounts, known in memory so transfers never lock them.
#[derive(Clone, Debug, Default)]
pub struct SystemAccounts {
    by_id: Arc<RwLock<HashMap<Uuid, (AccountKind, Currency)>>>,
}

impl SystemAccounts {
    /// The kind and currency of system account `id`.
    pub fn get(&self, id: Uuid) -> Option<(AccountKind, Currency)> {
        self.by_id.read().unwrap_or_else(|p| p.into_inner()).get(&id).copied()
    }

    fn insert(&self, id: Uuid, kind: AccountKind, currency: Currency) {
        self.by_id
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, (kind, currency));
    }
}

/// A transfer to attempt.
#[derive(Clone, Debug)]
pub struct NewTransfer {
    pub request_id: String,
    pub leg: i16,
    pub kind: i16,
    /// `None`: immediate; `Some(deadline)`: a reservation.
    pub expire_at: Option<DateTime<Utc>>,
    pub debit: Uuid,
    pub credit: Uuid,
    pub amount: i64,
    pub currency: Currency,
    pub description: String,
    pub reference: String,
    pub linked: bool,
    /// Declined as LINKED_EVENT_FAILED without evaluation: another item of
    /// its chain failed before reaching the ledger.
    pub blocked: bool,
    pub initiator_user_id: Option<Uuid>,
    pub initiator_service: String,
}

/// What became of one attempted transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded now: posted, pending, or declined (see its status).
    Recorded(TransferRow),
    /// The same key was used before with the same request: the original.
    Replayed(TransferRow),
    /// The same key was used before with a different request.
    KeyReused {
        /// The first field that differs.
        field: &'static str,
    },
    /// A ledger account does not exist; nothing written.
    AccountNotFound(Uuid),
    /// The amount's currency differs from an account's; nothing written.
    CurrencyMismatch(Uuid),
}

fn mismatch(row: &TransferRow, item: &NewTransfer, is_pending: bool) -> Option<&'static str> {
    if row.debit_account_id != item.debit {
        return Some("from_account_id");
    }
    if row.credit_account_id != item.credit {
        return Some("to_account_id");
    }
    if row.amount != item.amount || row.currency != item.currency.as_str() {
        return Some("amount");
    }
    if row.kind != item.kind {
        return Some("kind");
    }
    if row.description != item.description {
        return Some("description");
    }
    if row.reference != item.reference {
        return Some("reference");
    }
    if (row.type_ == ty::PENDING) != is_pending {
        return Some("type");
    }
    None
}

#[derive(QueryableByName)]
struct SlotSum {
    #[diesel(sql_type = BigInt)]
    debits: i64,
    #[diesel(sql_type = BigInt)]
    credits: i64,
}

/// The ledger database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    system: SystemAccounts,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

async fn lock_accounts(conn: &AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<AccountRow>, diesel::result::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    // One statement, ascending ids: every transaction takes these row locks
    // in the same order, so none waits in a cycle. DSL (not raw SQL) so the
    // prepared statement is cached per connection.
    ledger_accounts::table
        .filter(ledger_accounts::id.eq_any(sorted))
        .order(ledger_accounts::id)
        .select(AccountRow::as_select())
        .for_update()
        .load(&mut &*conn)
        .await
}

/// Rows of an initiator's operation under many request ids (`$3`, sorted),
/// at most `$4` legs each. All three key columns must be index conditions,
/// whatever the table's statistics say: `request_id = ANY(...)` and a plain
/// join with `unnest(...)` both let the planner read the initiator's whole
/// history and filter or hash it when its estimates are stale (measured
/// during a load run before the first ANALYZE: 39,000 rows read, 73-107 ms
/// per batch of 1,000, growing with the history). A LATERAL subquery with a
/// LIMIT cannot be flattened into a join, so each key is one probe of the
/// `idempotency_key` index, in key order: 6-20 ms per 1,000 keys.
const EXISTING_KEYS_SQL: &str = "SELECT t.*, t.type AS type_ FROM unnest($3::text[]) AS k(request_id) \
     CROSS JOIN LATERAL (SELECT * FROM transfer.transfers t WHERE t.initiator = $1 \
       AND t.operation = $2 AND t.request_id = k.request_id LIMIT $4) AS t";

/// The most legs one request id can have (the LIMIT of [`EXISTING_KEYS_SQL`]).
fn legs_max() -> i64 {
    i64::try_from(crate::internal::INTERNAL_LEGS_MAX).unwrap_or(i64::MAX)
}

/// Rows already recorded under the items' idempotency keys: one key is an
/// equality on the whole key (a prepared statement), many are probed one by
/// one ([`EXISTING_KEYS_SQL`]).
async fn existing_keys(
    conn: &AsyncPgConnection,
    initiator: &str,
    operation: Operation,
    items: &[NewTransfer],
) -> Result<Vec<TransferRow>, diesel::result::Error> {
    match items {
        [] => Ok(Vec::new()),
        [item] => {
            transfers::table
                .filter(transfers::initiator.eq(initiator))
                .filter(transfers::operation.eq(operation as i16))
                .filter(transfers::request_id.eq(&item.request_id))
                .select(TransferRow::as_select())
                .load(&mut &*conn)
                .await
        }
        many => {
            let mut keys: Vec<String> = many.iter().map(|i| i.request_id.clone()).collect();
            keys.sort_unstable();
            keys.dedup();
            diesel::sql_query(EXISTING_KEYS_SQL)
                .bind::<Text, _>(initiator)
                .bind::<Int2, _>(operation as i16)
                .bind::<Array<Text>, _>(keys)
                .bind::<BigInt, _>(legs_max())
                .load(&mut &*conn)
                .await
        }
    }
}

/// Customer rows written with one prepared UPDATE each (pipelined); more
/// go in one `UPDATE ... FROM unnest(...)`, which is parsed and planned
/// every time but is one statement for a whole batch.
const ROW_UPDATES_MAX: usize = 4;

/// The first error of `results` (in sending order), preferring a unique
/// violation: in a pipeline, the statements after a failed one fail only
/// because the transaction is aborted, and a key race must stay visible.
fn first_error(results: impl IntoIterator<Item = QueryResult<()>>) -> QueryResult<()> {
    let mut first = None;
    for result in results {
        if let Err(e) = result {
            if is_unique_violation(&e) {
                return Err(e);
            }
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

/// Writes the book's customer columns and system slot deltas. The
/// statements are sent together (pipelined): they touch disjoint rows, so
/// their order does not matter, and the transaction pays one round trip.
async fn write_book(conn: &AsyncPgConnection, book: &Book, touched: &HashSet<Uuid>) -> QueryResult<()> {
    let customers: Vec<&CustomerState> = book.customers().filter(|c| touched.contains(&c.id)).collect();
    let mut writes: Vec<futures::future::BoxFuture<'_, QueryResult<()>>> = Vec::new();
    if customers.len() > ROW_UPDATES_MAX {
        let many = diesel::sql_query(
            "UPDATE transfer.ledger_accounts AS a SET debits_posted = v.dp, credits_posted = v.cp, \
             debits_pending = v.dpend, credits_pending = v.cpend, entry_count = v.ec \
             FROM unnest($1::uuid[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[]) \
             AS v(id, dp, cp, dpend, cpend, ec) WHERE a.id = v.id",
        )
        .bind::<Array<SqlUuid>, _>(customers.iter().map(|c| c.id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(customers.iter().map(|c| c.debits_posted).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(customers.iter().map(|c| c.credits_posted).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(customers.iter().map(|c| c.debits_pending).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(customers.iter().map(|c| c.credits_pending).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(customers.iter().map(|c| c.entry_count).collect::<Vec<_>>())
        .execute(&mut &*conn);
        writes.push(Box::pin(async move { many.await.map(drop) }));
    } else {
        for c in customers {
            let one = diesel::update(ledger_accounts::table.find(c.id))
                .set((
                    ledger_accounts::debits_posted.eq(c.debits_posted),
                    ledger_accounts::credits_posted.eq(c.credits_posted),
                    ledger_accounts::debits_pending.eq(c.debits_pending),
                    ledger_accounts::credits_pending.eq(c.credits_pending),
                    ledger_accounts::entry_count.eq(c.entry_count),
                ))
                .execute(&mut &*conn);
            writes.push(Box::pin(async move { one.await.map(drop) }));
        }
    }
    let mut deltas: Vec<(Uuid, i64, i64)> = book.system_deltas().filter(|(_, d, c)| *d != 0 || *c != 0).collect();
    // Fixed order across transactions, so slot locks cannot deadlock.
    deltas.sort_unstable_by_key(|(id, _, _)| *id);
    let slot: i16 = rand::random_range(0..SYSTEM_SLOTS);
    if !deltas.is_empty() {
        // One after the other (a statement prepared on first use could
        // overtake another in a pipeline, and slot locks need the order).
        writes.push(Box::pin(async move {
            for (id, debits, credits) in deltas {
                diesel::update(system_slots::table.find((id, slot)))
                    .set((
                        system_slots::debits_posted.eq(system_slots::debits_posted + debits),
                        system_slots::credits_posted.eq(system_slots::credits_posted + credits),
                    ))
                    .execute(&mut &*conn)
                    .await?;
            }
            Ok(())
        }));
    }
    first_error(join_all(writes).await)
}

/// Inserts `rows` (one prepared statement for a single row).
async fn insert_rows(conn: &AsyncPgConnection, rows: &[NewRow]) -> QueryResult<()> {
    match rows {
        [] => Ok(()),
        [row] => diesel::insert_into(transfers::table)
            .values(row)
            .execute(&mut &*conn)
            .await
            .map(drop),
        // A multi-row VALUES list has 24 parameters per row (24,000 for a
        // full batch) for PostgreSQL to parse and diesel to bind; arrays
        // are 24 parameters whatever the count.
        many => {
            fn col<T: Clone>(rows: &[NewRow], f: impl Fn(&NewRow) -> T) -> Vec<T> {
                rows.iter().map(f).collect()
            }
            diesel::sql_query(
                "INSERT INTO transfer.transfers (id, initiator, operation, request_id, leg, type, kind, status, \
                   debit_account_id, credit_account_id, amount, currency, description, reference, \
                   pending_transfer_id, decline_reason, initiator_user_id, initiator_service, debit_sequence, \
                   debit_balance_after, credit_sequence, credit_balance_after, created_at, expire_at) \
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::int2[], $4::text[], $5::int2[], $6::int2[], \
                   $7::int2[], $8::int2[], $9::uuid[], $10::uuid[], $11::int8[], $12::text[], $13::text[], \
                   $14::text[], $15::uuid[], $16::int2[], $17::uuid[], $18::text[], $19::int8[], $20::int8[], \
                   $21::int8[], $22::int8[], $23::timestamptz[], $24::timestamptz[])",
            )
            .bind::<Array<SqlUuid>, _>(col(many, |r| r.id))
            .bind::<Array<Text>, _>(col(many, |r| r.initiator.clone()))
            .bind::<Array<Int2>, _>(col(many, |r| r.operation))
            .bind::<Array<Text>, _>(col(many, |r| r.request_id.clone()))
            .bind::<Array<Int2>, _>(col(many, |r| r.leg))
            .bind::<Array<Int2>, _>(col(many, |r| r.type_))
            .bind::<Array<Int2>, _>(col(many, |r| r.kind))
            .bind::<Array<Int2>, _>(col(many, |r| r.status))
            .bind::<Array<SqlUuid>, _>(col(many, |r| r.debit_account_id))
            .bind::<Array<SqlUuid>, _>(col(many, |r| r.credit_account_id))
            .bind::<Array<BigInt>, _>(col(many, |r| r.amount))
            .bind::<Array<Text>, _>(col(many, |r| r.currency.clone()))
            .bind::<Array<Text>, _>(col(many, |r| r.description.clone()))
            .bind::<Array<Text>, _>(col(many, |r| r.reference.clone()))
            .bind::<Array<Nullable<SqlUuid>>, _>(col(many, |r| r.pending_transfer_id))
            .bind::<Array<Int2>, _>(col(many, |r| r.decline_reason))
            .bind::<Array<Nullable<SqlUuid>>, _>(col(many, |r| r.initiator_user_id))
            .bind::<Array<Text>, _>(col(many, |r| r.initiator_service.clone()))
            .bind::<Array<Nullable<BigInt>>, _>(col(many, |r| r.debit_sequence))
            .bind::<Array<Nullable<BigInt>>, _>(col(many, |r| r.debit_balance_after))
            .bind::<Array<Nullable<BigInt>>, _>(col(many, |r| r.credit_sequence))
            .bind::<Array<Nullable<BigInt>>, _>(col(many, |r| r.credit_balance_after))
            .bind::<Array<Timestamptz>, _>(col(many, |r| r.created_at))
            .bind::<Array<Nullable<Timestamptz>>, _>(col(many, |r| r.expire_at))
            .execute(&mut &*conn)
            .await
            .map(drop)
        }
    }
}

fn new_row(
    item: &NewTransfer,
    initiator: &str,
    operation: Operation,
    status: i16,
    decline: Option<Decline>,
    applied: Applied,
) -> NewRow {
    NewRow {
        id: Uuid::now_v7(),
        initiator: initiator.to_owned(),
        operation: operation as i16,
        request_id: item.request_id.clone(),
        leg: item.leg,
        type_: if item.expire_at.is_some() {
            ty::PENDING
        } else {
            ty::IMMEDIATE
        },
        kind: item.kind,
        status,
        debit_account_id: item.debit,
        credit_account_id: item.credit,
        amount: item.amount,
        currency: item.currency.as_str().to_owned(),
        description: item.description.clone(),
        reference: item.reference.clone(),
        pending_transfer_id: None,
        decline_reason: decline.map_or(0, |d| d as i16),
        initiator_user_id: item.initiator_user_id,
        initiator_service: item.initiator_service.clone(),
        debit_sequence: applied.debit.map(|m| m.sequence),
        debit_balance_after: applied.debit.map(|m| m.balance_after),
        credit_sequence: applied.credit.map(|m| m.sequence),
        credit_balance_after: applied.credit.map(|m| m.balance_after),
        created_at: now_micros(),
        expire_at: item.expire_at,
    }
}

/// Recorded transfers by kind and status (posted, pending, voided,
/// declined with its reason): the ledger's business counters.
pub const TRANSFERS: &str = "bank_transfers_total";

fn count_recorded<'a>(rows: impl IntoIterator<Item = &'a TransferRow>) {
    for row in rows {
        let status = match row.status {
            st::PENDING => "pending",
            st::POSTED => "posted",
            st::VOIDED => "voided",
            st::EXPIRED => "expired",
            _ => "declined",
        };
        let reason = Decline::from_i16(row.decline_reason).map_or("", Decline::reason);
        metrics::counter!(TRANSFERS, "kind" => row.kind.to_string(), "status" => status, "reason" => reason)
            .increment(1);
    }
}

enum Attempt<T> {
    Done(T),
    KeyRace,
}

impl Store {
    /// A store over `pool`.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            system: SystemAccounts::default(),
        }
    }

    async fn conn(&self) -> Result<PooledConnection, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Creates (idempotently) the system accounts of `currencies` and loads
    /// every system account into memory.
    pub async fn ensure_system_accounts(&self, currencies: &[Currency]) -> Result<(), StoreError> {
        for currency in currencies {
            for kind in AccountKind::SYSTEM {
                self.create_account(system_account_id(kind, *currency), kind, *currency)
                    .await?;
            }
        }
        let mut conn = self.conn().await?;
        let rows: Vec<AccountRow> = ledger_accounts::table
            .filter(ledger_accounts::kind.ne(AccountKind::Customer as i16))
            .select(AccountRow::as_select())
            .load(&mut conn)
            .await?;
        for row in rows {
            if let (Some(kind), Ok(currency)) = (AccountKind::from_i16(row.kind), Currency::parse(&row.currency)) {
                self.system.insert(row.id, kind, currency);
            }
        }
        Ok(())
    }

    /// Creates a ledger account unless one with `id` exists; returns the
    /// row and whether it was created. A system account also gets its slots.
    pub async fn create_account(
        &self,
        id: Uuid,
        kind: AccountKind,
        currency: Currency,
    ) -> Result<(AccountRow, bool), StoreError> {
        let mut conn = self.conn().await?;
        let created = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let inserted = diesel::insert_into(ledger_accounts::table)
                    .values((
                        ledger_accounts::id.eq(id),
                        ledger_accounts::kind.eq(kind as i16),
                        ledger_accounts::currency.eq(currency.as_str()),
                    ))
                    .on_conflict(ledger_accounts::id)
                    .do_nothing()
                    .execute(conn)
                    .await?;
                if inserted == 1 && kind != AccountKind::Customer {
                    let slots: Vec<_> = (0..SYSTEM_SLOTS)
                        .map(|slot| (system_slots::account_id.eq(id), system_slots::slot.eq(slot)))
                        .collect();
                    diesel::insert_into(system_slots::table)
                        .values(slots)
                        .execute(conn)
                        .await?;
                }
                Ok(inserted == 1)
            })
            .await?;
        let row = ledger_accounts::table
            .find(id)
            .select(AccountRow::as_select())
            .first(&mut conn)
            .await?;
        if kind != AccountKind::Customer && row.kind == kind as i16 && row.currency == currency.as_str() {
            self.system.insert(id, kind, currency);
        }
        Ok((row, created))
    }

    /// A ledger account's metadata, unlocked.
    pub async fn account(&self, id: Uuid) -> Result<Option<AccountRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(ledger_accounts::table
            .find(id)
            .select(AccountRow::as_select())
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// A ledger account with its balance columns, read consistently.
    pub async fn account_view(&self, id: Uuid) -> Result<Option<AccountView>, StoreError> {
        let mut conn = self.conn().await?;
        let Some(row) = ledger_accounts::table
            .find(id)
            .select(AccountRow::as_select())
            .first(&mut conn)
            .await
            .optional()?
        else {
            return Ok(None);
        };
        let columns = if row.kind == AccountKind::Customer as i16 {
            Columns {
                debits_posted: row.debits_posted,
                credits_posted: row.credits_posted,
                debits_pending: row.debits_pending,
                credits_pending: row.credits_pending,
            }
        } else {
            let sums: Vec<SlotSum> = diesel::sql_query(
                "SELECT COALESCE(SUM(debits_posted), 0)::int8 AS debits, \
                 COALESCE(SUM(credits_posted), 0)::int8 AS credits \
                 FROM transfer.system_slots WHERE account_id = $1",
            )
            .bind::<SqlUuid, _>(id)
            .load(&mut conn)
            .await?;
            let (debits, credits) = sums.into_iter().next().map_or((0, 0), |s| (s.debits, s.credits));
            Columns {
                debits_posted: debits,
                credits_posted: credits,
                debits_pending: 0,
                credits_pending: 0,
            }
        };
        Ok(Some(AccountView {
            row,
            columns,
            read_at: Utc::now(),
        }))
    }

    /// Number of open reservations touching `id`.
    pub async fn open_pending_count(&self, id: Uuid) -> Result<i64, StoreError> {
        let mut conn = self.conn().await?;
        Ok(transfers::table
            .filter(transfers::type_.eq(ty::PENDING))
            .filter(transfers::status.eq(st::PENDING))
            .filter(
                transfers::debit_account_id
                    .eq(id)
                    .or(transfers::credit_account_id.eq(id)),
            )
            .count()
            .get_result(&mut conn)
            .await?)
    }

    /// Attempts `items` for `initiator` under `operation`, all in one
    /// transaction. `linked` items chain with the next (all or nothing).
    pub async fn post(
        &self,
        initiator: &str,
        operation: Operation,
        items: &[NewTransfer],
    ) -> Result<Vec<Outcome>, StoreError> {
        let span = tracing::info_span!(
            "db.transaction",
            otel.name = "ledger post",
            db.system = "postgresql",
            items = items.len()
        );
        for _ in 0..KEY_RACE_RETRIES {
            match self
                .post_once(initiator, operation, items)
                .instrument(span.clone())
                .await?
            {
                Attempt::Done(outcomes) => return Ok(outcomes),
                Attempt::KeyRace => continue,
            }
        }
        Err(StoreError::Unavailable("idempotency key contended; retry".into()))
    }

    async fn post_once(
        &self,
        initiator: &str,
        operation: Operation,
        items: &[NewTransfer],
    ) -> Result<Attempt<Vec<Outcome>>, StoreError> {
        let tx = bank_db::Pipelined::new(self.conn().await?);
        let system = self.system.clone();
        let shared: &AsyncPgConnection = tx.conn();
        let result: QueryResult<Vec<Option<Outcome>>> = async {
            // BEGIN, keys and locks in one round trip (pipelined).
            // Every customer account of the request is locked, also
            // those of items that turn out to be replays: harmless, and
            // it saves a round trip on the common path.
            let customer_ids: Vec<Uuid> = items
                .iter()
                .flat_map(|item| [item.debit, item.credit])
                .filter(|id| system.get(*id).is_none())
                .collect();
            let (begun, existing, locked) = join3(
                bank_db::Pipelined::begin(shared),
                existing_keys(shared, initiator, operation, items),
                lock_accounts(shared, &customer_ids),
            )
            .await;
            let (existing, locked) = (begun.and(existing)?, locked?);
            let existing: HashMap<(String, i16), TransferRow> = existing
                .into_iter()
                .map(|row| ((row.request_id.clone(), row.leg), row))
                .collect();

            let mut outcomes: Vec<Option<Outcome>> = vec![None; items.len()];
            for (i, item) in items.iter().enumerate() {
                if let Some(row) = existing.get(&(item.request_id.clone(), item.leg)) {
                    outcomes[i] = Some(match mismatch(row, item, item.expire_at.is_some()) {
                        None => Outcome::Replayed(row.clone()),
                        Some(field) => Outcome::KeyReused { field },
                    });
                }
            }

            let mut currencies: HashMap<Uuid, String> = HashMap::new();
            let mut states = Vec::new();
            for row in &locked {
                currencies.insert(row.id, row.currency.clone());
                if let Some(state) = row.customer_state() {
                    states.push(state);
                }
            }
            let side = |id: Uuid| -> Option<(Side, String)> {
                if let Some((_, currency)) = system.get(id) {
                    return Some((Side::System(id), currency.as_str().to_owned()));
                }
                currencies.get(&id).map(|c| (Side::Customer(id), c.clone()))
            };

            // Resolve sides; unresolvable items fail alone (not recorded).
            let mut movements: Vec<Option<Movement>> = vec![None; items.len()];
            for (i, item) in items.iter().enumerate() {
                if outcomes[i].is_some() {
                    continue;
                }
                let (Some((debit, debit_currency)), Some((credit, credit_currency))) =
                    (side(item.debit), side(item.credit))
                else {
                    let missing = if side(item.debit).is_none() {
                        item.debit
                    } else {
                        item.credit
                    };
                    outcomes[i] = Some(Outcome::AccountNotFound(missing));
                    continue;
                };
                if debit_currency != item.currency.as_str() {
                    outcomes[i] = Some(Outcome::CurrencyMismatch(item.debit));
                    continue;
                }
                if credit_currency != item.currency.as_str() {
                    outcomes[i] = Some(Outcome::CurrencyMismatch(item.credit));
                    continue;
                }
                movements[i] = Some(match (item.expire_at, debit, credit) {
                    (Some(_), Side::Customer(d), Side::Customer(c)) => Movement::Reserve {
                        debit: d,
                        credit: c,
                        amount: item.amount,
                    },
                    // Reservations involve customer accounts only.
                    (Some(_), _, _) => {
                        outcomes[i] = Some(Outcome::AccountNotFound(item.debit));
                        continue;
                    }
                    (None, debit, credit) => Movement::Immediate {
                        debit,
                        credit,
                        amount: item.amount,
                    },
                });
            }

            // Chains: an item that could not be evaluated breaks its chain.
            let mut broken = vec![false; items.len()];
            let mut start = 0;
            while start < items.len() {
                let mut end = start;
                while end + 1 < items.len() && items[end].linked {
                    end += 1;
                }
                let chain_broken = (start..=end).any(|i| {
                    movements[i].is_none()
                        && outcomes[i].is_some()
                        && !matches!(outcomes[i], Some(Outcome::Replayed(_)))
                });
                if chain_broken && end > start {
                    for flag in &mut broken[start..=end] {
                        *flag = true;
                    }
                }
                start = end + 1;
            }

            for (i, item) in items.iter().enumerate() {
                broken[i] |= item.blocked;
            }
            let mut book = Book::new(states);
            let runnable: Vec<usize> = (0..items.len())
                .filter(|&i| movements[i].is_some() && !broken[i])
                .collect();
            let run_movements: Vec<Movement> = runnable.iter().filter_map(|&i| movements[i]).collect();
            let run_linked: Vec<bool> = runnable.iter().map(|&i| items[i].linked).collect();
            let results = apply_chained(&mut book, &run_movements, &run_linked);

            let mut rows: Vec<(usize, NewRow)> = Vec::new();
            for (&i, result) in runnable.iter().zip(results) {
                let item = &items[i];
                let row = match result {
                    Ok(applied) => {
                        let status = if item.expire_at.is_some() {
                            st::PENDING
                        } else {
                            st::POSTED
                        };
                        new_row(item, initiator, operation, status, None, applied)
                    }
                    Err(decline) => new_row(
                        item,
                        initiator,
                        operation,
                        st::DECLINED,
                        Some(decline),
                        Applied::default(),
                    ),
                };
                rows.push((i, row));
            }
            for i in (0..items.len()).filter(|&i| broken[i] && movements[i].is_some()) {
                let row = new_row(
                    &items[i],
                    initiator,
                    operation,
                    st::DECLINED,
                    Some(Decline::LinkedEventFailed),
                    Applied::default(),
                );
                rows.push((i, row));
            }

            // Only the accounts of items that ran are written.
            let touched: HashSet<Uuid> = runnable
                .iter()
                .flat_map(|&i| [items[i].debit, items[i].credit])
                .collect();
            let (indexes, new_rows): (Vec<usize>, Vec<NewRow>) = rows.into_iter().unzip();
            let stored: Vec<TransferRow> = new_rows.iter().map(NewRow::stored).collect();
            let events: Vec<_> = stored.iter().filter_map(crate::events::for_row).collect();
            // Balances, transfer rows and events in one round trip.
            let (book_written, inserted, appended) = join3(
                write_book(shared, &book, &touched),
                insert_rows(shared, &new_rows),
                crate::events::OUTBOX.append(shared, &events),
            )
            .await;
            first_error([book_written, inserted, appended])?;
            for (i, row) in indexes.into_iter().zip(stored) {
                outcomes[i] = Some(Outcome::Recorded(row));
            }
            Ok(outcomes)
        }
        .await;
        let result = match result {
            Ok(outcomes) => tx.commit().await.map(|()| {
                // Counted once committed, not when written.
                count_recorded(outcomes.iter().filter_map(|o| match o {
                    Some(Outcome::Recorded(row)) => Some(row),
                    _ => None,
                }));
                outcomes
            }),
            Err(e) => {
                tx.rollback().await;
                Err(e)
            }
        };
        match result {
            Ok(outcomes) => Ok(Attempt::Done(
                outcomes
                    .into_iter()
                    .map(|o| o.unwrap_or(Outcome::AccountNotFound(Uuid::nil())))
                    .collect(),
            )),
            Err(e) if is_unique_violation(&e) => Ok(Attempt::KeyRace),
            Err(e) => Err(e.into()),
        }
    }

    /// Posts (`post = Some(amount)`) or voids (`post = None`) the pending
    /// transfer `pending_id` under the caller's key.
    pub async fn resolve_pending(
        &self,
        initiator: &str,
        request_id: &str,
        pending_id: Uuid,
        post: Option<Option<i64>>,
        initiator_user_id: Option<Uuid>,
    ) -> Result<Resolution, StoreError> {
        for _ in 0..KEY_RACE_RETRIES {
            match self
                .resolve_once(initiator, request_id, pending_id, post, initiator_user_id)
                .await?
            {
                Attempt::Done(resolution) => return Ok(resolution),
                Attempt::KeyRace => continue,
            }
        }
        Err(StoreError::Unavailable("idempotency key contended; retry".into()))
    }

    async fn resolve_once(
        &self,
        initiator: &str,
        request_id: &str,
        pending_id: Uuid,
        post: Option<Option<i64>>,
        initiator_user_id: Option<Uuid>,
    ) -> Result<Attempt<Resolution>, StoreError> {
        let operation = if post.is_some() {
            Operation::Post
        } else {
            Operation::Void
        };
        let mut conn = self.conn().await?;
        let result = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let existing: Option<TransferRow> = transfers::table
                    .filter(transfers::initiator.eq(initiator))
                    .filter(transfers::operation.eq(operation as i16))
                    .filter(transfers::request_id.eq(request_id))
                    .select(TransferRow::as_select())
                    .first(conn)
                    .await
                    .optional()?;
                if let Some(row) = existing {
                    if row.pending_transfer_id != Some(pending_id) {
                        return Ok(Resolution::KeyReused { field: "transfer_id" });
                    }
                    if let Some(Some(amount)) = post
                        && row.status != st::DECLINED
                        && row.amount != amount
                    {
                        return Ok(Resolution::KeyReused { field: "amount" });
                    }
                    let pending = transfers::table
                        .find(pending_id)
                        .select(TransferRow::as_select())
                        .first(conn)
                        .await?;
                    return Ok(Resolution::Replayed { row, pending });
                }
                let Some(pending) = transfers::table
                    .find(pending_id)
                    .filter(transfers::type_.eq(ty::PENDING))
                    .select(TransferRow::as_select())
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?
                else {
                    return Ok(Resolution::NotFound);
                };
                if let Some(Some(amount)) = post
                    && amount > pending.amount
                {
                    return Ok(Resolution::ExceedsPending);
                }
                let locked = lock_accounts(conn, &[pending.debit_account_id, pending.credit_account_id]).await?;
                let mut book = Book::new(locked.iter().filter_map(AccountRow::customer_state));
                let now = Utc::now();
                let expired_now = pending.status == st::PENDING && pending.expire_at.is_some_and(|at| at <= now);
                let release = Movement::Release {
                    debit: pending.debit_account_id,
                    credit: pending.credit_account_id,
                    reserved: pending.amount,
                };
                let decided: Result<Applied, Decline> = match pending.status {
                    st::POSTED => Err(Decline::PendingPosted),
                    st::VOIDED => Err(Decline::PendingVoided),
                    st::EXPIRED => Err(Decline::PendingExpired),
                    _ if expired_now => {
                        // Expire it here rather than wait for the sweep. A
                        // release needs only the (locked) accounts, so it applies.
                        let released = book.apply(&release);
                        debug_assert!(released.is_ok());
                        Err(Decline::PendingExpired)
                    }
                    _ => match post {
                        Some(amount) => book.apply(&Movement::PostReserved {
                            debit: pending.debit_account_id,
                            credit: pending.credit_account_id,
                            reserved: pending.amount,
                            posted: amount.unwrap_or(pending.amount),
                        }),
                        None => book.apply(&release),
                    },
                };
                let amount = match post {
                    Some(Some(amount)) => amount,
                    _ => pending.amount,
                };
                let (status, decline, applied) = match decided {
                    Ok(applied) => (if post.is_some() { st::POSTED } else { st::VOIDED }, None, applied),
                    Err(decline) => (st::DECLINED, Some(decline), Applied::default()),
                };
                let row = NewRow {
                    id: Uuid::now_v7(),
                    initiator: initiator.to_owned(),
                    operation: operation as i16,
                    request_id: request_id.to_owned(),
                    leg: 0,
                    type_: if post.is_some() {
                        ty::POST_PENDING
                    } else {
                        ty::VOID_PENDING
                    },
                    kind: pending.kind,
                    status,
                    debit_account_id: pending.debit_account_id,
                    credit_account_id: pending.credit_account_id,
                    amount,
                    currency: pending.currency.clone(),
                    description: pending.description.clone(),
                    reference: pending.reference.clone(),
                    pending_transfer_id: Some(pending.id),
                    decline_reason: decline.map_or(0, |d| d as i16),
                    initiator_user_id,
                    initiator_service: String::new(),
                    debit_sequence: applied.debit.map(|m| m.sequence),
                    debit_balance_after: applied.debit.map(|m| m.balance_after),
                    credit_sequence: applied.credit.map(|m| m.sequence),
                    credit_balance_after: applied.credit.map(|m| m.balance_after),
                    created_at: now_micros(),
                    expire_at: None,
                };
                let touched: HashSet<Uuid> = locked.iter().map(|r| r.id).collect();
                write_book(conn, &book, &touched).await?;
                let inserted: TransferRow = diesel::insert_into(transfers::table)
                    .values(&row)
                    .returning(TransferRow::as_returning())
                    .get_result(conn)
                    .await?;
                count_recorded(std::slice::from_ref(&inserted));
                let mut events: Vec<_> = crate::events::for_row(&inserted).into_iter().collect();
                if expired_now {
                    events.push(crate::events::expired(&pending));
                }
                crate::events::OUTBOX.append(conn, &events).await?;
                let new_pending_status = match (decline, expired_now) {
                    (None, _) => Some(status),
                    (Some(_), true) => Some(st::EXPIRED),
                    (Some(_), false) => None,
                };
                let pending = match new_pending_status {
                    Some(new_status) => {
                        let resolving = (new_status != st::EXPIRED).then_some(inserted.id);
                        diesel::update(transfers::table.find(pending.id))
                            .set((
                                transfers::status.eq(new_status),
                                transfers::resolving_transfer_id.eq(resolving),
                                transfers::resolved_at.eq(Some(Utc::now())),
                            ))
                            .returning(TransferRow::as_returning())
                            .get_result(conn)
                            .await?
                    }
                    None => pending,
                };
                Ok(Resolution::Recorded { row: inserted, pending })
            })
            .await;
        match result {
            Ok(resolution) => Ok(Attempt::Done(resolution)),
            Err(e) if is_unique_violation(&e) => Ok(Attempt::KeyRace),
            Err(e) => Err(e.into()),
        }
    }

    /// Releases up to `limit` reservations past their deadline; returns how
    /// many expired. Rows another transaction holds are skipped, not waited for.
    pub async fn expire_overdue(&self, limit: i64) -> Result<usize, StoreError> {
        let mut conn = self.conn().await?;
        let expired = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let overdue: Vec<TransferRow> = diesel::sql_query(
                    "SELECT *, type AS type_ FROM transfer.transfers WHERE type = 2 AND status = 1 AND expire_at <= now() \
                     ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                )
                .bind::<BigInt, _>(limit)
                .load(conn)
                .await?;
                if overdue.is_empty() {
                    return Ok(0);
                }
                let ids: Vec<Uuid> = overdue
                    .iter()
                    .flat_map(|t| [t.debit_account_id, t.credit_account_id])
                    .collect();
                let locked = lock_accounts(conn, &ids).await?;
                let mut book = Book::new(locked.iter().filter_map(AccountRow::customer_state));
                for pending in &overdue {
                    book.apply(&Movement::Release {
                        debit: pending.debit_account_id,
                        credit: pending.credit_account_id,
                        reserved: pending.amount,
                    })
                    .map_err(|_| diesel::result::Error::RollbackTransaction)?;
                }
                let touched: HashSet<Uuid> = locked.iter().map(|r| r.id).collect();
                write_book(conn, &book, &touched).await?;
                let events: Vec<_> = overdue.iter().map(crate::events::expired).collect();
                crate::events::OUTBOX.append(conn, &events).await?;
                let expired_ids: Vec<Uuid> = overdue.iter().map(|t| t.id).collect();
                diesel::update(transfers::table.filter(transfers::id.eq_any(&expired_ids)))
                    .set((transfers::status.eq(st::EXPIRED), transfers::resolved_at.eq(Some(Utc::now()))))
                    .execute(conn)
                    .await?;
                Ok(overdue.len())
            })
            .await?;
        Ok(expired)
    }

    /// Sets a customer account's status under its row lock. Closing needs a
    /// zero balance and no open reservation.
    pub async fn set_status(&self, id: Uuid, status: AccountStatus) -> Result<StatusChange, StoreError> {
        let mut conn = self.conn().await?;
        Ok(conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let Some(row) = lock_accounts(conn, &[id]).await?.pop() else {
                    return Ok(StatusChange::NotFound);
                };
                if row.kind != AccountKind::Customer as i16 {
                    return Ok(StatusChange::NotCustomer);
                }
                if row.status == status as i16 {
                    return Ok(StatusChange::Done(row));
                }
                if row.status == AccountStatus::Closed as i16 {
                    return Ok(StatusChange::AlreadyClosed);
                }
                if status == AccountStatus::Closed {
                    if row.credits_posted != row.debits_posted {
                        return Ok(StatusChange::BalanceNotZero);
                    }
                    if row.debits_pending != 0 || row.credits_pending != 0 {
                        return Ok(StatusChange::PendingOpen);
                    }
                }
                let row = diesel::update(ledger_accounts::table.find(id))
                    .set(ledger_accounts::status.eq(status as i16))
                    .returning(AccountRow::as_returning())
                    .get_result(conn)
                    .await?;
                Ok(StatusChange::Done(row))
            })
            .await?)
    }

    /// One transfer.
    pub async fn transfer(&self, id: Uuid) -> Result<Option<TransferRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(transfers::table
            .find(id)
            .select(TransferRow::as_select())
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// Transfers newest first, after the keyset cursor.
    pub async fn list_transfers(&self, filter: &TransferFilter, limit: i64) -> Result<Vec<TransferRow>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = transfers::table.select(TransferRow::as_select()).into_boxed();
        if let Some(account) = filter.account {
            query = query.filter(
                transfers::debit_account_id
                    .eq(account)
                    .or(transfers::credit_account_id.eq(account)),
            );
        }
        if !filter.statuses.is_empty() {
            query = query.filter(transfers::status.eq_any(filter.statuses.clone()));
        }
        if !filter.kinds.is_empty() {
            query = query.filter(transfers::kind.eq_any(filter.kinds.clone()));
        }
        if let Some(start) = filter.start {
            query = query.filter(transfers::created_at.ge(start));
        }
        if let Some(end) = filter.end {
            query = query.filter(transfers::created_at.lt(end));
        }
        if let Some((at, id)) = filter.after {
            query = query.filter(
                transfers::created_at
                    .lt(at)
                    .or(transfers::created_at.eq(at).and(transfers::id.lt(id))),
            );
        }
        Ok(query
            .order((transfers::created_at.desc(), transfers::id.desc()))
            .limit(limit)
            .load(&mut conn)
            .await?)
    }

    /// Posted entries of `account` in `[start, end)`, oldest first, after
    /// `after` (sequence for customer accounts, keyset otherwise), plus the
    /// range's summary.
    pub async fn entries(
        &self,
        account: Uuid,
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> Result<(Vec<TransferRow>, EntrySummary), StoreError> {
        let mut conn = self.conn().await?;
        // One snapshot for the page and its summary.
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(conn)
                .await?;
            let start_bound = start.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
            let (after_at, after_id) = after.unwrap_or((DateTime::<Utc>::UNIX_EPOCH, Uuid::nil()));
            let rows: Vec<TransferRow> = diesel::sql_query(
                "SELECT *, type AS type_ FROM transfer.transfers \
                 WHERE (debit_account_id = $1 OR credit_account_id = $1) AND type IN (1, 3) AND status = 2 \
                 AND created_at >= $2 AND created_at < $3 AND (created_at, id) > ($4, $5) \
                 ORDER BY created_at, id LIMIT $6",
            )
            .bind::<SqlUuid, _>(account)
            .bind::<Timestamptz, _>(start_bound)
            .bind::<Timestamptz, _>(end)
            .bind::<Timestamptz, _>(after_at)
            .bind::<SqlUuid, _>(after_id)
            .bind::<BigInt, _>(limit)
            .load(conn)
            .await?;
            let summary: EntrySummary = diesel::sql_query(
                "SELECT \
                   COALESCE(SUM(CASE WHEN created_at < $2 THEN \
                     CASE WHEN credit_account_id = $1 THEN amount ELSE -amount END END), 0)::int8 AS opening, \
                   COALESCE(SUM(CASE WHEN created_at >= $2 AND credit_account_id = $1 THEN amount END), 0)::int8 \
                     AS credits, \
                   COALESCE(SUM(CASE WHEN created_at >= $2 AND debit_account_id = $1 THEN amount END), 0)::int8 \
                     AS debits, \
                   COUNT(*) FILTER (WHERE created_at >= $2) AS count \
                 FROM transfer.transfers \
                 WHERE (debit_account_id = $1 OR credit_account_id = $1) AND type IN (1, 3) AND status = 2 \
                   AND created_at < $3",
            )
            .bind::<SqlUuid, _>(account)
            .bind::<Timestamptz, _>(start_bound)
            .bind::<Timestamptz, _>(end)
            .get_result(conn)
            .await?;
            Ok((rows, summary))
        })
        .await
        .map_err(Into::into)
    }

    /// Recomputes stored columns from the transfers, in one snapshot.
    pub async fn integrity(&self, account: Option<Uuid>) -> Result<IntegrityReport, StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(conn)
                .await?;
            let rows: Vec<IntegrityRow> = diesel::sql_query(
                "WITH stored AS ( \
                   SELECT a.id, a.kind, a.currency, \
                     a.debits_posted + COALESCE(s.d, 0) AS dp, a.credits_posted + COALESCE(s.c, 0) AS cp, \
                     a.debits_pending AS dpend, a.credits_pending AS cpend \
                   FROM transfer.ledger_accounts a \
                   LEFT JOIN (SELECT account_id, SUM(debits_posted) AS d, SUM(credits_posted) AS c \
                              FROM transfer.system_slots GROUP BY account_id) s ON s.account_id = a.id \
                   WHERE $1::uuid IS NULL OR a.id = $1), \
                 moved AS ( \
                   SELECT debit_account_id AS id, amount AS d, 0::int8 AS c, 0::int8 AS dpend, 0::int8 AS cpend \
                     FROM transfer.transfers WHERE type IN (1, 3) AND status = 2 \
                   UNION ALL SELECT credit_account_id, 0, amount, 0, 0 \
                     FROM transfer.transfers WHERE type IN (1, 3) AND status = 2 \
                   UNION ALL SELECT debit_account_id, 0, 0, amount, 0 \
                     FROM transfer.transfers WHERE type = 2 AND status = 1 \
                   UNION ALL SELECT credit_account_id, 0, 0, 0, amount \
                     FROM transfer.transfers WHERE type = 2 AND status = 1), \
                 recomputed AS ( \
                   SELECT id, SUM(d) AS dp, SUM(c) AS cp, SUM(dpend) AS dpend, SUM(cpend) AS cpend, COUNT(*) AS n \
                   FROM moved GROUP BY id) \
                 SELECT s.id, s.kind, s.currency, \
                   s.dp::int8 AS stored_dp, s.cp::int8 AS stored_cp, s.dpend AS stored_dpend, \
                   s.cpend AS stored_cpend, \
                   COALESCE(r.dp, 0)::int8 AS dp, COALESCE(r.cp, 0)::int8 AS cp, \
                   COALESCE(r.dpend, 0)::int8 AS dpend, COALESCE(r.cpend, 0)::int8 AS cpend, \
                   COALESCE(r.n, 0)::int8 AS entries \
                 FROM stored s LEFT JOIN recomputed r ON r.id = s.id ORDER BY s.id",
            )
            .bind::<Nullable<SqlUuid>, _>(account)
            .load(conn)
            .await?;
            let overdue: CountRow = diesel::sql_query(
                "SELECT COUNT(*) AS n FROM transfer.transfers \
                 WHERE type = 2 AND status = 1 AND expire_at < now() - interval '60 seconds'",
            )
            .get_result(conn)
            .await?;
            Ok(IntegrityReport {
                rows,
                overdue_pending: overdue.n,
                checked_at: Utc::now(),
            })
        })
        .await
        .map_err(Into::into)
    }
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Summary of an entry range.
#[derive(QueryableByName, Clone, Copy, Debug, Default)]
pub struct EntrySummary {
    /// Posted balance before the range.
    #[diesel(sql_type = BigInt)]
    pub opening: i64,
    /// Credits in the range.
    #[diesel(sql_type = BigInt)]
    pub credits: i64,
    /// Debits in the range.
    #[diesel(sql_type = BigInt)]
    pub debits: i64,
    /// Entries in the range.
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Stored versus recomputed columns of one account.
#[derive(QueryableByName, Clone, Debug)]
pub struct IntegrityRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Int2)]
    pub kind: i16,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = BigInt)]
    pub stored_dp: i64,
    #[diesel(sql_type = BigInt)]
    pub stored_cp: i64,
    #[diesel(sql_type = BigInt)]
    pub stored_dpend: i64,
    #[diesel(sql_type = BigInt)]
    pub stored_cpend: i64,
    #[diesel(sql_type = BigInt)]
    pub dp: i64,
    #[diesel(sql_type = BigInt)]
    pub cp: i64,
    #[diesel(sql_type = BigInt)]
    pub dpend: i64,
    #[diesel(sql_type = BigInt)]
    pub cpend: i64,
    #[diesel(sql_type = BigInt)]
    pub entries: i64,
}

impl IntegrityRow {
    /// Whether stored and recomputed agree.
    pub fn consistent(&self) -> bool {
        (self.stored_dp, self.stored_cp, self.stored_dpend, self.stored_cpend)
            == (self.dp, self.cp, self.dpend, self.cpend)
    }
}

/// The result of an integrity check.
#[derive(Clone, Debug)]
pub struct IntegrityReport {
    /// Every checked account.
    pub rows: Vec<IntegrityRow>,
    /// Reservations more than a minute past their deadline.
    pub overdue_pending: i64,
    /// When the snapshot was taken.
    pub checked_at: DateTime<Utc>,
}

/// Filters of ListTransfers.
#[derive(Clone, Debug, Default)]
pub struct TransferFilter {
    pub account: Option<Uuid>,
    pub statuses: Vec<i16>,
    pub kinds: Vec<i16>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

/// What became of a post or void.
#[derive(Clone, Debug)]
pub enum Resolution {
    /// Recorded now (posted/voided, or declined: see the row's status).
    Recorded { row: TransferRow, pending: TransferRow },
    /// The key was used before for the same request.
    Replayed { row: TransferRow, pending: TransferRow },
    /// The key was used before for another request.
    KeyReused { field: &'static str },
    /// No such pending transfer.
    NotFound,
    /// The amount to post exceeds the reservation.
    ExceedsPending,
}

/// What became of a status change.
#[derive(Clone, Debug)]
pub enum StatusChange {
    /// Applied (or already so).
    Done(AccountRow),
    /// No such account.
    NotFound,
    /// System accounts have no status.
    NotCustomer,
    /// Closed accounts never reopen.
    AlreadyClosed,
    /// Closing needs a zero balance.
    BalanceNotZero,
    /// Closing needs no open reservation.
    PendingOpen,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use diesel::sql_types::Text as SqlText;
    use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

    use super::{EXISTING_KEYS_SQL, legs_max};

    #[derive(diesel::QueryableByName)]
    struct PlanLine {
        #[diesel(sql_type = SqlText, column_name = "QUERY PLAN")]
        line: String,
    }

    /// The key lookup of a batch probes the idempotency index once per key
    /// even when the statistics say the table is empty while the initiator
    /// has a long history (a young table, or one that grew since its last
    /// ANALYZE): it never reads that history and filters or hashes it.
    #[tokio::test]
    async fn batch_key_lookup_probes_the_index_whatever_the_statistics() {
        let db = bank_testkit::TestDatabase::create("transfer_keys").await;
        bank_db::run_migrations(db.url(), crate::MIGRATIONS).await.unwrap();
        let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
        for statement in [
            "ALTER TABLE transfer.transfers SET (autovacuum_enabled = false)",
            // Statistics of the empty table, then a history they do not know.
            "ANALYZE transfer.transfers",
            "INSERT INTO transfer.transfers (id, initiator, operation, request_id, type, kind, status, \
               debit_account_id, credit_account_id, amount, currency) \
             SELECT gen_random_uuid(), 'user:long-history', 1, md5(g::text), 1, 1, 1, \
               gen_random_uuid(), gen_random_uuid(), 1, 'USD' FROM generate_series(1, 20000) AS g",
        ] {
            diesel::sql_query(statement).execute(&mut conn).await.unwrap();
        }
        let mut keys: Vec<String> = (0..1_000).map(|i| format!("new-{i:04}")).collect();
        keys.push("c4ca4238a0b923820dcc509a6f75849b".to_owned()); // md5('1'): recorded
        keys.sort_unstable();
        let plan: Vec<PlanLine> = diesel::sql_query(format!("EXPLAIN (ANALYZE, COSTS OFF) {EXISTING_KEYS_SQL}"))
            .bind::<SqlText, _>("user:long-history")
            .bind::<diesel::sql_types::Int2, _>(1_i16)
            .bind::<diesel::sql_types::Array<SqlText>, _>(keys)
            .bind::<diesel::sql_types::BigInt, _>(legs_max())
            .load(&mut conn)
            .await
            .unwrap();
        let plan: String = plan.into_iter().map(|l| l.line + "\n").collect();
        assert!(
            plan.contains("Index Scan using idempotency_key") && plan.contains("request_id = k.request_id"),
            "every key is an index condition:\n{plan}"
        );
        for shape in ["Hash", "Bitmap", "Seq Scan", "Rows Removed by Filter", "Merge"] {
            assert!(!plan.contains(shape), "no {shape} over the history:\n{plan}");
        }
        assert!(plan.contains("Nested Loop"), "one probe per key:\n{plan}");
    }
}
