//! Every public RPC is reachable over REST, every route matches its own
//! example path, and the router tells 404 from 405.

use bank_transcode::TranscodeError;
use prost_reflect::ReflectMessage;

use crate::support::{example_path, transcoder};

#[test]
fn every_public_rpc_has_a_route_and_no_internal_one_does() {
    let t = transcoder();
    let mut public = 0;
    for service in t.pool().services() {
        let internal = service.name().ends_with("InternalService");
        for method in service.methods() {
            let routed = t.routes().any(|r| r.rpc() == method.full_name());
            if internal {
                assert!(!routed, "{} is internal but routed", method.full_name());
            } else if service.package_name().starts_with("bank.") {
                public += 1;
                assert!(routed, "{} has no REST route", method.full_name());
            }
        }
    }
    assert!(
        public >= 50,
        "only {public} public RPCs found: is the descriptor set complete?"
    );
}

#[test]
fn every_route_matches_its_example_path_with_its_variables() {
    let t = transcoder();
    let mut count = 0;
    for route in t.routes() {
        let (path, expected) = example_path(route);
        let m = t
            .match_route(route.http_method(), &path)
            .unwrap_or_else(|e| panic!("{} {path}: {e}", route.http_method()));
        assert_eq!(m.route().rpc(), route.rpc(), "{} {path}", route.http_method());
        assert_eq!(m.route().path_template(), route.path_template(), "{path}");
        let got: Vec<(String, String)> = m.variables().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        assert_eq!(got, expected, "{path}");
        assert_eq!(
            m.route().grpc_path(),
            format!(
                "/{}/{}",
                route.method().parent_service().full_name(),
                route.method().name()
            )
        );
        count += 1;
    }
    assert!(count >= 60, "{count} routes");
}

#[test]
fn every_route_builds_a_request_from_its_path_alone_and_renders_an_empty_response() {
    let t = transcoder();
    for route in t.routes() {
        let (path, _) = example_path(route);
        let m = t.match_route(route.http_method(), &path).unwrap();
        let request = t
            .build_request(&m, None, b"", None)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(request.descriptor(), route.method().input());
        let json = t.render_response_bytes(&m, b"").unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert!(value.is_object() || route.response_body().is_some(), "{path}: {value}");
    }
}

#[test]
fn additional_bindings_reach_the_same_rpc() {
    let t = transcoder();
    for (a, b) in [
        ("/v1/accounts/a-1", "/v1/admin/accounts/a-1"),
        ("/v1/transfers/t-1", "/v1/admin/transfers/t-1"),
        ("/v1/accounts/a-1/balance", "/v1/admin/accounts/a-1/balance"),
        ("/v1/loan-applications/x", "/v1/admin/loan-applications/x"),
        (
            "/v1/accounts/a/statements/2024/3",
            "/v1/admin/accounts/a/statements/2024/3",
        ),
        ("/v1/auth/jwks", "/.well-known/jwks.json"),
        ("/v1/transfers", "/v1/accounts/a-1/transfers"),
        ("/v1/transfers", "/v1/admin/transfers"),
    ] {
        let ma = t.match_route("GET", a).unwrap();
        let mb = t.match_route("GET", b).unwrap();
        assert_eq!(ma.route().rpc(), mb.route().rpc(), "{a} vs {b}");
        assert!(mb.route().is_additional_binding(), "{b}");
        assert!(!ma.route().is_additional_binding(), "{a}");
    }
}

#[test]
fn custom_verbs_are_their_own_routes() {
    let t = transcoder();
    let cases = [
        (
            "POST",
            "/v1/transfers/t-1:post",
            "bank.transfer.v1.TransferService.PostPendingTransfer",
        ),
        (
            "POST",
            "/v1/transfers/t-1:void",
            "bank.transfer.v1.TransferService.VoidPendingTransfer",
        ),
        (
            "POST",
            "/v1/transfers:batchCreate",
            "bank.transfer.v1.TransferService.CreateTransfers",
        ),
        (
            "POST",
            "/v1/transfers",
            "bank.transfer.v1.TransferService.CreateTransfer",
        ),
        (
            "GET",
            "/v1/accounts:lookup",
            "bank.account.v1.AccountService.LookupAccount",
        ),
        ("GET", "/v1/accounts", "bank.account.v1.AccountService.ListAccounts"),
        (
            "POST",
            "/v1/accounts/a-1:deposit",
            "bank.transfer.v1.TransferService.Deposit",
        ),
        (
            "GET",
            "/v1/admin/ledger:checkIntegrity",
            "bank.transfer.v1.TransferService.CheckIntegrity",
        ),
        (
            "GET",
            "/v1/accounts/a-1/statements:export",
            "bank.account.v1.AccountService.ExportStatement",
        ),
        // A ':' inside an id is the id's, when no verb route claims the suffix.
        (
            "GET",
            "/v1/transfers/t:1",
            "bank.transfer.v1.TransferService.GetTransfer",
        ),
    ];
    for (method, path, rpc) in cases {
        assert_eq!(
            t.match_route(method, path).unwrap().route().rpc(),
            rpc,
            "{method} {path}"
        );
    }
    let m = t.match_route("POST", "/v1/transfers/a:b:post").unwrap();
    assert_eq!(m.variables().collect::<Vec<_>>(), vec![("transfer_id", "a:b")]);
}

#[test]
fn path_variables_are_percent_decoded() {
    let m = transcoder()
        .match_route("GET", "/v1/accounts/a%20b%2Fc%E2%82%AC")
        .unwrap();
    assert_eq!(m.variables().collect::<Vec<_>>(), vec![("account_id", "a b/c€")]);
}

#[test]
fn unknown_paths_are_404_and_known_paths_with_other_methods_405() {
    let t = transcoder();
    for path in [
        "/v1/nope",
        "/v2/accounts",
        "/",
        "",
        "v1/accounts",
        "/v1/accounts/",
        "/v1/accounts//cards",
        "/v1/accounts/a/cards/b/c",
        "/v1/accounts:nope",
        "/v1/bank.account.v1.AccountInternalService/GetAccountFacts",
    ] {
        match t.match_route("GET", path) {
            Err(e @ TranscodeError::NotFound { .. }) => {
                assert_eq!(e.http_status(), 404);
                let body: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
                assert_eq!(body["code"], 5);
                assert_eq!(body["details"][0]["reason"], "ROUTE_NOT_FOUND");
            }
            other => panic!("GET {path}: expected 404, got {other:?}"),
        }
    }
    let long = "/v1".repeat(500);
    assert!(matches!(
        t.match_route("GET", &long),
        Err(TranscodeError::NotFound { .. })
    ));

    let e = t.match_route("DELETE", "/v1/accounts").unwrap_err();
    assert_eq!(e.http_status(), 405);
    assert_eq!(e.allow_header().as_deref(), Some("GET, POST"));
    let e = t.match_route("GET", "/v1/transfers/t-1:post").unwrap_err();
    assert_eq!(e.allow_header().as_deref(), Some("POST"));
    let e = t.match_route("PUT", "/v1/profile").unwrap_err();
    assert_eq!(e.allow_header().as_deref(), Some("GET, PATCH"));
    let body: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
    assert_eq!(body["code"], 12);
    assert_eq!(body["details"][0]["reason"], "METHOD_NOT_ALLOWED");
    assert!(matches!(
        t.match_route("get", "/v1/accounts"),
        Err(TranscodeError::MethodNotAllowed { .. })
    ));
}

#[test]
fn a_path_variable_that_is_not_utf8_is_a_bad_request() {
    let e = transcoder().match_route("GET", "/v1/accounts/%FF%FE").unwrap_err();
    assert_eq!(e.http_status(), 400);
    match e {
        TranscodeError::BadRequest { violations, .. } => assert_eq!(violations[0].field, "account_id"),
        other => panic!("{other:?}"),
    }
}
