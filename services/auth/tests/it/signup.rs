use bank_proto::bank::auth::v1 as pb;
use tonic::Code;

use crate::helpers::{PASSWORD, reason, spawn_auth, unique_email, violations};

#[tokio::test]
async fn signup_login_me_end_to_end() {
    let auth = spawn_auth().await;
    let email = unique_email();
    let user = auth.signup(&email.to_uppercase()).await;
    assert_eq!(user.email, email, "emails are stored lower-cased");
    assert_eq!(user.roles, vec![pb::Role::Member as i32]);
    assert_eq!(user.status, pb::UserStatus::Active as i32);

    let login = auth.login(&email, PASSWORD).await.unwrap();
    let tokens = login.tokens.unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in_seconds, 900);
    assert_eq!(tokens.refresh_token.len(), 43);
    assert_eq!(login.user.unwrap().id, user.id);

    let me = auth.me(&tokens.access_token).await.unwrap();
    assert_eq!(me.id, user.id);
    assert_eq!(me.email, email);
}

#[tokio::test]
async fn duplicate_email_is_already_exists_case_insensitively() {
    let auth = spawn_auth().await;
    let email = unique_email();
    auth.signup(&email).await;
    let status = auth
        .client
        .clone()
        .sign_up(pb::SignUpRequest {
            email: format!("  {}  ", email.to_uppercase()),
            password: "another fine password 9".to_owned(),
        })
        .await
        .expect_err("duplicate");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason(&status), "EMAIL_TAKEN");
}

#[tokio::test]
async fn bad_email_and_weak_password_are_field_violations() {
    let auth = spawn_auth().await;
    let cases = [
        ("not-an-email", PASSWORD, vec!["email"]),
        ("a@b", PASSWORD, vec!["email"]),
        ("", PASSWORD, vec!["email"]),
        ("x..y@example.com", PASSWORD, vec!["email"]),
        (&*unique_email(), "short", vec!["password"]),
        (&*unique_email(), "password1234", vec!["password"]),
        (&*unique_email(), "aaaaaaaaaaaaaaaa", vec!["password"]),
        ("bad@@example.com", "short", vec!["email", "password"]),
    ];
    for (email, password, fields) in cases {
        let status = auth
            .client
            .clone()
            .sign_up(pb::SignUpRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .await
            .expect_err("must be refused");
        assert_eq!(violations(&status), fields, "{email} / {password}");
    }
    // A password containing the email's local part is refused too.
    let status = auth
        .client
        .clone()
        .sign_up(pb::SignUpRequest {
            email: "gwendolyn@example.com".to_owned(),
            password: "Gwendolyn-loves-2-ski".to_owned(),
        })
        .await
        .expect_err("must be refused");
    assert_eq!(violations(&status), ["password"]);
}

#[tokio::test]
async fn refused_signups_write_nothing() {
    let auth = spawn_auth().await;
    let email = unique_email();
    auth.client
        .clone()
        .sign_up(pb::SignUpRequest {
            email: email.clone(),
            password: "short".to_owned(),
        })
        .await
        .expect_err("weak password");
    // The email is still free.
    auth.signup(&email).await;
}
