//! Responses as proto3 JSON (camelCase, int64 strings, enum names, defaults
//! emitted), NDJSON stream lines, gRPC -> HTTP status, error bodies.

use bank_proto::bank::{account, transfer};
use bank_proto::google::rpc;
use bank_transcode::{retry_after_secs, status_to_http};
use prost::Message;
use serde_json::{Value, json};

use crate::support::{matched, transcoder};

fn render<T: Message>(method: &str, path: &str, response: &T) -> Value {
    let m = matched(method, path);
    let bytes = transcoder()
        .render_response_bytes(&m, &response.encode_to_vec())
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn money(amount_minor: i64) -> Option<bank_proto::bank::common::v1::Money> {
    Some(bank_proto::bank::common::v1::Money {
        amount_minor,
        currency: "EUR".into(),
    })
}

#[test]
fn camel_case_names_int64_strings_and_timestamps() {
    let response = transfer::v1::GetBalanceResponse {
        balance: Some(transfer::v1::Balance {
            account_id: "acc-1".into(),
            currency: "EUR".into(),
            available: money(9_007_199_254_740_993),
            posted: money(0),
            read_time: Some(prost_types::Timestamp {
                seconds: 1_704_067_200,
                nanos: 0,
            }),
            ..Default::default()
        }),
    };
    let json = render("GET", "/v1/accounts/acc-1/balance", &response);
    let balance = &json["balance"];
    assert_eq!(balance["accountId"], "acc-1");
    assert_eq!(balance["available"]["amountMinor"], "9007199254740993");
    assert_eq!(balance["readTime"], "2024-01-01T00:00:00Z");
    // Defaults of fields without presence are emitted; unset messages are not.
    assert_eq!(balance["posted"], json!({"amountMinor": "0", "currency": "EUR"}));
    assert!(balance.get("pendingDebits").is_none());
    assert!(balance.get("account_id").is_none());
}

#[test]
fn int64_round_trips_through_json_both_ways() {
    for value in [0, 1, -1, i64::MAX, i64::MIN, 9_007_199_254_740_993] {
        let body = format!(r#"{{"amount":{{"amountMinor":"{value}","currency":"EUR"}}}}"#);
        let m = matched("POST", "/v1/accounts/a:deposit");
        let request = transcoder().build_request(&m, None, body.as_bytes(), None).unwrap();
        let decoded = transfer::v1::DepositRequest::decode(request.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded.amount.clone().unwrap().amount_minor, value);
        let json = render(
            "GET",
            "/v1/accounts/a/balance",
            &transfer::v1::GetBalanceResponse {
                balance: Some(transfer::v1::Balance {
                    available: decoded.amount,
                    ..Default::default()
                }),
            },
        );
        assert_eq!(json["balance"]["available"]["amountMinor"], value.to_string());
    }
}

#[test]
fn enums_by_name_and_empty_lists_present() {
    let response = account::v1::ListAccountsResponse {
        accounts: vec![account::v1::Account {
            account_id: "a".into(),
            r#type: account::v1::AccountType::Savings as i32,
            status: account::v1::AccountStatus::Frozen as i32,
            ..Default::default()
        }],
        next_page_token: String::new(),
    };
    let json = render("GET", "/v1/accounts", &response);
    assert_eq!(json["accounts"][0]["type"], "ACCOUNT_TYPE_SAVINGS");
    assert_eq!(json["accounts"][0]["status"], "ACCOUNT_STATUS_FROZEN");
    assert_eq!(json["nextPageToken"], "");
    let empty = render("GET", "/v1/accounts", &account::v1::ListAccountsResponse::default());
    assert_eq!(empty["accounts"], json!([]));
}

#[test]
fn a_response_that_does_not_decode_is_a_render_error() {
    let m = matched("GET", "/v1/accounts");
    let e = transcoder().render_response_bytes(&m, &[0xff, 0xff, 0xff]).unwrap_err();
    assert_eq!(e.http_status(), 500);
    let body: Value = serde_json::from_slice(&e.to_json()).unwrap();
    assert_eq!(body["code"], 13);
}

#[test]
fn stream_messages_are_one_line_each_and_never_have_an_error_field() {
    let entry = account::v1::ExportStatementResponse {
        item: Some(account::v1::export_statement_response::Item::Trailer(Default::default())),
    };
    let m = matched("GET", "/v1/accounts/a/statements:export");
    assert!(m.route().is_server_streaming());
    let line = transcoder().render_stream_message(&m, &entry.encode_to_vec()).unwrap();
    assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
    assert_eq!(line.last(), Some(&b'\n'));
    let json: Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(
        json.as_object().unwrap().len(),
        1,
        "only the chosen oneof member: {json}"
    );
    assert!(json.get("trailer").is_some());

    for route in transcoder().routes().filter(|r| r.is_server_streaming()) {
        let output = route.method().output();
        assert!(
            output.fields().all(|f| f.json_name() != "error" && f.name() != "error"),
            "{} has an `error` field; NDJSON error lines would be ambiguous",
            output.full_name()
        );
    }
    let line = transcoder().stream_error_line(14, "backend gone", &[]);
    let json: Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(
        json,
        json!({"error": {"code": 14, "message": "backend gone", "details": []}})
    );
}

#[test]
fn grpc_codes_map_to_http_statuses_per_code_proto() {
    let expected = [
        (0, 200),
        (1, 499),
        (2, 500),
        (3, 400),
        (4, 504),
        (5, 404),
        (6, 409),
        (7, 403),
        (8, 429),
        (9, 400),
        (10, 409),
        (11, 400),
        (12, 501),
        (13, 500),
        (14, 503),
        (15, 500),
        (16, 401),
        (17, 500),
        (-1, 500),
    ];
    for (code, http) in expected {
        assert_eq!(status_to_http(code), http, "code {code}");
    }
}

fn any<T: Message>(type_name: &str, message: &T) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/{type_name}"),
        value: message.encode_to_vec(),
    }
}

#[test]
fn error_bodies_carry_the_details_with_their_types() {
    let status = rpc::Status {
        code: 3,
        message: "ignored: the call's own message wins".into(),
        details: vec![
            any(
                "google.rpc.BadRequest",
                &rpc::BadRequest {
                    field_violations: vec![rpc::bad_request::FieldViolation {
                        field: "amount.amount_minor".into(),
                        description: "must be positive".into(),
                        ..Default::default()
                    }],
                },
            ),
            any(
                "google.rpc.ErrorInfo",
                &rpc::ErrorInfo {
                    reason: "INSUFFICIENT_FUNDS".into(),
                    domain: "bank.local".into(),
                    metadata: [("available_minor".to_owned(), "5".to_owned())].into(),
                },
            ),
            prost_types::Any {
                type_url: "type.googleapis.com/acme.Unknown".into(),
                value: vec![1, 2, 3],
            },
        ],
    };
    let body = transcoder().error_body(3, "invalid request: amount", &status.encode_to_vec());
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["code"], 3);
    assert_eq!(json["message"], "invalid request: amount");
    let details = json["details"].as_array().unwrap();
    assert_eq!(details[0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
    assert_eq!(details[0]["fieldViolations"][0]["field"], "amount.amount_minor");
    assert_eq!(details[1]["reason"], "INSUFFICIENT_FUNDS");
    assert_eq!(details[1]["metadata"]["available_minor"], "5");
    assert_eq!(
        details[2],
        json!({"@type": "type.googleapis.com/acme.Unknown", "value": "AQID"})
    );

    // No or garbage details: still a Status.
    for bin in [&b""[..], &[0xff, 0x01][..]] {
        let json: Value = serde_json::from_slice(&transcoder().error_body(14, "down", bin)).unwrap();
        assert_eq!(json, json!({"code": 14, "message": "down", "details": []}));
    }
}

#[test]
fn retry_after_comes_from_retry_info() {
    let status = |seconds: i64, nanos: i32| {
        rpc::Status {
            code: 8,
            message: String::new(),
            details: vec![
                any("google.rpc.ErrorInfo", &rpc::ErrorInfo::default()),
                any(
                    "google.rpc.RetryInfo",
                    &rpc::RetryInfo {
                        retry_delay: Some(prost_types::Duration { seconds, nanos }),
                    },
                ),
            ],
        }
        .encode_to_vec()
    };
    assert_eq!(retry_after_secs(&status(30, 0)), Some(30));
    assert_eq!(retry_after_secs(&status(1, 200_000_000)), Some(2));
    assert_eq!(retry_after_secs(&status(0, 1)), Some(1));
    assert_eq!(retry_after_secs(&status(-5, 0)), Some(0));
    assert_eq!(
        retry_after_secs(&status(i64::MAX, 0)),
        Some(bank_transcode::RETRY_AFTER_MAX_SECS)
    );
    assert_eq!(retry_after_secs(&[]), None);
    assert_eq!(retry_after_secs(&[0xff]), None);
    let no_retry = rpc::Status {
        code: 8,
        message: String::new(),
        details: vec![any("google.rpc.ErrorInfo", &rpc::ErrorInfo::default())],
    };
    assert_eq!(retry_after_secs(&no_retry.encode_to_vec()), None);
}

#[test]
fn values_proto3_json_cannot_express_are_render_errors_not_panics() {
    let response = transfer::v1::GetBalanceResponse {
        balance: Some(transfer::v1::Balance {
            read_time: Some(prost_types::Timestamp {
                seconds: i64::MAX,
                nanos: 0,
            }),
            ..Default::default()
        }),
    };
    let m = matched("GET", "/v1/accounts/a/balance");
    let e = transcoder()
        .render_response_bytes(&m, &response.encode_to_vec())
        .unwrap_err();
    assert_eq!(e.http_status(), 500);
}

#[test]
fn transcoder_and_matches_cross_threads() {
    fn send_sync_static<T: Send + Sync + 'static>() {}
    send_sync_static::<bank_transcode::Transcoder>();
    send_sync_static::<bank_transcode::RouteMatch>();
    send_sync_static::<bank_transcode::TranscodeError>();
}
