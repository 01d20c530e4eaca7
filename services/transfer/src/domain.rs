//! Validated wire input: what handlers work with after parsing.

use std::fmt;

use bank_proto::bank::common::v1::Money;
use uuid::Uuid;

/// Largest amount one transfer may move, in minor units (10^12: ten
/// billion dollars). Bounds every column's growth per transfer.
pub const AMOUNT_MAX_MINOR: i64 = 1_000_000_000_000;
/// Longest idempotency key.
pub const REQUEST_ID_MAX_LEN: usize = 64;
/// Longest transfer description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 140;
/// Longest client reference, in characters.
pub const REFERENCE_MAX_CHARS: usize = 64;

/// An ISO-4217 alphabetic currency code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses three upper-case ASCII letters.
    pub fn parse(code: &str) -> Result<Self, &'static str> {
        let bytes = code.as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_uppercase) => Ok(Self([*a, *b, *c])),
            _ => Err("must be an ISO-4217 code of three upper-case letters, e.g. USD"),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        // Constructed from ASCII only.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A positive amount of one currency, at most [`AMOUNT_MAX_MINOR`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

impl Amount {
    /// Parses a `Money` that must be present, positive and bounded.
    pub fn parse(money: Option<&Money>) -> Result<Self, &'static str> {
        let money = money.ok_or("is required")?;
        Self::from_parts(money.amount_minor, &money.currency)
    }

    /// Builds from minor units and a code.
    pub fn from_parts(minor: i64, currency: &str) -> Result<Self, &'static str> {
        let currency = Currency::parse(currency)?;
        if minor <= 0 {
            return Err("amount_minor must be positive");
        }
        if minor > AMOUNT_MAX_MINOR {
            return Err("amount_minor must be at most 1000000000000");
        }
        Ok(Self { minor, currency })
    }

    /// Minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }
}

/// A client-chosen idempotency key: 1..64 of `[A-Za-z0-9_-]`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct RequestId(String);

impl RequestId {
    /// Parses a key.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if value.is_empty() {
            return Err("is required");
        }
        if value.len() > REQUEST_ID_MAX_LEN {
            return Err("must be at most 64 characters");
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("may contain only letters, digits, '-' and '_'");
        }
        Ok(Self(value.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text shown on statements, at most [`DESCRIPTION_MAX_CHARS`].
pub fn parse_description(value: &str) -> Result<String, &'static str> {
    bounded_text(value, DESCRIPTION_MAX_CHARS, "must be at most 140 characters")
}

/// A client reference, at most [`REFERENCE_MAX_CHARS`].
pub fn parse_reference(value: &str) -> Result<String, &'static str> {
    bounded_text(value, REFERENCE_MAX_CHARS, "must be at most 64 characters")
}

fn bounded_text(value: &str, max: usize, too_long: &'static str) -> Result<String, &'static str> {
    if value.chars().count() > max {
        return Err(too_long);
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(value.to_owned())
}

/// A UUID in canonical text form.
pub fn parse_id(value: &str) -> Result<Uuid, &'static str> {
    if value.is_empty() {
        return Err("is required");
    }
    Uuid::parse_str(value).map_err(|_| "must be a UUID")
}

/// An account number: 12 digits whose value mod 97 is 1 (ISO 7064
/// MOD 97-10); spaces and hyphens between digits are ignored.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct AccountNumber(String);

/// Why an account number was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountNumberError {
    /// Not 12 digits.
    Shape,
    /// The check digits do not match: a typo.
    CheckDigits,
}

impl fmt::Display for AccountNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Shape => "must be 12 digits",
            Self::CheckDigits => "check digits do not match: the number is mistyped",
        })
    }
}

impl AccountNumber {
    /// Parses and checks an account number.
    pub fn parse(value: &str) -> Result<Self, AccountNumberError> {
        let digits: String = value.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AccountNumberError::Shape);
        }
        let remainder = digits
            .bytes()
            .fold(0u64, |acc, b| (acc * 10 + u64::from(b - b'0')) % 97);
        if remainder != 1 {
            return Err(AccountNumberError::CheckDigits);
        }
        Ok(Self(digits))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(minor: i64, currency: &str) -> Money {
        Money {
            amount_minor: minor,
            currency: currency.to_owned(),
        }
    }

    #[test]
    fn amounts_are_positive_bounded_and_typed() {
        assert_eq!(Amount::parse(Some(&money(1, "USD"))).map(|a| a.minor()), Ok(1));
        assert!(Amount::parse(Some(&money(0, "USD"))).is_err());
        assert!(Amount::parse(Some(&money(-5, "USD"))).is_err());
        assert!(Amount::parse(Some(&money(AMOUNT_MAX_MINOR + 1, "USD"))).is_err());
        assert!(Amount::parse(Some(&money(i64::MAX, "USD"))).is_err());
        assert!(Amount::parse(Some(&money(10, "usd"))).is_err());
        assert!(Amount::parse(Some(&money(10, "US"))).is_err());
        assert!(Amount::parse(None).is_err());
    }

    #[test]
    fn request_ids() {
        assert!(RequestId::parse("a-B_9").is_ok());
        assert!(RequestId::parse(&"x".repeat(64)).is_ok());
        assert!(RequestId::parse(&"x".repeat(65)).is_err());
        assert!(RequestId::parse("").is_err());
        assert!(RequestId::parse("a b").is_err());
        assert!(RequestId::parse("é").is_err());
    }

    #[test]
    fn account_numbers_carry_mod97_check_digits() {
        // 1234567890 -> check = 98 - (123456789000 mod 97) = 98 - 63 = 35... computed:
        let base = 1_234_567_890u64;
        let check = 98 - (base * 100) % 97;
        let number = format!("{base}{check:02}");
        assert!(AccountNumber::parse(&number).is_ok());
        assert!(AccountNumber::parse(&format!("{} {}-{}", &number[..4], &number[4..8], &number[8..])).is_ok());
        // Every single-digit typo and every adjacent swap is caught.
        let bytes = number.as_bytes();
        for i in 0..12 {
            for d in b'0'..=b'9' {
                if d == bytes[i] {
                    continue;
                }
                let mut typo = bytes.to_vec();
                typo[i] = d;
                let typo = String::from_utf8(typo).unwrap_or_default();
                assert_eq!(
                    AccountNumber::parse(&typo),
                    Err(AccountNumberError::CheckDigits),
                    "{typo}"
                );
            }
        }
        for i in 0..11 {
            if bytes[i] == bytes[i + 1] {
                continue;
            }
            let mut swapped = bytes.to_vec();
            swapped.swap(i, i + 1);
            let swapped = String::from_utf8(swapped).unwrap_or_default();
            assert!(AccountNumber::parse(&swapped).is_err(), "{swapped}");
        }
        assert_eq!(AccountNumber::parse("12345"), Err(AccountNumberError::Shape));
    }
}
