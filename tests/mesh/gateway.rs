//! The gateway: one public port for native gRPC, grpc-web and REST/JSON,
//! driven by the descriptor set; internal services refused in every
//! protocol; bad input answered with 4xx and a google.rpc.Status body;
//! edge policy (request ids, security headers, rate limit, CORS, body
//! limit, fast 503 for a dead backend, deadlines per route for unary calls
//! and server streams).

use std::time::{Duration, Instant};

use bank_mesh_tests::TestMesh;
use bank_mesh_tests::clients::{MEMBER_PASSWORD, bearer};
use bank_proto::bank::account::v1 as account;
use bank_proto::bank::account::v1::account_service_client::AccountServiceClient;
use bank_proto::bank::auth::v1 as auth;
use bank_proto::bank::auth::v1::auth_internal_service_client::AuthInternalServiceClient;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as transfer;
use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tonic::Code;

fn unique_email() -> String {
    format!("gw.{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// What a member flow ends with, comparable across protocols.
#[derive(Debug, PartialEq, Eq)]
struct FlowOutcome {
    roles: Vec<String>,
    account_type: String,
    deposit_kind: String,
    transfer_status: String,
    sender_posted: i64,
    receiver_posted: i64,
}

fn usd(minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: "USD".to_owned(),
    })
}

async fn flow_grpc<T>(
    mut auth_client: AuthServiceClient<T>,
    mut accounts: AccountServiceClient<T>,
    mut transfers: TransferServiceClient<T>,
) -> FlowOutcome
where
    T: tonic::client::GrpcService<tonic::body::Body> + Clone,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let mut tokens = Vec::new();
    let mut roles = Vec::new();
    for _ in 0..2 {
        let email = unique_email();
        let user = auth_client
            .sign_up(auth::SignUpRequest {
                email: email.clone(),
                password: MEMBER_PASSWORD.to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        roles = user
            .roles
            .iter()
            .map(|r| auth::Role::try_from(*r).unwrap().as_str_name().to_owned())
            .collect();
        let login = auth_client
            .login(auth::LoginRequest {
                email,
                password: MEMBER_PASSWORD.to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        tokens.push(login.tokens.unwrap().access_token);
    }
    let mut ids = Vec::new();
    let mut account_type = String::new();
    for token in &tokens {
        let opened = accounts
            .open_account(bearer(
                account::OpenAccountRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    r#type: account::AccountType::Checking as i32,
                    currency: "USD".to_owned(),
                    display_name: String::new(),
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap();
        account_type = account::AccountType::try_from(opened.r#type)
            .unwrap()
            .as_str_name()
            .to_owned();
        ids.push(opened.account_id);
    }
    let deposit = transfers
        .deposit(bearer(
            transfer::DepositRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                account_id: ids[0].clone(),
                amount: usd(10_000),
                description: "cash".to_owned(),
            },
            &tokens[0],
        ))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    let sent = transfers
        .create_transfer(bearer(
            transfer::CreateTransferRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                from_account_id: ids[0].clone(),
                destination: Some(transfer::create_transfer_request::Destination::ToAccountId(
                    ids[1].clone(),
                )),
                amount: usd(2_500),
                description: "rent".to_owned(),
                reference: String::new(),
            },
            &tokens[0],
        ))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    let mut posted = Vec::new();
    for (id, token) in ids.iter().zip(&tokens) {
        let balance = transfers
            .get_balance(bearer(transfer::GetBalanceRequest { account_id: id.clone() }, token))
            .await
            .unwrap()
            .into_inner()
            .balance
            .unwrap();
        posted.push(balance.posted.unwrap().amount_minor);
    }
    FlowOutcome {
        roles,
        account_type,
        deposit_kind: transfer::TransferKind::try_from(deposit.kind)
            .unwrap()
            .as_str_name()
            .to_owned(),
        transfer_status: transfer::TransferStatus::try_from(sent.status)
            .unwrap()
            .as_str_name()
            .to_owned(),
        sender_posted: posted[0],
        receiver_posted: posted[1],
    }
}

fn minor(value: &Value) -> i64 {
    // int64 travels as a JSON string in proto3 JSON.
    value.as_str().and_then(|s| s.parse().ok()).unwrap_or(-1)
}

async fn flow_rest(mesh: &TestMesh) -> FlowOutcome {
    let mut tokens = Vec::new();
    let mut roles = Vec::new();
    for _ in 0..2 {
        let email = unique_email();
        let signup = mesh
            .rest(
                Method::POST,
                "/v1/auth/signup",
                Some(json!({"email": email, "password": MEMBER_PASSWORD})),
                None,
            )
            .await;
        assert_eq!(signup.status, StatusCode::OK, "{:?}", signup.json);
        roles = signup.json["user"]["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect();
        let login = mesh
            .rest(
                Method::POST,
                "/v1/auth/login",
                Some(json!({"email": email, "password": MEMBER_PASSWORD})),
                None,
            )
            .await;
        assert_eq!(login.status, StatusCode::OK);
        tokens.push(login.json["tokens"]["accessToken"].as_str().unwrap().to_owned());
    }
    let mut ids = Vec::new();
    let mut account_type = String::new();
    for token in &tokens {
        // snake_case field names are accepted too.
        let opened = mesh
            .rest(
                Method::POST,
                "/v1/accounts",
                Some(json!({"request_id": uuid::Uuid::new_v4().to_string(), "type": "ACCOUNT_TYPE_CHECKING", "currency": "USD"})),
                Some(token),
            )
            .await;
        assert_eq!(opened.status, StatusCode::OK, "{:?}", opened.json);
        account_type = opened.json["account"]["type"].as_str().unwrap().to_owned();
        ids.push(opened.json["account"]["accountId"].as_str().unwrap().to_owned());
    }
    let deposit = mesh
        .rest(
            Method::POST,
            &format!("/v1/accounts/{}:deposit", ids[0]),
            Some(json!({"requestId": uuid::Uuid::new_v4().to_string(), "amount": {"amountMinor": "10000", "currency": "USD"}, "description": "cash"})),
            Some(&tokens[0]),
        )
        .await;
    assert_eq!(deposit.status, StatusCode::OK, "{:?}", deposit.json);
    let sent = mesh
        .rest(
            Method::POST,
            "/v1/transfers",
            Some(json!({
                "requestId": uuid::Uuid::new_v4().to_string(),
                "fromAccountId": ids[0],
                "toAccountId": ids[1],
                // Numbers are accepted for int64 as well as strings.
                "amount": {"amountMinor": 2500, "currency": "USD"},
                "description": "rent"
            })),
            Some(&tokens[0]),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.json);
    let mut posted = Vec::new();
    for (id, token) in ids.iter().zip(&tokens) {
        let balance = mesh
            .rest(Method::GET, &format!("/v1/accounts/{id}/balance"), None, Some(token))
            .await;
        assert_eq!(balance.status, StatusCode::OK);
        posted.push(minor(&balance.json["balance"]["posted"]["amountMinor"]));
    }
    FlowOutcome {
        roles,
        account_type,
        deposit_kind: deposit.json["transfer"]["kind"].as_str().unwrap().to_owned(),
        transfer_status: sent.json["transfer"]["status"].as_str().unwrap().to_owned(),
        sender_posted: posted[0],
        receiver_posted: posted[1],
    }
}

#[tokio::test]
async fn the_member_flow_is_identical_over_rest_grpc_web_and_grpc() {
    let mesh = TestMesh::start().await;
    let channel = mesh.gateway_channel().await;
    let grpc = flow_grpc(
        AuthServiceClient::new(channel.clone()),
        AccountServiceClient::new(channel.clone()),
        TransferServiceClient::new(channel),
    )
    .await;
    let (web, origin) = mesh.grpc_web();
    let grpc_web = flow_grpc(
        AuthServiceClient::with_origin(web.clone(), origin.clone()),
        AccountServiceClient::with_origin(web.clone(), origin.clone()),
        TransferServiceClient::with_origin(web, origin),
    )
    .await;
    let rest = flow_rest(&mesh).await;
    let expected = FlowOutcome {
        roles: vec!["ROLE_MEMBER".to_owned()],
        account_type: "ACCOUNT_TYPE_CHECKING".to_owned(),
        deposit_kind: "TRANSFER_KIND_DEPOSIT".to_owned(),
        transfer_status: "TRANSFER_STATUS_POSTED".to_owned(),
        sender_posted: 7_500,
        receiver_posted: 2_500,
    };
    assert_eq!(grpc, expected);
    assert_eq!(grpc_web, expected);
    assert_eq!(rest, expected);
    assert!(mesh.integrity().await.consistent);
    mesh.stop().await;
}

fn example_path(route: &bank_transcode::Route) -> String {
    let input = route.method().input();
    let mut path = String::new();
    let mut rest = route.path_template();
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let close = rest[open..].find('}').map(|c| open + c).unwrap_or(rest.len() - 1);
        let var = &rest[open + 1..close];
        let (field_path, pattern) = var.split_once('=').unwrap_or((var, "*"));
        let mut message = input.clone();
        let mut kind = None;
        for name in field_path.split('.') {
            let field = message.get_field_by_name(name).expect("template names a field");
            kind = Some(field.kind());
            if let prost_reflect::Kind::Message(m) = field.kind() {
                message = m;
            }
        }
        let value = match kind {
            Some(prost_reflect::Kind::Int32 | prost_reflect::Kind::Int64 | prost_reflect::Kind::Uint32) => {
                if field_path.ends_with("month") {
                    "1".to_owned()
                } else {
                    "2026".to_owned()
                }
            }
            Some(prost_reflect::Kind::Enum(e)) => e.values().nth(1).map_or("1".to_owned(), |v| v.name().to_owned()),
            _ if pattern.contains("**") => "a/b".to_owned(),
            _ => uuid::Uuid::new_v4().to_string(),
        };
        path.push_str(&value);
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    path
}

#[tokio::test]
async fn every_public_rpc_is_reachable_over_rest() {
    let mesh = TestMesh::start().await;
    let transcoder = bank_transcode::Transcoder::from_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET).unwrap();
    let (_, token) = mesh.member().await;
    let mut rpcs = std::collections::HashSet::new();
    for route in transcoder.routes() {
        let path = example_path(route);
        let method = Method::from_bytes(route.http_method().as_bytes()).unwrap();
        let body = (route.body().is_some()).then(|| json!({}));
        let reply = mesh.rest(method.clone(), &path, body, Some(&token)).await;
        let reason = reply.json["details"][0]["reason"].as_str().unwrap_or("");
        assert!(
            reason != "ROUTE_NOT_FOUND" && reply.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} did not reach {}: {:?}",
            route.rpc(),
            reply.json
        );
        assert!(
            reply.json["code"].is_number() || reply.status == StatusCode::OK,
            "{method} {path}: {:?}",
            reply.raw
        );
        assert!(
            !reply.status.is_server_error(),
            "{method} {path} -> {} {:?}",
            reply.status,
            reply.json
        );
        rpcs.insert(route.rpc().to_owned());
    }
    // Every public RPC of every service has a route.
    let pool = transcoder.pool();
    for service in pool
        .services()
        .filter(|s| s.full_name().starts_with("bank.") && !s.name().ends_with("InternalService"))
    {
        for method in service.methods() {
            assert!(
                rpcs.contains(method.full_name()),
                "{} has no REST route",
                method.full_name()
            );
        }
    }
    mesh.stop().await;
}

#[tokio::test]
async fn bad_rest_input_gets_a_4xx_with_a_status_body() {
    let mesh = TestMesh::start().await;
    let (_, token) = mesh.member().await;
    let auth_header = format!("Bearer {token}");
    let headers = [("authorization", auth_header.as_str())];
    let statement = format!("/v1/accounts/{}/statements/abc/13", uuid::Uuid::new_v4());
    let cases: Vec<(Method, &str, Vec<u8>, StatusCode)> = vec![
        (
            Method::POST,
            "/v1/auth/signup",
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/auth/signup",
            br#"{"email":"a@b.co","password":"x","evil":1}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/auth/signup",
            br#"{"email":["list"]}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/transfers",
            br#"{"amount":{"amountMinor":"ten"}}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (Method::GET, "/v1/no/such/route", Vec::new(), StatusCode::NOT_FOUND),
        (
            Method::DELETE,
            "/v1/auth/signup",
            Vec::new(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (Method::GET, &statement, Vec::new(), StatusCode::BAD_REQUEST),
        (
            Method::POST,
            "/v1/auth/login",
            vec![b'['; 100_000],
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/auth/login",
            vec![b' '; 2 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            Method::GET,
            "/v1/accounts?pageSize=abc",
            Vec::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/accounts?noSuchParam=1",
            Vec::new(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, path, body, expected) in cases {
        let reply = mesh.rest_raw(method.clone(), path, body, &headers).await;
        assert_eq!(reply.status, expected, "{method} {path}: {:?}", reply.json);
        assert!(
            reply.json["code"].is_number(),
            "{method} {path}: a google.rpc.Status body, got {:?}",
            reply.raw
        );
        assert!(reply.json["message"].is_string());
    }
    // A service-side refusal keeps its details and maps to its HTTP status.
    let weak = mesh
        .rest(
            Method::POST,
            "/v1/auth/signup",
            Some(json!({"email": "bad", "password": "x"})),
            None,
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        weak.json["details"][0]["@type"],
        "type.googleapis.com/google.rpc.BadRequest"
    );
    let unauthenticated = mesh.rest(Method::GET, "/v1/auth/me", None, None).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unauthenticated.json["details"][0]["reason"], "TOKEN_MISSING");
    mesh.stop().await;
}

#[tokio::test]
async fn random_rest_requests_never_get_a_server_error() {
    let mesh = TestMesh::start().await;
    let (_, token) = mesh.member().await;
    let auth_header = format!("Bearer {token}");
    let transcoder = bank_transcode::Transcoder::from_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET).unwrap();
    let templates: Vec<String> = transcoder.routes().map(example_path).collect();
    // xorshift: deterministic, so a failure replays.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let methods = [Method::GET, Method::POST, Method::PATCH, Method::DELETE, Method::PUT];
    let fragments = [
        "",
        "x",
        "%00",
        "..",
        "%ZZ",
        "{}",
        "a:b",
        "🙂",
        "%2F%2F",
        "9999999999999999999999",
    ];
    let bodies: [&[u8]; 8] = [
        b"",
        b"{}",
        b"null",
        b"[1,2,3]",
        br#"{"requestId":"r","amount":{"amountMinor":"-1","currency":"usd"}}"#,
        br#"{"email":"a@b.co","password":"correct horse battery staple"}"#,
        b"\xff\xfe\x00garbage",
        br#"{"pageSize":-5,"pageToken":"!!!"}"#,
    ];
    for i in 0..400 {
        let r = next();
        let method = methods[usize::try_from(r % 5).unwrap()].clone();
        let base = &templates[usize::try_from((r >> 8) % u64::try_from(templates.len()).unwrap()).unwrap()];
        let fragment = fragments[usize::try_from((r >> 16) % 10).unwrap()];
        let path = match (r >> 24) % 4 {
            0 => base.clone(),
            1 => format!("{base}{fragment}"),
            2 => base.replacen('/', &format!("/{fragment}"), 2),
            _ => format!("{base}?{fragment}={fragment}&pageSize={}", r % 2000),
        };
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        let mut body = bodies[usize::try_from((r >> 32) % 8).unwrap()].to_vec();
        if (r >> 40) % 5 == 0 {
            body = (0..(r % 300)).map(|_| u8::try_from(next() % 256).unwrap()).collect();
        }
        let headers = if i % 2 == 0 {
            vec![("authorization", auth_header.as_str())]
        } else {
            Vec::new()
        };
        let valid_uri = http::Uri::try_from(format!("{}{path}", mesh.gateway_url())).is_ok();
        if !valid_uri {
            continue;
        }
        let reply = mesh.rest_raw(method.clone(), &path, body, &headers).await;
        assert!(
            !reply.status.is_server_error(),
            "#{i} {method} {path} -> {} {:?}",
            reply.status,
            reply.raw
        );
    }
    mesh.stop().await;
}

#[tokio::test]
async fn internal_services_are_refused_in_every_protocol() {
    let mesh = TestMesh::start().await;
    let (user_id, _) = mesh.member().await;
    let request = || auth::GetUserRequest {
        user_id: user_id.clone(),
    };
    let native = AuthInternalServiceClient::new(mesh.gateway_channel().await)
        .get_user(request())
        .await
        .expect_err("native gRPC");
    assert_eq!(native.code(), Code::PermissionDenied);
    let (web, origin) = mesh.grpc_web();
    let grpc_web = AuthInternalServiceClient::with_origin(web, origin)
        .get_user(request())
        .await
        .expect_err("grpc-web");
    assert_eq!(grpc_web.code(), Code::PermissionDenied);
    let rest = mesh
        .rest(
            Method::POST,
            "/bank.auth.v1.AuthInternalService/GetUser",
            Some(json!({"userId": user_id})),
            None,
        )
        .await;
    assert_eq!(rest.status, StatusCode::NOT_FOUND);
    let openapi = mesh.rest(Method::GET, "/openapi.json", None, None).await;
    for (path, operations) in openapi.json["paths"].as_object().unwrap() {
        for (verb, operation) in operations.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or("");
            assert!(!id.contains("InternalService"), "{verb} {path} documents {id}");
        }
    }
    mesh.stop().await;
}

#[tokio::test]
async fn reflection_at_the_gateway_lists_every_public_service() {
    use futures::StreamExt as _;
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    let mesh = TestMesh::start().await;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = ServerReflectionClient::new(mesh.gateway_channel().await)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) = stream.next().await.unwrap().unwrap().message_response
    else {
        panic!("no list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    let expected = bank_gateway::public_services(bank_proto::FILE_DESCRIPTOR_SET).unwrap();
    for service in &expected {
        assert!(names.contains(service), "{service} listed: {names:?}");
    }
    assert!(names.iter().all(|n| !n.ends_with("InternalService")));
    // And a call made only from what reflection told: the gateway forwards it.
    let jwks = AuthServiceClient::new(mesh.gateway_channel().await)
        .get_jwks(auth::GetJwksRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(jwks.keys.len(), 1);
    mesh.stop().await;
}

#[tokio::test]
async fn openapi_lists_every_route_and_validates() {
    let mesh = TestMesh::start().await;
    let reply = mesh.rest(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let transcoder = bank_transcode::Transcoder::from_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET).unwrap();
    for route in transcoder.routes() {
        let path = route.openapi_path();
        let operation = &doc["paths"][&path][route.http_method().to_lowercase()];
        assert!(operation.is_object(), "{} {path} documented", route.http_method());
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &reply.raw).unwrap();
    bank_mesh_tests::validate_openapi(file.path());
    let docs = mesh.rest(Method::GET, "/docs", None, None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&docs.raw).contains("openapi.json"));
    mesh.stop().await;
}

#[tokio::test]
async fn request_ids_security_headers_and_idempotency_keys() {
    let mesh = TestMesh::start().await;
    let (_, token) = mesh.member().await;
    let opened = mesh.open_account(&token, "USD").await;
    let auth_header = format!("Bearer {token}");
    let chosen = mesh
        .rest_raw(
            Method::GET,
            "/v1/auth/me",
            Vec::new(),
            &[("authorization", &auth_header), ("x-request-id", "trace-me-42")],
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK);
    assert_eq!(chosen.headers["x-request-id"], "trace-me-42");
    let generated = mesh.rest(Method::GET, "/v1/auth/me", None, Some(&token)).await;
    assert_eq!(generated.headers["x-request-id"].len(), 36);
    for header in [
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "cache-control",
        "content-security-policy",
    ] {
        assert!(generated.headers.contains_key(header), "{header}");
    }
    // Idempotency-Key fills an empty requestId: a retry deposits once.
    let body = serde_json::to_vec(&json!({"amount": {"amountMinor": "700", "currency": "USD"}})).unwrap();
    let path = format!("/v1/accounts/{}:deposit", opened.account_id);
    let headers = [
        ("authorization", auth_header.as_str()),
        ("idempotency-key", "deposit-once-1"),
    ];
    let first = mesh.rest_raw(Method::POST, &path, body.clone(), &headers).await;
    let second = mesh.rest_raw(Method::POST, &path, body, &headers).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    assert_eq!(
        first.json["transfer"]["transferId"],
        second.json["transfer"]["transferId"]
    );
    assert_eq!(first.json["transfer"]["requestId"], "deposit-once-1");
    assert_eq!(mesh.posted(&token, &opened.account_id).await, 700);
    mesh.stop().await;
}

mod alone {
    //! The gateway started on its own, to test edge policy without a mesh.
    use super::*;
    use bank_config::{LogFormat, PeerUrls, RedisConfig, SecretString};
    use bank_testkit::{Running, TestPki};

    pub async fn gateway(
        peers: PeerUrls,
        rate: bank_gateway::RateLimitConfig,
        cors: Vec<String>,
    ) -> (Running, TestPki) {
        sharing(peers, rate, cors, bank_testkit::redis_prefix()).await
    }

    /// A gateway whose Redis keys are under `prefix` (replicas share it).
    pub async fn sharing(
        peers: PeerUrls,
        rate: bank_gateway::RateLimitConfig,
        cors: Vec<String>,
        prefix: String,
    ) -> (Running, TestPki) {
        limited(peers, rate, cors, prefix, bank_gateway::EdgeLimits::default()).await
    }

    /// A gateway with `limits`.
    pub async fn limited(
        peers: PeerUrls,
        rate: bank_gateway::RateLimitConfig,
        cors: Vec<String>,
        prefix: String,
        limits: bank_gateway::EdgeLimits,
    ) -> (Running, TestPki) {
        let pki = TestPki::new();
        let config = bank_gateway::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: pki.tls_paths("gateway"),
            public_tls: None,
            redis: RedisConfig {
                ca_file: None,
                url: SecretString::from(bank_testkit::redis_url()),
                key_prefix: prefix,
            },
            peers,
            cors_origins: cors,
            trusted_proxies: Vec::new(),
            limits,
            rate_limit: rate,
            log_format: LogFormat::Json,
        };
        let running =
            bank_testkit::spawn(move |listener, shutdown| bank_gateway::serve(config, listener, shutdown)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        (running, pki)
    }

    /// AuthService.GetJwks over native gRPC (h2c) through the gateway at `addr`.
    pub async fn grpc_jwks(addr: std::net::SocketAddr) -> Result<auth::GetJwksResponse, tonic::Status> {
        AuthServiceClient::new(
            tonic::transport::Channel::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect()
                .await
                .unwrap(),
        )
        .get_jwks(auth::GetJwksRequest {})
        .await
        .map(tonic::Response::into_inner)
    }

    pub async fn get(
        addr: std::net::SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
        method: Method,
    ) -> (StatusCode, http::HeaderMap, bytes::Bytes) {
        use http_body_util::{BodyExt as _, Empty};
        use hyper_util::client::legacy::Client;
        use hyper_util::rt::TokioExecutor;
        let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"));
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let response = client.request(builder.body(Empty::new()).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (
            status,
            headers,
            response.into_body().collect().await.unwrap().to_bytes(),
        )
    }
}

#[tokio::test]
async fn a_dead_backend_yields_503_quickly() {
    // Every peer points at a port nobody listens on.
    let closed = bank_testkit::listener().await.1;
    let dead = format!("https://{closed}");
    let peers = bank_config::PeerUrls {
        auth: Some(dead.clone()),
        account: Some(dead.clone()),
        transfer: Some(dead.clone()),
        finance: Some(dead.clone()),
        analytics: Some(dead),
    };
    let (gateway, _pki) = alone::gateway(peers, bank_gateway::RateLimitConfig::default(), Vec::new()).await;
    let started = Instant::now();
    let (status, _, body) = alone::get(gateway.addr, "/v1/auth/jwks", &[], Method::GET).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let grpc = alone::grpc_jwks(gateway.addr).await.expect_err("dead backend");
    assert_eq!(grpc.code(), Code::Unavailable);
    assert!(started.elapsed() < Duration::from_secs(4));
    gateway.stop().await.unwrap();
}

#[tokio::test]
async fn clients_over_their_rate_get_429_with_retry_after() {
    let (gateway, _pki) = alone::gateway(
        bank_config::PeerUrls::default(),
        bank_gateway::RateLimitConfig {
            per_second: 1,
            burst: 3,
        },
        Vec::new(),
    )
    .await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let (status, headers, body) = alone::get(gateway.addr, "/openapi.json", &[], Method::GET).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            retry_after = headers.get("retry-after").cloned();
            let json: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["code"], 8);
        }
        statuses.push(status);
    }
    assert_eq!(&statuses[..3], &[StatusCode::OK, StatusCode::OK, StatusCode::OK]);
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after.unwrap(), "1");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, _, _) = alone::get(gateway.addr, "/openapi.json", &[], Method::GET).await;
    assert_eq!(status, StatusCode::OK, "the bucket refills");
    gateway.stop().await.unwrap();
}

/// Replicas lease tokens from the shared bucket a few at a time: two
/// gateways on one Redis prefix together admit no more than the rate
/// allows, and strand at most a lease's worth of tokens each.
#[tokio::test]
async fn replicas_share_one_rate_limit() {
    const RATE: u32 = 40;
    let prefix = bank_testkit::redis_prefix();
    let rate = bank_gateway::RateLimitConfig {
        per_second: RATE,
        burst: RATE,
    };
    let (first, _pki1) = alone::sharing(
        bank_config::PeerUrls::default(),
        rate.clone(),
        Vec::new(),
        prefix.clone(),
    )
    .await;
    let (second, _pki2) = alone::sharing(bank_config::PeerUrls::default(), rate, Vec::new(), prefix).await;
    let started = std::time::Instant::now();
    let mut admitted = 0_u32;
    let mut refused = 0_u32;
    for i in 0..100 {
        let addr = if i % 2 == 0 { first.addr } else { second.addr };
        let (status, _, _) = alone::get(addr, "/openapi.json", &[], Method::GET).await;
        match status {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The burst plus what refilled while the loop ran, never more.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "small positive")]
    let ceiling = RATE + (f64::from(RATE) * elapsed).ceil() as u32;
    assert!(admitted <= ceiling, "admitted {admitted} > {ceiling} in {elapsed:.2} s");
    // Each replica strands at most lease - 1 = 1 token (lease = 40/20 = 2).
    assert!(admitted >= RATE - 2, "admitted only {admitted}");
    if elapsed < 1.4 {
        assert!(
            refused > 0,
            "100 requests in {elapsed:.2} s must exceed {RATE}/s with a burst of {RATE}"
        );
    }
    first.stop().await.unwrap();
    second.stop().await.unwrap();
}

#[tokio::test]
async fn cors_allows_configured_origins_and_exposes_grpc_headers() {
    let (gateway, _pki) = alone::gateway(
        bank_config::PeerUrls::default(),
        bank_gateway::RateLimitConfig::default(),
        vec!["http://console.example".to_owned()],
    )
    .await;
    let (status, headers, _) = alone::get(
        gateway.addr,
        "/bank.auth.v1.AuthService/Login",
        &[
            ("origin", "http://console.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type,x-grpc-web"),
        ],
        Method::OPTIONS,
    )
    .await;
    assert!(status.is_success());
    assert_eq!(headers["access-control-allow-origin"], "http://console.example");
    let (_, headers, _) = alone::get(
        gateway.addr,
        "/openapi.json",
        &[("origin", "http://console.example")],
        Method::GET,
    )
    .await;
    let exposed = headers["access-control-expose-headers"].to_str().unwrap().to_owned();
    for header in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        assert!(exposed.contains(header), "{exposed}");
    }
    let (_, headers, _) = alone::get(
        gateway.addr,
        "/openapi.json",
        &[("origin", "http://evil.example")],
        Method::GET,
    )
    .await;
    assert!(!headers.contains_key("access-control-allow-origin"));
    gateway.stop().await.unwrap();
}

#[tokio::test]
async fn route_deadlines_bound_calls_and_cap_longer_client_deadlines() {
    let mesh = TestMesh::start().await;
    let (_, token) = mesh.member().await;
    let from = mesh.open_account(&token, "USD").await;
    let to = mesh.open_account(&token, "USD").await;
    mesh.deposit(&token, &from.account_id, 100_000, "USD").await;
    // A batch of 1,000 cannot finish in 1 ms; every other route keeps the default.
    let limits = bank_gateway::EdgeLimits {
        route_timeouts_ms: [("bank.transfer.v1.TransferService/CreateTransfers".to_owned(), 1)].into(),
        ..bank_gateway::EdgeLimits::default()
    };
    let gateway = mesh.extra_gateway(limits).await;
    let base = format!("http://{}", gateway.addr);
    let auth_header = format!("Bearer {token}");
    let auth = [("authorization", auth_header.as_str())];
    let prefix = uuid::Uuid::new_v4().simple().to_string();
    let items: Vec<transfer::TransferItem> = (0..1_000)
        .map(|i| transfer::TransferItem {
            request_id: format!("{prefix}-{i}"),
            from_account_id: from.account_id.clone(),
            destination: Some(transfer::transfer_item::Destination::ToAccountId(to.account_id.clone())),
            amount: usd(3),
            ..Default::default()
        })
        .collect();
    let json_items: Vec<Value> = items
        .iter()
        .map(|item| {
            json!({
                "requestId": item.request_id,
                "fromAccountId": item.from_account_id,
                "toAccountId": to.account_id,
                "amount": {"amountMinor": "3", "currency": "USD"},
            })
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "transfers": json_items })).unwrap();

    let rest =
        bank_mesh_tests::edge::rest_raw_at(&base, Method::POST, "/v1/transfers:batchCreate", body.clone(), &auth).await;
    assert_eq!(rest.status, StatusCode::GATEWAY_TIMEOUT, "{:?}", rest.json);
    assert_eq!(rest.json["code"], 4, "{:?}", rest.json);
    let balance_path = format!("/v1/accounts/{}/balance", from.account_id);
    let balance = bank_mesh_tests::edge::rest_raw_at(&base, Method::GET, &balance_path, Vec::new(), &auth).await;
    assert_eq!(balance.status, StatusCode::OK, "{:?}", balance.json);

    // A gRPC caller that asks for a minute is cut to the route's deadline.
    let channel = tonic::transport::Channel::from_shared(base.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut request = bearer(
        transfer::CreateTransfersRequest {
            transfers: items.clone(),
        },
        &token,
    );
    request.set_timeout(Duration::from_secs(60));
    let capped = TransferServiceClient::new(channel)
        .create_transfers(request)
        .await
        .expect_err("the route's 1 ms deadline applies");
    assert_eq!(capped.code(), Code::DeadlineExceeded, "{capped:?}");

    // The same batch through a gateway with the default deadline: every
    // item moves money exactly once, whatever the cut-off calls did.
    let done = mesh
        .rest_raw(Method::POST, "/v1/transfers:batchCreate", body, &auth)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.json);
    assert_eq!(mesh.posted(&token, &to.account_id).await, 3_000);
    assert_eq!(mesh.posted(&token, &from.account_id).await, 100_000 - 3_000);
    gateway.stop().await.unwrap();
    mesh.stop().await;
}

#[tokio::test]
async fn a_backend_that_never_answers_gets_504_at_the_route_deadline() {
    // The backend accepts TCP connections and never speaks: no TLS
    // handshake, no answer, no error. Its connect timeout is 3 s.
    let (silent, silent_addr) = bank_testkit::listener().await;
    let url = format!("https://{silent_addr}");
    let peers = bank_config::PeerUrls {
        auth: Some(url.clone()),
        account: Some(url.clone()),
        transfer: Some(url.clone()),
        finance: Some(url.clone()),
        analytics: Some(url),
    };
    let limits = bank_gateway::EdgeLimits {
        route_timeouts_ms: [("bank.auth.v1.AuthService".to_owned(), 300)].into(),
        ..bank_gateway::EdgeLimits::default()
    };
    let (gateway, _pki) = alone::limited(
        peers,
        bank_gateway::RateLimitConfig::default(),
        Vec::new(),
        bank_testkit::redis_prefix(),
        limits,
    )
    .await;
    let started = Instant::now();
    let (status, _, body) = alone::get(gateway.addr, "/v1/auth/jwks", &[], Method::GET).await;
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body:?}");
    let status_body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status_body["code"], 4, "{status_body:?}");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    // Native gRPC without a deadline of its own gets the route's.
    let started = Instant::now();
    let grpc = alone::grpc_jwks(gateway.addr).await.expect_err("silent backend");
    let waited = started.elapsed();
    assert_eq!(grpc.code(), Code::DeadlineExceeded, "{grpc:?}");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    drop(silent);
    gateway.stop().await.unwrap();
}

/// The lines of an NDJSON body, each parsed.
fn ndjson(raw: &[u8]) -> Vec<Value> {
    raw.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect()
}

#[tokio::test]
async fn a_statement_export_streams_over_rest_as_ndjson() {
    let mesh = TestMesh::start().await;
    let (_, token) = mesh.member().await;
    let opened = mesh.open_account(&token, "USD").await;
    for minor in [1_200, 300] {
        mesh.deposit(&token, &opened.account_id, minor, "USD").await;
    }
    let reply = mesh
        .rest(
            Method::GET,
            &format!("/v1/accounts/{}/statements:export", opened.account_id),
            None,
            Some(&token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.raw);
    assert_eq!(reply.headers["content-type"], "application/x-ndjson");
    let lines = ndjson(&reply.raw);
    let kinds: Vec<&str> = lines
        .iter()
        .map(|line| {
            line.as_object()
                .and_then(|o| o.keys().next())
                .map_or("", String::as_str)
        })
        .collect();
    assert_eq!(kinds, ["header", "entry", "entry", "trailer"], "{lines:?}");
    mesh.stop().await;
}

#[tokio::test]
async fn a_server_stream_ends_at_its_routes_deadline_in_rest_and_grpc() {
    use bank_proto::bank::analytics::v1 as analytics;
    use bank_proto::bank::analytics::v1::analytics_service_client::AnalyticsServiceClient;
    let mesh = TestMesh::start().await;
    let admin = mesh.admin_token().await;
    // A live feed idles (a heartbeat every 15 s) until the client leaves.
    let limits = bank_gateway::EdgeLimits {
        route_timeouts_ms: [("bank.analytics.v1.AnalyticsService/WatchEvents".to_owned(), 600)].into(),
        ..bank_gateway::EdgeLimits::default()
    };
    let gateway = mesh.extra_gateway(limits).await;
    let base = format!("http://{}", gateway.addr);
    let auth_header = format!("Bearer {admin}");

    let started = Instant::now();
    let reply = tokio::time::timeout(
        Duration::from_secs(10),
        bank_mesh_tests::edge::rest_raw_at(
            &base,
            Method::GET,
            "/v1/admin/analytics/events:watch",
            Vec::new(),
            &[("authorization", &auth_header)],
        ),
    )
    .await
    .expect("the stream ends at its deadline");
    let waited = started.elapsed();
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.raw);
    let lines = ndjson(&reply.raw);
    let last = lines.last().expect("an error line");
    assert_eq!(last["error"]["code"], 4, "{lines:?}");
    assert!(
        waited >= Duration::from_millis(600) && waited < Duration::from_secs(5),
        "{waited:?}"
    );

    let channel = tonic::transport::Channel::from_shared(base)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let started = Instant::now();
    let mut stream = AnalyticsServiceClient::new(channel)
        .watch_events(bearer(analytics::WatchEventsRequest::default(), &admin))
        .await
        .expect("the stream opens")
        .into_inner();
    let ended = bank_mesh_tests::stream_end(&mut stream, Duration::from_secs(10))
        .await
        .expect("the stream ends at its deadline with a status");
    let waited = started.elapsed();
    assert_eq!(ended.code(), Code::DeadlineExceeded, "{ended:?}");
    assert!(
        waited >= Duration::from_millis(600) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    gateway.stop().await.unwrap();
    mesh.stop().await;
}
