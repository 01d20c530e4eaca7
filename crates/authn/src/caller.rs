use std::collections::HashMap;

use tonic::{Request, Status};
use tonic_types::{ErrorDetails, StatusExt};
use uuid::Uuid;

/// A role carried in the access token (`roles` claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A customer.
    Member,
    /// Bank staff.
    Admin,
}

impl Role {
    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
        }
    }

    /// Parses a claim value; unknown roles are ignored by the caller.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "member" => Some(Self::Member),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// The authenticated end user behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The user's id (`sub`).
    pub user_id: Uuid,
    /// The session (refresh-token family) the token belongs to (`sid`).
    pub session_id: Uuid,
    /// Roles at the time the token was issued.
    pub roles: Vec<Role>,
}

impl Caller {
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Why a request carries no valid identity. Each maps to UNAUTHENTICATED
/// with a google.rpc.ErrorInfo reason the client can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `authorization` metadata.
    #[error("missing bearer token")]
    Missing,
    /// Not `Bearer <jwt>`, a bad signature, a wrong algorithm, issuer or
    /// audience, an unknown key: anything that makes the token not ours.
    #[error("invalid token")]
    Invalid,
    /// A genuine token past its `exp`; the client should refresh.
    #[error("token expired")]
    Expired,
    /// A genuine token of a session that was logged out.
    #[error("session revoked")]
    Revoked,
    /// The keys could not be fetched to check the token.
    #[error("token keys unavailable")]
    KeysUnavailable,
}

impl AuthError {
    /// The google.rpc.ErrorInfo reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "TOKEN_MISSING",
            Self::Invalid => "TOKEN_INVALID",
            Self::Expired => "TOKEN_EXPIRED",
            Self::Revoked => "SESSION_REVOKED",
            Self::KeysUnavailable => "TOKEN_KEYS_UNAVAILABLE",
        }
    }

    /// The status a handler returns.
    pub fn to_status(&self) -> Status {
        match self {
            Self::KeysUnavailable => Status::unavailable("cannot verify tokens right now, retry later"),
            _ => Status::with_error_details(
                tonic::Code::Unauthenticated,
                self.to_string(),
                ErrorDetails::with_error_info(self.reason(), "bank.local", HashMap::new()),
            ),
        }
    }
}

/// The verified caller of `request`, or UNAUTHENTICATED. Requires the
/// [`AuthLayer`](crate::AuthLayer) in front of the service.
pub fn caller<T>(request: &Request<T>) -> Result<&Caller, Status> {
    match request.extensions().get::<Result<Caller, AuthError>>() {
        Some(Ok(caller)) => Ok(caller),
        Some(Err(error)) => Err(error.to_status()),
        None => Err(AuthError::Missing.to_status()),
    }
}

/// The verified caller of `request` when it is an admin; PERMISSION_DENIED
/// for members, UNAUTHENTICATED without a valid token.
pub fn require_admin<T>(request: &Request<T>) -> Result<&Caller, Status> {
    let caller = caller(request)?;
    if caller.has_role(Role::Admin) {
        Ok(caller)
    } else {
        Err(Status::permission_denied("this RPC is for bank staff (admin role)"))
    }
}
