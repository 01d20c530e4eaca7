//! The SDK against the real mesh, started in-process through the gateway
//! exactly as `bank up` starts it.

#![allow(clippy::unwrap_used, reason = "tests")]

mod support;

use std::time::Duration;

use bank_client::{
    Bank, Code, ConnectOptions, ErrorKind, REQUEST_ID_HEADER, Request, RetryPolicy, account, auth, connect, finance,
    money, transfer,
};
use bank_mesh_tests::TestMesh;
use bank_mesh_tests::clients::{ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD};
use support::{Fault, Faulty, wait_until_ready};

fn unique_email() -> String {
    format!("sdk.{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Fast retries for tests.
fn quick_retries() -> ConnectOptions {
    ConnectOptions::new().retry(RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    })
}

async fn member(bank: &Bank) -> (Bank, String) {
    let email = unique_email();
    let me = bank.anonymous();
    me.auth()
        .sign_up(auth::SignUpRequest {
            email: email.clone(),
            password: MEMBER_PASSWORD.to_owned(),
        })
        .await
        .unwrap();
    me.login(&email, MEMBER_PASSWORD).await.unwrap();
    (me, email)
}

async fn open_usd(bank: &Bank) -> account::Account {
    bank.accounts()
        .open_account(account::OpenAccountRequest {
            r#type: account::AccountType::Checking as i32,
            currency: "USD".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap()
}

async fn posted(bank: &Bank, account_id: &str) -> i64 {
    bank.transfers()
        .get_balance(transfer::GetBalanceRequest {
            account_id: account_id.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .balance
        .unwrap()
        .posted
        .unwrap()
        .amount_minor
}

/// A handle whose transport records attempts and injects faults.
fn faulty_bank(mesh: &TestMesh, channel: tonic::transport::Channel) -> (Bank, Faulty) {
    let faulty = Faulty::new(channel);
    let bank = Bank::from_transport(faulty.clone(), mesh.gateway_url().parse().unwrap(), quick_retries());
    (bank, faulty)
}

/// The mesh, up and answering, and a plain handle on its gateway.
async fn ready_mesh() -> (TestMesh, Bank) {
    let mesh = TestMesh::start().await;
    let bank = connect(&mesh.gateway_url(), ConnectOptions::new()).await.unwrap();
    wait_until_ready(&bank).await;
    (mesh, bank)
}

#[tokio::test]
async fn the_member_flow_works_through_the_gateway() {
    let (mesh, bank) = ready_mesh().await;
    let (ada, _) = member(&bank).await;
    let (bob, _) = member(&bank).await;
    let from = open_usd(&ada).await;
    let to = open_usd(&bob).await;
    assert_eq!(from.status, account::AccountStatus::Open as i32);

    let deposit = ada
        .transfers()
        .deposit(transfer::DepositRequest {
            account_id: from.account_id.clone(),
            amount: Some(money::parse("100.00 USD").unwrap()),
            description: "cash in".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    // The SDK filled the empty idempotency key.
    assert!(
        uuid::Uuid::parse_str(&deposit.request_id).is_ok(),
        "{}",
        deposit.request_id
    );

    let sent = ada
        .transfers()
        .create_transfer(transfer::CreateTransferRequest {
            from_account_id: from.account_id.clone(),
            destination: Some(transfer::create_transfer_request::Destination::ToAccountNumber(
                to.account_number.clone(),
            )),
            amount: Some(money::parse("25.50 USD").unwrap()),
            description: "rent".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(sent.status, transfer::TransferStatus::Posted as i32);
    assert_eq!(posted(&ada, &from.account_id).await, 7_450);
    assert_eq!(posted(&bob, &to.account_id).await, 2_550);

    // Each caller sees only their own accounts.
    let listed = bob
        .accounts()
        .list_accounts(account::ListAccountsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .accounts;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].account_id, to.account_id);

    let revoked = ada.logout(false).await.unwrap();
    assert_eq!(revoked, 1);
    assert!(!ada.has_token());
    assert!(mesh.integrity().await.consistent);
    mesh.stop().await;
}

#[tokio::test]
async fn a_deposit_whose_response_is_lost_is_retried_with_the_same_key_and_moves_money_once() {
    let (mesh, _) = ready_mesh().await;
    let (bank, faulty) = faulty_bank(&mesh, mesh.gateway_channel().await);
    let (ada, _) = member(&bank).await;
    let opened = open_usd(&ada).await;

    // The SDK fills the empty request_id, the server deposits, the answer is lost.
    faulty.inject("Deposit", Fault::LoseResponse);
    let deposit = ada
        .transfers()
        .deposit(transfer::DepositRequest {
            account_id: opened.account_id.clone(),
            amount: Some(money::parse("12.34 USD").unwrap()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    let attempts = faulty.attempts("Deposit");
    assert_eq!(attempts.len(), 2, "one lost answer, one retry");
    let keys: Vec<String> = attempts
        .iter()
        .map(|a| a.message::<transfer::DepositRequest>().request_id)
        .collect();
    assert_eq!(keys[0], keys[1], "the retry reuses the key");
    assert_eq!(deposit.request_id, keys[0]);
    assert_eq!(
        attempts[0].header(REQUEST_ID_HEADER),
        attempts[1].header(REQUEST_ID_HEADER)
    );
    assert_eq!(posted(&ada, &opened.account_id).await, 1_234, "deposited once");

    // A key the caller chose is kept, and a transfer retried the same way
    // moves money once too.
    let (bob, _) = member(&bank).await;
    let to = open_usd(&bob).await;
    faulty.inject("CreateTransfer", Fault::LoseResponse);
    let sent = ada
        .transfers()
        .create_transfer(transfer::CreateTransferRequest {
            request_id: "rent-2030-01".to_owned(),
            from_account_id: opened.account_id.clone(),
            destination: Some(transfer::create_transfer_request::Destination::ToAccountId(
                to.account_id.clone(),
            )),
            amount: Some(money::parse("10 USD").unwrap()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(sent.request_id, "rent-2030-01");
    let attempts = faulty.attempts("CreateTransfer");
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts
            .iter()
            .all(|a| a.message::<transfer::CreateTransferRequest>().request_id == "rent-2030-01")
    );
    assert_eq!(posted(&ada, &opened.account_id).await, 234);
    assert_eq!(posted(&bob, &to.account_id).await, 1_000);
    let history = ada
        .transfers()
        .list_transfers(transfer::ListTransfersRequest {
            account_id: opened.account_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transfers;
    assert_eq!(history.len(), 2, "one deposit and one transfer: {history:?}");
    assert!(mesh.integrity().await.consistent);
    mesh.stop().await;
}

#[tokio::test]
async fn calls_without_a_key_are_sent_once_and_reads_are_retried() {
    let (mesh, _) = ready_mesh().await;
    let (bank, faulty) = faulty_bank(&mesh, mesh.gateway_channel().await);

    // Sign-up has no idempotency key: a lost answer is the caller's error.
    let email = unique_email();
    faulty.inject("SignUp", Fault::LoseResponse);
    let lost = bank
        .auth()
        .sign_up(auth::SignUpRequest {
            email: email.clone(),
            password: MEMBER_PASSWORD.to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(faulty.attempts("SignUp").len(), 1, "not retried");
    assert!(lost.message().contains("simulated"), "{lost:?}");
    // ... although the server did sign the user up.
    bank.login(&email, MEMBER_PASSWORD).await.unwrap();

    // So is a failure that happens before the server sees the call.
    faulty.inject("Login", Fault::Unavailable);
    let refused = bank.login(&email, MEMBER_PASSWORD).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable);
    assert_eq!(faulty.attempts("Login").len(), 2, "the first login and this one");

    // Reads are retried, on UNAVAILABLE and on transport errors.
    faulty.inject("Me", Fault::Unavailable);
    faulty.inject("Me", Fault::LoseResponse);
    let me = bank.auth().me(auth::MeRequest {}).await.unwrap().into_inner();
    assert_eq!(me.user.unwrap().email, email);
    assert_eq!(faulty.attempts("Me").len(), 3);

    // Retries are bounded: three attempts, then the last answer.
    for _ in 0..3 {
        faulty.inject("GetJwks", Fault::Unavailable);
    }
    let exhausted = bank.auth().get_jwks(auth::GetJwksRequest {}).await.unwrap_err();
    assert_eq!(exhausted.code(), Code::Unavailable);
    assert_eq!(faulty.attempts("GetJwks").len(), 3);
    mesh.stop().await;
}

#[tokio::test]
async fn a_stalled_attempt_times_out_and_is_retried() {
    let (mesh, _) = ready_mesh().await;
    let faulty = Faulty::new(mesh.gateway_channel().await);
    let options = quick_retries().attempt_timeout(Some(Duration::from_millis(500)));
    let bank = Bank::from_transport(faulty.clone(), mesh.gateway_url().parse().unwrap(), options);
    let (ada, _) = member(&bank).await;
    let opened = open_usd(&ada).await;

    // A read: the stalled attempt is abandoned, the next one answers.
    faulty.inject("GetBalance", Fault::Stall(Duration::from_secs(5)));
    let started = std::time::Instant::now();
    assert_eq!(posted(&ada, &opened.account_id).await, 0);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(faulty.attempts("GetBalance").len(), 2);

    // A deposit stalled past the limit: retried with its key, deposited once
    // even though the stalled attempt reaches the server later.
    faulty.inject("Deposit", Fault::Stall(Duration::from_millis(800)));
    ada.transfers()
        .deposit(transfer::DepositRequest {
            account_id: opened.account_id.clone(),
            amount: Some(money::parse("5 USD").unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(posted(&ada, &opened.account_id).await, 500);

    // A call without a key is not retried after its time is up.
    faulty.inject("Logout", Fault::Stall(Duration::from_secs(5)));
    let late = ada.logout(false).await.unwrap_err();
    assert_eq!(late.code(), Code::DeadlineExceeded);
    assert_eq!(faulty.attempts("Logout").len(), 1);
    mesh.stop().await;
}

#[tokio::test]
async fn every_call_carries_the_bearer_token_and_its_own_request_id() {
    let (mesh, _) = ready_mesh().await;
    let (bank, faulty) = faulty_bank(&mesh, mesh.gateway_channel().await);
    let email = unique_email();
    bank.auth()
        .sign_up(auth::SignUpRequest {
            email: email.clone(),
            password: MEMBER_PASSWORD.to_owned(),
        })
        .await
        .unwrap();
    assert!(faulty.attempts("SignUp")[0].header("authorization").is_none());
    let login = bank.login(&email, MEMBER_PASSWORD).await.unwrap();
    let token = login.tokens.unwrap().access_token;

    let response = bank.auth().me(auth::MeRequest {}).await.unwrap();
    let me = &faulty.attempts("Me")[0];
    assert_eq!(me.header("authorization").unwrap(), format!("Bearer {token}"));
    let sent_id = me.header(REQUEST_ID_HEADER).unwrap();
    assert!(uuid::Uuid::parse_str(&sent_id).is_ok(), "{sent_id}");
    // The gateway answers with the id it was given.
    assert_eq!(
        response.metadata().get(REQUEST_ID_HEADER).unwrap().to_str().unwrap(),
        sent_id
    );
    let ids: std::collections::HashSet<_> = faulty
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.headers[REQUEST_ID_HEADER].clone())
        .collect();
    assert_eq!(ids.len(), 3, "one id per call");

    // Values set on the request win over the SDK's.
    let mut chosen = Request::new(auth::MeRequest {});
    chosen
        .metadata_mut()
        .insert(REQUEST_ID_HEADER, "trace-me-7".parse().unwrap());
    let response = bank.auth().me(chosen).await.unwrap();
    assert_eq!(response.metadata().get(REQUEST_ID_HEADER).unwrap(), "trace-me-7");

    // Clones share the token; `anonymous` and `with_token` do not.
    let clone = bank.clone();
    assert!(clone.auth().me(auth::MeRequest {}).await.is_ok());
    let stranger = bank.anonymous();
    let refused = stranger.auth().me(auth::MeRequest {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let again = stranger.with_token(&token);
    assert!(again.auth().me(auth::MeRequest {}).await.is_ok());
    bank.clear_token();
    assert!(clone.auth().me(auth::MeRequest {}).await.is_err());
    mesh.stop().await;
}

#[tokio::test]
async fn errors_carry_the_reason_the_field_violations_and_the_retry_delay() {
    let (mesh, bank) = ready_mesh().await;
    let (ada, email) = member(&bank).await;
    let (bob, _) = member(&bank).await;
    let from = open_usd(&ada).await;
    let to = open_usd(&bob).await;

    let declined: bank_client::Error = ada
        .transfers()
        .create_transfer(transfer::CreateTransferRequest {
            from_account_id: from.account_id.clone(),
            destination: Some(transfer::create_transfer_request::Destination::ToAccountId(
                to.account_id.clone(),
            )),
            amount: Some(money::parse("1 USD").unwrap()),
            ..Default::default()
        })
        .await
        .unwrap_err()
        .into();
    assert_eq!(declined.code(), Code::FailedPrecondition);
    assert_eq!(declined.reason(), Some("INSUFFICIENT_FUNDS"));
    assert_eq!(declined.domain(), Some("bank.local"));
    assert_eq!(
        declined.to_string(),
        "declined: insufficient funds (INSUFFICIENT_FUNDS)"
    );
    assert_eq!(declined.metadata()["account_id"], from.account_id);

    let invalid: bank_client::Error = bank
        .anonymous()
        .auth()
        .sign_up(auth::SignUpRequest {
            email: "not an email".to_owned(),
            password: "short".to_owned(),
        })
        .await
        .unwrap_err()
        .into();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    let fields: Vec<_> = invalid.violations().iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["email", "password"], "{invalid:?}");

    // Failed log-ins lock the account for a while, and the server says how long.
    let mut throttled = None;
    for _ in 0..10 {
        if let Err(error) = bank.anonymous().login(&email, "a wrong passphrase 123").await
            && error.code() == Code::ResourceExhausted
        {
            throttled = Some(error);
            break;
        }
    }
    let throttled = throttled.expect("throttled after repeated failures");
    assert!(
        throttled.retry_delay().is_some_and(|d| d > Duration::ZERO),
        "{throttled:?}"
    );
    assert!(throttled.reason().is_some());
    mesh.stop().await;
}

#[tokio::test]
async fn tls_with_the_mesh_ca_and_a_client_certificate() {
    let (mesh, _) = ready_mesh().await;
    let certs = mesh.certs.path();
    let read = |name: &str| std::fs::read(certs.join(name)).unwrap();
    let auth_url = mesh.running().url("auth").unwrap();

    // A mesh service requires a client certificate from the mesh CA.
    let options = ConnectOptions::new()
        .ca_certificate(read("ca.crt"))
        .client_identity(read("gateway.crt"), read("gateway.key"));
    let direct = connect(&auth_url, options).await.unwrap();
    let jwks = direct
        .auth()
        .get_jwks(auth::GetJwksRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!jwks.keys.is_empty());

    // Without one, the handshake (or the first call) is refused.
    let anonymous = ConnectOptions::new()
        .ca_certificate(read("ca.crt"))
        .retry(RetryPolicy::never());
    let refused = match connect(&auth_url, anonymous).await {
        Err(error) => error.code(),
        Ok(bank) => bank.auth().get_jwks(auth::GetJwksRequest {}).await.unwrap_err().code(),
    };
    // TLS 1.3 reports the refused certificate after the handshake, on the first call.
    assert!(matches!(refused, Code::Unavailable | Code::Unknown), "{refused:?}");

    // Mozilla's roots do not include the development CA.
    let untrusted = match connect(&auth_url, ConnectOptions::new().retry(RetryPolicy::never())).await {
        Err(error) => error.code(),
        Ok(bank) => bank.auth().get_jwks(auth::GetJwksRequest {}).await.unwrap_err().code(),
    };
    assert_eq!(untrusted, Code::Unavailable);

    // A gateway serving TLS on its public port, reached with its CA.
    let addrs = &mesh.running().addrs;
    let url = |service: &str| Some(format!("https://{}", addrs[service]));
    let config = bank_gateway::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: bank_config::TlsPaths::in_dir(certs, "gateway"),
        public_tls: Some(bank_gateway::PublicTls {
            cert: certs.join("gateway.crt"),
            key: certs.join("gateway.key"),
        }),
        redis: bank_config::RedisConfig {
            ca_file: None,
            url: bank_config::SecretString::from(bank_testkit::redis_url()),
            key_prefix: mesh.redis_prefix.clone(),
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
        limits: bank_gateway::EdgeLimits::default(),
        rate_limit: bank_gateway::RateLimitConfig::default(),
        log_format: bank_config::LogFormat::Json,
    };
    let gateway = bank_testkit::spawn(move |listener, shutdown| bank_gateway::serve(config, listener, shutdown)).await;
    let secure_url = format!("https://{}", gateway.addr);
    let mut bank = None;
    for _ in 0..50 {
        if let Ok(connected) = connect(&secure_url, ConnectOptions::new().ca_certificate(read("ca.crt"))).await {
            bank = Some(connected);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bank = bank.expect("TLS gateway up");
    let login = bank.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
    assert!(login.user.unwrap().roles.contains(&(auth::Role::Admin as i32)));
    let options = bank
        .finance()
        .list_financing_options(finance::ListFinancingOptionsRequest::default())
        .await;
    assert!(options.is_ok(), "{options:?}");
    gateway.stop().await.unwrap();
    mesh.stop().await;
}

#[tokio::test]
async fn connecting_fails_clearly() {
    let (listener, addr) = bank_testkit::listener().await;
    drop(listener);
    let error = connect(&format!("http://{addr}"), ConnectOptions::new())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect);
    assert_eq!(error.code(), Code::Unavailable);
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot connect to http://{addr}")),
        "{error}"
    );

    let error = connect("ftp://example.com", ConnectOptions::new()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    let error = connect(
        "http://127.0.0.1:1",
        ConnectOptions::new().ca_certificate(b"not a certificate".to_vec()),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config, "{error}");
}
