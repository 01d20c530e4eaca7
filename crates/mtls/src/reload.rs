//! Certificate rotation without restart. The material is re-read when its
//! files change (what cert-manager does on Kubernetes); every new TLS
//! handshake, in both directions, uses the current certificate, key, CA
//! bundle and CRL, while established connections carry on. A certificate
//! revoked by the CRL, or expired, stops working at the next handshake.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::identity::SpiffeId;
use crate::material::{CONNECT_TIMEOUT_SECS, KEEPALIVE_INTERVAL_SECS, TlsError};

/// How often the files are checked for changes.
pub const TLS_RELOAD_INTERVAL_SECS: u64 = 2;

/// Paths of the material; the CRL is optional.
#[derive(Clone, Debug)]
struct Paths {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    crl: Option<PathBuf>,
}

/// One generation of loaded material.
#[derive(Debug)]
struct Generation {
    identity: SpiffeId,
    certified: Arc<CertifiedKey>,
    client_verifier: Arc<dyn ClientCertVerifier>,
    server_verifier: Arc<WebPkiServerVerifier>,
    fingerprint: u64,
}

/// mTLS material that follows its files.
#[derive(Debug)]
pub struct ReloadableTls {
    paths: Paths,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<Generation>>,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn pem_error(what: &'static str) -> impl Fn(rustls_pki_types::pem::Error) -> TlsError {
    move |e| TlsError::Pem {
        what,
        reason: e.to_string(),
    }
}

impl ReloadableTls {
    /// Loads the material; fails when it is unusable.
    pub fn load(ca: &Path, cert: &Path, key: &Path, crl: Option<&Path>) -> Result<Arc<Self>, TlsError> {
        let paths = Paths {
            ca: ca.to_owned(),
            cert: cert.to_owned(),
            key: key.to_owned(),
            crl: crl.map(Path::to_owned),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let generation = Self::build(&paths, &provider)?;
        Ok(Arc::new(Self {
            paths,
            provider,
            current: RwLock::new(Arc::new(generation)),
        }))
    }

    fn build(paths: &Paths, provider: &Arc<CryptoProvider>) -> Result<Generation, TlsError> {
        let ca = read(&paths.ca)?;
        let cert = read(&paths.cert)?;
        let key = read(&paths.key)?;
        let crl = paths.crl.as_deref().map(read).transpose()?;
        let mut hasher = DefaultHasher::new();
        (&ca, &cert, &key, &crl).hash(&mut hasher);
        let fingerprint = hasher.finish();

        let mut roots = RootCertStore::empty();
        for der in CertificateDer::pem_slice_iter(&ca) {
            roots
                .add(der.map_err(pem_error("CA"))?)
                .map_err(|e| TlsError::Rustls(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(TlsError::Pem {
                what: "CA",
                reason: "no certificate found".into(),
            });
        }
        let roots = Arc::new(roots);
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert)
            .collect::<Result<_, _>>()
            .map_err(pem_error("certificate"))?;
        let leaf = chain.first().ok_or_else(|| TlsError::Pem {
            what: "certificate",
            reason: "no certificate found".into(),
        })?;
        let identity = SpiffeId::from_certificate(leaf).ok_or(TlsError::NoIdentity)?;
        let key = PrivateKeyDer::from_pem_slice(&key).map_err(pem_error("private key"))?;
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        let certified = Arc::new(CertifiedKey::new(chain, signing));
        let crls: Vec<CertificateRevocationListDer<'static>> = match &crl {
            Some(bytes) => CertificateRevocationListDer::pem_slice_iter(bytes)
                .collect::<Result<_, _>>()
                .map_err(pem_error("CRL"))?,
            None => Vec::new(),
        };
        let client_verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .with_crls(crls.clone())
            .build()
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        let server_verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .with_crls(crls)
            .build()
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        Ok(Generation {
            identity,
            certified,
            client_verifier,
            server_verifier,
            fingerprint,
        })
    }

    fn generation(&self) -> Arc<Generation> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// This workload's identity (of the current certificate).
    pub fn identity(&self) -> SpiffeId {
        self.generation().identity.clone()
    }

    /// Re-reads the files; swaps in the new material when it changed and
    /// is valid. A broken update (half-written files) keeps the old one.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let next = Self::build(&self.paths, &self.provider)?;
        if next.fingerprint == self.generation().fingerprint {
            return Ok(false);
        }
        if next.identity != self.identity() {
            return Err(TlsError::Rustls(format!(
                "new certificate is for {}, not {}",
                next.identity,
                self.identity()
            )));
        }
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        Ok(true)
    }

    /// Watches the files until the returned task is aborted.
    pub fn spawn_watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(TLS_RELOAD_INTERVAL_SECS));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                match this.reload_if_changed() {
                    Ok(true) => tracing::info!(identity = %this.identity(), "reloaded mTLS certificate"),
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(%error, "mTLS files changed but cannot be loaded; keeping the current ones")
                    }
                }
            }
        })
    }

    /// A server configuration that always uses the current material.
    pub fn server_config(self: &Arc<Self>, allow_http1: bool) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rustls(e.to_string()))?
            .with_client_cert_verifier(Arc::new(Dynamic(self.clone())))
            .with_cert_resolver(Arc::new(Dynamic(self.clone())));
        config.alpn_protocols = vec![b"h2".to_vec()];
        crate::without_resumption(&mut config);
        if allow_http1 {
            config.alpn_protocols.push(b"http/1.1".to_vec());
        }
        Ok(Arc::new(config))
    }

    /// A client configuration that always uses the current material.
    pub fn client_config(self: &Arc<Self>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        let mut config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rustls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Dynamic(self.clone())))
            .with_client_cert_resolver(Arc::new(Dynamic(self.clone())));
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }

    /// An endpoint to a peer at `url` (`https://host:port`) whose
    /// connections use the current material.
    pub fn endpoint(self: &Arc<Self>, url: &str) -> Result<MeshEndpoint, TlsError> {
        let bad = |reason: String| TlsError::Url {
            url: url.to_owned(),
            reason,
        };
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| bad("mesh peers are reached over https only".into()))?;
        // tonic must not add TLS itself: our connector does it.
        let endpoint = Endpoint::from_shared(format!("http://{rest}"))
            .map_err(|e| bad(e.to_string()))?
            .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS))
            .http2_keep_alive_interval(Duration::from_secs(KEEPALIVE_INTERVAL_SECS))
            .keep_alive_while_idle(true);
        Ok(MeshEndpoint {
            endpoint,
            connector: MeshConnector {
                config: self.client_config()?,
            },
        })
    }
}

/// Adds the caller's W3C trace context (`traceparent`) to every outgoing
/// call, so one trace follows a request through the mesh.
#[derive(Clone, Copy, Debug, Default)]
pub struct Propagate;

impl tonic::service::Interceptor for Propagate {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut headers = http::HeaderMap::new();
        bank_telemetry::inject(&mut headers);
        for (name, value) in &headers {
            if let (Ok(key), Ok(value)) = (
                tonic::metadata::MetadataKey::from_bytes(name.as_str().as_bytes()),
                tonic::metadata::MetadataValue::try_from(value.as_bytes()),
            ) {
                request.metadata_mut().insert(key, value);
            }
        }
        Ok(request)
    }
}

/// A channel to a mesh peer: rotating mTLS, trace context propagated.
pub type MeshChannel = tonic::service::interceptor::InterceptedService<Channel, Propagate>;

/// An endpoint whose connections do mutual TLS with rotating material.
#[derive(Clone, Debug)]
pub struct MeshEndpoint {
    endpoint: Endpoint,
    connector: MeshConnector,
}

impl MeshEndpoint {
    /// A channel that connects on first use (services start in any order).
    pub fn connect_lazy(&self) -> MeshChannel {
        MeshChannel::new(
            self.endpoint.connect_with_connector_lazy(self.connector.clone()),
            Propagate,
        )
    }

    /// A channel connected now.
    pub async fn connect(&self) -> Result<MeshChannel, tonic::transport::Error> {
        let channel = self.endpoint.connect_with_connector(self.connector.clone()).await?;
        Ok(MeshChannel::new(channel, Propagate))
    }
}

/// TCP + rustls, with the server name taken from the URI host.
#[derive(Clone, Debug)]
struct MeshConnector {
    config: Arc<rustls::ClientConfig>,
}

impl tower::Service<Uri> for MeshConnector {
    type Response = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = BoxFuture<'static, Result<Self::Response, io::Error>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), io::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let config = self.config.clone();
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "peer URL without host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = uri.port_u16().unwrap_or(443);
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            let _ = tcp.set_nodelay(true);
            let name = ServerName::try_from(host).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let stream = TlsConnector::from(config).connect(name, tcp).await?;
            Ok(TokioIo::new(stream))
        })
    }
}

/// Delegates every TLS decision to the current generation.
#[derive(Debug)]
struct Dynamic(Arc<ReloadableTls>);

impl ResolvesServerCert for Dynamic {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.generation().certified.clone())
    }
}

impl ResolvesClientCert for Dynamic {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.generation().certified.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

impl ClientCertVerifier for Dynamic {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // Hints are optional; ours would change with the CA.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.0
            .generation()
            .client_verifier
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .generation()
            .client_verifier
            .verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .generation()
            .client_verifier
            .verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.generation().client_verifier.supported_verify_schemes()
    }
}

impl ServerCertVerifier for Dynamic {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0.generation().server_verifier.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .generation()
            .server_verifier
            .verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .generation()
            .server_verifier
            .verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.generation().server_verifier.supported_verify_schemes()
    }
}
