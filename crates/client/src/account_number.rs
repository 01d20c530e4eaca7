//! Account numbers as people type them: 12 digits, spaces and hyphens
//! allowed between, the last two ISO 7064 MOD 97-10 check digits (the whole
//! number mod 97 is 1), checked before anything is sent so a typo is
//! caught here rather than answered with NOT_FOUND.

use std::fmt;

/// Digits of an account number.
pub const DIGITS: usize = 12;

/// Why a string is not an account number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountNumberError {
    /// Not 12 digits.
    Malformed,
    /// 12 digits whose check digits do not match: a typo.
    CheckDigits,
}

impl fmt::Display for AccountNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "an account number has 12 digits",
            Self::CheckDigits => "the account number's check digits do not match (a typo?)",
        })
    }
}

impl std::error::Error for AccountNumberError {}

/// The 12 bare digits of `input`, when it is a valid account number.
pub fn parse(input: &str) -> Result<String, AccountNumberError> {
    let digits: String = input.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AccountNumberError::Malformed);
    }
    let value: u64 = digits.parse().map_err(|_| AccountNumberError::Malformed)?;
    if value % 97 != 1 {
        return Err(AccountNumberError::CheckDigits);
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_the_mod_97_digits() {
        // 1234567890 with check digits 98 - (123456789000 mod 97).
        let base = 1_234_567_890u64;
        let number = format!("{base}{:02}", 98 - (base * 100) % 97);
        assert_eq!(parse(&number), Ok(number.clone()));
        assert_eq!(
            parse(&format!("{} {}-{}", &number[..4], &number[4..8], &number[8..])),
            Ok(number.clone())
        );
        let mut typo = number.into_bytes();
        typo[3] = if typo[3] == b'9' { b'0' } else { typo[3] + 1 };
        assert_eq!(
            parse(std::str::from_utf8(&typo).unwrap_or_default()),
            Err(AccountNumberError::CheckDigits)
        );
        assert_eq!(parse("12345"), Err(AccountNumberError::Malformed));
        assert_eq!(parse("12345678901a"), Err(AccountNumberError::Malformed));
    }
}
