//! End to end with the real producers: Auth, Account and Transfer run in
//! this process, write their events through their outboxes, and their
//! relays publish them where Analytics reads. What members do through the
//! public RPCs shows up in the summary, in their spending and as fraud
//! flags, and the counts match the ledger.

use std::time::Duration;

use account_service::{CardsConfig, LookupLimitConfig};
use auth_service::{BootstrapAdmin, JwtConfig, ThrottleConfig};
use bank_config::{PeerUrls, SecretString};
use bank_proto::bank::account::v1 as account;
use bank_proto::bank::account::v1::account_service_client::AccountServiceClient;
use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use bank_proto::bank::auth::v1 as auth;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_proto::bank::transfer::v1 as transfer;
use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
use bank_testkit::{Running, TestDatabase, TestPki};
use chrono::{Datelike, Utc};
use tonic::transport::Channel;

use crate::helpers::*;

struct Bank {
    auth: AuthServiceClient<Channel>,
    accounts: AccountServiceClient<Channel>,
    transfers: TransferServiceClient<Channel>,
    analytics: AnalyticsServiceClient<Channel>,
    _running: Vec<Running>,
    _dbs: [TestDatabase; 4],
    _pki: TestPki,
}

async fn spawn_bank() -> Bank {
    let pki = TestPki::new();
    let prefix = bank_testkit::redis_prefix();
    let dbs = [
        TestDatabase::create("an_p_auth").await,
        TestDatabase::create("an_p_ledger").await,
        TestDatabase::create("an_p_account").await,
        TestDatabase::create("an_p_analytics").await,
    ];
    let auth_config = auth_service::Config {
        mesh: bank_testkit::mesh_config(&pki, "auth", &dbs[0], &prefix),
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
    let mut transfer_mesh = bank_testkit::mesh_config(&pki, "transfer", &dbs[1], &prefix);
    transfer_mesh.peers = peers.clone();
    let transfer_config = transfer_service::Config {
        mesh: transfer_mesh,
        ledger: transfer_service::LedgerConfig::default(),
    };
    let transfer_running = bank_testkit::spawn_on(transfer_listener, move |listener, shutdown| {
        transfer_service::serve(transfer_config, listener, shutdown)
    });
    let mut account_mesh = bank_testkit::mesh_config(&pki, "account", &dbs[2], &prefix);
    account_mesh.peers = peers.clone();
    let account_config = account_service::Config {
        mesh: account_mesh,
        cards: CardsConfig::generate("k1"),
        currencies: account_service::default_currencies(),
        lookup_limit: LookupLimitConfig::default(),
    };
    let account_running = bank_testkit::spawn_on(account_listener, move |listener, shutdown| {
        account_service::serve(account_config, listener, shutdown)
    });
    let mut analytics_mesh = bank_testkit::mesh_config(&pki, "analytics", &dbs[3], &prefix);
    analytics_mesh.peers = peers;
    let analytics_config = analytics_service::Config {
        mesh: analytics_mesh,
        consumer: Options::default().consumer,
        fraud: test_fraud(),
    };
    let analytics_running =
        bank_testkit::spawn(move |listener, shutdown| analytics_service::serve(analytics_config, listener, shutdown))
            .await;
    let channel = |addr| bank_testkit::channel(&pki, "gateway", addr);
    Bank {
        auth: AuthServiceClient::new(channel(auth_running.addr).await),
        accounts: AccountServiceClient::new(channel(account_addr).await),
        transfers: TransferServiceClient::new(channel(transfer_addr).await),
        analytics: AnalyticsServiceClient::new(channel(analytics_running.addr).await),
        _running: vec![auth_running, transfer_running, account_running, analytics_running],
        _dbs: dbs,
        _pki: pki,
    }
}

impl Bank {
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

    async fn member(&self) -> String {
        let email = format!(
            "member.{}@example.com",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        self.auth
            .clone()
            .sign_up(auth::SignUpRequest {
                email: email.clone(),
                password: PASSWORD.to_owned(),
            })
            .await
            .unwrap();
        self.login(&email, PASSWORD).await
    }

    async fn open(&self, token: &str) -> String {
        self.accounts
            .clone()
            .open_account(bearer(
                account::OpenAccountRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    r#type: account::AccountType::Checking as i32,
                    currency: "USD".to_owned(),
                    display_name: "Everyday".to_owned(),
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
            .account_id
    }

    async fn deposit(&self, token: &str, account_id: &str, minor: i64) {
        self.transfers
            .clone()
            .deposit(bearer(
                transfer::DepositRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    account_id: account_id.to_owned(),
                    amount: Some(money(minor, "USD")),
                    description: "cash in".to_owned(),
                },
                token,
            ))
            .await
            .unwrap();
    }

    async fn send(&self, token: &str, from: &str, to: &str, minor: i64) -> Result<String, tonic::Status> {
        self.transfers
            .clone()
            .create_transfer(bearer(
                transfer::CreateTransferRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    from_account_id: from.to_owned(),
                    destination: Some(transfer::create_transfer_request::Destination::ToAccountId(
                        to.to_owned(),
                    )),
                    amount: Some(money(minor, "USD")),
                    description: "rent".to_owned(),
                    reference: String::new(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().transfer.unwrap().transfer_id)
    }
}

#[tokio::test]
async fn what_members_do_shows_up_in_analytics() {
    let bank = spawn_bank().await;
    let admin = bank.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (alice, bob) = (bank.member().await, bank.member().await);
    let (a1, b1) = (bank.open(&alice).await, bank.open(&bob).await);
    bank.deposit(&alice, &a1, 50_000).await;
    let rent = bank.send(&alice, &a1, &b1, 12_000).await.unwrap();
    let refused = bank.send(&alice, &a1, &b1, 1_000_000).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition, "{refused:?}");

    let today = Utc::now().date_naive();
    let request = || {
        bearer(
            pb::GetSummaryRequest {
                start_date: Some(date(today.pred_opt().unwrap())),
                end_date: Some(date(today.succ_opt().unwrap())),
                top_users_limit: 0,
            },
            &admin,
        )
    };
    // The relays publish in the background: wait until everything arrived.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let summary = loop {
        let s = bank
            .analytics
            .clone()
            .get_summary(request())
            .await
            .unwrap()
            .into_inner();
        let transfers: i64 = s.transfers_by_day.iter().map(|d| d.count).sum();
        let declines: i64 = s.declines_by_reason.iter().map(|d| d.count).sum();
        if s.total_users == 3 && s.total_logins == 3 && transfers == 2 && declines == 1 {
            break s;
        }
        assert!(tokio::time::Instant::now() < deadline, "events missing: {s:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let volume: i64 = summary
        .transfers_by_day
        .iter()
        .map(|d| d.volume.as_ref().unwrap().amount_minor)
        .sum();
    assert_eq!(
        volume, 62_000,
        "the deposit and the transfer, as the ledger posted them"
    );
    assert_eq!(
        summary.declines_by_reason[0].reason,
        transfer::DeclineReason::InsufficientFunds as i32
    );
    assert!(
        summary.active_users_by_day.iter().any(|d| d.count == 3),
        "log-ins and transfers make users active"
    );

    // Spending: Alice's rent went to Bob; her deposit came from the bank.
    let spending = |token: String| {
        let analytics = bank.analytics.clone();
        async move {
            analytics
                .clone()
                .get_my_spending(bearer(pb::GetMySpendingRequest::default(), &token))
                .await
                .unwrap()
                .into_inner()
                .months
        }
    };
    let this_month = |months: Vec<pb::MonthlySpending>| {
        months
            .into_iter()
            .find(|m| {
                let ym = m.month.unwrap();
                (ym.year, ym.month) == (today.year(), today.month() as i32)
            })
            .unwrap()
    };
    let alice_month = this_month(spending(alice.clone()).await);
    assert_eq!(alice_month.spent.unwrap().amount_minor, 12_000);
    assert_eq!(alice_month.received.unwrap().amount_minor, 50_000);
    assert_eq!(
        alice_month.spent_by_kind[0].kind,
        transfer::TransferKind::Transfer as i32
    );
    let bob_month = this_month(spending(bob.clone()).await);
    assert_eq!(bob_month.spent.unwrap().amount_minor, 0);
    assert_eq!(bob_month.received.unwrap().amount_minor, 12_000);

    // Fraud: 120.00 from an account opened minutes ago is large and new
    // (thresholds 100.00 and 10.00); the deposit is not a member's money
    // leaving.
    let flags = bank
        .analytics
        .clone()
        .list_flagged_transfers(bearer(pb::ListFlaggedTransfersRequest::default(), &admin))
        .await
        .unwrap()
        .into_inner()
        .flagged_transfers;
    let mut rules: Vec<i32> = flags.iter().map(|f| f.rule).collect();
    rules.sort_unstable();
    assert_eq!(
        rules,
        [
            pb::FraudRule::LargeAmount as i32,
            pb::FraudRule::NewAccountLargeTransfer as i32
        ]
    );
    assert!(flags.iter().all(|f| f.transfer_id == rent && f.debit_account_id == a1));

    // Members cannot read the admin side.
    let denied = bank
        .analytics
        .clone()
        .get_summary(bearer(
            pb::GetSummaryRequest {
                start_date: Some(date(today)),
                end_date: Some(date(today)),
                top_users_limit: 0,
            },
            &alice,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
}
