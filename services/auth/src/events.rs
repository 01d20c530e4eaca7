//! Auth's domain events (`bank.events.v1`), written through the
//! transactional outbox: sign-up and log-in in the transaction that
//! creates the user or the session; a failed log-in, which changes
//! nothing, in a small transaction of its own. Events carry ids only: no
//! email in clear (a keyed hash instead), no password, no token.

use bank_outbox::Outbox;
use bank_proto::bank::events::v1::{
    Event, EventType, LoginFailed, LoginFailureReason, UserLoggedIn, UserRegistered, event::Payload,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::Email;

/// The producer name, also the stream `<prefix>:events:auth`.
pub const PRODUCER: &str = "auth";
/// Auth's outbox.
pub const OUTBOX: Outbox = Outbox::new("auth.outbox", PRODUCER);
/// Length of the email-hash key in bytes.
pub const EMAIL_HASH_KEY_BYTES: usize = 32;

/// Aggregate type of every Auth event.
const AGGREGATE_USER: &str = "user";

/// A user signed up; `actor` is the user (`None` for the bootstrap admin,
/// which the system creates).
pub fn user_registered(user_id: Uuid, actor: Option<Uuid>) -> Event {
    bank_outbox::event(
        PRODUCER,
        EventType::UserRegistered,
        AGGREGATE_USER,
        user_id,
        actor,
        Payload::UserRegistered(UserRegistered {
            user_id: user_id.to_string(),
        }),
    )
}

/// A user logged in, starting `session_id`.
pub fn user_logged_in(user_id: Uuid, session_id: Uuid) -> Event {
    bank_outbox::event(
        PRODUCER,
        EventType::UserLoggedIn,
        AGGREGATE_USER,
        user_id,
        Some(user_id),
        Payload::UserLoggedIn(UserLoggedIn {
            user_id: user_id.to_string(),
            session_id: session_id.to_string(),
        }),
    )
}

/// A log-in attempt failed. The aggregate is the user when the email is
/// one; otherwise there is no entity and the aggregate id is empty. No
/// actor: the attempt proved no identity.
pub fn login_failed(user_id: Option<Uuid>, email_hash: String, reason: LoginFailureReason) -> Event {
    let user = user_id.map(|id| id.to_string()).unwrap_or_default();
    bank_outbox::event(
        PRODUCER,
        EventType::LoginFailed,
        AGGREGATE_USER,
        &user,
        None,
        Payload::LoginFailed(LoginFailed {
            user_id: user.clone(),
            email_hash,
            reason: reason as i32,
        }),
    )
}

/// HMAC-SHA-256 of normalised emails under Auth's event key: equal emails
/// give equal hashes, and nobody without the key can recover the email.
#[derive(Clone)]
pub struct EmailHasher {
    key: [u8; EMAIL_HASH_KEY_BYTES],
}

impl std::fmt::Debug for EmailHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailHasher(***)")
    }
}

impl EmailHasher {
    /// A hasher under `key`.
    pub fn new(key: [u8; EMAIL_HASH_KEY_BYTES]) -> Self {
        Self { key }
    }

    /// 64 lower-case hex characters.
    pub fn hash(&self, email: &Email) -> String {
        // HMAC accepts keys of any length: this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(email.as_str().as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;

    #[test]
    fn email_hashes_are_keyed_normalised_hex_and_stable() {
        let hasher = EmailHasher::new([7; EMAIL_HASH_KEY_BYTES]);
        let a = Email::parse("Jane.Doe@Example.com").expect("email");
        let b = Email::parse("jane.doe@example.com").expect("email");
        let hash = hasher.hash(&a);
        assert_eq!(hash.len(), 64);
        assert!(hash.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_eq!(hash, hasher.hash(&b), "normalised before hashing");
        assert_ne!(hash, EmailHasher::new([8; EMAIL_HASH_KEY_BYTES]).hash(&a), "keyed");
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"what do ya want for nothing?");
        let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            expected,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_failed_login_event_holds_no_email() {
        let hasher = EmailHasher::new([1; EMAIL_HASH_KEY_BYTES]);
        let email = Email::parse("secret.person@example.com").expect("email");
        let event = login_failed(None, hasher.hash(&email), LoginFailureReason::UnknownEmail);
        let bytes = event.encode_to_vec();
        assert!(!bytes.windows(b"secret.person".len()).any(|w| w == b"secret.person"));
        assert_eq!(event.actor_user_id, "");
        assert_eq!(event.r#type, EventType::LoginFailed as i32);
    }

    #[test]
    fn the_outbox_migration_is_the_outbox_crates_table() {
        let migration = include_str!("../migrations/2026-11-24-000001_outbox/up.sql");
        assert!(migration.contains(&bank_outbox::create_table_sql("auth")));
    }
}
