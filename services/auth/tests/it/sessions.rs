use bank_proto::bank::auth::v1 as pb;
use tonic::Code;

use crate::helpers::{PASSWORD, bearer, reason, spawn_auth, unique_email};

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let auth = spawn_auth().await;
    let (_, first) = auth.member().await;
    let mut client = auth.client.clone();

    let second = client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    auth.me(&second.access_token)
        .await
        .expect("the rotated access token works");

    // Replaying the used refresh token: refused, and the family is revoked.
    let reuse = client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await
        .expect_err("reuse");
    assert_eq!(reason(&reuse), "REFRESH_TOKEN_REUSED");
    let family = client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: second.refresh_token.clone(),
        })
        .await
        .expect_err("the newest token of the family is dead too");
    assert_eq!(family.code(), Code::Unauthenticated);
    let me = auth
        .me(&second.access_token)
        .await
        .expect_err("access tokens of the family die");
    assert_eq!(reason(&me), "SESSION_REVOKED");
}

#[tokio::test]
async fn unknown_and_malformed_refresh_tokens() {
    let auth = spawn_auth().await;
    let mut client = auth.client.clone();
    let unknown = client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: "x".repeat(43),
        })
        .await
        .expect_err("unknown");
    assert_eq!(reason(&unknown), "REFRESH_TOKEN_INVALID");
    let empty = client
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: String::new(),
        })
        .await
        .expect_err("empty");
    assert_eq!(empty.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn logout_rejects_the_access_token_and_the_refresh_token() {
    let auth = spawn_auth().await;
    let (_, tokens) = auth.member().await;
    auth.me(&tokens.access_token).await.unwrap();

    let out = auth
        .client
        .clone()
        .logout(bearer(pb::LogoutRequest { all_sessions: false }, &tokens.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.sessions_revoked, 1);

    let me = auth.me(&tokens.access_token).await.expect_err("after logout");
    assert_eq!(me.code(), Code::Unauthenticated);
    assert_eq!(reason(&me), "SESSION_REVOKED");
    let refresh = auth
        .client
        .clone()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: tokens.refresh_token,
        })
        .await
        .expect_err("refresh after logout");
    assert_eq!(reason(&refresh), "REFRESH_TOKEN_INVALID");
}

#[tokio::test]
async fn logout_everywhere_ends_every_session_only_of_the_caller() {
    let auth = spawn_auth().await;
    let email = unique_email();
    auth.signup(&email).await;
    let a = auth.login(&email, PASSWORD).await.unwrap().tokens.unwrap();
    let b = auth.login(&email, PASSWORD).await.unwrap().tokens.unwrap();
    let (_, stranger) = auth.member().await;

    let out = auth
        .client
        .clone()
        .logout(bearer(pb::LogoutRequest { all_sessions: true }, &a.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.sessions_revoked, 2);
    auth.me(&a.access_token).await.expect_err("a");
    auth.me(&b.access_token).await.expect_err("b");
    auth.me(&stranger.access_token)
        .await
        .expect("other users keep their sessions");
}

#[tokio::test]
async fn logout_needs_a_token() {
    let auth = spawn_auth().await;
    let status = auth
        .client
        .clone()
        .logout(pb::LogoutRequest { all_sessions: true })
        .await
        .expect_err("anonymous logout");
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn change_password_ends_other_sessions_and_needs_the_current_password() {
    let auth = spawn_auth().await;
    let email = unique_email();
    auth.signup(&email).await;
    let old = auth.login(&email, PASSWORD).await.unwrap().tokens.unwrap();
    let mut client = auth.client.clone();

    let wrong = client
        .change_password(bearer(
            pb::ChangePasswordRequest {
                current_password: "not my password".to_owned(),
                new_password: "a brand new passphrase 7".to_owned(),
            },
            &old.access_token,
        ))
        .await
        .expect_err("wrong current password");
    assert_eq!(wrong.code(), Code::Unauthenticated);

    let fresh = client
        .change_password(bearer(
            pb::ChangePasswordRequest {
                current_password: PASSWORD.to_owned(),
                new_password: "a brand new passphrase 7".to_owned(),
            },
            &old.access_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    auth.me(&old.access_token).await.expect_err("old session ended");
    auth.me(&fresh.access_token).await.expect("new session works");
    auth.login(&email, PASSWORD).await.expect_err("old password");
    auth.login(&email, "a brand new passphrase 7")
        .await
        .expect("new password");
}
