//! The rate limit of LookupAccount, per caller in Redis: fixed windows of a
//! minute and a day that start at the caller's first lookup, failed lookups
//! included, so account numbers cannot be enumerated. Redis being down
//! fails closed (UNAVAILABLE): a lookup only confirms a payee, money still
//! moves by number through the ledger, and an unlimited lookup is exactly
//! the enumeration this limit exists to stop.

use std::time::Duration;

use redis::aio::ConnectionManager;
use serde::Deserialize;
use uuid::Uuid;

/// Lookup limits.
#[derive(Clone, Debug, Deserialize)]
pub struct LookupLimitConfig {
    /// Lookups per caller per minute.
    #[serde(default = "default_per_minute")]
    pub per_minute: u32,
    /// Lookups per caller per day.
    #[serde(default = "default_per_day")]
    pub per_day: u32,
}

fn default_per_minute() -> u32 {
    20
}
fn default_per_day() -> u32 {
    200
}

impl Default for LookupLimitConfig {
    fn default() -> Self {
        Self {
            per_minute: default_per_minute(),
            per_day: default_per_day(),
        }
    }
}

/// Length of the short window, in seconds.
const MINUTE_WINDOW_SECS: i64 = 60;
/// Length of the long window, in seconds.
const DAY_WINDOW_SECS: i64 = 24 * 3600;

/// Why a lookup may not run.
#[derive(Debug)]
pub enum LookupRefused {
    /// Over a limit: retry after this long.
    Limited(Duration),
    /// The counters cannot be read.
    Unavailable(redis::RedisError),
}

/// Counts lookups.
#[derive(Clone)]
pub struct LookupLimiter {
    redis: ConnectionManager,
    prefix: String,
    config: LookupLimitConfig,
}

impl std::fmt::Debug for LookupLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupLimiter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LookupLimiter {
    /// A limiter with keys under `<prefix>:account:lookups:`.
    pub fn new(redis: ConnectionManager, prefix: &str, config: LookupLimitConfig) -> Self {
        Self {
            redis,
            prefix: format!("{prefix}:account:lookups"),
            config,
        }
    }

    /// Counts one lookup of `caller` and refuses it when a window is full.
    pub async fn check(&self, caller: Uuid) -> Result<(), LookupRefused> {
        let windows = [
            (
                format!("{}:{caller}:minute", self.prefix),
                MINUTE_WINDOW_SECS,
                self.config.per_minute,
            ),
            (
                format!("{}:{caller}:day", self.prefix),
                DAY_WINDOW_SECS,
                self.config.per_day,
            ),
        ];
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (key, secs, _) in &windows {
            // The window starts at the first lookup: NX keeps it from sliding.
            pipe.incr(key, 1)
                .cmd("EXPIRE")
                .arg(key)
                .arg(*secs)
                .arg("NX")
                .ignore()
                .pttl(key);
        }
        let mut redis = self.redis.clone();
        let values: Vec<i64> = pipe.query_async(&mut redis).await.map_err(LookupRefused::Unavailable)?;
        let mut retry_after: Option<Duration> = None;
        for (i, (_, secs, limit)) in windows.iter().enumerate() {
            let count = values.get(2 * i).copied().unwrap_or(0);
            let ttl_ms = values.get(2 * i + 1).copied().unwrap_or(secs * 1_000);
            if count > i64::from(*limit) {
                let wait = Duration::from_millis(u64::try_from(ttl_ms.max(1_000)).unwrap_or(1_000));
                retry_after = Some(retry_after.map_or(wait, |w| w.max(wait)));
            }
        }
        match retry_after {
            Some(wait) => Err(LookupRefused::Limited(wait)),
            None => Ok(()),
        }
    }
}
