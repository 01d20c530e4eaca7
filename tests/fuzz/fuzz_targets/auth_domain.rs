//! Auth's parsers: emails (normalised, so parsing the result again must
//! give the same address) and passwords (the new-password policy and the
//! presented-password bound). Input: the email and the password text.
#![no_main]

use auth_service::fuzzing::{EMAIL_LOCAL_MAX_LEN, EMAIL_MAX_LEN, Email, Password};
use auth_service::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str)| {
    let (email_text, password_text) = input;
    let email = Email::parse(email_text);
    if let Ok(email) = &email {
        let normalised = email.as_str();
        assert!(normalised.len() <= EMAIL_MAX_LEN);
        assert!(normalised.is_ascii() && normalised == normalised.to_ascii_lowercase());
        let (local, domain) = normalised.split_once('@').expect("one @");
        assert!(!local.is_empty() && local.len() <= EMAIL_LOCAL_MAX_LEN && !domain.contains('@'));
        assert_eq!(Email::parse(normalised).as_ref(), Ok(email), "parsing is idempotent");
        // Debug output never shows the local part: only a mask and the
        // domain (a local part of `*` looks like the mask, so compare whole).
        assert_eq!(format!("{email:?}"), format!("Email(***@{domain})"));
    }
    if let Ok(password) = Password::new_for(password_text, email.as_ref().ok()) {
        let chars = password.expose().chars().count();
        assert!((PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars));
        assert!(!password.expose().chars().any(char::is_control));
        assert_eq!(format!("{password:?}"), "Password(***)");
    }
    if let Ok(presented) = Password::presented(password_text) {
        let chars = presented.expose().chars().count();
        assert!((1..=PASSWORD_MAX_CHARS).contains(&chars));
    }
});
