//! Certificate rotation without restart: a service keeps answering while
//! its certificate is replaced under load, new handshakes present the new
//! certificate, and a revoked or expired client certificate stops working,
//! also on a connection opened before the revocation (servers recycle
//! connections, without a failed call) and on a stream that outlives it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_service::{Config, JwtConfig, ThrottleConfig};
use bank_proto::bank::auth::v1 as pb;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_testkit::{Running, TestDatabase, TestPki};
use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject as _;

async fn spawn_auth(pki: &TestPki, db: &TestDatabase, crl: Option<std::path::PathBuf>) -> Running {
    spawn_auth_aged(pki, db, crl, bank_config::MAX_CONNECTION_AGE_SECS_DEFAULT).await
}

/// Auth whose server recycles client connections after `max_age_secs`.
async fn spawn_auth_aged(
    pki: &TestPki,
    db: &TestDatabase,
    crl: Option<std::path::PathBuf>,
    max_age_secs: u64,
) -> Running {
    spawn_auth_aged_grace(
        pki,
        db,
        crl,
        max_age_secs,
        bank_config::MAX_CONNECTION_AGE_GRACE_SECS_DEFAULT,
    )
    .await
}

/// Auth whose server closes a client connection `grace_secs` after its
/// age, streams and all.
async fn spawn_auth_aged_grace(
    pki: &TestPki,
    db: &TestDatabase,
    crl: Option<std::path::PathBuf>,
    max_age_secs: u64,
    grace_secs: u64,
) -> Running {
    let mut mesh = bank_testkit::mesh_config(pki, "auth", db, &bank_testkit::redis_prefix());
    mesh.tls.crl = crl;
    mesh.max_connection_age_secs = max_age_secs;
    mesh.max_connection_age_grace_secs = grace_secs;
    let config = Config {
        mesh,
        jwt: JwtConfig {
            signing_key: pki.jwt_key("auth"),
            previous_keys: Vec::new(),
            access_ttl_secs: 900,
            refresh_ttl_secs: 3600,
        },
        throttle: ThrottleConfig::default(),
        bootstrap_admin: None,
    };
    bank_testkit::spawn(move |listener, shutdown| auth_service::serve(config, listener, shutdown)).await
}

/// Revokes the gateway's certificate and waits until the servers have
/// reloaded the CRL.
async fn revoke_gateway(pki: &TestPki) {
    pki.write_crl(&[pki.serial("gateway")]);
    tokio::time::sleep(Duration::from_millis(
        bank_mtls::TLS_RELOAD_INTERVAL_SECS * 1_000 + 1_500,
    ))
    .await;
}

/// The leaf certificate a fresh TLS handshake with `addr` presents.
async fn served_certificate(pki: &TestPki, addr: std::net::SocketAddr) -> Vec<u8> {
    let tls = pki.mesh_tls("gateway");
    let config = tls.client_config().unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn cert_der(pki: &TestPki, name: &str) -> Vec<u8> {
    rustls_pki_types::CertificateDer::from_pem_file(pki.tls_paths(name).cert)
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn a_certificate_is_replaced_under_load_without_a_failed_call() {
    let pki = TestPki::new();
    let db = TestDatabase::create("rotation").await;
    let auth = spawn_auth(&pki, &db, None).await;
    let channel = bank_testkit::channel(&pki, "gateway", auth.addr).await;
    let old = cert_der(&pki, "auth");
    assert_eq!(served_certificate(&pki, auth.addr).await, old);

    let calls = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    let mut load = Vec::new();
    for task in 0..4 {
        let (calls, failures, channel) = (calls.clone(), failures.clone(), channel.clone());
        let pki_dir_gateway = pki.mesh_tls("gateway");
        let addr = auth.addr;
        load.push(tokio::spawn(async move {
            let mut client = AuthServiceClient::new(channel);
            let mut i = 0;
            while tokio::time::Instant::now() < deadline {
                i += 1;
                // Half the tasks open a new connection now and then, so
                // handshakes happen during the swap too.
                if task % 2 == 0 && i % 20 == 0 {
                    client = AuthServiceClient::new(bank_testkit::channel_with(&pki_dir_gateway, addr).await);
                }
                match client.get_jwks(pb::GetJwksRequest {}).await {
                    Ok(_) => calls.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failures.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    pki.rotate("auth");
    let new = cert_der(&pki, "auth");
    assert_ne!(new, old);
    for task in load {
        task.await.unwrap();
    }
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "no call failed during the rotation"
    );
    assert!(calls.load(Ordering::Relaxed) > 50);
    assert_eq!(
        served_certificate(&pki, auth.addr).await,
        new,
        "new handshakes use the new certificate"
    );
    auth.stop().await.unwrap();
}

#[tokio::test]
async fn revoked_and_expired_client_certificates_stop_working() {
    let pki = TestPki::new();
    let db = TestDatabase::create("rotation").await;
    let crl = pki.write_crl(&[]);
    let auth = spawn_auth(&pki, &db, Some(crl)).await;
    let call = |tls: bank_mtls::MeshTls, addr| async move {
        let endpoint = tls.endpoint(&format!("https://{addr}")).unwrap();
        match endpoint.connect().await {
            Ok(channel) => AuthServiceClient::new(channel)
                .get_jwks(pb::GetJwksRequest {})
                .await
                .is_ok(),
            Err(_) => false,
        }
    };
    assert!(
        call(pki.mesh_tls("gateway"), auth.addr).await,
        "valid before revocation"
    );
    assert!(
        !call(pki.expired_tls("gateway"), auth.addr).await,
        "an expired certificate is refused"
    );

    revoke_gateway(&pki).await;
    assert!(
        !call(pki.mesh_tls("gateway"), auth.addr).await,
        "a revoked certificate is refused"
    );
    assert!(call(pki.mesh_tls("account"), auth.addr).await, "others still work");
    auth.stop().await.unwrap();
}

#[tokio::test]
async fn recycled_connections_lose_no_call_under_load() {
    let pki = TestPki::new();
    let db = TestDatabase::create("rotation").await;
    let auth = spawn_auth_aged(&pki, &db, None, 1).await;
    // One channel (one connection at a time), as the gateway and every
    // service hold per peer.
    let channel = bank_testkit::channel(&pki, "gateway", auth.addr).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut load = Vec::new();
    for _ in 0..8 {
        let (calls, failures, channel) = (calls.clone(), failures.clone(), channel.clone());
        load.push(tokio::spawn(async move {
            let mut client = AuthServiceClient::new(channel);
            while tokio::time::Instant::now() < deadline {
                match client.get_jwks(pb::GetJwksRequest {}).await {
                    Ok(_) => calls.fetch_add(1, Ordering::Relaxed),
                    Err(status) => {
                        eprintln!("failed: {status:?}");
                        failures.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    for task in load {
        task.await.unwrap();
    }
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "no call failed across 4 or more connection ages"
    );
    assert!(calls.load(Ordering::Relaxed) > 100, "{calls:?}");
    auth.stop().await.unwrap();
}

#[tokio::test]
async fn a_revoked_certificate_stops_working_on_a_connection_opened_before() {
    let pki = TestPki::new();
    let db = TestDatabase::create("rotation").await;
    let crl = pki.write_crl(&[]);
    let auth = spawn_auth_aged(&pki, &db, Some(crl), 1).await;
    let channel = bank_testkit::channel(&pki, "gateway", auth.addr).await;
    let mut client = AuthServiceClient::new(channel);
    client.get_jwks(pb::GetJwksRequest {}).await.unwrap();

    revoke_gateway(&pki).await;
    // The open connection is recycled within its age; the new handshake
    // is refused, so the same client stops getting answers.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut refused = false;
    while tokio::time::Instant::now() < deadline {
        if client.get_jwks(pb::GetJwksRequest {}).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "a revoked certificate kept working on its old connection");
    auth.stop().await.unwrap();
}

#[tokio::test]
async fn a_revoked_certificate_cannot_resume_an_earlier_tls_session() {
    let pki = TestPki::new();
    let db = TestDatabase::create("rotation").await;
    let crl = pki.write_crl(&[]);
    // Connections are never recycled here: only the reconnect matters.
    let auth = spawn_auth_aged(&pki, &db, Some(crl), 0).await;
    // One client configuration for every connection, as a workload keeps
    // per peer: its TLS session cache would offer a resumption.
    let paths = pki.tls_paths("gateway");
    let tls = bank_mtls::ReloadableTls::load(&paths.ca, &paths.cert, &paths.key, None).unwrap();
    let endpoint = tls.endpoint(&format!("https://{}", auth.addr)).unwrap();
    let first = endpoint.connect().await.unwrap();
    AuthServiceClient::new(first)
        .get_jwks(pb::GetJwksRequest {})
        .await
        .unwrap();

    revoke_gateway(&pki).await;
    let again = match endpoint.connect().await {
        Ok(channel) => AuthServiceClient::new(channel)
            .get_jwks(pb::GetJwksRequest {})
            .await
            .is_ok(),
        Err(_) => false,
    };
    assert!(!again, "a revoked certificate reconnected by resuming its TLS session");
    auth.stop().await.unwrap();
}

#[tokio::test]
async fn a_revoked_certificates_stream_ends_after_the_connection_age_and_grace() {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let pki = TestPki::new();
    let db = TestDatabase::create("rotation").await;
    let crl = pki.write_crl(&[]);
    let auth = spawn_auth_aged_grace(&pki, &db, Some(crl), 1, 2).await;
    let channel = bank_testkit::channel(&pki, "gateway", auth.addr).await;
    // A health watch is a server stream that runs until its client leaves.
    let started = tokio::time::Instant::now();
    let mut watch = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest { service: String::new() })
        .await
        .unwrap()
        .into_inner();
    watch.message().await.unwrap().expect("the first health status");
    revoke_gateway(&pki).await;
    // The GOAWAY at 1 s leaves the stream open; 2 s later the connection
    // closes, and the client cannot open another with its revoked
    // certificate.
    // Panics if the stream is still open after 15 s.
    let ended = bank_mesh_tests::stream_end(&mut watch, Duration::from_secs(15)).await;
    let lived = started.elapsed();
    assert!(ended.is_some(), "the stream must end with an error, not as complete");
    assert!(lived >= Duration::from_secs(3), "{lived:?}");
    let again = HealthClient::new(channel)
        .check(HealthCheckRequest { service: String::new() })
        .await;
    assert!(again.is_err(), "a revoked certificate reconnected");
    auth.stop().await.unwrap();
}
