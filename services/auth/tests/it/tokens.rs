use bank_authn::{AUDIENCE, Claims, ISSUER, SigningKey};
use bank_proto::bank::auth::v1 as pb;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tonic::Code;

use crate::helpers::{TestAuth, reason, spawn_auth};

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn sign(key: &SigningKey, claims: &Claims) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(&header, claims, key.encoding_key()).unwrap()
}

/// Claims copied from a genuine token, so only the tested field differs.
fn claims_of(token: &str) -> Claims {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn assert_rejected(auth: &TestAuth, token: &str, expected_reason: &str, what: &str) {
    let status = auth.me(token).await.expect_err(what);
    assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
    assert_eq!(reason(&status), expected_reason, "{what}");
}

#[tokio::test]
async fn forged_and_broken_tokens_are_rejected() {
    let auth = spawn_auth().await;
    let (_, tokens) = auth.member().await;
    let genuine = tokens.access_token;
    auth.me(&genuine).await.expect("the genuine token works");
    let real_key = SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&auth.jwt_key).unwrap()).unwrap();
    let claims = claims_of(&genuine);

    // Tampered: payload changed (another user id), signature kept.
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    let mut tampered = claims.clone();
    tampered.sub = uuid::Uuid::new_v4().to_string();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered).unwrap());
    assert_rejected(&auth, &parts.join("."), "TOKEN_INVALID", "tampered payload").await;

    // Signature bytes flipped.
    let mut flipped = genuine.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });
    assert_rejected(&auth, &flipped, "TOKEN_INVALID", "flipped signature").await;

    // Expired, signed with the real key.
    let mut expired = claims.clone();
    expired.iat = now() - 7_200;
    expired.nbf = now() - 7_200;
    expired.exp = now() - 3_600;
    assert_rejected(&auth, &sign(&real_key, &expired), "TOKEN_EXPIRED", "expired").await;

    // Wrong audience and wrong issuer, signed with the real key.
    let mut wrong_aud = claims.clone();
    wrong_aud.aud = "another-system".to_owned();
    assert_rejected(&auth, &sign(&real_key, &wrong_aud), "TOKEN_INVALID", "wrong audience").await;
    let mut wrong_iss = claims.clone();
    wrong_iss.iss = "evil-issuer".to_owned();
    assert_rejected(&auth, &sign(&real_key, &wrong_iss), "TOKEN_INVALID", "wrong issuer").await;

    // Not yet valid.
    let mut future = claims.clone();
    future.nbf = now() + 3_600;
    future.exp = now() + 7_200;
    assert_rejected(&auth, &sign(&real_key, &future), "TOKEN_INVALID", "not before").await;

    // alg: none.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    assert_rejected(&auth, &format!("{header}.{payload}."), "TOKEN_INVALID", "alg none").await;
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#, real_key.kid()));
    assert_rejected(
        &auth,
        &format!("{header}.{payload}."),
        "TOKEN_INVALID",
        "alg none with kid",
    )
    .await;

    // HS256 keyed with the public key (algorithm confusion).
    let public = URL_SAFE_NO_PAD.decode(&real_key.jwk().x).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(real_key.kid().to_owned());
    let confused = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&public)).unwrap();
    assert_rejected(&auth, &confused, "TOKEN_INVALID", "HS256 with the public key").await;

    // A well-formed token from a key the bank never published.
    let (stranger, _) = SigningKey::generate().unwrap();
    assert_rejected(&auth, &sign(&stranger, &claims), "TOKEN_INVALID", "unknown kid").await;

    // The stranger's token claiming the real kid.
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(real_key.kid().to_owned());
    let impostor = jsonwebtoken::encode(&header, &claims, stranger.encoding_key()).unwrap();
    assert_rejected(&auth, &impostor, "TOKEN_INVALID", "real kid, wrong key").await;

    // Garbage, and a missing token.
    assert_rejected(&auth, "not.a.jwt", "TOKEN_INVALID", "garbage").await;
    let missing = auth.client.clone().me(pb::MeRequest {}).await.expect_err("no token");
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert_eq!(reason(&missing), "TOKEN_MISSING");

    // The genuine token still works after all that.
    auth.me(&genuine).await.unwrap();
}

#[tokio::test]
async fn a_token_for_a_session_that_never_existed_is_refused_by_auth() {
    // Even a correctly signed token must name a live session at Auth.
    let auth = spawn_auth().await;
    let (user, _) = auth.member().await;
    let real_key = SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&auth.jwt_key).unwrap()).unwrap();
    let claims = Claims {
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        sub: user.id,
        exp: now() + 600,
        iat: now(),
        nbf: now(),
        jti: uuid::Uuid::new_v4().to_string(),
        sid: uuid::Uuid::new_v4().to_string(),
        roles: vec!["member".to_owned()],
    };
    assert_rejected(&auth, &sign(&real_key, &claims), "SESSION_REVOKED", "unknown session").await;
}

#[tokio::test]
async fn jwks_publishes_the_signing_key() {
    let auth = spawn_auth().await;
    let jwks = auth
        .client
        .clone()
        .get_jwks(pb::GetJwksRequest {})
        .await
        .unwrap()
        .into_inner();
    let real_key = SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&auth.jwt_key).unwrap()).unwrap();
    assert_eq!(jwks.keys, vec![real_key.jwk()]);
    let jwk = &jwks.keys[0];
    assert_eq!(
        (jwk.kty.as_str(), jwk.crv.as_str(), jwk.alg.as_str(), jwk.r#use.as_str()),
        ("OKP", "Ed25519", "EdDSA", "sig")
    );

    // Every access token names that key.
    let (_, tokens) = auth.member().await;
    let header = jsonwebtoken::decode_header(&tokens.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(jwk.kid.as_str()));
}
