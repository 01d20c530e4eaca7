//! A member never reads or acts on another member's account or card (one
//! test per RPC), and the answer is the same as for an id that does not
//! exist; an admin reads everything but moves nothing.

use bank_proto::bank::account::v1 as pb;
use bank_proto::bank::common::v1::YearMonth;
use chrono::{Datelike, Utc};
use futures::StreamExt;
use tonic::Code;

use crate::helpers::{
    Member, TestBank, assert_status, bearer, new_request_id, purchase_request, purchase_with, spawn_bank,
};

/// Jane has a funded account with a card; John is another member.
struct Scene {
    bank: TestBank,
    jane: Member,
    john: Member,
    admin: Member,
    account: pb::Account,
    card: pb::IssueCardResponse,
}

async fn scene() -> Scene {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let john = bank.member().await;
    let admin = bank.admin().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 10_000).await;
    let card = bank.issue(&jane, &account.account_id).await;
    // John has an account of his own, so "no accounts" is not the reason.
    bank.open(&john, "USD").await;
    Scene {
        bank,
        jane,
        john,
        admin,
        account,
        card,
    }
}

impl Scene {
    fn card_id(&self) -> String {
        self.card.card.as_ref().unwrap().card_id.clone()
    }

    async fn janes_balance(&self) -> i64 {
        self.bank.balance(&self.jane, &self.account.account_id).await
    }
}

#[tokio::test]
async fn get_account_of_another_member_is_not_found() {
    let s = scene().await;
    let theirs = s.bank.get(&s.john, &s.account.account_id).await;
    let unknown = s.bank.get(&s.john, &uuid::Uuid::new_v4().to_string()).await;
    let theirs = assert_status(theirs, Code::NotFound, "ACCOUNT_NOT_FOUND");
    let unknown = assert_status(unknown, Code::NotFound, "ACCOUNT_NOT_FOUND");
    assert_eq!(theirs.message(), unknown.message(), "indistinguishable");
    // The admin reads it.
    assert_eq!(s.bank.get(&s.admin, &s.account.account_id).await.unwrap(), s.account);
}

#[tokio::test]
async fn list_accounts_shows_only_the_callers_own() {
    let s = scene().await;
    let johns = s
        .bank
        .accounts
        .clone()
        .list_accounts(bearer(
            pb::ListAccountsRequest {
                include_closed: true,
                ..Default::default()
            },
            &s.john.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .accounts;
    assert_eq!(johns.len(), 1);
    assert!(johns.iter().all(|a| a.owner_user_id == s.john.user_id));
}

#[tokio::test]
async fn lookup_reveals_no_owner_and_no_status() {
    let s = scene().await;
    let found = s
        .bank
        .accounts
        .clone()
        .lookup_account(bearer(
            pb::LookupAccountRequest {
                account_number: s.account.account_number.clone(),
            },
            &s.john.token,
        ))
        .await
        .unwrap()
        .into_inner();
    // Only what a payer needs (the message has no other fields).
    assert_eq!(found.account_id, s.account.account_id);
    assert_eq!(found.currency, "USD");
    assert_eq!(found.holder_name_hint, "", "Jane has not set a name");
}

#[tokio::test]
async fn list_all_accounts_is_for_admins_only() {
    let s = scene().await;
    let denied = s
        .bank
        .accounts
        .clone()
        .list_all_accounts(bearer(
            pb::ListAllAccountsRequest {
                owner_user_id: s.jane.user_id.clone(),
                ..Default::default()
            },
            &s.john.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn freeze_unfreeze_and_close_are_for_admins_only() {
    let s = scene().await;
    let mut client = s.bank.accounts.clone();
    let id = s.account.account_id.clone();
    let freeze = client
        .freeze_account(bearer(
            pb::FreezeAccountRequest {
                account_id: id.clone(),
                reason: "x".to_owned(),
            },
            &s.john.token,
        ))
        .await;
    let unfreeze = client
        .unfreeze_account(bearer(
            pb::UnfreezeAccountRequest {
                account_id: id.clone(),
                reason: String::new(),
            },
            &s.john.token,
        ))
        .await;
    let close = client
        .close_account(bearer(
            pb::CloseAccountRequest {
                account_id: id.clone(),
                reason: "x".to_owned(),
            },
            &s.jane.token,
        ))
        .await;
    assert_eq!(freeze.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(unfreeze.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(close.unwrap_err().code(), Code::PermissionDenied, "not even the owner");
    assert_eq!(
        s.bank.get(&s.jane, &id).await.unwrap().status,
        pb::AccountStatus::Open as i32
    );
}

#[tokio::test]
async fn profiles_are_only_ever_the_callers_own() {
    let s = scene().await;
    let mut client = s.bank.accounts.clone();
    client
        .update_profile(bearer(
            pb::UpdateProfileRequest {
                profile: Some(pb::HolderProfile {
                    user_id: s.jane.user_id.clone(),
                    full_name: "Mallory".to_owned(),
                    ..Default::default()
                }),
                update_mask: None,
            },
            &s.john.token,
        ))
        .await
        .unwrap();
    let janes = client
        .get_profile(bearer(pb::GetProfileRequest {}, &s.jane.token))
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(janes.full_name, "", "the user_id in the body is output only");
    let johns = client
        .get_profile(bearer(pb::GetProfileRequest {}, &s.john.token))
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(
        (johns.user_id.as_str(), johns.full_name.as_str()),
        (s.john.user_id.as_str(), "Mallory")
    );
}

#[tokio::test]
async fn issue_card_on_another_members_account_is_refused() {
    let s = scene().await;
    let by_member = s
        .bank
        .try_issue(&s.john, &new_request_id(), &s.account.account_id, "JOHN DOE")
        .await;
    assert_status(by_member, Code::NotFound, "ACCOUNT_NOT_FOUND");
    let by_admin = s
        .bank
        .try_issue(&s.admin, &new_request_id(), &s.account.account_id, "ADMIN")
        .await;
    assert_status(by_admin, Code::PermissionDenied, "NOT_ACCOUNT_OWNER");
    assert_eq!(
        s.bank
            .count(&format!(
                "SELECT count(*) AS n FROM account.cards WHERE account_id = '{}'",
                s.account.account_id
            ))
            .await,
        1
    );
}

#[tokio::test]
async fn list_cards_of_another_members_account_is_not_found() {
    let s = scene().await;
    let list = |who: &Member| {
        let mut client = s.bank.accounts.clone();
        let request = bearer(
            pb::ListCardsRequest {
                account_id: s.account.account_id.clone(),
                ..Default::default()
            },
            &who.token,
        );
        async move { client.list_cards(request).await.map(|r| r.into_inner().cards) }
    };
    assert_status(list(&s.john).await, Code::NotFound, "ACCOUNT_NOT_FOUND");
    let as_admin = list(&s.admin).await.unwrap();
    assert_eq!(as_admin[0].last_four, s.card.pan[12..]);
}

#[tokio::test]
async fn get_card_of_another_member_is_not_found_however_asked() {
    let s = scene().await;
    let johns_account = s
        .bank
        .accounts
        .clone()
        .list_accounts(bearer(pb::ListAccountsRequest::default(), &s.john.token))
        .await
        .unwrap()
        .into_inner()
        .accounts[0]
        .account_id
        .clone();
    for account_id in [s.account.account_id.clone(), johns_account] {
        let result = s
            .bank
            .accounts
            .clone()
            .get_card(bearer(
                pb::GetCardRequest {
                    account_id,
                    card_id: s.card_id(),
                },
                &s.john.token,
            ))
            .await;
        assert_status(result, Code::NotFound, "CARD_NOT_FOUND");
    }
}

#[tokio::test]
async fn block_card_of_another_member_is_refused_and_changes_nothing() {
    let s = scene().await;
    let block = |who: &Member| {
        let mut client = s.bank.accounts.clone();
        let request = bearer(
            pb::BlockCardRequest {
                account_id: s.account.account_id.clone(),
                card_id: s.card_id(),
                reason: pb::CardBlockReason::Stolen as i32,
            },
            &who.token,
        );
        async move { client.block_card(request).await }
    };
    assert_status(block(&s.john).await, Code::NotFound, "CARD_NOT_FOUND");
    assert_status(block(&s.admin).await, Code::PermissionDenied, "NOT_ACCOUNT_OWNER");
    // The card still works for Jane.
    s.bank
        .purchase(&s.jane, purchase_request(&s.card, 100, "USD"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_purchase_with_another_members_card_is_declined_and_moves_nothing() {
    let s = scene().await;
    // John knows every detail of Jane's card; he is still not its owner.
    let stolen = purchase_request(&s.card, 5_000, "USD");
    let declined = purchase_with(&s.bank.accounts, &s.john, stolen.clone()).await;
    assert_status(declined, Code::FailedPrecondition, "CARD_INVALID");
    let by_admin = purchase_with(&s.bank.accounts, &s.admin, stolen).await;
    assert_status(by_admin, Code::PermissionDenied, "NOT_ACCOUNT_OWNER");
    assert_eq!(s.janes_balance().await, 10_000);
}

#[tokio::test]
async fn get_statement_of_another_members_account_is_not_found() {
    let s = scene().await;
    let now = Utc::now();
    let request = |who: &Member| {
        bearer(
            pb::GetStatementRequest {
                account_id: s.account.account_id.clone(),
                period: Some(YearMonth {
                    year: now.year(),
                    month: i32::try_from(now.month()).unwrap(),
                }),
            },
            &who.token,
        )
    };
    let mut client = s.bank.accounts.clone();
    assert_status(
        client.get_statement(request(&s.john)).await,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
    );
    let admin_view = client.get_statement(request(&s.admin)).await.unwrap().into_inner();
    assert_eq!(admin_view.statement.unwrap().entry_count, 1);
}

#[tokio::test]
async fn export_statement_of_another_members_account_is_not_found() {
    let s = scene().await;
    let request = |who: &Member| {
        bearer(
            pb::ExportStatementRequest {
                account_id: s.account.account_id.clone(),
                ..Default::default()
            },
            &who.token,
        )
    };
    let mut client = s.bank.accounts.clone();
    assert_status(
        client.export_statement(request(&s.john)).await,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
    );
    let mut stream = client.export_statement(request(&s.admin)).await.unwrap().into_inner();
    let mut count = 0;
    while let Some(item) = stream.next().await {
        item.unwrap();
        count += 1;
    }
    assert_eq!(count, 3, "header, one deposit, trailer");
}

#[tokio::test]
async fn open_account_cannot_be_made_for_someone_else() {
    let s = scene().await;
    // There is no owner field: the account always belongs to the caller.
    let opened = s.bank.open(&s.john, "USD").await;
    assert_eq!(opened.owner_user_id, s.john.user_id);
    let unauthenticated = s
        .bank
        .accounts
        .clone()
        .open_account(pb::OpenAccountRequest {
            request_id: new_request_id(),
            r#type: pb::AccountType::Checking as i32,
            currency: "USD".to_owned(),
            display_name: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
}
