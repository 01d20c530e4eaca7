use bank_proto::bank::account::v1 as pb;
use bank_proto::bank::common::v1::YearMonth;
use bank_proto::bank::transfer::v1::{EntryDirection, TransferKind};
use chrono::{Datelike, Utc};
use futures::StreamExt;

use crate::helpers::{Member, TestBank, bearer, purchase_request, spawn_bank};

async fn statement(
    bank: &TestBank,
    who: &Member,
    account_id: &str,
    year: i32,
    month: i32,
) -> Result<pb::Statement, tonic::Status> {
    bank.accounts
        .clone()
        .get_statement(bearer(
            pb::GetStatementRequest {
                account_id: account_id.to_owned(),
                period: Some(YearMonth { year, month }),
            },
            &who.token,
        ))
        .await
        .map(|r| r.into_inner().statement.unwrap())
}

fn amount(m: &Option<bank_proto::bank::common::v1::Money>) -> i64 {
    m.as_ref().unwrap().amount_minor
}

#[tokio::test]
async fn a_monthly_statement_adds_up() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "EUR").await;
    bank.deposit(&jane, &account, 10_000).await;
    bank.deposit(&jane, &account, 5_000).await;
    let card = bank.issue(&jane, &account.account_id).await;
    bank.purchase(&jane, purchase_request(&card, 2_500, "EUR"))
        .await
        .unwrap();
    bank.withdraw(&jane, &account, 1_000).await;

    let now = Utc::now();
    let month = i32::try_from(now.month()).unwrap();
    let s = statement(&bank, &jane, &account.account_id, now.year(), month)
        .await
        .unwrap();
    assert_eq!(s.account_number, account.account_number);
    assert_eq!(s.currency, "EUR");
    assert_eq!(amount(&s.opening_balance), 0);
    assert_eq!(amount(&s.total_credits), 15_000);
    assert_eq!(amount(&s.total_debits), 3_500);
    assert_eq!(amount(&s.closing_balance), 11_500);
    assert_eq!(s.entry_count, 4);
    assert!(!s.entries_truncated);
    let seq: Vec<i64> = s.entries.iter().map(|e| e.sequence).collect();
    assert_eq!(seq, [1, 2, 3, 4]);
    let balances: Vec<i64> = s.entries.iter().map(|e| amount(&e.balance_after)).collect();
    assert_eq!(balances, [10_000, 15_000, 12_500, 11_500]);
    let purchase = &s.entries[2];
    assert_eq!(purchase.direction, EntryDirection::Debit as i32);
    assert_eq!(purchase.kind, TransferKind::CardPurchase as i32);
    assert_eq!(purchase.description, "Corner Shop");

    // Before the account was opened: zeros, no entries.
    let (py, pm) = if month == 1 {
        (now.year() - 1, 12)
    } else {
        (now.year(), month - 1)
    };
    let previous = statement(&bank, &jane, &account.account_id, py, pm).await.unwrap();
    assert_eq!(
        (amount(&previous.opening_balance), amount(&previous.closing_balance)),
        (0, 0)
    );
    assert_eq!(previous.entry_count, 0);
    assert!(previous.entries.is_empty());

    // An admin reads it too; the future and nonsense months are refused.
    let admin = bank.admin().await;
    assert_eq!(
        statement(&bank, &admin, &account.account_id, now.year(), month)
            .await
            .unwrap()
            .entry_count,
        4
    );
    let (fy, fm) = if month == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), month + 1)
    };
    let future = statement(&bank, &jane, &account.account_id, fy, fm).await.unwrap_err();
    assert_eq!(crate::helpers::violations(&future), ["period"]);
    let nonsense = statement(&bank, &jane, &account.account_id, 1969, 13)
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&nonsense), ["period"]);
}

#[tokio::test]
async fn the_export_streams_header_entries_and_trailer_over_any_range() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let first = bank.deposit(&jane, &account, 1_000).await;
    let entries_total = 1_201;
    // Enough entries to need several ledger pages (1,000 each).
    let mut deposits = futures::stream::iter(0..entries_total - 1)
        .map(|_| bank.deposit(&jane, &account, 1))
        .buffer_unordered(16);
    while deposits.next().await.is_some() {}

    let export = |start: Option<prost_types::Timestamp>| {
        let mut client = bank.accounts.clone();
        let token = jane.token.clone();
        let account_id = account.account_id.clone();
        async move {
            let mut stream = client
                .export_statement(bearer(
                    pb::ExportStatementRequest {
                        account_id,
                        start_time: start,
                        end_time: None,
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner();
            let mut items = Vec::new();
            while let Some(item) = stream.next().await {
                items.push(item.unwrap().item.unwrap());
            }
            items
        }
    };
    use pb::export_statement_response::Item;
    let items = export(None).await;
    let Item::Header(header) = &items[0] else {
        panic!("header first")
    };
    assert_eq!(header.entry_count, i64::from(entries_total));
    assert_eq!(amount(&header.opening_balance), 0);
    let Item::Trailer(trailer) = items.last().unwrap() else {
        panic!("trailer last")
    };
    assert_eq!(trailer.entry_count, i64::from(entries_total));
    assert_eq!(amount(&trailer.total_credits), 1_000 + i64::from(entries_total) - 1);
    assert_eq!(amount(&trailer.total_debits), 0);
    assert_eq!(amount(&trailer.closing_balance), 1_000 + i64::from(entries_total) - 1);
    let sequences: Vec<i64> = items
        .iter()
        .filter_map(|i| match i {
            Item::Entry(e) => Some(e.sequence),
            _ => None,
        })
        .collect();
    assert_eq!(
        sequences,
        (1..=i64::from(entries_total)).collect::<Vec<_>>(),
        "every entry once, in order"
    );

    // Starting after the first deposit: it is the opening balance.
    let posted = first.create_time.unwrap();
    let posted = chrono::DateTime::from_timestamp(posted.seconds, u32::try_from(posted.nanos).unwrap()).unwrap();
    let later = posted + chrono::Duration::microseconds(1);
    let after_first = Some(prost_types::Timestamp {
        seconds: later.timestamp(),
        nanos: i32::try_from(later.timestamp_subsec_nanos()).unwrap(),
    });
    let items = export(after_first).await;
    let Item::Header(header) = &items[0] else {
        panic!("header first")
    };
    assert_eq!(amount(&header.opening_balance), 1_000);
    assert_eq!(header.entry_count, i64::from(entries_total) - 1);

    let backwards = bank
        .accounts
        .clone()
        .export_statement(bearer(
            pb::ExportStatementRequest {
                account_id: account.account_id.clone(),
                start_time: Some(prost_types::Timestamp {
                    seconds: 2_000,
                    nanos: 0,
                }),
                end_time: Some(prost_types::Timestamp {
                    seconds: 1_000,
                    nanos: 0,
                }),
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&backwards), ["start_time"]);
}
