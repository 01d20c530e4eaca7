//! Support for the cross-service tests: the whole mesh in this process,
//! on free loopback ports, with fresh databases and certificates, through
//! the same `bank_cli::start` that `bank up` uses.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc, reason = "test support")]

use std::net::IpAddr;

use bank_cli::{MeshSettings, RunningMesh};
use bank_config::{LogFormat, SecretString};
use bank_testkit::TestDatabase;

/// A running mesh and what it needs to be talked to.
#[derive(Debug)]
pub struct TestMesh {
    /// The services.
    pub mesh: Option<RunningMesh>,
    /// The certificates directory written by `bank certs`.
    pub certs: tempfile::TempDir,
    /// The Redis key prefix of this mesh (its event streams are
    /// `<prefix>:events:<producer>`).
    pub redis_prefix: String,
    /// The services' databases, dropped with the mesh.
    _databases: Vec<TestDatabase>,
}

impl TestMesh {
    /// Writes certificates with `bank certs`, then starts the mesh with
    /// per-test databases and Redis prefix.
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// Like [`TestMesh::start`], with admin ports from `admin_base_port`.
    pub async fn start_with(admin_base_port: Option<u16>) -> Self {
        // Service logs go to the test's output, shown when a test fails.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,h2=warn,hyper=warn,tower=warn"))
            .try_init();
        let certs = tempfile::tempdir().unwrap();
        bank_cli::write_dev_certs(certs.path(), false).unwrap();
        let database_prefix = format!("t_mesh_{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let settings = MeshSettings {
            certs_dir: certs.path().to_owned(),
            host: IpAddr::from([127, 0, 0, 1]),
            fixed_ports: false,
            service_base_port: 0,
            gateway_port: 0,
            database_url: bank_testkit::database_url(),
            database_prefix: database_prefix.clone(),
            pool_size: 2,
            redis_url: bank_testkit::redis_url(),
            redis_prefix: bank_testkit::redis_prefix(),
            admin: Some((
                "admin@bank.example".to_owned(),
                SecretString::from("mesh-root-passphrase-1".to_owned()),
            )),
            log_format: LogFormat::Json,
            // Tests hammer the gateway from one address; limits are tested on their own.
            rate_limit: bank_gateway::RateLimitConfig {
                per_second: 100_000,
                burst: 100_000,
            },
            admin_base_port,
        };
        let databases = bank_cli::SERVICES
            .iter()
            .map(|(service, _)| {
                TestDatabase::adopt(
                    bank_db::with_database(&settings.database_url, &format!("{database_prefix}_{service}")).unwrap(),
                )
            })
            .collect();
        let mesh = bank_cli::start(&settings).await.unwrap();
        Self {
            mesh: Some(mesh),
            certs,
            redis_prefix: settings.redis_prefix.clone(),
            _databases: databases,
        }
    }

    /// The running services.
    pub fn running(&self) -> &RunningMesh {
        self.mesh.as_ref().unwrap()
    }

    /// mTLS material of `workload`, from the certificates directory.
    pub fn tls(&self, workload: &str) -> bank_mtls::MeshTls {
        let paths = bank_config::TlsPaths::in_dir(self.certs.path(), workload);
        bank_mtls::MeshTls::load(&paths.ca, &paths.cert, &paths.key).unwrap()
    }

    /// Stops the services (their databases are dropped with `self`).
    pub async fn stop(mut self) {
        if let Some(mesh) = self.mesh.take() {
            mesh.stop().await.unwrap();
        }
    }
}

/// gRPC clients and helpers over a [`TestMesh`].
pub mod clients {
    use bank_proto::bank::auth::v1 as auth;
    use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
    use tonic::Request;
    use tonic::transport::Channel;

    use super::TestMesh;

    /// The bootstrap admin's credentials in every test mesh.
    pub const ADMIN_EMAIL: &str = "admin@bank.example";
    /// Its password.
    pub const ADMIN_PASSWORD: &str = "mesh-root-passphrase-1";
    /// Password of the members tests sign up.
    pub const MEMBER_PASSWORD: &str = "member passphrase 12345";

    impl TestMesh {
        /// An mTLS channel to `service` presenting `workload`'s certificate.
        pub async fn channel_as(&self, service: &str, workload: &str) -> Channel {
            bank_testkit::channel_with(&self.tls(workload), self.running().addrs[service]).await
        }

        /// A channel to `service` as the gateway (how end users arrive).
        pub async fn channel(&self, service: &str) -> Channel {
            self.channel_as(service, "gateway").await
        }

        /// Logs in and returns the access token.
        pub async fn login(&self, email: &str, password: &str) -> String {
            AuthServiceClient::new(self.channel("auth").await)
                .login(auth::LoginRequest {
                    email: email.to_owned(),
                    password: password.to_owned(),
                })
                .await
                .unwrap()
                .into_inner()
                .tokens
                .unwrap()
                .access_token
        }

        /// The bootstrap admin's access token.
        pub async fn admin_token(&self) -> String {
            self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
        }

        /// Signs up a new member and returns (user id, access token).
        pub async fn member(&self) -> (String, String) {
            let email = format!("m.{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            let user = AuthServiceClient::new(self.channel("auth").await)
                .sign_up(auth::SignUpRequest {
                    email: email.clone(),
                    password: MEMBER_PASSWORD.to_owned(),
                })
                .await
                .unwrap()
                .into_inner()
                .user
                .unwrap();
            (user.id, self.login(&email, MEMBER_PASSWORD).await)
        }
    }

    /// `message` with `authorization: Bearer <token>`.
    pub fn bearer<T>(message: T, token: &str) -> Request<T> {
        let mut request = Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        request
    }
}

/// Ledger helpers: open accounts and move money as members.
pub mod money {
    use bank_proto::bank::account::v1 as account;
    use bank_proto::bank::account::v1::account_service_client::AccountServiceClient;
    use bank_proto::bank::common::v1::Money;
    use bank_proto::bank::transfer::v1 as transfer;
    use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
    use tonic::transport::Channel;

    use super::TestMesh;
    use super::clients::bearer;

    /// `minor` units of `currency`.
    pub fn money(minor: i64, currency: &str) -> Option<Money> {
        Some(Money {
            amount_minor: minor,
            currency: currency.to_owned(),
        })
    }

    /// A fresh idempotency key.
    pub fn rid() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    impl TestMesh {
        /// The public transfer client.
        pub async fn transfers(&self) -> TransferServiceClient<Channel> {
            TransferServiceClient::new(self.channel("transfer").await)
        }

        /// The public account client.
        pub async fn accounts(&self) -> AccountServiceClient<Channel> {
            AccountServiceClient::new(self.channel("account").await)
        }

        /// Opens a checking account in `currency` for the holder of `token`.
        pub async fn open_account(&self, token: &str, currency: &str) -> account::Account {
            self.accounts()
                .await
                .open_account(bearer(
                    account::OpenAccountRequest {
                        request_id: rid(),
                        r#type: account::AccountType::Checking as i32,
                        currency: currency.to_owned(),
                        display_name: String::new(),
                    },
                    token,
                ))
                .await
                .unwrap()
                .into_inner()
                .account
                .unwrap()
        }

        /// Deposits `minor` into `account_id` as its owner.
        pub async fn deposit(&self, token: &str, account_id: &str, minor: i64, currency: &str) -> transfer::Transfer {
            self.transfers()
                .await
                .deposit(bearer(
                    transfer::DepositRequest {
                        request_id: rid(),
                        account_id: account_id.to_owned(),
                        amount: money(minor, currency),
                        description: "cash in".to_owned(),
                    },
                    token,
                ))
                .await
                .unwrap()
                .into_inner()
                .transfer
                .unwrap()
        }

        /// The posted balance of `account_id`, read by the holder of `token`.
        pub async fn posted(&self, token: &str, account_id: &str) -> i64 {
            self.transfers()
                .await
                .get_balance(bearer(
                    transfer::GetBalanceRequest {
                        account_id: account_id.to_owned(),
                    },
                    token,
                ))
                .await
                .unwrap()
                .into_inner()
                .balance
                .unwrap()
                .posted
                .unwrap()
                .amount_minor
        }

        /// Asks the ledger to prove itself (as admin) and returns the report.
        pub async fn integrity(&self) -> transfer::CheckIntegrityResponse {
            let admin = self.admin_token().await;
            self.transfers()
                .await
                .check_integrity(bearer(transfer::CheckIntegrityRequest::default(), &admin))
                .await
                .unwrap()
                .into_inner()
        }
    }
}

/// Talking to the gateway: REST/JSON and grpc-web over HTTP/1.1, native
/// gRPC over h2c.
pub mod edge {
    use bytes::Bytes;
    use http::{HeaderMap, Method, StatusCode};
    use http_body_util::{BodyExt as _, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use serde_json::Value;
    use tonic::transport::Channel;

    use super::TestMesh;

    /// A REST answer: status, headers and the JSON body (Null when empty
    /// or not JSON).
    #[derive(Debug)]
    pub struct RestReply {
        /// HTTP status.
        pub status: StatusCode,
        /// Headers.
        pub headers: HeaderMap,
        /// Parsed body.
        pub json: Value,
        /// Raw body.
        pub raw: Bytes,
    }

    /// A grpc-web capable HTTP/1.1 client service.
    pub type GrpcWebService =
        tonic_web::GrpcWebClientService<Client<HttpConnector, tonic_web::GrpcWebCall<tonic::body::Body>>>;

    impl TestMesh {
        /// `http://127.0.0.1:<gateway port>`.
        pub fn gateway_url(&self) -> String {
            format!("http://{}", self.running().addrs["gateway"])
        }

        /// A raw REST request: `body` sent as is.
        pub async fn rest_raw(
            &self,
            method: Method,
            path_and_query: &str,
            body: Vec<u8>,
            headers: &[(&str, &str)],
        ) -> RestReply {
            rest_raw_at(&self.gateway_url(), method, path_and_query, body, headers).await
        }
    }

    /// A raw REST request to the gateway at `base_url` (`http://host:port`).
    pub async fn rest_raw_at(
        base_url: &str,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> RestReply {
        let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{base_url}{path_and_query}"));
        if !body.is_empty() {
            builder = builder.header("content-type", "application/json");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = client
            .request(builder.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        RestReply {
            status,
            headers,
            json,
            raw,
        }
    }

    impl TestMesh {
        /// A REST request with a JSON body and an optional bearer token.
        pub async fn rest(&self, method: Method, path: &str, body: Option<Value>, token: Option<&str>) -> RestReply {
            let bearer = token.map(|t| format!("Bearer {t}"));
            let mut headers = Vec::new();
            if let Some(bearer) = &bearer {
                headers.push(("authorization", bearer.as_str()));
            }
            let body = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
            self.rest_raw(method, path, body, &headers).await
        }

        /// A native gRPC channel to the gateway (h2c).
        pub async fn gateway_channel(&self) -> Channel {
            Channel::from_shared(self.gateway_url())
                .unwrap()
                .connect()
                .await
                .unwrap()
        }

        /// A grpc-web service to the gateway, for `*Client::with_origin`.
        pub fn grpc_web(&self) -> (GrpcWebService, http::Uri) {
            let client = Client::builder(TokioExecutor::new()).build_http();
            (
                tonic_web::GrpcWebClientService::new(client),
                self.gateway_url().parse().unwrap(),
            )
        }
    }
}

/// Reading what the services published to their event streams.
pub mod events {
    use std::time::Duration;

    use bank_proto::bank::events::v1::Event;
    use prost::Message as _;

    use super::TestMesh;

    impl TestMesh {
        /// Every event `producer` has published so far, waiting up to 5 s
        /// for at least `at_least` of them.
        pub async fn events(&self, producer: &str, at_least: usize) -> Vec<Event> {
            let client = redis::Client::open(bank_testkit::redis_url()).unwrap();
            let mut redis = client.get_multiplexed_async_connection().await.unwrap();
            let key = format!("{}:events:{producer}", self.redis_prefix);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            loop {
                let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                    .arg(&key)
                    .arg("-")
                    .arg("+")
                    .query_async(&mut redis)
                    .await
                    .unwrap();
                let events: Vec<Event> = reply
                    .ids
                    .iter()
                    .filter_map(|entry| entry.get::<Vec<u8>>("event"))
                    .map(|bytes| Event::decode(bytes.as_slice()).unwrap())
                    .collect();
                if events.len() >= at_least || tokio::time::Instant::now() >= deadline {
                    return events;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// How `stream` ends within `limit`: `Some(status)` for an error, `None`
/// for a clean end. Panics when it is still open after `limit`.
pub async fn stream_end<T>(stream: &mut tonic::Streaming<T>, limit: std::time::Duration) -> Option<tonic::Status> {
    tokio::time::timeout(limit, async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(status) => return Some(status),
            }
        }
    })
    .await
    .expect("the stream ends in time")
}

/// A base port with five free consecutive ports after it (for admin ports).
pub fn free_port_run(len: u16) -> u16 {
    for attempt in 0..200u16 {
        let base = 20_000 + (u16::try_from(std::process::id() % 20_000).unwrap_or(0) + attempt * 97) % 30_000;
        let all_free = (base..base + len).all(|port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no run of {len} free ports");
}

/// Validates an OpenAPI document with `openapi-spec-validator` (PyPI), from
/// the virtualenv `make test` prepares (`target/pyenv`). Panics with the
/// validator's output when the document is invalid.
pub fn validate_openapi(path: &std::path::Path) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("target/pyenv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make test` (it installs the Python test tools)",
        python.display()
    );
    let output = std::process::Command::new(python)
        .args(["-m", "openapi_spec_validator"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "OpenAPI document invalid:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Calling any gRPC method by path with already-encoded bytes (for
/// hostile-input and internal-service tests that go around the generated
/// clients), and a second gateway with chosen limits in front of a mesh.
pub mod raw {
    pub use bank_gateway::RawCodec;
    use bytes::Bytes;
    use tonic::{Request, Status};

    use super::TestMesh;

    /// A unary call of `path` (`/pkg.Service/Method`) with `message` as
    /// the encoded request, over any gRPC transport (a gateway channel, a
    /// grpc-web client, an mTLS channel). `token` is sent as a bearer token.
    pub async fn unary<T>(transport: T, path: &str, message: Vec<u8>, token: Option<&str>) -> Result<Bytes, Status>
    where
        T: tonic::client::GrpcService<tonic::body::Body>,
        T::Error: Into<tonic::codegen::StdError>,
        T::ResponseBody: tonic::codegen::Body<Data = Bytes> + Send + 'static,
        <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
    {
        let mut grpc = tonic::client::Grpc::new(transport)
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024);
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("not ready: {}", e.into())))?;
        let mut request = Request::new(Bytes::from(message));
        if let Some(token) = token {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        let path = http::uri::PathAndQuery::try_from(path).map_err(|_| Status::internal("bad path"))?;
        grpc.unary(request, path, RawCodec)
            .await
            .map(tonic::Response::into_inner)
    }

    impl TestMesh {
        /// Another gateway in front of this mesh's services, with `limits`
        /// (the mesh's own gateway keeps the defaults).
        pub async fn extra_gateway(&self, limits: bank_gateway::EdgeLimits) -> bank_testkit::Running {
            let addrs = &self.running().addrs;
            let url = |service: &str| Some(format!("https://{}", addrs[service]));
            let config = bank_gateway::Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                tls: bank_config::TlsPaths::in_dir(self.certs.path(), "gateway"),
                public_tls: None,
                redis: bank_config::RedisConfig {
                    ca_file: None,
                    url: bank_config::SecretString::from(bank_testkit::redis_url()),
                    key_prefix: self.redis_prefix.clone(),
                },
                peers: bank_config::PeerUrls {
                    auth: url("auth"),
                    account: url("account"),
                    transfer: url("transfer"),
                    finance: url("finance"),
                    analytics: url("analytics"),
                },
                cors_origins: Vec::new(),
                trusted_proxies: Vec::new(),
                limits,
                rate_limit: bank_gateway::RateLimitConfig {
                    per_second: 100_000,
                    burst: 100_000,
                },
                log_format: bank_config::LogFormat::Json,
            };
            bank_testkit::spawn(move |listener, shutdown| bank_gateway::serve(config, listener, shutdown)).await
        }
    }
}
