//! Monthly statements and the streaming export, both read from the ledger's
//! posted entries (ListLedgerEntries), which also gives the range's opening
//! and closing balances and totals.

use std::pin::Pin;

use bank_authn::caller;
use bank_proto::bank::account::v1 as pb;
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as ledger;
use bank_server::FieldViolations;
use chrono::{DateTime, Utc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Status};

use super::{AppState, from_timestamp, parse_uuid, parsed, timestamp};
use crate::domain::Period;
use crate::ledger::relay;
use crate::store::AccountRow;

/// Most entries a statement carries; the totals always cover the month.
pub const STATEMENT_ENTRIES_MAX: i32 = 5_000;
/// Entries fetched from the ledger per page of an export.
pub const EXPORT_PAGE_SIZE: i32 = 1_000;
/// Messages an export buffers ahead of a slow client (back-pressure).
const EXPORT_BUFFER_MESSAGES: usize = 256;
/// Longest an export may stream, in seconds (the server's request timeout
/// ends at the first message; this bounds the rest). A longer history is
/// exported in several time ranges.
pub const EXPORT_DURATION_MAX_SECS: u64 = 600;

/// The stream ExportStatement answers with.
pub type ExportStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::ExportStatementResponse, Status>> + Send + 'static>>;

fn money(value: Option<Money>, currency: &str) -> Money {
    value.unwrap_or_else(|| Money {
        amount_minor: 0,
        currency: currency.to_owned(),
    })
}

fn entry(entry: ledger::LedgerEntry) -> pb::StatementEntry {
    pb::StatementEntry {
        sequence: entry.sequence,
        transfer_id: entry.transfer_id,
        post_time: entry.post_time,
        direction: entry.direction,
        amount: entry.amount,
        balance_after: entry.balance_after,
        kind: entry.kind,
        description: entry.description,
        reference: entry.reference,
        counterparty_account_id: entry.counterparty_account_id,
    }
}

fn is_credit(entry: &pb::StatementEntry) -> bool {
    entry.direction == ledger::EntryDirection::Credit as i32
}

impl AppState {
    pub(super) async fn get_statement(
        &self,
        request: Request<pb::GetStatementRequest>,
    ) -> Result<pb::GetStatementResponse, Status> {
        let caller = caller(&request)?.clone();
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let now = Utc::now();
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "account_id", &req.account_id);
        let period = violations.check("period", Period::parse(req.period.as_ref(), now));
        violations.into_result()?;
        let (id, period) = (parsed(id, "statement")?, parsed(period, "statement")?);
        let account = self.readable_account(&caller, id).await?;
        let start = period.start();
        let end = period.next_start().min(now);
        let zero = || money(None, &account.currency);
        let mut statement = pb::Statement {
            account_id: account.id.to_string(),
            account_number: account.number.clone(),
            period: Some(period.to_proto()),
            currency: account.currency.clone(),
            start_time: Some(timestamp(start)),
            end_time: Some(timestamp(end)),
            opening_balance: Some(zero()),
            closing_balance: Some(zero()),
            total_credits: Some(zero()),
            total_debits: Some(zero()),
            entry_count: 0,
            entries: Vec::new(),
            entries_truncated: false,
            generate_time: Some(timestamp(now)),
        };
        // Before the account existed there is nothing to ask the ledger.
        if end > account.opened_at {
            let page = self
                .ledger
                .entries(
                    account.id,
                    (timestamp(start), timestamp(end)),
                    STATEMENT_ENTRIES_MAX,
                    String::new(),
                    rid.as_deref(),
                )
                .await
                .map_err(|status| relay("reading ledger entries", status))?;
            statement.opening_balance = Some(money(page.opening_balance, &account.currency));
            statement.closing_balance = Some(money(page.closing_balance, &account.currency));
            statement.total_credits = Some(money(page.total_credits, &account.currency));
            statement.total_debits = Some(money(page.total_debits, &account.currency));
            statement.entry_count = page.entry_count;
            statement.entries_truncated = page.entry_count > i64::from(STATEMENT_ENTRIES_MAX);
            statement.entries = page.entries.into_iter().map(entry).collect();
        }
        Ok(pb::GetStatementResponse {
            statement: Some(statement),
        })
    }

    pub(super) async fn export_statement(
        &self,
        request: Request<pb::ExportStatementRequest>,
    ) -> Result<ExportStream, Status> {
        let caller = caller(&request)?.clone();
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let now = Utc::now();
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "account_id", &req.account_id);
        let start = req
            .start_time
            .as_ref()
            .and_then(|t| violations.check("start_time", from_timestamp(t)));
        let end = req
            .end_time
            .as_ref()
            .and_then(|t| violations.check("end_time", from_timestamp(t)));
        if let (Some(start), Some(end)) = (start, end)
            && start > end
        {
            violations.add("start_time", "must not be after end_time");
        }
        violations.into_result()?;
        let account = self.readable_account(&caller, parsed(id, "export")?).await?;
        let start = start.unwrap_or(account.opened_at);
        let end = end.unwrap_or(now);
        if start > end {
            let mut violations = FieldViolations::new();
            violations.add("end_time", "must not be before the account was opened");
            violations.into_result()?;
        }
        // The first page comes before the stream so that NOT_FOUND and the
        // like are a status, not a broken stream.
        let first = self
            .ledger
            .entries(
                account.id,
                (timestamp(start), timestamp(end)),
                EXPORT_PAGE_SIZE,
                String::new(),
                rid.as_deref(),
            )
            .await
            .map_err(|status| relay("reading ledger entries", status))?;
        let (tx, rx) = tokio::sync::mpsc::channel(EXPORT_BUFFER_MESSAGES);
        let ledger = self.ledger.clone();
        tracing::info!(user_id = %caller.user_id, account_id = %account.id, entries = first.entry_count, "statement export started");
        tokio::spawn(async move {
            let bound = std::time::Duration::from_secs(EXPORT_DURATION_MAX_SECS);
            let export = stream_export(ledger, account, (start, end), first, rid, tx.clone());
            if tokio::time::timeout(bound, export).await.is_err() {
                tracing::warn!("statement export stopped: took longer than its bound");
                let _ = tx
                    .send(Err(Status::deadline_exceeded(
                        "the export took too long; export a shorter time range",
                    )))
                    .await;
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}

type Sender = tokio::sync::mpsc::Sender<Result<pb::ExportStatementResponse, Status>>;

fn item(item: pb::export_statement_response::Item) -> Result<pb::ExportStatementResponse, Status> {
    Ok(pb::ExportStatementResponse { item: Some(item) })
}

/// Header, every entry page by page, trailer. A client that goes away
/// ends the task (sends fail); a ledger failure ends the stream with that
/// error and no trailer.
async fn stream_export(
    ledger_client: crate::ledger::Ledger,
    account: AccountRow,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    first: ledger::ListLedgerEntriesResponse,
    rid: Option<String>,
    tx: Sender,
) {
    use pb::export_statement_response::Item;
    let currency = account.currency.clone();
    let header = pb::StatementHeader {
        account_id: account.id.to_string(),
        account_number: account.number.clone(),
        currency: currency.clone(),
        start_time: Some(timestamp(start)),
        end_time: Some(timestamp(end)),
        opening_balance: Some(money(first.opening_balance.clone(), &currency)),
        entry_count: first.entry_count,
    };
    if tx.send(item(Item::Header(header))).await.is_err() {
        return;
    }
    let closing_balance = money(first.closing_balance.clone(), &currency);
    let (mut credits, mut debits, mut sent) = (0_i64, 0_i64, 0_i64);
    let mut page = first;
    loop {
        let next = std::mem::take(&mut page.next_page_token);
        for ledger_entry in std::mem::take(&mut page.entries) {
            let entry = entry(ledger_entry);
            let amount = entry.amount.as_ref().map_or(0, |m| m.amount_minor);
            if is_credit(&entry) {
                credits = credits.saturating_add(amount);
            } else {
                debits = debits.saturating_add(amount);
            }
            sent += 1;
            if tx.send(item(Item::Entry(entry))).await.is_err() {
                return;
            }
        }
        if next.is_empty() {
            break;
        }
        match ledger_client
            .entries(
                account.id,
                (timestamp(start), timestamp(end)),
                EXPORT_PAGE_SIZE,
                next,
                rid.as_deref(),
            )
            .await
        {
            Ok(response) => page = response,
            Err(status) => {
                let _ = tx.send(Err(relay("reading ledger entries", status))).await;
                return;
            }
        }
    }
    let trailer = pb::StatementTrailer {
        closing_balance: Some(closing_balance),
        total_credits: Some(Money {
            amount_minor: credits,
            currency: currency.clone(),
        }),
        total_debits: Some(Money {
            amount_minor: debits,
            currency,
        }),
        entry_count: sent,
    };
    let _ = tx.send(item(Item::Trailer(trailer))).await;
}
