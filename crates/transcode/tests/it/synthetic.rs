//! Forms the bank protos don't use yet (response_body, `**`, a variable
//! with a pattern, a custom HTTP method) and contracts the transcoder must
//! refuse at start-up, on a synthetic file appended to the bank descriptors.

use bank_transcode::{Error, TranscodeError};
use serde_json::{Value, json};

use crate::support::synthetic;

fn field(name: &str, number: u32, label: &str, ty: &str) -> Value {
    json!({"name": name, "number": number, "label": label, "type": ty})
}

fn message_field(name: &str, number: u32, label: &str, type_name: &str) -> Value {
    json!({"name": name, "number": number, "label": label, "type": "TYPE_MESSAGE", "typeName": type_name})
}

/// A file with the test messages and one service holding `methods`.
fn file(service: &str, methods: Value) -> Value {
    json!({
        "name": "test/v1/test.proto",
        "package": "test.v1",
        "dependency": ["google/api/annotations.proto", "google/protobuf/timestamp.proto"],
        "syntax": "proto3",
        "messageType": [
            {"name": "Item", "field": [
                field("name", 1, "LABEL_OPTIONAL", "TYPE_STRING"),
                field("size_bytes", 2, "LABEL_OPTIONAL", "TYPE_INT64"),
                field("tags", 3, "LABEL_REPEATED", "TYPE_STRING"),
            ]},
            {"name": "GetRequest", "field": [
                field("name", 1, "LABEL_OPTIONAL", "TYPE_STRING"),
                field("ids", 2, "LABEL_REPEATED", "TYPE_STRING"),
                message_field("item", 3, "LABEL_OPTIONAL", ".test.v1.Item"),
                message_field("since", 4, "LABEL_OPTIONAL", ".google.protobuf.Timestamp"),
                field("ratio", 5, "LABEL_OPTIONAL", "TYPE_DOUBLE"),
                field("blob", 6, "LABEL_OPTIONAL", "TYPE_BYTES"),
                field("count", 7, "LABEL_OPTIONAL", "TYPE_UINT64"),
            ]},
            {"name": "GetResponse", "field": [
                message_field("items", 1, "LABEL_REPEATED", ".test.v1.Item"),
                field("next_page_token", 2, "LABEL_OPTIONAL", "TYPE_STRING"),
            ]},
        ],
        "service": [{"name": service, "method": methods}],
    })
}

fn method(name: &str, rule: Value) -> Value {
    json!({
        "name": name,
        "inputType": ".test.v1.GetRequest",
        "outputType": ".test.v1.GetResponse",
        "options": {"[google.api.http]": rule},
    })
}

#[test]
fn response_body_multi_segment_variables_and_custom_methods() {
    let t = synthetic(file(
        "TestService",
        json!([
            method(
                "GetThings",
                json!({"get": "/v1/{name=things/**}", "responseBody": "items"})
            ),
            method("GetShelf", json!({"get": "/v1/{name=shelves/*/books/*}:read"})),
            method(
                "Search",
                json!({"custom": {"kind": "SEARCH", "path": "/v1/search"}, "body": "item"})
            ),
            method("Anything", json!({"get": "/v2/*/{item.name}/**"})),
        ]),
    ))
    .unwrap();

    let m = t.match_route("GET", "/v1/things/a/b%2Fc/d").unwrap();
    assert_eq!(m.variables().collect::<Vec<_>>(), vec![("name", "things/a/b%2Fc/d")]);
    let request = t
        .build_request(&m, Some("ids=1&ids=2&item.sizeBytes=7&ratio=0.5&blob=AQID&count=18446744073709551615&since=2024-01-01T00:00:00Z"), b"", None)
        .unwrap();
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(
        json,
        json!({"name": "things/a/b%2Fc/d", "ids": ["1", "2"], "item": {"sizeBytes": "7"}, "ratio": 0.5,
               "blob": "AQID", "count": "18446744073709551615", "since": "2024-01-01T00:00:00Z"})
    );
    let response = prost_reflect::DynamicMessage::deserialize(
        m.method().output(),
        json!({"items": [{"name": "x", "sizeBytes": "3"}], "nextPageToken": "n"}),
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&t.render_response(&m, &response).unwrap()).unwrap();
    assert_eq!(
        body,
        json!([{"name": "x", "sizeBytes": "3", "tags": []}]),
        "response_body renders only that field"
    );
    assert_eq!(m.route().response_body(), Some("items"));

    let m = t.match_route("GET", "/v1/shelves/s1/books/b%20two:read").unwrap();
    assert_eq!(
        m.variables().collect::<Vec<_>>(),
        vec![("name", "shelves/s1/books/b two")]
    );
    assert!(t.match_route("GET", "/v1/shelves/s1/books:read").is_err());

    let m = t.match_route("SEARCH", "/v1/search").unwrap();
    let request = t
        .build_request(&m, Some("name=q"), br#"{"name":"n","tags":["a"]}"#, None)
        .unwrap();
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"name": "q", "item": {"name": "n", "tags": ["a"]}})
    );
    assert_eq!(
        t.match_route("GET", "/v1/search")
            .unwrap_err()
            .allow_header()
            .as_deref(),
        Some("SEARCH")
    );

    let m = t.match_route("GET", "/v2/x/nm/and/more").unwrap();
    assert_eq!(m.variables().collect::<Vec<_>>(), vec![("item.name", "nm")]);
    let m = t.match_route("GET", "/v2/x/nm").unwrap();
    assert_eq!(m.route().rpc(), "test.v1.TestService.Anything");

    let doc = t.openapi();
    assert!(doc["paths"]["/v1/{name}"]["get"].is_object());
    assert!(doc["paths"]["/v1/{name}:read"]["get"].is_object());
    assert!(doc["paths"]["/v1/search"]["search"].is_object());
    assert_eq!(
        doc["paths"]["/v1/{name}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["type"],
        "array"
    );
    // Bad values for the other scalar kinds.
    let m = t.match_route("GET", "/v1/things/a").unwrap();
    for query in [
        "ratio=half",
        "blob=%%%",
        "count=-1",
        "item.sizeBytes=1e3",
        "item.tags=x&item.tags=y&item=1",
    ] {
        let e = t.build_request(&m, Some(query), b"", None).unwrap_err();
        assert!(matches!(e, TranscodeError::BadRequest { .. }), "{query}");
    }
}

#[test]
fn internal_services_are_never_routed_even_with_rules() {
    let t = synthetic(file(
        "TestInternalService",
        json!([method("GetThings", json!({"get": "/v1/internal/{name}"}))]),
    ))
    .unwrap();
    assert!(t.match_route("GET", "/v1/internal/x").is_err());
    assert!(t.routes().all(|r| !r.rpc().starts_with("test.v1.")));
}

fn build_error(methods: Value) -> Error {
    match synthetic(file("TestService", methods)) {
        Ok(_) => panic!("expected a build error"),
        Err(e) => e,
    }
}

#[test]
fn ambiguous_routes_are_refused_at_start_up() {
    let e = build_error(json!([
        method("A", json!({"get": "/v1/x/{name}"})),
        method("B", json!({"get": "/v1/x/{ids}", "additionalBindings": []})),
    ]));
    // `ids` is repeated, so that one fails first; use a singular field.
    assert!(matches!(e, Error::InvalidRule { .. }), "{e}");
    let e = build_error(json!([
        method("A", json!({"get": "/v1/x/{name}"})),
        method("B", json!({"get": "/v1/x/{item.name}"})),
    ]));
    assert!(matches!(e, Error::AmbiguousRoute { .. }), "{e}");
    // Clashing with a bank route.
    let e = build_error(json!([method("A", json!({"post": "/v1/transfers"}))]));
    assert!(e.to_string().contains("CreateTransfer"), "{e}");
    // Same path, different methods: fine.
    assert!(
        synthetic(file(
            "TestService",
            json!([
                method("A", json!({"get": "/v1/x/{name}"})),
                method("B", json!({"delete": "/v1/x/{name}"})),
            ])
        ))
        .is_ok()
    );
}

#[test]
fn malformed_rules_are_refused_at_start_up() {
    let cases = [
        json!({"get": "/v1/{nope}"}),
        json!({"get": "/v1/{item}"}),
        json!({"get": "/v1/{ids}"}),
        json!({"get": "/v1/{name.more}"}),
        json!({"get": "v1/x"}),
        json!({"get": "/v1/**/x"}),
        json!({"get": "/v1/x", "body": "nope"}),
        json!({"get": "/v1/x", "responseBody": "nope"}),
        json!({"get": "/v1/{name}", "body": "name"}),
        json!({"body": "*"}),
        json!({"custom": {"kind": "BAD KIND", "path": "/v1/x"}}),
        json!({"get": "/v1/x", "additionalBindings": [{"get": "/v1/y", "additionalBindings": [{"get": "/v1/z"}]}]}),
    ];
    for rule in cases {
        let e = build_error(json!([method("A", rule.clone())]));
        assert!(matches!(e, Error::InvalidRule { .. }), "{rule}: {e}");
        assert!(e.to_string().contains("test.v1.TestService.A"), "{e}");
    }
    let streaming = json!([{
        "name": "Upload",
        "inputType": ".test.v1.GetRequest",
        "outputType": ".test.v1.GetResponse",
        "clientStreaming": true,
        "options": {"[google.api.http]": {"post": "/v1/upload", "body": "*"}},
    }]);
    assert!(matches!(build_error(streaming), Error::InvalidRule { .. }));
}
