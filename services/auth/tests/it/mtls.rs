use bank_mtls::MeshTls;
use bank_proto::bank::auth::v1 as pb;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_testkit::TestPki;
use tonic::Code;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

use crate::helpers::{spawn_auth, unique_email};

#[tokio::test]
async fn a_client_without_a_certificate_cannot_call() {
    let auth = spawn_auth().await;
    // Trusts the mesh CA but presents no client certificate.
    let ca = std::fs::read_to_string(auth.pki.dir().join("ca.crt")).unwrap();
    let endpoint = Endpoint::from_shared(auth.running.url())
        .unwrap()
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)))
        .unwrap();
    let outcome = match endpoint.connect().await {
        Err(_) => None,
        Ok(channel) => Some(AuthServiceClient::new(channel).get_jwks(pb::GetJwksRequest {}).await),
    };
    if let Some(result) = outcome {
        let status = result.expect_err("a call without a client certificate must fail");
        assert_ne!(status.code(), Code::Ok);
    }
}

#[tokio::test]
async fn a_client_with_a_certificate_from_another_ca_cannot_call() {
    let auth = spawn_auth().await;
    let rogue = TestPki::new();
    let rogue_tls = rogue.mesh_tls("gateway");
    // The rogue client even trusts the real CA, so only its own cert is wrong.
    let real_ca = std::fs::read_to_string(auth.pki.dir().join("ca.crt")).unwrap();
    let cert = std::fs::read_to_string(rogue.tls_paths("gateway").cert).unwrap();
    let key = std::fs::read_to_string(rogue.tls_paths("gateway").key).unwrap();
    let mixed = MeshTls::from_pem(real_ca, cert, key).unwrap();
    for tls in [&rogue_tls, &mixed] {
        let endpoint = tls.endpoint(&auth.running.url()).unwrap();
        let result = match endpoint.connect().await {
            Err(_) => continue,
            Ok(channel) => {
                AuthServiceClient::new(channel)
                    .sign_up(pb::SignUpRequest {
                        email: unique_email(),
                        password: "a perfectly fine password".to_owned(),
                    })
                    .await
            }
        };
        assert!(result.is_err(), "a foreign certificate must not complete a call");
    }
}

#[tokio::test]
async fn a_plaintext_client_cannot_call() {
    let auth = spawn_auth().await;
    let endpoint = Endpoint::from_shared(format!("http://{}", auth.running.addr)).unwrap();
    if let Ok(channel) = endpoint.connect().await {
        let result = AuthServiceClient::new(channel).get_jwks(pb::GetJwksRequest {}).await;
        assert!(result.is_err());
    }
}

#[tokio::test]
async fn internal_rpcs_check_the_callers_identity() {
    let auth = spawn_auth().await;
    let user = auth.signup(&unique_email()).await;
    let request = || pb::GetUserRequest {
        user_id: user.id.clone(),
    };

    let allowed = auth
        .internal_client_as("account")
        .await
        .get_user(request())
        .await
        .unwrap();
    assert_eq!(allowed.into_inner().user.unwrap().id, user.id);

    // Valid mesh certificates, but not on AuthInternalService's allow-list.
    for workload in ["transfer", "gateway"] {
        let denied = auth
            .internal_client_as(workload)
            .await
            .get_user(request())
            .await
            .expect_err("must be refused");
        assert_eq!(denied.code(), Code::PermissionDenied, "{workload}: {denied:?}");
    }
}

#[tokio::test]
async fn health_and_reflection_are_served() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let auth = spawn_auth().await;
    let channel = bank_testkit::channel(&auth.pki, "gateway", auth.running.addr).await;
    let mut health = HealthClient::new(channel);
    for service in ["", "bank.auth.v1.AuthService"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service}");
    }
}
