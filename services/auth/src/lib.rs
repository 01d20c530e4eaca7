//! The Auth service: sign-up, log-in, rotating refresh tokens, logout,
//! JWKS, the caller's own record and admin role management. Issues EdDSA
//! access tokens that every other service verifies locally.

mod api;
mod domain;
/// The domain parsers, for the fuzz targets in tests/fuzz only (the
/// `fuzzing` feature); not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::domain::*;
}
mod events;
mod password;
mod schema;
mod store;
mod throttle;
mod tokens;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bank_authn::{Revocations, SigningKey, StaticKeys, Verifier};
use bank_config::{ExposeSecret, MeshConfig, SecretString};
use bank_mtls::AllowList;
use bank_proto::bank::auth::v1::auth_internal_service_server::AuthInternalServiceServer;
use bank_proto::bank::auth::v1::auth_service_server::AuthServiceServer;
use bank_server::{BackgroundTask, MESSAGE_SIZE_MAX_BYTES, ServiceDeps};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use serde::Deserialize;
use tokio::net::TcpListener;
use uuid::Uuid;

pub use api::{LIST_USERS_PAGE_SIZE_DEFAULT, LIST_USERS_PAGE_SIZE_MAX};
pub use domain::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
pub use throttle::ThrottleConfig;

use crate::api::{AuthApi, AuthInternalApi, AuthState};
use crate::domain::{Email, Password};
use crate::events::EmailHasher;
use crate::password::Hasher;
use crate::store::Store;
use crate::throttle::LoginThrottle;
use crate::tokens::TokenIssuer;

/// The auth schema's migrations, applied at start-up.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
/// The workload name: SPIFFE id `spiffe://bank.local/auth`.
pub const WORKLOAD: &str = "auth";
/// Workloads allowed to call `AuthInternalService`.
pub const INTERNAL_CALLERS: [&str; 3] = ["account", "finance", "analytics"];
/// How often revocations of the last access-token lifetime are re-published
/// to Redis, healing a publish that failed while Redis was down.
const REPUBLISH_INTERVAL_SECS: u64 = 30;

/// Token settings.
#[derive(Clone, Debug, Deserialize)]
pub struct JwtConfig {
    /// PKCS#8 PEM Ed25519 key that signs new access tokens.
    pub signing_key: PathBuf,
    /// Keys that signed tokens before a rotation: published in the JWKS,
    /// never used to sign. Remove one once `access_ttl_secs` has passed.
    #[serde(default)]
    pub previous_keys: Vec<PathBuf>,
    /// Access-token lifetime in seconds.
    #[serde(default = "default_access_ttl_secs")]
    pub access_ttl_secs: i64,
    /// Session (refresh-token family) lifetime in seconds.
    #[serde(default = "default_refresh_ttl_secs")]
    pub refresh_ttl_secs: i64,
}

fn default_access_ttl_secs() -> i64 {
    900
}
fn default_refresh_ttl_secs() -> i64 {
    30 * 24 * 3600
}

/// The first admin, created (or promoted) at start-up so a fresh bank can
/// be administered.
#[derive(Clone, Debug, Deserialize)]
pub struct BootstrapAdmin {
    /// Email of the admin.
    pub email: String,
    /// Password used only when the user does not exist yet.
    pub password: SecretString,
}

/// The Auth service's configuration.
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
    /// What every service has.
    #[serde(flatten)]
    pub mesh: MeshConfig,
    /// Token settings.
    pub jwt: JwtConfig,
    /// Log-in throttling.
    #[serde(default)]
    pub throttle: ThrottleConfig,
    /// The first admin.
    #[serde(default)]
    pub bootstrap_admin: Option<BootstrapAdmin>,
}

fn load_key(path: &PathBuf) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

async fn ensure_bootstrap_admin(state: &AuthState, admin: &BootstrapAdmin) -> anyhow::Result<()> {
    let email = Email::parse(&admin.email).map_err(|e| anyhow::anyhow!("bootstrap_admin.email {e}"))?;
    let user = match state.store.find_by_email(email.as_str()).await? {
        Some(user) => user,
        None => {
            let password = Password::new_for(admin.password.expose_secret(), Some(&email))
                .map_err(|problems| anyhow::anyhow!("bootstrap_admin.password {}", problems.join(", ")))?;
            let hash = state.hasher.hash(&password).await?;
            match state
                .store
                .create_user(Uuid::now_v7(), email.as_str(), &hash, &["member", "admin"], None)
                .await?
            {
                Some(user) => user,
                // Another replica created it meanwhile.
                None => state
                    .store
                    .find_by_email(email.as_str())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("bootstrap admin vanished"))?,
            }
        }
    };
    if !user.roles.iter().any(|r| r == "admin") {
        state
            .store
            .grant_role(user.id, "admin")
            .await
            .map_err(|e| anyhow::anyhow!("granting bootstrap admin: {e}"))?;
    }
    tracing::info!(user_id = %user.id, "bootstrap admin ensured");
    Ok(())
}

/// Runs the Auth service on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let active = load_key(&config.jwt.signing_key)?;
    let previous = config
        .jwt
        .previous_keys
        .iter()
        .map(load_key)
        .collect::<Result<Vec<_>, _>>()?;
    anyhow::ensure!(config.jwt.access_ttl_secs > 0, "jwt.access_ttl_secs must be positive");
    anyhow::ensure!(
        config.jwt.refresh_ttl_secs > config.jwt.access_ttl_secs,
        "jwt.refresh_ttl_secs must exceed jwt.access_ttl_secs"
    );
    let issuer = TokenIssuer::new(
        active,
        previous,
        config.jwt.access_ttl_secs,
        config.jwt.refresh_ttl_secs,
    );

    let deps = ServiceDeps::start(&config.mesh, MIGRATIONS).await?;
    // Readiness (database, Redis) and the admin port, before the fields move.
    let server = deps.server(WORKLOAD, &config.mesh).await?;
    let ServiceDeps { tls, pool, redis } = deps;
    // Publishes the outbox to Redis for as long as the server runs.
    let _relay = events::OUTBOX.spawn_relay(pool.clone(), redis.clone(), &config.mesh.redis.key_prefix);
    let revocations = Revocations::new(&config.mesh.redis.key_prefix);
    // Other Auth replicas revoke too: learn of theirs through Redis.
    let _revocation_sync = BackgroundTask::new(revocations.spawn_sync(redis.clone()));
    let verifier = Verifier::new(StaticKeys(issuer.jwks()), revocations.clone());

    let store = Store::new(pool);
    let email_hasher = EmailHasher::new(store.event_key().await?);
    let state = Arc::new(AuthState {
        store,
        hasher: Hasher::new()?,
        issuer,
        throttle: LoginThrottle::new(redis.clone(), &config.mesh.redis.key_prefix, config.throttle.clone()),
        revocations,
        redis,
        email_hasher,
    });
    if let Some(admin) = &config.bootstrap_admin {
        ensure_bootstrap_admin(&state, admin).await?;
    }
    let republisher = state.clone();
    let _republish = BackgroundTask::new(tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(REPUBLISH_INTERVAL_SECS));
        loop {
            interval.tick().await;
            republisher.republish_recent_revocations().await;
        }
    }));

    let public = AuthServiceServer::new(AuthApi::new(state.clone()))
        .max_decoding_message_size(MESSAGE_SIZE_MAX_BYTES)
        .max_encoding_message_size(MESSAGE_SIZE_MAX_BYTES);
    let internal = AuthInternalServiceServer::with_interceptor(
        AuthInternalApi::new(state),
        AllowList::new("bank.auth.v1.AuthInternalService", &INTERNAL_CALLERS),
    );
    server
        .add_service(public)
        .add_service(internal)
        .serve(listener, &tls, verifier, shutdown)
        .await
}
