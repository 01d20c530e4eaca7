//! The Auth service as a real process: SIGTERM mid-load drains in-flight
//! RPCs (none fails) and the process exits cleanly; readiness follows the
//! database while liveness does not.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bank_proto::bank::auth::v1 as pb;
use bank_proto::bank::auth::v1::auth_service_client::AuthServiceClient;
use bank_testkit::{TestDatabase, TestPki};

use crate::helpers::unique_email;

struct Process {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    admin: std::net::SocketAddr,
}

fn free_addr() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn start(pki: &TestPki, db: &TestDatabase) -> Process {
    let tls = pki.tls_paths("auth");
    let addr = free_addr();
    let admin = free_addr();
    let config = format!(
        r#"listen = "{addr}"
admin_listen = "{admin}"
log_format = "json"
[tls]
ca = "{ca}"
cert = "{cert}"
key = "{key}"
[database]
url = "{db}"
pool_size = 4
[redis]
url = "{redis}"
key_prefix = "{prefix}"
[jwt]
signing_key = "{jwt}"
"#,
        ca = tls.ca.display(),
        cert = tls.cert.display(),
        key = tls.key.display(),
        db = db.url(),
        redis = bank_testkit::redis_url(),
        prefix = bank_testkit::redis_prefix(),
        jwt = pki.jwt_key("auth").display(),
    );
    let path = pki.dir().join("auth.toml");
    std::fs::write(&path, config).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
        .env("BANK_CONFIG", &path)
        .env("BANK_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    Process { child, addr, admin }
}

async fn probe(admin: std::net::SocketAddr, path: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut tcp = tokio::net::TcpStream::connect(admin).await.ok()?;
    tcp.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).await.ok()?;
    reply.split_whitespace().nth(1)?.parse().ok()
}

fn terminate(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_mid_load_fails_no_in_flight_request() {
    let pki = TestPki::new();
    let db = TestDatabase::create("auth").await;
    let mut process = start(&pki, &db);
    let channel = bank_testkit::channel(&pki, "gateway", process.addr).await;

    let sigterm_at: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    let failed_in_flight = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (channel, sigterm_at, failed_in_flight, completed) = (
            channel.clone(),
            sigterm_at.clone(),
            failed_in_flight.clone(),
            completed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut client = AuthServiceClient::new(channel);
            for _ in 0..400 {
                let started = Instant::now();
                // Sign-up hashes a password: each call is in flight for a while.
                let result = client
                    .sign_up(pb::SignUpRequest {
                        email: unique_email(),
                        password: "a long enough passphrase 7".to_owned(),
                    })
                    .await;
                let term = *sigterm_at.lock().unwrap();
                match (result, term) {
                    (Ok(_), _) => {
                        completed.fetch_add(1, Ordering::Relaxed);
                    }
                    // Started well before SIGTERM: it was in flight and must have finished.
                    (Err(status), Some(at)) if started + Duration::from_millis(50) < at => {
                        eprintln!("in-flight call failed: {status:?}");
                        failed_in_flight.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    // Sent after shutdown began: refusing it is right.
                    (Err(_), Some(_)) => return,
                    (Err(status), None) => panic!("failure before shutdown: {status:?}"),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before = completed.load(Ordering::Relaxed);
    assert!(before > 0, "the load is running");
    *sigterm_at.lock().unwrap() = Some(Instant::now());
    terminate(&process.child);
    for task in tasks {
        task.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(status) = process.child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = process.child.kill();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        failed_in_flight.load(Ordering::Relaxed),
        0,
        "no in-flight request failed"
    );
    let exit = exit.expect("the process exits within the grace period");
    assert!(exit.success(), "clean exit: {exit:?}");
}

#[tokio::test]
async fn readiness_follows_the_database_and_liveness_does_not() {
    let pki = TestPki::new();
    let db = TestDatabase::create("auth").await;
    let mut process = start(&pki, &db);
    bank_testkit::channel(&pki, "gateway", process.addr).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe(process.admin, "/readyz").await != Some(200) {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(probe(process.admin, "/livez").await, Some(200));
    // Take the database away.
    bank_db::drop_database(db.url()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe(process.admin, "/readyz").await != Some(503) {
        assert!(Instant::now() < deadline, "readiness did not notice");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        probe(process.admin, "/livez").await,
        Some(200),
        "alive while the database is down"
    );
    let _ = process.child.kill();
    let _ = process.child.wait();
}
