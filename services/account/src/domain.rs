//! Validated domain values: what a handler works with after parsing the wire
//! input. Constructors validate; fields stay private. Card secrets (`Pan`,
//! `Cvv`) have redacted `Debug` so they cannot reach a log line by accident.

use std::fmt;

use bank_proto::bank::account::v1 as pb;
use bank_proto::bank::transfer::v1 as ledger;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use rand::Rng;

/// Longest request id (AIP-155 idempotency key), in characters.
pub const REQUEST_ID_MAX_CHARS: usize = 64;
/// Longest account nickname, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
/// Longest reason an admin gives for a status change, in characters.
pub const STATUS_REASON_MAX_CHARS: usize = 500;
/// Longest holder name, in characters.
pub const FULL_NAME_MAX_CHARS: usize = 100;
/// Fewest digits of an E.164 phone number after the `+`.
pub const PHONE_MIN_DIGITS: usize = 8;
/// Most digits of an E.164 phone number after the `+`.
pub const PHONE_MAX_DIGITS: usize = 15;
/// Shortest embossed name, in characters.
pub const CARDHOLDER_NAME_MIN_CHARS: usize = 2;
/// Longest embossed name, in characters.
pub const CARDHOLDER_NAME_MAX_CHARS: usize = 26;
/// Longest merchant name, in characters.
pub const MERCHANT_NAME_MAX_CHARS: usize = 100;
/// Largest amount of one card purchase, in minor units.
pub const AMOUNT_MAX_MINOR: i64 = 1_000_000_000_000;
/// Digits of an account number (10 random + 2 check digits).
pub const ACCOUNT_NUMBER_DIGITS: usize = 12;
/// Digits of a PAN.
pub const PAN_DIGITS: usize = 16;
/// Digits of the issuer prefix that starts every PAN.
pub const ISSUER_PREFIX_DIGITS: usize = 6;
/// Months from the month of issue to a card's expiry month.
pub const CARD_VALIDITY_MONTHS: u32 = 36;
/// Earliest statement year.
pub const STATEMENT_YEAR_MIN: i32 = 1970;
/// Latest statement year.
pub const STATEMENT_YEAR_MAX: i32 = 9999;

/// A client-chosen idempotency key: 1..64 characters from `[A-Za-z0-9_-]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Validates `value`.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("is required".to_owned());
        }
        if value.len() > REQUEST_ID_MAX_CHARS
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "must be 1..{REQUEST_ID_MAX_CHARS} characters from [A-Za-z0-9_-]"
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an account number was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountNumberError {
    /// Not 12 digits (after removing spaces and hyphens).
    #[error("must be {ACCOUNT_NUMBER_DIGITS} digits (spaces and hyphens are ignored)")]
    Malformed,
    /// 12 digits whose MOD 97-10 check fails: a typo.
    #[error("check digits do not match; the number was mistyped")]
    CheckDigit,
}

/// A 12-digit account number: 10 digits from a CSPRNG (first one 1..9) and
/// two ISO 7064 MOD 97-10 check digits, so the whole number mod 97 is 1.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountNumber(String);

impl AccountNumber {
    /// Parses user input: digits with optional spaces and hyphens between.
    pub fn parse(input: &str) -> Result<Self, AccountNumberError> {
        let digits: String = input.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if digits.len() != ACCOUNT_NUMBER_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AccountNumberError::Malformed);
        }
        let value: u64 = digits.parse().map_err(|_| AccountNumberError::Malformed)?;
        if value % 97 != 1 {
            return Err(AccountNumberError::CheckDigit);
        }
        Ok(Self(digits))
    }

    /// A new random number (uniqueness is the database's job).
    pub fn generate() -> Self {
        let base: u64 = rand::rng().random_range(1_000_000_000..10_000_000_000);
        Self::with_check_digits(base)
    }

    fn with_check_digits(base: u64) -> Self {
        let check = 98 - (base * 100) % 97;
        Self(format!("{base:010}{check:02}"))
    }

    /// The 12 bare digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO-4217 alphabetic code: three upper-case ASCII letters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Currency(String);

impl Currency {
    /// Validates the format (not whether the bank is configured for it).
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be an ISO-4217 code: three upper-case letters".to_owned())
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an account is for (bank.account.v1.AccountType numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountKind {
    /// Everyday account.
    Checking,
    /// Savings account.
    Savings,
    /// Reserved for loans.
    Loan,
    /// Bank-owned.
    System,
}

impl AccountKind {
    /// The stored value.
    pub fn code(self) -> i16 {
        match self {
            Self::Checking => 1,
            Self::Savings => 2,
            Self::Loan => 3,
            Self::System => 4,
        }
    }

    /// From the stored value.
    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            1 => Some(Self::Checking),
            2 => Some(Self::Savings),
            3 => Some(Self::Loan),
            4 => Some(Self::System),
            _ => None,
        }
    }

    /// From the wire; UNSPECIFIED and unknown numbers are `None`.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::AccountType::try_from(value).ok()? {
            pb::AccountType::Unspecified => None,
            pb::AccountType::Checking => Some(Self::Checking),
            pb::AccountType::Savings => Some(Self::Savings),
            pb::AccountType::Loan => Some(Self::Loan),
            pb::AccountType::System => Some(Self::System),
        }
    }

    /// To the wire.
    pub fn to_proto(self) -> pb::AccountType {
        match self {
            Self::Checking => pb::AccountType::Checking,
            Self::Savings => pb::AccountType::Savings,
            Self::Loan => pb::AccountType::Loan,
            Self::System => pb::AccountType::System,
        }
    }

    /// Whether members may open it and hold a card on it.
    pub fn is_member_account(self) -> bool {
        matches!(self, Self::Checking | Self::Savings)
    }
}

/// Lifecycle of an account (bank.account.v1.AccountStatus numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountState {
    /// Sends and receives.
    Open,
    /// Blocked by an admin.
    Frozen,
    /// Final.
    Closed,
}

impl AccountState {
    /// The stored value.
    pub fn code(self) -> i16 {
        match self {
            Self::Open => 1,
            Self::Frozen => 2,
            Self::Closed => 3,
        }
    }

    /// From the stored value.
    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            1 => Some(Self::Open),
            2 => Some(Self::Frozen),
            3 => Some(Self::Closed),
            _ => None,
        }
    }

    /// From the wire; UNSPECIFIED and unknown numbers are `None`.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::AccountStatus::try_from(value).ok()? {
            pb::AccountStatus::Unspecified => None,
            pb::AccountStatus::Open => Some(Self::Open),
            pb::AccountStatus::Frozen => Some(Self::Frozen),
            pb::AccountStatus::Closed => Some(Self::Closed),
        }
    }

    /// To the wire.
    pub fn to_proto(self) -> pb::AccountStatus {
        match self {
            Self::Open => pb::AccountStatus::Open,
            Self::Frozen => pb::AccountStatus::Frozen,
            Self::Closed => pb::AccountStatus::Closed,
        }
    }

    /// The ledger status that mirrors it.
    pub fn to_ledger(self) -> ledger::LedgerAccountStatus {
        match self {
            Self::Open => ledger::LedgerAccountStatus::Open,
            Self::Frozen => ledger::LedgerAccountStatus::Frozen,
            Self::Closed => ledger::LedgerAccountStatus::Closed,
        }
    }
}

/// A system ledger account kind (bank.transfer.v1.LedgerAccountKind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SystemKind {
    /// The bank's cash.
    Cash,
    /// Owed to merchants: receives card purchases.
    MerchantSettlement,
    /// Pays out and receives loan principal.
    LoanFunding,
    /// Receives loan interest.
    InterestIncome,
}

impl SystemKind {
    /// Every system kind.
    pub const ALL: [Self; 4] = [
        Self::Cash,
        Self::MerchantSettlement,
        Self::LoanFunding,
        Self::InterestIncome,
    ];

    /// The LedgerAccountKind number (also the stored `system_kind`).
    pub fn code(self) -> i16 {
        match self {
            Self::Cash => 2,
            Self::MerchantSettlement => 3,
            Self::LoanFunding => 4,
            Self::InterestIncome => 5,
        }
    }

    /// The enum name without its prefix, as used in the system account id.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cash => "CASH",
            Self::MerchantSettlement => "MERCHANT_SETTLEMENT",
            Self::LoanFunding => "LOAN_FUNDING",
            Self::InterestIncome => "INTEREST_INCOME",
        }
    }

    /// The deterministic id every service computes: UUIDv5 of
    /// `https://bank.local/system/<KIND>/<CURRENCY>` in the URL namespace.
    pub fn account_id(self, currency: &Currency) -> uuid::Uuid {
        let name = format!("https://bank.local/system/{}/{}", self.name(), currency.as_str());
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes())
    }
}

fn has_control_chars(value: &str) -> bool {
    value.chars().any(char::is_control)
}

/// Free text of at most `max` characters without control characters;
/// `required` refuses the empty string.
pub fn bounded_text(value: &str, required: bool, max: usize) -> Result<String, String> {
    let chars = value.chars().count();
    if required && value.trim().is_empty() {
        return Err("is required".to_owned());
    }
    if chars > max {
        return Err(format!("must be at most {max} characters"));
    }
    if has_control_chars(value) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(value.to_owned())
}

/// A holder's full legal name: 1..100 characters, letters, spaces and
/// `. ' -`; the empty string clears it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    /// Validates `value` (surrounding spaces are trimmed).
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.chars().count() > FULL_NAME_MAX_CHARS {
            return Err(format!("must be at most {FULL_NAME_MAX_CHARS} characters"));
        }
        if !value
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '.' | '\'' | '-'))
        {
            return Err("may contain only letters, spaces and . ' -".to_owned());
        }
        if !value.is_empty() && !value.chars().any(char::is_alphabetic) {
            return Err("must contain a letter".to_owned());
        }
        Ok(Self(value.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The holder's initials for confirmation of payee: "J. D." for "Jane Doe",
/// first and last name only; empty when no name is set.
pub fn name_hint(full_name: &str) -> String {
    let initials: Vec<String> = full_name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphabetic()))
        .map(|c| format!("{}.", c.to_uppercase()))
        .collect();
    match initials.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [first, .., last] => format!("{first} {last}"),
    }
}

/// A phone number in E.164 form: `+` and 8..15 digits; empty clears it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Validates `value`.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Ok(Self(String::new()));
        }
        let digits = value.strip_prefix('+').unwrap_or("");
        let valid = (PHONE_MIN_DIGITS..=PHONE_MAX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "must be E.164: + then {PHONE_MIN_DIGITS}..{PHONE_MAX_DIGITS} digits, e.g. +4915112345678"
            ))
        }
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name embossed on a card: 2..26 characters from A-Z, space, period,
/// apostrophe and hyphen, upper-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardholderName(String);

impl CardholderName {
    /// Validates `value` after upper-casing it.
    pub fn parse(value: &str) -> Result<Self, String> {
        let upper = value.trim().to_uppercase();
        let chars = upper.chars().count();
        if !(CARDHOLDER_NAME_MIN_CHARS..=CARDHOLDER_NAME_MAX_CHARS).contains(&chars) {
            return Err(format!(
                "must be {CARDHOLDER_NAME_MIN_CHARS}..{CARDHOLDER_NAME_MAX_CHARS} characters"
            ));
        }
        if !upper
            .chars()
            .all(|c| c.is_ascii_uppercase() || matches!(c, ' ' | '.' | '\'' | '-'))
        {
            return Err("may contain only A-Z, spaces and . ' -".to_owned());
        }
        Ok(Self(upper))
    }

    /// The default from a profile name: upper-cased and cut to 26
    /// characters. `None` when that is not embossable.
    pub fn from_full_name(full_name: &str) -> Option<Self> {
        let cut: String = full_name
            .trim()
            .to_uppercase()
            .chars()
            .take(CARDHOLDER_NAME_MAX_CHARS)
            .collect();
        Self::parse(cut.trim_end()).ok()
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Luhn check digit that completes `digits` (given without it).
fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// A full card number: 16 digits, Luhn-valid. `Debug` shows only the last
/// four; the digits leave only through [`Pan::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Pan(String);

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan(…{})", self.last_four())
    }
}

impl Pan {
    /// Parses a number typed by a user (spaces ignored).
    pub fn parse(input: &str) -> Result<Self, String> {
        let digits: String = input.chars().filter(|c| *c != ' ').collect();
        if digits.len() != PAN_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("must be {PAN_DIGITS} digits"));
        }
        let values: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        let (body, check) = values.split_at(PAN_DIGITS - 1);
        if luhn_check_digit(body) != check[0] {
            return Err("is not a valid card number (Luhn check failed)".to_owned());
        }
        Ok(Self(digits))
    }

    /// A new number: `prefix` (6 digits), 9 digits from a CSPRNG, a Luhn
    /// check digit.
    pub fn generate(prefix: &IssuerPrefix) -> Self {
        let mut rng = rand::rng();
        let mut values: Vec<u8> = prefix.0.bytes().map(|b| b - b'0').collect();
        for _ in 0..(PAN_DIGITS - ISSUER_PREFIX_DIGITS - 1) {
            values.push(rng.random_range(0..10));
        }
        values.push(luhn_check_digit(&values));
        Self(values.iter().map(|d| char::from(b'0' + d)).collect())
    }

    /// The last four digits (the only part that leaves after issuance).
    pub fn last_four(&self) -> &str {
        &self.0[PAN_DIGITS - 4..]
    }

    /// The digits, for encryption, MACs and the one issuance response.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The 6-digit issuer identification number every PAN starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerPrefix(String);

impl IssuerPrefix {
    /// Validates a configured prefix.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() == ISSUER_PREFIX_DIGITS && value.bytes().all(|b| b.is_ascii_digit()) && !value.starts_with('0') {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!("must be {ISSUER_PREFIX_DIGITS} digits not starting with 0"))
        }
    }
}

/// A card verification value: 3 digits. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Cvv(String);

impl fmt::Debug for Cvv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvv(***)")
    }
}

impl Cvv {
    /// Parses input.
    pub fn parse(input: &str) -> Result<Self, String> {
        if input.len() == 3 && input.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(input.to_owned()))
        } else {
            Err("must be 3 digits".to_owned())
        }
    }

    /// A derived value (see `CardVault::cvv`).
    pub fn from_digits(value: u16) -> Self {
        Self(format!("{:03}", value % 1000))
    }

    /// The digits, for comparison and the one issuance response.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A card's expiry month; the card is valid through its end (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    month: u32,
    year: i32,
}

impl Expiry {
    /// Validates a month (1..12) and a four-digit year.
    pub fn new(month: i32, year: i32) -> Result<Self, String> {
        if !(1..=12).contains(&month) {
            return Err("expiry_month must be 1..12".to_owned());
        }
        if !(1000..=9999).contains(&year) {
            return Err("expiry_year must have four digits".to_owned());
        }
        Ok(Self {
            month: u32::try_from(month).unwrap_or(1),
            year,
        })
    }

    /// The expiry of a card issued at `at`: 36 months after its month.
    pub fn for_issue_at(at: DateTime<Utc>) -> Self {
        let months = at.year() * 12 + i32::try_from(at.month0()).unwrap_or(0) + CARD_VALIDITY_MONTHS as i32;
        Self {
            year: months / 12,
            month: u32::try_from(months % 12).unwrap_or(0) + 1,
        }
    }

    /// The month, 1..12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// `MMYY`, as printed on the card and fed to the CVV MAC.
    pub fn mmyy(self) -> String {
        format!("{:02}{:02}", self.month, self.year % 100)
    }

    /// Whether the card is past its expiry month at `now`.
    pub fn has_passed(self, now: DateTime<Utc>) -> bool {
        (now.year(), now.month()) > (self.year, self.month)
    }
}

/// A positive amount of money within the purchase limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

impl Amount {
    /// Validates a wire Money: 1..1,000,000,000,000 minor units.
    pub fn parse(money: Option<&bank_proto::bank::common::v1::Money>) -> Result<Self, String> {
        let money = money.ok_or_else(|| "is required".to_owned())?;
        if !(1..=AMOUNT_MAX_MINOR).contains(&money.amount_minor) {
            return Err(format!("amount_minor must be 1..{AMOUNT_MAX_MINOR}"));
        }
        let currency = Currency::parse(&money.currency)?;
        Ok(Self {
            minor: money.amount_minor,
            currency,
        })
    }

    /// Minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> &Currency {
        &self.currency
    }

    /// To the wire.
    pub fn to_proto(&self) -> bank_proto::bank::common::v1::Money {
        bank_proto::bank::common::v1::Money {
            amount_minor: self.minor,
            currency: self.currency.as_str().to_owned(),
        }
    }
}

/// A merchant category code: 4 digits, or empty.
pub fn merchant_category_code(value: &str) -> Result<String, String> {
    if value.is_empty() || (value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit())) {
        Ok(value.to_owned())
    } else {
        Err("must be 4 digits (ISO 18245) or empty".to_owned())
    }
}

/// A statement month (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    /// Validates a wire YearMonth: 1970..9999, 1..12, not after `now`'s month.
    pub fn parse(value: Option<&bank_proto::bank::common::v1::YearMonth>, now: DateTime<Utc>) -> Result<Self, String> {
        let value = value.ok_or_else(|| "is required".to_owned())?;
        if !(STATEMENT_YEAR_MIN..=STATEMENT_YEAR_MAX).contains(&value.year) {
            return Err(format!("year must be {STATEMENT_YEAR_MIN}..{STATEMENT_YEAR_MAX}"));
        }
        if !(1..=12).contains(&value.month) {
            return Err("month must be 1..12".to_owned());
        }
        let month = u32::try_from(value.month).unwrap_or(1);
        if (value.year, month) > (now.year(), now.month()) {
            return Err("must not be after the current month".to_owned());
        }
        Ok(Self {
            year: value.year,
            month,
        })
    }

    /// First instant of the month.
    pub fn start(self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// First instant of the next month.
    pub fn next_start(self) -> DateTime<Utc> {
        let (year, month) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// To the wire.
    pub fn to_proto(self) -> bank_proto::bank::common::v1::YearMonth {
        bank_proto::bank::common::v1::YearMonth {
            year: self.year,
            month: i32::try_from(self.month).unwrap_or(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_numbers_carry_mod_97_check_digits() {
        for _ in 0..1_000 {
            let number = AccountNumber::generate();
            let value: u64 = number.as_str().parse().expect("digits");
            assert_eq!(number.as_str().len(), 12);
            assert_eq!(value % 97, 1);
            assert_ne!(&number.as_str()[..1], "0");
            assert_eq!(AccountNumber::parse(number.as_str()), Ok(number));
        }
    }

    #[test]
    fn every_single_typo_and_adjacent_swap_is_caught() {
        let number = AccountNumber::with_check_digits(1_234_567_890);
        let digits: Vec<u8> = number.as_str().bytes().collect();
        for i in 0..digits.len() {
            for replacement in b'0'..=b'9' {
                if replacement == digits[i] {
                    continue;
                }
                let mut typo = digits.clone();
                typo[i] = replacement;
                let typo = String::from_utf8(typo).expect("ascii");
                assert_eq!(
                    AccountNumber::parse(&typo),
                    Err(AccountNumberError::CheckDigit),
                    "{typo}"
                );
            }
            if i + 1 < digits.len() && digits[i] != digits[i + 1] {
                let mut swapped = digits.clone();
                swapped.swap(i, i + 1);
                let swapped = String::from_utf8(swapped).expect("ascii");
                assert_eq!(AccountNumber::parse(&swapped), Err(AccountNumberError::CheckDigit));
            }
        }
    }

    #[test]
    fn account_number_input_ignores_spaces_and_hyphens() {
        let number = AccountNumber::with_check_digits(1_234_567_890);
        let spaced = format!(
            "{} {}-{}",
            &number.as_str()[..4],
            &number.as_str()[4..8],
            &number.as_str()[8..]
        );
        assert_eq!(AccountNumber::parse(&spaced), Ok(number));
        assert_eq!(AccountNumber::parse("12345"), Err(AccountNumberError::Malformed));
        assert_eq!(AccountNumber::parse("12345678901x"), Err(AccountNumberError::Malformed));
    }

    #[test]
    fn generated_pans_are_luhn_valid_and_keep_the_prefix() {
        let prefix = IssuerPrefix::parse("400000").expect("prefix");
        for _ in 0..1_000 {
            let pan = Pan::generate(&prefix);
            assert!(pan.expose().starts_with("400000"));
            assert_eq!(Pan::parse(pan.expose()), Ok(pan.clone()));
        }
        assert!(Pan::parse("4111 1111 1111 1111").is_ok());
        assert!(Pan::parse("4111111111111112").is_err());
    }

    #[test]
    fn card_secrets_are_redacted_in_debug() {
        let pan = Pan::parse("4111111111111111").expect("pan");
        assert_eq!(format!("{pan:?}"), "Pan(…1111)");
        let cvv = Cvv::parse("123").expect("cvv");
        assert!(!format!("{cvv:?}").contains("123"));
    }

    #[test]
    fn expiry_is_36_months_after_the_month_of_issue() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).single().expect("time");
        let expiry = Expiry::for_issue_at(at);
        assert_eq!((expiry.month(), expiry.year()), (11, 2029));
        assert_eq!(expiry.mmyy(), "1129");
        let december = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().expect("time");
        let expiry = Expiry::for_issue_at(december);
        assert_eq!((expiry.month(), expiry.year()), (12, 2029));
        assert!(!expiry.has_passed(Utc.with_ymd_and_hms(2029, 12, 31, 23, 0, 0).single().expect("time")));
        assert!(expiry.has_passed(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).single().expect("time")));
    }

    #[test]
    fn names_phones_and_hints() {
        assert!(FullName::parse("Jane O'Neil-Smith Jr.").is_ok());
        assert!(FullName::parse("José Ñúñez").is_ok());
        assert!(FullName::parse("R2D2").is_err());
        assert_eq!(name_hint("jane mary doe"), "J. D.");
        assert_eq!(name_hint("Cher"), "C.");
        assert_eq!(name_hint(""), "");
        assert!(Phone::parse("+4915112345678").is_ok());
        assert!(Phone::parse("4915112345678").is_err());
        assert!(Phone::parse("+12").is_err());
        assert_eq!(
            CardholderName::parse("jane doe").map(|n| n.0),
            Ok("JANE DOE".to_owned())
        );
        assert!(CardholderName::parse("J").is_err());
        assert!(CardholderName::from_full_name("José Núñez").is_none());
        assert_eq!(
            CardholderName::from_full_name("Alexandra Catherine Montgomery-Smith").map(|n| n.0),
            Some("ALEXANDRA CATHERINE MONTGO".to_owned())
        );
    }

    #[test]
    fn system_account_ids_are_uuid_v5_of_the_documented_url() {
        let usd = Currency::parse("USD").expect("usd");
        let id = SystemKind::Cash.account_id(&usd);
        assert_eq!(id.get_version_num(), 5);
        assert_eq!(
            id,
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"https://bank.local/system/CASH/USD")
        );
    }

    #[test]
    fn periods_refuse_the_future() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).single().expect("time");
        let ym = |year, month| bank_proto::bank::common::v1::YearMonth { year, month };
        assert!(Period::parse(Some(&ym(2026, 11)), now).is_ok());
        assert!(Period::parse(Some(&ym(2026, 12)), now).is_err());
        assert!(Period::parse(Some(&ym(1969, 12)), now).is_err());
        assert!(Period::parse(Some(&ym(2026, 0)), now).is_err());
        let december = Period::parse(Some(&ym(2025, 12)), now).expect("period");
        assert_eq!(december.next_start().year(), 2026);
    }
}
