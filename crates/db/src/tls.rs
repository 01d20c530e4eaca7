//! TLS to PostgreSQL, set with libpq's URL parameters: `sslmode`,
//! `sslrootcert` (a PEM bundle of the CAs to trust), and `sslcert` with
//! `sslkey` (a client certificate, PEM). rustls with ring, as everywhere in
//! the mesh; no OpenSSL.
//!
//! | `sslmode` | TLS | server certificate checked |
//! |---|---|---|
//! | absent, `disable` | never | - |
//! | `allow`, `prefer` | when the server offers it | chain, when `sslrootcert` is given |
//! | `require` | always | chain, when `sslrootcert` is given |
//! | `verify-ca` | always | chain (needs `sslrootcert`) |
//! | `verify-full` | always | chain and host name (needs `sslrootcert`) |
//!
//! Two departures from libpq, both toward saying what is meant: an absent
//! `sslmode` means `disable` (libpq tries TLS first), and `sslrootcert`
//! has no default file, so `verify-ca` and `verify-full` must name one.
//! SCRAM channel binding is not offered.

use std::io;
use std::pin::Pin;
use std::str::FromStr as _;
use std::sync::Arc;
use std::task::{Context, Poll};

use diesel::ConnectionResult;
use diesel_async::AsyncPgConnection;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

use crate::DbError;

/// How to open connections to one database URL: the driver's settings and,
/// when TLS may be used, the certificate files to use.
#[derive(Clone)]
pub(crate) struct Connector {
    config: tokio_postgres::Config,
    tls: Option<Arc<TlsFiles>>,
}

/// The TLS settings of a URL. The files are read again for every new
/// connection, so renewed certificates (cert-manager rewrites them in
/// place) take effect without a restart; a connection is opened rarely
/// (pooled), and the handshake costs far more than the reading.
struct TlsFiles {
    /// `verify-full`: the certificate must name the host (`root` is set).
    check_name: bool,
    root: Option<String>,
    client: Option<(String, String)>,
}

impl TlsFiles {
    fn client_config(&self) -> Result<Arc<ClientConfig>, DbError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(e.to_string()))?;
        let roots = self.root.as_deref().map(root_store).transpose()?;
        let builder = match roots {
            Some(roots) if self.check_name => builder.with_root_certificates(roots),
            roots => {
                let chain = roots
                    .map(|roots| WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build())
                    .transpose()
                    .map_err(|e| tls_error(e.to_string()))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Relaxed { chain, provider }))
            }
        };
        let client = match &self.client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = CertificateDer::pem_file_iter(cert)
                    .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                    .map_err(|e| tls_error(format!("sslcert {cert}: {e}")))?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| tls_error(format!("sslkey {key}: {e}")))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| tls_error(format!("sslcert/sslkey: {e}")))?
            }
        };
        Ok(Arc::new(client))
    }
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The driver's settings hold the password: not shown.
        f.debug_struct("Connector")
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Reads `url` and the certificate files it names.
    pub(crate) fn new(url: &str) -> Result<Self, DbError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        let (mut mode, mut root, mut cert, mut key) = (None, None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "sslmode" => &mut mode,
                "sslrootcert" => &mut root,
                "sslcert" => &mut cert,
                "sslkey" => &mut key,
                _ => {
                    kept.push(pair);
                    continue;
                }
            };
            *slot = Some(percent_decode(value).ok_or_else(|| tls_error(format!("{name}: bad percent-encoding")))?);
        }
        let driver_url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        // The driver's error text never contains the URL (nor its password).
        let mut config = tokio_postgres::Config::from_str(&driver_url).map_err(|e| DbError::Query(e.to_string()))?;

        let verify = match mode.as_deref() {
            None | Some("disable") => {
                if root.is_some() || cert.is_some() || key.is_some() {
                    return Err(tls_error(
                        "sslrootcert, sslcert and sslkey need an sslmode (verify-full, verify-ca, require or prefer)"
                            .into(),
                    ));
                }
                config.ssl_mode(SslMode::Disable);
                return Ok(Self { config, tls: None });
            }
            Some("allow" | "prefer") => {
                config.ssl_mode(SslMode::Prefer);
                Verify::ChainIfRoot
            }
            Some("require") => {
                config.ssl_mode(SslMode::Require);
                Verify::ChainIfRoot
            }
            Some("verify-ca") => {
                config.ssl_mode(SslMode::Require);
                Verify::Chain
            }
            Some("verify-full") => {
                config.ssl_mode(SslMode::Require);
                Verify::Full
            }
            Some(other) => {
                return Err(tls_error(format!(
                    "sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                )));
            }
        };
        if root.is_none() && !matches!(verify, Verify::ChainIfRoot) {
            return Err(tls_error(format!(
                "sslmode={} needs sslrootcert, the PEM file of the CAs to trust",
                mode.as_deref().unwrap_or_default()
            )));
        }
        if root.is_none() {
            tracing::warn!(
                sslmode = mode.as_deref().unwrap_or_default(),
                "TLS to PostgreSQL without sslrootcert: the server's certificate is not checked (use verify-full)"
            );
        }
        let client_files = match (cert, key) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some((cert, key)),
            _ => return Err(tls_error("sslcert and sslkey go together".into())),
        };
        let files = TlsFiles {
            check_name: matches!(verify, Verify::Full),
            root,
            client: client_files,
        };
        // Read now, so a bad file stops start-up with a clear error.
        files.client_config()?;
        Ok(Self {
            config,
            tls: Some(Arc::new(files)),
        })
    }

    /// Opens one connection.
    pub(crate) async fn connect(&self) -> ConnectionResult<AsyncPgConnection> {
        let bad = |e: tokio_postgres::Error| diesel::ConnectionError::BadConnection(with_causes(&e));
        match &self.tls {
            None => {
                let (client, connection) = self.config.connect(tokio_postgres::NoTls).await.map_err(bad)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
            Some(files) => {
                let tls = files
                    .client_config()
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                let (client, connection) = self.config.connect(MakeRustls(tls)).await.map_err(bad)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
        }
    }
}

/// `error` and its causes: the driver's own text for a failed handshake
/// does not say why (an unknown issuer, a name mismatch...).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

fn tls_error(message: String) -> DbError {
    DbError::Tls(message)
}

#[derive(Clone, Copy)]
enum Verify {
    /// The chain when a root is given, else nothing (libpq's `require`).
    ChainIfRoot,
    /// The chain up to a given root, not the host name.
    Chain,
    /// The chain and the host name.
    Full,
}

fn root_store(path: &str) -> Result<RootCertStore, DbError> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| tls_error(format!("sslrootcert {path}: {e}")))?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(tls_error(format!("sslrootcert {path}: no usable certificate")));
    }
    Ok(roots)
}

/// `%XX` sequences decoded (URL query values); `None` when malformed.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The server checks short of rustls' full one: the chain up to a trusted
/// root but not the host name (`verify-ca`, or `require`/`prefer` with
/// `sslrootcert`), or nothing at all (`require`/`prefer` without it, as
/// libpq does). The name check is the last step of rustls' verifier, so a
/// name error means everything before it passed. Either way the
/// handshake's signatures are checked against the certificate presented.
#[derive(Debug)]
struct Relaxed {
    /// `None`: any certificate is taken.
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// tokio-postgres' TLS hooks over tokio-rustls.
#[derive(Clone)]
struct MakeRustls(Arc<ClientConfig>);

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, host: &str) -> io::Result<RustlsConnect> {
        let name = ServerName::try_from(host.to_owned()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{host:?} is not a TLS server name"),
            )
        })?;
        Ok(RustlsConnect {
            config: self.0.clone(),
            name,
        })
    }
}

struct RustlsConnect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let stream = tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await?;
            Ok(RustlsStream(stream))
        })
    }
}

struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn ssl_parameters_are_read_and_the_rest_goes_to_the_driver() {
        let plain = Connector::new("postgres://root@127.0.0.1:5432/bank?application_name=x").ok();
        assert!(plain.as_ref().is_some_and(|c| c.tls.is_none()));
        let c = Connector::new("postgres://root@127.0.0.1/bank?sslmode=require&application_name=x").ok();
        assert!(c.as_ref().is_some_and(|c| c.tls.is_some()));
        assert_eq!(
            c.and_then(|c| c.config.get_application_name().map(str::to_owned))
                .as_deref(),
            Some("x")
        );
        for (url, says) in [
            ("postgres://h/d?sslmode=verify-full", "needs sslrootcert"),
            ("postgres://h/d?sslmode=verify-ca", "needs sslrootcert"),
            ("postgres://h/d?sslrootcert=/x.pem", "need an sslmode"),
            ("postgres://h/d?sslmode=bogus", "is not one of"),
            ("postgres://h/d?sslmode=require&sslcert=/a.pem", "go together"),
            (
                "postgres://h/d?sslmode=verify-full&sslrootcert=/no/such%2Efile.pem",
                "/no/such.file.pem",
            ),
            ("postgres://h/d?sslmode=require&sslrootcert=%zz", "percent"),
        ] {
            let error = Connector::new(url).map(|_| ()).unwrap_err().to_string();
            assert!(error.contains(says), "{url}: {error}");
        }
    }
}
