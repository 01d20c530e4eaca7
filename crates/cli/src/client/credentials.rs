//! The credentials file: one session (tokens and when they expire) per
//! gateway, in `$XDG_CONFIG_HOME/bank/credentials.toml` (or
//! `~/.config/bank/...`), readable by its owner only and replaced
//! atomically.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use bank_client::auth::TokenPair;
use serde::{Deserialize, Serialize};

use super::Failure;

/// Seconds before an access token's expiry when it is refreshed instead of used.
pub const REFRESH_MARGIN_SECS: i64 = 30;

/// One logged-in session at one gateway.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    /// Who logged in.
    pub email: String,
    /// Their user id.
    pub user_id: String,
    access_token: String,
    /// Unix seconds.
    access_expires_at: i64,
    refresh_token: String,
    /// Unix seconds.
    refresh_expires_at: i64,
}

impl fmt::Debug for Session {
    // Tokens never reach a log line or a panic message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("email", &self.email)
            .field("user_id", &self.user_id)
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn expiry(time: Option<&prost_types::Timestamp>, fallback_in_secs: i64) -> i64 {
    time.map_or_else(|| now().saturating_add(fallback_in_secs), |t| t.seconds)
}

impl Session {
    /// The session a log-in started.
    pub fn new(email: &str, user_id: &str, tokens: &TokenPair) -> Self {
        Self {
            email: email.to_owned(),
            user_id: user_id.to_owned(),
            access_token: tokens.access_token.clone(),
            access_expires_at: expiry(tokens.access_token_expire_time.as_ref(), tokens.expires_in_seconds),
            refresh_token: tokens.refresh_token.clone(),
            refresh_expires_at: expiry(tokens.refresh_token_expire_time.as_ref(), 0),
        }
    }

    /// The same session with the tokens of a refresh.
    pub fn refreshed(&self, tokens: &TokenPair) -> Self {
        Self::new(&self.email, &self.user_id, tokens)
    }

    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    pub fn refresh_token(&self) -> &str {
        &self.refresh_token
    }

    /// Whether the access token expires within [`REFRESH_MARGIN_SECS`].
    pub fn access_expiring(&self) -> bool {
        now().saturating_add(REFRESH_MARGIN_SECS) >= self.access_expires_at
    }

    /// Whether the refresh token can no longer be used.
    pub fn refresh_expired(&self) -> bool {
        self.refresh_token.is_empty() || now() >= self.refresh_expires_at
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Stored {
    #[serde(default)]
    sessions: BTreeMap<String, Session>,
}

/// The credentials file of this user.
#[derive(Clone, Debug)]
pub struct CredentialsFile {
    path: PathBuf,
}

fn key(gateway: &str) -> String {
    gateway.trim_end_matches('/').to_owned()
}

impl CredentialsFile {
    /// `$XDG_CONFIG_HOME/bank/credentials.toml`, else `$HOME/.config/bank/credentials.toml`.
    pub fn locate() -> Result<Self, Failure> {
        let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
        let config = absolute("XDG_CONFIG_HOME")
            .or_else(|| absolute("HOME").map(|home| home.join(".config")))
            .ok_or_else(|| {
                Failure::Local(anyhow::anyhow!(
                    "neither XDG_CONFIG_HOME nor HOME is set: nowhere to keep credentials"
                ))
            })?;
        Ok(Self::at(config.join("bank").join("credentials.toml")))
    }

    /// A credentials file at `path`.
    pub fn at(path: PathBuf) -> Self {
        Self { path }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Stored, Failure> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Failure::Local(anyhow::anyhow!(
                    "{} is damaged ({e}): delete it and log in",
                    self.path.display()
                ))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Stored::default()),
            Err(error) => Err(Failure::Local(anyhow::anyhow!(
                "reading {}: {error}",
                self.path.display()
            ))),
        }
    }

    fn write(&self, stored: &Stored) -> Result<(), Failure> {
        let failed = |e: &dyn fmt::Display| Failure::Local(anyhow::anyhow!("writing {}: {e}", self.path.display()));
        let text = toml::to_string(stored).map_err(|e| failed(&e))?;
        let dir = self.path.parent().ok_or_else(|| failed(&"no parent directory"))?;
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| failed(&e))?;
        // Owner-only from the first byte, then an atomic replace.
        let tmp = self.path.with_extension(format!("tmp.{}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(|e| failed(&e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| failed(&e))?;
        drop(file);
        std::fs::rename(&tmp, &self.path).map_err(|e| failed(&e))
    }

    /// The session at `gateway`, if any.
    pub fn session(&self, gateway: &str) -> Result<Option<Session>, Failure> {
        Ok(self.read()?.sessions.remove(&key(gateway)))
    }

    /// Keeps `session` as the one at `gateway`.
    pub fn store(&self, gateway: &str, session: Session) -> Result<(), Failure> {
        let mut stored = self.read()?;
        stored.sessions.insert(key(gateway), session);
        self.write(&stored)
    }

    /// Forgets the session at `gateway`; whether there was one.
    pub fn remove(&self, gateway: &str) -> Result<bool, Failure> {
        let mut stored = self.read()?;
        let removed = stored.sessions.remove(&key(gateway)).is_some();
        if removed {
            self.write(&stored)?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn tokens(access: &str, access_in: i64) -> TokenPair {
        TokenPair {
            access_token: access.to_owned(),
            token_type: "Bearer".to_owned(),
            expires_in_seconds: access_in,
            access_token_expire_time: Some(prost_types::Timestamp {
                seconds: now() + access_in,
                nanos: 0,
            }),
            refresh_token: "refresh".to_owned(),
            refresh_token_expire_time: Some(prost_types::Timestamp {
                seconds: now() + 3600,
                nanos: 0,
            }),
        }
    }

    #[test]
    fn sessions_are_kept_per_gateway_in_an_owner_only_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialsFile::at(dir.path().join("bank/credentials.toml"));
        assert!(file.session("http://a:1").unwrap().is_none());
        file.store("http://a:1/", Session::new("ada@example.com", "u1", &tokens("t1", 900)))
            .unwrap();
        file.store("http://b:2", Session::new("bob@example.com", "u2", &tokens("t2", 10)))
            .unwrap();
        let a = file.session("http://a:1").unwrap().unwrap();
        assert_eq!((a.email.as_str(), a.access_token()), ("ada@example.com", "t1"));
        assert!(!a.access_expiring() && !a.refresh_expired());
        assert!(file.session("http://b:2").unwrap().unwrap().access_expiring());
        assert!(!format!("{a:?}").contains("t1"), "tokens are redacted");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(dir.path().join("bank")).unwrap().permissions().mode();
            assert_eq!(dir_mode & 0o077, 0);
        }
        assert!(file.remove("http://a:1").unwrap());
        assert!(!file.remove("http://a:1").unwrap());
        assert!(file.session("http://b:2").unwrap().is_some());
    }
}
