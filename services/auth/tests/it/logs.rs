use bank_proto::bank::auth::v1 as pb;
use bank_testkit::LogCapture;

use crate::helpers::{bearer, spawn_auth, unique_email};

/// Everything runs on this thread, so the thread-local capture sees every
/// log line the service emits.
#[tokio::test(flavor = "current_thread")]
async fn passwords_tokens_and_keys_never_reach_the_logs() {
    let (logs, _guard) = LogCapture::start();
    let auth = spawn_auth().await;
    let email = unique_email();
    let password = "Tr0ub4dor&3-very-secret-passphrase";
    let mut client = auth.client.clone();

    client
        .sign_up(pb::SignUpRequest {
            email: email.clone(),
            password: password.to_owned(),
        })
        .await
        .unwrap();
    // A rejected weak password and a wrong one must not be logged either.
    let weak = "weak-secret";
    client
        .sign_up(pb::SignUpRequest {
            email: unique_email(),
            password: weak.to_owned(),
        })
        .await
        .unwrap_err();
    let wrong = "wrong-secret-passphrase-99";
    auth.login(&email, wrong).await.unwrap_err();
    let tokens = auth.login(&email, password).await.unwrap().tokens.unwrap();
    let refreshed = client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: tokens.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    // Reuse (logged as a warning) and a forged token (logged at debug).
    client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: tokens.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    let forged = format!("{}x", refreshed.access_token);
    auth.me(&forged).await.unwrap_err();
    let (_, other) = auth.member().await;
    client
        .logout(bearer(pb::LogoutRequest { all_sessions: true }, &other.access_token))
        .await
        .unwrap();

    let captured = logs.contents();
    assert!(captured.contains("user logged in"), "the capture works: {captured}");
    assert!(captured.contains("refresh token reused"), "the capture sees warnings");
    let key_pem = std::fs::read_to_string(&auth.jwt_key).unwrap();
    let key_body = key_pem.lines().nth(1).unwrap();
    let tls_key = std::fs::read_to_string(auth.pki.tls_paths("auth").key).unwrap();
    let secrets = [
        password,
        weak,
        wrong,
        "admin-password-for-tests-1",
        &tokens.access_token,
        &tokens.refresh_token,
        &refreshed.access_token,
        &refreshed.refresh_token,
        &other.access_token,
        &other.refresh_token,
        &forged,
        key_body,
        tls_key.lines().nth(1).unwrap(),
        "$argon2id$",
    ];
    for secret in secrets {
        assert!(
            !captured.contains(secret),
            "a secret reached the logs: {}…",
            &secret[..6.min(secret.len())]
        );
    }
    // Emails are personal data: log user ids instead.
    assert!(!captured.contains(&email));
}
