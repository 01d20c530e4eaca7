//! The Rust SDK of the bank mesh.
//!
//! [`connect`] returns a [`Bank`]: one connection to the gateway (or any
//! server of the contract) with a typed client per public service —
//! [`Bank::auth`], [`Bank::accounts`], [`Bank::transfers`],
//! [`Bank::finance`], [`Bank::analytics`] — generated from `proto/` by
//! `bank-proto` and re-exported here with their messages ([`auth`],
//! [`account`], [`transfer`], [`finance`], [`analytics`], [`common`]).
//!
//! Every call made through a `Bank`:
//!
//! - carries `authorization: Bearer <token>` once a token is set
//!   ([`Bank::login`] sets it; [`Bank::set_token`] for one obtained
//!   elsewhere), and an `x-request-id` (a UUID per call, the same for all
//!   attempts of it); values set on a `tonic::Request` win;
//! - is retried when that cannot do harm: reads (`Get*`, `List*`, anything
//!   bound to HTTP GET) and calls with an idempotency key (`request_id`),
//!   on UNAVAILABLE, DEADLINE_EXCEEDED and transport errors, with bounded
//!   exponential backoff ([`RetryPolicy`]). An empty `request_id` is
//!   filled with a UUID before the first attempt, so every retry sends the
//!   same key and the server moves money at most once. Other calls
//!   (sign-up, log-in, freezing an account, ...) are sent exactly once.
//!
//! Errors convert into [`Error`], which reads the bank's google.rpc details:
//! the ErrorInfo reason (`INSUFFICIENT_FUNDS`), BadRequest field
//! violations and RetryInfo.
//!
//! ```no_run
//! use bank_client::{ConnectOptions, connect, money, transfer};
//!
//! # async fn run() -> Result<(), bank_client::Error> {
//! let bank = connect("http://127.0.0.1:8080", ConnectOptions::new()).await?;
//! bank.login("ada@example.com", "a long passphrase 1").await?;
//! let sent = bank
//!     .transfers()
//!     .create_transfer(transfer::CreateTransferRequest {
//!         from_account_id: "…".into(),
//!         destination: Some(transfer::create_transfer_request::Destination::ToAccountNumber("…".into())),
//!         amount: Some(money::parse("12.34 USD")?),
//!         ..Default::default() // request_id filled by the SDK
//!     })
//!     .await?
//!     .into_inner();
//! # Ok(()) }
//! ```

pub mod account_number;
mod channel;
mod connect;
mod error;
mod methods;
pub mod money;
mod wire;

use std::fmt;
use std::sync::Arc;

pub use bank_proto as proto;
pub use bank_proto::bank::account::v1 as account;
pub use bank_proto::bank::analytics::v1 as analytics;
pub use bank_proto::bank::auth::v1 as auth;
pub use bank_proto::bank::common::v1 as common;
pub use bank_proto::bank::events::v1 as events;
pub use bank_proto::bank::finance::v1 as finance;
pub use bank_proto::bank::transfer::v1 as transfer;
pub use channel::{
    BankChannel, BoxError, DEFAULT_INITIAL_BACKOFF_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF_MS, REQUEST_ID_HEADER,
    RetryPolicy,
};
pub use connect::{
    ConnectOptions, DEFAULT_ATTEMPT_TIMEOUT_SECS, DEFAULT_CONNECT_TIMEOUT_SECS, KEEPALIVE_INTERVAL_SECS, connect,
};
pub use error::{Error, ErrorKind, Violation, code_name};
pub use tonic::{Code, Request, Response, Status, Streaming};

use channel::Credentials;

/// The Auth service's client.
pub type AuthClient = auth::auth_service_client::AuthServiceClient<BankChannel>;
/// The Account service's client.
pub type AccountClient = account::account_service_client::AccountServiceClient<BankChannel>;
/// The Transfer service's client.
pub type TransferClient = transfer::transfer_service_client::TransferServiceClient<BankChannel>;
/// The Finance service's client.
pub type FinanceClient = finance::finance_service_client::FinanceServiceClient<BankChannel>;
/// The Analytics service's client.
pub type AnalyticsClient = analytics::analytics_service_client::AnalyticsServiceClient<BankChannel>;

mod secret {
    use std::fmt;

    /// A private key in PEM, never printed.
    #[derive(Clone)]
    pub(crate) struct SecretPem(pub Vec<u8>);

    impl fmt::Debug for SecretPem {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("<redacted>")
        }
    }
}

/// A connection to the bank and the caller's credentials. Clones share
/// both (setting a token on one sets it for all); [`Bank::with_token`]
/// gives another caller on the same connection.
#[derive(Clone)]
pub struct Bank {
    channel: BankChannel,
    credentials: Arc<Credentials>,
    origin: http::Uri,
}

impl fmt::Debug for Bank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bank")
            .field("origin", &self.origin)
            .field("has_token", &self.has_token())
            .finish_non_exhaustive()
    }
}

impl Bank {
    /// Sign-up, log-in, tokens, users and roles.
    pub fn auth(&self) -> AuthClient {
        AuthClient::with_origin(self.channel.clone(), self.origin.clone())
    }

    /// Accounts, profiles, cards, card purchases and statements.
    pub fn accounts(&self) -> AccountClient {
        AccountClient::with_origin(self.channel.clone(), self.origin.clone())
    }

    /// The ledger: deposits, withdrawals, transfers and balances.
    pub fn transfers(&self) -> TransferClient {
        TransferClient::with_origin(self.channel.clone(), self.origin.clone())
    }

    /// Financing options, loan applications, decisions, loans.
    pub fn finance(&self) -> FinanceClient {
        FinanceClient::with_origin(self.channel.clone(), self.origin.clone())
    }

    /// Summaries, flagged transfers, spending, the live event feed.
    pub fn analytics(&self) -> AnalyticsClient {
        AnalyticsClient::with_origin(self.channel.clone(), self.origin.clone())
    }

    /// The channel the clients send through, for clients of your own.
    pub fn channel(&self) -> BankChannel {
        self.channel.clone()
    }

    /// Where requests go (`scheme://authority`).
    pub fn origin(&self) -> &http::Uri {
        &self.origin
    }

    /// Sends `authorization: Bearer <token>` on every later call.
    pub fn set_token(&self, token: &str) {
        self.credentials.set(Some(token));
    }

    /// Sends no token from now on.
    pub fn clear_token(&self) {
        self.credentials.set(None);
    }

    /// Whether a token is set.
    pub fn has_token(&self) -> bool {
        self.credentials.get().is_some()
    }

    /// Another caller on the same connection, with `token`.
    pub fn with_token(&self, token: &str) -> Self {
        let credentials = Arc::new(Credentials::default());
        credentials.set(Some(token));
        self.with_credentials(credentials)
    }

    /// Another caller on the same connection, without a token.
    pub fn anonymous(&self) -> Self {
        self.with_credentials(Arc::new(Credentials::default()))
    }

    fn with_credentials(&self, credentials: Arc<Credentials>) -> Self {
        Self {
            channel: self.channel.with_credentials(credentials.clone()),
            credentials,
            origin: self.origin.clone(),
        }
    }

    /// Logs in and uses the access token for every later call. Returns the
    /// whole answer (the refresh token is in `tokens`).
    pub async fn login(&self, email: &str, password: &str) -> Result<auth::LoginResponse, Error> {
        let response = self
            .auth()
            .login(auth::LoginRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .await?
            .into_inner();
        if let Some(tokens) = &response.tokens {
            self.set_token(&tokens.access_token);
        }
        Ok(response)
    }

    /// Trades a refresh token for a new pair (the old refresh token stops
    /// working) and uses the new access token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<auth::TokenPair, Error> {
        let tokens = self
            .auth()
            .refresh_token(auth::RefreshTokenRequest {
                refresh_token: refresh_token.to_owned(),
            })
            .await?
            .into_inner()
            .tokens
            .ok_or_else(|| Error::new(ErrorKind::Rpc, Code::Internal, "the server sent no tokens"))?;
        self.set_token(&tokens.access_token);
        Ok(tokens)
    }

    /// Ends this session (or every session of the user) on the server and
    /// forgets the token. Returns how many sessions were revoked.
    pub async fn logout(&self, all_sessions: bool) -> Result<i32, Error> {
        let revoked = self
            .auth()
            .logout(auth::LogoutRequest { all_sessions })
            .await?
            .into_inner()
            .sessions_revoked;
        self.clear_token();
        Ok(revoked)
    }
}
