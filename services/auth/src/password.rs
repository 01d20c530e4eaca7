//! Password hashing with argon2id. Hashing is CPU- and memory-heavy by
//! design, so it runs on blocking threads behind a semaphore sized to the
//! machine: a burst of log-ins queues instead of starving other RPCs.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use rand::RngCore as _;
use tokio::sync::Semaphore;

use crate::domain::Password;

/// argon2id memory cost in KiB (OWASP's recommended 19 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// argon2id passes over memory.
pub const ARGON2_ITERATIONS: u32 = 2;
/// argon2id lanes.
pub const ARGON2_PARALLELISM: u32 = 1;
/// Random salt per hash, in bytes.
const SALT_LEN_BYTES: usize = 16;

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Verified against when the email is unknown, so an unknown email
    /// costs the same time as a wrong password.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").finish_non_exhaustive()
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_blocking(params: &Params, password: &[u8]) -> anyhow::Result<String> {
    let mut salt = [0u8; SALT_LEN_BYTES];
    rand::rng().fill_bytes(&mut salt);
    let hash = argon2(params)
        .hash_password_with_salt(password, &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(hash.to_string())
}

impl Hasher {
    /// A hasher with the production cost parameters.
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_PARALLELISM, None)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        let mut throwaway = [0u8; 32];
        rand::rng().fill_bytes(&mut throwaway);
        let dummy_hash = hash_blocking(&params, &throwaway)?.into();
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash,
        })
    }

    /// The PHC string (`$argon2id$v=19$m=...`) of a new salted hash.
    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let params = self.params.clone();
        let secret = password.expose().as_bytes().to_vec();
        tokio::task::spawn_blocking(move || hash_blocking(&params, &secret)).await?
    }

    /// Whether `password` matches `phc`. With `None` (unknown user) it
    /// spends the same work on a dummy hash and answers `false`.
    pub async fn verify(&self, password: &Password, phc: Option<&str>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let known = phc.is_some();
        let phc = phc.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let secret = password.expose().as_bytes().to_vec();
        let params = self.params.clone();
        let matches = tokio::task::spawn_blocking(move || {
            // Parameters come from the stored hash; ours only fill defaults.
            argon2(&params).verify_password(&secret, phc.as_str()).is_ok()
        })
        .await?;
        Ok(known && matches)
    }
}
