//! [`connect`] and its [`ConnectOptions`]: plain `http://` (h2c) or
//! `https://` with rustls (ring), trusting a given CA or Mozilla's roots,
//! optionally presenting a client certificate.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tower::ServiceExt as _;

use crate::channel::{BankChannel, BoxError, CallPolicy, Credentials, RetryPolicy, Transport};
use crate::error::{Error, ErrorKind};
use crate::{Bank, secret::SecretPem};

/// Time to establish a connection (TCP and TLS), by default, in seconds.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 5;
/// Limit of one attempt of a call by default, in seconds (for a stream:
/// until its response starts).
pub const DEFAULT_ATTEMPT_TIMEOUT_SECS: u64 = 30;
/// HTTP/2 keep-alive pings on an idle connection, in seconds.
pub const KEEPALIVE_INTERVAL_SECS: u64 = 30;

/// How to reach the bank. `Default` is plain settings: Mozilla's roots for
/// `https://`, no client certificate, no token, default retries.
#[derive(Clone)]
pub struct ConnectOptions {
    ca_pems: Vec<Vec<u8>>,
    webpki_roots: Option<bool>,
    identity: Option<(Vec<u8>, SecretPem)>,
    tls_domain: Option<String>,
    token: Option<String>,
    retry: RetryPolicy,
    connect_timeout: Duration,
    attempt_timeout: Option<Duration>,
    user_agent: Option<String>,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("ca_certificates", &self.ca_pems.len())
            .field("webpki_roots", &self.webpki_roots)
            .field("client_identity", &self.identity.is_some())
            .field("tls_domain", &self.tls_domain)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("retry", &self.retry)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            ca_pems: Vec::new(),
            webpki_roots: None,
            identity: None,
            tls_domain: None,
            token: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
            attempt_timeout: Some(Duration::from_secs(DEFAULT_ATTEMPT_TIMEOUT_SECS)),
            user_agent: None,
        }
    }
}

impl ConnectOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the CA certificate(s) in `pem` for `https://` (instead of
    /// Mozilla's roots, unless [`ConnectOptions::webpki_roots`] says both).
    #[must_use]
    pub fn ca_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pems.push(pem.into());
        self
    }

    /// Whether to trust Mozilla's root certificates (webpki-roots). By
    /// default they are trusted only when no CA certificate was given.
    #[must_use]
    pub fn webpki_roots(mut self, trust: bool) -> Self {
        self.webpki_roots = Some(trust);
        self
    }

    /// Presents a client certificate (PEM chain and PKCS#8 key), for servers
    /// that require mutual TLS.
    #[must_use]
    pub fn client_identity(mut self, cert_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> Self {
        self.identity = Some((cert_pem.into(), SecretPem(key_pem.into())));
        self
    }

    /// The name to verify the server's certificate against, when it is not
    /// the URL's host.
    #[must_use]
    pub fn tls_domain(mut self, domain: impl Into<String>) -> Self {
        self.tls_domain = Some(domain.into());
        self
    }

    /// The bearer token to start with (see also [`Bank::set_token`]).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How idempotent calls are retried ([`RetryPolicy::never`] to turn
    /// retries off).
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Time to establish a connection.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit of each attempt of a call (`None`: no limit); a stream's
    /// limit ends when its response starts.
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Prefix of the `user-agent` header.
    #[must_use]
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    fn tls(&self) -> ClientTlsConfig {
        let mut tls = ClientTlsConfig::new().assume_http2(true);
        for pem in &self.ca_pems {
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        if self.webpki_roots.unwrap_or(self.ca_pems.is_empty()) {
            tls = tls.trust_anchors(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if let Some((cert, key)) = &self.identity {
            tls = tls.identity(Identity::from_pem(cert, &key.0));
        }
        if let Some(domain) = &self.tls_domain {
            tls = tls.domain_name(domain.clone());
        }
        tls
    }

    fn endpoint(&self, url: &str) -> Result<Endpoint, Error> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| Error::config(format!("invalid URL {url}: {e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(Error::config(format!("invalid URL {url}: use http:// or https://"))),
        };
        if uri.host().is_none() {
            return Err(Error::config(format!("invalid URL {url}: no host")));
        }
        let agent = match &self.user_agent {
            Some(agent) => format!("{agent} bank-client/{}", env!("CARGO_PKG_VERSION")),
            None => format!("bank-client/{}", env!("CARGO_PKG_VERSION")),
        };
        let mut endpoint = Endpoint::from(uri)
            .connect_timeout(self.connect_timeout)
            .http2_keep_alive_interval(Duration::from_secs(KEEPALIVE_INTERVAL_SECS))
            .keep_alive_while_idle(false)
            .user_agent(agent)
            .map_err(|e| Error::config(format!("invalid user agent: {e}")))?;
        if https {
            endpoint = endpoint
                .tls_config(self.tls())
                .map_err(|e| Error::config(format!("TLS settings: {e}")))?;
        } else if !self.ca_pems.is_empty() || self.identity.is_some() {
            return Err(Error::config(format!(
                "{url} is plain http://: TLS settings need an https:// URL"
            )));
        }
        Ok(endpoint)
    }

    fn policy(&self) -> CallPolicy {
        CallPolicy {
            retry: self.retry.clone(),
            attempt_timeout: self.attempt_timeout,
        }
    }
}

fn transport_of(channel: tonic::transport::Channel) -> Transport {
    Transport::new(channel.map_err(BoxError::from))
}

impl Bank {
    fn assemble(transport: Transport, origin: http::Uri, options: &ConnectOptions) -> Self {
        let credentials = Arc::new(Credentials::default());
        credentials.set(options.token.as_deref());
        Self {
            channel: BankChannel::new(transport, credentials.clone(), options.policy()),
            credentials,
            origin,
        }
    }

    /// Like [`connect`], connecting on first use instead of now.
    pub fn connect_lazy(url: &str, options: ConnectOptions) -> Result<Self, Error> {
        let endpoint = options.endpoint(url)?;
        let origin = endpoint.uri().clone();
        Ok(Self::assemble(transport_of(endpoint.connect_lazy()), origin, &options))
    }

    /// A handle over any HTTP/2 transport (a tonic `Channel`, a test double,
    /// a service with layers of its own): the bearer token, request ids and
    /// retries are added above `transport`. Requests go to `origin`
    /// (`scheme://authority`).
    pub fn from_transport<S, B>(transport: S, origin: http::Uri, options: ConnectOptions) -> Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let transport = transport
            .map_response(|response: http::Response<B>| response.map(tonic::body::Body::new))
            .map_err(Into::into);
        Self::assemble(Transport::new(transport), origin, &options)
    }
}

/// Connects to the bank at `url` (`http://host:port` for h2c, or
/// `https://host:port` with TLS) and returns the handle every typed client
/// comes from. Fails when the server cannot be reached.
///
/// ```no_run
/// # async fn run() -> Result<(), bank_client::Error> {
/// use bank_client::{ConnectOptions, connect};
/// let bank = connect("http://127.0.0.1:8080", ConnectOptions::new()).await?;
/// bank.login("ada@example.com", "a long passphrase 1").await?;
/// let accounts = bank.accounts().list_accounts(bank_client::account::ListAccountsRequest::default()).await?;
/// # Ok(()) }
/// ```
pub async fn connect(url: &str, options: ConnectOptions) -> Result<Bank, Error> {
    let endpoint = options.endpoint(url)?;
    let origin = endpoint.uri().clone();
    let channel = endpoint.connect().await.map_err(|e| {
        let mut message = format!("cannot connect to {url}");
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        Error::new(ErrorKind::Connect, tonic::Code::Unavailable, message)
    })?;
    Ok(Bank::assemble(transport_of(channel), origin, &options))
}
