//! The gRPC handlers of `bank.auth.v1.AuthService` and
//! `AuthInternalService`: parse the wire input into domain values, act,
//! and answer. Every failure becomes a status a client can act on.

use std::sync::Arc;
use std::time::Duration;

use bank_authn::{Caller, LEEWAY_SECS, Revocations, Role, caller, require_admin};
use bank_mtls::peer_identity;
use bank_proto::bank::auth::v1 as pb;
use bank_proto::bank::events::v1::LoginFailureReason;
use bank_server::{
    FieldViolations, already_exists, failed_precondition, internal, not_found, resource_exhausted, unauthenticated,
    unavailable,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{Email, Password};
use crate::events::{self, EmailHasher};
use crate::password::Hasher;
use crate::store::{RoleChangeError, Rotation, STATUS_ACTIVE, Store, StoreError, UserFilter, UserRecord};
use crate::throttle::LoginThrottle;
use crate::tokens::{RefreshToken, TokenIssuer, hash_refresh_token, now_unix};

/// Log-in attempts by outcome (`succeeded`, `failed`, `throttled`).
pub const LOGINS: &str = "bank_logins_total";

/// Default page size of ListUsers.
pub const LIST_USERS_PAGE_SIZE_DEFAULT: i32 = 50;
/// Largest page size of ListUsers.
pub const LIST_USERS_PAGE_SIZE_MAX: i32 = 100;
/// Longest refresh token accepted (ours are 43 characters).
const REFRESH_TOKEN_MAX_LEN: usize = 128;
/// Longest `email_contains` filter.
const EMAIL_FILTER_MAX_LEN: usize = 254;

/// Everything the handlers share.
#[derive(Debug)]
pub struct AuthState {
    /// The database.
    pub store: Store,
    /// Password hashing.
    pub hasher: Hasher,
    /// Token signing.
    pub issuer: TokenIssuer,
    /// Failed log-in counting.
    pub throttle: LoginThrottle,
    /// Revoked sessions (shared with this process's verifier).
    pub revocations: Revocations,
    /// Redis, for publishing revocations.
    pub redis: ConnectionManager,
    /// Keyed hashes of emails for LoginFailed events.
    pub email_hasher: EmailHasher,
}

/// The public service.
#[derive(Clone, Debug)]
pub struct AuthApi {
    state: Arc<AuthState>,
}

/// The internal service.
#[derive(Clone, Debug)]
pub struct AuthInternalApi {
    state: Arc<AuthState>,
}

impl AuthApi {
    /// Handlers over `state`.
    pub fn new(state: Arc<AuthState>) -> Self {
        Self { state }
    }
}

impl AuthInternalApi {
    /// Handlers over `state`.
    pub fn new(state: Arc<AuthState>) -> Self {
        Self { state }
    }
}

fn store_error(context: &str, error: StoreError) -> Status {
    match error {
        StoreError::Unavailable(e) => unavailable(context, e),
        StoreError::Query(e) => internal(context, e),
        StoreError::Inconsistent(e) => internal(context, e),
    }
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn unix_timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

fn role_of(name: &str) -> Option<Role> {
    Role::parse(name)
}

fn proto_role(role: Role) -> pb::Role {
    match role {
        Role::Member => pb::Role::Member,
        Role::Admin => pb::Role::Admin,
    }
}

fn roles(user: &UserRecord) -> Vec<Role> {
    let mut roles: Vec<Role> = user.roles.iter().filter_map(|r| role_of(r)).collect();
    roles.sort();
    roles
}

fn to_proto(user: &UserRecord) -> pb::User {
    pb::User {
        id: user.id.to_string(),
        email: user.email.clone(),
        roles: roles(user).into_iter().map(|r| proto_role(r) as i32).collect(),
        status: if user.status == STATUS_ACTIVE {
            pb::UserStatus::Active as i32
        } else {
            pb::UserStatus::Disabled as i32
        },
        create_time: Some(timestamp(user.created_at)),
    }
}

fn parse_user_id(violations: &mut FieldViolations, field: &str, value: &str) -> Option<Uuid> {
    violations.check(field, Uuid::parse_str(value).map_err(|_| "must be a UUID"))
}

/// The address the end user connects from: the gateway's `x-forwarded-for`
/// when the caller is the gateway (mTLS identity), else the TCP peer.
fn client_address<T>(request: &Request<T>) -> Option<String> {
    let from_gateway = peer_identity(request).is_some_and(|id| id.name() == "gateway");
    if from_gateway
        && let Some(forwarded) = request.metadata().get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(first) = forwarded.split(',').next().map(str::trim)
        && let Ok(ip) = first.parse::<std::net::IpAddr>()
    {
        return Some(ip.to_string());
    }
    request.remote_addr().map(|a| a.ip().to_string())
}

fn invalid_credentials() -> Status {
    // One answer for unknown email, wrong password and disabled user.
    unauthenticated("INVALID_CREDENTIALS", "email or password is incorrect")
}

/// Why a session is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SessionCause {
    /// A log-in: recorded as UserLoggedIn.
    Login,
    /// A password change replacing the user's sessions: not a log-in.
    PasswordChange,
}

impl AuthState {
    async fn issue_session(&self, user: &UserRecord, cause: SessionCause) -> Result<pb::TokenPair, Status> {
        let session_id = Uuid::new_v4();
        let refresh = RefreshToken::generate();
        let expires_at = Utc::now() + chrono::Duration::seconds(self.issuer.refresh_ttl_secs);
        let logged_in = match cause {
            SessionCause::Login => vec![events::user_logged_in(user.id, session_id)],
            SessionCause::PasswordChange => Vec::new(),
        };
        self.store
            .create_session(session_id, user.id, expires_at, &refresh.hash, &logged_in)
            .await
            .map_err(|e| store_error("starting session", e))?;
        self.token_pair(user, session_id, refresh, expires_at)
    }

    fn token_pair(
        &self,
        user: &UserRecord,
        session_id: Uuid,
        refresh: RefreshToken,
        refresh_expires_at: DateTime<Utc>,
    ) -> Result<pb::TokenPair, Status> {
        let access = self
            .issuer
            .access_token(user.id, session_id, &roles(user))
            .map_err(|e| internal("signing access token", e))?;
        Ok(pb::TokenPair {
            access_token: access.jwt,
            token_type: "Bearer".to_owned(),
            expires_in_seconds: self.issuer.access_ttl_secs,
            access_token_expire_time: Some(unix_timestamp(access.expires_at)),
            refresh_token: refresh.token,
            refresh_token_expire_time: Some(timestamp(refresh_expires_at)),
        })
    }

    /// Until when a revoked session's access tokens could still verify.
    fn revocation_horizon(&self) -> i64 {
        now_unix() + self.issuer.access_ttl_secs + i64::try_from(LEEWAY_SECS).unwrap_or(60)
    }

    /// Makes revocations effective here at once and, through Redis, on
    /// every service within a second. A Redis failure is repaired by the
    /// periodic re-publish from the database.
    pub async fn publish_revocations(&self, sessions: &[Uuid]) {
        let until = self.revocation_horizon();
        let mut redis = self.redis.clone();
        for session in sessions {
            if let Err(error) = self.revocations.publish(&mut redis, *session, until).await {
                tracing::warn!(%error, session_id = %session, "revocation not yet published; will retry");
            }
        }
    }

    /// Re-publishes the revocations still relevant to access tokens.
    pub async fn republish_recent_revocations(&self) {
        let horizon = Utc::now()
            - chrono::Duration::seconds(self.issuer.access_ttl_secs + i64::try_from(LEEWAY_SECS).unwrap_or(60));
        match self.store.revoked_since(horizon).await {
            Ok(sessions) => self.publish_revocations(&sessions).await,
            Err(error) => tracing::warn!(%error, "cannot read recent revocations"),
        }
    }

    /// Writes the LoginFailed event of a failed attempt. Never fails the
    /// log-in: an outbox failure is logged and the attempt answered as usual.
    async fn record_login_failure(&self, email: &Email, user_id: Option<Uuid>, reason: LoginFailureReason) {
        let event = events::login_failed(user_id, self.email_hasher.hash(email), reason);
        if let Err(error) = self.store.record_login_failure(&event).await {
            tracing::error!(%error, user_id = ?user_id, "login failure event not recorded");
        }
    }

    async fn verify_password_of(&self, user: Option<&UserRecord>, password: &Password) -> Result<bool, Status> {
        self.hasher
            .verify(password, user.map(|u| u.password_hash.as_str()))
            .await
            .map_err(|e| internal("verifying password", e))
    }
}

#[tonic::async_trait]
impl pb::auth_service_server::AuthService for AuthApi {
    async fn sign_up(&self, request: Request<pb::SignUpRequest>) -> Result<Response<pb::SignUpResponse>, Status> {
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let email = violations.check("email", Email::parse(&req.email));
        let password = match Password::new_for(&req.password, email.as_ref()) {
            Ok(password) => Some(password),
            Err(problems) => {
                for problem in problems {
                    violations.add("password", problem);
                }
                None
            }
        };
        violations.into_result()?;
        let (Some(email), Some(password)) = (email, password) else {
            return Err(internal("sign-up validation", "parsed values missing"));
        };
        let state = &self.state;
        let hash = state
            .hasher
            .hash(&password)
            .await
            .map_err(|e| internal("hashing password", e))?;
        let id = Uuid::now_v7();
        match state
            .store
            .create_user(id, email.as_str(), &hash, &["member"], Some(id))
            .await
        {
            Ok(Some(user)) => {
                tracing::info!(user_id = %user.id, "user signed up");
                Ok(Response::new(pb::SignUpResponse {
                    user: Some(to_proto(&user)),
                }))
            }
            Ok(None) => Err(already_exists(
                "EMAIL_TAKEN",
                "an account with this email already exists",
            )),
            Err(e) => Err(store_error("creating user", e)),
        }
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        let address = client_address(&request);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let email = violations.check("email", Email::parse(&req.email));
        let password = violations.check("password", Password::presented(&req.password));
        violations.into_result()?;
        let (Some(email), Some(password)) = (email, password) else {
            return Err(internal("login validation", "parsed values missing"));
        };
        let state = &self.state;
        if let Err(throttled) = state.throttle.check(&email, address.as_deref()).await {
            let secs = throttled.retry_after.as_secs().max(1);
            metrics::counter!(LOGINS, "outcome" => "throttled").increment(1);
            tracing::info!(retry_after_secs = secs, "login refused: throttled");
            // Once per window and counter, so hammering a throttled log-in
            // cannot grow the outbox.
            if state.throttle.first_refusal(&throttled).await {
                let user_id = match state.store.user_id_by_email(email.as_str()).await {
                    Ok(id) => id,
                    Err(error) => {
                        tracing::warn!(%error, "throttled login: user not looked up for the event");
                        None
                    }
                };
                state
                    .record_login_failure(&email, user_id, LoginFailureReason::Throttled)
                    .await;
            }
            return Err(resource_exhausted(
                "LOGIN_THROTTLED",
                format!("too many failed log-ins; try again in {secs} seconds"),
                Duration::from_secs(secs),
            ));
        }
        let user = state
            .store
            .find_by_email(email.as_str())
            .await
            .map_err(|e| store_error("finding user", e))?;
        let matches = state.verify_password_of(user.as_ref(), &password).await?;
        let user = match user {
            Some(user) if matches && user.status == STATUS_ACTIVE => user,
            other => {
                state.throttle.record_failure(&email, address.as_deref()).await;
                let (user_id, reason) = match &other {
                    None => (None, LoginFailureReason::UnknownEmail),
                    Some(user) if !matches => (Some(user.id), LoginFailureReason::WrongPassword),
                    Some(user) => (Some(user.id), LoginFailureReason::UserDisabled),
                };
                state.record_login_failure(&email, user_id, reason).await;
                metrics::counter!(LOGINS, "outcome" => "failed").increment(1);
                tracing::info!(user_id = ?user_id, "login failed");
                return Err(invalid_credentials());
            }
        };
        state.throttle.record_success(&email).await;
        let tokens = state.issue_session(&user, SessionCause::Login).await?;
        metrics::counter!(LOGINS, "outcome" => "succeeded").increment(1);
        tracing::info!(user_id = %user.id, "user logged in");
        Ok(Response::new(pb::LoginResponse {
            tokens: Some(tokens),
            user: Some(to_proto(&user)),
        }))
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        if req.refresh_token.is_empty() {
            violations.add("refresh_token", "is required");
        } else if req.refresh_token.len() > REFRESH_TOKEN_MAX_LEN {
            violations.add(
                "refresh_token",
                format!("must be at most {REFRESH_TOKEN_MAX_LEN} characters"),
            );
        }
        violations.into_result()?;
        let state = &self.state;
        let next = RefreshToken::generate();
        let rotation = state
            .store
            .rotate_refresh_token(&hash_refresh_token(&req.refresh_token), &next.hash)
            .await
            .map_err(|e| store_error("rotating refresh token", e))?;
        match rotation {
            Rotation::Rotated {
                user,
                session_id,
                expires_at,
            } => {
                let tokens = state.token_pair(&user, session_id, next, expires_at)?;
                tracing::info!(user_id = %user.id, %session_id, "tokens refreshed");
                Ok(Response::new(pb::RefreshTokenResponse { tokens: Some(tokens) }))
            }
            Rotation::Reused { session_id } => {
                tracing::warn!(%session_id, "refresh token reused: session revoked");
                state.publish_revocations(&[session_id]).await;
                Err(unauthenticated(
                    "REFRESH_TOKEN_REUSED",
                    "this refresh token was already used; the session has been ended, log in again",
                ))
            }
            Rotation::Invalid => Err(unauthenticated(
                "REFRESH_TOKEN_INVALID",
                "refresh token is invalid or expired; log in again",
            )),
        }
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> Result<Response<pb::LogoutResponse>, Status> {
        let Caller {
            user_id, session_id, ..
        } = caller(&request)?.clone();
        let all = request.into_inner().all_sessions;
        let state = &self.state;
        let (only, reason) = if all {
            (None, "logout_all")
        } else {
            (Some(session_id), "logout")
        };
        let revoked = state
            .store
            .revoke_sessions(user_id, only, reason)
            .await
            .map_err(|e| store_error("revoking sessions", e))?;
        state.publish_revocations(&revoked).await;
        tracing::info!(%user_id, sessions = revoked.len(), "logged out");
        Ok(Response::new(pb::LogoutResponse {
            sessions_revoked: i32::try_from(revoked.len()).unwrap_or(i32::MAX),
        }))
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let address = client_address(&request);
        let user_id = caller(&request)?.user_id;
        let req = request.into_inner();
        let state = &self.state;
        let user = state
            .store
            .find_by_id(user_id)
            .await
            .map_err(|e| store_error("finding user", e))?
            .ok_or_else(|| unauthenticated("USER_NOT_FOUND", "the user no longer exists"))?;
        let email = Email::parse(&user.email).map_err(|e| internal("stored email", e))?;
        let mut violations = FieldViolations::new();
        let current = violations.check("current_password", Password::presented(&req.current_password));
        let new = match Password::new_for(&req.new_password, Some(&email)) {
            Ok(p) => Some(p),
            Err(problems) => {
                for problem in problems {
                    violations.add("new_password", problem);
                }
                None
            }
        };
        violations.into_result()?;
        let (Some(current), Some(new)) = (current, new) else {
            return Err(internal("change-password validation", "parsed values missing"));
        };
        if let Err(throttled) = state.throttle.check(&email, address.as_deref()).await {
            return Err(resource_exhausted(
                "LOGIN_THROTTLED",
                "too many failed attempts; try again later",
                throttled.retry_after,
            ));
        }
        if !state.verify_password_of(Some(&user), &current).await? {
            state.throttle.record_failure(&email, address.as_deref()).await;
            return Err(unauthenticated("INVALID_CREDENTIALS", "current password is incorrect"));
        }
        let hash = state
            .hasher
            .hash(&new)
            .await
            .map_err(|e| internal("hashing password", e))?;
        state
            .store
            .set_password_hash(user.id, &hash)
            .await
            .map_err(|e| store_error("storing password", e))?;
        let revoked = state
            .store
            .revoke_sessions(user.id, None, "password_change")
            .await
            .map_err(|e| store_error("revoking sessions", e))?;
        state.publish_revocations(&revoked).await;
        let tokens = state.issue_session(&user, SessionCause::PasswordChange).await?;
        tracing::info!(user_id = %user.id, sessions_ended = revoked.len(), "password changed");
        Ok(Response::new(pb::ChangePasswordResponse { tokens: Some(tokens) }))
    }

    async fn get_jwks(&self, _request: Request<pb::GetJwksRequest>) -> Result<Response<pb::GetJwksResponse>, Status> {
        Ok(Response::new(pb::GetJwksResponse {
            keys: self.state.issuer.jwks(),
        }))
    }

    async fn me(&self, request: Request<pb::MeRequest>) -> Result<Response<pb::MeResponse>, Status> {
        let Caller {
            user_id, session_id, ..
        } = caller(&request)?.clone();
        let state = &self.state;
        // Auth owns the sessions, so it checks them at the source as well.
        let live = state
            .store
            .session_is_live(user_id, session_id)
            .await
            .map_err(|e| store_error("checking session", e))?;
        if !live {
            return Err(unauthenticated("SESSION_REVOKED", "session revoked"));
        }
        let user = state
            .store
            .find_by_id(user_id)
            .await
            .map_err(|e| store_error("finding user", e))?
            .ok_or_else(|| unauthenticated("USER_NOT_FOUND", "the user no longer exists"))?;
        Ok(Response::new(pb::MeResponse {
            user: Some(to_proto(&user)),
        }))
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        require_admin(&request)?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let page_size = match req.page_size {
            0 => LIST_USERS_PAGE_SIZE_DEFAULT,
            n if (1..=LIST_USERS_PAGE_SIZE_MAX).contains(&n) => n,
            _ => {
                violations.add("page_size", format!("must be between 0 and {LIST_USERS_PAGE_SIZE_MAX}"));
                LIST_USERS_PAGE_SIZE_DEFAULT
            }
        };
        if req.email_contains.len() > EMAIL_FILTER_MAX_LEN {
            violations.add(
                "email_contains",
                format!("must be at most {EMAIL_FILTER_MAX_LEN} characters"),
            );
        }
        // PostgreSQL refuses NUL in text: it must be a 400 here, not a 500
        // from the query (found by the injection row of the attack matrix).
        if req.email_contains.chars().any(char::is_control) {
            violations.add("email_contains", "must not contain control characters");
        }
        let role = match pb::Role::try_from(req.role) {
            Ok(pb::Role::Unspecified) => None,
            Ok(pb::Role::Member) => Some("member"),
            Ok(pb::Role::Admin) => Some("admin"),
            Err(_) => {
                violations.add("role", "unknown role");
                None
            }
        };
        let filter = UserFilter {
            email_contains: (!req.email_contains.is_empty()).then(|| req.email_contains.clone()),
            role,
        };
        let fingerprint = format!("{}|{}", req.email_contains, req.role);
        let after = if req.page_token.is_empty() {
            None
        } else {
            let cursor = decode_cursor(&req.page_token, &fingerprint);
            if cursor.is_none() {
                violations.add(
                    "page_token",
                    "is not a token from a previous call with the same filters",
                );
            }
            cursor
        };
        violations.into_result()?;
        let mut users = self
            .state
            .store
            .list_users(&filter, after, i64::from(page_size) + 1)
            .await
            .map_err(|e| store_error("listing users", e))?;
        let more = users.len() > usize::try_from(page_size).unwrap_or(0);
        users.truncate(usize::try_from(page_size).unwrap_or(0));
        let next_page_token = match (more, users.last()) {
            (true, Some(last)) => encode_cursor(last.created_at, last.id, &fingerprint),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListUsersResponse {
            users: users.iter().map(to_proto).collect(),
            next_page_token,
        }))
    }

    async fn grant_role(
        &self,
        request: Request<pb::GrantRoleRequest>,
    ) -> Result<Response<pb::GrantRoleResponse>, Status> {
        let admin = require_admin(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let user_id = parse_user_id(&mut violations, "user_id", &req.user_id);
        let role = match pb::Role::try_from(req.role) {
            Ok(pb::Role::Member) => Some("member"),
            Ok(pb::Role::Admin) => Some("admin"),
            _ => {
                violations.add("role", "must be ROLE_MEMBER or ROLE_ADMIN");
                None
            }
        };
        violations.into_result()?;
        let (Some(user_id), Some(role)) = (user_id, role) else {
            return Err(internal("grant-role validation", "parsed values missing"));
        };
        let user = self.state.store.grant_role(user_id, role).await.map_err(role_error)?;
        tracing::info!(admin_id = %admin, %user_id, role, "role granted");
        Ok(Response::new(pb::GrantRoleResponse {
            user: Some(to_proto(&user)),
        }))
    }

    async fn revoke_role(
        &self,
        request: Request<pb::RevokeRoleRequest>,
    ) -> Result<Response<pb::RevokeRoleResponse>, Status> {
        let admin = require_admin(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let user_id = parse_user_id(&mut violations, "user_id", &req.user_id);
        match pb::Role::try_from(req.role) {
            Ok(pb::Role::Admin) => {}
            Ok(pb::Role::Member) => violations.add("role", "every user is a member; only ROLE_ADMIN can be revoked"),
            _ => violations.add("role", "must be ROLE_ADMIN"),
        }
        violations.into_result()?;
        let Some(user_id) = user_id else {
            return Err(internal("revoke-role validation", "parsed values missing"));
        };
        let state = &self.state;
        let user = state.store.revoke_admin(user_id).await.map_err(role_error)?;
        // Tokens carry roles: end the user's sessions so the old role dies now.
        let revoked = state
            .store
            .revoke_sessions(user_id, None, "role_change")
            .await
            .map_err(|e| store_error("revoking sessions", e))?;
        state.publish_revocations(&revoked).await;
        tracing::info!(admin_id = %admin, %user_id, role = "admin", "role revoked");
        Ok(Response::new(pb::RevokeRoleResponse {
            user: Some(to_proto(&user)),
        }))
    }
}

fn role_error(error: RoleChangeError) -> Status {
    match error {
        RoleChangeError::NotFound => not_found("USER_NOT_FOUND", "no user with this id"),
        RoleChangeError::LastAdmin => failed_precondition(
            "LAST_ADMIN",
            "the last admin cannot lose the admin role; grant it to someone else first",
            Vec::new(),
        ),
        RoleChangeError::Store(e) => store_error("changing role", e),
    }
}

/// Page tokens: base64url of `micros:uuid:fingerprint`. Not secret, but a
/// token from other filters is refused instead of returning a wrong page.
fn encode_cursor(created_at: DateTime<Utc>, id: Uuid, fingerprint: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}:{fingerprint}", created_at.timestamp_micros()))
}

fn decode_cursor(token: &str, fingerprint: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.splitn(3, ':');
    let micros: i64 = parts.next()?.parse().ok()?;
    let id = Uuid::parse_str(parts.next()?).ok()?;
    (parts.next()? == fingerprint).then_some(())?;
    Some((DateTime::from_timestamp_micros(micros)?, id))
}

#[tonic::async_trait]
impl pb::auth_internal_service_server::AuthInternalService for AuthInternalApi {
    async fn get_user(&self, request: Request<pb::GetUserRequest>) -> Result<Response<pb::GetUserResponse>, Status> {
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let user_id = parse_user_id(&mut violations, "user_id", &req.user_id);
        violations.into_result()?;
        let Some(user_id) = user_id else {
            return Err(internal("get-user validation", "parsed values missing"));
        };
        let user = self
            .state
            .store
            .find_by_id(user_id)
            .await
            .map_err(|e| store_error("finding user", e))?
            .ok_or_else(|| not_found("USER_NOT_FOUND", "no user with this id"))?;
        Ok(Response::new(pb::GetUserResponse {
            user: Some(to_proto(&user)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bind_to_filters() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("time");
        let id = Uuid::new_v4();
        let token = encode_cursor(at, id, "x|0");
        assert_eq!(decode_cursor(&token, "x|0"), Some((at, id)));
        assert_eq!(decode_cursor(&token, "y|0"), None);
        assert_eq!(decode_cursor("not-base64!", "x|0"), None);
    }
}
