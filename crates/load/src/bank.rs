//! Setting up the bank under load: members signed up and logged in, each
//! with one or more USD checking accounts funded by Deposit; all over gRPC with mTLS
//! as the gateway, exactly as the mesh tests do it.
//! The REST and gateway scenarios reach the same accounts through the
//! gateway's public port.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bank_mtls::MeshTls;
use bank_proto::bank::account::v1 as account;
use bank_proto::bank::account::v1::account_service_client::AccountServiceClient;
use bank_proto::bank::auth::v1 as auth;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as transfer;
use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// The currency every load account is opened in.
pub const CURRENCY: &str = "USD";
/// Password of the members the load tool signs up.
const MEMBER_PASSWORD: &str = "load member passphrase 8421";
/// What each account is funded with, in minor units (the largest single
/// Deposit is 1,000,000,000,000): enough that random small transfers are
/// never declined for funds.
const FUNDING_MINOR: i64 = 100_000_000_000;
/// Members set up at the same time (sign-up and log-in hash with argon2).
const SETUP_CONCURRENCY: usize = 4;
/// How long a service may take to accept connections after start.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Retries of a set-up call that found a service not ready yet.
const SETUP_RETRIES: usize = 100;
/// Pause between those retries.
const SETUP_RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Deadline of one set-up RPC.
const SETUP_RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// A funded account and its owner's credentials.
#[derive(Debug, Clone)]
pub struct LoadAccount {
    /// The account's id (= ledger account id).
    pub account_id: String,
    /// The owner's `Bearer <access token>`, for the `authorization` header.
    pub authorization: MetadataValue<Ascii>,
    /// The same, as an HTTP header value (REST).
    pub authorization_header: http::HeaderValue,
}

/// The bank as the load generator sees it.
#[derive(Debug, Clone)]
pub struct Bank {
    /// The gateway's mTLS material.
    pub tls: Arc<MeshTls>,
    /// `https://` URL of each public service used.
    pub auth_url: String,
    /// Account service.
    pub account_url: String,
    /// Transfer service.
    pub transfer_url: String,
    /// The gateway's public (plain HTTP) address.
    pub gateway: SocketAddr,
    /// Funded accounts, `accounts_per_member` per member in a row.
    pub accounts: Vec<LoadAccount>,
    /// The bootstrap admin's authorization (for the integrity check).
    pub admin: MetadataValue<Ascii>,
}

/// `message` with the given `authorization` and a deadline.
pub fn authorized<T>(message: T, authorization: &MetadataValue<Ascii>, timeout: Duration) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", authorization.clone());
    request.set_timeout(timeout);
    request
}

fn bearer(token: &str) -> anyhow::Result<MetadataValue<Ascii>> {
    format!("Bearer {token}")
        .parse()
        .context("access token is not valid header text")
}

fn bearer_header(token: &str) -> anyhow::Result<http::HeaderValue> {
    http::HeaderValue::from_str(&format!("Bearer {token}")).context("access token is not valid header text")
}

/// A fresh idempotency key.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `minor` units of [`CURRENCY`].
pub fn usd(minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: CURRENCY.to_owned(),
    })
}

/// Runs `call` until it succeeds or fails with something other than a
/// service that is still starting (bounded).
async fn retry<T, F, Fut>(what: &str, mut call: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut last = None;
    for _ in 0..SETUP_RETRIES {
        match call().await {
            Ok(value) => return Ok(value),
            Err(status) if matches!(status.code(), Code::Unavailable | Code::Unknown) => {
                last = Some(status);
                tokio::time::sleep(SETUP_RETRY_PAUSE).await;
            }
            Err(status) => anyhow::bail!("{what}: {} {}", status.code(), status.message()),
        }
    }
    anyhow::bail!("{what}: still unavailable after {SETUP_RETRIES} tries: {last:?}")
}

/// A new HTTP/2 connection to `url`, waiting (bounded) for the service to
/// accept connections.
pub async fn connect(tls: &MeshTls, url: &str) -> anyhow::Result<Channel> {
    let endpoint = tls.endpoint(url)?;
    let started = Instant::now();
    loop {
        match endpoint.connect().await {
            Ok(channel) => return Ok(channel),
            // Refused while the service is still starting: try again.
            Err(_) if started.elapsed() < READY_TIMEOUT => tokio::time::sleep(SETUP_RETRY_PAUSE).await,
            Err(error) => return Err(error).with_context(|| format!("connecting to {url}")),
        }
    }
}

async fn login(auth_url: &str, tls: &MeshTls, email: &str, password: &str) -> anyhow::Result<String> {
    let channel = connect(tls, auth_url).await?;
    let tokens = retry("log-in", || {
        let mut client = AuthServiceClient::new(channel.clone());
        let mut request = Request::new(auth::LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        });
        request.set_timeout(SETUP_RPC_TIMEOUT);
        async move { client.login(request).await }
    })
    .await?
    .into_inner()
    .tokens
    .context("log-in answered without tokens")?;
    Ok(tokens.access_token)
}

async fn new_member(bank: Arc<Bank>, accounts: usize) -> anyhow::Result<Vec<LoadAccount>> {
    let email = format!("load.{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let auth_channel = connect(&bank.tls, &bank.auth_url).await?;
    retry("sign-up", || {
        let mut client = AuthServiceClient::new(auth_channel.clone());
        let mut request = Request::new(auth::SignUpRequest {
            email: email.clone(),
            password: MEMBER_PASSWORD.to_owned(),
        });
        request.set_timeout(SETUP_RPC_TIMEOUT);
        async move { client.sign_up(request).await }
    })
    .await?;
    let token = login(&bank.auth_url, &bank.tls, &email, MEMBER_PASSWORD).await?;
    let authorization = bearer(&token)?;
    let authorization_header = bearer_header(&token)?;

    let account_channel = connect(&bank.tls, &bank.account_url).await?;
    let transfer_channel = connect(&bank.tls, &bank.transfer_url).await?;
    let mut opened_accounts = Vec::with_capacity(accounts);
    for _ in 0..accounts {
        let open_id = request_id();
        let opened = retry("open account", || {
            let mut client = AccountServiceClient::new(account_channel.clone());
            let request = authorized(
                account::OpenAccountRequest {
                    request_id: open_id.clone(),
                    r#type: account::AccountType::Checking as i32,
                    currency: CURRENCY.to_owned(),
                    display_name: "load".to_owned(),
                },
                &authorization,
                SETUP_RPC_TIMEOUT,
            );
            async move { client.open_account(request).await }
        })
        .await?
        .into_inner()
        .account
        .context("OpenAccount answered without an account")?;

        let deposit_id = request_id();
        retry("funding deposit", || {
            let mut client = TransferServiceClient::new(transfer_channel.clone());
            let request = authorized(
                transfer::DepositRequest {
                    request_id: deposit_id.clone(),
                    account_id: opened.account_id.clone(),
                    amount: usd(FUNDING_MINOR),
                    description: "load funding".to_owned(),
                },
                &authorization,
                SETUP_RPC_TIMEOUT,
            );
            async move { client.deposit(request).await }
        })
        .await?;
        opened_accounts.push(LoadAccount {
            account_id: opened.account_id,
            authorization: authorization.clone(),
            authorization_header: authorization_header.clone(),
        });
    }
    Ok(opened_accounts)
}

impl Bank {
    /// Logs the admin in, then signs up `members` members with
    /// `accounts_per_member` funded USD accounts each. `urls` are the auth,
    /// account and transfer services'; `gateway` is only remembered.
    pub async fn set_up(
        tls: MeshTls,
        urls: [String; 3],
        gateway: SocketAddr,
        admin: (&str, &str),
        members: usize,
        accounts_per_member: usize,
    ) -> anyhow::Result<Self> {
        let [auth_url, account_url, transfer_url] = urls;
        let admin = bearer(&login(&auth_url, &tls, admin.0, admin.1).await?)?;
        let bank = Arc::new(Self {
            tls: Arc::new(tls),
            auth_url,
            account_url,
            transfer_url,
            gateway,
            accounts: Vec::new(),
            admin,
        });
        let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
        let mut tasks = JoinSet::new();
        for _ in 0..members {
            let bank = bank.clone();
            let gate = gate.clone();
            tasks.spawn(async move {
                let _permit = gate.acquire_owned().await?;
                new_member(bank, accounts_per_member).await
            });
        }
        let mut created = Vec::with_capacity(members * accounts_per_member);
        while let Some(joined) = tasks.join_next().await {
            created.extend(joined.context("set-up task panicked")??);
        }
        let mut bank = Arc::try_unwrap(bank).unwrap_or_else(|shared| (*shared).clone());
        bank.accounts = created;
        Ok(bank)
    }

    /// The admin's integrity check over the whole ledger:
    /// (consistent, accounts checked, entries checked).
    pub async fn integrity(&self) -> anyhow::Result<(bool, i64, i64)> {
        let channel = connect(&self.tls, &self.transfer_url).await?;
        let report = TransferServiceClient::new(channel)
            .check_integrity(authorized(
                transfer::CheckIntegrityRequest::default(),
                &self.admin,
                Duration::from_secs(60),
            ))
            .await
            .map_err(|s| anyhow::anyhow!("CheckIntegrity: {} {}", s.code(), s.message()))?
            .into_inner();
        Ok((report.consistent, report.accounts_checked, report.entries_checked))
    }
}
