use std::time::Duration;

use account_service::LookupLimitConfig;
use bank_proto::bank::account::v1 as pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{
    Options, assert_status, bearer, new_request_id, reason, spawn_bank, spawn_bank_with, unknown_account_number,
};

#[tokio::test]
async fn members_open_list_and_get_their_accounts() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let checking = bank.open(&jane, "USD").await;
    assert_eq!(checking.status, pb::AccountStatus::Open as i32);
    assert_eq!(checking.r#type, pb::AccountType::Checking as i32);
    assert_eq!(checking.owner_user_id, jane.user_id);
    assert_eq!(checking.display_name, "Everyday");
    assert_eq!(checking.account_number.len(), 12);
    let number: u64 = checking.account_number.parse().unwrap();
    assert_eq!(number % 97, 1, "ISO 7064 MOD 97-10");
    let savings = bank
        .try_open(&jane, &new_request_id(), pb::AccountType::Savings, "EUR")
        .await
        .unwrap();

    let listed = bank
        .accounts
        .clone()
        .list_accounts(bearer(pb::ListAccountsRequest::default(), &jane.token))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = listed.accounts.iter().map(|a| a.account_id.clone()).collect();
    assert_eq!(
        ids,
        [checking.account_id.clone(), savings.account_id.clone()],
        "oldest first"
    );
    assert!(listed.next_page_token.is_empty());
    assert_eq!(bank.get(&jane, &savings.account_id).await.unwrap(), savings);
    // Its ledger account exists: the balance reads zero.
    assert_eq!(bank.balance(&jane, &checking.account_id).await, 0);

    let loan = bank
        .try_open(&jane, &new_request_id(), pb::AccountType::Loan, "USD")
        .await;
    assert_eq!(loan.unwrap_err().code(), Code::InvalidArgument);
    let yen = bank
        .try_open(&jane, &new_request_id(), pb::AccountType::Checking, "JPY")
        .await;
    assert_status(yen, Code::InvalidArgument, "UNSUPPORTED_CURRENCY");
}

#[tokio::test]
async fn list_accounts_pages_and_hides_closed_accounts_unless_asked() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let jane = bank.member().await;
    let mut opened = Vec::new();
    for _ in 0..5 {
        opened.push(bank.open(&jane, "USD").await.account_id);
    }
    let mut client = bank.accounts.clone();
    client
        .close_account(bearer(
            pb::CloseAccountRequest {
                account_id: opened[0].clone(),
                reason: "customer asked".to_owned(),
            },
            &admin.token,
        ))
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_accounts(bearer(
                pb::ListAccountsRequest {
                    page_size: 2,
                    page_token: page_token.clone(),
                    include_closed: true,
                },
                &jane.token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.accounts.len() <= 2);
        seen.extend(page.accounts.into_iter().map(|a| a.account_id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, opened);
    let open_only = client
        .list_accounts(bearer(pb::ListAccountsRequest::default(), &jane.token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(open_only.accounts.len(), 4);

    // A token from another query is refused.
    let first = client
        .list_accounts(bearer(
            pb::ListAccountsRequest {
                page_size: 1,
                ..Default::default()
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner();
    let mismatched = client
        .list_accounts(bearer(
            pb::ListAccountsRequest {
                page_size: 1,
                page_token: first.next_page_token,
                include_closed: true,
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&mismatched), ["page_token"]);
}

#[tokio::test]
async fn a_member_holds_at_most_ten_open_accounts() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    for _ in 0..account_service::ACCOUNTS_PER_MEMBER_MAX {
        bank.open(&jane, "USD").await;
    }
    let status = bank
        .try_open(&jane, &new_request_id(), pb::AccountType::Savings, "USD")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(reason(&status), "ACCOUNT_LIMIT_REACHED");
    // Another member is unaffected.
    let john = bank.member().await;
    bank.open(&john, "USD").await;
}

#[tokio::test]
async fn lookup_finds_an_account_by_number_with_minimal_information() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let john = bank.member().await;
    let account = bank.open(&jane, "EUR").await;
    bank.accounts
        .clone()
        .update_profile(bearer(
            pb::UpdateProfileRequest {
                profile: Some(pb::HolderProfile {
                    full_name: "Jane Mary Doe".to_owned(),
                    ..Default::default()
                }),
                update_mask: None,
            },
            &jane.token,
        ))
        .await
        .unwrap();
    let n = &account.account_number;
    let typed = format!("{} {}-{}", &n[..4], &n[4..8], &n[8..]);
    let found = bank
        .accounts
        .clone()
        .lookup_account(bearer(pb::LookupAccountRequest { account_number: typed }, &john.token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        found,
        pb::LookupAccountResponse {
            account_id: account.account_id.clone(),
            account_number: account.account_number.clone(),
            currency: "EUR".to_owned(),
            holder_name_hint: "J. D.".to_owned(),
        }
    );
    let unknown = bank
        .accounts
        .clone()
        .lookup_account(bearer(
            pb::LookupAccountRequest {
                account_number: unknown_account_number(),
            },
            &john.token,
        ))
        .await;
    assert_status(unknown, Code::NotFound, "ACCOUNT_NOT_FOUND");
}

#[tokio::test]
async fn a_mistyped_account_number_is_rejected_by_its_check_digits() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let mut digits: Vec<u8> = account.account_number.bytes().collect();
    // One wrong digit, and two adjacent digits swapped: both caught.
    let mut typo = digits.clone();
    typo[3] = if typo[3] == b'9' { b'0' } else { typo[3] + 1 };
    let swap_at = (0..11).find(|i| digits[*i] != digits[i + 1]).unwrap();
    digits.swap(swap_at, swap_at + 1);
    for wrong in [typo, digits] {
        let wrong = String::from_utf8(wrong).unwrap();
        let status = bank
            .accounts
            .clone()
            .lookup_account(bearer(pb::LookupAccountRequest { account_number: wrong }, &jane.token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(reason(&status), "INVALID_CHECK_DIGIT");
        assert_eq!(crate::helpers::violations(&status), ["account_number"]);
    }
    let malformed = bank
        .accounts
        .clone()
        .lookup_account(bearer(
            pb::LookupAccountRequest {
                account_number: "12345".to_owned(),
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&malformed), ["account_number"]);
    assert_eq!(reason(&malformed), "");
}

#[tokio::test]
async fn lookups_are_rate_limited_per_caller_failed_ones_included() {
    let bank = spawn_bank_with(Options {
        lookup_limit: LookupLimitConfig {
            per_minute: 3,
            per_day: 100,
        },
        ..Options::default()
    })
    .await;
    let jane = bank.member().await;
    let john = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let lookup = |token: String, number: String| {
        let mut client = bank.accounts.clone();
        async move {
            client
                .lookup_account(bearer(pb::LookupAccountRequest { account_number: number }, &token))
                .await
        }
    };
    // Two misses and a hit use up the minute.
    for number in [
        unknown_account_number(),
        unknown_account_number(),
        account.account_number.clone(),
    ] {
        let _ = lookup(john.token.clone(), number).await;
    }
    let limited = lookup(john.token.clone(), account.account_number.clone())
        .await
        .unwrap_err();
    assert_eq!(limited.code(), Code::ResourceExhausted);
    assert_eq!(reason(&limited), "LOOKUP_RATE_LIMITED");
    let retry = limited
        .get_error_details()
        .retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo");
    assert!(retry > Duration::ZERO && retry <= Duration::from_secs(60), "{retry:?}");
    // Jane's budget is her own.
    lookup(jane.token.clone(), account.account_number.clone())
        .await
        .unwrap();
}

#[tokio::test]
async fn closed_and_system_accounts_cannot_be_looked_up() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.accounts
        .clone()
        .close_account(bearer(
            pb::CloseAccountRequest {
                account_id: account.account_id.clone(),
                reason: "done".to_owned(),
            },
            &admin.token,
        ))
        .await
        .unwrap();
    let system = bank
        .accounts
        .clone()
        .list_all_accounts(bearer(
            pb::ListAllAccountsRequest {
                types: vec![pb::AccountType::System as i32],
                ..Default::default()
            },
            &admin.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .accounts;
    assert_eq!(system.len(), 8, "four system kinds in USD and EUR");
    for number in [account.account_number.clone(), system[0].account_number.clone()] {
        let result = bank
            .accounts
            .clone()
            .lookup_account(bearer(pb::LookupAccountRequest { account_number: number }, &jane.token))
            .await;
        assert_status(result, Code::NotFound, "ACCOUNT_NOT_FOUND");
    }
}

#[tokio::test]
async fn admins_list_every_account_with_filters_and_pages() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let jane = bank.member().await;
    let john = bank.member().await;
    let j1 = bank.open(&jane, "USD").await;
    let j2 = bank
        .try_open(&jane, &new_request_id(), pb::AccountType::Savings, "EUR")
        .await
        .unwrap();
    let o1 = bank.open(&john, "USD").await;
    let mut client = bank.accounts.clone();
    let list = |request: pb::ListAllAccountsRequest| {
        let mut client = client.clone();
        let token = admin.token.clone();
        async move {
            client
                .list_all_accounts(bearer(request, &token))
                .await
                .map(|r| r.into_inner())
        }
    };
    let janes = list(pb::ListAllAccountsRequest {
        owner_user_id: jane.user_id.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let ids: Vec<_> = janes.accounts.iter().map(|a| a.account_id.clone()).collect();
    assert_eq!(ids, [j2.account_id.clone(), j1.account_id.clone()], "newest first");
    let usd_checking = list(pb::ListAllAccountsRequest {
        types: vec![pb::AccountType::Checking as i32],
        currency: "USD".to_owned(),
        ..Default::default()
    })
    .await
    .unwrap();
    let ids: Vec<_> = usd_checking.accounts.iter().map(|a| a.account_id.clone()).collect();
    assert_eq!(ids, [o1.account_id.clone(), j1.account_id.clone()]);
    let by_number = list(pb::ListAllAccountsRequest {
        account_number: o1.account_number.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(by_number.accounts, std::slice::from_ref(&o1));

    // Everything, one page of two at a time: 3 member + 8 system accounts.
    let mut seen = 0;
    let mut page_token = String::new();
    loop {
        let page = list(pb::ListAllAccountsRequest {
            page_size: 2,
            page_token: page_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
        seen += page.accounts.len();
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, 11);

    let bad = list(pb::ListAllAccountsRequest {
        page_size: 501,
        owner_user_id: "nope".to_owned(),
        types: vec![0],
        currency: "usd".to_owned(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(
        crate::helpers::violations(&bad),
        ["owner_user_id", "types[0]", "currency", "page_size"]
    );
    let denied = client
        .list_all_accounts(bearer(pb::ListAllAccountsRequest::default(), &jane.token))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn opening_while_the_ledger_is_down_heals_on_retry_with_the_same_request_id() {
    let mut bank = spawn_bank().await;
    let jane = bank.member().await;
    bank.stop_transfer().await;
    let request_id = new_request_id();
    let down = bank
        .try_open(&jane, &request_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    // The half-opened account is invisible until its ledger account exists.
    let listed = bank
        .accounts
        .clone()
        .list_accounts(bearer(pb::ListAccountsRequest::default(), &jane.token))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.accounts.is_empty());

    bank.restart_transfer().await;
    let healed = bank
        .try_open(&jane, &request_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap();
    assert_eq!(
        bank.balance(&jane, &healed.account_id).await,
        0,
        "the ledger account exists"
    );
    assert_eq!(bank.get(&jane, &healed.account_id).await.unwrap(), healed);
    let again = bank
        .try_open(&jane, &request_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap();
    assert_eq!(again, healed);
    assert_eq!(
        bank.count(&format!(
            "SELECT count(*) AS n FROM account.accounts WHERE owner_user_id = '{}'",
            jane.user_id
        ))
        .await,
        1,
        "one account, however many attempts"
    );
}
