use bank_proto::bank::account::v1 as pb;
use tonic::Code;

use crate::helpers::{assert_status, metadata, reason, spawn_bank, unknown_account_number};

#[tokio::test]
async fn transfer_checks_access_and_resolves_numbers() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let john = bank.member().await;
    let from = bank.open(&jane, "USD").await;
    let to = bank.open(&john, "USD").await;
    let mut internal = bank.internal_as("transfer").await;
    let check = |destination| pb::CheckTransferAccessRequest {
        user_id: jane.user_id.clone(),
        from_account_id: from.account_id.clone(),
        destination: Some(destination),
    };
    use pb::check_transfer_access_request::Destination;
    let by_number = internal
        .check_transfer_access(check(Destination::ToAccountNumber(to.account_number.clone())))
        .await
        .unwrap()
        .into_inner();
    assert!(by_number.caller_owns_source);
    let source = by_number.source.unwrap();
    let destination = by_number.destination.unwrap();
    assert_eq!(source.owner_user_id, jane.user_id);
    assert_eq!(source.ledger_account_id, from.account_id);
    assert_eq!(destination.account_id, to.account_id);
    assert_eq!(destination.status, pb::AccountStatus::Open as i32);

    let not_owner = internal
        .check_transfer_access(pb::CheckTransferAccessRequest {
            user_id: john.user_id.clone(),
            ..check(Destination::ToAccountId(to.account_id.clone()))
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!not_owner.caller_owns_source);

    let missing = internal
        .check_transfer_access(check(Destination::ToAccountNumber(unknown_account_number())))
        .await;
    let status = assert_status(missing, Code::NotFound, "ACCOUNT_NOT_FOUND");
    assert_eq!(metadata(&status, "field").as_deref(), Some("to_account_number"));
    let mut typo = to.account_number.clone().into_bytes();
    typo[0] = if typo[0] == b'9' { b'1' } else { typo[0] + 1 };
    let typo = internal
        .check_transfer_access(check(Destination::ToAccountNumber(String::from_utf8(typo).unwrap())))
        .await;
    assert_status(typo, Code::InvalidArgument, "INVALID_CHECK_DIGIT");

    let resolved = internal
        .resolve_account_number(pb::ResolveAccountNumberRequest {
            account_number: to.account_number.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(resolved.account_id, to.account_id);
}

#[tokio::test]
async fn account_facts_come_in_batches_with_the_missing_listed() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let a = bank.open(&jane, "USD").await;
    let b = bank.open(&jane, "EUR").await;
    let unknown_id = uuid::Uuid::new_v4().to_string();
    let unknown_number = unknown_account_number();
    for workload in ["transfer", "finance", "analytics"] {
        let facts = bank
            .internal_as(workload)
            .await
            .batch_get_account_facts(pb::BatchGetAccountFactsRequest {
                account_ids: vec![a.account_id.clone(), unknown_id.clone()],
                account_numbers: vec![b.account_number.clone(), unknown_number.clone()],
            })
            .await
            .unwrap()
            .into_inner();
        let mut ids: Vec<_> = facts.accounts.iter().map(|f| f.account_id.clone()).collect();
        ids.sort();
        let mut expected = vec![a.account_id.clone(), b.account_id.clone()];
        expected.sort();
        assert_eq!(ids, expected, "{workload}");
        assert_eq!(facts.missing_account_ids, std::slice::from_ref(&unknown_id));
        assert_eq!(facts.missing_account_numbers, std::slice::from_ref(&unknown_number));
    }
    let too_many = bank
        .internal_as("transfer")
        .await
        .batch_get_account_facts(pb::BatchGetAccountFactsRequest {
            account_ids: vec![a.account_id.clone(); 2_001],
            account_numbers: Vec::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn only_allowed_workloads_reach_each_internal_rpc() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let resolve = pb::ResolveAccountNumberRequest {
        account_number: account.account_number.clone(),
    };
    // The gateway and unknown workloads reach nothing.
    for workload in ["gateway", "auth"] {
        let mut client = bank.internal_as(workload).await;
        let denied = client
            .batch_get_account_facts(pb::BatchGetAccountFactsRequest {
                account_ids: vec![account.account_id.clone()],
                account_numbers: Vec::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{workload}");
    }
    // Finance and analytics read facts but do not resolve numbers or check access.
    for workload in ["finance", "analytics"] {
        let mut client = bank.internal_as(workload).await;
        let denied = client.resolve_account_number(resolve.clone()).await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{workload}");
        let denied = client
            .check_transfer_access(pb::CheckTransferAccessRequest {
                user_id: jane.user_id.clone(),
                from_account_id: account.account_id.clone(),
                destination: Some(pb::check_transfer_access_request::Destination::ToAccountId(
                    account.account_id.clone(),
                )),
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{workload}");
        assert_eq!(reason(&denied), "CALLER_NOT_ALLOWED");
    }
}
