use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::caller::{AuthError, Caller, Role};
use crate::keys::{KeySource, decoding_key};
use crate::revocation::Revocations;

/// `iss` of every access token.
pub const ISSUER: &str = "bank-auth";
/// `aud` of every access token: the bank's services.
pub const AUDIENCE: &str = "bank";
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;
/// Longest token accepted; anything larger is not ours.
const TOKEN_MAX_LEN: usize = 4096;
/// An unknown `kid` triggers a key refresh at most this often, so forged
/// kids cannot make every request call Auth.
const KEY_REFRESH_MIN_INTERVAL_SECS: u64 = 10;
/// Keys are re-fetched when older than this, so removed keys stop verifying.
const KEY_MAX_AGE_SECS: u64 = 600;

/// The claims of a bank access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer, [`ISSUER`].
    pub iss: String,
    /// Audience, [`AUDIENCE`].
    pub aud: String,
    /// The user id (UUID).
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issue time, Unix seconds.
    pub iat: i64,
    /// Not valid before, Unix seconds.
    pub nbf: i64,
    /// Token id (UUID).
    pub jti: String,
    /// Session id: the refresh-token family (UUID).
    pub sid: String,
    /// Role names: `member`, `admin`.
    pub roles: Vec<String>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

struct Inner {
    source: Box<dyn KeySource>,
    cache: RwLock<KeyCache>,
    refresh: tokio::sync::Mutex<()>,
    revocations: Revocations,
    validation: Validation,
}

/// Verifies access tokens locally. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier taking keys from `source` and revoked sessions from
    /// `revocations`.
    pub fn new(source: impl KeySource, revocations: Revocations) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            inner: Arc::new(Inner {
                source: Box::new(source),
                cache: RwLock::new(KeyCache::default()),
                refresh: tokio::sync::Mutex::new(()),
                revocations,
                validation,
            }),
        }
    }

    /// The revoked-session set this verifier consults.
    pub fn revocations(&self) -> &Revocations {
        &self.inner.revocations
    }

    fn cached(&self, kid: &str) -> (Option<DecodingKey>, Option<Instant>) {
        let cache = self.inner.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        (cache.keys.get(kid).cloned(), cache.fetched_at)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let fresh = |at: Option<Instant>, secs: u64| at.is_some_and(|t| t.elapsed() < Duration::from_secs(secs));
        let (key, fetched_at) = self.cached(kid);
        if let Some(key) = key
            && fresh(fetched_at, KEY_MAX_AGE_SECS)
        {
            return Ok(key);
        }
        // One refresh at a time; waiters reuse its result.
        let _guard = self.inner.refresh.lock().await;
        let (key, fetched_at) = self.cached(kid);
        if fresh(fetched_at, KEY_REFRESH_MIN_INTERVAL_SECS) || (key.is_some() && fresh(fetched_at, KEY_MAX_AGE_SECS)) {
            return key.ok_or(AuthError::Invalid);
        }
        match self.inner.source.fetch().await {
            Ok(jwks) => {
                let keys: HashMap<_, _> = jwks
                    .iter()
                    .filter_map(|jwk| decoding_key(jwk).map(|key| (jwk.kid.clone(), key)))
                    .collect();
                let found = keys.get(kid).cloned();
                let mut cache = self
                    .inner
                    .cache
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                cache.keys = keys;
                cache.fetched_at = Some(Instant::now());
                found.ok_or(AuthError::Invalid)
            }
            Err(error) => {
                tracing::warn!(%error, "cannot refresh token keys");
                // A stale key still verifies during an Auth outage.
                key.ok_or(AuthError::KeysUnavailable)
            }
        }
    }

    /// Verifies `token` (the JWT, without `Bearer `).
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        if token.is_empty() || token.len() > TOKEN_MAX_LEN {
            return Err(AuthError::Invalid);
        }
        // `alg: none`, HS256 and every other algorithm fail here or in decode.
        let header = decode_header(token).map_err(|_| AuthError::Invalid)?;
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::Invalid);
        }
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        let key = self.key(&kid).await?;
        let data = decode::<Claims>(token, &key, &self.inner.validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            _ => AuthError::Invalid,
        })?;
        let claims = data.claims;
        let user_id = Uuid::parse_str(&claims.sub).map_err(|_| AuthError::Invalid)?;
        let session_id = Uuid::parse_str(&claims.sid).map_err(|_| AuthError::Invalid)?;
        if self.inner.revocations.is_revoked(session_id) {
            return Err(AuthError::Revoked);
        }
        let mut roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        roles.sort();
        roles.dedup();
        Ok(Caller {
            user_id,
            session_id,
            roles,
        })
    }

    /// Verifies an `authorization` header value (`Bearer <jwt>`).
    pub async fn verify_header(&self, value: &http::HeaderValue) -> Result<Caller, AuthError> {
        let value = value.to_str().map_err(|_| AuthError::Invalid)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::Invalid)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Invalid);
        }
        self.verify(token.trim()).await
    }
}
