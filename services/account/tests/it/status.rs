use bank_proto::bank::account::v1 as pb;
use tonic::Code;

use crate::helpers::{Member, TestBank, assert_status, bearer, metadata, purchase_request, spawn_bank};

pub(crate) async fn freeze(bank: &TestBank, who: &Member, account_id: &str) -> Result<pb::Account, tonic::Status> {
    bank.accounts
        .clone()
        .freeze_account(bearer(
            pb::FreezeAccountRequest {
                account_id: account_id.to_owned(),
                reason: "suspicious activity".to_owned(),
            },
            &who.token,
        ))
        .await
        .map(|r| r.into_inner().account.unwrap())
}

pub(crate) async fn unfreeze(bank: &TestBank, who: &Member, account_id: &str) -> Result<pb::Account, tonic::Status> {
    bank.accounts
        .clone()
        .unfreeze_account(bearer(
            pb::UnfreezeAccountRequest {
                account_id: account_id.to_owned(),
                reason: "cleared".to_owned(),
            },
            &who.token,
        ))
        .await
        .map(|r| r.into_inner().account.unwrap())
}

pub(crate) async fn close(bank: &TestBank, who: &Member, account_id: &str) -> Result<pb::Account, tonic::Status> {
    bank.accounts
        .clone()
        .close_account(bearer(
            pb::CloseAccountRequest {
                account_id: account_id.to_owned(),
                reason: "customer request".to_owned(),
            },
            &who.token,
        ))
        .await
        .map(|r| r.into_inner().account.unwrap())
}

#[tokio::test]
async fn a_frozen_account_declines_card_purchases_until_unfrozen() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 10_000).await;
    let card = bank.issue(&jane, &account.account_id).await;

    let frozen = freeze(&bank, &admin, &account.account_id).await.unwrap();
    assert_eq!(frozen.status, pb::AccountStatus::Frozen as i32);
    assert_eq!(frozen.status_reason, "suspicious activity");
    let (changed, opened) = (frozen.status_change_time.unwrap(), frozen.open_time.unwrap());
    assert!((changed.seconds, changed.nanos) > (opened.seconds, opened.nanos));
    // Freezing again is a no-op.
    assert_eq!(freeze(&bank, &admin, &account.account_id).await.unwrap(), frozen);
    // The owner sees the status and the reason.
    assert_eq!(bank.get(&jane, &account.account_id).await.unwrap(), frozen);

    let declined = bank.purchase(&jane, purchase_request(&card, 500, "USD")).await;
    let status = assert_status(declined, Code::FailedPrecondition, "ACCOUNT_FROZEN");
    assert!(
        metadata(&status, "transfer_id").is_some(),
        "the ledger recorded the attempt"
    );
    // No new card for a frozen account either.
    let second = bank
        .try_issue(
            &jane,
            &crate::helpers::new_request_id(),
            &account.account_id,
            "JANE DOE",
        )
        .await;
    assert_status(second, Code::FailedPrecondition, "ACCOUNT_FROZEN");

    let open = unfreeze(&bank, &admin, &account.account_id).await.unwrap();
    assert_eq!(open.status, pb::AccountStatus::Open as i32);
    assert_eq!(open.status_reason, "cleared");
    bank.purchase(&jane, purchase_request(&card, 500, "USD")).await.unwrap();
    assert_eq!(bank.balance(&jane, &account.account_id).await, 9_500);
}

#[tokio::test]
async fn closing_is_refused_while_money_remains_and_allowed_at_zero() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 2_500).await;
    let card = bank.issue(&jane, &account.account_id).await;

    let refused = close(&bank, &admin, &account.account_id).await;
    let status = assert_status(refused, Code::FailedPrecondition, "BALANCE_NOT_ZERO");
    assert_eq!(metadata(&status, "balance_minor").as_deref(), Some("2500"));
    assert_eq!(
        bank.get(&jane, &account.account_id).await.unwrap().status,
        pb::AccountStatus::Open as i32
    );

    bank.withdraw(&jane, &account, 2_500).await;
    let closed = close(&bank, &admin, &account.account_id).await.unwrap();
    assert_eq!(closed.status, pb::AccountStatus::Closed as i32);
    // Closing a closed account returns it unchanged; it never reopens.
    assert_eq!(close(&bank, &admin, &account.account_id).await.unwrap(), closed);
    assert_status(
        unfreeze(&bank, &admin, &account.account_id).await,
        Code::FailedPrecondition,
        "ACCOUNT_CLOSED",
    );
    assert_status(
        freeze(&bank, &admin, &account.account_id).await,
        Code::FailedPrecondition,
        "ACCOUNT_CLOSED",
    );

    // Its card was blocked with reason ACCOUNT_CLOSED.
    let cards = bank
        .accounts
        .clone()
        .list_cards(bearer(
            pb::ListCardsRequest {
                account_id: account.account_id.clone(),
                ..Default::default()
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .cards;
    let c = &cards[0];
    assert_eq!(c.card_id, card.card.as_ref().unwrap().card_id);
    assert_eq!(c.status, pb::CardStatus::Blocked as i32);
    assert_eq!(c.block_reason, pb::CardBlockReason::AccountClosed as i32);
    assert_status(
        bank.purchase(&jane, purchase_request(&card, 1, "USD")).await,
        Code::FailedPrecondition,
        "CARD_BLOCKED",
    );
    // A closed account takes no deposits: the ledger enforces the mirror.
    let deposit = bank
        .transfers
        .clone()
        .deposit(bearer(
            bank_proto::bank::transfer::v1::DepositRequest {
                request_id: crate::helpers::new_request_id(),
                account_id: account.account_id.clone(),
                amount: Some(crate::helpers::money(100, "USD")),
                description: String::new(),
            },
            &jane.token,
        ))
        .await;
    assert_status(deposit, Code::FailedPrecondition, "ACCOUNT_CLOSED");
}

#[tokio::test]
async fn system_accounts_never_change_status_and_members_cannot_change_any() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let settlement = account_service::SystemKind::MerchantSettlement
        .account_id(&account_service::Currency::parse("USD").unwrap())
        .to_string();
    assert_status(
        freeze(&bank, &admin, &settlement).await,
        Code::FailedPrecondition,
        "SYSTEM_ACCOUNT",
    );
    assert_status(
        close(&bank, &admin, &settlement).await,
        Code::FailedPrecondition,
        "SYSTEM_ACCOUNT",
    );
    for result in [
        freeze(&bank, &jane, &account.account_id).await,
        unfreeze(&bank, &jane, &account.account_id).await,
        close(&bank, &jane, &account.account_id).await,
    ] {
        assert_eq!(result.unwrap_err().code(), Code::PermissionDenied);
    }
    assert_status(
        freeze(&bank, &admin, &uuid::Uuid::new_v4().to_string()).await,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
    );
    let missing_reason = bank
        .accounts
        .clone()
        .freeze_account(bearer(
            pb::FreezeAccountRequest {
                account_id: account.account_id.clone(),
                reason: String::new(),
            },
            &admin.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&missing_reason), ["reason"]);
}
