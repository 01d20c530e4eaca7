//! TLS to a real PostgreSQL (the machine's server, `ssl = on` with its
//! own certificate, issued for `localhost`): each `sslmode` encrypts when
//! it should, checks what it should, and a server whose certificate does
//! not check out is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failure is a panic")]

use bank_testkit::{TestDatabase, TestPki};
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(diesel::QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(diesel::QueryableByName)]
struct Encrypted {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

async fn setting(conn: &mut AsyncPgConnection, name: &str) -> String {
    let row: Setting = diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<Text, _>(name)
        .get_result(conn)
        .await
        .unwrap();
    row.value
}

async fn encrypted(conn: &mut AsyncPgConnection) -> bool {
    let row: Encrypted = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(conn)
        .await
        .unwrap();
    row.ssl
}

/// A test database and the server's certificate file (its own trust root:
/// Debian's is self-signed for `localhost`).
async fn setup(label: &str) -> (TestDatabase, String) {
    let db = TestDatabase::create(label).await;
    let mut plain = bank_db::establish(db.url()).await.unwrap();
    assert_eq!(
        setting(&mut plain, "ssl").await,
        "on",
        "these tests need PostgreSQL with ssl = on (Debian's default)"
    );
    assert!(!encrypted(&mut plain).await, "no sslmode means no TLS");
    let cert = setting(&mut plain, "ssl_cert_file").await;
    let cert = if cert.starts_with('/') {
        cert
    } else {
        format!("{}/{cert}", setting(&mut plain, "data_directory").await)
    };
    (db, cert)
}

/// `url` with host `host` and the query `params` added.
fn with(url: &str, host: &str, params: &str) -> String {
    let url = url.replacen("@127.0.0.1", &format!("@{host}"), 1);
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}{params}")
}

#[tokio::test]
async fn verify_full_encrypts_and_checks_the_chain_and_the_host_name() {
    let (db, cert) = setup("tls_full").await;
    let full = with(
        db.url(),
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={cert}"),
    );
    let mut conn = bank_db::establish(&full).await.unwrap();
    assert!(encrypted(&mut conn).await);

    // The pool opens its connections the same way, and migrations run over it.
    const MIGRATIONS: bank_db::EmbeddedMigrations = diesel_migrations::embed_migrations!("tests/tls_migrations");
    let pool = bank_db::prepare(&full, 2, MIGRATIONS).await.unwrap();
    let mut pooled = pool.get().await.unwrap();
    assert!(encrypted(&mut pooled).await);
    diesel::sql_query("INSERT INTO probe (id) VALUES (1)")
        .execute(&mut pooled)
        .await
        .unwrap();

    // The certificate names localhost, not 127.0.0.1.
    let by_address = with(
        db.url(),
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={cert}"),
    );
    let error = bank_db::establish(&by_address).await.map(drop).unwrap_err().to_string();
    assert!(error.contains("not valid for name"), "{error}");
}

#[tokio::test]
async fn verify_ca_checks_the_chain_but_not_the_name() {
    let (db, cert) = setup("tls_ca").await;
    let ca = with(db.url(), "127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={cert}"));
    let mut conn = bank_db::establish(&ca).await.unwrap();
    assert!(encrypted(&mut conn).await);

    // A CA that did not issue the server's certificate is refused, in
    // every mode that is given a root.
    let pki = TestPki::new();
    let other = pki.dir().join("ca.crt");
    for mode in ["verify-full", "verify-ca", "require", "prefer"] {
        let url = with(
            db.url(),
            "localhost",
            &format!("sslmode={mode}&sslrootcert={}", other.display()),
        );
        let error = bank_db::establish(&url).await.map(drop).unwrap_err().to_string();
        assert!(error.contains("UnknownIssuer"), "{mode}: {error}");
    }
}

#[tokio::test]
async fn require_without_a_root_encrypts_and_disable_does_not() {
    let (db, _) = setup("tls_require").await;
    for (params, tls) in [
        ("sslmode=require", true),
        ("sslmode=prefer", true),
        ("sslmode=disable", false),
    ] {
        let mut conn = bank_db::establish(&with(db.url(), "127.0.0.1", params)).await.unwrap();
        assert_eq!(encrypted(&mut conn).await, tls, "{params}");
    }
    // A client certificate is loaded and presented (this server does not
    // ask for one, so only the loading is checked here).
    let pki = TestPki::new();
    let paths = pki.tls_paths("transfer");
    let url = with(
        db.url(),
        "127.0.0.1",
        &format!(
            "sslmode=require&sslcert={}&sslkey={}",
            paths.cert.display(),
            paths.key.display()
        ),
    );
    let mut conn = bank_db::establish(&url).await.unwrap();
    assert!(encrypted(&mut conn).await);
}

#[tokio::test]
async fn a_renewed_root_file_is_read_by_the_next_connection() {
    let (db, cert) = setup("tls_renew").await;
    let dir = TestPki::new();
    let root = dir.dir().join("pg-root.pem");
    // First the file holds a CA that did not issue the server's certificate.
    std::fs::copy(dir.dir().join("ca.crt"), &root).unwrap();
    let url = with(
        db.url(),
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", root.display()),
    );
    let pool = bank_db::pool(&url, 1).unwrap();
    assert!(pool.get().await.is_err(), "a foreign root must not be trusted");
    // Renewed in place (as cert-manager does): the same pool now connects.
    std::fs::copy(&cert, &root).unwrap();
    let mut conn = pool.get().await.unwrap();
    assert!(encrypted(&mut conn).await);
}
