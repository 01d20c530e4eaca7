use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::identity::SpiffeId;

/// Timeout for establishing a TCP + TLS connection to a peer service.
pub const CONNECT_TIMEOUT_SECS: u64 = 3;
/// HTTP/2 keep-alive interval on mesh channels, so a dead peer is noticed.
pub const KEEPALIVE_INTERVAL_SECS: u64 = 20;

/// Why TLS material could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A PEM document held no usable item.
    #[error("{what}: {reason}")]
    Pem {
        /// Which input (CA, certificate or key).
        what: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The certificate carries no `spiffe://bank.local/<name>` URI SAN.
    #[error("certificate has no spiffe://bank.local/<name> URI SAN")]
    NoIdentity,
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(String),
    /// A peer URL is not valid.
    #[error("invalid peer url {url}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
}

/// The mesh CA, this workload's certificate chain and private key, and the
/// identity the certificate carries. One value serves both as server and as
/// client material, as every service is both.
pub struct MeshTls {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    roots: Arc<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    identity: SpiffeId,
}

impl fmt::Debug for MeshTls {
    // The private key never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeshTls")
            .field("identity", &self.identity)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl MeshTls {
    /// Loads PEM files: the mesh CA certificate, this workload's certificate
    /// (chain) and its PKCS#8 private key.
    pub fn load(ca: &Path, cert: &Path, key: &Path) -> Result<Self, TlsError> {
        Self::from_pem(read(ca)?, read(cert)?, read(key)?)
    }

    /// Builds the material from PEM text.
    pub fn from_pem(ca_pem: String, cert_pem: String, key_pem: String) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        let mut ca_count = 0;
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            let cert = cert.map_err(|e| TlsError::Pem {
                what: "CA",
                reason: e.to_string(),
            })?;
            roots.add(cert).map_err(|e| TlsError::Rustls(e.to_string()))?;
            ca_count += 1;
        }
        if ca_count == 0 {
            return Err(TlsError::Pem {
                what: "CA",
                reason: "no certificate found".into(),
            });
        }
        let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem {
                what: "certificate",
                reason: e.to_string(),
            })?;
        let leaf = chain.first().ok_or_else(|| TlsError::Pem {
            what: "certificate",
            reason: "no certificate found".into(),
        })?;
        let identity = SpiffeId::from_certificate(leaf).ok_or(TlsError::NoIdentity)?;
        // Parse the key now so a bad key fails at start-up, not at first use.
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| TlsError::Pem {
            what: "private key",
            reason: e.to_string(),
        })?;
        Ok(Self {
            ca_pem,
            cert_pem,
            key_pem,
            roots: Arc::new(roots),
            chain,
            identity,
        })
    }

    /// The identity this workload's certificate carries.
    pub fn identity(&self) -> &SpiffeId {
        &self.identity
    }

    fn private_key(&self) -> Result<PrivateKeyDer<'static>, TlsError> {
        PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).map_err(|e| TlsError::Pem {
            what: "private key",
            reason: e.to_string(),
        })
    }

    /// A rustls server configuration that requires a client certificate
    /// issued by the mesh CA and speaks HTTP/2 (plus HTTP/1.1 when asked, for
    /// grpc-web at the gateway).
    pub fn server_config(&self, allow_http1: bool) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = provider();
        let verifier = WebPkiClientVerifier::builder_with_provider(self.roots.clone(), provider.clone())
            .build()
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rustls(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.private_key()?)
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        crate::without_resumption(&mut config);
        config.alpn_protocols = vec![b"h2".to_vec()];
        if allow_http1 {
            config.alpn_protocols.push(b"http/1.1".to_vec());
        }
        Ok(Arc::new(config))
    }

    /// A rustls client configuration that trusts only the mesh CA and
    /// presents this workload's certificate.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rustls(e.to_string()))?
            .with_root_certificates(self.roots.clone())
            .with_client_auth_cert(self.chain.clone(), self.private_key()?)
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }

    /// tonic's client TLS settings for calling another mesh workload.
    pub fn client_tls(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
    }

    /// A lazily connecting endpoint to a peer at `url` (`https://host:port`),
    /// verified against the mesh CA. Lazy so services start in any order.
    pub fn endpoint(&self, url: &str) -> Result<Endpoint, TlsError> {
        let bad = |reason: String| TlsError::Url {
            url: url.to_owned(),
            reason,
        };
        if !url.starts_with("https://") {
            return Err(bad("mesh peers are reached over https only".into()));
        }
        Endpoint::from_shared(url.to_owned())
            .map_err(|e| bad(e.to_string()))?
            .tls_config(self.client_tls())
            .map_err(|e| bad(e.to_string()))
            .map(|endpoint| {
                endpoint
                    .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS))
                    .http2_keep_alive_interval(Duration::from_secs(KEEPALIVE_INTERVAL_SECS))
                    .keep_alive_while_idle(true)
            })
    }
}
