//! Malformed input is INVALID_ARGUMENT with every field violation at once,
//! and nothing is written.

use bank_proto::bank::account::v1 as pb;

use crate::helpers::{bearer, spawn_bank, violations};

#[tokio::test]
async fn a_bad_open_account_request_names_every_field_and_writes_nothing() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let status = bank
        .accounts
        .clone()
        .open_account(bearer(
            pb::OpenAccountRequest {
                request_id: "x".repeat(65),
                r#type: pb::AccountType::Unspecified as i32,
                currency: "usd".to_owned(),
                display_name: "n".repeat(65),
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["request_id", "type", "currency", "display_name"]);
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM account.accounts WHERE owner_user_id IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM account.idempotency_keys").await,
        0
    );
}

#[tokio::test]
async fn bad_card_and_account_requests_name_every_field_and_write_nothing() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let mut client = bank.accounts.clone();
    let issue = client
        .issue_card(bearer(
            pb::IssueCardRequest {
                request_id: String::new(),
                account_id: "not-a-uuid".to_owned(),
                cardholder_name: "Jane 2".to_owned(),
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&issue), ["request_id", "account_id", "cardholder_name"]);
    let get = client
        .get_account(bearer(
            pb::GetAccountRequest {
                account_id: String::new(),
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&get), ["account_id"]);
    let cards = client
        .list_cards(bearer(
            pb::ListCardsRequest {
                account_id: account.account_id.clone(),
                page_size: -1,
                page_token: "garbage".to_owned(),
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&cards), ["page_size", "page_token"]);
    let block = client
        .block_card(bearer(
            pb::BlockCardRequest {
                account_id: account.account_id.clone(),
                card_id: "x".to_owned(),
                reason: 0,
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&block), ["card_id", "reason"]);
    let statement = client
        .get_statement(bearer(
            pb::GetStatementRequest {
                account_id: account.account_id.clone(),
                period: None,
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&statement), ["period"]);
    let list = client
        .list_accounts(bearer(
            pb::ListAccountsRequest {
                page_size: 101,
                ..Default::default()
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&list), ["page_size"]);
    assert_eq!(bank.count("SELECT count(*) AS n FROM account.cards").await, 0);
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM account.idempotency_keys WHERE rpc <> 'OpenAccount'")
            .await,
        0
    );
}
