//! Amounts as people write them (`12.34 USD`) to and from
//! [`Money`](crate::common::Money) in integer minor units, exactly: decimal
//! digits are shifted, never passed through a float.

use std::fmt;

use crate::common::Money;
use crate::error::Error;

/// Why an amount could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoneyError(String);

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MoneyError {}

impl From<MoneyError> for Error {
    fn from(error: MoneyError) -> Self {
        Error::config(error.0)
    }
}

/// Digits after the decimal point of `currency`'s minor unit (ISO 4217):
/// 0 for JPY and KRW, 3 for KWD and BHD, 2 for most.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

fn is_currency(token: &str) -> bool {
    token.len() == 3 && token.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Reads `12.34 USD` (or `USD 12.34`, `12 USD`, `-0.5 eur`) into minor
/// units of the currency. More decimals than the currency has are refused
/// unless they are zeros; so are amounts beyond `i64`.
pub fn parse(text: &str) -> Result<Money, MoneyError> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let (amount, currency) = match tokens.as_slice() {
        [amount, currency] if is_currency(currency) => (*amount, *currency),
        [currency, amount] if is_currency(currency) => (*amount, *currency),
        _ => {
            return Err(MoneyError(format!(
                "'{text}' is not an amount: write it like '12.34 USD'"
            )));
        }
    };
    let currency = currency.to_ascii_uppercase();
    let amount_minor = parse_amount(amount, &currency)?;
    Ok(Money { amount_minor, currency })
}

/// Reads a decimal `amount` (`12.34`, `-3`, `0.5`) into minor units of
/// `currency`.
pub fn parse_amount(amount: &str, currency: &str) -> Result<i64, MoneyError> {
    let digits = minor_digits(currency);
    let invalid = || MoneyError(format!("'{amount}' is not a decimal amount"));
    let (negative, unsigned) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount.strip_prefix('+').unwrap_or(amount)),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (unsigned, ""),
    };
    if (whole.is_empty() && fraction.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (unsigned.contains('.') && fraction.is_empty())
    {
        return Err(invalid());
    }
    let width = usize::try_from(digits).map_err(|_| invalid())?;
    if fraction.len() > width && fraction.bytes().skip(width).any(|b| b != b'0') {
        return Err(MoneyError(format!(
            "{currency} has {digits} decimal place{}: '{amount}' is more precise",
            if digits == 1 { "" } else { "s" }
        )));
    }
    let too_large = || MoneyError(format!("'{amount} {currency}' is too large"));
    let mut minor: i64 = 0;
    let fraction_digits = fraction.bytes().chain(std::iter::repeat(b'0')).take(width);
    for digit in whole.bytes().chain(fraction_digits) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(digit - b'0')))
            .ok_or_else(too_large)?;
    }
    Ok(if negative { -minor } else { minor })
}

/// `amount_minor` of `currency` as a decimal, e.g. `1234` USD → `12.34`.
pub fn format_amount(amount_minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let magnitude = amount_minor.unsigned_abs();
    let sign = if amount_minor < 0 { "-" } else { "" };
    if digits == 0 {
        return format!("{sign}{magnitude}");
    }
    let scale = 10u64.pow(digits);
    let width = usize::try_from(digits).unwrap_or(2);
    format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale)
}

/// `money` as people write it, e.g. `12.34 USD`.
pub fn format(money: &Money) -> String {
    format!(
        "{} {}",
        format_amount(money.amount_minor, &money.currency),
        money.currency
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn minor(text: &str) -> Result<(i64, String), MoneyError> {
        parse(text).map(|m| (m.amount_minor, m.currency))
    }

    #[test]
    fn reads_amounts_exactly() {
        assert_eq!(minor("12.34 USD").unwrap(), (1234, "USD".into()));
        assert_eq!(minor("USD 12.34").unwrap(), (1234, "USD".into()));
        assert_eq!(minor("12 eur").unwrap(), (1200, "EUR".into()));
        assert_eq!(minor("0.1 USD").unwrap(), (10, "USD".into()));
        assert_eq!(minor("0.10 USD").unwrap(), (10, "USD".into()));
        assert_eq!(minor(".5 GBP").unwrap(), (50, "GBP".into()));
        assert_eq!(minor("12.300 USD").unwrap(), (1230, "USD".into()));
        assert_eq!(minor("1500 JPY").unwrap(), (1500, "JPY".into()));
        assert_eq!(minor("1.234 KWD").unwrap(), (1234, "KWD".into()));
        assert_eq!(minor("-3.07 USD").unwrap(), (-307, "USD".into()));
        // 0.29 is not representable as a binary float; here it is exact.
        assert_eq!(minor("0.29 USD").unwrap(), (29, "USD".into()));
        assert_eq!(minor("92233720368547758.07 USD").unwrap(), (i64::MAX, "USD".into()));
    }

    #[test]
    fn refuses_what_is_not_exact() {
        for bad in [
            "12.345 USD",
            "1.5 JPY",
            "12,34 USD",
            "1e3 USD",
            "12.34",
            "USD",
            "12. USD",
            ". USD",
            "12.34 US",
            "92233720368547758.08 USD",
            "1 2 USD",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse("12.345 USD").unwrap_err().to_string(),
            "USD has 2 decimal places: '12.345' is more precise"
        );
    }

    #[test]
    fn formats_minor_units() {
        let usd = |minor| Money {
            amount_minor: minor,
            currency: "USD".into(),
        };
        assert_eq!(format(&usd(1234)), "12.34 USD");
        assert_eq!(format(&usd(5)), "0.05 USD");
        assert_eq!(format(&usd(-5)), "-0.05 USD");
        assert_eq!(format(&usd(i64::MIN)), "-92233720368547758.08 USD");
        assert_eq!(format_amount(1500, "JPY"), "1500");
        assert_eq!(format_amount(1234, "KWD"), "1.234");
        for text in ["12.34 USD", "0.01 EUR", "7 JPY"] {
            assert_eq!(format(&parse(text).unwrap()), text);
        }
    }
}
