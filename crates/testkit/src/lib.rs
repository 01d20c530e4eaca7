//! Test kit for bank services: a fresh PostgreSQL database per test
//! (dropped afterwards), a throwaway mesh CA with per-workload certificates,
//! a JWT signing key, services started on port 0 with a shutdown handle,
//! mTLS client channels, and log capture. Tests talk to the real
//! PostgreSQL and Redis named by `DATABASE_URL` and `REDIS_URL`.

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "test support: failing loudly is the point"
)]

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bank_config::{DatabaseConfig, LogFormat, MeshConfig, PeerUrls, RedisConfig, SecretString, TlsPaths};
use bank_mtls::{DevCa, MeshTls};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// The PostgreSQL server tests use (any database on it; each test creates
/// its own).
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The Redis server tests use.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A database created for one test and dropped when this value is.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
}

impl TestDatabase {
    /// Creates `t_<label>_<random>` on the test server.
    pub async fn create(label: &str) -> Self {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("t_{label}_{}", &suffix[..12]);
        let url = bank_db::with_database(&database_url(), &name).unwrap();
        bank_db::ensure_database(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name} ({e}); is PostgreSQL running?"));
        Self { url }
    }

    /// Takes ownership of a database created elsewhere (by a service under
    /// test), so it is dropped with this value.
    pub fn adopt(url: String) -> Self {
        Self { url }
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let url = self.url.clone();
        // Drop may run inside a runtime that is shutting down: use our own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                let _ = rt.block_on(bank_db::drop_database(&url));
            }
        })
        .join();
    }
}

/// A throwaway mesh CA with certificates issued on demand, written to a
/// temporary directory in the `bank certs` layout.
#[derive(Debug)]
pub struct TestPki {
    dir: tempfile::TempDir,
    ca: DevCa,
    serials: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPki {
    /// A new CA.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = DevCa::generate("bank test CA").unwrap();
        std::fs::write(dir.path().join("ca.crt"), ca.cert_pem()).unwrap();
        Self {
            dir,
            ca,
            serials: std::sync::Mutex::default(),
        }
    }

    fn write_cert(&self, name: &str, cert: bank_mtls::IssuedCert) {
        let paths = TlsPaths::in_dir(self.dir.path(), name);
        // Write-then-rename, as cert-manager's atomic updates do, so a
        // watcher never reads half a file.
        for (path, contents) in [(&paths.cert, &cert.cert_pem), (&paths.key, &cert.key_pem)] {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, contents).unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
        self.serials.lock().unwrap().insert(name.to_owned(), cert.serial);
    }

    /// Issues a new certificate for `name`, replacing its files.
    pub fn rotate(&self, name: &str) {
        let cert = self.ca.issue(name).unwrap();
        self.write_cert(name, cert);
    }

    /// The serial number of `name`'s current certificate.
    pub fn serial(&self, name: &str) -> Vec<u8> {
        self.tls_paths(name);
        self.serials.lock().unwrap().get(name).cloned().unwrap()
    }

    /// Writes `<dir>/ca.crl` revoking `serials` and returns its path.
    pub fn write_crl(&self, serials: &[Vec<u8>]) -> PathBuf {
        let path = self.dir.path().join("ca.crl");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.ca.crl(serials).unwrap()).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        path
    }

    /// Material of `name` with a certificate that expired an hour ago
    /// (written under `<dir>/expired/`).
    pub fn expired_tls(&self, name: &str) -> MeshTls {
        let dir = self.dir.path().join("expired");
        std::fs::create_dir_all(&dir).unwrap();
        let past = |hours: i64| bank_mtls_time::now() - bank_mtls_time::hours(hours);
        let cert = self.ca.issue_valid(name, past(48), past(1)).unwrap();
        let cert_path = dir.join(format!("{name}.crt"));
        let key_path = dir.join(format!("{name}.key"));
        std::fs::write(&cert_path, cert.cert_pem).unwrap();
        std::fs::write(&key_path, cert.key_pem).unwrap();
        MeshTls::load(&self.dir.path().join("ca.crt"), &cert_path, &key_path).unwrap()
    }

    /// The directory holding `ca.crt`, `<name>.crt`, `<name>.key`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Paths of workload `name`'s material, issuing it on first use.
    pub fn tls_paths(&self, name: &str) -> TlsPaths {
        let paths = TlsPaths::in_dir(self.dir.path(), name);
        if !paths.cert.exists() {
            let cert = self.ca.issue(name).unwrap();
            self.write_cert(name, cert);
        }
        paths
    }

    /// Loaded material of workload `name`.
    pub fn mesh_tls(&self, name: &str) -> MeshTls {
        let paths = self.tls_paths(name);
        MeshTls::load(&paths.ca, &paths.cert, &paths.key).unwrap()
    }

    /// Writes a new Ed25519 JWT signing key and returns its path.
    pub fn jwt_key(&self, name: &str) -> PathBuf {
        let (_, pem) = bank_authn::SigningKey::generate().unwrap();
        let path = self.dir.path().join(format!("{name}.jwt.pem"));
        std::fs::write(&path, pem).unwrap();
        path
    }
}

mod bank_mtls_time {
    pub fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }

    pub fn hours(n: i64) -> time::Duration {
        time::Duration::hours(n)
    }
}

/// A listener on a free loopback port.
pub async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A unique Redis key prefix, so parallel tests never share counters.
pub fn redis_prefix() -> String {
    format!("test:{}", uuid::Uuid::new_v4().simple())
}

/// The mesh part of a service config for a test.
pub fn mesh_config(pki: &TestPki, workload: &str, database: &TestDatabase, redis_prefix: &str) -> MeshConfig {
    MeshConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        tls: pki.tls_paths(workload),
        database: DatabaseConfig {
            url: SecretString::from(database.url().to_owned()),
            pool_size: 4,
        },
        redis: RedisConfig {
            ca_file: None,
            url: SecretString::from(redis_url()),
            key_prefix: redis_prefix.to_owned(),
        },
        peers: PeerUrls::default(),
        log_format: LogFormat::Json,
        admin_listen: None,
        max_connection_age_secs: bank_config::MAX_CONNECTION_AGE_SECS_DEFAULT,
        max_connection_age_grace_secs: bank_config::MAX_CONNECTION_AGE_GRACE_SECS_DEFAULT,
    }
}

/// A service running in the test's runtime.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Signals shutdown and waits for the server to return.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.handle).await?
    }
}

/// Starts `serve(listener, shutdown)` on a free port.
pub async fn spawn<F, Fut>(serve: F) -> Running
where
    F: FnOnce(TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let (listener, _) = listener().await;
    spawn_on(listener, serve)
}

/// Starts `serve(listener, shutdown)` on a listener bound beforehand (when
/// two services must know each other's address before either starts).
pub fn spawn_on<F, Fut>(listener: TcpListener, serve: F) -> Running
where
    F: FnOnce(TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
        let _ = stopped.await;
    });
    let handle = tokio::spawn(serve(listener, shutdown));
    Running {
        addr,
        stop: Some(stop),
        handle,
    }
}

/// An mTLS channel to `addr` presenting workload `name`'s certificate.
pub async fn channel(pki: &TestPki, name: &str, addr: SocketAddr) -> Channel {
    channel_with(&pki.mesh_tls(name), addr).await
}

/// An mTLS channel to `addr` with `tls`, retried until the server answers
/// (it may still be running migrations).
pub async fn channel_with(tls: &MeshTls, addr: SocketAddr) -> Channel {
    let endpoint = tls.endpoint(&format!("https://{addr}")).unwrap();
    for _ in 0..200 {
        if let Ok(channel) = endpoint.connect().await {
            return channel;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("service at {addr} did not come up");
}

/// Every log line emitted while the guard lives, on this thread (use a
/// current-thread runtime so spawned tasks log here too).
#[derive(Clone, Debug, Default)]
pub struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl LogCapture {
    /// Starts capturing JSON log lines at every level.
    pub fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let capture = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(capture.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (capture, guard)
    }

    /// Everything captured so far.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
