//! Every service requires mTLS from the mesh CA, serves health and
//! reflection for its own services only, and unbuilt RPCs are UNIMPLEMENTED.

use bank_mesh_tests::TestMesh;
use bank_proto::bank::auth::v1 as auth;
use bank_testkit::TestPki;
use futures::StreamExt as _;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// What each service lists through reflection (besides health and
/// reflection itself).
const OWN_SERVICES: [(&str, &[&str]); 5] = [
    (
        "auth",
        &["bank.auth.v1.AuthService", "bank.auth.v1.AuthInternalService"],
    ),
    (
        "account",
        &[
            "bank.account.v1.AccountService",
            "bank.account.v1.AccountInternalService",
        ],
    ),
    (
        "transfer",
        &[
            "bank.transfer.v1.TransferService",
            "bank.transfer.v1.TransferInternalService",
        ],
    ),
    ("finance", &["bank.finance.v1.FinanceService"]),
    ("analytics", &["bank.analytics.v1.AnalyticsService"]),
];

async fn health_of(channel: tonic::transport::Channel) -> Result<i32, tonic::Status> {
    HealthClient::new(channel)
        .check(HealthCheckRequest { service: String::new() })
        .await
        .map(|r| r.into_inner().status)
}

#[tokio::test]
async fn every_service_requires_a_mesh_certificate() {
    let mesh = TestMesh::start().await;
    let ca = std::fs::read_to_string(mesh.certs.path().join("ca.crt")).unwrap();
    let rogue = TestPki::new().mesh_tls("gateway");
    for (service, _) in OWN_SERVICES {
        let addr = mesh.running().addrs[service];
        let url = format!("https://{addr}");

        // The positive control: the gateway's mesh certificate works.
        let good = bank_testkit::channel_with(&mesh.tls("gateway"), addr).await;
        assert_eq!(
            health_of(good).await.unwrap(),
            ServingStatus::Serving as i32,
            "{service}"
        );

        // No client certificate.
        let anonymous = Endpoint::from_shared(url.clone())
            .unwrap()
            .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca)))
            .unwrap();
        if let Ok(channel) = anonymous.connect().await {
            assert!(
                health_of(channel).await.is_err(),
                "{service} answered a client without a certificate"
            );
        }

        // A certificate from another CA.
        if let Ok(channel) = rogue.endpoint(&url).unwrap().connect().await {
            assert!(
                health_of(channel).await.is_err(),
                "{service} answered a foreign certificate"
            );
        }

        // Plain text.
        if let Ok(channel) = Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await {
            assert!(health_of(channel).await.is_err(), "{service} answered plain text");
        }
    }
    mesh.stop().await;
}

async fn listed_v1(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.next().await.unwrap().unwrap();
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => list.service.into_iter().map(|s| s.name).collect(),
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

async fn listed_v1alpha(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.next().await.unwrap().unwrap();
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => list.service.into_iter().map(|s| s.name).collect(),
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

#[tokio::test]
async fn every_service_serves_health_and_reflection_of_its_own_services() {
    let mesh = TestMesh::start().await;
    for (service, own) in OWN_SERVICES {
        let channel = bank_testkit::channel_with(&mesh.tls("gateway"), mesh.running().addrs[service]).await;
        for listed in [listed_v1(channel.clone()).await, listed_v1alpha(channel.clone()).await] {
            assert!(
                listed.contains(&"grpc.health.v1.Health".to_owned()),
                "{service}: {listed:?}"
            );
            let bank: Vec<&String> = listed.iter().filter(|s| s.starts_with("bank.")).collect();
            assert_eq!(
                bank,
                own.iter().collect::<Vec<_>>(),
                "{service} lists only what it serves"
            );
        }
        for name in own {
            let status = HealthClient::new(channel.clone())
                .check(HealthCheckRequest {
                    service: (*name).to_owned(),
                })
                .await
                .unwrap()
                .into_inner()
                .status;
            assert_eq!(status, ServingStatus::Serving as i32, "{name}");
        }
    }
    mesh.stop().await;
}

#[tokio::test]
async fn the_bootstrap_admin_signs_in_through_the_mesh() {
    use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
    let mesh = TestMesh::start().await;
    let channel = bank_testkit::channel_with(&mesh.tls("gateway"), mesh.running().addrs["auth"]).await;
    let mut client = AuthServiceClient::new(channel);
    let login = client
        .login(auth::LoginRequest {
            email: "admin@bank.example".to_owned(),
            password: "mesh-root-passphrase-1".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let user = login.user.unwrap();
    assert!(user.roles.contains(&(auth::Role::Admin as i32)));
    mesh.stop().await;
}

#[tokio::test]
async fn admin_ports_serve_metrics_and_probes() {
    use bank_mesh_tests::clients::bearer;
    use bank_mesh_tests::money::{money, rid};
    use bank_proto::bank::transfer::v1 as pb;
    let base = bank_mesh_tests::free_port_run(5);
    let mesh = TestMesh::start_with(Some(base)).await;
    let (_, alice) = mesh.member().await;
    let (_, bob) = mesh.member().await;
    let a = mesh.open_account(&alice, "USD").await;
    let b = mesh.open_account(&bob, "USD").await;
    mesh.deposit(&alice, &a.account_id, 500, "USD").await;
    mesh.transfers()
        .await
        .create_transfer(bearer(
            pb::CreateTransferRequest {
                request_id: rid(),
                from_account_id: a.account_id.clone(),
                destination: Some(pb::create_transfer_request::Destination::ToAccountId(
                    b.account_id.clone(),
                )),
                amount: money(900, "USD"),
                description: String::new(),
                reference: String::new(),
            },
            &alice,
        ))
        .await
        .expect_err("declined");
    // Transfer is the third service: base + 2.
    let admin = std::net::SocketAddr::from(([127, 0, 0, 1], base + 2));
    let get = |path: &'static str| async move {
        use http_body_util::{BodyExt as _, Empty};
        let client: hyper_util::client::legacy::Client<_, Empty<bytes::Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let response = client
            .get(format!("http://{admin}{path}").parse().unwrap())
            .await
            .unwrap();
        let status = response.status();
        (
            status,
            String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap(),
        )
    };
    assert_eq!(get("/livez").await.0, 200);
    let (ready, body) = get("/readyz").await;
    assert_eq!(ready, 200, "{body}");
    let (_, metrics) = get("/metrics").await;
    let line = |needle: &str| {
        metrics
            .lines()
            .any(|l| l.starts_with("bank_rpc_requests_total") && l.contains(needle))
    };
    assert!(
        line(r#"method="/bank.transfer.v1.TransferService/Deposit""#),
        "{metrics}"
    );
    // The decline is FAILED_PRECONDITION: gRPC code 9.
    assert!(line(r#"code="9""#), "{metrics}");
    assert!(metrics.contains("bank_rpc_duration_seconds_bucket"));
    // Business counters and the outbox's lag move too.
    let business = |needle: &str| {
        metrics
            .lines()
            .any(|l| l.starts_with("bank_transfers_total") && l.contains(needle))
    };
    assert!(
        business(r#"status="declined""#) && business(r#"reason="INSUFFICIENT_FUNDS""#),
        "{metrics}"
    );
    assert!(business(r#"status="posted""#), "{metrics}");
    assert!(
        metrics.contains(r#"bank_outbox_lag_seconds{service="transfer"}"#),
        "{metrics}"
    );
    assert!(metrics.contains("bank_db_pool_connections") || metrics.contains("bank_rpc_in_flight"));
    mesh.stop().await;
}
