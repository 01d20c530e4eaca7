//! Analytics for one test: the real Analytics service (and the real Auth
//! service, for admin and member tokens) on free ports with mTLS, each with
//! a fresh database, and the real Redis under a test-unique prefix. Events
//! are written the way the outbox relay writes them (XADD of
//! `<prefix>:events:<producer>`, entry id `<sequence>-0`), or through a
//! real relay (`bank_outbox`) from a scratch outbox.

use std::collections::HashMap;
use std::time::Duration;

use analytics_service::{Config, ConsumerConfig, FraudConfig, PRODUCERS};
use auth_service::{BootstrapAdmin, JwtConfig, ThrottleConfig};
use bank_config::{PeerUrls, SecretString};
use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use bank_proto::bank::auth::v1 as auth;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_proto::bank::common::v1::{CalendarDate, Money, YearMonth};
use bank_proto::bank::events::v1 as ev;
use bank_proto::bank::events::v1::event::Payload;
use bank_testkit::{Running, TestDatabase, TestPki};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use prost::Message as _;
use redis::aio::ConnectionManager;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "root.admin@bank.example";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests-1";
pub const PASSWORD: &str = "correct horse battery staple 42";
/// How long a test waits for the consumer to catch up.
const CATCH_UP_TIMEOUT_MS: u64 = 20_000;

/// How a test wants its analytics.
pub struct Options {
    pub consumer: ConsumerConfig,
    pub fraud: FraudConfig,
    /// Another Redis for analytics (and the events); the shared one if unset.
    pub redis_url: Option<String>,
    /// Auth publishes its events where analytics reads them (by default it
    /// has a prefix of its own, so that a test controls every event).
    pub auth_shares_prefix: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            consumer: ConsumerConfig {
                block_ms: 200,
                claim_min_idle_ms: 1_000,
                ..ConsumerConfig::default()
            },
            fraud: FraudConfig::default(),
            redis_url: None,
            auth_shares_prefix: false,
        }
    }
}

/// Thresholds small enough for tests to cross: USD 100.00 large, 10.00 on
/// new accounts, more than 3 transfers in 10 minutes.
pub fn test_fraud() -> FraudConfig {
    FraudConfig {
        large_amount_minor: [("USD".to_owned(), 10_000)].into_iter().collect(),
        velocity_max_transfers: 3,
        velocity_window_secs: 600,
        new_account_amount_minor: [("USD".to_owned(), 1_000)].into_iter().collect(),
    }
}

pub struct TestAnalytics {
    _pki: TestPki,
    /// The analytics key prefix: its streams are `<prefix>:events:*`.
    pub prefix: String,
    pub db: TestDatabase,
    pub client: AnalyticsServiceClient<Channel>,
    pub auth: AuthServiceClient<Channel>,
    pub streams: Streams,
    pub config: Config,
    running: Option<Running>,
    _auth: Running,
    _auth_db: TestDatabase,
}

/// A signed-up, logged-in user.
#[derive(Clone, Debug)]
pub struct User {
    pub user_id: String,
    pub email: String,
    pub token: String,
}

impl User {
    pub fn id(&self) -> Uuid {
        Uuid::parse_str(&self.user_id).unwrap()
    }
}

pub async fn spawn() -> TestAnalytics {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> TestAnalytics {
    let pki = TestPki::new();
    // Auth publishes its own events under its prefix; analytics gets a
    // prefix of its own so that a test controls every event it consumes.
    let prefix = bank_testkit::redis_prefix();
    let auth_prefix = if options.auth_shares_prefix {
        prefix.clone()
    } else {
        bank_testkit::redis_prefix()
    };
    let redis_url = options.redis_url.clone().unwrap_or_else(bank_testkit::redis_url);
    let auth_db = TestDatabase::create("an_auth").await;
    let db = TestDatabase::create("analytics").await;
    let auth_config = auth_service::Config {
        mesh: bank_testkit::mesh_config(&pki, "auth", &auth_db, &auth_prefix),
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
    let mut mesh = bank_testkit::mesh_config(&pki, "analytics", &db, &prefix);
    mesh.redis.url = SecretString::from(redis_url.clone());
    mesh.peers = PeerUrls {
        auth: Some(auth_running.url()),
        ..PeerUrls::default()
    };
    let config = Config {
        mesh,
        consumer: options.consumer,
        fraud: options.fraud,
    };
    let serving = config.clone();
    let running =
        bank_testkit::spawn(move |listener, shutdown| analytics_service::serve(serving, listener, shutdown)).await;
    let client = AnalyticsServiceClient::new(bank_testkit::channel(&pki, "gateway", running.addr).await);
    let auth = AuthServiceClient::new(bank_testkit::channel(&pki, "gateway", auth_running.addr).await);
    let streams = Streams::connect(&redis_url, &prefix).await;
    TestAnalytics {
        _pki: pki,
        prefix,
        db,
        client,
        auth,
        streams,
        config,
        running: Some(running),
        _auth: auth_running,
        _auth_db: auth_db,
    }
}

impl TestAnalytics {
    /// Stops the Analytics service (shutdown as on SIGTERM).
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.unwrap();
        }
    }

    /// A log-in that fails (wrong password or unknown email).
    pub async fn failed_login(&self, email: &str) {
        let status = self
            .auth
            .clone()
            .login(auth::LoginRequest {
                email: email.to_owned(),
                password: "not the password at all".to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    }

    async fn login(&self, email: &str, password: &str) -> String {
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

    pub async fn member(&self) -> User {
        let email = format!("member.{}@example.com", &Uuid::new_v4().simple().to_string()[..12]);
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
        User {
            user_id: user.id,
            email,
            token,
        }
    }

    pub async fn admin(&self) -> User {
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
        User {
            user_id: me.id,
            email: ADMIN_EMAIL.to_owned(),
            token,
        }
    }

    /// Waits until the consumer group has applied and acknowledged every
    /// entry of every stream that exists.
    pub async fn caught_up(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(CATCH_UP_TIMEOUT_MS);
        loop {
            if self.streams.drained(&self.config.consumer.group).await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the consumer did not catch up: {}",
                self.streams.describe(&self.config.consumer.group).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn summary(&self, who: &User, start: NaiveDate, end: NaiveDate) -> pb::GetSummaryResponse {
        self.try_summary(who, Some(date(start)), Some(date(end)), 0)
            .await
            .unwrap()
    }

    pub async fn try_summary(
        &self,
        who: &User,
        start: Option<CalendarDate>,
        end: Option<CalendarDate>,
        top_users_limit: i32,
    ) -> Result<pb::GetSummaryResponse, Status> {
        self.client
            .clone()
            .get_summary(bearer(
                pb::GetSummaryRequest {
                    start_date: start,
                    end_date: end,
                    top_users_limit,
                },
                &who.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn list_flags(
        &self,
        who: &User,
        request: pb::ListFlaggedTransfersRequest,
    ) -> Result<pb::ListFlaggedTransfersResponse, Status> {
        self.client
            .clone()
            .list_flagged_transfers(bearer(request, &who.token))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Every flag, all pages.
    pub async fn all_flags(&self, who: &User) -> Vec<pb::FlaggedTransfer> {
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .list_flags(
                    who,
                    pb::ListFlaggedTransfersRequest {
                        page_size: 500,
                        page_token: token,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            all.extend(page.flagged_transfers);
            if page.next_page_token.is_empty() {
                return all;
            }
            token = page.next_page_token;
        }
    }

    pub async fn review(
        &self,
        who: &User,
        flag_id: &str,
        outcome: pb::ReviewOutcome,
        note: &str,
    ) -> Result<pb::FlaggedTransfer, Status> {
        self.client
            .clone()
            .review_flagged_transfer(bearer(
                pb::ReviewFlaggedTransferRequest {
                    flag_id: flag_id.to_owned(),
                    outcome: outcome as i32,
                    note: note.to_owned(),
                },
                &who.token,
            ))
            .await
            .map(|r| r.into_inner().flagged_transfer.unwrap())
    }

    pub async fn spending(
        &self,
        who: &User,
        start: Option<YearMonth>,
        end: Option<YearMonth>,
    ) -> Result<pb::GetMySpendingResponse, Status> {
        self.client
            .clone()
            .get_my_spending(bearer(
                pb::GetMySpendingRequest {
                    start_month: start,
                    end_month: end,
                },
                &who.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn watch(
        &self,
        who: &User,
        types: &[ev::EventType],
        replay_last: i32,
    ) -> Result<tonic::Streaming<pb::WatchEventsResponse>, Status> {
        self.client
            .clone()
            .watch_events(bearer(
                pb::WatchEventsRequest {
                    event_types: types.iter().map(|t| *t as i32).collect(),
                    replay_last,
                },
                &who.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Waits until `sql` (a `SELECT ... AS n`) counts `expected`.
    pub async fn wait_for_count(&self, sql: &str, expected: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(CATCH_UP_TIMEOUT_MS);
        loop {
            let n = self.count(sql).await;
            if n == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{sql}: {n}, expected {expected}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One number from the analytics database.
    pub async fn count(&self, sql: &str) -> i64 {
        count(self.db.url(), sql).await
    }
}

/// One number from the database at `url` (a `SELECT ... AS n` query).
pub async fn count(url: &str, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<Count> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
    rows[0].n
}

/// The four event streams of one prefix, written as the relay writes them.
pub struct Streams {
    pub redis: ConnectionManager,
    pub prefix: String,
    next: HashMap<String, i64>,
}

impl Streams {
    pub async fn connect(url: &str, prefix: &str) -> Self {
        let client = redis::Client::open(url).unwrap();
        Self {
            redis: ConnectionManager::new(client).await.unwrap(),
            prefix: prefix.to_owned(),
            next: HashMap::new(),
        }
    }

    pub fn key(&self, producer: &str) -> String {
        format!("{}:events:{producer}", self.prefix)
    }

    /// Publishes `event` as the next entry of its producer's stream.
    pub async fn publish(&mut self, event: &ev::Event) {
        let seq = self.next.entry(event.producer.clone()).or_insert(0);
        *seq += 1;
        let seq = *seq;
        self.publish_at(seq, event).await;
    }

    /// Publishes `event` with entry id `<seq>-0` (the relay's format).
    pub async fn publish_at(&mut self, seq: i64, event: &ev::Event) {
        let mut event = event.clone();
        event.sequence = seq;
        let next = self.next.entry(event.producer.clone()).or_insert(0);
        *next = (*next).max(seq);
        let kind = ev::EventType::try_from(event.r#type)
            .map(|t| t.as_str_name())
            .unwrap_or("EVENT_TYPE_UNSPECIFIED");
        self.xadd(
            &event.producer,
            seq,
            &[
                ("event_id", event.event_id.as_bytes()),
                ("type", kind.as_bytes()),
                ("event", &event.encode_to_vec()),
            ],
        )
        .await;
    }

    /// A raw entry with these fields.
    pub async fn xadd(&mut self, producer: &str, seq: i64, fields: &[(&str, &[u8])]) {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(self.key(producer)).arg(format!("{seq}-0"));
        for (name, value) in fields {
            cmd.arg(*name).arg(*value);
        }
        let _: String = cmd.query_async(&mut self.redis).await.unwrap();
        let next = self.next.entry(producer.to_owned()).or_insert(0);
        *next = (*next).max(seq);
    }

    async fn groups(&mut self, producer: &str) -> Option<redis::streams::StreamInfoGroupsReply> {
        let key = self.key(producer);
        let exists: bool = redis::cmd("EXISTS").arg(&key).query_async(&mut self.redis).await.ok()?;
        if !exists {
            return None;
        }
        redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&key)
            .query_async(&mut self.redis)
            .await
            .ok()
    }

    /// Whether `group` has applied and acknowledged every entry.
    pub async fn drained(&mut self, group: &str) -> bool {
        for producer in PRODUCERS {
            let key = self.key(producer);
            let exists: bool = redis::cmd("EXISTS")
                .arg(&key)
                .query_async(&mut self.redis)
                .await
                .unwrap_or(false);
            if !exists {
                continue;
            }
            let Some(groups) = self.groups(producer).await else {
                return false;
            };
            let Some(g) = groups.groups.iter().find(|g| g.name == group) else {
                return false;
            };
            if g.pending != 0 || g.lag != Some(0) {
                return false;
            }
        }
        true
    }

    /// The groups' state, for a failure message.
    pub async fn describe(&mut self, group: &str) -> String {
        let mut out = String::new();
        for producer in PRODUCERS {
            let state = self.groups(producer).await.map(|g| {
                g.groups
                    .into_iter()
                    .filter(|g| g.name == group)
                    .map(|g| format!("pending {} lag {:?}", g.pending, g.lag))
                    .collect::<Vec<_>>()
            });
            out.push_str(&format!("{producer}: {state:?}; "));
        }
        out
    }

    /// Entries pending in `group` on `producer`'s stream, per consumer.
    pub async fn pending(&mut self, producer: &str, group: &str) -> HashMap<String, usize> {
        let reply: redis::streams::StreamPendingReply = redis::cmd("XPENDING")
            .arg(self.key(producer))
            .arg(group)
            .query_async(&mut self.redis)
            .await
            .unwrap();
        match reply {
            redis::streams::StreamPendingReply::Data(data) => {
                data.consumers.into_iter().map(|c| (c.name, c.pending)).collect()
            }
            _ => HashMap::new(),
        }
    }
}

// ---------------------------------------------------------------- events

pub fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap()
        .and_utc()
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn date(day: NaiveDate) -> CalendarDate {
    CalendarDate {
        year: day.year(),
        month: day.month() as i32,
        day: day.day() as i32,
    }
}

pub fn month(year: i32, month: i32) -> YearMonth {
    YearMonth { year, month }
}

pub fn money(amount_minor: i64, currency: &str) -> Money {
    Money {
        amount_minor,
        currency: currency.to_owned(),
    }
}

fn producer_of(kind: ev::EventType) -> &'static str {
    use ev::EventType as T;
    match kind {
        T::UserRegistered | T::UserLoggedIn | T::LoginFailed => "auth",
        T::AccountOpened | T::AccountStatusChanged | T::CardIssued => "account",
        T::ApplicationSubmitted
        | T::ApplicationDecided
        | T::FinancingOptionSelected
        | T::LoanDisbursed
        | T::RepaymentReceived => "finance",
        _ => "transfer",
    }
}

/// An event as its producer would write it, occurring at `at`.
pub fn event(kind: ev::EventType, at: DateTime<Utc>, payload: Payload) -> ev::Event {
    ev::Event {
        event_id: Uuid::now_v7().to_string(),
        r#type: kind as i32,
        occur_time: Some(prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        }),
        producer: producer_of(kind).to_owned(),
        aggregate_type: String::new(),
        aggregate_id: String::new(),
        sequence: 0,
        trace_id: String::new(),
        actor_user_id: String::new(),
        payload: Some(payload),
    }
}

pub fn registered(user: Uuid, at: DateTime<Utc>) -> ev::Event {
    event(
        ev::EventType::UserRegistered,
        at,
        Payload::UserRegistered(ev::UserRegistered {
            user_id: user.to_string(),
        }),
    )
}

pub fn logged_in(user: Uuid, at: DateTime<Utc>) -> ev::Event {
    event(
        ev::EventType::UserLoggedIn,
        at,
        Payload::UserLoggedIn(ev::UserLoggedIn {
            user_id: user.to_string(),
            session_id: Uuid::new_v4().to_string(),
        }),
    )
}

pub fn login_failed(user: Option<Uuid>, at: DateTime<Utc>) -> ev::Event {
    event(
        ev::EventType::LoginFailed,
        at,
        Payload::LoginFailed(ev::LoginFailed {
            user_id: user.map(|u| u.to_string()).unwrap_or_default(),
            email_hash: "00".repeat(32),
            reason: if user.is_some() {
                ev::LoginFailureReason::WrongPassword as i32
            } else {
                ev::LoginFailureReason::UnknownEmail as i32
            },
        }),
    )
}

pub fn opened(account: Uuid, owner: Uuid, at: DateTime<Utc>) -> ev::Event {
    event(
        ev::EventType::AccountOpened,
        at,
        Payload::AccountOpened(ev::AccountOpened {
            account_id: account.to_string(),
            owner_user_id: owner.to_string(),
            r#type: bank_proto::bank::account::v1::AccountType::Checking as i32,
            currency: "USD".to_owned(),
            system_kind: 0,
        }),
    )
}

/// A posted transfer of `kind`.
pub fn posted_kind(
    kind: bank_proto::bank::transfer::v1::TransferKind,
    from: Uuid,
    to: Uuid,
    amount: Money,
    initiator: Option<Uuid>,
    at: DateTime<Utc>,
) -> ev::Event {
    event(
        ev::EventType::TransferPosted,
        at,
        Payload::TransferPosted(ev::TransferPosted {
            transfer_id: Uuid::now_v7().to_string(),
            r#type: bank_proto::bank::transfer::v1::TransferType::Immediate as i32,
            kind: kind as i32,
            debit_account_id: from.to_string(),
            credit_account_id: to.to_string(),
            amount: Some(amount),
            pending_transfer_id: String::new(),
            initiator_user_id: initiator.map(|u| u.to_string()).unwrap_or_default(),
        }),
    )
}

/// A posted member-to-member transfer.
pub fn posted(from: Uuid, to: Uuid, amount: Money, at: DateTime<Utc>) -> ev::Event {
    posted_kind(
        bank_proto::bank::transfer::v1::TransferKind::Transfer,
        from,
        to,
        amount,
        None,
        at,
    )
}

pub fn declined(reason: bank_proto::bank::transfer::v1::DeclineReason, at: DateTime<Utc>) -> ev::Event {
    event(
        ev::EventType::TransferDeclined,
        at,
        Payload::TransferDeclined(ev::TransferDeclined {
            transfer_id: Uuid::now_v7().to_string(),
            r#type: bank_proto::bank::transfer::v1::TransferType::Immediate as i32,
            kind: bank_proto::bank::transfer::v1::TransferKind::Transfer as i32,
            debit_account_id: Uuid::new_v4().to_string(),
            credit_account_id: Uuid::new_v4().to_string(),
            amount: Some(money(100, "USD")),
            reason: reason as i32,
            initiator_user_id: String::new(),
        }),
    )
}

pub fn submitted(application: Uuid, applicant: Uuid, at: DateTime<Utc>) -> ev::Event {
    event(
        ev::EventType::ApplicationSubmitted,
        at,
        Payload::ApplicationSubmitted(ev::ApplicationSubmitted {
            application_id: application.to_string(),
            applicant_user_id: applicant.to_string(),
            product_type: bank_proto::bank::finance::v1::ProductType::Personal as i32,
            amount: Some(money(500_000, "USD")),
            term_months: 24,
        }),
    )
}

pub fn decided(
    application: Uuid,
    applicant: Uuid,
    to: bank_proto::bank::finance::v1::ApplicationStatus,
    at: DateTime<Utc>,
) -> ev::Event {
    event(
        ev::EventType::ApplicationDecided,
        at,
        Payload::ApplicationDecided(ev::ApplicationDecided {
            application_id: application.to_string(),
            applicant_user_id: applicant.to_string(),
            decision: 0,
            from_status: bank_proto::bank::finance::v1::ApplicationStatus::Submitted as i32,
            to_status: to as i32,
            reason: String::new(),
            decided_by_user_id: Uuid::new_v4().to_string(),
        }),
    )
}

pub fn selected(user: Uuid, option: Uuid, at: DateTime<Utc>) -> ev::Event {
    event(
        ev::EventType::FinancingOptionSelected,
        at,
        Payload::FinancingOptionSelected(ev::FinancingOptionSelected {
            application_id: Uuid::new_v4().to_string(),
            applicant_user_id: user.to_string(),
            option_id: option.to_string(),
            product_type: bank_proto::bank::finance::v1::ProductType::Auto as i32,
            annual_rate_bps: 650,
        }),
    )
}

/// The id of the system account of `kind` in `currency` (UUIDv5, see
/// bank.transfer.v1.LedgerAccountKind).
pub fn system_account(kind: &str, currency: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("https://bank.local/system/{kind}/{currency}").as_bytes(),
    )
}

// --------------------------------------------------------------- statuses

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

/// The fields named by an INVALID_ARGUMENT's google.rpc.BadRequest.
#[track_caller]
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

// ----------------------------------------------------------- private Redis

/// A Redis server of this test's own, which it may stop and restart (it
/// keeps nothing on disk, like the mesh's): a restart loses every stream.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<tokio::process::Child>,
}

impl PrivateRedis {
    pub async fn start() -> Self {
        let port = bank_testkit::listener().await.1.port();
        let mut redis = Self { port, child: None };
        redis.launch().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn launch(&mut self) {
        let child = tokio::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server must be installed for this test (the package `redis-server`)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..100 {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
                if pong.is_ok() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("private redis-server on port {} did not start", self.port);
    }

    /// Kills the server (no shutdown save: its data is gone).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }

    /// Starts a fresh, empty server on the same port.
    pub async fn restart(&mut self) {
        self.kill().await;
        self.launch().await;
    }
}
