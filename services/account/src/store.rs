//! The account schema's queries. Every multi-row change runs in one
//! transaction; rows that decide a race (an account whose status changes,
//! an account getting a card, a member's account count) are locked first.

use std::future::Future;
use std::pin::Pin;

use bank_db::{Pool, PooledConnection};
use chrono::{DateTime, Datelike, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::{AccountKind, AccountNumber, AccountState, CardholderName, Currency, Expiry, Pan};
use crate::events::{self, OUTBOX};
use crate::idempotency::{Fingerprint, Rpc};
use crate::schema::{accounts, cards, idempotency_keys, profiles};
use crate::vault::CardVault;

/// Accounts a member may hold that are not closed.
pub const ACCOUNTS_PER_MEMBER_MAX: i64 = 10;
/// Fresh numbers tried before giving up on a unique one (each collides
/// with probability accounts / 9·10⁹).
const NUMBER_ATTEMPTS_MAX: usize = 8;

/// `cards.status` values (bank.account.v1.CardStatus numbers).
pub const CARD_ACTIVE: i16 = 1;
/// Blocked permanently.
pub const CARD_BLOCKED: i16 = 2;
/// Past its expiry month.
pub const CARD_EXPIRED: i16 = 3;
/// CardBlockReason ACCOUNT_CLOSED (set by the server only).
pub const BLOCK_REASON_ACCOUNT_CLOSED: i16 = 4;

/// `idempotency_keys.state`: claimed, nothing sent anywhere yet.
pub const STATE_CLAIMED: i16 = 1;
/// Sent to the ledger: a retry must ask the ledger again, never re-decide.
pub const STATE_SUBMITTED: i16 = 2;
/// Finished: the stored outcome is the answer forever.
pub const STATE_COMPLETED: i16 = 3;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had in time: the caller may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    /// Stored data broke an invariant the code relies on.
    #[error("inconsistent data: {0}")]
    Inconsistent(&'static str),
}

/// An account row.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    /// Id (also its ledger account's id).
    pub id: Uuid,
    /// 12 digits.
    pub number: String,
    /// Owner; `None` for system accounts.
    pub owner_user_id: Option<Uuid>,
    /// AccountType number.
    pub account_type: i16,
    /// AccountStatus number.
    pub status: i16,
    /// ISO-4217 code.
    pub currency: String,
    /// Nickname.
    pub display_name: String,
    /// LedgerAccountKind of a system account; 0 otherwise.
    pub system_kind: i16,
    /// The latest admin reason.
    pub status_reason: String,
    /// Opening time.
    pub opened_at: DateTime<Utc>,
    /// Latest status change.
    pub status_changed_at: DateTime<Utc>,
}

impl AccountRow {
    /// Its type (CHECK constraints make the fallback unreachable).
    pub fn kind(&self) -> AccountKind {
        AccountKind::from_code(self.account_type).unwrap_or(AccountKind::System)
    }

    /// Its status (an unknown value is treated as the most restrictive).
    pub fn state(&self) -> AccountState {
        AccountState::from_code(self.status).unwrap_or(AccountState::Closed)
    }

    /// Whether `user` owns it.
    pub fn is_owned_by(&self, user: Uuid) -> bool {
        self.owner_user_id == Some(user)
    }
}

/// A profile row.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = profiles)]
pub struct ProfileRow {
    /// Full name or empty.
    pub full_name: String,
    /// E.164 phone or empty.
    pub phone: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A card row. Holds the encrypted PAN: never log it.
#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = cards)]
pub struct CardRow {
    /// Id.
    pub id: Uuid,
    /// The account it debits.
    pub account_id: Uuid,
    /// The account's owner.
    pub owner_user_id: Uuid,
    /// Nonce, ciphertext and tag of the PAN.
    pub pan_ciphertext: Vec<u8>,
    /// Key that encrypted it.
    pub pan_key_id: String,
    /// Last four digits.
    pub last_four: String,
    /// Expiry month.
    pub expiry_month: i16,
    /// Expiry year.
    pub expiry_year: i16,
    /// Embossed name.
    pub cardholder_name: String,
    /// CardStatus number as stored.
    pub status: i16,
    /// CardBlockReason number.
    pub block_reason: i16,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// Block time.
    pub blocked_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for CardRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardRow")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl CardRow {
    /// The printed expiry.
    pub fn expiry(&self) -> Expiry {
        Expiry::new(i32::from(self.expiry_month), i32::from(self.expiry_year))
            .unwrap_or_else(|_| Expiry::for_issue_at(DateTime::<Utc>::MIN_UTC))
    }

    /// The status as a reader sees it at `now`: an active card past its
    /// expiry month is EXPIRED.
    pub fn effective_status(&self, now: DateTime<Utc>) -> i16 {
        if self.status == CARD_ACTIVE && self.expiry().has_passed(now) {
            CARD_EXPIRED
        } else {
            self.status
        }
    }
}

/// An idempotency record.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    /// `field:mac` lines.
    pub fingerprint: String,
    /// Claimed, submitted or completed.
    pub state: i16,
    /// The account or card created, or the card a purchase used.
    pub resource_id: Option<Uuid>,
    /// Encoded response message (without secrets).
    pub response: Option<Vec<u8>>,
    /// Recorded error: gRPC code.
    pub error_code: Option<i32>,
    /// Recorded error: message.
    pub error_message: Option<String>,
    /// Recorded error: encoded google.rpc.Status details.
    pub error_details: Option<Vec<u8>>,
}

/// The key of an idempotency record.
#[derive(Clone, Copy, Debug)]
pub struct IdempotencyKey<'a> {
    /// The caller (user id).
    pub caller: Uuid,
    /// The RPC.
    pub rpc: Rpc,
    /// The client's request id.
    pub request_id: &'a str,
}

/// How an idempotent call finished.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Success: the encoded response.
    Response(Vec<u8>),
    /// A recorded error (a purchase decline).
    Error {
        /// gRPC code.
        code: i32,
        /// Message.
        message: String,
        /// Encoded google.rpc.Status details.
        details: Vec<u8>,
        /// ErrorInfo reason.
        reason: String,
    },
}

/// Filters of ListAllAccounts.
#[derive(Debug, Default, Clone)]
pub struct AccountFilter {
    /// Only this owner's.
    pub owner: Option<Uuid>,
    /// Only these AccountType numbers.
    pub types: Vec<i16>,
    /// Only these AccountStatus numbers.
    pub statuses: Vec<i16>,
    /// Only this currency.
    pub currency: Option<String>,
    /// Only this number.
    pub number: Option<String>,
}

/// A page position: the last row's (time, id).
pub type Cursor = (DateTime<Utc>, Uuid);

/// What OpenAccount found or made.
#[derive(Debug)]
pub struct Opened {
    /// The account (maybe not yet ledger-ready).
    pub account: AccountRow,
    /// The stored response of a completed earlier call.
    pub response: Option<Vec<u8>>,
}

/// Why OpenAccount refused.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The request id was used for another request.
    #[error("request id reused ({0} differs)")]
    KeyReused(String),
    /// The member holds the maximum of accounts.
    #[error("account limit reached")]
    LimitReached,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for OpenError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// The status change an admin asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    /// OPEN -> FROZEN.
    Freeze,
    /// FROZEN -> OPEN.
    Unfreeze,
    /// OPEN | FROZEN -> CLOSED.
    Close,
}

impl StatusChange {
    /// The status it leads to.
    pub fn target(self) -> AccountState {
        match self {
            Self::Freeze => AccountState::Frozen,
            Self::Unfreeze => AccountState::Open,
            Self::Close => AccountState::Closed,
        }
    }
}

/// Why a status change was refused.
#[derive(Debug, thiserror::Error)]
pub enum StatusChangeError {
    /// No such (ready) account.
    #[error("account not found")]
    NotFound,
    /// System accounts never change status.
    #[error("system account")]
    System,
    /// The account is closed (final).
    #[error("account closed")]
    Closed,
    /// The ledger refused or failed.
    #[error("ledger: {0}")]
    Mirror(tonic::Status),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for StatusChangeError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// The ledger call made while the account row is locked.
pub type Mirror = Pin<Box<dyn Future<Output = Result<(), tonic::Status>> + Send>>;

/// What IssueCard found or made.
#[derive(Debug)]
pub struct Issued {
    /// The card.
    pub card: CardRow,
    /// The PAN, when this call created the card.
    pub pan: Option<Pan>,
    /// The stored response of an earlier call with the same request id.
    pub response: Option<Vec<u8>>,
}

/// Why IssueCard refused.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The request id was used for another request.
    #[error("request id reused ({0} differs)")]
    KeyReused(String),
    /// No such account, or not the caller's (and the caller is a member).
    #[error("account not found")]
    NotFound,
    /// An admin on someone else's account.
    #[error("not the account owner")]
    NotOwner,
    /// The account is frozen.
    #[error("account frozen")]
    Frozen,
    /// The account is closed.
    #[error("account closed")]
    Closed,
    /// Not a checking or savings account.
    #[error("account type not eligible")]
    NotEligible,
    /// The account already has an active card.
    #[error("card already issued")]
    AlreadyIssued,
    /// No cardholder name given and the profile's cannot be embossed.
    #[error("no embossable cardholder name")]
    NoName,
    /// Encrypting failed.
    #[error("vault: {0}")]
    Vault(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for IssueError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// What an IssueCard call asks for.
#[derive(Debug)]
pub struct CardRequest<'a> {
    /// Idempotency key.
    pub key: IdempotencyKey<'a>,
    /// Its fingerprint.
    pub fingerprint: &'a Fingerprint,
    /// Whether the caller is an admin (decides NOT_FOUND vs NOT_ACCOUNT_OWNER).
    pub caller_is_admin: bool,
    /// The account.
    pub account_id: Uuid,
    /// The requested name; `None` means the profile's.
    pub name: Option<CardholderName>,
    /// Now.
    pub now: DateTime<Utc>,
}

/// The account database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// Inserts the idempotency claim (or finds the existing record). `Ok(None)`
/// when this call inserted it.
async fn claim_in(
    conn: &mut AsyncPgConnection,
    key: IdempotencyKey<'_>,
    fingerprint: &Fingerprint,
) -> Result<Option<IdempotencyRow>, diesel::result::Error> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::caller_id.eq(key.caller),
            idempotency_keys::rpc.eq(key.rpc.as_str()),
            idempotency_keys::request_id.eq(key.request_id),
            idempotency_keys::fingerprint.eq(fingerprint.encode()),
            idempotency_keys::state.eq(STATE_CLAIMED),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    // A concurrent claim with this key waited for the other transaction,
    // which committed: its row is visible to this new statement.
    Ok(Some(record_in(conn, key).await?))
}

async fn record_in(
    conn: &mut AsyncPgConnection,
    key: IdempotencyKey<'_>,
) -> Result<IdempotencyRow, diesel::result::Error> {
    idempotency_keys::table
        .filter(idempotency_keys::caller_id.eq(key.caller))
        .filter(idempotency_keys::rpc.eq(key.rpc.as_str()))
        .filter(idempotency_keys::request_id.eq(key.request_id))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .await
}

async fn complete_in(
    conn: &mut AsyncPgConnection,
    key: IdempotencyKey<'_>,
    from_states: &[i16],
    resource_id: Option<Uuid>,
    outcome: &Outcome,
) -> Result<usize, diesel::result::Error> {
    let target = idempotency_keys::table
        .filter(idempotency_keys::caller_id.eq(key.caller))
        .filter(idempotency_keys::rpc.eq(key.rpc.as_str()))
        .filter(idempotency_keys::request_id.eq(key.request_id))
        .filter(idempotency_keys::state.eq_any(from_states.to_vec()));
    let (response, code, message, details, reason) = match outcome {
        Outcome::Response(bytes) => (Some(bytes.clone()), None, None, None, None),
        Outcome::Error {
            code,
            message,
            details,
            reason,
        } => (
            None,
            Some(*code),
            Some(message.clone()),
            Some(details.clone()),
            Some(reason.clone()),
        ),
    };
    if let Some(resource_id) = resource_id {
        diesel::update(target)
            .set((
                idempotency_keys::state.eq(STATE_COMPLETED),
                idempotency_keys::resource_id.eq(resource_id),
                idempotency_keys::response.eq(response),
                idempotency_keys::error_code.eq(code),
                idempotency_keys::error_message.eq(message),
                idempotency_keys::error_details.eq(details),
                idempotency_keys::decline_reason.eq(reason),
                idempotency_keys::completed_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
    } else {
        diesel::update(target)
            .set((
                idempotency_keys::state.eq(STATE_COMPLETED),
                idempotency_keys::response.eq(response),
                idempotency_keys::error_code.eq(code),
                idempotency_keys::error_message.eq(message),
                idempotency_keys::error_details.eq(details),
                idempotency_keys::decline_reason.eq(reason),
                idempotency_keys::completed_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
    }
}

/// Inserts an account with a fresh random number, retrying on the
/// (unlikely) collision of numbers.
/// A new account's fixed fields.
struct NewAccount<'a> {
    id: Uuid,
    owner: Option<Uuid>,
    kind: AccountKind,
    currency: &'a Currency,
    display_name: &'a str,
    system_kind: i16,
    ledger_ready: bool,
}

async fn insert_account(conn: &mut AsyncPgConnection, new: NewAccount<'_>) -> Result<Option<AccountRow>, StoreError> {
    let NewAccount {
        id,
        owner,
        kind,
        currency,
        display_name,
        system_kind,
        ledger_ready,
    } = new;
    for _ in 0..NUMBER_ATTEMPTS_MAX {
        let number = AccountNumber::generate();
        let row: Option<AccountRow> = diesel::insert_into(accounts::table)
            .values((
                accounts::id.eq(id),
                accounts::number.eq(number.as_str()),
                accounts::owner_user_id.eq(owner),
                accounts::account_type.eq(kind.code()),
                accounts::status.eq(AccountState::Open.code()),
                accounts::currency.eq(currency.as_str()),
                accounts::display_name.eq(display_name),
                accounts::system_kind.eq(system_kind),
                accounts::ledger_ready.eq(ledger_ready),
            ))
            .on_conflict_do_nothing()
            .returning(AccountRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        if row.is_some() {
            return Ok(row);
        }
        // A conflict on the id (a system account that exists) is final; on
        // the number, draw again.
        let exists: i64 = accounts::table
            .filter(accounts::id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        if exists > 0 {
            return Ok(None);
        }
        if system_kind != 0 {
            let taken: i64 = accounts::table
                .filter(accounts::account_type.eq(AccountKind::System.code()))
                .filter(accounts::system_kind.eq(system_kind))
                .filter(accounts::currency.eq(currency.as_str()))
                .count()
                .get_result(conn)
                .await?;
            if taken > 0 {
                return Err(StoreError::Inconsistent("a system account exists under another id"));
            }
        }
    }
    Err(StoreError::Inconsistent(
        "no free account number after several attempts",
    ))
}

impl Store {
    /// A store over `pool`.
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    async fn conn(&self) -> Result<PooledConnection, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Creates the system account of `kind` in `currency` with its
    /// deterministic id when missing, with its AccountOpened event. Its
    /// ledger account is the ledger's own (the transfer service creates
    /// system accounts at start-up).
    pub async fn ensure_system_account(&self, id: Uuid, kind: i16, currency: &Currency) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, StoreError, _>(async |conn| {
            let new = NewAccount {
                id,
                owner: None,
                kind: AccountKind::System,
                currency,
                display_name: "",
                system_kind: kind,
                ledger_ready: true,
            };
            if let Some(account) = insert_account(conn, new).await? {
                OUTBOX.append(conn, &[events::account_opened(&account)]).await?;
            }
            Ok(())
        })
        .await
    }

    /// OpenAccount's local half: claims the request id and inserts the
    /// account (not yet ledger-ready), or finds what an earlier call with
    /// the same id made. The member's accounts are counted under a lock
    /// per member, so concurrent opens cannot pass the limit together.
    pub async fn open_account(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: &Fingerprint,
        kind: AccountKind,
        currency: &Currency,
        display_name: &str,
    ) -> Result<Opened, OpenError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, OpenError, _>(async |conn| {
            if let Some(record) = claim_in(conn, key, fingerprint).await? {
                if let Some(field) = fingerprint.first_mismatch(&record.fingerprint) {
                    return Err(OpenError::KeyReused(field));
                }
                let id = record
                    .resource_id
                    .ok_or(StoreError::Inconsistent("open-account record without account"))?;
                let account = accounts::table
                    .filter(accounts::id.eq(id))
                    .select(AccountRow::as_select())
                    .first(conn)
                    .await?;
                return Ok(Opened {
                    account,
                    response: record.response,
                });
            }
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
                .bind::<diesel::sql_types::Uuid, _>(key.caller)
                .execute(conn)
                .await?;
            let held: i64 = accounts::table
                .filter(accounts::owner_user_id.eq(key.caller))
                .filter(accounts::status.ne(AccountState::Closed.code()))
                .count()
                .get_result(conn)
                .await?;
            if held >= ACCOUNTS_PER_MEMBER_MAX {
                return Err(OpenError::LimitReached);
            }
            let new = NewAccount {
                id: Uuid::new_v4(),
                owner: Some(key.caller),
                kind,
                currency,
                display_name,
                system_kind: 0,
                ledger_ready: false,
            };
            let account = insert_account(conn, new)
                .await?
                .ok_or(StoreError::Inconsistent("fresh account id already taken"))?;
            diesel::update(
                idempotency_keys::table
                    .filter(idempotency_keys::caller_id.eq(key.caller))
                    .filter(idempotency_keys::rpc.eq(key.rpc.as_str()))
                    .filter(idempotency_keys::request_id.eq(key.request_id)),
            )
            .set(idempotency_keys::resource_id.eq(account.id))
            .execute(conn)
            .await?;
            Ok(Opened {
                account,
                response: None,
            })
        })
        .await
    }

    /// Marks the account's ledger account as created and, when given,
    /// completes the idempotency record with the response. The account
    /// becomes visible here, so AccountOpened is written here: only by the
    /// call that flips the flag (the row lock orders a racing retry or the
    /// healer behind it, and they then find it ready), so exactly once.
    pub async fn mark_ready(
        &self,
        account_id: Uuid,
        completion: Option<(IdempotencyKey<'_>, Vec<u8>)>,
    ) -> Result<AccountRow, StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, StoreError, _>(async |conn| {
            let flipped: Option<AccountRow> = diesel::update(
                accounts::table
                    .filter(accounts::id.eq(account_id))
                    .filter(accounts::ledger_ready.eq(false)),
            )
            .set(accounts::ledger_ready.eq(true))
            .returning(AccountRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
            let account = match flipped {
                Some(account) => {
                    OUTBOX.append(conn, &[events::account_opened(&account)]).await?;
                    account
                }
                None => {
                    accounts::table
                        .filter(accounts::id.eq(account_id))
                        .select(AccountRow::as_select())
                        .first(conn)
                        .await?
                }
            };
            if let Some((key, response)) = completion {
                complete_in(conn, key, &[STATE_CLAIMED], None, &Outcome::Response(response)).await?;
            }
            Ok(account)
        })
        .await
    }

    /// Accounts whose ledger account was never confirmed, opened before
    /// `before`: the healer's work.
    pub async fn unready_accounts(&self, before: DateTime<Utc>, limit: i64) -> Result<Vec<AccountRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(accounts::table
            .filter(accounts::ledger_ready.eq(false))
            .filter(accounts::opened_at.lt(before))
            .order(accounts::opened_at)
            .limit(limit)
            .select(AccountRow::as_select())
            .load(&mut conn)
            .await?)
    }

    /// The ready account with `id`.
    pub async fn account(&self, id: Uuid) -> Result<Option<AccountRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(accounts::table
            .filter(accounts::id.eq(id))
            .filter(accounts::ledger_ready.eq(true))
            .select(AccountRow::as_select())
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// The ready account with `number`.
    pub async fn account_by_number(&self, number: &AccountNumber) -> Result<Option<AccountRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(accounts::table
            .filter(accounts::number.eq(number.as_str()))
            .filter(accounts::ledger_ready.eq(true))
            .select(AccountRow::as_select())
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// Ready accounts by ids and numbers.
    pub async fn accounts_by(&self, ids: &[Uuid], numbers: &[String]) -> Result<Vec<AccountRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(accounts::table
            .filter(accounts::id.eq_any(ids).or(accounts::number.eq_any(numbers)))
            .filter(accounts::ledger_ready.eq(true))
            .select(AccountRow::as_select())
            .load(&mut conn)
            .await?)
    }

    /// Up to `limit` of `owner`'s ready accounts, oldest first, after `after`.
    pub async fn accounts_of(
        &self,
        owner: Uuid,
        include_closed: bool,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<AccountRow>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = accounts::table
            .filter(accounts::owner_user_id.eq(owner))
            .filter(accounts::ledger_ready.eq(true))
            .select(AccountRow::as_select())
            .into_boxed();
        if !include_closed {
            query = query.filter(accounts::status.ne(AccountState::Closed.code()));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                accounts::opened_at
                    .gt(at)
                    .or(accounts::opened_at.eq(at).and(accounts::id.gt(id))),
            );
        }
        Ok(query
            .order((accounts::opened_at, accounts::id))
            .limit(limit)
            .load(&mut conn)
            .await?)
    }

    /// Up to `limit` ready accounts matching `filter`, newest first, after
    /// `after`.
    pub async fn all_accounts(
        &self,
        filter: &AccountFilter,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<AccountRow>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = accounts::table
            .filter(accounts::ledger_ready.eq(true))
            .select(AccountRow::as_select())
            .into_boxed();
        if let Some(owner) = filter.owner {
            query = query.filter(accounts::owner_user_id.eq(owner));
        }
        if !filter.types.is_empty() {
            query = query.filter(accounts::account_type.eq_any(filter.types.clone()));
        }
        if !filter.statuses.is_empty() {
            query = query.filter(accounts::status.eq_any(filter.statuses.clone()));
        }
        if let Some(currency) = &filter.currency {
            query = query.filter(accounts::currency.eq(currency.clone()));
        }
        if let Some(number) = &filter.number {
            query = query.filter(accounts::number.eq(number.clone()));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                accounts::opened_at
                    .lt(at)
                    .or(accounts::opened_at.eq(at).and(accounts::id.lt(id))),
            );
        }
        Ok(query
            .order((accounts::opened_at.desc(), accounts::id.desc()))
            .limit(limit)
            .load(&mut conn)
            .await?)
    }

    /// Changes an account's status with the account row locked: `mirror`
    /// (the ledger call) runs first, and only if it succeeds is the row
    /// changed, so the ledger is never less strict than this table. Closing
    /// blocks the active card. A change writes its AccountStatusChanged
    /// (`admin` caused it); asking for the current status writes nothing.
    /// Returns the row and whether it changed.
    pub async fn change_status(
        &self,
        id: Uuid,
        change: StatusChange,
        reason: &str,
        admin: Uuid,
        mirror: impl FnOnce(&AccountRow) -> Mirror + Send,
    ) -> Result<(AccountRow, bool), StatusChangeError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, StatusChangeError, _>(async |conn| {
            let account: AccountRow = accounts::table
                .filter(accounts::id.eq(id))
                .filter(accounts::ledger_ready.eq(true))
                .select(AccountRow::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or(StatusChangeError::NotFound)?;
            if account.kind() == AccountKind::System {
                return Err(StatusChangeError::System);
            }
            let current = account.state();
            let target = change.target();
            if current == target {
                return Ok((account, false));
            }
            if current == AccountState::Closed {
                return Err(StatusChangeError::Closed);
            }
            mirror(&account).await.map_err(StatusChangeError::Mirror)?;
            let now = Utc::now();
            let updated = diesel::update(accounts::table.filter(accounts::id.eq(id)))
                .set((
                    accounts::status.eq(target.code()),
                    accounts::status_reason.eq(reason),
                    accounts::status_changed_at.eq(now),
                ))
                .returning(AccountRow::as_returning())
                .get_result(conn)
                .await?;
            if target == AccountState::Closed {
                diesel::update(
                    cards::table
                        .filter(cards::account_id.eq(id))
                        .filter(cards::status.eq(CARD_ACTIVE)),
                )
                .set((
                    cards::status.eq(CARD_BLOCKED),
                    cards::block_reason.eq(BLOCK_REASON_ACCOUNT_CLOSED),
                    cards::blocked_at.eq(now),
                ))
                .execute(conn)
                .await?;
            }
            OUTBOX
                .append(
                    conn,
                    &[events::account_status_changed(&updated, current, reason, admin)],
                )
                .await?;
            Ok((updated, true))
        })
        .await
    }

    /// The profile of `user`, if it was ever set.
    pub async fn profile(&self, user: Uuid) -> Result<Option<ProfileRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(profiles::table
            .filter(profiles::user_id.eq(user))
            .select(ProfileRow::as_select())
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// Sets the given fields of `user`'s profile (creating it when new).
    pub async fn update_profile(
        &self,
        user: Uuid,
        full_name: Option<&str>,
        phone: Option<&str>,
    ) -> Result<ProfileRow, StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, StoreError, _>(async |conn| {
            diesel::insert_into(profiles::table)
                .values(profiles::user_id.eq(user))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            let target = profiles::table.filter(profiles::user_id.eq(user));
            if let Some(name) = full_name {
                diesel::update(target)
                    .set(profiles::full_name.eq(name))
                    .execute(conn)
                    .await?;
            }
            if let Some(phone) = phone {
                diesel::update(target)
                    .set(profiles::phone.eq(phone))
                    .execute(conn)
                    .await?;
            }
            Ok(diesel::update(target)
                .set(profiles::updated_at.eq(diesel::dsl::now))
                .returning(ProfileRow::as_returning())
                .get_result(conn)
                .await?)
        })
        .await
    }

    /// IssueCard in one transaction: claims the request id (or replays an
    /// earlier call), locks the account, checks it, expires stale cards,
    /// refuses a second active card, and stores the new card with its PAN
    /// encrypted. `encode` builds the stored response (no PAN, no CVV).
    pub async fn issue_card(
        &self,
        request: CardRequest<'_>,
        vault: &CardVault,
        encode: impl FnOnce(&CardRow) -> Vec<u8> + Send,
    ) -> Result<Issued, IssueError> {
        let mut conn = self.conn().await?;
        let key = request.key;
        conn.transaction::<_, IssueError, _>(async |conn| {
            if let Some(record) = claim_in(conn, key, request.fingerprint).await? {
                if let Some(field) = request.fingerprint.first_mismatch(&record.fingerprint) {
                    return Err(IssueError::KeyReused(field));
                }
                let card_id = record
                    .resource_id
                    .ok_or(StoreError::Inconsistent("issue-card record without card"))?;
                let card = cards::table
                    .filter(cards::id.eq(card_id))
                    .select(CardRow::as_select())
                    .first(conn)
                    .await?;
                return Ok(Issued {
                    card,
                    pan: None,
                    response: record.response,
                });
            }
            let account: AccountRow = accounts::table
                .filter(accounts::id.eq(request.account_id))
                .filter(accounts::ledger_ready.eq(true))
                .select(AccountRow::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or(IssueError::NotFound)?;
            if !account.is_owned_by(key.caller) {
                return Err(if request.caller_is_admin {
                    IssueError::NotOwner
                } else {
                    IssueError::NotFound
                });
            }
            if !account.kind().is_member_account() {
                return Err(IssueError::NotEligible);
            }
            match account.state() {
                AccountState::Open => {}
                AccountState::Frozen => return Err(IssueError::Frozen),
                AccountState::Closed => return Err(IssueError::Closed),
            }
            let now = request.now;
            // An active card past its expiry month is expired: record it, so
            // the one-active-card rule lets a new card be issued.
            let year = i16::try_from(now.year()).unwrap_or(i16::MAX);
            let month = i16::try_from(now.month()).unwrap_or(12);
            diesel::update(
                cards::table
                    .filter(cards::account_id.eq(account.id))
                    .filter(cards::status.eq(CARD_ACTIVE))
                    .filter(
                        cards::expiry_year
                            .lt(year)
                            .or(cards::expiry_year.eq(year).and(cards::expiry_month.lt(month))),
                    ),
            )
            .set(cards::status.eq(CARD_EXPIRED))
            .execute(conn)
            .await?;
            let active: i64 = cards::table
                .filter(cards::account_id.eq(account.id))
                .filter(cards::status.eq(CARD_ACTIVE))
                .count()
                .get_result(conn)
                .await?;
            if active > 0 {
                return Err(IssueError::AlreadyIssued);
            }
            let name = match request.name {
                Some(name) => name,
                None => {
                    let full_name: Option<String> = profiles::table
                        .filter(profiles::user_id.eq(key.caller))
                        .select(profiles::full_name)
                        .first(conn)
                        .await
                        .optional()?;
                    full_name
                        .as_deref()
                        .and_then(CardholderName::from_full_name)
                        .ok_or(IssueError::NoName)?
                }
            };
            let expiry = Expiry::for_issue_at(now);
            for _ in 0..NUMBER_ATTEMPTS_MAX {
                let card_id = Uuid::new_v4();
                let pan = Pan::generate(vault.issuer_prefix());
                let (key_id, sealed) = vault
                    .encrypt(card_id, &pan)
                    .map_err(|e| IssueError::Vault(e.to_string()))?;
                let card: Option<CardRow> = diesel::insert_into(cards::table)
                    .values((
                        cards::id.eq(card_id),
                        cards::account_id.eq(account.id),
                        cards::owner_user_id.eq(key.caller),
                        cards::pan_index.eq(vault.pan_index(&pan).to_vec()),
                        cards::pan_ciphertext.eq(sealed),
                        cards::pan_key_id.eq(key_id),
                        cards::last_four.eq(pan.last_four()),
                        cards::expiry_month.eq(i16::try_from(expiry.month()).unwrap_or(1)),
                        cards::expiry_year.eq(i16::try_from(expiry.year()).unwrap_or(i16::MAX)),
                        cards::cardholder_name.eq(name.as_str()),
                        cards::status.eq(CARD_ACTIVE),
                        cards::issued_at.eq(now),
                    ))
                    .on_conflict(cards::pan_index)
                    .do_nothing()
                    .returning(CardRow::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?;
                if let Some(card) = card {
                    OUTBOX.append(conn, &[events::card_issued(&card)]).await?;
                    let response = encode(&card);
                    complete_in(conn, key, &[STATE_CLAIMED], Some(card.id), &Outcome::Response(response)).await?;
                    return Ok(Issued {
                        card,
                        pan: Some(pan),
                        response: None,
                    });
                }
            }
            Err(StoreError::Inconsistent("no free card number after several attempts").into())
        })
        .await
    }

    /// Up to `limit` cards of `account_id`, newest first, after `after`.
    pub async fn cards_of(
        &self,
        account_id: Uuid,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<CardRow>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = cards::table
            .filter(cards::account_id.eq(account_id))
            .select(CardRow::as_select())
            .into_boxed();
        if let Some((at, id)) = after {
            query = query.filter(
                cards::issued_at
                    .lt(at)
                    .or(cards::issued_at.eq(at).and(cards::id.lt(id))),
            );
        }
        Ok(query
            .order((cards::issued_at.desc(), cards::id.desc()))
            .limit(limit)
            .load(&mut conn)
            .await?)
    }

    /// The card `card_id`, if any.
    pub async fn card(&self, card_id: Uuid) -> Result<Option<CardRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(cards::table
            .filter(cards::id.eq(card_id))
            .select(CardRow::as_select())
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// The card with PAN index `index` and its account.
    pub async fn card_by_pan_index(&self, index: &[u8]) -> Result<Option<(CardRow, AccountRow)>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(cards::table
            .inner_join(accounts::table)
            .filter(cards::pan_index.eq(index))
            .select((CardRow::as_select(), AccountRow::as_select()))
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// Blocks card `card_id` of `account_id` (a blocked card stays as it
    /// is). `None` when there is no such card on that account.
    pub async fn block_card(
        &self,
        account_id: Uuid,
        card_id: Uuid,
        reason: i16,
    ) -> Result<Option<CardRow>, StoreError> {
        let mut conn = self.conn().await?;
        diesel::update(
            cards::table
                .filter(cards::id.eq(card_id))
                .filter(cards::account_id.eq(account_id))
                .filter(cards::status.ne(CARD_BLOCKED)),
        )
        .set((
            cards::status.eq(CARD_BLOCKED),
            cards::block_reason.eq(reason),
            cards::blocked_at.eq(diesel::dsl::now),
        ))
        .execute(&mut conn)
        .await?;
        Ok(cards::table
            .filter(cards::id.eq(card_id))
            .filter(cards::account_id.eq(account_id))
            .select(CardRow::as_select())
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// Claims a request id outside any other work (card purchases, whose
    /// ledger call must not run inside a transaction). `Ok(None)` when this
    /// call made the claim.
    pub async fn claim(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: &Fingerprint,
    ) -> Result<Option<IdempotencyRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(claim_in(&mut conn, key, fingerprint).await?)
    }

    /// The record of `key`.
    pub async fn record(&self, key: IdempotencyKey<'_>) -> Result<IdempotencyRow, StoreError> {
        let mut conn = self.conn().await?;
        Ok(record_in(&mut conn, key).await?)
    }

    /// Marks a purchase as sent to the ledger with `card_id`. `false` when
    /// another call with the same key already finished it.
    pub async fn submit(&self, key: IdempotencyKey<'_>, card_id: Uuid) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let changed = diesel::update(
            idempotency_keys::table
                .filter(idempotency_keys::caller_id.eq(key.caller))
                .filter(idempotency_keys::rpc.eq(key.rpc.as_str()))
                .filter(idempotency_keys::request_id.eq(key.request_id))
                .filter(idempotency_keys::state.eq_any([STATE_CLAIMED, STATE_SUBMITTED])),
        )
        .set((
            idempotency_keys::state.eq(STATE_SUBMITTED),
            idempotency_keys::resource_id.eq(card_id),
        ))
        .execute(&mut conn)
        .await?;
        Ok(changed == 1)
    }

    /// Records the outcome of `key` if it is still in one of `from_states`,
    /// then returns the record as stored (this outcome, or the one a
    /// concurrent call with the same key recorded first).
    pub async fn complete(
        &self,
        key: IdempotencyKey<'_>,
        from_states: &[i16],
        outcome: &Outcome,
    ) -> Result<IdempotencyRow, StoreError> {
        let mut conn = self.conn().await?;
        complete_in(&mut conn, key, from_states, None, outcome).await?;
        Ok(record_in(&mut conn, key).await?)
    }

    /// How many declines with `reason` `caller` got since `since`, and when
    /// the oldest of them was.
    pub async fn declines_since(
        &self,
        caller: Uuid,
        reason: &str,
        since: DateTime<Utc>,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        let mut conn = self.conn().await?;
        let (count, oldest): (i64, Option<DateTime<Utc>>) = idempotency_keys::table
            .filter(idempotency_keys::caller_id.eq(caller))
            .filter(idempotency_keys::decline_reason.eq(reason))
            .filter(idempotency_keys::created_at.ge(since))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(idempotency_keys::created_at),
            ))
            .first(&mut conn)
            .await?;
        Ok((count, oldest))
    }
}
