//! The auth schema's queries. Every multi-row change runs in one
//! transaction; rows that decide a race (a refresh token, the admin set) are
//! locked before they are read.

use bank_db::{Pool, PooledConnection, is_unique_violation};
use bank_proto::bank::events::v1::Event;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rand::RngCore as _;
use uuid::Uuid;

use crate::events::{self, EMAIL_HASH_KEY_BYTES, OUTBOX};
use crate::schema::{event_key, refresh_tokens, sessions, user_roles, users};

/// `auth.users.status` values (bank.auth.v1.UserStatus numbers).
pub const STATUS_ACTIVE: i16 = 1;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had in time: the caller may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    /// Stored data broke an invariant the code relies on.
    #[error("inconsistent data: {0}")]
    Inconsistent(&'static str),
}

/// A user with its roles.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// Id.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// PHC argon2id hash.
    pub password_hash: String,
    /// `auth.users.status`.
    pub status: i16,
    /// Sign-up time.
    pub created_at: DateTime<Utc>,
    /// Role names, sorted.
    pub roles: Vec<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: Uuid,
    email: String,
    password_hash: String,
    status: i16,
    created_at: DateTime<Utc>,
}

/// What presenting a refresh token did.
#[derive(Debug)]
pub enum Rotation {
    /// The token was valid and is now used; a new one was stored.
    Rotated {
        /// The session's user (with current roles).
        user: UserRecord,
        /// The session.
        session_id: Uuid,
        /// When the session ends.
        expires_at: DateTime<Utc>,
    },
    /// The token had already been used: its whole session is now revoked.
    Reused {
        /// The revoked session.
        session_id: Uuid,
    },
    /// Unknown token, or its session is revoked or expired, or its user is
    /// disabled.
    Invalid,
}

/// Filters of ListUsers.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    /// Case-insensitive substring of the email.
    pub email_contains: Option<String>,
    /// Role name the user must hold.
    pub role: Option<&'static str>,
}

/// Why a role change was refused.
#[derive(Debug, thiserror::Error)]
pub enum RoleChangeError {
    /// No such user.
    #[error("user not found")]
    NotFound,
    /// Revoking the last admin's admin role.
    #[error("the last admin cannot lose the admin role")]
    LastAdmin,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for RoleChangeError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// The auth database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

async fn roles_of(conn: &mut PooledConnection, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, diesel::result::Error> {
    user_roles::table
        .filter(user_roles::user_id.eq_any(ids))
        .select((user_roles::user_id, user_roles::role))
        .order((user_roles::user_id, user_roles::role))
        .load(conn)
        .await
}

async fn with_roles(conn: &mut PooledConnection, rows: Vec<UserRow>) -> Result<Vec<UserRecord>, diesel::result::Error> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let roles = roles_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| UserRecord {
            roles: roles
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, r)| r.clone())
                .collect(),
            id: row.id,
            email: row.email,
            password_hash: row.password_hash,
            status: row.status,
            created_at: row.created_at,
        })
        .collect())
}

impl Store {
    /// A store over `pool`.
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    async fn conn(&self) -> Result<PooledConnection, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// The key of login-failure email hashes: made by the first replica
    /// that starts, then read by every one.
    pub async fn event_key(&self) -> Result<[u8; EMAIL_HASH_KEY_BYTES], StoreError> {
        let mut conn = self.conn().await?;
        let mut fresh = [0u8; EMAIL_HASH_KEY_BYTES];
        rand::rng().fill_bytes(&mut fresh);
        diesel::insert_into(event_key::table)
            .values(event_key::secret.eq(fresh.to_vec()))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await?;
        let stored: Vec<u8> = event_key::table.select(event_key::secret).first(&mut conn).await?;
        stored
            .try_into()
            .map_err(|_| StoreError::Inconsistent("event key of the wrong length"))
    }

    /// Inserts a user with `roles` and its UserRegistered event (`actor`
    /// caused it; `None` for the system). `Ok(None)` when the email is
    /// taken: nothing is written then, the event included.
    pub async fn create_user(
        &self,
        id: Uuid,
        email: &str,
        password_hash: &str,
        roles: &[&str],
        actor: Option<Uuid>,
    ) -> Result<Option<UserRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let result = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(id),
                        users::email.eq(email),
                        users::password_hash.eq(password_hash),
                        users::status.eq(STATUS_ACTIVE),
                    ))
                    .execute(conn)
                    .await?;
                for role in roles {
                    diesel::insert_into(user_roles::table)
                        .values((user_roles::user_id.eq(id), user_roles::role.eq(*role)))
                        .execute(conn)
                        .await?;
                }
                OUTBOX.append(conn, &[events::user_registered(id, actor)]).await?;
                Ok(())
            })
            .await;
        match result {
            Ok(()) => self.find_by_id(id).await,
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The user with `email` (normalised), if any.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<UserRow> = users::table
            .filter(users::email.eq(email))
            .select(UserRow::as_select())
            .load(&mut conn)
            .await?;
        Ok(with_roles(&mut conn, rows).await?.pop())
    }

    /// The user with `id`, if any.
    pub async fn find_by_id(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<UserRow> = users::table
            .filter(users::id.eq(id))
            .select(UserRow::as_select())
            .load(&mut conn)
            .await?;
        Ok(with_roles(&mut conn, rows).await?.pop())
    }

    /// Starts a session for `user_id` with its first refresh token, and
    /// writes `session_events` (a log-in's UserLoggedIn) in the same
    /// transaction.
    pub async fn create_session(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
        token_hash: &[u8],
        session_events: &[Event],
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(session_id),
                    sessions::user_id.eq(user_id),
                    sessions::expires_at.eq(expires_at),
                ))
                .execute(conn)
                .await?;
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::token_hash.eq(token_hash),
                    refresh_tokens::session_id.eq(session_id),
                ))
                .execute(conn)
                .await?;
            OUTBOX.append(conn, session_events).await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Writes the event of a failed log-in, which changes nothing else, in
    /// a transaction of its own.
    pub async fn record_login_failure(&self, event: &Event) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            OUTBOX.append(conn, std::slice::from_ref(event)).await
        })
        .await?;
        Ok(())
    }

    /// The id of the user with `email` (normalised), if any.
    pub async fn user_id_by_email(&self, email: &str) -> Result<Option<Uuid>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(users::table
            .filter(users::email.eq(email))
            .select(users::id)
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// Uses the refresh token with `token_hash` and stores `new_hash` in its
    /// place. The token row is locked, so of two concurrent uses of one
    /// token exactly one rotates and the other revokes the family.
    pub async fn rotate_refresh_token(&self, token_hash: &[u8], new_hash: &[u8]) -> Result<Rotation, StoreError> {
        let mut conn = self.conn().await?;
        let outcome = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let found: Option<(Option<DateTime<Utc>>, Uuid)> = refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(token_hash))
                    .select((refresh_tokens::used_at, refresh_tokens::session_id))
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let Some((used_at, session_id)) = found else {
                    return Ok(None);
                };
                let session: (Uuid, DateTime<Utc>, Option<DateTime<Utc>>) = sessions::table
                    .filter(sessions::id.eq(session_id))
                    .select((sessions::user_id, sessions::expires_at, sessions::revoked_at))
                    .for_update()
                    .first(conn)
                    .await?;
                let (user_id, expires_at, revoked_at) = session;
                if used_at.is_some() {
                    if revoked_at.is_none() {
                        diesel::update(sessions::table.filter(sessions::id.eq(session_id)))
                            .set((
                                sessions::revoked_at.eq(diesel::dsl::now),
                                sessions::revoke_reason.eq("refresh_token_reuse"),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    return Ok(Some(Err(session_id)));
                }
                if revoked_at.is_some() || expires_at <= Utc::now() {
                    return Ok(None);
                }
                let status: i16 = users::table
                    .filter(users::id.eq(user_id))
                    .select(users::status)
                    .first(conn)
                    .await?;
                if status != STATUS_ACTIVE {
                    return Ok(None);
                }
                diesel::update(refresh_tokens::table.filter(refresh_tokens::token_hash.eq(token_hash)))
                    .set(refresh_tokens::used_at.eq(diesel::dsl::now))
                    .execute(conn)
                    .await?;
                diesel::insert_into(refresh_tokens::table)
                    .values((
                        refresh_tokens::token_hash.eq(new_hash),
                        refresh_tokens::session_id.eq(session_id),
                    ))
                    .execute(conn)
                    .await?;
                diesel::update(sessions::table.filter(sessions::id.eq(session_id)))
                    .set(sessions::last_used_at.eq(diesel::dsl::now))
                    .execute(conn)
                    .await?;
                Ok(Some(Ok((user_id, session_id, expires_at))))
            })
            .await?;
        match outcome {
            None => Ok(Rotation::Invalid),
            Some(Err(session_id)) => Ok(Rotation::Reused { session_id }),
            Some(Ok((user_id, session_id, expires_at))) => match self.find_by_id(user_id).await? {
                Some(user) => Ok(Rotation::Rotated {
                    user,
                    session_id,
                    expires_at,
                }),
                None => Ok(Rotation::Invalid),
            },
        }
    }

    /// Revokes the live sessions of `user_id` (only `session` when given)
    /// and returns the ids revoked.
    pub async fn revoke_sessions(
        &self,
        user_id: Uuid,
        session: Option<Uuid>,
        reason: &'static str,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = diesel::update(sessions::table)
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .into_boxed();
        if let Some(session) = session {
            query = query.filter(sessions::id.eq(session));
        }
        Ok(query
            .set((
                sessions::revoked_at.eq(diesel::dsl::now),
                sessions::revoke_reason.eq(reason),
            ))
            .returning(sessions::id)
            .get_results(&mut conn)
            .await?)
    }

    /// Whether `session` of `user_id` exists, is not revoked and not expired.
    pub async fn session_is_live(&self, user_id: Uuid, session: Uuid) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let live: i64 = sessions::table
            .filter(sessions::id.eq(session))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(diesel::dsl::now))
            .count()
            .get_result(&mut conn)
            .await?;
        Ok(live == 1)
    }

    /// Sessions revoked since `since`: re-published to Redis so every
    /// service learns of them even if the first publish failed.
    pub async fn revoked_since(&self, since: DateTime<Utc>) -> Result<Vec<Uuid>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(sessions::table
            .filter(sessions::revoked_at.ge(since))
            .select(sessions::id)
            .load(&mut conn)
            .await?)
    }

    /// Replaces the password hash of `user_id`.
    pub async fn set_password_hash(&self, user_id: Uuid, hash: &str) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::update(users::table.filter(users::id.eq(user_id)))
            .set((users::password_hash.eq(hash), users::updated_at.eq(diesel::dsl::now)))
            .execute(&mut conn)
            .await?;
        Ok(())
    }

    /// Up to `limit` users, newest first, strictly after the `after` cursor
    /// (created_at, id) when given.
    pub async fn list_users(
        &self,
        filter: &UserFilter,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = users::table.select(UserRow::as_select()).into_boxed();
        if let Some(text) = &filter.email_contains {
            // The needle is matched literally: LIKE wildcards are escaped.
            let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            query = query.filter(users::email.like(format!("%{}%", escaped.to_lowercase())));
        }
        if let Some(role) = filter.role {
            let holders = user_roles::table
                .filter(user_roles::role.eq(role))
                .select(user_roles::user_id);
            query = query.filter(users::id.eq_any(holders));
        }
        if let Some((created_at, id)) = after {
            query = query.filter(
                users::created_at
                    .lt(created_at)
                    .or(users::created_at.eq(created_at).and(users::id.lt(id))),
            );
        }
        let rows = query
            .order((users::created_at.desc(), users::id.desc()))
            .limit(limit)
            .load(&mut conn)
            .await?;
        Ok(with_roles(&mut conn, rows).await?)
    }

    /// Grants `role` to `user_id` (idempotent).
    pub async fn grant_role(&self, user_id: Uuid, role: &str) -> Result<UserRecord, RoleChangeError> {
        {
            let mut conn = self.conn().await?;
            let exists: i64 = users::table
                .filter(users::id.eq(user_id))
                .count()
                .get_result(&mut conn)
                .await?;
            if exists == 0 {
                return Err(RoleChangeError::NotFound);
            }
            diesel::insert_into(user_roles::table)
                .values((user_roles::user_id.eq(user_id), user_roles::role.eq(role)))
                .on_conflict_do_nothing()
                .execute(&mut conn)
                .await?;
        }
        self.find_by_id(user_id).await?.ok_or(RoleChangeError::NotFound)
    }

    /// Revokes the admin role from `user_id`, refusing to remove the last
    /// admin. Admin role rows are locked so two concurrent revocations
    /// cannot both pass the check.
    pub async fn revoke_admin(&self, user_id: Uuid) -> Result<UserRecord, RoleChangeError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, RoleChangeError, _>(async |conn| {
            let exists: i64 = users::table
                .filter(users::id.eq(user_id))
                .count()
                .get_result(conn)
                .await?;
            if exists == 0 {
                return Err(RoleChangeError::NotFound);
            }
            let admins: Vec<Uuid> = user_roles::table
                .filter(user_roles::role.eq("admin"))
                .select(user_roles::user_id)
                .order(user_roles::user_id)
                .for_update()
                .load(conn)
                .await?;
            if admins.contains(&user_id) {
                if admins.len() == 1 {
                    return Err(RoleChangeError::LastAdmin);
                }
                diesel::delete(
                    user_roles::table
                        .filter(user_roles::user_id.eq(user_id))
                        .filter(user_roles::role.eq("admin")),
                )
                .execute(conn)
                .await?;
            }
            Ok(())
        })
        .await?;
        drop(conn);
        self.find_by_id(user_id).await?.ok_or(RoleChangeError::NotFound)
    }
}
