//! After the faults healed: resolve every unknown outcome by sending the
//! very same request again, then prove the bank's invariants against the
//! ledger (every transfer listed as admin), the balances, the ledger's own
//! integrity check and analytics.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use bank_proto::bank::analytics::v1 as analytics;
use bank_proto::bank::common::v1::{CalendarDate, Money};
use bank_proto::bank::transfer::v1 as pb;
use chrono::{DateTime, Datelike as _, Utc};
use tonic::Code;

use crate::client::{Clients, CodeTally, Outcome, Retry, request, with_retries};
use crate::history::{History, Op, Reply, Req};
use crate::mesh::CURRENCIES;
use crate::workload::{World, open_account, send};

/// Acknowledged and declined operations replayed to prove idempotency.
const REPLAY_SAMPLE: usize = 300;
/// Longest wait for reservations to expire.
const EXPIRY_WAIT_MAX: Duration = Duration::from_secs(45);
/// A PENDING transfer this long past its expiry is stuck (the sweep runs
/// every half second when healthy).
const STUCK_AFTER: Duration = Duration::from_secs(10);
/// Longest wait for analytics to catch up with the ledger.
const ANALYTICS_WAIT: Duration = Duration::from_secs(180);
/// Page size of ListAllAccounts.
const ACCOUNTS_PAGE_SIZE: i32 = 500;
/// Page size of ListTransfers.
const PAGE_SIZE: i32 = 1_000;
/// Pages of ListTransfers at most.
const PAGES_MAX: usize = 10_000;
/// System account kinds (their ids are UUIDv5 of a fixed URL).
const SYSTEM_KINDS: [&str; 4] = ["CASH", "MERCHANT_SETTLEMENT", "LOAN_FUNDING", "INTEREST_INCOME"];
/// Findings listed per check, at most.
const DETAILS_MAX: usize = 5;

/// The id of a system account.
pub fn system_account_id(kind: &str, currency: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("https://bank.local/system/{kind}/{currency}").as_bytes(),
    )
    .to_string()
}

/// One line of the checks table.
#[derive(Debug, Clone)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// Whether it holds.
    pub pass: bool,
    /// Numbers, or what went wrong.
    pub detail: String,
}

fn check(name: &str, pass: bool, detail: impl Into<String>) -> Check {
    Check {
        name: name.to_owned(),
        pass,
        detail: detail.into(),
    }
}

fn findings(problems: &[String]) -> String {
    let mut text: Vec<String> = problems.iter().take(DETAILS_MAX).cloned().collect();
    if problems.len() > DETAILS_MAX {
        text.push(format!("... and {} more", problems.len() - DETAILS_MAX));
    }
    text.join("\n")
}

fn minor(money: Option<&Money>) -> i64 {
    money.map_or(0, |m| m.amount_minor)
}

/// What replaying found.
#[derive(Debug, Default)]
pub struct ReplayStats {
    /// Unknown outcomes replayed.
    pub unknown: usize,
    /// Of those, still unknown after the replay.
    pub still_unknown: usize,
    /// Definite outcomes replayed to compare.
    pub compared: usize,
    /// Replays that answered differently from the original.
    pub mismatches: Vec<String>,
    /// When the replays started: a row created before then was written by
    /// the original attempts.
    pub started: Option<DateTime<Utc>>,
}

fn transfer_ids(reply: &Reply) -> Vec<Option<String>> {
    match reply {
        Reply::One(t) => vec![Some(t.transfer_id.clone())],
        Reply::Resolve { transfer, .. } => vec![Some(transfer.transfer_id.clone())],
        Reply::Batch(b) => b
            .results
            .iter()
            .map(|r| r.transfer.as_ref().map(|t| t.transfer_id.clone()))
            .collect(),
    }
}

fn same_answer(original: &Outcome<Reply>, replay: &Outcome<Reply>) -> Result<(), String> {
    match (original, replay) {
        (Outcome::Ok(a), Outcome::Ok(b)) if transfer_ids(a) == transfer_ids(b) => Ok(()),
        (Outcome::Refused(a), Outcome::Refused(b))
            if a.code == b.code && a.reason == b.reason && a.transfer_id == b.transfer_id =>
        {
            Ok(())
        }
        (a, b) => Err(format!("original {}, replay {}", brief(a), brief(b))),
    }
}

fn brief(outcome: &Outcome<Reply>) -> String {
    match outcome {
        Outcome::Ok(reply) => format!("ok {:?}", transfer_ids(reply)),
        Outcome::Refused(r) => format!("{:?} {} {:?}", r.code, r.reason, r.transfer_id),
        Outcome::Unknown(e) => format!("unknown ({e})"),
    }
}

/// Whether a batch's reply holds an item error that leaves the item's
/// fate open (such a batch is not replayed for comparison: the replay
/// could legitimately apply the item).
fn has_open_item(outcome: &Outcome<Reply>) -> bool {
    match outcome {
        Outcome::Ok(Reply::Batch(b)) => b.results.iter().any(|r| {
            r.transfer.is_none()
                && r.error
                    .as_ref()
                    .is_some_and(|e| crate::client::is_indeterminate(Code::from(e.code)))
        }),
        _ => false,
    }
}

/// Sends every unknown operation again with the same request ids (after
/// healing, patiently), and a sample of definite ones to prove that a
/// replay answers the original result.
pub async fn replay(clients: &Clients, world: &World, history: &History, tally: &CodeTally) -> ReplayStats {
    let mut stats = ReplayStats {
        started: Some(Utc::now()),
        ..ReplayStats::default()
    };
    let mut ops = history.ops();
    let mut sampled = 0;
    for op in &mut ops {
        let Some(member) = world.members.get(op.member) else {
            continue;
        };
        let unknown = matches!(op.outcome, Outcome::Unknown(_));
        if !unknown && (op.setup || sampled >= REPLAY_SAMPLE || has_open_item(&op.outcome)) {
            continue;
        }
        let (outcome, _) = send(clients, tally, &member.token, &op.req, Retry::PATIENT).await;
        if unknown {
            stats.unknown += 1;
            if matches!(outcome, Outcome::Unknown(_)) {
                stats.still_unknown += 1;
            }
        } else {
            sampled += 1;
            stats.compared += 1;
            if let Err(difference) = same_answer(&op.outcome, &outcome) {
                stats
                    .mismatches
                    .push(format!("{} {:?}: {difference}", op.req.kind(), op.req.request_ids()));
            }
        }
        op.replay = Some(outcome);
    }
    history.replace(ops);
    let mut opens = lock(&history.opens).clone();
    for open in &mut opens {
        let Some(member) = world.members.get(open.member) else {
            continue;
        };
        let outcome = open_account(clients, tally, &member.token, &open.req, Retry::PATIENT).await;
        let same = match (&open.outcome, &outcome) {
            (Outcome::Unknown(_), replay) => {
                stats.unknown += 1;
                if matches!(replay, Outcome::Unknown(_)) {
                    stats.still_unknown += 1;
                }
                true
            }
            (Outcome::Ok(a), Outcome::Ok(b)) => a.account_id == b.account_id,
            (Outcome::Refused(a), Outcome::Refused(b)) => a.code == b.code && a.reason == b.reason,
            _ => false,
        };
        if !matches!(open.outcome, Outcome::Unknown(_)) {
            stats.compared += 1;
        }
        if !same {
            stats.mismatches.push(format!(
                "open account {}: original {:?}, replay {:?}",
                open.req.request_id, open.outcome, outcome
            ));
        }
        open.replay = Some(outcome);
    }
    *lock(&history.opens) = opens;
    stats
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every account of the bank, listed as admin.
async fn list_accounts(
    clients: &Clients,
    admin: &tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    tally: &CodeTally,
) -> anyhow::Result<Vec<bank_proto::bank::account::v1::Account>> {
    let mut all = Vec::new();
    let mut token = String::new();
    for _ in 0..PAGES_MAX {
        let message = bank_proto::bank::account::v1::ListAllAccountsRequest {
            page_size: ACCOUNTS_PAGE_SIZE,
            page_token: token.clone(),
            ..Default::default()
        };
        let (outcome, _) = with_retries(Retry::PATIENT, tally, |timeout| {
            let mut accounts = clients.accounts.clone();
            let request = request(message.clone(), Some(admin), timeout);
            async move { Ok(accounts.list_all_accounts(request).await?.into_inner()) }
        })
        .await;
        let page = match outcome {
            Outcome::Ok(page) => page,
            Outcome::Refused(r) => anyhow::bail!("ListAllAccounts refused: {:?} {}", r.code, r.message),
            Outcome::Unknown(e) => anyhow::bail!("ListAllAccounts: {e}"),
        };
        all.extend(page.accounts);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        token = page.next_page_token;
    }
    anyhow::bail!("more than {PAGES_MAX} pages of accounts")
}

/// Every transfer of the ledger, listed as admin.
pub async fn list_all(
    clients: &Clients,
    admin: &tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    tally: &CodeTally,
) -> anyhow::Result<Vec<pb::Transfer>> {
    let mut all = Vec::new();
    let mut token = String::new();
    for _ in 0..PAGES_MAX {
        let message = pb::ListTransfersRequest {
            page_size: PAGE_SIZE,
            page_token: token.clone(),
            ..Default::default()
        };
        let (outcome, _) = with_retries(Retry::PATIENT, tally, |timeout| {
            let mut transfers = clients.transfers.clone();
            let request = request(message.clone(), Some(admin), timeout);
            async move { Ok(transfers.list_transfers(request).await?.into_inner()) }
        })
        .await;
        let page = match outcome {
            Outcome::Ok(page) => page,
            Outcome::Refused(r) => anyhow::bail!("ListTransfers refused: {:?} {}", r.code, r.message),
            Outcome::Unknown(e) => anyhow::bail!("ListTransfers: {e}"),
        };
        all.extend(page.transfers);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        token = page.next_page_token;
    }
    anyhow::bail!("more than {PAGES_MAX} pages of transfers")
}

/// What one operation should have left in the ledger.
#[derive(Debug, Clone)]
struct Expected {
    transfer_id: String,
    r#type: pb::TransferType,
    status: pb::TransferStatus,
    debit: String,
    credit: String,
    amount: i64,
}

/// The ledger a client can predict from its own history.
#[derive(Debug, Default)]
struct Model {
    /// Expected rows by request id (None: no row).
    rows: HashMap<String, Option<Expected>>,
    /// Request ids of operations whose outcome stayed unknown.
    open: HashSet<String>,
    /// Posted balance of every account.
    balances: HashMap<String, i128>,
    /// Money deposited minus withdrawn, by currency.
    net_cash_in: BTreeMap<String, i128>,
    /// Posted transfers (immediate and post-pending) by currency: count, volume.
    posted: BTreeMap<String, (i64, i128)>,
}

struct PendingInfo {
    debit: String,
    credit: String,
    amount: i64,
    currency: String,
}

impl Model {
    fn move_money(&mut self, debit: &str, credit: &str, amount: i64) {
        *self.balances.entry(debit.to_owned()).or_default() -= i128::from(amount);
        *self.balances.entry(credit.to_owned()).or_default() += i128::from(amount);
    }

    fn build(ops: &[Op]) -> Self {
        let mut model = Self::default();
        let mut pendings: HashMap<String, PendingInfo> = HashMap::new();
        let mut pending_end: HashMap<String, pb::TransferStatus> = HashMap::new();
        // Pending transfers first: posts refer to them.
        for op in ops {
            if let (Req::Pending(r), Outcome::Ok(Reply::One(t))) = (&op.req, op.resolved()) {
                let currency = r.amount.as_ref().map(|m| m.currency.clone()).unwrap_or_default();
                let to = match &r.destination {
                    Some(pb::create_pending_transfer_request::Destination::ToAccountId(id)) => id.clone(),
                    _ => String::new(),
                };
                pendings.insert(
                    t.transfer_id.clone(),
                    PendingInfo {
                        debit: r.from_account_id.clone(),
                        credit: to,
                        amount: minor(r.amount.as_ref()),
                        currency,
                    },
                );
            }
        }
        for op in ops {
            let outcome = op.resolved();
            let ids = op.req.request_ids();
            if let Outcome::Unknown(_) = outcome {
                model.open.extend(ids);
                continue;
            }
            match (&op.req, outcome) {
                (_, Outcome::Refused(r)) => {
                    // A recorded decline leaves a DECLINED row; other refusals nothing.
                    let row = r.transfer_id.clone().map(|transfer_id| Expected {
                        transfer_id,
                        r#type: pb::TransferType::Unspecified,
                        status: pb::TransferStatus::Declined,
                        debit: String::new(),
                        credit: String::new(),
                        amount: 0,
                    });
                    for id in ids {
                        model.rows.insert(id, row.clone());
                    }
                }
                (Req::Transfer(r), Outcome::Ok(Reply::One(t))) => {
                    let to = match &r.destination {
                        Some(pb::create_transfer_request::Destination::ToAccountId(id)) => id.clone(),
                        _ => String::new(),
                    };
                    model.posted(&r.from_account_id, &to, r.amount.as_ref(), &r.request_id, t);
                }
                (Req::Deposit(r), Outcome::Ok(Reply::One(t))) => {
                    let currency = r.amount.as_ref().map(|m| m.currency.as_str()).unwrap_or_default();
                    let cash = system_account_id("CASH", currency);
                    *model.net_cash_in.entry(currency.to_owned()).or_default() += i128::from(minor(r.amount.as_ref()));
                    model.posted(&cash, &r.account_id, r.amount.as_ref(), &r.request_id, t);
                }
                (Req::Withdraw(r), Outcome::Ok(Reply::One(t))) => {
                    let currency = r.amount.as_ref().map(|m| m.currency.as_str()).unwrap_or_default();
                    let cash = system_account_id("CASH", currency);
                    *model.net_cash_in.entry(currency.to_owned()).or_default() -= i128::from(minor(r.amount.as_ref()));
                    model.posted(&r.account_id, &cash, r.amount.as_ref(), &r.request_id, t);
                }
                (Req::Pending(r), Outcome::Ok(Reply::One(t))) => {
                    let info = pendings.get(&t.transfer_id);
                    model.rows.insert(
                        r.request_id.clone(),
                        Some(Expected {
                            transfer_id: t.transfer_id.clone(),
                            r#type: pb::TransferType::Pending,
                            // Settled below from the posts and voids.
                            status: pb::TransferStatus::Expired,
                            debit: info.map(|i| i.debit.clone()).unwrap_or_default(),
                            credit: info.map(|i| i.credit.clone()).unwrap_or_default(),
                            amount: info.map_or(0, |i| i.amount),
                        }),
                    );
                }
                (Req::Post(r), Outcome::Ok(Reply::Resolve { transfer, .. })) => {
                    let Some(info) = pendings.get(&r.transfer_id) else {
                        model.open.insert(r.request_id.clone());
                        continue;
                    };
                    let amount = r.amount.as_ref().map_or(info.amount, |m| m.amount_minor);
                    let money = Money {
                        amount_minor: amount,
                        currency: info.currency.clone(),
                    };
                    let (debit, credit) = (info.debit.clone(), info.credit.clone());
                    model.posted(&debit, &credit, Some(&money), &r.request_id, transfer);
                    if let Some(Some(row)) = model.rows.get_mut(&r.request_id) {
                        row.r#type = pb::TransferType::PostPending;
                    }
                    pending_end.insert(r.transfer_id.clone(), pb::TransferStatus::Posted);
                }
                (Req::Void(r), Outcome::Ok(Reply::Resolve { transfer, .. })) => {
                    let info = pendings.get(&r.transfer_id);
                    model.rows.insert(
                        r.request_id.clone(),
                        Some(Expected {
                            transfer_id: transfer.transfer_id.clone(),
                            r#type: pb::TransferType::VoidPending,
                            status: pb::TransferStatus::Voided,
                            debit: info.map(|i| i.debit.clone()).unwrap_or_default(),
                            credit: info.map(|i| i.credit.clone()).unwrap_or_default(),
                            amount: info.map_or(0, |i| i.amount),
                        }),
                    );
                    pending_end.insert(r.transfer_id.clone(), pb::TransferStatus::Voided);
                }
                (Req::Batch(r), Outcome::Ok(Reply::Batch(reply))) => {
                    for (item, result) in r.transfers.iter().zip(&reply.results) {
                        let posted = result.error.as_ref().is_none_or(|e| e.code == 0);
                        match (&result.transfer, posted) {
                            (Some(t), true) => {
                                let to = match &item.destination {
                                    Some(pb::transfer_item::Destination::ToAccountId(id)) => id.clone(),
                                    _ => String::new(),
                                };
                                model.posted(&item.from_account_id, &to, item.amount.as_ref(), &item.request_id, t);
                            }
                            (Some(t), false) => {
                                model.rows.insert(
                                    item.request_id.clone(),
                                    Some(Expected {
                                        transfer_id: t.transfer_id.clone(),
                                        r#type: pb::TransferType::Immediate,
                                        status: pb::TransferStatus::Declined,
                                        debit: String::new(),
                                        credit: String::new(),
                                        amount: 0,
                                    }),
                                );
                            }
                            (None, _) => {
                                let open = result
                                    .error
                                    .as_ref()
                                    .is_some_and(|e| crate::client::is_indeterminate(Code::from(e.code)));
                                if open {
                                    model.open.insert(item.request_id.clone());
                                } else {
                                    model.rows.insert(item.request_id.clone(), None);
                                }
                            }
                        }
                    }
                    if reply.results.len() != r.transfers.len() {
                        model.open.extend(ids);
                    }
                }
                // A reply that does not fit its request.
                _ => model.open.extend(ids),
            }
        }
        // The final state of each pending transfer.
        for op in ops {
            if let (Req::Pending(r), Outcome::Ok(Reply::One(t))) = (&op.req, op.resolved())
                && let Some(Some(row)) = model.rows.get_mut(&r.request_id)
            {
                row.status = pending_end
                    .get(&t.transfer_id)
                    .copied()
                    .unwrap_or(pb::TransferStatus::Expired);
            }
        }
        model
    }

    fn posted(&mut self, debit: &str, credit: &str, amount: Option<&Money>, request_id: &str, t: &pb::Transfer) {
        let value = minor(amount);
        let currency = amount.map(|m| m.currency.clone()).unwrap_or_default();
        self.move_money(debit, credit, value);
        let entry = self.posted.entry(currency).or_default();
        entry.0 += 1;
        entry.1 += i128::from(value);
        self.rows.insert(
            request_id.to_owned(),
            Some(Expected {
                transfer_id: t.transfer_id.clone(),
                r#type: pb::TransferType::Immediate,
                status: pb::TransferStatus::Posted,
                debit: debit.to_owned(),
                credit: credit.to_owned(),
                amount: value,
            }),
        );
    }
}

fn compare_row(expected: &Expected, row: &pb::Transfer) -> Option<String> {
    if row.transfer_id != expected.transfer_id {
        return Some(format!(
            "acknowledged as {}, ledger has {}",
            expected.transfer_id, row.transfer_id
        ));
    }
    if row.status != expected.status as i32 {
        return Some(format!(
            "{}: status {:?}, expected {:?}",
            row.transfer_id,
            pb::TransferStatus::try_from(row.status).unwrap_or_default(),
            expected.status
        ));
    }
    if expected.status == pb::TransferStatus::Declined {
        return None;
    }
    if expected.r#type != pb::TransferType::Unspecified && row.r#type != expected.r#type as i32 {
        return Some(format!(
            "{}: type {} expected {:?}",
            row.transfer_id, row.r#type, expected.r#type
        ));
    }
    if row.debit_account_id != expected.debit
        || row.credit_account_id != expected.credit
        || minor(row.amount.as_ref()) != expected.amount
    {
        return Some(format!(
            "{}: {} -> {} {}, expected {} -> {} {}",
            row.transfer_id,
            row.debit_account_id,
            row.credit_account_id,
            minor(row.amount.as_ref()),
            expected.debit,
            expected.credit,
            expected.amount
        ));
    }
    None
}

fn calendar(date: chrono::NaiveDate) -> CalendarDate {
    CalendarDate {
        year: date.year(),
        month: i32::try_from(date.month()).unwrap_or(1),
        day: i32::try_from(date.day()).unwrap_or(1),
    }
}

/// Inputs of [`verify`].
#[derive(Debug)]
pub struct Verify<'a> {
    /// Clients through the gateway.
    pub clients: &'a Clients,
    /// Members, accounts, admin.
    pub world: &'a World,
    /// Operations, with replays.
    pub history: &'a History,
    /// Failed attempts.
    pub tally: &'a CodeTally,
    /// What replaying found.
    pub replay: &'a ReplayStats,
    /// When the run began (analytics' date range).
    pub run_started: DateTime<Utc>,
}

/// Counts of the operations table: kind -> (sent, acknowledged, declined,
/// refused, unknown, unknown and executed before the replay, still unknown).
pub type OpCounts = BTreeMap<&'static str, [u64; 7]>;

/// Everything verified, and the operations' counts.
#[derive(Debug)]
pub struct Verdict {
    /// The checks.
    pub checks: Vec<Check>,
    /// Operations by kind.
    pub ops: OpCounts,
    /// Rows in the ledger.
    pub ledger_rows: usize,
}

async fn wait_for_expiries(ops: &[Op]) {
    let latest = ops
        .iter()
        .filter_map(|op| match op.resolved() {
            Outcome::Ok(Reply::One(t)) if t.r#type == pb::TransferType::Pending as i32 => t.expire_time,
            _ => None,
        })
        .filter_map(|ts| DateTime::from_timestamp(ts.seconds, 0))
        .max();
    if let Some(latest) = latest {
        let wait = (latest - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(3);
        tokio::time::sleep(wait.min(EXPIRY_WAIT_MAX)).await;
    }
}

/// Proves the invariants; every check is one row of the result.
pub async fn verify(v: Verify<'_>) -> anyhow::Result<Verdict> {
    let ops = v.history.ops();
    wait_for_expiries(&ops).await;
    let rows = list_all(v.clients, &v.world.admin, v.tally).await?;
    let listed_at = Utc::now();
    let model = Model::build(&ops);
    let mut checks = Vec::new();

    // Exactly once: each acknowledged operation's row, once, as acknowledged;
    // each request id at most once; no row nobody asked for.
    let mut by_request: HashMap<&str, Vec<&pb::Transfer>> = HashMap::new();
    for row in &rows {
        by_request.entry(row.request_id.as_str()).or_default().push(row);
    }
    let mut ours = HashSet::new();
    let mut problems = Vec::new();
    let mut duplicates = Vec::new();
    let mut acknowledged_rows = 0;
    for op in &ops {
        for id in op.req.request_ids() {
            let found = by_request.get(id.as_str()).map_or(&[][..], Vec::as_slice);
            if found.len() > 1 {
                duplicates.push(format!("request id {id} ({}): {} rows", op.req.kind(), found.len()));
            }
            if model.open.contains(&id) {
                ours.insert(id);
                continue;
            }
            match (model.rows.get(&id), found.first()) {
                (Some(Some(expected)), Some(row)) => {
                    acknowledged_rows += 1;
                    if let Some(problem) = compare_row(expected, row) {
                        problems.push(format!("{} {id}: {problem}", op.req.kind()));
                    }
                }
                (Some(Some(expected)), None) => problems.push(format!(
                    "{} {id}: acknowledged as {} but not in the ledger",
                    op.req.kind(),
                    expected.transfer_id
                )),
                (Some(None), Some(row)) => problems.push(format!(
                    "{} {id}: refused, yet the ledger has {} ({:?})",
                    op.req.kind(),
                    row.transfer_id,
                    pb::TransferStatus::try_from(row.status).unwrap_or_default()
                )),
                (None, Some(row)) => problems.push(format!(
                    "{} {id}: no outcome, yet the ledger has {}",
                    op.req.kind(),
                    row.transfer_id
                )),
                _ => {}
            }
            ours.insert(id);
        }
    }
    // Post and void answer with the pending transfer, resolved.
    for op in &ops {
        let (pending_id, status) = match &op.req {
            Req::Post(r) => (&r.transfer_id, pb::TransferStatus::Posted),
            Req::Void(r) => (&r.transfer_id, pb::TransferStatus::Voided),
            _ => continue,
        };
        if let Outcome::Ok(Reply::Resolve { pending, .. }) = op.resolved()
            && (&pending.transfer_id != pending_id || pending.status != status as i32)
        {
            problems.push(format!(
                "{} {:?}: answered pending {} in status {}",
                op.req.kind(),
                op.req.request_ids(),
                pending.transfer_id,
                pending.status
            ));
        }
    }
    let phantoms: Vec<String> = rows
        .iter()
        .filter(|r| !ours.contains(&r.request_id))
        .map(|r| format!("{} (request id {:?})", r.transfer_id, r.request_id))
        .collect();
    checks.push(check(
        "every acknowledged transfer present exactly once, as acknowledged",
        problems.is_empty(),
        if problems.is_empty() {
            format!("{acknowledged_rows} acknowledged rows found, all matching")
        } else {
            findings(&problems)
        },
    ));
    checks.push(check(
        "no operation executed twice (one row per request id)",
        duplicates.is_empty(),
        if duplicates.is_empty() {
            format!("{} request ids, {} ledger rows", ours.len(), rows.len())
        } else {
            findings(&duplicates)
        },
    ));
    checks.push(check(
        "no transfer that no client sent",
        phantoms.is_empty(),
        if phantoms.is_empty() {
            "0".to_owned()
        } else {
            findings(&phantoms)
        },
    ));
    checks.push(check(
        "retries with the same request ids answer the original result",
        v.replay.mismatches.is_empty(),
        if v.replay.mismatches.is_empty() {
            format!("{} definite outcomes replayed, all identical", v.replay.compared)
        } else {
            findings(&v.replay.mismatches)
        },
    ));
    checks.push(check(
        "every unknown outcome resolved after healing",
        v.replay.still_unknown == 0,
        format!(
            "{} unknown, {} still unknown after replay",
            v.replay.unknown, v.replay.still_unknown
        ),
    ));

    // Balances: never negative, equal to the clients' model, money conserved.
    let mut ids: Vec<(String, bool, &str)> = v
        .world
        .accounts
        .iter()
        .map(|a| (a.id.clone(), true, a.currency))
        .collect();
    let opened: Vec<(String, &str)> = lock(&v.history.opens)
        .iter()
        .filter_map(|o| match o.resolved() {
            Outcome::Ok(account) => CURRENCIES
                .iter()
                .find(|c| **c == account.currency)
                .map(|c| (account.account_id.clone(), *c)),
            _ => None,
        })
        .collect();
    ids.extend(opened.iter().map(|(id, currency)| (id.clone(), true, *currency)));
    for currency in CURRENCIES {
        for kind in SYSTEM_KINDS {
            ids.push((system_account_id(kind, currency), false, currency));
        }
    }
    let mut with_ledger: HashSet<String> = HashSet::new();
    let mut negative = Vec::new();
    let mut model_mismatch = Vec::new();
    let mut reservations = Vec::new();
    let mut sums: BTreeMap<&str, (i128, i128)> = BTreeMap::new();
    let uncertain = !model.open.is_empty();
    for (id, customer, currency) in &ids {
        let (outcome, _) = with_retries(Retry::PATIENT, v.tally, |timeout| {
            let mut transfers = v.clients.transfers.clone();
            let request = request(
                pb::GetBalanceRequest { account_id: id.clone() },
                Some(&v.world.admin),
                timeout,
            );
            async move { Ok(transfers.get_balance(request).await?.into_inner()) }
        })
        .await;
        let balance = match outcome {
            Outcome::Ok(reply) => reply.balance.unwrap_or_default(),
            // A system account nothing ever touched may not exist.
            Outcome::Refused(r) if !customer && r.code == Code::NotFound => continue,
            other => anyhow::bail!(
                "GetBalance {id}: {}",
                match other {
                    Outcome::Refused(r) => format!("{:?} {}", r.code, r.message),
                    Outcome::Unknown(e) => e,
                    Outcome::Ok(_) => String::new(),
                }
            ),
        };
        with_ledger.insert(id.clone());
        let posted = minor(balance.posted.as_ref());
        let available = minor(balance.available.as_ref());
        let (pending_debits, pending_credits) = (
            minor(balance.pending_debits.as_ref()),
            minor(balance.pending_credits.as_ref()),
        );
        let sum = sums.entry(currency).or_default();
        if *customer {
            sum.0 += i128::from(posted);
            if posted < 0 || available < 0 {
                negative.push(format!("{id}: posted {posted}, available {available}"));
            }
        } else {
            sum.1 += i128::from(posted);
        }
        if pending_debits != 0 || pending_credits != 0 {
            reservations.push(format!(
                "{id}: pending debits {pending_debits}, credits {pending_credits}"
            ));
        }
        let expected = model.balances.get(id).copied().unwrap_or(0);
        if i128::from(posted) != expected {
            model_mismatch.push(format!("{id}: ledger {posted}, clients' model {expected}"));
        }
    }
    let mut conserved = true;
    let mut detail = Vec::new();
    for currency in CURRENCIES {
        let (customers, system) = sums.get(currency).copied().unwrap_or_default();
        let cash_in = model.net_cash_in.get(currency).copied().unwrap_or(0);
        conserved &= customers + system == 0 && customers == cash_in;
        detail.push(format!(
            "{currency}: customers {customers} + system {system} = {}; deposits - withdrawals {cash_in}",
            customers + system
        ));
    }
    checks.push(check(
        "total money conserved (customers + system = 0; customers = net cash in)",
        conserved,
        detail.join("\n"),
    ));
    checks.push(check(
        "no customer balance negative (final balances and every read)",
        negative.is_empty() && lock_len(&v.history.bad_reads) == 0,
        if negative.is_empty() && lock_len(&v.history.bad_reads) == 0 {
            format!(
                "{} accounts; {} reads ({} failed)",
                v.world.accounts.len(),
                v.history.reads.load(std::sync::atomic::Ordering::Relaxed),
                v.history.reads_failed.load(std::sync::atomic::Ordering::Relaxed)
            )
        } else {
            let mut all = negative.clone();
            all.extend(
                v.history
                    .bad_reads
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .iter()
                    .cloned(),
            );
            findings(&all)
        },
    ));
    checks.push(check(
        "every balance equals the clients' model of acknowledged operations",
        model_mismatch.is_empty() && !uncertain,
        if uncertain {
            format!("{} request ids with unknown outcome: model not exact", model.open.len())
        } else if model_mismatch.is_empty() {
            format!("{} ledger accounts", ids.len())
        } else {
            findings(&model_mismatch)
        },
    ));

    // The ledger's own proof.
    let (outcome, _) = with_retries(Retry::PATIENT, v.tally, |timeout| {
        let mut transfers = v.clients.transfers.clone();
        let request = request(pb::CheckIntegrityRequest::default(), Some(&v.world.admin), timeout);
        async move { Ok(transfers.check_integrity(request).await?.into_inner()) }
    })
    .await;
    let integrity = match outcome {
        Outcome::Ok(reply) => reply,
        Outcome::Refused(r) => anyhow::bail!("CheckIntegrity refused: {:?} {}", r.code, r.message),
        Outcome::Unknown(e) => anyhow::bail!("CheckIntegrity: {e}"),
    };
    let unbalanced: Vec<String> = integrity
        .totals
        .iter()
        .filter(|t| !t.balanced)
        .map(|t| {
            format!(
                "{}: debits {} credits {}",
                t.currency,
                minor(t.debits_posted.as_ref()),
                minor(t.credits_posted.as_ref())
            )
        })
        .collect();
    checks.push(check(
        "double entry: posted debits = posted credits per currency (CheckIntegrity)",
        unbalanced.is_empty() && !integrity.totals.is_empty(),
        if unbalanced.is_empty() {
            integrity
                .totals
                .iter()
                .map(|t| format!("{}: {} both sides", t.currency, minor(t.debits_posted.as_ref())))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            findings(&unbalanced)
        },
    ));
    checks.push(check(
        "every balance equals its entries (CheckIntegrity recomputation)",
        integrity.mismatch_count == 0 && integrity.consistent,
        format!(
            "{} accounts, {} entries checked, {} mismatches, consistent = {}",
            integrity.accounts_checked, integrity.entries_checked, integrity.mismatch_count, integrity.consistent
        ),
    ));
    // Account and ledger agree: every account visible to Account has its
    // ledger account and the other way round; every account opened under
    // faults (acknowledged or resolved) is visible and open.
    let listed = list_accounts(v.clients, &v.world.admin, v.tally).await?;
    let mut account_problems = Vec::new();
    let listed_ids: HashSet<&str> = listed.iter().map(|a| a.account_id.as_str()).collect();
    for account in &listed {
        if !with_ledger.contains(&account.account_id) {
            account_problems.push(format!("{} is not one the clients know of", account.account_id));
        }
    }
    for (id, _) in &opened {
        match listed.iter().find(|a| &a.account_id == id) {
            None => account_problems.push(format!("opened {id} is not listed")),
            Some(a) if a.status != bank_proto::bank::account::v1::AccountStatus::Open as i32 => {
                account_problems.push(format!("opened {id} has status {}", a.status));
            }
            Some(_) => {}
        }
    }
    let listed_count = i64::try_from(listed_ids.len()).unwrap_or(i64::MAX);
    if listed_count != integrity.accounts_checked {
        account_problems.push(format!(
            "Account lists {listed_count} accounts, the ledger has {}",
            integrity.accounts_checked
        ));
    }
    let opens = lock(&v.history.opens).len();
    checks.push(check(
        "Account and ledger agree on the accounts (opened under faults too)",
        account_problems.is_empty(),
        if account_problems.is_empty() {
            format!(
                "{listed_count} accounts = {} ledger accounts; {} of {opens} openings under faults succeeded",
                integrity.accounts_checked,
                opened.len()
            )
        } else {
            findings(&account_problems)
        },
    ));

    let stuck: Vec<String> = rows
        .iter()
        .filter(|r| r.status == pb::TransferStatus::Pending as i32)
        .filter(|r| {
            r.expire_time
                .as_ref()
                .and_then(|ts| DateTime::from_timestamp(ts.seconds, 0))
                .is_some_and(|at| listed_at - at > chrono::Duration::from_std(STUCK_AFTER).unwrap_or_default())
        })
        .map(|r| r.transfer_id.clone())
        .collect();
    let mut stuck_all = stuck.clone();
    stuck_all.extend(reservations.iter().cloned());
    checks.push(check(
        "no pending transfer stuck past its expiry",
        integrity.overdue_pending_count == 0 && stuck_all.is_empty(),
        format!(
            "overdue (server) {}; PENDING > {}s past expiry {}; reservations left {}{}",
            integrity.overdue_pending_count,
            STUCK_AFTER.as_secs(),
            stuck.len(),
            reservations.len(),
            if stuck_all.is_empty() {
                String::new()
            } else {
                format!("\n{}", findings(&stuck_all))
            }
        ),
    ));

    // Analytics after the relays caught up: posted transfers (TransferPosted
    // events) and declines (TransferDeclined) against the ledger's rows.
    let mut ledger_posted: BTreeMap<String, (i64, i128)> = BTreeMap::new();
    let mut ledger_declined: BTreeMap<i32, i64> = BTreeMap::new();
    for row in &rows {
        let posted_type =
            row.r#type == pb::TransferType::Immediate as i32 || row.r#type == pb::TransferType::PostPending as i32;
        if posted_type && row.status == pb::TransferStatus::Posted as i32 {
            let currency = row.amount.as_ref().map(|m| m.currency.clone()).unwrap_or_default();
            let entry = ledger_posted.entry(currency).or_default();
            entry.0 += 1;
            entry.1 += i128::from(minor(row.amount.as_ref()));
        }
        if row.status == pb::TransferStatus::Declined as i32 {
            *ledger_declined.entry(row.decline_reason).or_default() += 1;
        }
    }
    let (analytics_ok, analytics_detail) = analytics_agree(&v, &ledger_posted, &ledger_declined).await;
    checks.push(check(
        "analytics counts = ledger counts after the relays caught up",
        analytics_ok,
        analytics_detail,
    ));

    let mut counts = OpCounts::new();
    for kind in crate::history::KINDS {
        counts.insert(kind, [0; 7]);
    }
    for op in ops.iter().filter(|o| !o.setup) {
        let Some(row) = counts.get_mut(op.req.kind()) else {
            continue;
        };
        row[0] += 1;
        match &op.outcome {
            Outcome::Ok(_) => row[1] += 1,
            Outcome::Refused(r) if r.is_recorded_decline() => row[2] += 1,
            Outcome::Refused(_) => row[3] += 1,
            Outcome::Unknown(_) => {
                row[4] += 1;
                let executed_before = op.req.request_ids().iter().any(|id| {
                    by_request.get(id.as_str()).is_some_and(|found| {
                        found.iter().any(|r| {
                            r.create_time
                                .as_ref()
                                .and_then(|ts| {
                                    DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0))
                                })
                                .zip(v.replay.started)
                                .is_some_and(|(created, replayed)| created < replayed)
                        })
                    })
                });
                if executed_before {
                    row[5] += 1;
                }
                if matches!(op.replay, Some(Outcome::Unknown(_)) | None) {
                    row[6] += 1;
                }
            }
        }
    }
    let mut row = [0_u64; 7];
    for open in lock(&v.history.opens).iter() {
        row[0] += 1;
        match &open.outcome {
            Outcome::Ok(_) => row[1] += 1,
            Outcome::Refused(_) => row[3] += 1,
            Outcome::Unknown(_) => {
                row[4] += 1;
                if matches!(open.replay, Some(Outcome::Unknown(_)) | None) {
                    row[6] += 1;
                }
            }
        }
    }
    counts.insert("open account", row);
    Ok(Verdict {
        checks,
        ops: counts,
        ledger_rows: rows.len(),
    })
}

fn lock_len<T>(mutex: &std::sync::Mutex<Vec<T>>) -> usize {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
}

async fn analytics_agree(
    v: &Verify<'_>,
    ledger_posted: &BTreeMap<String, (i64, i128)>,
    ledger_declined: &BTreeMap<i32, i64>,
) -> (bool, String) {
    let started = Instant::now();
    let message = analytics::GetSummaryRequest {
        start_date: Some(calendar((v.run_started - chrono::Duration::days(1)).date_naive())),
        end_date: Some(calendar((Utc::now() + chrono::Duration::days(1)).date_naive())),
        top_users_limit: 0,
    };
    let mut last = String::from("no answer from analytics");
    let ledger_text = format!("ledger: posted {ledger_posted:?}, declined {ledger_declined:?}");
    while started.elapsed() < ANALYTICS_WAIT {
        let (outcome, _) = with_retries(Retry::RUN, v.tally, |timeout| {
            let mut client = v.clients.analytics.clone();
            let request = request(message, Some(&v.world.admin), timeout);
            async move { Ok(client.get_summary(request).await?.into_inner()) }
        })
        .await;
        if let Outcome::Ok(summary) = outcome {
            let mut posted: BTreeMap<String, (i64, i128)> = BTreeMap::new();
            for day in &summary.transfers_by_day {
                let entry = posted.entry(day.currency.clone()).or_default();
                entry.0 += day.count;
                entry.1 += i128::from(minor(day.volume.as_ref()));
            }
            let declined: BTreeMap<i32, i64> = summary.declines_by_reason.iter().map(|d| (d.reason, d.count)).collect();
            if &posted == ledger_posted && &declined == ledger_declined {
                let text: Vec<String> = posted
                    .iter()
                    .map(|(c, (n, vol))| format!("{c}: {n} posted, volume {vol}"))
                    .collect();
                return (
                    true,
                    format!(
                        "{}; declines {}; caught up in {:.0}s",
                        text.join(", "),
                        declined.values().sum::<i64>(),
                        started.elapsed().as_secs_f64()
                    ),
                );
            }
            last = format!("analytics: posted {posted:?}, declined {declined:?}\n{ledger_text}");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    (false, format!("not equal after {}s:\n{last}", ANALYTICS_WAIT.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Refusal;

    fn transfer(id: &str) -> pb::Transfer {
        pb::Transfer {
            transfer_id: id.to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn system_account_ids_follow_the_contract() {
        // UUIDv5(URL, "https://bank.local/system/CASH/USD"), as every service computes it.
        let id = system_account_id("CASH", "USD");
        assert_eq!(uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()).ok(), Some(5));
        assert_ne!(id, system_account_id("CASH", "EUR"));
    }

    #[test]
    fn a_replay_must_answer_the_original_transfer_or_decline() {
        let ok = Outcome::Ok(Reply::One(Box::new(transfer("a"))));
        assert!(same_answer(&ok, &Outcome::Ok(Reply::One(Box::new(transfer("a"))))).is_ok());
        assert!(same_answer(&ok, &Outcome::Ok(Reply::One(Box::new(transfer("b"))))).is_err());
        let decline = Outcome::Refused(Refusal {
            code: Code::FailedPrecondition,
            reason: "INSUFFICIENT_FUNDS".to_owned(),
            transfer_id: Some("d".to_owned()),
            message: String::new(),
        });
        assert!(same_answer(&decline, &decline.clone()).is_ok());
        assert!(same_answer(&decline, &ok).is_err());
    }

    #[test]
    fn the_model_moves_money_for_posts_but_not_for_voids_or_declines() {
        let usd = |n| {
            Some(Money {
                amount_minor: n,
                currency: "USD".to_owned(),
            })
        };
        let op = |req, outcome| Op {
            member: 0,
            req,
            outcome,
            attempts: 1,
            setup: false,
            replay: None,
        };
        let ops = vec![
            op(
                Req::Pending(pb::CreatePendingTransferRequest {
                    request_id: "p1".to_owned(),
                    from_account_id: "A".to_owned(),
                    destination: Some(pb::create_pending_transfer_request::Destination::ToAccountId(
                        "B".to_owned(),
                    )),
                    amount: usd(100),
                    ..Default::default()
                }),
                Outcome::Ok(Reply::One(Box::new(transfer("P1")))),
            ),
            op(
                Req::Post(pb::PostPendingTransferRequest {
                    request_id: "x1".to_owned(),
                    transfer_id: "P1".to_owned(),
                    amount: usd(40),
                }),
                Outcome::Ok(Reply::Resolve {
                    transfer: Box::new(transfer("X1")),
                    pending: Box::new(transfer("P1")),
                }),
            ),
            op(
                Req::Withdraw(pb::WithdrawRequest {
                    request_id: "w1".to_owned(),
                    account_id: "A".to_owned(),
                    amount: usd(1_000),
                    ..Default::default()
                }),
                Outcome::Refused(Refusal {
                    code: Code::FailedPrecondition,
                    reason: "INSUFFICIENT_FUNDS".to_owned(),
                    transfer_id: Some("W1".to_owned()),
                    message: String::new(),
                }),
            ),
        ];
        let model = Model::build(&ops);
        assert_eq!(model.balances.get("A"), Some(&-40));
        assert_eq!(model.balances.get("B"), Some(&40));
        assert_eq!(model.posted.get("USD"), Some(&(1, 40)));
        let pending = model.rows.get("p1").cloned().flatten().map(|r| r.status);
        assert_eq!(pending, Some(pb::TransferStatus::Posted));
        let declined = model.rows.get("w1").cloned().flatten().map(|r| r.status);
        assert_eq!(declined, Some(pb::TransferStatus::Declined));
        assert!(model.open.is_empty());
    }
}
