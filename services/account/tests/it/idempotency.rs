use bank_proto::bank::account::v1 as pb;
use tonic::Code;

use crate::helpers::{assert_status, metadata, new_request_id, purchase_request, spawn_bank};

#[tokio::test]
async fn open_account_retries_return_the_same_account() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let request_id = new_request_id();
    let first = bank
        .try_open(&jane, &request_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap();
    let again = bank
        .try_open(&jane, &request_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap();
    assert_eq!(again, first);
    // Racing retries of a new id open exactly one account.
    let raced_id = new_request_id();
    let (a, b, c) = tokio::join!(
        bank.try_open(&jane, &raced_id, pb::AccountType::Savings, "EUR"),
        bank.try_open(&jane, &raced_id, pb::AccountType::Savings, "EUR"),
        bank.try_open(&jane, &raced_id, pb::AccountType::Savings, "EUR"),
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert_eq!(a.account_id, b.account_id);
    assert_eq!(a.account_id, c.account_id);
    let owned = bank
        .count(&format!(
            "SELECT count(*) AS n FROM account.accounts WHERE owner_user_id = '{}'",
            jane.user_id
        ))
        .await;
    assert_eq!(owned, 2);

    // The same id with another request names the first differing field.
    let reused = bank
        .try_open(&jane, &request_id, pb::AccountType::Checking, "EUR")
        .await;
    let status = assert_status(reused, Code::AlreadyExists, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(metadata(&status, "field").as_deref(), Some("currency"));
    // Keys are per caller: John may use Jane's id for his own account.
    let john = bank.member().await;
    let his = bank
        .try_open(&john, &request_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap();
    assert_ne!(his.account_id, first.account_id);
}

#[tokio::test]
async fn issue_card_retries_show_the_same_card_and_its_secrets_again() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let request_id = new_request_id();
    let (a, b) = tokio::join!(
        bank.try_issue(&jane, &request_id, &account.account_id, "JANE DOE"),
        bank.try_issue(&jane, &request_id, &account.account_id, "JANE DOE"),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    let later = bank
        .try_issue(&jane, &request_id, &account.account_id, "JANE DOE")
        .await
        .unwrap();
    assert_eq!(later, a, "same card, PAN decrypted and CVV recomputed");
    assert_eq!(
        bank.count(&format!(
            "SELECT count(*) AS n FROM account.cards WHERE account_id = '{}'",
            account.account_id
        ))
        .await,
        1
    );
    let reused = bank.try_issue(&jane, &request_id, &account.account_id, "J DOE").await;
    let status = assert_status(reused, Code::AlreadyExists, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(metadata(&status, "field").as_deref(), Some("cardholder_name"));
}

#[tokio::test]
async fn purchase_retries_never_charge_twice_and_replay_declines() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 10_000).await;
    let card = bank.issue(&jane, &account.account_id).await;
    let request = purchase_request(&card, 1_000, "USD");
    let (a, b, c) = tokio::join!(
        bank.purchase(&jane, request.clone()),
        bank.purchase(&jane, request.clone()),
        bank.purchase(&jane, request.clone()),
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(bank.purchase(&jane, request.clone()).await.unwrap(), a);
    assert_eq!(bank.balance(&jane, &account.account_id).await, 9_000, "charged once");

    // Same id, different amount: refused, naming the field.
    let mut changed = request.clone();
    changed.amount = Some(crate::helpers::money(1_001, "USD"));
    let status = assert_status(
        bank.purchase(&jane, changed).await,
        Code::AlreadyExists,
        "IDEMPOTENCY_KEY_REUSED",
    );
    assert_eq!(metadata(&status, "field").as_deref(), Some("amount"));

    // A decline is replayed too, even after the reason went away.
    let big = purchase_request(&card, 50_000, "USD");
    let first = assert_status(
        bank.purchase(&jane, big.clone()).await,
        Code::FailedPrecondition,
        "INSUFFICIENT_FUNDS",
    );
    bank.deposit(&jane, &account, 100_000).await;
    let replayed = assert_status(
        bank.purchase(&jane, big.clone()).await,
        Code::FailedPrecondition,
        "INSUFFICIENT_FUNDS",
    );
    assert_eq!(metadata(&replayed, "transfer_id"), metadata(&first, "transfer_id"));
    let mut fresh = big;
    fresh.request_id = new_request_id();
    bank.purchase(&jane, fresh).await.unwrap();
    assert_eq!(bank.balance(&jane, &account.account_id).await, 9_000 + 100_000 - 50_000);
}

#[tokio::test]
async fn a_recorded_card_decline_is_replayed_after_the_card_is_fixed() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 10_000).await;
    let card = bank.issue(&jane, &account.account_id).await;
    let mut wrong = purchase_request(&card, 100, "USD");
    wrong.expiry_month = wrong.expiry_month % 12 + 1;
    assert_status(
        bank.purchase(&jane, wrong.clone()).await,
        Code::FailedPrecondition,
        "CARD_INVALID",
    );
    assert_status(
        bank.purchase(&jane, wrong).await,
        Code::FailedPrecondition,
        "CARD_INVALID",
    );
    assert_eq!(
        bank.count(&format!(
            "SELECT count(*) AS n FROM account.idempotency_keys WHERE decline_reason = 'CARD_INVALID' AND caller_id = '{}'",
            jane.user_id
        ))
        .await,
        1,
        "a replay is not another attempt"
    );
}
