//! Validated domain values: what a handler works with after parsing the wire
//! input. Constructors validate; fields stay private.

use std::fmt;

/// Longest email address accepted (RFC 5321 path limit).
pub const EMAIL_MAX_LEN: usize = 254;
/// Longest local part (before `@`).
pub const EMAIL_LOCAL_MAX_LEN: usize = 64;
/// Shortest password accepted (NIST SP 800-63B allows 8; a bank asks more).
pub const PASSWORD_MIN_CHARS: usize = 12;
/// Longest password accepted; bounds the hashing work an attacker can ask for.
pub const PASSWORD_MAX_CHARS: usize = 128;
/// A password needs at least this many distinct characters.
const PASSWORD_MIN_DISTINCT_CHARS: usize = 5;

/// A syntactically valid email address, lower-cased.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl fmt::Debug for Email {
    // Emails are personal data: debug output shows only the domain.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.rsplit_once('@').map_or("", |(_, d)| d);
        write!(f, "Email(***@{domain})")
    }
}

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty input.
    #[error("is required")]
    Empty,
    /// Over [`EMAIL_MAX_LEN`] characters.
    #[error("must be at most {EMAIL_MAX_LEN} characters")]
    TooLong,
    /// Not exactly one `@` with text on both sides.
    #[error("must look like name@example.com")]
    Shape,
    /// A bad local part.
    #[error("the part before @ is not valid")]
    Local,
    /// A bad domain.
    #[error("the domain after @ is not valid")]
    Domain,
}

fn valid_local(local: &str) -> bool {
    const SPECIALS: &str = ".!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= EMAIL_LOCAL_MAX_LEN
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

impl Email {
    /// Parses and normalises (trims, lower-cases) an email address. ASCII
    /// only: internationalised addresses are refused rather than stored in
    /// a form two users could collide on.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > EMAIL_MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let lower = trimmed.to_ascii_lowercase();
        let (local, domain) = lower.split_once('@').ok_or(EmailError::Shape)?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(EmailError::Shape);
        }
        if !valid_local(local) {
            return Err(EmailError::Local);
        }
        if !valid_domain(domain) {
            return Err(EmailError::Domain);
        }
        Ok(Self(lower))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(l, _)| l)
    }
}

/// Passwords refused whatever their length: the most common long ones in
/// breach corpora, compared case-insensitively.
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789abc",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "aaaaaaaaaaaa",
    "abc123456789",
    "abcdefghijkl",
    "administrator",
    "changeme1234",
    "iloveyou1234",
    "letmein12345",
    "password1234",
    "password12345",
    "password123!",
    "passw0rd1234",
    "qwerty123456",
    "qwertyuiop12",
    "qwertyuiopasdf",
    "welcome12345",
    "1234qwerasdf",
    "qazwsxedcrfv",
    "zaq12wsxcde3",
    "correcthorsebatterystaple",
];

/// A password that passed the policy. Never printed: `Debug` is redacted.
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Checks `input` against the policy for a new password; every rule it
    /// breaks is returned, so the user sees them all at once. `email` is
    /// the account's address (a password containing its local part is
    /// refused).
    pub fn new_for(input: &str, email: Option<&Email>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let chars = input.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            problems.push(format!("must be at least {PASSWORD_MIN_CHARS} characters"));
        }
        if chars > PASSWORD_MAX_CHARS {
            problems.push(format!("must be at most {PASSWORD_MAX_CHARS} characters"));
        }
        if input.chars().any(char::is_control) {
            problems.push("must not contain control characters".to_owned());
        }
        let mut distinct: Vec<char> = input.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if chars >= PASSWORD_MIN_CHARS && distinct.len() < PASSWORD_MIN_DISTINCT_CHARS {
            problems.push(format!(
                "must use at least {PASSWORD_MIN_DISTINCT_CHARS} different characters"
            ));
        }
        let lower = input.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) {
            problems.push("is too common".to_owned());
        }
        if let Some(email) = email {
            let local = email.local_part();
            if local.len() >= 4 && lower.contains(local) {
                problems.push("must not contain your email address".to_owned());
            }
        }
        if problems.is_empty() {
            Ok(Self(input.to_owned()))
        } else {
            Err(problems)
        }
    }

    /// A password presented at log-in: only bounded in size (the policy
    /// may have changed since it was set).
    pub fn presented(input: &str) -> Result<Self, String> {
        if input.is_empty() {
            return Err("is required".to_owned());
        }
        if input.chars().count() > PASSWORD_MAX_CHARS {
            return Err(format!("must be at most {PASSWORD_MAX_CHARS} characters"));
        }
        Ok(Self(input.to_owned()))
    }

    /// The secret, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_validated() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").map(|e| e.as_str().to_owned()),
            Ok("alice@example.com".to_owned())
        );
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("alice"), Err(EmailError::Shape));
        assert_eq!(Email::parse("a@b@c.com"), Err(EmailError::Shape));
        assert_eq!(Email::parse("@example.com"), Err(EmailError::Shape));
        assert_eq!(Email::parse("a..b@example.com"), Err(EmailError::Local));
        assert_eq!(Email::parse("a b@example.com"), Err(EmailError::Local));
        assert_eq!(Email::parse("alice@localhost"), Err(EmailError::Domain));
        assert_eq!(Email::parse("alice@-x.com"), Err(EmailError::Domain));
        assert_eq!(Email::parse("alice@x.c0m"), Err(EmailError::Domain));
        assert_eq!(Email::parse("élise@example.com"), Err(EmailError::Local));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        assert!(!format!("{:?}", Email::parse("secret.person@example.com")).contains("secret"));
    }

    #[test]
    fn password_policy_reports_every_problem() {
        let email = Email::parse("marguerite@example.com").ok();
        assert!(Password::new_for("correct-horse-battery", email.as_ref()).is_ok());
        let problems = Password::new_for("short", None).err().unwrap_or_default();
        assert_eq!(problems.len(), 1);
        assert!(Password::new_for("Password1234", None).is_err());
        assert!(Password::new_for("aaaaaaaaaaaaaaaa", None).is_err());
        assert!(Password::new_for("my-marguerite-pass", email.as_ref()).is_err());
        assert!(Password::new_for(&"x1y2z3".repeat(30), None).is_err());
        assert_eq!(
            format!("{:?}", Password::presented("hunter2hunter2")),
            "Ok(Password(***))"
        );
    }
}
