//! Auth's domain events, read back from the Redis stream the outbox relay
//! publishes to: one event per sign-up, log-in and failed log-in, none for
//! a refused change, bounded under throttling, and no email, password or
//! token in any of them.

use std::time::Duration;

use auth_service::ThrottleConfig;
use bank_proto::bank::auth::v1 as pb;
use bank_proto::bank::events::v1::{Event, EventType, LoginFailureReason, event::Payload};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use prost::Message as _;
use tonic::Code;

use crate::helpers::{Options, PASSWORD, TestAuth, reason, spawn_auth, spawn_auth_with, unique_email};

/// Longest wait for the relay to publish.
const PUBLISH_WAIT_SECS: u64 = 20;

/// One stream entry: the decoded event and its encoded bytes.
struct Published {
    event: Event,
    bytes: Vec<u8>,
}

impl Published {
    fn kind(&self) -> EventType {
        EventType::try_from(self.event.r#type).unwrap()
    }

    /// The user the payload is about ("" when none).
    fn user_id(&self) -> &str {
        match self.event.payload.as_ref().unwrap() {
            Payload::UserRegistered(p) => &p.user_id,
            Payload::UserLoggedIn(p) => &p.user_id,
            Payload::LoginFailed(p) => &p.user_id,
            other => panic!("not an auth event: {other:?}"),
        }
    }
}

/// The auth stream once `done` holds for it.
async fn published(auth: &TestAuth, done: impl Fn(&[Published]) -> bool) -> Vec<Published> {
    let key = format!("{}:events:auth", auth.redis_prefix);
    let client = redis::Client::open(bank_testkit::redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(PUBLISH_WAIT_SECS);
    loop {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&key)
            .arg("-")
            .arg("+")
            .query_async(&mut redis)
            .await
            .unwrap();
        let entries: Vec<Published> = reply
            .ids
            .iter()
            .map(|entry| {
                let bytes: Vec<u8> = entry.get("event").unwrap();
                let event = Event::decode(bytes.as_slice()).unwrap();
                let kind: String = entry.get("type").unwrap();
                assert_eq!(kind, EventType::try_from(event.r#type).unwrap().as_str_name());
                let event_id: String = entry.get("event_id").unwrap();
                assert_eq!(event_id, event.event_id);
                Published { event, bytes }
            })
            .collect();
        if done(&entries) {
            return entries;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "events not published in time: {:?}",
            entries.iter().map(|e| e.kind()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs up a last user and waits for its event: the relay publishes in
/// commit order, so every earlier event is in the stream by then.
async fn settle(auth: &TestAuth) -> Vec<Published> {
    let last = auth.signup(&unique_email()).await;
    published(auth, |events| {
        events
            .iter()
            .any(|e| e.kind() == EventType::UserRegistered && e.user_id() == last.id)
    })
    .await
}

fn of<'a>(events: &'a [Published], kind: EventType, user_id: &str) -> Vec<&'a Published> {
    events
        .iter()
        .filter(|e| e.kind() == kind && e.user_id() == user_id)
        .collect()
}

fn failure(published: &Published) -> (String, LoginFailureReason) {
    match published.event.payload.as_ref().unwrap() {
        Payload::LoginFailed(p) => (p.email_hash.clone(), LoginFailureReason::try_from(p.reason).unwrap()),
        other => panic!("not a login failure: {other:?}"),
    }
}

/// The session id (`sid`) of an access token.
fn session_of(access_token: &str) -> String {
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn outbox_rows(auth: &TestAuth) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = AsyncPgConnection::establish(auth.db.url()).await.unwrap();
    let count: Count =
        diesel_async::RunQueryDsl::get_result(diesel::sql_query("SELECT count(*) AS n FROM auth.outbox"), &mut conn)
            .await
            .unwrap();
    count.n
}

#[tokio::test]
async fn sign_up_log_in_and_failed_log_ins_each_write_exactly_one_event() {
    let auth = spawn_auth().await;
    let email = unique_email();
    let user = auth.signup(&email).await;
    // A refused sign-up (its transaction rolls back) writes nothing.
    let taken = auth
        .client
        .clone()
        .sign_up(pb::SignUpRequest {
            email: email.to_uppercase(),
            password: PASSWORD.to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    let tokens = auth.login(&email, PASSWORD).await.unwrap().tokens.unwrap();
    let wrong = "not the password at all 1";
    auth.login(&email, wrong).await.unwrap_err();
    auth.login(&email.to_uppercase(), wrong).await.unwrap_err();
    let stranger = unique_email();
    auth.login(&stranger, PASSWORD).await.unwrap_err();
    // The right password of a disabled user still fails, for that reason.
    let disabled_email = unique_email();
    let disabled = auth.signup(&disabled_email).await;
    let mut conn = AsyncPgConnection::establish(auth.db.url()).await.unwrap();
    conn.batch_execute(&format!(
        "UPDATE auth.users SET status = 2 WHERE id = '{}'",
        disabled.id
    ))
    .await
    .unwrap();
    auth.login(&disabled_email, PASSWORD).await.unwrap_err();

    let events = settle(&auth).await;

    let registered = of(&events, EventType::UserRegistered, &user.id);
    assert_eq!(
        registered.len(),
        1,
        "one sign-up, one event; the refused one wrote none"
    );
    let registered = &registered[0].event;
    assert_eq!(registered.producer, "auth");
    assert_eq!(registered.aggregate_type, "user");
    assert_eq!(registered.aggregate_id, user.id);
    assert_eq!(registered.actor_user_id, user.id);

    let logged_in = of(&events, EventType::UserLoggedIn, &user.id);
    assert_eq!(logged_in.len(), 1);
    let Some(Payload::UserLoggedIn(login)) = &logged_in[0].event.payload else {
        panic!("payload");
    };
    assert_eq!(login.session_id, session_of(&tokens.access_token));
    assert_eq!(logged_in[0].event.actor_user_id, user.id);

    let wrong_password = of(&events, EventType::LoginFailed, &user.id);
    assert_eq!(wrong_password.len(), 2);
    let (hash, why) = failure(wrong_password[0]);
    assert_eq!(why, LoginFailureReason::WrongPassword);
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(
        failure(wrong_password[1]),
        (hash.clone(), why),
        "equal emails, equal hashes"
    );
    assert_eq!(
        wrong_password[0].event.actor_user_id, "",
        "a failed attempt proves no identity"
    );

    let unknown = of(&events, EventType::LoginFailed, "");
    assert_eq!(unknown.len(), 1);
    let (stranger_hash, why) = failure(unknown[0]);
    assert_eq!(why, LoginFailureReason::UnknownEmail);
    assert_eq!(stranger_hash.len(), 64);
    assert_ne!(stranger_hash, hash);

    let refused = of(&events, EventType::LoginFailed, &disabled.id);
    assert_eq!(refused.len(), 1);
    assert_eq!(failure(refused[0]).1, LoginFailureReason::UserDisabled);

    // Nothing else: the bootstrap admin, three sign-ups, one log-in, four
    // failures; every row of the outbox is in the stream, once, in order.
    assert_eq!(
        events.len(),
        9,
        "{:?}",
        events.iter().map(Published::kind).collect::<Vec<_>>()
    );
    assert_eq!(outbox_rows(&auth).await, 9);
    assert!(events.windows(2).all(|w| w[0].event.sequence < w[1].event.sequence));
    let ids: std::collections::HashSet<&str> = events.iter().map(|e| e.event.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len());

    // No email (whole or local part), password or token in any event.
    let local = |email: &str| email.split('@').next().unwrap().to_owned();
    let secrets = [
        email.clone(),
        local(&email),
        email.to_uppercase(),
        stranger.clone(),
        local(&stranger),
        disabled_email.clone(),
        local(&disabled_email),
        PASSWORD.to_owned(),
        wrong.to_owned(),
        tokens.access_token.clone(),
        tokens.refresh_token.clone(),
    ];
    for published in &events {
        for secret in &secrets {
            assert!(!contains(&published.bytes, secret), "an event holds {secret:?}");
        }
    }
}

#[tokio::test]
async fn hammering_a_throttled_account_records_one_refusal_per_window() {
    let auth = spawn_auth_with(Options {
        throttle: ThrottleConfig {
            account_failures_max: 2,
            address_failures_max: 1_000,
            window_secs: 60,
        },
        ..Options::default()
    })
    .await;
    let email = unique_email();
    let user = auth.signup(&email).await;
    for _ in 0..2 {
        auth.login(&email, "wrong password, again").await.unwrap_err();
    }
    for attempt in 0..10 {
        let password = if attempt % 2 == 0 {
            PASSWORD
        } else {
            "still the wrong one"
        };
        let status = auth.login(&email, password).await.unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted);
    }
    let events = settle(&auth).await;
    let failures: Vec<LoginFailureReason> = of(&events, EventType::LoginFailed, &user.id)
        .into_iter()
        .map(|e| failure(e).1)
        .collect();
    assert_eq!(
        failures,
        [
            LoginFailureReason::WrongPassword,
            LoginFailureReason::WrongPassword,
            LoginFailureReason::Throttled
        ]
    );
    assert_eq!(outbox_rows(&auth).await, 6, "admin, user, 3 failures, the last sign-up");
}

#[tokio::test]
async fn spraying_from_a_throttled_address_records_one_refusal_per_window() {
    let auth = spawn_auth_with(Options {
        throttle: ThrottleConfig {
            account_failures_max: 100,
            address_failures_max: 3,
            window_secs: 60,
        },
        ..Options::default()
    })
    .await;
    for _ in 0..3 {
        auth.login(&unique_email(), "password spraying 123").await.unwrap_err();
    }
    // Every attempt names a new email: the refusal is recorded per address.
    for _ in 0..10 {
        let status = auth.login(&unique_email(), "password spraying 123").await.unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted);
    }
    let events = settle(&auth).await;
    let failures: Vec<LoginFailureReason> = of(&events, EventType::LoginFailed, "")
        .into_iter()
        .map(|e| failure(e).1)
        .collect();
    assert_eq!(
        failures,
        [
            LoginFailureReason::UnknownEmail,
            LoginFailureReason::UnknownEmail,
            LoginFailureReason::UnknownEmail,
            LoginFailureReason::Throttled
        ]
    );
}

#[tokio::test]
async fn an_outbox_failure_never_fails_a_failed_log_in_and_undoes_a_sign_up() {
    let auth = spawn_auth().await;
    let email = unique_email();
    auth.signup(&email).await;
    let mut conn = AsyncPgConnection::establish(auth.db.url()).await.unwrap();
    conn.batch_execute("ALTER TABLE auth.outbox RENAME TO outbox_away")
        .await
        .unwrap();

    // The failed attempt is answered as always, though its event is lost.
    for status in [
        auth.login(&email, "not the password at all 2").await.unwrap_err(),
        auth.login(&unique_email(), PASSWORD).await.unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        assert_eq!(reason(&status), "INVALID_CREDENTIALS");
    }
    // A sign-up whose event cannot be written does not happen at all.
    let lost = unique_email();
    let status = auth
        .client
        .clone()
        .sign_up(pb::SignUpRequest {
            email: lost.clone(),
            password: PASSWORD.to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");

    conn.batch_execute("ALTER TABLE auth.outbox_away RENAME TO outbox")
        .await
        .unwrap();
    let status = auth.login(&lost, PASSWORD).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "no such user");
    auth.signup(&lost).await;
    auth.login(&lost, PASSWORD).await.unwrap();
}
