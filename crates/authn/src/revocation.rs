use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::AsyncCommands as _;
use uuid::Uuid;

/// Redis sorted set of revoked sessions, after the deployment's key prefix:
/// member = session id, score = Unix second after which no access token of
/// that session can be valid anyway. Written by Auth; read by every service.
pub const REVOKED_SESSIONS_KEY: &str = "auth:revoked_sessions";
/// How often services re-read the revoked sessions from Redis: the longest a
/// logged-out token may still work on another service than the one that
/// handled the logout.
pub const REVOCATION_SYNC_INTERVAL_MS: u64 = 1_000;

/// The current Unix second.
pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The set of revoked sessions a verifier rejects. In memory, so checking a
/// token needs no network call; kept in sync with Redis in the background.
/// Entries expire by themselves once every token of the session has.
#[derive(Clone, Debug)]
pub struct Revocations {
    inner: Arc<RwLock<HashMap<Uuid, i64>>>,
    redis_key: Arc<str>,
}

impl Revocations {
    /// An empty set, synced through the Redis key under `key_prefix`.
    pub fn new(key_prefix: &str) -> Self {
        Self {
            inner: Arc::default(),
            redis_key: format!("{key_prefix}:{REVOKED_SESSIONS_KEY}").into(),
        }
    }

    /// Records that `session` is revoked until `until_unix`.
    pub fn revoke(&self, session: Uuid, until_unix: i64) {
        let mut map = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(session).or_insert(until_unix);
        *entry = (*entry).max(until_unix);
    }

    /// Whether `session` is revoked.
    pub fn is_revoked(&self, session: Uuid) -> bool {
        let map = self.inner.read().unwrap_or_else(|p| p.into_inner());
        map.get(&session).is_some_and(|until| *until >= now_unix())
    }

    fn merge(&self, entries: Vec<(String, f64)>) {
        let now = now_unix();
        let mut map = self.inner.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, until| *until >= now);
        for (member, score) in entries {
            if let Ok(session) = Uuid::parse_str(&member) {
                // Scores are whole Unix seconds written by Auth.
                #[allow(clippy::cast_possible_truncation, reason = "scores are integral seconds")]
                let until = score as i64;
                let entry = map.entry(session).or_insert(until);
                *entry = (*entry).max(until);
            }
        }
    }

    /// Reads the revoked sessions from Redis once.
    pub async fn sync_once(&self, redis: &mut redis::aio::ConnectionManager) -> redis::RedisResult<()> {
        let entries: Vec<(String, f64)> = redis
            .zrangebyscore_withscores(&*self.redis_key, now_unix(), "+inf")
            .await?;
        self.merge(entries);
        Ok(())
    }

    /// Keeps the set in sync with Redis every
    /// [`REVOCATION_SYNC_INTERVAL_MS`] until the task is aborted. A Redis
    /// outage keeps the last known set; it never fails requests.
    pub fn spawn_sync(&self, mut redis: redis::aio::ConnectionManager) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(REVOCATION_SYNC_INTERVAL_MS));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                interval.tick().await;
                match this.sync_once(&mut redis).await {
                    Ok(()) if failing => {
                        tracing::info!("revoked-session sync recovered");
                        failing = false;
                    }
                    Ok(()) => {}
                    Err(error) if !failing => {
                        metrics::counter!("bank_redis_errors_total", "service" => "authn", "purpose" => "revocations")
                            .increment(1);
                        tracing::warn!(%error, "revoked-session sync failing; keeping the last known set");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
        })
    }

    /// Publishes a revocation to Redis (Auth only) and records it locally.
    pub async fn publish(
        &self,
        redis: &mut redis::aio::ConnectionManager,
        session: Uuid,
        until_unix: i64,
    ) -> redis::RedisResult<()> {
        self.revoke(session, until_unix);
        let _: () = redis.zadd(&*self.redis_key, session.to_string(), until_unix).await?;
        // Old entries are useless: drop those whose tokens expired long ago.
        let _: () = redis.zrembyscore(&*self.redis_key, "-inf", now_unix() - 60).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_expire() {
        let set = Revocations::new("test");
        let live = Uuid::new_v4();
        let old = Uuid::new_v4();
        set.revoke(live, now_unix() + 60);
        set.revoke(old, now_unix() - 1);
        assert!(set.is_revoked(live));
        assert!(!set.is_revoked(old));
        assert!(!set.is_revoked(Uuid::new_v4()));
    }
}
