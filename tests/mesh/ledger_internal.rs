//! The ledger through TransferInternalService, as account and finance use
//! it: ledger accounts, internal transfers, status, balances and entries,
//! idempotency and the callers' allow-lists.

use bank_mesh_tests::TestMesh;
use bank_mesh_tests::clients::bearer;
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as pb;
use bank_proto::bank::transfer::v1::transfer_internal_service_client::TransferInternalServiceClient;
use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

fn usd(minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: "USD".to_owned(),
    })
}

fn id_ref(id: &str) -> Option<pb::LedgerAccountRef> {
    Some(pb::LedgerAccountRef {
        target: Some(pb::ledger_account_ref::Target::LedgerAccountId(id.to_owned())),
    })
}

fn system_ref(kind: pb::LedgerAccountKind) -> Option<pb::LedgerAccountRef> {
    Some(pb::LedgerAccountRef {
        target: Some(pb::ledger_account_ref::Target::System(pb::SystemAccountRef {
            kind: kind as i32,
            currency: "USD".to_owned(),
        })),
    })
}

fn reason(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|i| i.reason.clone())
        .unwrap_or_default()
}

fn metadata(status: &tonic::Status, key: &str) -> Option<String> {
    status
        .get_error_details()
        .error_info()
        .and_then(|i| i.metadata.get(key).cloned())
}

async fn internal_as(mesh: &TestMesh, workload: &str) -> TransferInternalServiceClient<Channel> {
    TransferInternalServiceClient::new(mesh.channel_as("transfer", workload).await)
}

async fn new_customer(client: &mut TransferInternalServiceClient<Channel>) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let created = client
        .create_ledger_account(pb::CreateLedgerAccountRequest {
            ledger_account_id: id.clone(),
            kind: pb::LedgerAccountKind::Customer as i32,
            currency: "USD".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(created.created);
    id
}

fn leg(
    from: Option<pb::LedgerAccountRef>,
    to: Option<pb::LedgerAccountRef>,
    minor: i64,
    kind: pb::TransferKind,
) -> pb::InternalTransferLeg {
    pb::InternalTransferLeg {
        from_account: from,
        to_account: to,
        amount: usd(minor),
        kind: kind as i32,
        description: "test".to_owned(),
        reference: String::new(),
    }
}

async fn disburse(finance: &mut TransferInternalServiceClient<Channel>, account: &str, minor: i64) {
    finance
        .create_internal_transfer(pb::CreateInternalTransferRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            legs: vec![leg(
                system_ref(pb::LedgerAccountKind::LoanFunding),
                id_ref(account),
                minor,
                pb::TransferKind::LoanDisbursement,
            )],
            on_behalf_of_user_id: String::new(),
        })
        .await
        .unwrap();
}

async fn posted_balance(client: &mut TransferInternalServiceClient<Channel>, account: &str) -> i64 {
    client
        .get_ledger_balance(pb::GetLedgerBalanceRequest {
            account: id_ref(account),
        })
        .await
        .unwrap()
        .into_inner()
        .ledger_account
        .unwrap()
        .balance
        .unwrap()
        .posted
        .unwrap()
        .amount_minor
}

fn purchase(request_id: &str, account: &str, minor: i64) -> pb::CreateInternalTransferRequest {
    pb::CreateInternalTransferRequest {
        request_id: request_id.to_owned(),
        legs: vec![leg(
            id_ref(account),
            system_ref(pb::LedgerAccountKind::MerchantSettlement),
            minor,
            pb::TransferKind::CardPurchase,
        )],
        on_behalf_of_user_id: String::new(),
    }
}

#[tokio::test]
async fn ledger_accounts_are_created_idempotently() {
    let mesh = TestMesh::start().await;
    let mut account = internal_as(&mesh, "account").await;
    let id = new_customer(&mut account).await;
    let again = account
        .create_ledger_account(pb::CreateLedgerAccountRequest {
            ledger_account_id: id.clone(),
            kind: pb::LedgerAccountKind::Customer as i32,
            currency: "USD".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!again.created, "a retry heals, it does not duplicate");

    let conflict = account
        .create_ledger_account(pb::CreateLedgerAccountRequest {
            ledger_account_id: id.clone(),
            kind: pb::LedgerAccountKind::Customer as i32,
            currency: "EUR".to_owned(),
        })
        .await
        .expect_err("other currency");
    assert_eq!(conflict.code(), Code::AlreadyExists);
    assert_eq!(reason(&conflict), "LEDGER_ACCOUNT_CONFLICT");

    for (currency, kind) in [
        ("XXX", pb::LedgerAccountKind::Customer),
        ("usd", pb::LedgerAccountKind::Customer),
    ] {
        let bad = account
            .create_ledger_account(pb::CreateLedgerAccountRequest {
                ledger_account_id: uuid::Uuid::new_v4().to_string(),
                kind: kind as i32,
                currency: currency.to_owned(),
            })
            .await
            .expect_err("bad currency");
        assert_eq!(bad.code(), Code::InvalidArgument);
    }
    // A system account under an id that is not its deterministic one.
    let rogue_system = account
        .create_ledger_account(pb::CreateLedgerAccountRequest {
            ledger_account_id: uuid::Uuid::new_v4().to_string(),
            kind: pb::LedgerAccountKind::Cash as i32,
            currency: "USD".to_owned(),
        })
        .await
        .expect_err("rogue system account");
    assert_eq!(reason(&rogue_system), "LEDGER_ACCOUNT_CONFLICT");
    mesh.stop().await;
}

#[tokio::test]
async fn internal_callers_are_allow_listed_by_identity_and_kind() {
    let mesh = TestMesh::start().await;
    let mut account = internal_as(&mesh, "account").await;
    let customer = new_customer(&mut account).await;
    for workload in ["gateway", "auth", "analytics"] {
        let denied = internal_as(&mesh, workload)
            .await
            .get_ledger_balance(pb::GetLedgerBalanceRequest {
                account: id_ref(&customer),
            })
            .await
            .expect_err("not on the allow-list");
        assert_eq!(denied.code(), Code::PermissionDenied, "{workload}");
    }
    // Finance may not create ledger accounts; account may not disburse loans.
    let mut finance = internal_as(&mesh, "finance").await;
    let denied = finance
        .create_ledger_account(pb::CreateLedgerAccountRequest {
            ledger_account_id: uuid::Uuid::new_v4().to_string(),
            kind: pb::LedgerAccountKind::Customer as i32,
            currency: "USD".to_owned(),
        })
        .await
        .expect_err("finance creating accounts");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = account
        .create_internal_transfer(pb::CreateInternalTransferRequest {
            request_id: "x1".to_owned(),
            legs: vec![leg(
                system_ref(pb::LedgerAccountKind::LoanFunding),
                id_ref(&customer),
                100,
                pb::TransferKind::LoanDisbursement,
            )],
            on_behalf_of_user_id: String::new(),
        })
        .await
        .expect_err("account disbursing loans");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(posted_balance(&mut account, &customer).await, 0, "nothing moved");
    mesh.stop().await;
}

#[tokio::test]
async fn purchases_are_idempotent_and_declines_are_recorded() {
    let mesh = TestMesh::start().await;
    let mut account = internal_as(&mesh, "account").await;
    let mut finance = internal_as(&mesh, "finance").await;
    let customer = new_customer(&mut account).await;
    disburse(&mut finance, &customer, 10_000).await;

    let first = account
        .create_internal_transfer(purchase("p-1", &customer, 2_500))
        .await
        .unwrap()
        .into_inner();
    let replay = account
        .create_internal_transfer(purchase("p-1", &customer, 2_500))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.transfers, replay.transfers, "a retry returns the original");
    assert_eq!(
        posted_balance(&mut account, &customer).await,
        7_500,
        "and moves nothing twice"
    );

    let reused = account
        .create_internal_transfer(purchase("p-1", &customer, 2_600))
        .await
        .expect_err("same key, other amount");
    assert_eq!(reused.code(), Code::AlreadyExists);
    assert_eq!(reason(&reused), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(metadata(&reused, "field").as_deref(), Some("amount"));

    let declined = account
        .create_internal_transfer(purchase("p-2", &customer, 7_501))
        .await
        .expect_err("insufficient funds");
    assert_eq!(declined.code(), Code::FailedPrecondition);
    assert_eq!(reason(&declined), "INSUFFICIENT_FUNDS");
    let declined_id = metadata(&declined, "transfer_id").expect("the decline is recorded");
    // The same key replays the same decline, even after funds arrive.
    disburse(&mut finance, &customer, 1_000).await;
    let again = account
        .create_internal_transfer(purchase("p-2", &customer, 7_501))
        .await
        .expect_err("replayed decline");
    assert_eq!(metadata(&again, "transfer_id"), Some(declined_id));
    assert_eq!(posted_balance(&mut account, &customer).await, 8_500);

    // Concurrent retries of one new key move money once.
    let mut calls = Vec::new();
    for _ in 0..8 {
        let mut client = account.clone();
        let request = purchase("p-3", &customer, 500);
        calls.push(tokio::spawn(
            async move { client.create_internal_transfer(request).await },
        ));
    }
    let mut ids = std::collections::HashSet::new();
    for call in calls {
        let response = call.await.unwrap().unwrap().into_inner();
        ids.insert(response.transfers[0].transfer_id.clone());
    }
    assert_eq!(ids.len(), 1, "every racing retry got the one transfer");
    assert_eq!(posted_balance(&mut account, &customer).await, 8_000);
    mesh.stop().await;
}

#[tokio::test]
async fn multi_leg_transfers_are_all_or_nothing() {
    let mesh = TestMesh::start().await;
    let mut account = internal_as(&mesh, "account").await;
    let mut finance = internal_as(&mesh, "finance").await;
    let customer = new_customer(&mut account).await;
    disburse(&mut finance, &customer, 1_000).await;
    let repay = |request_id: &str, principal: i64, interest: i64| pb::CreateInternalTransferRequest {
        request_id: request_id.to_owned(),
        legs: vec![
            leg(
                id_ref(&customer),
                system_ref(pb::LedgerAccountKind::LoanFunding),
                principal,
                pb::TransferKind::LoanRepayment,
            ),
            leg(
                id_ref(&customer),
                system_ref(pb::LedgerAccountKind::InterestIncome),
                interest,
                pb::TransferKind::LoanInterest,
            ),
        ],
        on_behalf_of_user_id: String::new(),
    };
    let refused = finance
        .create_internal_transfer(repay("r-1", 900, 200))
        .await
        .expect_err("second leg short");
    assert_eq!(reason(&refused), "INSUFFICIENT_FUNDS");
    assert_eq!(metadata(&refused, "leg").as_deref(), Some("1"));
    assert_eq!(
        posted_balance(&mut account, &customer).await,
        1_000,
        "the first leg did not post either"
    );
    let paid = finance
        .create_internal_transfer(repay("r-2", 900, 100))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paid.transfers.len(), 2);
    assert_eq!(posted_balance(&mut account, &customer).await, 0);
    mesh.stop().await;
}

#[tokio::test]
async fn status_is_enforced_by_the_ledger_and_closing_needs_zero() {
    let mesh = TestMesh::start().await;
    let mut account = internal_as(&mesh, "account").await;
    let mut finance = internal_as(&mesh, "finance").await;
    let customer = new_customer(&mut account).await;
    disburse(&mut finance, &customer, 300).await;
    let set = |status: pb::LedgerAccountStatus| pb::SetLedgerAccountStatusRequest {
        ledger_account_id: customer.clone(),
        status: status as i32,
    };
    account
        .set_ledger_account_status(set(pb::LedgerAccountStatus::Frozen))
        .await
        .unwrap();
    let frozen = account
        .create_internal_transfer(purchase("f-1", &customer, 100))
        .await
        .expect_err("frozen");
    assert_eq!(reason(&frozen), "ACCOUNT_FROZEN");
    let not_zero = account
        .set_ledger_account_status(set(pb::LedgerAccountStatus::Closed))
        .await
        .expect_err("balance 300");
    assert_eq!(reason(&not_zero), "BALANCE_NOT_ZERO");
    account
        .set_ledger_account_status(set(pb::LedgerAccountStatus::Open))
        .await
        .unwrap();
    account
        .create_internal_transfer(purchase("f-2", &customer, 300))
        .await
        .unwrap();
    let closed = account
        .set_ledger_account_status(set(pb::LedgerAccountStatus::Closed))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        closed.ledger_account.unwrap().status,
        pb::LedgerAccountStatus::Closed as i32
    );
    let reopen = account
        .set_ledger_account_status(set(pb::LedgerAccountStatus::Open))
        .await
        .expect_err("closed is final");
    assert_eq!(reason(&reopen), "ACCOUNT_CLOSED");
    let mut finance2 = finance.clone();
    let into_closed = finance2
        .create_internal_transfer(pb::CreateInternalTransferRequest {
            request_id: "c-1".to_owned(),
            legs: vec![leg(
                system_ref(pb::LedgerAccountKind::LoanFunding),
                id_ref(&customer),
                1,
                pb::TransferKind::LoanDisbursement,
            )],
            on_behalf_of_user_id: String::new(),
        })
        .await
        .expect_err("closed accounts receive nothing");
    assert_eq!(reason(&into_closed), "ACCOUNT_CLOSED");
    mesh.stop().await;
}

#[tokio::test]
async fn entries_carry_sequence_balances_and_range_totals() {
    let mesh = TestMesh::start().await;
    let mut account = internal_as(&mesh, "account").await;
    let mut finance = internal_as(&mesh, "finance").await;
    let customer = new_customer(&mut account).await;
    disburse(&mut finance, &customer, 1_000).await;
    account
        .create_internal_transfer(purchase("e-1", &customer, 250))
        .await
        .unwrap();
    let middle = std::time::SystemTime::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    account
        .create_internal_transfer(purchase("e-2", &customer, 100))
        .await
        .unwrap();
    disburse(&mut finance, &customer, 50).await;

    let all = account
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            ledger_account_id: customer.clone(),
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.entries.len(), 2);
    assert_eq!(all.entry_count, 4);
    assert_eq!(all.entries.iter().map(|e| e.sequence).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(all.entries[1].balance_after.as_ref().unwrap().amount_minor, 750);
    assert_eq!(all.closing_balance.unwrap().amount_minor, 700);
    let rest = account
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            ledger_account_id: customer.clone(),
            page_size: 2,
            page_token: all.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.entries.iter().map(|e| e.sequence).collect::<Vec<_>>(), [3, 4]);
    assert!(rest.next_page_token.is_empty());

    let since = account
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            ledger_account_id: customer.clone(),
            start_time: Some(prost_types::Timestamp::from(middle)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(since.opening_balance.unwrap().amount_minor, 750);
    assert_eq!(since.total_debits.unwrap().amount_minor, 100);
    assert_eq!(since.total_credits.unwrap().amount_minor, 50);
    assert_eq!(since.closing_balance.unwrap().amount_minor, 700);
    assert_eq!(since.entry_count, 2);
    mesh.stop().await;
}

#[tokio::test]
async fn concurrent_internal_movements_keep_the_books_balanced() {
    let mesh = TestMesh::start().await;
    let mut account = internal_as(&mesh, "account").await;
    let mut finance = internal_as(&mesh, "finance").await;
    let mut customers = Vec::new();
    for _ in 0..4 {
        let id = new_customer(&mut account).await;
        disburse(&mut finance, &id, 1_000).await;
        customers.push(id);
    }
    // 16 tasks, each buying and receiving on random accounts.
    let mut tasks = Vec::new();
    for task in 0..16 {
        let mut account = account.clone();
        let mut finance = finance.clone();
        let customers = customers.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for i in 0..30 {
                let target = &customers[(task * 7 + i * 3) % customers.len()];
                if i % 3 == 0 {
                    disburse(&mut finance, target, 40).await;
                    ok += 1;
                } else {
                    match account
                        .create_internal_transfer(purchase(&format!("t{task}-{i}"), target, 60))
                        .await
                    {
                        Ok(_) => ok += 1,
                        Err(status) => assert_eq!(reason(&status), "INSUFFICIENT_FUNDS", "{status:?}"),
                    }
                }
            }
            ok
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let admin = mesh.admin_token().await;
    let report = TransferServiceClient::new(mesh.channel("transfer").await)
        .check_integrity(bearer(pb::CheckIntegrityRequest::default(), &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(report.consistent, "{report:?}");
    assert_eq!(report.mismatch_count, 0);
    assert!(report.totals.iter().all(|t| t.balanced));
    for id in &customers {
        assert!(posted_balance(&mut account, id).await >= 0);
    }
    mesh.stop().await;
}
