//! Issuing tokens: EdDSA-signed JWT access tokens and opaque refresh tokens.

use std::time::{SystemTime, UNIX_EPOCH};

use bank_authn::{AUDIENCE, Claims, ISSUER, Role, SigningKey};
use bank_proto::bank::auth::v1::Jwk;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Random bytes in a refresh token (256 bits, 43 base64url characters).
const REFRESH_TOKEN_BYTES: usize = 32;
/// Largest number of keys published in the JWKS.
pub const JWKS_KEYS_MAX: usize = 8;

/// The current Unix time in seconds.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A fresh refresh token and the SHA-256 hash under which it is stored.
pub struct RefreshToken {
    /// What the client gets. Never logged, never stored.
    pub token: String,
    /// What the database keeps.
    pub hash: Vec<u8>,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(***)")
    }
}

/// Hash of a presented refresh token, for lookup.
pub fn hash_refresh_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl RefreshToken {
    /// A new random token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; REFRESH_TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_refresh_token(&token);
        Self { token, hash }
    }
}

/// Signs access tokens with the active key and publishes every key that
/// may have signed a still-valid token.
#[derive(Debug)]
pub struct TokenIssuer {
    active: SigningKey,
    previous: Vec<SigningKey>,
    /// Access-token lifetime in seconds.
    pub access_ttl_secs: i64,
    /// Session (refresh-token family) lifetime in seconds.
    pub refresh_ttl_secs: i64,
}

/// A signed access token with its expiry.
pub struct AccessToken {
    /// The JWT.
    pub jwt: String,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// An issuer signing with `active`; `previous` keys are only published.
    pub fn new(active: SigningKey, previous: Vec<SigningKey>, access_ttl_secs: i64, refresh_ttl_secs: i64) -> Self {
        Self {
            active,
            previous,
            access_ttl_secs,
            refresh_ttl_secs,
        }
    }

    /// The published key set.
    pub fn jwks(&self) -> Vec<Jwk> {
        std::iter::once(&self.active)
            .chain(self.previous.iter())
            .take(JWKS_KEYS_MAX)
            .map(SigningKey::jwk)
            .collect()
    }

    /// Signs an access token for `user_id` in `session_id`.
    pub fn access_token(&self, user_id: Uuid, session_id: Uuid, roles: &[Role]) -> anyhow::Result<AccessToken> {
        let now = now_unix();
        let expires_at = now + self.access_ttl_secs;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user_id.to_string(),
            exp: expires_at,
            iat: now,
            nbf: now,
            jti: Uuid::new_v4().to_string(),
            sid: session_id.to_string(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.active.kid().to_owned());
        let jwt = jsonwebtoken::encode(&header, &claims, self.active.encoding_key())?;
        Ok(AccessToken { jwt, expires_at })
    }
}
