//! The ledger as members and admins use it through TransferService, with
//! accounts opened through AccountService: transfers, cash, two-phase
//! transfers, batches, idempotency, validation and authorization.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bank_mesh_tests::TestMesh;
use bank_mesh_tests::clients::bearer;
use bank_mesh_tests::money::{money, rid};
use bank_proto::bank::transfer::v1 as pb;
use tonic::Code;
use tonic_types::StatusExt;

fn reason(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|i| i.reason.clone())
        .unwrap_or_default()
}

fn fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

fn transfer_to(request_id: &str, from: &str, to: &str, minor: i64) -> pb::CreateTransferRequest {
    pb::CreateTransferRequest {
        request_id: request_id.to_owned(),
        from_account_id: from.to_owned(),
        destination: Some(pb::create_transfer_request::Destination::ToAccountId(to.to_owned())),
        amount: money(minor, "USD"),
        description: "test".to_owned(),
        reference: String::new(),
    }
}

#[tokio::test]
async fn members_move_money_and_the_books_balance() {
    let mesh = TestMesh::start().await;
    let (_, alice) = mesh.member().await;
    let (_, bob) = mesh.member().await;
    let a = mesh.open_account(&alice, "USD").await;
    let b = mesh.open_account(&bob, "USD").await;
    mesh.deposit(&alice, &a.account_id, 10_000, "USD").await;

    let mut transfers = mesh.transfers().await;
    let sent = transfers
        .create_transfer(bearer(transfer_to(&rid(), &a.account_id, &b.account_id, 2_500), &alice))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(sent.status, pb::TransferStatus::Posted as i32);
    // By account number, with spaces, as a person would type it.
    let typed = format!("{} {}", &b.account_number[..6], &b.account_number[6..]);
    transfers
        .create_transfer(bearer(
            pb::CreateTransferRequest {
                request_id: rid(),
                from_account_id: a.account_id.clone(),
                destination: Some(pb::create_transfer_request::Destination::ToAccountNumber(typed)),
                amount: money(500, "USD"),
                description: String::new(),
                reference: "inv-7".to_owned(),
            },
            &alice,
        ))
        .await
        .unwrap();
    let withdrawn = transfers
        .withdraw(bearer(
            pb::WithdrawRequest {
                request_id: rid(),
                account_id: b.account_id.clone(),
                amount: money(1_000, "USD"),
                description: String::new(),
            },
            &bob,
        ))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(withdrawn.kind, pb::TransferKind::Withdrawal as i32);
    assert_eq!(mesh.posted(&alice, &a.account_id).await, 7_000);
    assert_eq!(mesh.posted(&bob, &b.account_id).await, 2_000);

    let declined = transfers
        .create_transfer(bearer(transfer_to(&rid(), &a.account_id, &b.account_id, 7_001), &alice))
        .await
        .expect_err("overdraft");
    assert_eq!(declined.code(), Code::FailedPrecondition);
    assert_eq!(reason(&declined), "INSUFFICIENT_FUNDS");
    // Declines are listed for audit.
    let listed = transfers
        .list_transfers(bearer(
            pb::ListTransfersRequest {
                account_id: a.account_id.clone(),
                statuses: vec![pb::TransferStatus::Declined as i32],
                ..Default::default()
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.transfers.len(), 1);
    assert_eq!(
        listed.transfers[0].decline_reason,
        pb::DeclineReason::InsufficientFunds as i32
    );

    let report = mesh.integrity().await;
    assert!(report.consistent, "{report:?}");
    mesh.stop().await;
}

#[tokio::test]
async fn concurrent_random_transfers_conserve_money() {
    const ACCOUNTS: usize = 8;
    const TASKS: usize = 32;
    const RUN: Duration = Duration::from_secs(4);
    let mesh = Arc::new(TestMesh::start().await);
    let mut owners = Vec::new();
    for _ in 0..ACCOUNTS {
        let (_, token) = mesh.member().await;
        let account = mesh.open_account(&token, "USD").await;
        mesh.deposit(&token, &account.account_id, 1_000, "USD").await;
        owners.push((account.account_id, token));
    }
    let owners = Arc::new(owners);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let mesh = mesh.clone();
        let owners = owners.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = mesh.transfers().await;
            let mut acknowledged = Vec::new();
            let deadline = tokio::time::Instant::now() + RUN;
            let mut i = 0usize;
            while tokio::time::Instant::now() < deadline {
                i += 1;
                // Deterministic pseudo-random pairs and amounts.
                let x = task.wrapping_mul(2_654_435_761).wrapping_add(i.wrapping_mul(40_503));
                let from = x % ACCOUNTS;
                let to = (from + 1 + (x / 7) % (ACCOUNTS - 1)) % ACCOUNTS;
                let amount = i64::try_from(1 + (x / 13) % 400).unwrap();
                let (from_id, token) = &owners[from];
                let request = transfer_to(&format!("c{task}-{i}"), from_id, &owners[to].0, amount);
                match client.create_transfer(bearer(request, token)).await {
                    Ok(response) => acknowledged.push(response.into_inner().transfer.unwrap().transfer_id),
                    Err(status) => {
                        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                        assert_eq!(reason(&status), "INSUFFICIENT_FUNDS");
                    }
                }
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    assert!(acknowledged.len() > 100, "the run did work: {}", acknowledged.len());

    // Every acknowledged transfer is in the ledger exactly once.
    let admin = mesh.admin_token().await;
    let mut client = mesh.transfers().await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_transfers(bearer(
                pb::ListTransfersRequest {
                    statuses: vec![pb::TransferStatus::Posted as i32],
                    kinds: vec![pb::TransferKind::Transfer as i32],
                    page_size: 1_000,
                    page_token: page_token.clone(),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        for t in page.transfers {
            *seen.entry(t.transfer_id).or_default() += 1;
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(
        seen.len(),
        acknowledged.len(),
        "posted transfers == acknowledged transfers"
    );
    for id in &acknowledged {
        assert_eq!(seen.get(id), Some(&1), "{id} present exactly once");
    }
    let mut total = 0;
    for (account, token) in owners.iter() {
        let balance = mesh.posted(token, account).await;
        assert!(balance >= 0, "no customer balance is negative");
        total += balance;
    }
    assert_eq!(total, 1_000 * i64::try_from(ACCOUNTS).unwrap(), "money is conserved");
    let report = mesh.integrity().await;
    assert!(report.consistent, "{report:?}");
    Arc::try_unwrap(mesh).unwrap().stop().await;
}

#[tokio::test]
async fn retries_never_move_money_twice() {
    let mesh = Arc::new(TestMesh::start().await);
    let (_, alice) = mesh.member().await;
    let (_, bob) = mesh.member().await;
    let a = mesh.open_account(&alice, "USD").await;
    let b = mesh.open_account(&bob, "USD").await;
    mesh.deposit(&alice, &a.account_id, 5_000, "USD").await;
    let mut client = mesh.transfers().await;

    // Sequential retry: same result.
    let key = rid();
    let first = client
        .create_transfer(bearer(transfer_to(&key, &a.account_id, &b.account_id, 100), &alice))
        .await
        .unwrap()
        .into_inner();
    let second = client
        .create_transfer(bearer(transfer_to(&key, &a.account_id, &b.account_id, 100), &alice))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, second);
    let changed = client
        .create_transfer(bearer(transfer_to(&key, &a.account_id, &b.account_id, 101), &alice))
        .await
        .expect_err("same key, other amount");
    assert_eq!(changed.code(), Code::AlreadyExists);
    assert_eq!(reason(&changed), "IDEMPOTENCY_KEY_REUSED");

    // Racing retries of every money-moving RPC.
    let key = rid();
    let deposit_key = rid();
    let pending_key = rid();
    let mut racers = Vec::new();
    for _ in 0..6 {
        let mesh = mesh.clone();
        let (alice, a_id, b_id) = (alice.clone(), a.account_id.clone(), b.account_id.clone());
        let (key, deposit_key, pending_key) = (key.clone(), deposit_key.clone(), pending_key.clone());
        racers.push(tokio::spawn(async move {
            let mut client = mesh.transfers().await;
            let t = client
                .create_transfer(bearer(transfer_to(&key, &a_id, &b_id, 200), &alice))
                .await
                .unwrap()
                .into_inner()
                .transfer
                .unwrap()
                .transfer_id;
            let d = client
                .deposit(bearer(
                    pb::DepositRequest {
                        request_id: deposit_key,
                        account_id: a_id.clone(),
                        amount: money(300, "USD"),
                        description: String::new(),
                    },
                    &alice,
                ))
                .await
                .unwrap()
                .into_inner()
                .transfer
                .unwrap()
                .transfer_id;
            let p = client
                .create_pending_transfer(bearer(
                    pb::CreatePendingTransferRequest {
                        request_id: pending_key,
                        from_account_id: a_id,
                        destination: Some(pb::create_pending_transfer_request::Destination::ToAccountId(b_id)),
                        amount: money(400, "USD"),
                        timeout_seconds: 600,
                        description: String::new(),
                        reference: String::new(),
                    },
                    &alice,
                ))
                .await
                .unwrap()
                .into_inner()
                .transfer
                .unwrap()
                .transfer_id;
            (t, d, p)
        }));
    }
    let mut results = HashSet::new();
    for racer in racers {
        results.insert(racer.await.unwrap());
    }
    assert_eq!(results.len(), 1, "every racer saw the same three transfers");
    let (_, _, pending_id) = results.into_iter().next().unwrap();

    // Racing posts of one pending transfer under one key: posted once.
    let post_key = rid();
    let mut posts = Vec::new();
    for _ in 0..6 {
        let mesh = mesh.clone();
        let (alice, pending_id, post_key) = (alice.clone(), pending_id.clone(), post_key.clone());
        posts.push(tokio::spawn(async move {
            mesh.transfers()
                .await
                .post_pending_transfer(bearer(
                    pb::PostPendingTransferRequest {
                        request_id: post_key,
                        transfer_id: pending_id,
                        amount: None,
                    },
                    &alice,
                ))
                .await
                .unwrap()
                .into_inner()
                .transfer
                .unwrap()
                .transfer_id
        }));
    }
    let mut post_ids = HashSet::new();
    for post in posts {
        post_ids.insert(post.await.unwrap());
    }
    assert_eq!(post_ids.len(), 1);
    // 5000 - 100 - 200 + 300 - 400 = 4600.
    assert_eq!(mesh.posted(&alice, &a.account_id).await, 4_600);
    assert_eq!(mesh.posted(&bob, &b.account_id).await, 700);
    assert!(mesh.integrity().await.consistent);
    Arc::try_unwrap(mesh).unwrap().stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    let mesh = TestMesh::start().await;
    let (_, alice) = mesh.member().await;
    let (_, bob) = mesh.member().await;
    let a = mesh.open_account(&alice, "USD").await;
    let b = mesh.open_account(&bob, "USD").await;
    let e = mesh.open_account(&alice, "EUR").await;
    mesh.deposit(&alice, &a.account_id, 1_000, "USD").await;
    let mut client = mesh.transfers().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let cases: Vec<(pb::CreateTransferRequest, Code, &str)> = vec![
        (
            transfer_to(&rid(), &a.account_id, &b.account_id, -5),
            Code::InvalidArgument,
            "amount",
        ),
        (
            transfer_to(&rid(), &a.account_id, &b.account_id, 0),
            Code::InvalidArgument,
            "amount",
        ),
        (
            transfer_to(&rid(), &a.account_id, &b.account_id, i64::MAX),
            Code::InvalidArgument,
            "amount",
        ),
        (
            transfer_to(&rid(), &a.account_id, &a.account_id, 10),
            Code::InvalidArgument,
            "to_account_id",
        ),
        (
            transfer_to("bad key!", &a.account_id, &b.account_id, 10),
            Code::InvalidArgument,
            "request_id",
        ),
        (
            transfer_to(&rid(), "not-a-uuid", &b.account_id, 10),
            Code::InvalidArgument,
            "from_account_id",
        ),
        (
            transfer_to(&rid(), &a.account_id, &unknown, 10),
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
        ),
        (
            transfer_to(&rid(), &unknown, &b.account_id, 10),
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
        ),
        (
            transfer_to(&rid(), &a.account_id, &e.account_id, 10),
            Code::FailedPrecondition,
            "CURRENCY_MISMATCH",
        ),
    ];
    for (request, code, detail) in cases {
        let status = client
            .create_transfer(bearer(request.clone(), &alice))
            .await
            .expect_err(detail);
        assert_eq!(status.code(), code, "{detail}: {status:?}");
        if code == Code::InvalidArgument {
            assert_eq!(fields(&status), [detail], "{status:?}");
        } else {
            assert_eq!(reason(&status), detail);
        }
    }
    let mistyped = client
        .create_transfer(bearer(
            pb::CreateTransferRequest {
                destination: Some(pb::create_transfer_request::Destination::ToAccountNumber(format!(
                    "{}{}",
                    &b.account_number[..11],
                    (b.account_number.as_bytes()[11] - b'0' + 1) % 10
                ))),
                ..transfer_to(&rid(), &a.account_id, &b.account_id, 10)
            },
            &alice,
        ))
        .await
        .expect_err("check digit");
    assert_eq!(fields(&mistyped), ["to_account_number"]);

    let oversized = pb::CreateTransfersRequest {
        transfers: (0..1_001)
            .map(|i| pb::TransferItem {
                request_id: format!("k{i}"),
                from_account_id: a.account_id.clone(),
                destination: Some(pb::transfer_item::Destination::ToAccountId(b.account_id.clone())),
                amount: money(1, "USD"),
                description: String::new(),
                reference: String::new(),
                linked: false,
            })
            .collect(),
    };
    let status = client
        .create_transfers(bearer(oversized, &alice))
        .await
        .expect_err("1001 items");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client
        .list_transfers(bearer(
            pb::ListTransfersRequest {
                account_id: a.account_id.clone(),
                page_size: 1_001,
                ..Default::default()
            },
            &alice,
        ))
        .await
        .expect_err("page size");
    assert_eq!(fields(&status), ["page_size"]);

    // Nothing was written: one deposit and nothing else.
    let listed = client
        .list_transfers(bearer(
            pb::ListTransfersRequest {
                account_id: a.account_id.clone(),
                ..Default::default()
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.transfers.len(), 1);
    assert_eq!(mesh.posted(&alice, &a.account_id).await, 1_000);
    mesh.stop().await;
}

#[tokio::test]
async fn a_member_can_never_touch_another_members_money() {
    let mesh = TestMesh::start().await;
    let (_, alice) = mesh.member().await;
    let (_, mallory) = mesh.member().await;
    let a = mesh.open_account(&alice, "USD").await;
    let m = mesh.open_account(&mallory, "USD").await;
    mesh.deposit(&alice, &a.account_id, 1_000, "USD").await;
    let mut client = mesh.transfers().await;
    let pending = client
        .create_pending_transfer(bearer(
            pb::CreatePendingTransferRequest {
                request_id: rid(),
                from_account_id: a.account_id.clone(),
                destination: Some(pb::create_pending_transfer_request::Destination::ToAccountId(
                    m.account_id.clone(),
                )),
                amount: money(100, "USD"),
                timeout_seconds: 600,
                description: String::new(),
                reference: String::new(),
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    let not_found = |status: tonic::Status, rpc: &str| {
        assert_eq!(status.code(), Code::NotFound, "{rpc}: {status:?}");
    };
    // Every RPC that takes an account or transfer id, as Mallory.
    not_found(
        client
            .create_transfer(bearer(transfer_to(&rid(), &a.account_id, &m.account_id, 10), &mallory))
            .await
            .unwrap_err(),
        "CreateTransfer",
    );
    not_found(
        client
            .withdraw(bearer(
                pb::WithdrawRequest {
                    request_id: rid(),
                    account_id: a.account_id.clone(),
                    amount: money(10, "USD"),
                    description: String::new(),
                },
                &mallory,
            ))
            .await
            .unwrap_err(),
        "Withdraw",
    );
    not_found(
        client
            .deposit(bearer(
                pb::DepositRequest {
                    request_id: rid(),
                    account_id: a.account_id.clone(),
                    amount: money(10, "USD"),
                    description: String::new(),
                },
                &mallory,
            ))
            .await
            .unwrap_err(),
        "Deposit",
    );
    not_found(
        client
            .create_pending_transfer(bearer(
                pb::CreatePendingTransferRequest {
                    request_id: rid(),
                    from_account_id: a.account_id.clone(),
                    destination: Some(pb::create_pending_transfer_request::Destination::ToAccountId(
                        m.account_id.clone(),
                    )),
                    amount: money(10, "USD"),
                    timeout_seconds: 60,
                    description: String::new(),
                    reference: String::new(),
                },
                &mallory,
            ))
            .await
            .unwrap_err(),
        "CreatePendingTransfer",
    );
    not_found(
        client
            .post_pending_transfer(bearer(
                pb::PostPendingTransferRequest {
                    request_id: rid(),
                    transfer_id: pending.transfer_id.clone(),
                    amount: None,
                },
                &mallory,
            ))
            .await
            .unwrap_err(),
        "PostPendingTransfer",
    );
    not_found(
        client
            .void_pending_transfer(bearer(
                pb::VoidPendingTransferRequest {
                    request_id: rid(),
                    transfer_id: pending.transfer_id.clone(),
                },
                &mallory,
            ))
            .await
            .unwrap_err(),
        "VoidPendingTransfer",
    );
    not_found(
        client
            .get_balance(bearer(
                pb::GetBalanceRequest {
                    account_id: a.account_id.clone(),
                },
                &mallory,
            ))
            .await
            .unwrap_err(),
        "GetBalance",
    );
    not_found(
        client
            .list_transfers(bearer(
                pb::ListTransfersRequest {
                    account_id: a.account_id.clone(),
                    ..Default::default()
                },
                &mallory,
            ))
            .await
            .unwrap_err(),
        "ListTransfers",
    );
    let deposits = client
        .list_transfers(bearer(
            pb::ListTransfersRequest {
                account_id: a.account_id.clone(),
                kinds: vec![pb::TransferKind::Deposit as i32],
                ..Default::default()
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner();
    not_found(
        client
            .get_transfer(bearer(
                pb::GetTransferRequest {
                    transfer_id: deposits.transfers[0].transfer_id.clone(),
                },
                &mallory,
            ))
            .await
            .unwrap_err(),
        "GetTransfer",
    );
    let batch = client
        .create_transfers(bearer(
            pb::CreateTransfersRequest {
                transfers: vec![pb::TransferItem {
                    request_id: rid(),
                    from_account_id: a.account_id.clone(),
                    destination: Some(pb::transfer_item::Destination::ToAccountId(m.account_id.clone())),
                    amount: money(10, "USD"),
                    description: String::new(),
                    reference: String::new(),
                    linked: false,
                }],
            },
            &mallory,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        batch.results[0].error.as_ref().map(|e| e.code),
        Some(Code::NotFound as i32),
        "CreateTransfers"
    );
    let admin_only = client
        .check_integrity(bearer(pb::CheckIntegrityRequest::default(), &mallory))
        .await
        .unwrap_err();
    assert_eq!(admin_only.code(), Code::PermissionDenied, "CheckIntegrity");

    // An admin reads everything and moves nothing that is not theirs.
    let admin = mesh.admin_token().await;
    client
        .get_balance(bearer(
            pb::GetBalanceRequest {
                account_id: a.account_id.clone(),
            },
            &admin,
        ))
        .await
        .expect("admins read balances");
    let moved = client
        .create_transfer(bearer(transfer_to(&rid(), &a.account_id, &m.account_id, 10), &admin))
        .await
        .unwrap_err();
    assert_eq!(moved.code(), Code::PermissionDenied);
    assert_eq!(reason(&moved), "NOT_ACCOUNT_OWNER");
    assert_eq!(mesh.posted(&alice, &a.account_id).await, 1_000);
    mesh.stop().await;
}

#[tokio::test]
async fn two_phase_transfers_post_void_and_expire() {
    let mesh = TestMesh::start().await;
    let (_, alice) = mesh.member().await;
    let (_, bob) = mesh.member().await;
    let a = mesh.open_account(&alice, "USD").await;
    let b = mesh.open_account(&bob, "USD").await;
    mesh.deposit(&alice, &a.account_id, 1_000, "USD").await;
    let mut client = mesh.transfers().await;
    let reserve = |minor: i64, timeout: i32| {
        bearer(
            pb::CreatePendingTransferRequest {
                request_id: rid(),
                from_account_id: a.account_id.clone(),
                destination: Some(pb::create_pending_transfer_request::Destination::ToAccountId(
                    b.account_id.clone(),
                )),
                amount: money(minor, "USD"),
                timeout_seconds: timeout,
                description: String::new(),
                reference: String::new(),
            },
            &alice,
        )
    };
    let balance = |token: String, id: String| {
        let mesh = &mesh;
        async move {
            mesh.transfers()
                .await
                .get_balance(bearer(pb::GetBalanceRequest { account_id: id }, &token))
                .await
                .unwrap()
                .into_inner()
                .balance
                .unwrap()
        }
    };

    let p1 = client
        .create_pending_transfer(reserve(600, 600))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    let held = balance(alice.clone(), a.account_id.clone()).await;
    assert_eq!(held.available.unwrap().amount_minor, 400);
    let short = client
        .create_pending_transfer(reserve(401, 600))
        .await
        .expect_err("reserved funds are taken");
    assert_eq!(reason(&short), "INSUFFICIENT_FUNDS");

    let too_much = client
        .post_pending_transfer(bearer(
            pb::PostPendingTransferRequest {
                request_id: rid(),
                transfer_id: p1.transfer_id.clone(),
                amount: money(601, "USD"),
            },
            &alice,
        ))
        .await
        .expect_err("more than reserved");
    assert_eq!(too_much.code(), Code::InvalidArgument);
    let posted = client
        .post_pending_transfer(bearer(
            pb::PostPendingTransferRequest {
                request_id: rid(),
                transfer_id: p1.transfer_id.clone(),
                amount: money(450, "USD"),
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        posted.pending_transfer.unwrap().status,
        pb::TransferStatus::Posted as i32
    );
    let after = balance(alice.clone(), a.account_id.clone()).await;
    assert_eq!(
        (
            after.posted.unwrap().amount_minor,
            after.available.unwrap().amount_minor
        ),
        (550, 550)
    );
    let again = client
        .void_pending_transfer(bearer(
            pb::VoidPendingTransferRequest {
                request_id: rid(),
                transfer_id: p1.transfer_id.clone(),
            },
            &alice,
        ))
        .await
        .expect_err("already posted");
    assert_eq!(reason(&again), "PENDING_TRANSFER_POSTED");

    let p2 = client
        .create_pending_transfer(reserve(100, 600))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    client
        .void_pending_transfer(bearer(
            pb::VoidPendingTransferRequest {
                request_id: rid(),
                transfer_id: p2.transfer_id.clone(),
            },
            &alice,
        ))
        .await
        .unwrap();
    assert_eq!(
        balance(alice.clone(), a.account_id.clone())
            .await
            .available
            .unwrap()
            .amount_minor,
        550
    );

    // Expiry: the sweep releases the reservation without anyone asking.
    let p3 = client
        .create_pending_transfer(reserve(200, 1))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let expired = client
        .get_transfer(bearer(
            pb::GetTransferRequest {
                transfer_id: p3.transfer_id.clone(),
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(expired.status, pb::TransferStatus::Expired as i32);
    assert_eq!(
        balance(alice.clone(), a.account_id.clone())
            .await
            .available
            .unwrap()
            .amount_minor,
        550
    );
    let late = client
        .post_pending_transfer(bearer(
            pb::PostPendingTransferRequest {
                request_id: rid(),
                transfer_id: p3.transfer_id.clone(),
                amount: None,
            },
            &alice,
        ))
        .await
        .expect_err("expired");
    assert_eq!(reason(&late), "PENDING_TRANSFER_EXPIRED");
    assert_eq!(
        balance(bob.clone(), b.account_id.clone())
            .await
            .posted
            .unwrap()
            .amount_minor,
        450
    );
    assert!(mesh.integrity().await.consistent);
    mesh.stop().await;
}

#[tokio::test]
async fn batches_apply_in_order_with_linked_chains() {
    let mesh = TestMesh::start().await;
    let (_, alice) = mesh.member().await;
    let (_, bob) = mesh.member().await;
    let a = mesh.open_account(&alice, "USD").await;
    let a2 = mesh.open_account(&alice, "USD").await;
    let b = mesh.open_account(&bob, "USD").await;
    mesh.deposit(&alice, &a.account_id, 100_000, "USD").await;
    let item = |from: &str, to: &str, minor: i64, linked: bool| pb::TransferItem {
        request_id: rid(),
        from_account_id: from.to_owned(),
        destination: Some(pb::transfer_item::Destination::ToAccountId(to.to_owned())),
        amount: money(minor, "USD"),
        description: String::new(),
        reference: String::new(),
        linked,
    };
    let mut client = mesh.transfers().await;
    // A chain that fails as a whole, then independent items.
    let response = client
        .create_transfers(bearer(
            pb::CreateTransfersRequest {
                transfers: vec![
                    item(&a.account_id, &a2.account_id, 500, true),
                    item(&a2.account_id, &b.account_id, 600, false),
                    item(&a.account_id, &b.account_id, 100, false),
                ],
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((response.posted_count, response.failed_count), (1, 2));
    assert_eq!(reason_of(&response.results[0]), "LINKED_EVENT_FAILED");
    assert_eq!(reason_of(&response.results[1]), "INSUFFICIENT_FUNDS");
    assert!(response.results[2].error.is_none());
    assert_eq!(
        mesh.posted(&alice, &a2.account_id).await,
        0,
        "the failed chain left nothing behind"
    );

    // A full batch of 1,000 in one call.
    let full: Vec<pb::TransferItem> = (0..1_000)
        .map(|_| item(&a.account_id, &b.account_id, 7, false))
        .collect();
    let response = client
        .create_transfers(bearer(
            pb::CreateTransfersRequest {
                transfers: full.clone(),
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.posted_count, 1_000);
    assert_eq!(mesh.posted(&bob, &b.account_id).await, 100 + 7_000);

    // The same batch again, with two new items among the replays: every
    // replayed item answers with its original transfer and moves nothing,
    // the new ones post (the keys are looked up one index probe each).
    let mut retry = full.clone();
    retry[0] = item(&a.account_id, &b.account_id, 1, false);
    retry[999] = item(&a.account_id, &b.account_id, 2, false);
    let again = client
        .create_transfers(bearer(pb::CreateTransfersRequest { transfers: retry }, &alice))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.posted_count, again.failed_count), (1_000, 0));
    let id = |r: &pb::TransferResult| r.transfer.as_ref().map(|t| t.transfer_id.clone());
    for (original, replayed) in response.results[1..999].iter().zip(&again.results[1..999]) {
        assert!(id(original).is_some());
        assert_eq!(
            id(original),
            id(replayed),
            "a replay answers with the original transfer"
        );
    }
    assert_ne!(id(&response.results[0]), id(&again.results[0]));
    assert_eq!(mesh.posted(&bob, &b.account_id).await, 100 + 7_000 + 3);
    assert!(mesh.integrity().await.consistent);
    mesh.stop().await;
}

fn reason_of(result: &pb::TransferResult) -> String {
    use prost::Message as _;
    let Some(error) = &result.error else {
        return String::new();
    };
    error
        .details
        .iter()
        .find(|any| any.type_url.ends_with("google.rpc.ErrorInfo"))
        .and_then(|any| bank_proto::google::rpc::ErrorInfo::decode(any.value.as_slice()).ok())
        .map(|info| info.reason)
        .unwrap_or_default()
}

#[tokio::test]
async fn every_ledger_change_publishes_one_event() {
    use bank_proto::bank::events::v1::{EventType, event::Payload};
    let mesh = TestMesh::start().await;
    let (_, alice) = mesh.member().await;
    let (_, bob) = mesh.member().await;
    let a = mesh.open_account(&alice, "USD").await;
    let b = mesh.open_account(&bob, "USD").await;
    let deposit = mesh.deposit(&alice, &a.account_id, 1_000, "USD").await;
    let mut client = mesh.transfers().await;
    let sent = client
        .create_transfer(bearer(transfer_to(&rid(), &a.account_id, &b.account_id, 400), &alice))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    let declined = client
        .create_transfer(bearer(
            transfer_to(&rid(), &a.account_id, &b.account_id, 10_000),
            &alice,
        ))
        .await
        .expect_err("overdraft");
    let declined_id = declined
        .get_error_details()
        .error_info()
        .and_then(|i| i.metadata.get("transfer_id").cloned())
        .unwrap();
    let events = mesh.events("transfer", 3).await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events.windows(2).all(|w| w[0].sequence < w[1].sequence), "in order");
    let types: Vec<EventType> = events.iter().map(|e| EventType::try_from(e.r#type).unwrap()).collect();
    assert_eq!(
        types,
        [
            EventType::TransferPosted,
            EventType::TransferPosted,
            EventType::TransferDeclined
        ]
    );
    match &events[1].payload {
        Some(Payload::TransferPosted(posted)) => {
            assert_eq!(posted.transfer_id, sent.transfer_id);
            assert_eq!(posted.amount.as_ref().unwrap().amount_minor, 400);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(events[0].aggregate_id, deposit.transfer_id);
    assert_eq!(events[2].aggregate_id, declined_id);
    assert!(
        events
            .iter()
            .all(|e| e.producer == "transfer" && !e.event_id.is_empty())
    );
    mesh.stop().await;
}
