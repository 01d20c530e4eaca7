//! One build_request test per annotation form used in proto/: body "*",
//! body field, path variables (nested too), custom verbs, additional
//! bindings, GET with query parameters (repeated, nested, enum, timestamp),
//! and the Idempotency-Key header.

use bank_proto::bank::{account, analytics, auth, finance, transfer};
use prost_types::Timestamp;

use crate::support::{build, build_as, build_with_key, violated_field};

#[test]
fn body_star_with_a_path_variable() {
    let r: transfer::v1::DepositRequest = build_as(
        "POST",
        "/v1/accounts/acc-1:deposit",
        r#"{"requestId":"r-1","amount":{"amountMinor":"1500","currency":"EUR"},"description":"cash"}"#,
    );
    assert_eq!(r.request_id, "r-1");
    assert_eq!(r.account_id, "acc-1");
    let amount = r.amount.unwrap();
    assert_eq!((amount.amount_minor, amount.currency.as_str()), (1500, "EUR"));
    assert_eq!(r.description, "cash");
}

#[test]
fn original_snake_case_names_and_numbers_for_int64_are_accepted() {
    let r: transfer::v1::DepositRequest = build_as(
        "POST",
        "/v1/accounts/acc-1:deposit",
        r#"{"request_id":"r-1","amount":{"amount_minor":1500,"currency":"EUR"}}"#,
    );
    assert_eq!(r.amount.unwrap().amount_minor, 1500);
}

#[test]
fn int64_strings_keep_every_digit() {
    let r: transfer::v1::DepositRequest = build_as(
        "POST",
        "/v1/accounts/acc-1:deposit",
        r#"{"amount":{"amountMinor":"9223372036854775807","currency":"EUR"}}"#,
    );
    assert_eq!(r.amount.unwrap().amount_minor, i64::MAX);
    let r: transfer::v1::DepositRequest = build_as(
        "POST",
        "/v1/accounts/acc-1:deposit",
        r#"{"amount":{"amountMinor":"-9007199254740993","currency":"EUR"}}"#,
    );
    assert_eq!(r.amount.unwrap().amount_minor, -9_007_199_254_740_993);
}

#[test]
fn a_path_variable_may_repeat_the_bodys_value_but_not_contradict_it() {
    let r: transfer::v1::DepositRequest = build_as("POST", "/v1/accounts/acc-1:deposit", r#"{"accountId":"acc-1"}"#);
    assert_eq!(r.account_id, "acc-1");
    let field = violated_field(build("POST", "/v1/accounts/acc-1:deposit", r#"{"accountId":"acc-2"}"#));
    assert_eq!(field, "account_id");
}

#[test]
fn an_empty_body_is_an_empty_message() {
    let r: auth::v1::LogoutRequest = build_as("POST", "/v1/auth/logout", "");
    assert_eq!(r, auth::v1::LogoutRequest::default());
    let r: transfer::v1::PostPendingTransferRequest = build_as("POST", "/v1/transfers/t-1:post", "  \n");
    assert_eq!(r.transfer_id, "t-1");
}

#[test]
fn oneof_in_the_body() {
    let r: transfer::v1::CreateTransferRequest = build_as(
        "POST",
        "/v1/transfers",
        r#"{"requestId":"r","fromAccountId":"a","toAccountNumber":"NL00BANK0123","amount":{"amountMinor":"1","currency":"EUR"}}"#,
    );
    assert_eq!(
        r.destination,
        Some(transfer::v1::create_transfer_request::Destination::ToAccountNumber(
            "NL00BANK0123".into()
        ))
    );
    let v = crate::support::violations(build(
        "POST",
        "/v1/transfers",
        r#"{"toAccountId":"a","toAccountNumber":"b"}"#,
    ));
    assert!(v[0].1.contains("oneof"), "{v:?}");
}

#[test]
fn repeated_messages_in_the_body() {
    let r: transfer::v1::CreateTransfersRequest = build_as(
        "POST",
        "/v1/transfers:batchCreate",
        r#"{"transfers":[
            {"requestId":"a","fromAccountId":"x","toAccountId":"y","amount":{"amountMinor":"5","currency":"EUR"}},
            {"requestId":"b","fromAccountId":"y","toAccountId":"x","amount":{"amountMinor":"6","currency":"EUR"},"linked":true}
        ]}"#,
    );
    assert_eq!(r.transfers.len(), 2);
    assert!(r.transfers[1].linked);
    let field = violated_field(build(
        "POST",
        "/v1/transfers:batchCreate",
        r#"{"transfers":[{"requestId":"a"},{"amount":{"amountMinor":"six"}}]}"#,
    ));
    assert_eq!(field, "transfers[1].amount.amount_minor");
}

#[test]
fn body_field_with_a_field_mask_query_parameter() {
    let r: account::v1::UpdateProfileRequest = build_as(
        "PATCH",
        "/v1/profile?updateMask=fullName,phone",
        r#"{"fullName":"Ada Lovelace","phone":"+441234567890"}"#,
    );
    let profile = r.profile.unwrap();
    assert_eq!(profile.full_name, "Ada Lovelace");
    assert_eq!(profile.phone, "+441234567890");
    assert_eq!(r.update_mask.unwrap().paths, vec!["full_name", "phone"]);
    let r: account::v1::UpdateProfileRequest = build_as("PATCH", "/v1/profile?update_mask=phone", r#"{"phone":"+44"}"#);
    assert_eq!(r.update_mask.unwrap().paths, vec!["phone"]);
}

#[test]
fn body_field_with_a_nested_path_variable_inside_it() {
    let r: finance::v1::UpdateFinancingOptionRequest = build_as(
        "PATCH",
        "/v1/admin/financing-options/opt-9?updateMask=name,annualRateBps",
        r#"{"name":"Car loan","annualRateBps":450,"productType":"PRODUCT_TYPE_AUTO"}"#,
    );
    let option = r.financing_option.unwrap();
    assert_eq!(option.option_id, "opt-9");
    assert_eq!(option.name, "Car loan");
    assert_eq!(option.annual_rate_bps, 450);
    assert_eq!(option.product_type, finance::v1::ProductType::Auto as i32);
    assert_eq!(r.update_mask.unwrap().paths, vec!["name", "annual_rate_bps"]);
    // The body may name the same id, not another one.
    assert!(build("PATCH", "/v1/admin/financing-options/opt-9", r#"{"optionId":"opt-9"}"#).is_ok());
    let field = violated_field(build(
        "PATCH",
        "/v1/admin/financing-options/opt-9",
        r#"{"optionId":"opt-8"}"#,
    ));
    assert_eq!(field, "financing_option.option_id");
}

#[test]
fn nested_path_variables_are_typed() {
    for path in [
        "/v1/accounts/acc-1/statements/2024/3",
        "/v1/admin/accounts/acc-1/statements/2024/03",
    ] {
        let r: account::v1::GetStatementRequest = build_as("GET", path, "");
        assert_eq!(r.account_id, "acc-1");
        let period = r.period.unwrap();
        assert_eq!((period.year, period.month), (2024, 3), "{path}");
    }
}

#[test]
fn enum_path_variables_by_name_or_number() {
    let r: auth::v1::RevokeRoleRequest = build_as("DELETE", "/v1/admin/users/u-1/roles/ROLE_ADMIN", "");
    assert_eq!((r.user_id.as_str(), r.role), ("u-1", auth::v1::Role::Admin as i32));
    let r: auth::v1::RevokeRoleRequest = build_as("DELETE", "/v1/admin/users/u-1/roles/1", "");
    assert_eq!(r.role, auth::v1::Role::Member as i32);
    assert_eq!(
        violated_field(build("DELETE", "/v1/admin/users/u-1/roles/ROLE_KING", "")),
        "role"
    );
    assert_eq!(
        violated_field(build("DELETE", "/v1/admin/users/u-1/roles/99", "")),
        "role"
    );
}

#[test]
fn custom_verb_get_with_a_query_parameter() {
    let r: account::v1::LookupAccountRequest = build_as("GET", "/v1/accounts:lookup?accountNumber=NL91%20BANK", "");
    assert_eq!(r.account_number, "NL91 BANK");
    let r: account::v1::LookupAccountRequest = build_as("GET", "/v1/accounts:lookup?account_number=NL91+BANK", "");
    assert_eq!(r.account_number, "NL91 BANK");
}

#[test]
fn get_with_repeated_enum_timestamp_and_int_query_parameters() {
    let r: transfer::v1::ListTransfersRequest = build_as(
        "GET",
        "/v1/transfers?statuses=TRANSFER_STATUS_POSTED&statuses=5&kinds=TRANSFER_KIND_DEPOSIT\
         &startTime=2024-01-01T00:00:00Z&end_time=2024-02-01T00:00:00.5%2B01:00&pageSize=50&page_token=abc",
        "",
    );
    assert_eq!(
        r.statuses,
        vec![
            transfer::v1::TransferStatus::Posted as i32,
            transfer::v1::TransferStatus::Declined as i32
        ]
    );
    assert_eq!(r.kinds, vec![transfer::v1::TransferKind::Deposit as i32]);
    assert_eq!(
        r.start_time,
        Some(Timestamp {
            seconds: 1_704_067_200,
            nanos: 0
        })
    );
    assert_eq!(
        r.end_time,
        Some(Timestamp {
            seconds: 1_706_742_000,
            nanos: 500_000_000
        })
    );
    assert_eq!(r.page_size, 50);
    assert_eq!(r.page_token, "abc");
    // An unencoded '+' of an offset arrives as a space; it is taken back.
    let r: transfer::v1::ListTransfersRequest =
        build_as("GET", "/v1/transfers?startTime=2024-01-01T01:00:00+01:00", "");
    assert_eq!(
        r.start_time,
        Some(Timestamp {
            seconds: 1_704_067_200,
            nanos: 0
        })
    );
}

#[test]
fn additional_binding_with_a_path_variable_and_query_parameters() {
    let r: transfer::v1::ListTransfersRequest = build_as(
        "GET",
        "/v1/accounts/acc-1/transfers?kinds=TRANSFER_KIND_WITHDRAWAL&pageSize=10",
        "",
    );
    assert_eq!(r.account_id, "acc-1");
    assert_eq!(r.kinds, vec![transfer::v1::TransferKind::Withdrawal as i32]);
    let r: transfer::v1::ListTransfersRequest = build_as("GET", "/v1/admin/transfers?accountId=acc-2", "");
    assert_eq!(r.account_id, "acc-2");
}

#[test]
fn nested_query_parameters_with_dotted_names() {
    let r: analytics::v1::GetMySpendingRequest = build_as(
        "GET",
        "/v1/analytics/spending?startMonth.year=2024&start_month.month=1&endMonth.year=2024&end_month.month=6",
        "",
    );
    let (start, end) = (r.start_month.unwrap(), r.end_month.unwrap());
    assert_eq!((start.year, start.month, end.year, end.month), (2024, 1, 2024, 6));
}

#[test]
fn enum_and_bool_and_repeated_query_parameters() {
    let r: auth::v1::ListUsersRequest = build_as("GET", "/v1/admin/users?role=ROLE_ADMIN&emailContains=%40bank", "");
    assert_eq!(r.role, auth::v1::Role::Admin as i32);
    assert_eq!(r.email_contains, "@bank");
    let r: account::v1::ListAllAccountsRequest = build_as(
        "GET",
        "/v1/admin/accounts?types=ACCOUNT_TYPE_CHECKING&types=ACCOUNT_TYPE_SAVINGS&statuses=ACCOUNT_STATUS_OPEN&currency=EUR",
        "",
    );
    assert_eq!(r.types.len(), 2);
    assert_eq!(r.statuses.len(), 1);
    assert_eq!(r.currency, "EUR");
    let r: finance::v1::ListFinancingOptionsRequest =
        build_as("GET", "/v1/financing-options?includeInactive=true&pageSize=5", "");
    assert!(r.include_inactive);
}

#[test]
fn streaming_get_with_path_and_timestamp_query() {
    let r: account::v1::ExportStatementRequest = build_as(
        "GET",
        "/v1/accounts/acc-1/statements:export?startTime=2024-01-01T00:00:00Z",
        "",
    );
    assert_eq!(r.account_id, "acc-1");
    assert_eq!(r.start_time.unwrap().seconds, 1_704_067_200);
    let r: analytics::v1::WatchEventsRequest = build_as(
        "GET",
        "/v1/admin/analytics/events:watch?eventTypes=EVENT_TYPE_TRANSFER_POSTED&replayLast=10",
        "",
    );
    assert_eq!(r.replay_last, 10);
    assert_eq!(r.event_types.len(), 1);
}

#[test]
fn idempotency_key_fills_an_empty_request_id() {
    let body = r#"{"fromAccountId":"a","toAccountId":"b","amount":{"amountMinor":"1","currency":"EUR"}}"#;
    let m = build_with_key("POST", "/v1/transfers", body, Some("key-123")).unwrap();
    let r: transfer::v1::CreateTransferRequest =
        prost::Message::decode(prost::Message::encode_to_vec(&m).as_slice()).unwrap();
    assert_eq!(r.request_id, "key-123");

    let same = r#"{"requestId":"key-123","fromAccountId":"a"}"#;
    assert!(build_with_key("POST", "/v1/transfers", same, Some("key-123")).is_ok());
    let other = r#"{"requestId":"key-999","fromAccountId":"a"}"#;
    assert_eq!(
        violated_field(build_with_key("POST", "/v1/transfers", other, Some("key-123"))),
        "request_id"
    );
    // Methods without a request_id ignore the header.
    assert!(build_with_key("POST", "/v1/auth/login", r#"{"email":"a@b.c"}"#, Some("k")).is_ok());
    // Also on routes whose request id comes with a path variable.
    let m = build_with_key("POST", "/v1/accounts/acc-1/cards", "{}", Some("card-key")).unwrap();
    let r: account::v1::IssueCardRequest =
        prost::Message::decode(prost::Message::encode_to_vec(&m).as_slice()).unwrap();
    assert_eq!((r.request_id.as_str(), r.account_id.as_str()), ("card-key", "acc-1"));
}
