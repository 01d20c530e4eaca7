use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::caller::{AuthError, Caller, Role};
use crate::keys::{KeySource, decoding_key};
use crate::revocation::{Revocations, now_unix};

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
/// Verified tokens remembered per process (see [`Verifier::verify`]); past
/// this, expired entries are swept, and if the memory is still more than
/// [`VERIFIED_KEPT`] full, arbitrary live entries are forgotten down to
/// it. About 1 KiB each.
const VERIFIED_MAX: usize = 10_000;
/// Entries kept when a full memory of live tokens is trimmed: more live
/// tokens than the memory holds cost some of them a signature check again,
/// instead of every token at once.
const VERIFIED_KEPT: usize = VERIFIED_MAX * 3 / 4;

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
    /// Tokens whose signature and claims verified under these keys: the
    /// caller, and the token's validity window (Unix seconds). Emptied
    /// whenever the keys are replaced, so a token signed by a key that is
    /// gone stops verifying with the key.
    verified: HashMap<Arc<str>, Verified>,
}

/// A verified token's caller and the Unix seconds between which it is
/// valid, leeway included (as decoding checks `nbf` and `exp`).
#[derive(Clone)]
struct Verified {
    caller: Caller,
    valid_from: i64,
    valid_until: i64,
}

impl Verified {
    fn new(caller: Caller, nbf: i64, exp: i64) -> Self {
        let leeway = i64::try_from(LEEWAY_SECS).unwrap_or(0);
        Self {
            caller,
            valid_from: nbf.saturating_sub(leeway),
            valid_until: exp.saturating_add(leeway),
        }
    }
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
                cache.verified.clear();
                found.ok_or(AuthError::Invalid)
            }
            Err(error) => {
                tracing::warn!(%error, "cannot refresh token keys");
                // A stale key still verifies during an Auth outage.
                key.ok_or(AuthError::KeysUnavailable)
            }
        }
    }

    /// A token verified before, if its keys are still fresh and it is
    /// within its validity window now.
    fn remembered(&self, token: &str) -> Option<Caller> {
        let cache = self.inner.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache
            .fetched_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(KEY_MAX_AGE_SECS))
        {
            return None;
        }
        let verified = cache.verified.get(token)?;
        (verified.valid_from..=verified.valid_until)
            .contains(&now_unix())
            .then(|| verified.caller.clone())
    }

    fn remember(&self, token: &str, verified: Verified, kid: &str) {
        let mut cache = self
            .inner
            .cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Keys replaced while this token was being verified: do not keep a
        // result that the new keys might not give.
        if !cache.keys.contains_key(kid) {
            return;
        }
        if cache.verified.len() >= VERIFIED_MAX {
            let now = now_unix();
            cache.verified.retain(|_, v| now <= v.valid_until);
            // The map's order is arbitrary (randomly seeded per map), so
            // which live tokens are forgotten is too.
            let mut excess = cache.verified.len().saturating_sub(VERIFIED_KEPT);
            cache.verified.retain(|_, _| {
                let forget = excess > 0;
                excess = excess.saturating_sub(1);
                !forget
            });
        }
        cache.verified.insert(Arc::from(token), verified);
    }

    /// Verifies `token` (the JWT, without `Bearer `).
    ///
    /// The signature check (Ed25519, about 50 us) is done once per token:
    /// a token that verified is remembered with its caller and validity
    /// window, and later calls with the same token only re-check the time
    /// and the session's revocation. The memory is bounded
    /// ([`VERIFIED_MAX`] tokens) and forgotten with the keys (when they are
    /// refreshed, or older than [`KEY_MAX_AGE_SECS`]); only tokens that
    /// verified are remembered.
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        if token.is_empty() || token.len() > TOKEN_MAX_LEN {
            return Err(AuthError::Invalid);
        }
        if let Some(caller) = self.remembered(token) {
            if self.inner.revocations.is_revoked(caller.session_id) {
                return Err(AuthError::Revoked);
            }
            return Ok(caller);
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
        let caller = Caller {
            user_id,
            session_id,
            roles,
        };
        self.remember(token, Verified::new(caller.clone(), claims.nbf, claims.exp), &kid);
        Ok(caller)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use jsonwebtoken::{Header, encode};

    use super::*;
    use crate::keys::{SigningKey, StaticKeys};

    fn verifier() -> (SigningKey, Verifier) {
        let (key, _) = SigningKey::generate().unwrap();
        let verifier = Verifier::new(StaticKeys(vec![key.jwk()]), Revocations::new("test"));
        (key, verifier)
    }

    fn token(key: &SigningKey, sub: Uuid, sid: Uuid, nbf: i64, exp: i64) -> String {
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: sub.to_string(),
            exp,
            iat: nbf,
            nbf,
            jti: Uuid::new_v4().to_string(),
            sid: sid.to_string(),
            roles: vec!["member".to_owned()],
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid().to_owned());
        encode(&header, &claims, key.encoding_key()).unwrap()
    }

    fn leeway() -> i64 {
        i64::try_from(LEEWAY_SECS).unwrap()
    }

    #[tokio::test]
    async fn a_remembered_token_still_expires() {
        let (key, verifier) = verifier();
        let now = now_unix();
        // Valid (leeway included) until the end of the next second.
        let jwt = token(&key, Uuid::new_v4(), Uuid::new_v4(), now - 60, now - leeway() + 1);
        let first = verifier.verify(&jwt).await.unwrap();
        assert_eq!(verifier.verify(&jwt).await.unwrap(), first, "remembered");
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        assert_eq!(verifier.verify(&jwt).await.unwrap_err(), AuthError::Expired);
    }

    #[tokio::test]
    async fn a_remembered_token_of_a_revoked_session_is_refused() {
        let (key, verifier) = verifier();
        let session = Uuid::new_v4();
        let now = now_unix();
        let jwt = token(&key, Uuid::new_v4(), session, now, now + 300);
        verifier.verify(&jwt).await.unwrap();
        verifier.revocations().revoke(session, now + 300);
        assert_eq!(verifier.verify(&jwt).await.unwrap_err(), AuthError::Revoked);
    }

    #[tokio::test]
    async fn only_the_exact_token_is_remembered() {
        let (key, verifier) = verifier();
        let now = now_unix();
        let jwt = token(&key, Uuid::new_v4(), Uuid::new_v4(), now, now + 300);
        verifier.verify(&jwt).await.unwrap();
        // Another payload under the remembered token's signature.
        let other = token(&key, Uuid::new_v4(), Uuid::new_v4(), now, now + 300);
        let (signed, signature) = jwt.rsplit_once('.').unwrap();
        let (other_signed, _) = other.rsplit_once('.').unwrap();
        assert_ne!(signed, other_signed);
        let forged = format!("{other_signed}.{signature}");
        assert_eq!(verifier.verify(&forged).await.unwrap_err(), AuthError::Invalid);
        // The remembered token with its signature changed.
        let mut bytes = signature.as_bytes().to_vec();
        bytes[0] = if bytes[0] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{signed}.{}", String::from_utf8(bytes).unwrap());
        assert_eq!(verifier.verify(&tampered).await.unwrap_err(), AuthError::Invalid);
        assert!(verifier.verify(&jwt).await.is_ok());
    }

    #[tokio::test]
    async fn the_memory_is_bounded() {
        let (key, verifier) = verifier();
        let now = now_unix();
        let mut last = String::new();
        for _ in 0..VERIFIED_MAX + 10 {
            last = token(&key, Uuid::new_v4(), Uuid::new_v4(), now, now + 300);
            verifier.verify(&last).await.unwrap();
        }
        let kept = verifier.inner.cache.read().unwrap().verified.len();
        assert!(kept <= VERIFIED_MAX, "{kept}");
        // Overflowing with live tokens trims the memory, it does not empty
        // it: most remembered tokens keep their hit.
        assert!(kept > VERIFIED_KEPT, "{kept}");
        assert!(verifier.remembered(&last).is_some(), "the newest token is remembered");
    }
}
