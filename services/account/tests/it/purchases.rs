use std::time::Duration;

use bank_proto::bank::account::v1 as pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{assert_status, bearer, metadata, purchase_request, reason, spawn_bank};

#[tokio::test]
async fn an_approved_purchase_debits_the_account_into_merchant_settlement() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 10_000).await;
    let card = bank.issue(&jane, &account.account_id).await;
    let request = purchase_request(&card, 2_599, "USD");
    let purchase = bank.purchase(&jane, request).await.unwrap();
    assert_eq!(purchase.account_id, account.account_id);
    assert_eq!(purchase.card_id, card.card.as_ref().unwrap().card_id);
    assert_eq!(purchase.card_last_four, card.pan[12..]);
    assert_eq!(purchase.merchant_name, "Corner Shop");
    assert_eq!(purchase.merchant_category_code, "5411");
    assert_eq!(purchase.amount.as_ref().unwrap().amount_minor, 2_599);
    assert!(purchase.approve_time.is_some());
    assert_eq!(bank.balance(&jane, &account.account_id).await, 7_401);

    // The ledger transfer goes to MERCHANT_SETTLEMENT USD as a card purchase.
    let transfer = bank
        .transfers
        .clone()
        .get_transfer(bearer(
            bank_proto::bank::transfer::v1::GetTransferRequest {
                transfer_id: purchase.transfer_id.clone(),
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    let settlement =
        account_service::SystemKind::MerchantSettlement.account_id(&account_service::Currency::parse("USD").unwrap());
    assert_eq!(transfer.debit_account_id, account.account_id);
    assert_eq!(transfer.credit_account_id, settlement.to_string());
    assert_eq!(
        transfer.kind,
        bank_proto::bank::transfer::v1::TransferKind::CardPurchase as i32
    );
    assert_eq!(transfer.description, "Corner Shop");
    assert_eq!(transfer.initiator_user_id, jane.user_id);
}

#[tokio::test]
async fn purchases_are_declined_with_a_reason() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 1_000).await;
    let card = bank.issue(&jane, &account.account_id).await;

    // More than the balance.
    let short = bank.purchase(&jane, purchase_request(&card, 1_001, "USD")).await;
    let status = assert_status(short, Code::FailedPrecondition, "INSUFFICIENT_FUNDS");
    assert!(metadata(&status, "transfer_id").is_some());
    // Wrong CVV, wrong expiry, an unknown (Luhn-valid) number: one answer.
    let mut wrong_cvv = purchase_request(&card, 100, "USD");
    wrong_cvv.cvv = format!("{:03}", (card.cvv.parse::<u16>().unwrap() + 1) % 1000);
    let mut wrong_expiry = purchase_request(&card, 100, "USD");
    wrong_expiry.expiry_year += 1;
    let mut unknown = purchase_request(&card, 100, "USD");
    unknown.card_number = "4111111111111111".to_owned();
    let mut messages = Vec::new();
    for request in [wrong_cvv, wrong_expiry, unknown] {
        let status = assert_status(
            bank.purchase(&jane, request).await,
            Code::FailedPrecondition,
            "CARD_INVALID",
        );
        messages.push(status.message().to_owned());
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "indistinguishable on purpose");
    // Another currency than the account's.
    let euros = bank.purchase(&jane, purchase_request(&card, 100, "EUR")).await;
    assert_status(euros, Code::FailedPrecondition, "CURRENCY_MISMATCH");
    // A blocked card.
    bank.accounts
        .clone()
        .block_card(bearer(
            pb::BlockCardRequest {
                account_id: account.account_id.clone(),
                card_id: card.card.as_ref().unwrap().card_id.clone(),
                reason: pb::CardBlockReason::Stolen as i32,
            },
            &jane.token,
        ))
        .await
        .unwrap();
    let blocked = bank.purchase(&jane, purchase_request(&card, 100, "USD")).await;
    assert_status(blocked, Code::FailedPrecondition, "CARD_BLOCKED");
    assert_eq!(
        bank.balance(&jane, &account.account_id).await,
        1_000,
        "no decline moved money"
    );
}

#[tokio::test]
async fn repeated_invalid_card_details_lock_purchases_for_a_day() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 1_000).await;
    let card = bank.issue(&jane, &account.account_id).await;
    for _ in 0..account_service::CARD_INVALID_ATTEMPTS_MAX {
        let mut guess = purchase_request(&card, 100, "USD");
        guess.cvv = format!("{:03}", (card.cvv.parse::<u16>().unwrap() + 7) % 1000);
        assert_status(
            bank.purchase(&jane, guess).await,
            Code::FailedPrecondition,
            "CARD_INVALID",
        );
    }
    // Even the right details are refused now.
    let status = bank
        .purchase(&jane, purchase_request(&card, 100, "USD"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(reason(&status), "CARD_ATTEMPTS_EXCEEDED");
    let retry = status
        .get_error_details()
        .retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo");
    assert!(
        retry > Duration::from_secs(23 * 3600) && retry <= Duration::from_secs(24 * 3600),
        "{retry:?}"
    );
    assert_eq!(bank.balance(&jane, &account.account_id).await, 1_000);
}

#[tokio::test]
async fn bad_purchase_input_is_invalid_argument_and_records_nothing() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let card = bank.issue(&jane, &account.account_id).await;
    let mut bad = purchase_request(&card, 0, "usd");
    bad.request_id = "not a valid id!".to_owned();
    bad.card_number = format!("{}0", &card.pan[..15]);
    if bad.card_number == card.pan {
        bad.card_number = format!("{}1", &card.pan[..15]);
    }
    bad.expiry_month = 13;
    bad.cvv = "12".to_owned();
    bad.merchant_name = String::new();
    bad.merchant_category_code = "54".to_owned();
    let status = bank.purchase(&jane, bad).await.unwrap_err();
    assert_eq!(
        crate::helpers::violations(&status),
        [
            "request_id",
            "card_number",
            "expiry_month",
            "cvv",
            "merchant_name",
            "merchant_category_code",
            "amount"
        ]
    );
    let too_much = bank
        .purchase(&jane, purchase_request(&card, 1_000_000_000_001, "USD"))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&too_much), ["amount"]);
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM account.idempotency_keys WHERE rpc = 'CreateCardPurchase'")
            .await,
        0
    );
}
