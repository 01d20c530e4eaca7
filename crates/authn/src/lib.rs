//! End-user authentication for bank services. Access tokens are EdDSA JWTs
//! issued by the Auth service; every service verifies them locally against
//! Auth's published keys (JWKS, cached, refreshed when an unknown `kid`
//! shows up), rejects tokens of revoked sessions, and hands handlers a typed
//! [`Caller`] through a tower layer.

mod caller;
mod keys;
mod layer;
mod revocation;
mod verifier;

pub use caller::{AuthError, Caller, Role, caller, require_admin};
pub use keys::{KeySource, RemoteJwks, SigningKey, StaticKeys, key_id};
pub use layer::{AuthLayer, AuthService};
pub use revocation::{REVOCATION_SYNC_INTERVAL_MS, REVOKED_SESSIONS_KEY, Revocations};
pub use verifier::{AUDIENCE, Claims, ISSUER, LEEWAY_SECS, Verifier};
