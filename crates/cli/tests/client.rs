//! The client subcommands as users run them: the real `bank` binary in a
//! child process, against the whole mesh started in this process, with a
//! throwaway config directory for the credentials file.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc, reason = "tests")]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use bank_client::{Bank, ConnectOptions, finance, money};
use bank_mesh_tests::TestMesh;
use bank_mesh_tests::clients::{ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD};
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;

/// What a run of `bank` left behind.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }

    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "{self:?}");
        self
    }
}

/// One user of the CLI: a config directory of their own.
struct User {
    config: tempfile::TempDir,
    gateway: String,
}

impl User {
    fn new(mesh: &TestMesh) -> Self {
        Self {
            config: tempfile::tempdir().unwrap(),
            gateway: mesh.gateway_url(),
        }
    }

    fn credentials(&self) -> std::path::PathBuf {
        self.config.path().join("bank/credentials.toml")
    }

    /// Runs `bank args...` with `stdin`.
    async fn run_with(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bank"))
            .args(args)
            .env("BANK_GATEWAY", &self.gateway)
            .env("XDG_CONFIG_HOME", self.config.path())
            .env_remove("BANK_CA")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("bank finished")
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, "").await
    }

    /// Signs up `email` and logs in.
    async fn join(&self, email: &str) {
        let password = format!("{MEMBER_PASSWORD}\n");
        self.run_with(&["signup", email, "--password-stdin"], &password)
            .await
            .ok();
        self.run_with(&["login", email, "--password-stdin"], &password)
            .await
            .ok();
    }

    /// Opens a USD checking account and returns (id, number).
    async fn open(&self) -> (String, String) {
        let opened = self
            .run(&["--json", "accounts", "open", "--currency", "USD"])
            .await
            .ok()
            .json();
        (
            opened["accountId"].as_str().unwrap().to_owned(),
            opened["accountNumber"].as_str().unwrap().to_owned(),
        )
    }

    /// Posted balance of each account, in minor units, by id.
    async fn balances(&self) -> Vec<(String, i64)> {
        let listed = self.run(&["accounts", "list", "--json"]).await.ok().json();
        listed["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["accountId"].as_str().unwrap().to_owned(),
                    a["balance"]["posted"]["amountMinor"].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    }
}

fn unique_email(who: &str) -> String {
    format!("{who}.{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

/// The mesh, answering on every service (it finishes starting in the background).
async fn ready_mesh() -> TestMesh {
    let mesh = TestMesh::start().await;
    let bank = bank_client::connect(&mesh.gateway_url(), ConnectOptions::new())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let up = [
            bank.auth().get_jwks(bank_client::auth::GetJwksRequest {}).await.err(),
            bank.accounts()
                .list_accounts(bank_client::account::ListAccountsRequest::default())
                .await
                .err(),
            bank.transfers()
                .list_transfers(bank_client::transfer::ListTransfersRequest::default())
                .await
                .err(),
            bank.finance()
                .list_financing_options(finance::ListFinancingOptionsRequest::default())
                .await
                .err(),
        ]
        .iter()
        .all(|e| e.as_ref().is_none_or(|s| s.code() != bank_client::Code::Unavailable));
        if up {
            return mesh;
        }
        assert!(tokio::time::Instant::now() < deadline, "mesh not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signs_up_logs_in_and_moves_money() {
    let mesh = ready_mesh().await;
    let ada = User::new(&mesh);
    let bob = User::new(&mesh);
    let ada_email = unique_email("ada");
    ada.join(&ada_email).await;
    bob.join(&unique_email("bob")).await;
    #[cfg(unix)]
    assert_eq!(mode(&ada.credentials()), 0o600, "the credentials file is owner-only");
    let stored = std::fs::read_to_string(ada.credentials()).unwrap();
    assert!(
        stored.contains(&ada_email) && stored.contains("access_token"),
        "{stored}"
    );

    let me = ada.run(&["whoami", "--json"]).await.ok().json();
    assert_eq!(me["email"], ada_email.as_str());
    assert_eq!(me["roles"][0], "ROLE_MEMBER");

    let (from_id, from_number) = ada.open().await;
    let (to_id, to_number) = bob.open().await;
    let deposit = ada
        .run(&["deposit", &from_number, "100", "USD", "--description", "pay cheque"])
        .await
        .ok();
    assert!(deposit.stdout.starts_with("deposited 100.00 USD into "), "{deposit:?}");

    // Amount as one argument, destination by number with spaces.
    let spaced = format!("{} {} {}", &to_number[..4], &to_number[4..8], &to_number[8..]);
    let sent = ada
        .run(&[
            "--json",
            "transfer",
            &from_id,
            &spaced,
            "12.34 USD",
            "--description",
            "rent, march",
            "--request-id",
            "rent-march",
        ])
        .await
        .ok()
        .json();
    assert_eq!(sent["status"], "TRANSFER_STATUS_POSTED");
    assert_eq!(sent["amount"]["amountMinor"], "1234");
    assert_eq!(sent["requestId"], "rent-march");
    // The same request id again is the same transfer, not a second one.
    let again = ada
        .run(&[
            "--json",
            "transfer",
            &from_id,
            &to_number,
            "12.34 USD",
            "--description",
            "rent, march",
            "--request-id",
            "rent-march",
        ])
        .await
        .ok()
        .json();
    assert_eq!(again["transferId"], sent["transferId"]);
    assert_eq!(ada.balances().await, vec![(from_id.clone(), 8_766)]);
    assert_eq!(bob.balances().await, vec![(to_id, 1_234)]);

    // Human output: a table with the balance.
    let table = ada.run(&["accounts"]).await.ok().stdout;
    assert!(table.starts_with("NUMBER"), "{table}");
    assert!(table.contains("87.66 USD"), "{table}");

    let statement = ada.run(&["statement", &from_number]).await.ok().stdout;
    assert!(statement.contains("closing balance  87.66 USD"), "{statement}");
    assert!(
        statement.contains("-12.34 USD") && statement.contains("rent, march"),
        "{statement}"
    );

    // Export: every entry, streamed to a file.
    let csv = ada.config.path().join("march.csv");
    let exported = ada
        .run(&["statement", &from_number, "--export", csv.to_str().unwrap()])
        .await
        .ok();
    assert!(exported.stdout.starts_with("exported 2 entries"), "{exported:?}");
    let lines: Vec<String> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("sequence,post_time,kind"));
    assert!(
        lines[1].contains(",deposit,credit,100.00,USD,100.00,pay cheque,"),
        "{lines:?}"
    );
    assert!(
        lines[2].contains(",transfer,debit,12.34,USD,87.66,\"rent, march\","),
        "{lines:?}"
    );
    let jsonl = ada.config.path().join("all.jsonl");
    let summary = ada
        .run(&[
            "--json",
            "statement",
            &from_id,
            "--export",
            jsonl.to_str().unwrap(),
            "--format",
            "jsonl",
        ])
        .await
        .ok()
        .json();
    assert_eq!(summary["entries"], 2);
    assert_eq!(summary["trailer"]["closingBalance"]["amountMinor"], "8766");
    let items: Vec<Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), 4, "header, two entries, trailer");
    assert!(items[0].get("header").is_some() && items[3].get("trailer").is_some());
    assert!(mesh.integrity().await.consistent);
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_say_why_in_words_and_exit_non_zero() {
    let mesh = ready_mesh().await;
    let ada = User::new(&mesh);

    // Not logged in.
    let run = ada.run(&["accounts"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("not logged in"), "{run:?}");

    // A wrong password.
    let email = unique_email("ada");
    let password = format!("{MEMBER_PASSWORD}\n");
    ada.run_with(&["signup", &email, "--password-stdin"], &password)
        .await
        .ok();
    let run = ada
        .run_with(&["login", &email, "--password-stdin"], "not the passphrase 123\n")
        .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(!ada.credentials().exists());
    ada.run_with(&["login", &email, "--password-stdin"], &password)
        .await
        .ok();

    // Refused by the ledger: the reason in words, exit 1.
    let (from, _) = ada.open().await;
    let (_, to_number) = ada.open().await;
    let (from, to_number) = (from.as_str(), to_number.as_str());
    let run = ada.run(&["transfer", from, to_number, "5 USD"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("error: declined: insufficient funds (INSUFFICIENT_FUNDS)"),
        "{run:?}"
    );
    let run = ada.run(&["--json", "transfer", from, to_number, "5 USD"]).await;
    assert_eq!(run.code, 1);
    let error: Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(error["error"]["code"], "FAILED_PRECONDITION");
    assert_eq!(error["error"]["reason"], "INSUFFICIENT_FUNDS");

    // Mistakes caught before anything is sent: exit 2.
    for (args, says) in [
        (
            vec!["transfer", from, to_number, "1.234", "USD"],
            "USD has 2 decimal places",
        ),
        (vec!["transfer", from, "123456789012", "1 USD"], "check digits"),
        (vec!["transfer", from, to_number, "-1", "USD"], "must be positive"),
        (vec!["statement", from, "--month", "2026-13"], "not a month"),
        (vec!["deposit", "999999999999", "1 USD"], "check digits"),
    ] {
        let run = ada.run(&args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {run:?}");
    }

    // Validation by the server, field by field.
    let run = ada
        .run_with(&["signup", "not-an-email", "--password-stdin"], "short\n")
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("email:") && run.stderr.contains("password:"),
        "{run:?}"
    );

    // Members cannot decide applications.
    let run = ada
        .run(&["admin", "decide", &uuid::Uuid::new_v4().to_string(), "approve"])
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("PERMISSION_DENIED"), "{run:?}");

    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let run = ada
        .run(&[
            "--gateway",
            &format!("http://{closed}"),
            "signup",
            "x@example.com",
            "--password-stdin",
        ])
        .await;
    assert_eq!(run.code, 2, "an empty password is refused first: {run:?}");
    let run = ada
        .run_with(
            &[
                "--gateway",
                &format!("http://{closed}"),
                "signup",
                "x@example.com",
                "--password-stdin",
            ],
            "a long passphrase 1\n",
        )
        .await;
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("cannot connect to"), "{run:?}");
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_applies_and_an_admin_decides() {
    let mesh = ready_mesh().await;
    // An option to choose, created with the SDK.
    let sdk = bank_client::connect(&mesh.gateway_url(), ConnectOptions::new())
        .await
        .unwrap();
    sdk.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
    let option = sdk
        .finance()
        .create_financing_option(finance::CreateFinancingOptionRequest {
            request_id: String::new(),
            financing_option: Some(finance::FinancingOption {
                name: "Everyday loan".to_owned(),
                product_type: finance::ProductType::Personal as i32,
                currency: "USD".to_owned(),
                annual_rate_bps: 650,
                min_term_months: 6,
                max_term_months: 36,
                min_amount: Some(money::parse("100 USD").unwrap()),
                max_amount: Some(money::parse("10000 USD").unwrap()),
                active: true,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .financing_option
        .unwrap();

    let ada = User::new(&mesh);
    ada.join(&unique_email("ada")).await;
    let (account_id, account_number) = ada.open().await;
    let offered = ada.run(&["options"]).await.ok().stdout;
    assert!(
        offered.contains("Everyday loan") && offered.contains("6.50%"),
        "{offered}"
    );

    let applied = ada
        .run(&[
            "--json",
            "apply",
            "--account",
            &account_number,
            "--amount",
            "2400 USD",
            "--term",
            "12",
            "--purpose",
            "a used car",
            "--option",
            &option.option_id,
        ])
        .await
        .ok()
        .json();
    let approved_id = applied["application"]["applicationId"].as_str().unwrap().to_owned();
    assert_eq!(
        applied["application"]["selection"]["optionId"],
        option.option_id.as_str()
    );
    assert_eq!(applied["projectedSchedule"].as_array().unwrap().len(), 12);
    let second = ada
        .run(&[
            "apply",
            "--account",
            &account_id,
            "--amount",
            "500 USD",
            "--term",
            "6",
            "--purpose",
            "a holiday",
        ])
        .await
        .ok();
    assert!(second.stdout.starts_with("application "), "{second:?}");
    let mine = ada.run(&["--json", "applications"]).await.ok().json();
    assert_eq!(mine["applications"].as_array().unwrap().len(), 2);
    let rejected_id = mine["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["applicationId"].as_str().unwrap())
        .find(|id| *id != approved_id)
        .unwrap()
        .to_owned();

    let admin = User::new(&mesh);
    admin
        .run_with(
            &["login", ADMIN_EMAIL, "--password-stdin"],
            &format!("{ADMIN_PASSWORD}\n"),
        )
        .await
        .ok();
    let queue = admin.run(&["admin", "applications"]).await.ok().stdout;
    assert!(queue.contains(&approved_id) && queue.contains(&rejected_id), "{queue}");

    let run = admin.run(&["admin", "decide", &rejected_id, "reject"]).await;
    assert_eq!(run.code, 2, "a rejection needs a reason: {run:?}");
    let rejected = admin
        .run(&[
            "admin",
            "decide",
            &rejected_id,
            "reject",
            "--reason",
            "one loan at a time",
        ])
        .await
        .ok()
        .stdout;
    assert!(rejected.contains("is rejected (one loan at a time)"), "{rejected}");
    let approved = admin
        .run(&["admin", "decide", &approved_id, "approve"])
        .await
        .ok()
        .stdout;
    assert!(approved.contains("is approved: loan "), "{approved}");
    assert!(approved.contains("of 2400.00 USD paid into account"), "{approved}");

    // The loan arrived in the member's account.
    assert_eq!(ada.balances().await, vec![(account_id, 240_000)]);
    let mine = ada.run(&["applications"]).await.ok().stdout;
    assert!(mine.contains("approved") && mine.contains("rejected"), "{mine}");
    assert!(mesh.integrity().await.consistent);
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_refreshed_and_logout_ends_them() {
    let mesh = ready_mesh().await;
    let ada = User::new(&mesh);
    ada.join(&unique_email("ada")).await;
    let stored: toml::Table = toml::from_str(&std::fs::read_to_string(ada.credentials()).unwrap()).unwrap();
    let session = stored["sessions"][ada.gateway.as_str()].as_table().unwrap().clone();
    let first_token = session["access_token"].as_str().unwrap().to_owned();

    // An access token about to expire is refreshed first, and the new pair kept.
    let mut expiring = stored.clone();
    expiring["sessions"][ada.gateway.as_str()]["access_expires_at"] = toml::Value::Integer(0);
    std::fs::write(ada.credentials(), toml::to_string(&expiring).unwrap()).unwrap();
    ada.run(&["whoami"]).await.ok();
    let refreshed: toml::Table = toml::from_str(&std::fs::read_to_string(ada.credentials()).unwrap()).unwrap();
    let now_session = &refreshed["sessions"][ada.gateway.as_str()];
    assert_ne!(now_session["refresh_token"], session["refresh_token"], "rotated");
    assert!(now_session["access_expires_at"].as_integer().unwrap() > 0);
    #[cfg(unix)]
    assert_eq!(mode(&ada.credentials()), 0o600);

    // Logging out ends the session on the server, and forgets it here.
    let token = now_session["access_token"].as_str().unwrap().to_owned();
    assert_ne!(token, first_token);
    let out = ada.run(&["logout"]).await.ok();
    assert!(out.stdout.starts_with("logged out (1 session ended)"), "{out:?}");
    assert_eq!(ada.run(&["accounts"]).await.code, 3);
    let sdk: Bank = bank_client::connect(&mesh.gateway_url(), ConnectOptions::new().token(token))
        .await
        .unwrap();
    let mut refused = None;
    for _ in 0..50 {
        if let Err(status) = sdk.auth().me(bank_client::auth::MeRequest {}).await {
            refused = Some(status.code());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refused, Some(bank_client::Code::Unauthenticated));
    // Logging out twice is fine.
    assert!(ada.run(&["logout"]).await.ok().stdout.starts_with("not logged in"));
    mesh.stop().await;
}
