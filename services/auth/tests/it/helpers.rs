use std::path::PathBuf;

use auth_service::{BootstrapAdmin, Config, JwtConfig, ThrottleConfig};
use bank_config::SecretString;
use bank_proto::bank::auth::v1 as pb;
use bank_proto::bank::auth::v1::auth_internal_service_client::AuthInternalServiceClient;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_testkit::{Running, TestDatabase, TestPki};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

pub const ADMIN_EMAIL: &str = "root.admin@bank.example";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests-1";
pub const PASSWORD: &str = "correct horse battery staple 42";

pub struct Options {
    pub throttle: ThrottleConfig,
    pub access_ttl_secs: i64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            throttle: ThrottleConfig::default(),
            access_ttl_secs: 900,
        }
    }
}

pub struct TestAuth {
    pub running: Running,
    pub pki: TestPki,
    pub jwt_key: PathBuf,
    pub client: AuthServiceClient<Channel>,
    pub redis_prefix: String,
    pub db: TestDatabase,
    _streams: StreamCleanup,
}

/// Lets the test's event stream expire once the test is over (streams
/// have no TTL of their own, and every test has its own prefix).
pub struct StreamCleanup(pub Vec<String>);

/// How long a finished test's streams stay, for a look after a failure.
const STREAM_TTL_AFTER_TEST_SECS: u64 = 600;

impl Drop for StreamCleanup {
    fn drop(&mut self) {
        let keys = std::mem::take(&mut self.0);
        // A blocking client on its own thread: drop may run in a runtime.
        let _ = std::thread::spawn(move || {
            let Ok(mut conn) = redis::Client::open(bank_testkit::redis_url()).and_then(|c| c.get_connection()) else {
                return;
            };
            for key in keys {
                let _ = redis::cmd("EXPIRE")
                    .arg(&key)
                    .arg(STREAM_TTL_AFTER_TEST_SECS)
                    .query::<()>(&mut conn);
            }
        })
        .join();
    }
}

pub async fn spawn_auth() -> TestAuth {
    spawn_auth_with(Options::default()).await
}

pub async fn spawn_auth_with(options: Options) -> TestAuth {
    let pki = TestPki::new();
    let db = TestDatabase::create("auth").await;
    let jwt_key = pki.jwt_key("auth");
    let redis_prefix = bank_testkit::redis_prefix();
    let config = Config {
        mesh: bank_testkit::mesh_config(&pki, "auth", &db, &redis_prefix),
        jwt: JwtConfig {
            signing_key: jwt_key.clone(),
            previous_keys: Vec::new(),
            access_ttl_secs: options.access_ttl_secs,
            refresh_ttl_secs: 3600,
        },
        throttle: options.throttle,
        bootstrap_admin: Some(BootstrapAdmin {
            email: ADMIN_EMAIL.to_owned(),
            password: SecretString::from(ADMIN_PASSWORD.to_owned()),
        }),
    };
    let running = bank_testkit::spawn(move |listener, shutdown| auth_service::serve(config, listener, shutdown)).await;
    // End users reach Auth through the gateway: tests call as the gateway.
    let channel = bank_testkit::channel(&pki, "gateway", running.addr).await;
    TestAuth {
        running,
        pki,
        jwt_key,
        client: AuthServiceClient::new(channel),
        _streams: StreamCleanup(vec![format!("{redis_prefix}:events:auth")]),
        redis_prefix,
        db,
    }
}

impl TestAuth {
    pub async fn internal_client_as(&self, workload: &str) -> AuthInternalServiceClient<Channel> {
        AuthInternalServiceClient::new(bank_testkit::channel(&self.pki, workload, self.running.addr).await)
    }

    pub async fn signup(&self, email: &str) -> pb::User {
        self.client
            .clone()
            .sign_up(pb::SignUpRequest {
                email: email.to_owned(),
                password: PASSWORD.to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<pb::LoginResponse, Status> {
        self.client
            .clone()
            .login(pb::LoginRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Signs up a fresh member and logs in: (user, tokens).
    pub async fn member(&self) -> (pb::User, pb::TokenPair) {
        let email = unique_email();
        let user = self.signup(&email).await;
        let tokens = self.login(&email, PASSWORD).await.unwrap().tokens.unwrap();
        (user, tokens)
    }

    pub async fn admin_tokens(&self) -> pb::TokenPair {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap().tokens.unwrap()
    }

    pub async fn me(&self, access_token: &str) -> Result<pb::User, Status> {
        self.client
            .clone()
            .me(bearer(pb::MeRequest {}, access_token))
            .await
            .map(|r| r.into_inner().user.unwrap())
    }
}

pub fn unique_email() -> String {
    format!(
        "member.{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

pub fn reason(status: &Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}

pub fn violations(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}
