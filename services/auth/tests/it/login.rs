use std::time::Duration;

use auth_service::ThrottleConfig;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{Options, PASSWORD, reason, spawn_auth, spawn_auth_with, unique_email};

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let auth = spawn_auth().await;
    let email = unique_email();
    auth.signup(&email).await;

    let wrong_password = auth
        .login(&email, "not the password at all")
        .await
        .expect_err("wrong password");
    let unknown_email = auth.login(&unique_email(), PASSWORD).await.expect_err("unknown email");
    for status in [&wrong_password, &unknown_email] {
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(reason(status), "INVALID_CREDENTIALS");
    }
    assert_eq!(wrong_password.message(), unknown_email.message());
}

#[tokio::test]
async fn failed_logins_throttle_the_account_until_the_window_ends() {
    let auth = spawn_auth_with(Options {
        throttle: ThrottleConfig {
            account_failures_max: 3,
            address_failures_max: 1_000,
            window_secs: 2,
        },
        ..Options::default()
    })
    .await;
    let email = unique_email();
    auth.signup(&email).await;

    for _ in 0..3 {
        let status = auth.login(&email, "wrong password, again").await.expect_err("wrong");
        assert_eq!(status.code(), Code::Unauthenticated);
    }
    // Locked: even the right password is refused, with a retry hint.
    let locked = auth.login(&email, PASSWORD).await.expect_err("throttled");
    assert_eq!(locked.code(), Code::ResourceExhausted);
    assert_eq!(reason(&locked), "LOGIN_THROTTLED");
    let retry = locked
        .get_error_details()
        .retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo");
    assert!(
        retry >= Duration::from_secs(1) && retry <= Duration::from_secs(2),
        "{retry:?}"
    );

    // Another account from the same address is unaffected.
    let other = unique_email();
    auth.signup(&other).await;
    auth.login(&other, PASSWORD).await.unwrap();

    tokio::time::sleep(Duration::from_millis(2_300)).await;
    auth.login(&email, PASSWORD).await.expect("recovered after the window");
}

#[tokio::test]
async fn failed_logins_from_one_address_throttle_every_account_from_it() {
    let auth = spawn_auth_with(Options {
        throttle: ThrottleConfig {
            account_failures_max: 100,
            address_failures_max: 4,
            window_secs: 60,
        },
        ..Options::default()
    })
    .await;
    for _ in 0..4 {
        auth.login(&unique_email(), "password spraying 123")
            .await
            .expect_err("unknown");
    }
    let email = unique_email();
    auth.signup(&email).await;
    let status = auth.login(&email, PASSWORD).await.expect_err("address throttled");
    assert_eq!(status.code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn a_successful_login_resets_the_account_counter() {
    let auth = spawn_auth_with(Options {
        throttle: ThrottleConfig {
            account_failures_max: 3,
            address_failures_max: 1_000,
            window_secs: 60,
        },
        ..Options::default()
    })
    .await;
    let email = unique_email();
    auth.signup(&email).await;
    for _ in 0..2 {
        auth.login(&email, "typo in password").await.expect_err("wrong");
    }
    auth.login(&email, PASSWORD).await.unwrap();
    for _ in 0..2 {
        auth.login(&email, "typo in password").await.expect_err("wrong");
    }
    auth.login(&email, PASSWORD)
        .await
        .expect("two new failures stay under the limit");
}
