//! Redis over TLS against a real `redis-server` started with a TLS port
//! and a certificate from a throwaway CA: `rediss://` with `ca_file`
//! connects and checks the server; other roots, an unchecked connection
//! and a CA file for a plaintext URL are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failure is a panic")]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bank_config::{RedisConfig, SecretString};
use bank_testkit::TestPki;

/// A `redis-server` that speaks only TLS on a loopback port; killed when
/// dropped.
struct TlsRedis {
    child: Child,
    port: u16,
    pki: TestPki,
}

impl TlsRedis {
    async fn start() -> Self {
        let pki = TestPki::new();
        let paths = pki.tls_paths("redis");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(&paths.cert)
            .arg("--tls-key-file")
            .arg(&paths.key)
            .arg("--tls-ca-cert-file")
            .arg(&paths.ca)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's redis-server package) must be installed");
        let redis = Self { child, port, pki };
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        redis
    }

    fn ca(&self) -> PathBuf {
        self.pki.dir().join("ca.crt")
    }

    fn config(&self, scheme: &str, ca_file: Option<PathBuf>) -> RedisConfig {
        RedisConfig {
            url: SecretString::from(format!("{scheme}://localhost:{}", self.port)),
            ca_file,
            key_prefix: "tls".to_owned(),
        }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn ping(config: &RedisConfig) -> redis::RedisResult<String> {
    let mut manager = bank_server::redis_manager(config).unwrap();
    redis::cmd("PING").query_async(&mut manager).await
}

#[tokio::test]
async fn rediss_with_the_servers_ca_connects() {
    let server = TlsRedis::start().await;
    let config = server.config("rediss", Some(server.ca()));
    assert_eq!(ping(&config).await.unwrap(), "PONG");
    // The subscriber's own connections (analytics' feed) use the same client.
    let client = bank_server::redis_client(&config).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.subscribe("tls:probe").await.unwrap();
}

#[tokio::test]
async fn a_server_not_signed_by_the_trusted_ca_is_refused() {
    let server = TlsRedis::start().await;
    let stranger = TestPki::new();
    let config = server.config("rediss", Some(stranger.dir().join("ca.crt")));
    let error = ping(&config).await.unwrap_err().to_string();
    assert!(
        error.contains("UnknownIssuer") || error.contains("certificate"),
        "{error}"
    );
    // The system's roots do not know the test CA either.
    assert!(ping(&server.config("rediss", None)).await.is_err());
    // A plaintext client gets nothing from the TLS port.
    assert!(ping(&server.config("redis", None)).await.is_err());
}

#[test]
fn unchecked_tls_and_a_ca_for_plaintext_are_refused() {
    let with = |url: &str, ca_file: Option<PathBuf>| RedisConfig {
        url: SecretString::from(url.to_owned()),
        ca_file,
        key_prefix: "tls".to_owned(),
    };
    let insecure = bank_server::redis_client(&with("rediss://localhost:6390/#insecure", None));
    assert!(insecure.unwrap_err().to_string().contains("#insecure"));
    let plaintext = bank_server::redis_client(&with("redis://localhost:6390", Some("/ca.pem".into())));
    assert!(plaintext.unwrap_err().to_string().contains("not rediss://"));
    let missing = bank_server::redis_client(&with("rediss://localhost:6390", Some("/no/such/ca.pem".into())));
    assert!(missing.unwrap_err().to_string().contains("/no/such/ca.pem"));
}
