//! The ledger's rules, in memory: given the locked state of the customer
//! accounts a transaction touches, apply movements one by one, decline what
//! breaks a rule, and keep what the database must then write. Pure code, so
//! every rule is unit-tested without a database; the store locks, loads,
//! calls this, and writes the result in the same transaction.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use crate::domain::Currency;

/// `LedgerAccountKind` numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountKind {
    /// A member's account; never below zero.
    Customer = 1,
    /// The bank's cash.
    Cash = 2,
    /// Owed to merchants.
    MerchantSettlement = 3,
    /// Loan principal source.
    LoanFunding = 4,
    /// Loan interest income.
    InterestIncome = 5,
}

impl AccountKind {
    /// From the stored number.
    pub fn from_i16(value: i16) -> Option<Self> {
        Some(match value {
            1 => Self::Customer,
            2 => Self::Cash,
            3 => Self::MerchantSettlement,
            4 => Self::LoanFunding,
            5 => Self::InterestIncome,
            _ => return None,
        })
    }

    /// The enum name without its prefix, as in system account ids.
    pub fn name(self) -> &'static str {
        match self {
            Self::Customer => "CUSTOMER",
            Self::Cash => "CASH",
            Self::MerchantSettlement => "MERCHANT_SETTLEMENT",
            Self::LoanFunding => "LOAN_FUNDING",
            Self::InterestIncome => "INTEREST_INCOME",
        }
    }

    /// Every system kind.
    pub const SYSTEM: [Self; 4] = [
        Self::Cash,
        Self::MerchantSettlement,
        Self::LoanFunding,
        Self::InterestIncome,
    ];
}

/// The deterministic id of a system account:
/// UUIDv5(URL, "https://bank.local/system/<KIND>/<CURRENCY>").
pub fn system_account_id(kind: AccountKind, currency: Currency) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("https://bank.local/system/{}/{currency}", kind.name()).as_bytes(),
    )
}

/// `LedgerAccountStatus` numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountStatus {
    /// Moves money.
    Open = 1,
    /// Moves nothing; reservations may be voided.
    Frozen = 2,
    /// Final.
    Closed = 3,
}

impl AccountStatus {
    /// From the stored number.
    pub fn from_i16(value: i16) -> Option<Self> {
        Some(match value {
            1 => Self::Open,
            2 => Self::Frozen,
            3 => Self::Closed,
            _ => return None,
        })
    }
}

/// `DeclineReason` numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decline {
    /// A customer account would go below zero.
    InsufficientFunds = 1,
    /// An account is frozen.
    AccountFrozen = 2,
    /// An account is closed.
    AccountClosed = 3,
    /// A column would overflow i64.
    BalanceOverflow = 4,
    /// The pending transfer was already posted.
    PendingPosted = 5,
    /// The pending transfer was already voided.
    PendingVoided = 6,
    /// The pending transfer expired.
    PendingExpired = 7,
    /// Another item of the linked chain failed.
    LinkedEventFailed = 8,
    /// The batch ended inside a linked chain.
    LinkedChainOpen = 9,
}

impl Decline {
    /// The google.rpc.ErrorInfo reason.
    pub fn reason(self) -> &'static str {
        match self {
            Self::InsufficientFunds => "INSUFFICIENT_FUNDS",
            Self::AccountFrozen => "ACCOUNT_FROZEN",
            Self::AccountClosed => "ACCOUNT_CLOSED",
            Self::BalanceOverflow => "BALANCE_OVERFLOW",
            Self::PendingPosted => "PENDING_TRANSFER_POSTED",
            Self::PendingVoided => "PENDING_TRANSFER_VOIDED",
            Self::PendingExpired => "PENDING_TRANSFER_EXPIRED",
            Self::LinkedEventFailed => "LINKED_EVENT_FAILED",
            Self::LinkedChainOpen => "LINKED_CHAIN_OPEN",
        }
    }

    /// From the stored number (0 = not declined).
    pub fn from_i16(value: i16) -> Option<Self> {
        Some(match value {
            1 => Self::InsufficientFunds,
            2 => Self::AccountFrozen,
            3 => Self::AccountClosed,
            4 => Self::BalanceOverflow,
            5 => Self::PendingPosted,
            6 => Self::PendingVoided,
            7 => Self::PendingExpired,
            8 => Self::LinkedEventFailed,
            9 => Self::LinkedChainOpen,
            _ => return None,
        })
    }
}

/// A customer account as locked in this transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerState {
    /// Id.
    pub id: Uuid,
    /// Currency.
    pub currency: Currency,
    /// Status.
    pub status: AccountStatus,
    /// Column.
    pub debits_posted: i64,
    /// Column.
    pub credits_posted: i64,
    /// Column.
    pub debits_pending: i64,
    /// Column.
    pub credits_pending: i64,
    /// Last entry sequence.
    pub entry_count: i64,
}

impl CustomerState {
    /// credits_posted - debits_posted.
    pub fn posted_balance(&self) -> i64 {
        self.credits_posted - self.debits_posted
    }

    fn invariant_holds(&self) -> bool {
        self.debits_posted >= 0
            && self.credits_posted >= 0
            && self.debits_pending >= 0
            && self.credits_pending >= 0
            && i128::from(self.debits_posted) + i128::from(self.debits_pending) <= i128::from(self.credits_posted)
    }
}

/// One side of a movement: a customer account (locked, checked) or a system
/// account (unbounded, never locked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A customer account id (must be in the book).
    Customer(Uuid),
    /// A system account id.
    System(Uuid),
}

impl Side {
    /// The ledger account id.
    pub fn id(self) -> Uuid {
        match self {
            Self::Customer(id) | Self::System(id) => id,
        }
    }
}

/// What a transfer does to the columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Movement {
    /// Posts `amount` at once.
    Immediate {
        /// Debited.
        debit: Side,
        /// Credited.
        credit: Side,
        /// Minor units.
        amount: i64,
    },
    /// Reserves `amount` in the pending columns (customer sides only).
    Reserve {
        /// Debited.
        debit: Uuid,
        /// Credited.
        credit: Uuid,
        /// Minor units.
        amount: i64,
    },
    /// Releases a reservation of `reserved` and posts `posted <= reserved`.
    PostReserved {
        /// Debited.
        debit: Uuid,
        /// Credited.
        credit: Uuid,
        /// The reservation.
        reserved: i64,
        /// What is posted.
        posted: i64,
    },
    /// Releases a reservation (void or expiry); no status check.
    Release {
        /// Debited side of the reservation.
        debit: Uuid,
        /// Credited side of the reservation.
        credit: Uuid,
        /// The reservation.
        reserved: i64,
    },
}

/// Entry position and balance after, for a customer side that was posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EntryMark {
    /// The entry's sequence in its account.
    pub sequence: i64,
    /// Posted balance right after it.
    pub balance_after: i64,
}

/// What applying a movement recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Applied {
    /// The debit side's entry, when a customer account was posted.
    pub debit: Option<EntryMark>,
    /// The credit side's entry, when a customer account was posted.
    pub credit: Option<EntryMark>,
}

/// The locked customer accounts of one transaction plus the posted deltas
/// of system accounts, mutated as movements apply.
#[derive(Clone, Debug, Default)]
pub struct Book {
    customers: BTreeMap<Uuid, CustomerState>,
    /// system account id -> (debits delta, credits delta).
    system: HashMap<Uuid, (i64, i64)>,
}

impl Book {
    /// A book over the locked `customers`.
    pub fn new(customers: impl IntoIterator<Item = CustomerState>) -> Self {
        Self {
            customers: customers.into_iter().map(|c| (c.id, c)).collect(),
            system: HashMap::new(),
        }
    }

    /// A customer account's current state.
    #[cfg(test)]
    pub fn customer(&self, id: Uuid) -> Option<&CustomerState> {
        self.customers.get(&id)
    }

    /// Customer states, for writing back.
    pub fn customers(&self) -> impl Iterator<Item = &CustomerState> {
        self.customers.values()
    }

    /// System posted deltas, for writing back: (id, debits, credits).
    pub fn system_deltas(&self) -> impl Iterator<Item = (Uuid, i64, i64)> + '_ {
        self.system.iter().map(|(id, (d, c))| (*id, *d, *c))
    }

    fn status_of(&self, side: Side) -> AccountStatus {
        match side {
            Side::Customer(id) => self.customers.get(&id).map_or(AccountStatus::Closed, |c| c.status),
            Side::System(_) => AccountStatus::Open,
        }
    }

    fn check_status(&self, sides: [Side; 2]) -> Result<(), Decline> {
        let statuses = sides.map(|s| self.status_of(s));
        if statuses.contains(&AccountStatus::Closed) {
            return Err(Decline::AccountClosed);
        }
        if statuses.contains(&AccountStatus::Frozen) {
            return Err(Decline::AccountFrozen);
        }
        Ok(())
    }

    /// Applies `movement`, or declines it leaving the book unchanged.
    pub fn apply(&mut self, movement: &Movement) -> Result<Applied, Decline> {
        let mut next = self.clone_touched(movement);
        let applied = next.apply_in_place(movement)?;
        for (id, state) in next.customers {
            debug_assert!(state.invariant_holds(), "customer invariant broken for {id}");
            self.customers.insert(id, state);
        }
        for (id, delta) in next.system {
            self.system.insert(id, delta);
        }
        Ok(applied)
    }

    /// A book holding only the accounts `movement` touches, so a decline
    /// can be discarded cheaply.
    fn clone_touched(&self, movement: &Movement) -> Self {
        let ids: [Uuid; 2] = match *movement {
            Movement::Immediate { debit, credit, .. } => [debit.id(), credit.id()],
            Movement::Reserve { debit, credit, .. }
            | Movement::PostReserved { debit, credit, .. }
            | Movement::Release { debit, credit, .. } => [debit, credit],
        };
        Self {
            customers: ids
                .iter()
                .filter_map(|id| self.customers.get(id).map(|c| (*id, c.clone())))
                .collect(),
            system: ids
                .iter()
                .filter_map(|id| self.system.get(id).map(|d| (*id, *d)))
                .collect(),
        }
    }

    fn customer_mut(&mut self, id: Uuid) -> Result<&mut CustomerState, Decline> {
        // Callers lock every customer account they name; a missing one is
        // a closed/unknown account as far as money is concerned.
        self.customers.get_mut(&id).ok_or(Decline::AccountClosed)
    }

    fn post(&mut self, side: Side, debit: bool, amount: i64) -> Result<Option<EntryMark>, Decline> {
        match side {
            Side::Customer(id) => {
                let account = self.customer_mut(id)?;
                if debit {
                    account.debits_posted = account
                        .debits_posted
                        .checked_add(amount)
                        .ok_or(Decline::BalanceOverflow)?;
                } else {
                    account.credits_posted = account
                        .credits_posted
                        .checked_add(amount)
                        .ok_or(Decline::BalanceOverflow)?;
                }
                account.entry_count += 1;
                Ok(Some(EntryMark {
                    sequence: account.entry_count,
                    balance_after: account.posted_balance(),
                }))
            }
            Side::System(id) => {
                let delta = self.system.entry(id).or_insert((0, 0));
                let column = if debit { &mut delta.0 } else { &mut delta.1 };
                *column = column.checked_add(amount).ok_or(Decline::BalanceOverflow)?;
                Ok(None)
            }
        }
    }

    fn apply_in_place(&mut self, movement: &Movement) -> Result<Applied, Decline> {
        match *movement {
            Movement::Immediate { debit, credit, amount } => {
                debug_assert!(amount > 0 && debit.id() != credit.id());
                self.check_status([debit, credit])?;
                let debit_mark = self.post(debit, true, amount)?;
                let credit_mark = self.post(credit, false, amount)?;
                if let Side::Customer(id) = debit {
                    let account = self.customer_mut(id)?;
                    if i128::from(account.debits_posted) + i128::from(account.debits_pending)
                        > i128::from(account.credits_posted)
                    {
                        return Err(Decline::InsufficientFunds);
                    }
                }
                Ok(Applied {
                    debit: debit_mark,
                    credit: credit_mark,
                })
            }
            Movement::Reserve { debit, credit, amount } => {
                self.check_status([Side::Customer(debit), Side::Customer(credit)])?;
                let from = self.customer_mut(debit)?;
                from.debits_pending = from
                    .debits_pending
                    .checked_add(amount)
                    .ok_or(Decline::BalanceOverflow)?;
                if i128::from(from.debits_posted) + i128::from(from.debits_pending) > i128::from(from.credits_posted) {
                    return Err(Decline::InsufficientFunds);
                }
                let to = self.customer_mut(credit)?;
                to.credits_pending = to.credits_pending.checked_add(amount).ok_or(Decline::BalanceOverflow)?;
                Ok(Applied::default())
            }
            Movement::PostReserved {
                debit,
                credit,
                reserved,
                posted,
            } => {
                debug_assert!(posted > 0 && posted <= reserved);
                self.check_status([Side::Customer(debit), Side::Customer(credit)])?;
                self.release(debit, credit, reserved)?;
                let debit_mark = self.post(Side::Customer(debit), true, posted)?;
                let credit_mark = self.post(Side::Customer(credit), false, posted)?;
                Ok(Applied {
                    debit: debit_mark,
                    credit: credit_mark,
                })
            }
            Movement::Release {
                debit,
                credit,
                reserved,
            } => {
                self.release(debit, credit, reserved)?;
                Ok(Applied::default())
            }
        }
    }

    fn release(&mut self, debit: Uuid, credit: Uuid, reserved: i64) -> Result<(), Decline> {
        let from = self.customer_mut(debit)?;
        from.debits_pending -= reserved;
        debug_assert!(from.debits_pending >= 0, "released more than was reserved");
        let to = self.customer_mut(credit)?;
        to.credits_pending -= reserved;
        debug_assert!(to.credits_pending >= 0, "released more than was reserved");
        Ok(())
    }
}

/// Applies `movements` in order where `linked[i]` chains item i with
/// i + 1 (TigerBeetle's linked events): a chain posts entirely or not at
/// all. Returns per item the applied marks or the decline.
pub fn apply_chained(book: &mut Book, movements: &[Movement], linked: &[bool]) -> Vec<Result<Applied, Decline>> {
    debug_assert_eq!(movements.len(), linked.len());
    let mut results: Vec<Result<Applied, Decline>> = Vec::with_capacity(movements.len());
    let mut i = 0;
    while i < movements.len() {
        // The chain: i..=end, where end is the first item without `linked`.
        let mut end = i;
        while end < movements.len() && linked[end] {
            end += 1;
        }
        if end == movements.len() {
            // The batch ends inside a chain: nothing of it posts.
            results.extend((i..movements.len()).map(|_| Err(Decline::LinkedChainOpen)));
            break;
        }
        let checkpoint = book.clone();
        let mut chain: Vec<Result<Applied, Decline>> = Vec::new();
        let mut failed = None;
        for (offset, movement) in movements[i..=end].iter().enumerate() {
            match book.apply(movement) {
                Ok(applied) => chain.push(Ok(applied)),
                Err(decline) => {
                    failed = Some((offset, decline));
                    break;
                }
            }
        }
        match failed {
            None => results.extend(chain),
            Some((at, decline)) => {
                *book = checkpoint;
                for offset in 0..=(end - i) {
                    results.push(Err(if offset == at {
                        decline
                    } else {
                        Decline::LinkedEventFailed
                    }));
                }
            }
        }
        i = end + 1;
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap_or_else(|_| unreachable!())
    }

    fn customer(id: Uuid, credits: i64) -> CustomerState {
        CustomerState {
            id,
            currency: usd(),
            status: AccountStatus::Open,
            debits_posted: 0,
            credits_posted: credits,
            debits_pending: 0,
            credits_pending: 0,
            entry_count: 0,
        }
    }

    fn ids() -> (Uuid, Uuid, Uuid) {
        let mut v = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
        v.sort();
        (v[0], v[1], v[2])
    }

    fn immediate(from: Uuid, to: Uuid, amount: i64) -> Movement {
        Movement::Immediate {
            debit: Side::Customer(from),
            credit: Side::Customer(to),
            amount,
        }
    }

    #[test]
    fn posts_and_numbers_entries() {
        let (a, b, _) = ids();
        let mut book = Book::new([customer(a, 100), customer(b, 0)]);
        let applied = book.apply(&immediate(a, b, 60)).expect("posts");
        assert_eq!(
            applied.debit,
            Some(EntryMark {
                sequence: 1,
                balance_after: 40
            })
        );
        assert_eq!(
            applied.credit,
            Some(EntryMark {
                sequence: 1,
                balance_after: 60
            })
        );
        assert_eq!(book.apply(&immediate(a, b, 41)), Err(Decline::InsufficientFunds));
        // The decline changed nothing.
        assert_eq!(book.customer(a).map(CustomerState::posted_balance), Some(40));
        assert_eq!(book.customer(a).map(|c| c.entry_count), Some(1));
        book.apply(&immediate(a, b, 40)).expect("exactly the balance");
        assert_eq!(book.customer(a).map(CustomerState::posted_balance), Some(0));
    }

    #[test]
    fn reservations_count_against_the_balance() {
        let (a, b, _) = ids();
        let mut book = Book::new([customer(a, 100), customer(b, 0)]);
        book.apply(&Movement::Reserve {
            debit: a,
            credit: b,
            amount: 70,
        })
        .expect("reserve");
        assert_eq!(book.apply(&immediate(a, b, 31)), Err(Decline::InsufficientFunds));
        book.apply(&Movement::PostReserved {
            debit: a,
            credit: b,
            reserved: 70,
            posted: 50,
        })
        .expect("post part");
        let a_state = book.customer(a).cloned().expect("a");
        assert_eq!((a_state.debits_posted, a_state.debits_pending), (50, 0));
        assert_eq!(
            book.customer(b).map(|c| (c.credits_posted, c.credits_pending)),
            Some((50, 0))
        );
        book.apply(&immediate(a, b, 50))
            .expect("the released 20 is spendable again");
    }

    #[test]
    fn status_declines_and_release_ignores_status() {
        let (a, b, _) = ids();
        let mut frozen = customer(b, 0);
        frozen.status = AccountStatus::Frozen;
        let mut book = Book::new([customer(a, 100), frozen]);
        assert_eq!(book.apply(&immediate(a, b, 1)), Err(Decline::AccountFrozen));
        let mut closed = customer(a, 100);
        closed.status = AccountStatus::Closed;
        let mut book2 = Book::new([closed, customer(b, 0)]);
        assert_eq!(book2.apply(&immediate(b, a, 1)), Err(Decline::AccountClosed));
        let mut reserved = customer(a, 100);
        reserved.debits_pending = 10;
        let mut frozen_to = customer(b, 0);
        frozen_to.credits_pending = 10;
        frozen_to.status = AccountStatus::Frozen;
        let mut book3 = Book::new([reserved, frozen_to]);
        book3
            .apply(&Movement::Release {
                debit: a,
                credit: b,
                reserved: 10,
            })
            .expect("void on frozen");
    }

    #[test]
    fn system_accounts_may_go_negative_and_overflow_is_declined() {
        let (a, _, cash) = ids();
        let mut book = Book::new([customer(a, 0)]);
        let deposit = Movement::Immediate {
            debit: Side::System(cash),
            credit: Side::Customer(a),
            amount: 500,
        };
        book.apply(&deposit).expect("cash goes negative");
        assert_eq!(book.system_deltas().collect::<Vec<_>>(), vec![(cash, 500, 0)]);
        let mut rich = customer(a, i64::MAX - 10);
        rich.id = a;
        let mut book = Book::new([rich]);
        assert_eq!(book.apply(&deposit), Err(Decline::BalanceOverflow));
    }

    #[test]
    fn linked_chains_are_all_or_nothing() {
        let (a, b, c) = ids();
        let mut book = Book::new([customer(a, 100), customer(b, 0), customer(c, 0)]);
        let moves = [
            immediate(a, b, 50),
            immediate(b, c, 50),
            immediate(a, c, 80),
            immediate(a, c, 10),
        ];
        let results = apply_chained(&mut book, &moves, &[true, true, false, false]);
        assert_eq!(results[0], Err(Decline::LinkedEventFailed));
        assert_eq!(results[1], Err(Decline::LinkedEventFailed));
        assert_eq!(results[2], Err(Decline::InsufficientFunds));
        assert!(results[3].is_ok());
        assert_eq!(book.customer(a).map(CustomerState::posted_balance), Some(90));
        assert_eq!(book.customer(b).map(CustomerState::posted_balance), Some(0));

        let results = apply_chained(&mut book, &[immediate(a, b, 1), immediate(a, b, 1)], &[false, true]);
        assert!(results[0].is_ok());
        assert_eq!(results[1], Err(Decline::LinkedChainOpen));
        assert_eq!(book.customer(a).map(CustomerState::posted_balance), Some(89));
    }

    #[test]
    fn system_ids_are_deterministic() {
        let usd = usd();
        assert_eq!(
            system_account_id(AccountKind::Cash, usd),
            system_account_id(AccountKind::Cash, usd)
        );
        assert_ne!(
            system_account_id(AccountKind::Cash, usd),
            system_account_id(AccountKind::LoanFunding, usd)
        );
        assert_eq!(
            system_account_id(AccountKind::Cash, usd),
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://bank.local/system/CASH/USD")
        );
    }
}
