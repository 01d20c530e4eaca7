//! Malformed JSON, unknown fields, wrong types, bad enum names, bad path
//! variables, misplaced query parameters: all BadRequest (400) with a
//! violation naming the field, never a panic.

use bank_transcode::TranscodeError;

use crate::support::{build, transcoder, violated_field, violations};

const DEPOSIT: &str = "/v1/accounts/acc-1:deposit";

#[test]
fn malformed_json() {
    for body in [
        "{",
        r#"{"requestId":"#,
        r#"{"requestId":"x",}"#,
        "{} {}",
        "{}x",
        "nul",
        r#"{"requestId":"\ud800"}"#,
        "\u{feff}{}",
        "'single'",
    ] {
        let v = violations(build("POST", DEPOSIT, body));
        assert_eq!(v.len(), 1, "{body}: {v:?}");
        assert!(v[0].1.contains("JSON") || v[0].1.contains("invalid"), "{body}: {v:?}");
    }
    // Not UTF-8.
    let m = transcoder().match_route("POST", DEPOSIT).unwrap();
    let e = transcoder()
        .build_request(&m, None, b"{\"requestId\":\"\xff\"}", None)
        .unwrap_err();
    assert_eq!(e.http_status(), 400);
}

#[test]
fn the_body_must_be_an_object_for_body_star() {
    for body in ["[]", "\"x\"", "1", "null", "true"] {
        let e = build("POST", DEPOSIT, body).unwrap_err();
        assert_eq!(e.http_status(), 400, "{body}");
    }
}

#[test]
fn unknown_fields_are_rejected_with_their_path() {
    assert_eq!(violated_field(build("POST", DEPOSIT, r#"{"nope":1}"#)), "nope");
    assert_eq!(
        violated_field(build("POST", DEPOSIT, r#"{"amount":{"cents":1}}"#)),
        "amount.cents"
    );
    assert_eq!(
        violated_field(build("PATCH", "/v1/profile", r#"{"nickname":"x"}"#)),
        "profile.nickname"
    );
    let v = violations(build("POST", DEPOSIT, r#"{"requestId":"r","surprise":true}"#));
    assert_eq!(v[0].1, "unknown field");
}

#[test]
fn wrong_types_name_the_field() {
    let cases = [
        (r#"{"amount":{"amountMinor":"abc"}}"#, "amount.amount_minor"),
        (r#"{"amount":{"amountMinor":1.5}}"#, "amount.amount_minor"),
        (
            r#"{"amount":{"amountMinor":"99999999999999999999"}}"#,
            "amount.amount_minor",
        ),
        (r#"{"description":{}}"#, "description"),
        (r#"{"description":[]}"#, "description"),
        (r#"{"requestId":5}"#, "request_id"),
        (r#"{"amount":"EUR 5"}"#, "amount"),
        (r#"{"amount":[]}"#, "amount"),
    ];
    for (body, field) in cases {
        assert_eq!(violated_field(build("POST", DEPOSIT, body)), field, "{body}");
    }
    assert_eq!(
        violated_field(build(
            "POST",
            "/v1/admin/financing-options",
            r#"{"financingOption":{"minTermMonths":"twelve"}}"#
        )),
        "financing_option.min_term_months"
    );
    assert_eq!(
        violated_field(build(
            "POST",
            "/v1/admin/financing-options",
            r#"{"financing_option":{"active":"yes"}}"#
        )),
        "financing_option.active"
    );
}

#[test]
fn bad_enum_names() {
    let v = violations(build(
        "POST",
        "/v1/admin/financing-options",
        r#"{"financingOption":{"productType":"PRODUCT_TYPE_YACHT"}}"#,
    ));
    assert_eq!(v[0].0, "financing_option.product_type");
    let v = violations(build("GET", "/v1/transfers?statuses=TRANSFER_STATUS_LOST", ""));
    assert_eq!(v[0].0, "statuses");
    assert!(
        v[0].1.contains("TRANSFER_STATUS_POSTED"),
        "lists the valid names: {v:?}"
    );
    assert_eq!(violated_field(build("GET", "/v1/admin/users?role=admin", "")), "role");
}

#[test]
fn path_variables_that_do_not_parse_are_400_and_strings_pass_through() {
    assert_eq!(
        violated_field(build("GET", "/v1/accounts/acc-1/statements/20x4/3", "")),
        "period.year"
    );
    assert_eq!(
        violated_field(build("GET", "/v1/accounts/acc-1/statements/2024/99999999999", "")),
        "period.month"
    );
    // Not a UUID: the service's job, the transcoder passes strings through.
    assert!(build("GET", "/v1/accounts/not-a-uuid", "").is_ok());
}

#[test]
fn a_body_on_a_route_without_one() {
    let v = violations(build("GET", "/v1/accounts", "{}"));
    assert!(v[0].1.contains("no request body"), "{v:?}");
    assert!(build("DELETE", "/v1/admin/users/u/roles/ROLE_ADMIN", r#"{"x":1}"#).is_err());
    assert!(build("GET", "/v1/accounts", " \r\n").is_ok());
}

#[test]
fn query_parameters_that_are_unknown_or_bound_elsewhere() {
    let cases = [
        ("GET", "/v1/accounts?foo=1", "", "foo"),
        ("GET", "/v1/accounts/acc-1?accountId=acc-2", "", "accountId"),
        ("GET", "/v1/accounts/acc-1?account_id=acc-2", "", "account_id"),
        (
            "GET",
            "/v1/accounts/a/statements/2024/3?period.year=2023",
            "",
            "period.year",
        ),
        ("POST", "/v1/accounts/acc-1:deposit?description=x", "{}", "description"),
        ("PATCH", "/v1/profile?profile.phone=1", "{}", "profile.phone"),
        ("PATCH", "/v1/profile?profile=1", "{}", "profile"),
        ("GET", "/v1/analytics/spending?startMonth=2024", "", "startMonth"),
        ("GET", "/v1/analytics/spending?startMonth.day=1", "", "startMonth.day"),
        ("GET", "/v1/accounts?pageSize=1&pageSize=2", "", "page_size"),
        ("GET", "/v1/accounts?pageSize=ten", "", "page_size"),
        ("GET", "/v1/accounts?=1", "", ""),
        ("GET", "/v1/transfers?startTime=yesterday", "", "start_time"),
        ("GET", "/v1/accounts?%FF=1", "", "%FF"),
        ("GET", "/v1/accounts?a.b.c.d.e.f.g.h.i=1", "", "a.b.c.d.e.f.g.h.i"),
    ];
    for (method, path, body, field) in cases {
        assert_eq!(violated_field(build(method, path, body)), field, "{method} {path}");
    }
    // Empty pairs are ignored.
    assert!(build("GET", "/v1/accounts?&&pageSize=1&", "").is_ok());
}

#[test]
fn too_many_query_parameters_and_too_deep_json() {
    let query: Vec<String> = (0..100).map(|i| format!("currency=E{i}")).collect();
    let e = build("GET", &format!("/v1/admin/accounts?{}", query.join("&")), "").unwrap_err();
    assert_eq!(e.http_status(), 400);

    let deep = format!("{{\"amount\":{}{}}}", "[".repeat(200), "]".repeat(200));
    let v = violations(build("POST", DEPOSIT, &deep));
    assert!(v[0].1.contains("nested deeper"), "{v:?}");
    // Even deeper than serde_json's own limit, in a thread with a small stack.
    let deepest = "{\"a\":".repeat(100_000);
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || assert!(build("POST", DEPOSIT, &deepest).is_err()))
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn violations_are_capped_and_summarized() {
    let query: Vec<String> = (0..60).map(|i| format!("nope{i}=1")).collect();
    let e = build("GET", &format!("/v1/accounts?{}", query.join("&")), "").unwrap_err();
    match &e {
        TranscodeError::BadRequest { message, violations } => {
            assert_eq!(violations.len(), bank_transcode::FIELD_VIOLATIONS_MAX);
            assert!(message.contains("more"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let body: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
    assert_eq!(body["code"], 3);
    assert_eq!(body["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
    assert_eq!(body["details"][0]["fieldViolations"][0]["field"], "nope0");
}
