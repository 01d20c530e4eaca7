//! A bank for one test: Auth, Account, Transfer and Finance started in this
//! process on free ports with mTLS between them, each with its own fresh
//! database, sharing the real Redis under a test-unique prefix. End users
//! arrive as the gateway would, with a real access token from Auth.

use account_service::CardsConfig;
use auth_service::{BootstrapAdmin, JwtConfig, ThrottleConfig};
use bank_config::{PeerUrls, SecretString};
use bank_proto::bank::account::v1 as account;
use bank_proto::bank::account::v1::account_service_client::AccountServiceClient;
use bank_proto::bank::auth::v1 as auth;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::events::v1::Event;
use bank_proto::bank::finance::v1 as pb;
use bank_proto::bank::finance::v1::finance_service_client::FinanceServiceClient;
use bank_proto::bank::transfer::v1 as transfer;
use bank_proto::bank::transfer::v1::transfer_internal_service_client::TransferInternalServiceClient;
use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
use bank_testkit::{Running, TestDatabase, TestPki};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use finance_service::FinanceConfig;
use prost::Message;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

pub const ADMIN_EMAIL: &str = "root.admin@bank.example";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests-1";
pub const PASSWORD: &str = "correct horse battery staple 42";
pub const USD: &str = "USD";

/// How a test wants its bank.
pub struct Options {
    /// The healer's settings (by default it never touches a test's own
    /// in-flight work).
    pub finance: FinanceConfig,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            finance: FinanceConfig {
                heal_interval_ms: 60_000,
                heal_min_age_ms: 600_000,
            },
        }
    }
}

pub struct TestBank {
    pub pki: TestPki,
    pub finance_db: TestDatabase,
    pub redis_prefix: String,
    pub finance: FinanceServiceClient<Channel>,
    pub accounts: AccountServiceClient<Channel>,
    pub transfers: TransferServiceClient<Channel>,
    pub auth: AuthServiceClient<Channel>,
    /// The ledger's internal API as the finance workload (to cause the
    /// states a crash would leave behind).
    pub ledger: TransferInternalServiceClient<Channel>,
    finance_running: Option<Running>,
    finance_config: finance_service::Config,
    transfer: Option<Running>,
    transfer_config: transfer_service::Config,
    transfer_addr: std::net::SocketAddr,
    _others: Vec<Running>,
    _dbs: Vec<TestDatabase>,
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
    let auth_db = TestDatabase::create("fin_auth").await;
    let transfer_db = TestDatabase::create("fin_ledger").await;
    let account_db = TestDatabase::create("fin_account").await;
    let finance_db = TestDatabase::create("fin_finance").await;

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
    let (finance_listener, _) = bank_testkit::listener().await;
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
    let account_config = account_service::Config {
        mesh: account_mesh,
        cards: CardsConfig::generate("k1"),
        currencies: account_service::default_currencies(),
        lookup_limit: account_service::LookupLimitConfig::default(),
    };
    let account_running = bank_testkit::spawn_on(account_listener, move |listener, shutdown| {
        account_service::serve(account_config, listener, shutdown)
    });
    let mut finance_mesh = bank_testkit::mesh_config(&pki, "finance", &finance_db, &redis_prefix);
    finance_mesh.peers = peers.clone();
    let finance_config = finance_service::Config {
        mesh: finance_mesh,
        finance: options.finance,
    };
    let config = finance_config.clone();
    let finance_running = bank_testkit::spawn_on(finance_listener, move |listener, shutdown| {
        finance_service::serve(config, listener, shutdown)
    });

    let finance = FinanceServiceClient::new(bank_testkit::channel(&pki, "gateway", finance_running.addr).await);
    let accounts = AccountServiceClient::new(bank_testkit::channel(&pki, "gateway", account_running.addr).await);
    let transfers = TransferServiceClient::new(bank_testkit::channel(&pki, "gateway", transfer_running.addr).await);
    let auth = AuthServiceClient::new(bank_testkit::channel(&pki, "gateway", auth_running.addr).await);
    let ledger =
        TransferInternalServiceClient::new(bank_testkit::channel(&pki, "finance", transfer_running.addr).await);
    TestBank {
        pki,
        finance_db,
        redis_prefix,
        finance,
        accounts,
        transfers,
        auth,
        ledger,
        finance_running: Some(finance_running),
        finance_config,
        transfer: Some(transfer_running),
        transfer_config,
        transfer_addr,
        _others: vec![auth_running, account_running],
        _dbs: vec![auth_db, transfer_db, account_db],
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
        let listener = tokio::net::TcpListener::bind(self.transfer_addr).await.unwrap();
        let config = self.transfer_config.clone();
        self.transfer = Some(bank_testkit::spawn_on(listener, move |listener, shutdown| {
            transfer_service::serve(config, listener, shutdown)
        }));
        bank_testkit::channel(&self.pki, "gateway", self.transfer_addr).await;
    }

    /// Stops the Finance service and starts a new one on the same
    /// database (a crash and restart, as far as the database can tell).
    pub async fn restart_finance(&mut self) {
        if let Some(running) = self.finance_running.take() {
            running.stop().await.unwrap();
        }
        let config = self.finance_config.clone();
        let running =
            bank_testkit::spawn(move |listener, shutdown| finance_service::serve(config, listener, shutdown)).await;
        self.finance = FinanceServiceClient::new(bank_testkit::channel(&self.pki, "gateway", running.addr).await);
        self.finance_running = Some(running);
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

    /// Opens a checking account of `who` in `currency`.
    pub async fn open(&self, who: &Member, currency: &str) -> account::Account {
        self.accounts
            .clone()
            .open_account(bearer(
                account::OpenAccountRequest {
                    request_id: new_request_id(),
                    r#type: account::AccountType::Checking as i32,
                    currency: currency.to_owned(),
                    display_name: "Everyday".to_owned(),
                },
                &who.token,
            ))
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
    }

    pub async fn freeze(&self, admin: &Member, account_id: &str) {
        self.accounts
            .clone()
            .freeze_account(bearer(
                account::FreezeAccountRequest {
                    account_id: account_id.to_owned(),
                    reason: "test".to_owned(),
                },
                &admin.token,
            ))
            .await
            .unwrap();
    }

    pub async fn unfreeze(&self, admin: &Member, account_id: &str) {
        self.accounts
            .clone()
            .unfreeze_account(bearer(
                account::UnfreezeAccountRequest {
                    account_id: account_id.to_owned(),
                    reason: "test".to_owned(),
                },
                &admin.token,
            ))
            .await
            .unwrap();
    }

    pub async fn deposit(&self, who: &Member, account_id: &str, amount_minor: i64) {
        self.transfers
            .clone()
            .deposit(bearer(
                transfer::DepositRequest {
                    request_id: new_request_id(),
                    account_id: account_id.to_owned(),
                    amount: Some(money(amount_minor, USD)),
                    description: "cash in".to_owned(),
                },
                &who.token,
            ))
            .await
            .unwrap();
    }

    pub async fn withdraw(&self, who: &Member, account_id: &str, amount_minor: i64) {
        self.transfers
            .clone()
            .withdraw(bearer(
                transfer::WithdrawRequest {
                    request_id: new_request_id(),
                    account_id: account_id.to_owned(),
                    amount: Some(money(amount_minor, USD)),
                    description: "cash out".to_owned(),
                },
                &who.token,
            ))
            .await
            .unwrap();
    }

    /// The posted balance of `account_id` as its owner sees it.
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

    /// The posted balance of a system account (negative for LOAN_FUNDING
    /// once it has paid out).
    pub async fn system_balance(&self, kind: transfer::LedgerAccountKind) -> i64 {
        self.ledger
            .clone()
            .get_ledger_balance(transfer::GetLedgerBalanceRequest {
                account: Some(transfer::LedgerAccountRef {
                    target: Some(transfer::ledger_account_ref::Target::System(
                        transfer::SystemAccountRef {
                            kind: kind as i32,
                            currency: USD.to_owned(),
                        },
                    )),
                }),
            })
            .await
            .unwrap()
            .into_inner()
            .ledger_account
            .unwrap()
            .balance
            .unwrap()
            .posted
            .unwrap()
            .amount_minor
    }

    pub async fn try_create_option(
        &self,
        who: &Member,
        request_id: &str,
        option: pb::FinancingOption,
    ) -> Result<pb::FinancingOption, Status> {
        self.finance
            .clone()
            .create_financing_option(bearer(
                pb::CreateFinancingOptionRequest {
                    request_id: request_id.to_owned(),
                    financing_option: Some(option),
                },
                &who.token,
            ))
            .await
            .map(|r| r.into_inner().financing_option.unwrap())
    }

    /// A personal-loan option in USD: 12 % a year, 1..60 months,
    /// 100.00..100,000.00.
    pub async fn option(&self, admin: &Member) -> pb::FinancingOption {
        self.try_create_option(admin, &new_request_id(), option_template())
            .await
            .unwrap()
    }

    pub async fn try_submit(
        &self,
        who: &Member,
        request: pb::SubmitApplicationRequest,
    ) -> Result<pb::Application, Status> {
        self.finance
            .clone()
            .submit_application(bearer(request, &who.token))
            .await
            .map(|r| r.into_inner().application.unwrap())
    }

    /// A personal loan of `amount_minor` USD over `term` months into
    /// `account_id`.
    pub async fn submit(&self, who: &Member, account_id: &str, amount_minor: i64, term: i32) -> pb::Application {
        self.try_submit(who, submit_request(account_id, amount_minor, term))
            .await
            .unwrap()
    }

    pub async fn select(
        &self,
        who: &Member,
        application_id: &str,
        option_id: &str,
    ) -> Result<pb::SelectFinancingOptionResponse, Status> {
        self.finance
            .clone()
            .select_financing_option(bearer(
                pb::SelectFinancingOptionRequest {
                    application_id: application_id.to_owned(),
                    option_id: option_id.to_owned(),
                },
                &who.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn decide_with(
        &self,
        who: &Member,
        request_id: &str,
        application_id: &str,
        decision: pb::Decision,
        reason: &str,
    ) -> Result<pb::DecideApplicationResponse, Status> {
        self.finance
            .clone()
            .decide_application(bearer(
                pb::DecideApplicationRequest {
                    request_id: request_id.to_owned(),
                    application_id: application_id.to_owned(),
                    decision: decision as i32,
                    reason: reason.to_owned(),
                },
                &who.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn decide(
        &self,
        who: &Member,
        application_id: &str,
        decision: pb::Decision,
        reason: &str,
    ) -> Result<pb::DecideApplicationResponse, Status> {
        self.decide_with(who, &new_request_id(), application_id, decision, reason)
            .await
    }

    pub async fn resubmit(&self, who: &Member, application_id: &str) -> Result<pb::Application, Status> {
        self.finance
            .clone()
            .resubmit_application(bearer(
                pb::ResubmitApplicationRequest {
                    application_id: application_id.to_owned(),
                    note: "payslips attached".to_owned(),
                },
                &who.token,
            ))
            .await
            .map(|r| r.into_inner().application.unwrap())
    }

    pub async fn withdraw_application(&self, who: &Member, application_id: &str) -> Result<pb::Application, Status> {
        self.finance
            .clone()
            .withdraw_application(bearer(
                pb::WithdrawApplicationRequest {
                    application_id: application_id.to_owned(),
                    note: String::new(),
                },
                &who.token,
            ))
            .await
            .map(|r| r.into_inner().application.unwrap())
    }

    pub async fn get_application(&self, who: &Member, application_id: &str) -> Result<pb::Application, Status> {
        self.finance
            .clone()
            .get_application(bearer(
                pb::GetApplicationRequest {
                    application_id: application_id.to_owned(),
                },
                &who.token,
            ))
            .await
            .map(|r| r.into_inner().application.unwrap())
    }

    pub async fn get_loan(&self, who: &Member, loan_id: &str) -> Result<pb::Loan, Status> {
        self.finance
            .clone()
            .get_loan(bearer(
                pb::GetLoanRequest {
                    loan_id: loan_id.to_owned(),
                },
                &who.token,
            ))
            .await
            .map(|r| r.into_inner().loan.unwrap())
    }

    pub async fn schedule(&self, who: &Member, loan_id: &str) -> Result<pb::GetRepaymentScheduleResponse, Status> {
        self.finance
            .clone()
            .get_repayment_schedule(bearer(
                pb::GetRepaymentScheduleRequest {
                    loan_id: loan_id.to_owned(),
                },
                &who.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn repay_with(
        &self,
        who: &Member,
        request_id: &str,
        loan_id: &str,
        account_id: &str,
        amount_minor: i64,
    ) -> Result<pb::RepayLoanResponse, Status> {
        self.finance
            .clone()
            .repay_loan(bearer(
                pb::RepayLoanRequest {
                    request_id: request_id.to_owned(),
                    loan_id: loan_id.to_owned(),
                    from_account_id: account_id.to_owned(),
                    amount: Some(money(amount_minor, USD)),
                },
                &who.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn repay(
        &self,
        who: &Member,
        loan_id: &str,
        account_id: &str,
        amount_minor: i64,
    ) -> Result<pb::RepayLoanResponse, Status> {
        self.repay_with(who, &new_request_id(), loan_id, account_id, amount_minor)
            .await
    }

    /// A member with an account, an application of `amount_minor` over
    /// `term` months with the standard option selected, still SUBMITTED.
    pub async fn ready_application(&self, admin: &Member, amount_minor: i64, term: i32) -> Ready {
        let member = self.member().await;
        let account = self.open(&member, USD).await;
        let option = self.option(admin).await;
        let application = self.submit(&member, &account.account_id, amount_minor, term).await;
        self.select(&member, &application.application_id, &option.option_id)
            .await
            .unwrap();
        Ready {
            member,
            account_id: account.account_id,
            application_id: application.application_id,
            option_id: option.option_id,
        }
    }

    /// A member with an approved loan of `amount_minor` over `term` months.
    pub async fn loan(&self, admin: &Member, amount_minor: i64, term: i32) -> (Ready, pb::Loan) {
        let ready = self.ready_application(admin, amount_minor, term).await;
        let decided = self
            .decide(admin, &ready.application_id, pb::Decision::Approve, "")
            .await
            .unwrap();
        (ready, decided.loan.unwrap())
    }

    async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(self.finance_db.url()).await.unwrap()
    }

    /// One number from the finance database (a query selecting `n`).
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<Count> = diesel::sql_query(sql).load(&mut self.conn().await).await.unwrap();
        rows[0].n
    }

    /// Runs a statement on the finance database.
    pub async fn execute(&self, sql: &str) {
        diesel::sql_query(sql).execute(&mut self.conn().await).await.unwrap();
    }

    /// Every row of the finance schema as JSON text (the outbox's publish
    /// marks excluded: the relay changes them in the background).
    pub async fn dump(&self) -> String {
        #[derive(QueryableByName)]
        struct Dump {
            #[diesel(sql_type = diesel::sql_types::Text)]
            dump: String,
        }
        let mut conn = self.conn().await;
        let mut all = String::new();
        for (table, columns) in [
            ("financing_options", "t.*"),
            ("applications", "t.*"),
            ("application_history", "t.*"),
            ("loans", "t.*"),
            ("installments", "t.*"),
            ("repayments", "t.*"),
            ("idempotency_keys", "t.*"),
            ("outbox", "t.sequence, t.event_id, t.event_type"),
        ] {
            let rows: Vec<Dump> = diesel::sql_query(format!(
                "SELECT coalesce(json_agg(x)::text, '') AS dump FROM \
                 (SELECT {columns} FROM finance.{table} t ORDER BY 1) x"
            ))
            .load(&mut conn)
            .await
            .unwrap();
            for row in rows {
                all.push_str(table);
                all.push_str(": ");
                all.push_str(&row.dump);
                all.push('\n');
            }
        }
        all
    }

    /// The events in finance's outbox, in sequence order.
    pub async fn outbox(&self) -> Vec<Event> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Binary)]
            payload: Vec<u8>,
        }
        let rows: Vec<Row> = diesel::sql_query("SELECT payload FROM finance.outbox ORDER BY sequence")
            .load(&mut self.conn().await)
            .await
            .unwrap();
        rows.iter()
            .map(|r| Event::decode(r.payload.as_slice()).unwrap())
            .collect()
    }

    /// The raw outbox payloads.
    pub async fn outbox_payloads(&self) -> Vec<Vec<u8>> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Binary)]
            payload: Vec<u8>,
        }
        let rows: Vec<Row> = diesel::sql_query("SELECT payload FROM finance.outbox ORDER BY sequence")
            .load(&mut self.conn().await)
            .await
            .unwrap();
        rows.into_iter().map(|r| r.payload).collect()
    }
}

/// A member's application, ready for a decision.
#[derive(Clone, Debug)]
pub struct Ready {
    pub member: Member,
    pub account_id: String,
    pub application_id: String,
    pub option_id: String,
}

/// The standard option: personal, USD, 12 %, 1..60 months, 100.00..100,000.00.
pub fn option_template() -> pb::FinancingOption {
    pb::FinancingOption {
        name: format!("Personal loan {}", &new_request_id()[..8]),
        description: "Unsecured, fixed rate.".to_owned(),
        product_type: pb::ProductType::Personal as i32,
        currency: USD.to_owned(),
        annual_rate_bps: 1_200,
        min_term_months: 1,
        max_term_months: 60,
        min_amount: Some(money(10_000, USD)),
        max_amount: Some(money(10_000_000, USD)),
        ..pb::FinancingOption::default()
    }
}

pub fn submit_request(account_id: &str, amount_minor: i64, term: i32) -> pb::SubmitApplicationRequest {
    pb::SubmitApplicationRequest {
        request_id: new_request_id(),
        product_type: pb::ProductType::Personal as i32,
        amount: Some(money(amount_minor, USD)),
        term_months: term,
        purpose: "A new roof for the house".to_owned(),
        disbursement_account_id: account_id.to_owned(),
    }
}

pub fn money(amount_minor: i64, currency: &str) -> Money {
    Money {
        amount_minor,
        currency: currency.to_owned(),
    }
}

pub fn minor(money: Option<&Money>) -> i64 {
    money.map_or(0, |m| m.amount_minor)
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

pub fn status_of(application: &pb::Application) -> pb::ApplicationStatus {
    pb::ApplicationStatus::try_from(application.status).unwrap()
}
