//! A bank for one test: Auth, Transfer and Account started in this process
//! on free ports with mTLS between them, each with its own fresh database,
//! sharing the real Redis under a test-unique prefix. End users arrive as
//! the gateway would, with a real access token from Auth.

use account_service::{CardsConfig, Config, LookupLimitConfig};
use auth_service::{BootstrapAdmin, JwtConfig, ThrottleConfig};
use bank_config::{PeerUrls, SecretString};
use bank_proto::bank::account::v1 as pb;
use bank_proto::bank::account::v1::account_internal_service_client::AccountInternalServiceClient;
use bank_proto::bank::account::v1::account_service_client::AccountServiceClient;
use bank_proto::bank::auth::v1 as auth;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as transfer;
use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
use bank_testkit::{Running, TestDatabase, TestPki};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

pub const ADMIN_EMAIL: &str = "root.admin@bank.example";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests-1";
pub const PASSWORD: &str = "correct horse battery staple 42";

/// How a test wants its bank.
pub struct Options {
    pub cards: CardsConfig,
    pub lookup_limit: LookupLimitConfig,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cards: CardsConfig::generate("k1"),
            lookup_limit: LookupLimitConfig::default(),
        }
    }
}

pub struct TestBank {
    pub pki: TestPki,
    pub cards: CardsConfig,
    pub account_db: TestDatabase,
    pub redis_prefix: String,
    pub auth_url: String,
    pub transfer_url: String,
    pub accounts: AccountServiceClient<Channel>,
    pub transfers: TransferServiceClient<Channel>,
    pub auth: AuthServiceClient<Channel>,
    pub account: Running,
    pub extra: Vec<Running>,
    transfer: Option<Running>,
    transfer_config: transfer_service::Config,
    _auth: Running,
    _dbs: Vec<TestDatabase>,
    _streams: StreamCleanup,
}

/// Lets the test's event streams expire once the test is over (streams
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

/// A signed-up, logged-in member.
#[derive(Clone, Debug)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub token: String,
}

pub async fn spawn_bank() -> TestBank {
    spawn_bank_with(Options::default()).await
}

pub async fn spawn_bank_with(options: Options) -> TestBank {
    let pki = TestPki::new();
    let redis_prefix = bank_testkit::redis_prefix();
    let auth_db = TestDatabase::create("acct_auth").await;
    let transfer_db = TestDatabase::create("acct_ledger").await;
    let account_db = TestDatabase::create("acct_account").await;

    let auth_config = auth_service::Config {
        mesh: bank_testkit::mesh_config(&pki, "auth", &auth_db, &redis_prefix),
        jwt: JwtConfig {
            signing_key: pki.jwt_key("auth"),
            previous_keys: Vec::new(),
            access_ttl_secs: 900,
            refresh_ttl_secs: 3600,
        },
        throttle: ThrottleConfig::default(),
        bootstrap_admin: Some(BootstrapAdmin {
            email: ADMIN_EMAIL.to_owned(),
            password: SecretString::from(ADMIN_PASSWORD.to_owned()),
        }),
    };
    let auth_running =
        bank_testkit::spawn(move |listener, shutdown| auth_service::serve(auth_config, listener, shutdown)).await;

    let (account_listener, account_addr) = bank_testkit::listener().await;
    let (transfer_listener, transfer_addr) = bank_testkit::listener().await;
    let peers = PeerUrls {
        auth: Some(auth_running.url()),
        account: Some(format!("https://{account_addr}")),
        transfer: Some(format!("https://{transfer_addr}")),
        ..PeerUrls::default()
    };
    let mut transfer_mesh = bank_testkit::mesh_config(&pki, "transfer", &transfer_db, &redis_prefix);
    transfer_mesh.peers = peers.clone();
    let transfer_config = transfer_service::Config {
        mesh: transfer_mesh,
        ledger: transfer_service::LedgerConfig::default(),
    };
    let config = transfer_config.clone();
    let transfer_running = bank_testkit::spawn_on(transfer_listener, move |listener, shutdown| {
        transfer_service::serve(config, listener, shutdown)
    });
    let mut account_mesh = bank_testkit::mesh_config(&pki, "account", &account_db, &redis_prefix);
    account_mesh.peers = peers.clone();
    let account_config = Config {
        mesh: account_mesh,
        cards: options.cards.clone(),
        currencies: account_service::default_currencies(),
        lookup_limit: options.lookup_limit,
    };
    let account_running = bank_testkit::spawn_on(account_listener, move |listener, shutdown| {
        account_service::serve(account_config, listener, shutdown)
    });

    let accounts = AccountServiceClient::new(bank_testkit::channel(&pki, "gateway", account_running.addr).await);
    let transfers = TransferServiceClient::new(bank_testkit::channel(&pki, "gateway", transfer_running.addr).await);
    let auth = AuthServiceClient::new(bank_testkit::channel(&pki, "gateway", auth_running.addr).await);
    let streams = StreamCleanup(
        ["auth", "account", "transfer"]
            .iter()
            .map(|producer| format!("{redis_prefix}:events:{producer}"))
            .collect(),
    );
    TestBank {
        pki,
        cards: options.cards,
        account_db,
        redis_prefix,
        auth_url: auth_running.url(),
        transfer_url: transfer_running.url(),
        accounts,
        transfers,
        auth,
        account: account_running,
        extra: Vec::new(),
        transfer: Some(transfer_running),
        transfer_config,
        _auth: auth_running,
        _dbs: vec![auth_db, transfer_db],
        _streams: streams,
    }
}

impl TestBank {
    /// Stops the Transfer service (the ledger becomes unreachable).
    pub async fn stop_transfer(&mut self) {
        if let Some(running) = self.transfer.take() {
            running.stop().await.unwrap();
        }
    }

    /// Starts the Transfer service again on its old address.
    pub async fn restart_transfer(&mut self) {
        let addr: std::net::SocketAddr = self.transfer_url.trim_start_matches("https://").parse().unwrap();
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let config = self.transfer_config.clone();
        self.transfer = Some(bank_testkit::spawn_on(listener, move |listener, shutdown| {
            transfer_service::serve(config, listener, shutdown)
        }));
        bank_testkit::channel(&self.pki, "gateway", addr).await;
    }

    /// Starts a second Account service on the same database with other
    /// card keys (a rolling key rotation) and returns a client to it.
    pub async fn second_account_service(&mut self, cards: CardsConfig) -> AccountServiceClient<Channel> {
        let mut mesh = bank_testkit::mesh_config(&self.pki, "account", &self.account_db, &self.redis_prefix);
        mesh.peers = PeerUrls {
            auth: Some(self.auth_url.clone()),
            transfer: Some(self.transfer_url.clone()),
            ..PeerUrls::default()
        };
        let config = Config {
            mesh,
            cards,
            currencies: account_service::default_currencies(),
            lookup_limit: LookupLimitConfig::default(),
        };
        let running =
            bank_testkit::spawn(move |listener, shutdown| account_service::serve(config, listener, shutdown)).await;
        let client = AccountServiceClient::new(bank_testkit::channel(&self.pki, "gateway", running.addr).await);
        self.extra.push(running);
        client
    }

    /// The internal service as workload `name`.
    pub async fn internal_as(&self, name: &str) -> AccountInternalServiceClient<Channel> {
        AccountInternalServiceClient::new(bank_testkit::channel(&self.pki, name, self.account.addr).await)
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        self.auth
            .clone()
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

    pub async fn member(&self) -> Member {
        let email = format!(
            "member.{}@example.com",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let user = self
            .auth
            .clone()
            .sign_up(auth::SignUpRequest {
                email: email.clone(),
                password: PASSWORD.to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        let token = self.login(&email, PASSWORD).await;
        Member {
            user_id: user.id,
            email,
            token,
        }
    }

    pub async fn admin(&self) -> Member {
        let token = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let me = self
            .auth
            .clone()
            .me(bearer(auth::MeRequest {}, &token))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        Member {
            user_id: me.id,
            email: ADMIN_EMAIL.to_owned(),
            token,
        }
    }

    pub async fn open(&self, who: &Member, currency: &str) -> pb::Account {
        self.try_open(who, &new_request_id(), pb::AccountType::Checking, currency)
            .await
            .unwrap()
    }

    pub async fn try_open(
        &self,
        who: &Member,
        request_id: &str,
        kind: pb::AccountType,
        currency: &str,
    ) -> Result<pb::Account, Status> {
        self.accounts
            .clone()
            .open_account(bearer(
                pb::OpenAccountRequest {
                    request_id: request_id.to_owned(),
                    r#type: kind as i32,
                    currency: currency.to_owned(),
                    display_name: "Everyday".to_owned(),
                },
                &who.token,
            ))
            .await
            .map(|r| r.into_inner().account.unwrap())
    }

    pub async fn get(&self, who: &Member, account_id: &str) -> Result<pb::Account, Status> {
        self.accounts
            .clone()
            .get_account(bearer(
                pb::GetAccountRequest {
                    account_id: account_id.to_owned(),
                },
                &who.token,
            ))
            .await
            .map(|r| r.into_inner().account.unwrap())
    }

    pub async fn deposit(&self, who: &Member, account: &pb::Account, amount_minor: i64) -> transfer::Transfer {
        self.transfers
            .clone()
            .deposit(bearer(
                transfer::DepositRequest {
                    request_id: new_request_id(),
                    account_id: account.account_id.clone(),
                    amount: Some(money(amount_minor, &account.currency)),
                    description: "cash in".to_owned(),
                },
                &who.token,
            ))
            .await
            .unwrap()
            .into_inner()
            .transfer
            .unwrap()
    }

    pub async fn withdraw(&self, who: &Member, account: &pb::Account, amount_minor: i64) {
        self.transfers
            .clone()
            .withdraw(bearer(
                transfer::WithdrawRequest {
                    request_id: new_request_id(),
                    account_id: account.account_id.clone(),
                    amount: Some(money(amount_minor, &account.currency)),
                    description: "cash out".to_owned(),
                },
                &who.token,
            ))
            .await
            .unwrap();
    }

    pub async fn balance(&self, who: &Member, account_id: &str) -> i64 {
        self.transfers
            .clone()
            .get_balance(bearer(
                transfer::GetBalanceRequest {
                    account_id: account_id.to_owned(),
                },
                &who.token,
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

    pub async fn issue(&self, who: &Member, account_id: &str) -> pb::IssueCardResponse {
        self.try_issue(who, &new_request_id(), account_id, "JANE DOE")
            .await
            .unwrap()
    }

    pub async fn try_issue(
        &self,
        who: &Member,
        request_id: &str,
        account_id: &str,
        name: &str,
    ) -> Result<pb::IssueCardResponse, Status> {
        self.accounts
            .clone()
            .issue_card(bearer(
                pb::IssueCardRequest {
                    request_id: request_id.to_owned(),
                    account_id: account_id.to_owned(),
                    cardholder_name: name.to_owned(),
                },
                &who.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn purchase(
        &self,
        who: &Member,
        request: pb::CreateCardPurchaseRequest,
    ) -> Result<pb::CardPurchase, Status> {
        purchase_with(&self.accounts, who, request).await
    }

    /// Every row of the account schema as JSON text.
    pub async fn dump_account_tables(&self) -> String {
        #[derive(QueryableByName)]
        struct Dump {
            #[diesel(sql_type = diesel::sql_types::Text)]
            dump: String,
        }
        let mut conn = AsyncPgConnection::establish(self.account_db.url()).await.unwrap();
        let mut all = String::new();
        for table in ["accounts", "cards", "profiles", "idempotency_keys"] {
            let rows: Vec<Dump> = diesel::sql_query(format!(
                "SELECT coalesce(json_agg(t)::text, '') AS dump FROM account.{table} t"
            ))
            .load(&mut conn)
            .await
            .unwrap();
            for row in rows {
                all.push_str(&row.dump);
                all.push('\n');
            }
        }
        all
    }

    /// One number from the account database (a COUNT query).
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = AsyncPgConnection::establish(self.account_db.url()).await.unwrap();
        let rows: Vec<Count> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
        rows[0].n
    }
}

pub async fn purchase_with(
    client: &AccountServiceClient<Channel>,
    who: &Member,
    request: pb::CreateCardPurchaseRequest,
) -> Result<pb::CardPurchase, Status> {
    client
        .clone()
        .create_card_purchase(bearer(request, &who.token))
        .await
        .map(|r| r.into_inner().purchase.unwrap())
}

/// A purchase request for `card` (the issuance response) of `amount_minor`.
pub fn purchase_request(
    card: &pb::IssueCardResponse,
    amount_minor: i64,
    currency: &str,
) -> pb::CreateCardPurchaseRequest {
    let c = card.card.as_ref().unwrap();
    pb::CreateCardPurchaseRequest {
        request_id: new_request_id(),
        card_number: card.pan.clone(),
        expiry_month: c.expiry_month,
        expiry_year: c.expiry_year,
        cvv: card.cvv.clone(),
        merchant_name: "Corner Shop".to_owned(),
        merchant_category_code: "5411".to_owned(),
        amount: Some(money(amount_minor, currency)),
    }
}

pub fn money(amount_minor: i64, currency: &str) -> Money {
    Money {
        amount_minor,
        currency: currency.to_owned(),
    }
}

pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
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

pub fn metadata(status: &Status, key: &str) -> Option<String> {
    status
        .get_error_details()
        .error_info()
        .and_then(|info| info.metadata.get(key).cloned())
}

pub fn violations(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

/// Asserts `result` failed with `code` and ErrorInfo `reason`.
#[track_caller]
pub fn assert_status<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, expected_reason: &str) -> Status {
    let status = result.expect_err("expected an error");
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason(&status), expected_reason, "{status:?}");
    status
}

/// A valid account number that (almost surely) does not exist.
pub fn unknown_account_number() -> String {
    account_service::AccountNumber::generate().as_str().to_owned()
}
