//! Log-in throttling in Redis: failed attempts are counted per account
//! (keyed by a hash of the email, whether or not it exists, so throttling
//! reveals nothing) and per client address, in fixed windows that start at
//! the first failure. Over the limit, log-in is refused with the time left.
//!
//! Redis being down disables throttling (logged loudly) rather than locking
//! every user out; argon2's cost still bounds guessing speed.

use std::time::Duration;

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use crate::domain::Email;

/// Throttle settings.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct ThrottleConfig {
    /// Failed log-ins for one account before it is locked for the rest of
    /// the window.
    #[serde(default = "default_account_failures_max")]
    pub account_failures_max: u32,
    /// Failed log-ins from one client address before it is locked.
    #[serde(default = "default_address_failures_max")]
    pub address_failures_max: u32,
    /// Window length in seconds, counted from the first failure.
    #[serde(default = "default_window_secs")]
    pub window_secs: u64,
}

fn default_account_failures_max() -> u32 {
    5
}
fn default_address_failures_max() -> u32 {
    50
}
fn default_window_secs() -> u64 {
    900
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            account_failures_max: default_account_failures_max(),
            address_failures_max: default_address_failures_max(),
            window_secs: default_window_secs(),
        }
    }
}

/// Counts failed log-ins.
#[derive(Clone)]
pub struct LoginThrottle {
    redis: ConnectionManager,
    prefix: String,
    config: ThrottleConfig,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A refusal: how long until log-in may be tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    /// Time left in the window.
    pub retry_after: Duration,
    /// The counter at its limit (account hash or client address).
    counter_key: String,
}

impl LoginThrottle {
    /// A throttle storing counters under `<prefix>:auth:login_failures:`.
    pub fn new(redis: ConnectionManager, prefix: &str, config: ThrottleConfig) -> Self {
        Self {
            redis,
            prefix: format!("{prefix}:auth:login_failures"),
            config,
        }
    }

    fn keys(&self, email: &Email, address: Option<&str>) -> (String, Option<String>) {
        // A hash, so Redis never holds email addresses.
        let digest = Sha256::digest(email.as_str().as_bytes());
        let account: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        (
            format!("{}:account:{account}", self.prefix),
            address.map(|a| format!("{}:address:{a}", self.prefix)),
        )
    }

    /// Refuses when either counter is at its limit.
    pub async fn check(&self, email: &Email, address: Option<&str>) -> Result<(), Throttled> {
        let (account_key, address_key) = self.keys(email, address);
        let mut redis = self.redis.clone();
        let mut pipe = redis::pipe();
        pipe.get(&account_key).pttl(&account_key);
        if let Some(key) = &address_key {
            pipe.get(key).pttl(key);
        }
        let result: redis::RedisResult<Vec<redis::Value>> = pipe.query_async(&mut redis).await;
        let values = match result {
            Ok(values) => values,
            Err(error) => {
                bank_server::metrics::redis_error("auth", "throttle");
                tracing::error!(%error, "login throttle unavailable: not enforcing");
                return Ok(());
            }
        };
        let count = |v: Option<&redis::Value>| {
            v.and_then(|v| redis::from_redis_value::<Option<u32>>(v.clone()).ok().flatten())
                .unwrap_or(0)
        };
        let ttl_ms = |v: Option<&redis::Value>| {
            v.and_then(|v| redis::from_redis_value::<i64>(v.clone()).ok())
                .unwrap_or(0)
        };
        let limits = [
            (self.config.account_failures_max, &account_key),
            (
                self.config.address_failures_max,
                address_key.as_ref().unwrap_or(&account_key),
            ),
        ];
        for (i, (limit, key)) in limits.into_iter().enumerate() {
            if count(values.get(2 * i)) >= limit {
                let ms = ttl_ms(values.get(2 * i + 1)).max(1_000);
                return Err(Throttled {
                    retry_after: Duration::from_millis(u64::try_from(ms).unwrap_or(1_000)),
                    counter_key: key.clone(),
                });
            }
        }
        Ok(())
    }

    /// Whether `throttled` is the first refusal of its counter's window
    /// (marks it so). Throttled attempts cost the caller nothing, so a
    /// refusal is recorded as an event only once per window and counter:
    /// the events stay bounded by the failures the throttle let through.
    /// `false` when Redis cannot tell.
    pub async fn first_refusal(&self, throttled: &Throttled) -> bool {
        let mut redis = self.redis.clone();
        let ms = u64::try_from(throttled.retry_after.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let set: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(format!("{}:refusal_recorded", throttled.counter_key))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(ms)
            .query_async(&mut redis)
            .await;
        match set {
            Ok(reply) => reply.is_some(),
            Err(error) => {
                tracing::warn!(%error, "login throttle: cannot mark the refusal");
                false
            }
        }
    }

    /// Counts a failed attempt against the account and the address.
    pub async fn record_failure(&self, email: &Email, address: Option<&str>) {
        let (account_key, address_key) = self.keys(email, address);
        let window = i64::try_from(self.config.window_secs).unwrap_or(i64::MAX);
        let mut redis = self.redis.clone();
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in std::iter::once(&account_key).chain(address_key.as_ref()) {
            // The window starts at the first failure: NX keeps it from sliding.
            pipe.incr(key, 1).ignore();
            pipe.cmd("EXPIRE").arg(key).arg(window).arg("NX").ignore();
        }
        if let Err(error) = pipe.query_async::<()>(&mut redis).await {
            bank_server::metrics::redis_error("auth", "throttle");
            tracing::error!(%error, "login throttle unavailable: failure not counted");
        }
    }

    /// Clears the account counter after a successful log-in. The address
    /// counter stays: one right password must not reset a spraying attack.
    pub async fn record_success(&self, email: &Email) {
        let (account_key, _) = self.keys(email, None);
        let mut redis = self.redis.clone();
        if let Err(error) = redis::cmd("DEL").arg(&account_key).query_async::<()>(&mut redis).await {
            tracing::warn!(%error, "login throttle: could not clear counter");
        }
    }
}
