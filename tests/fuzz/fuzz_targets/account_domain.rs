//! Account's parsers: request ids, account numbers (MOD 97-10), currencies,
//! names (normalised, so parsing the result again is stable), phones,
//! embossed names, PANs (Luhn), CVVs, free text, merchant codes, expiry
//! dates, statement periods and amounts. Nothing may panic, and whatever
//! is accepted satisfies the documented shape.
#![no_main]

use account_service::fuzzing::{
    ACCOUNT_NUMBER_DIGITS, AMOUNT_MAX_MINOR, AccountNumber, Amount, CardholderName, Currency, Cvv, Expiry, FullName,
    PAN_DIGITS, Pan, Period, Phone, REQUEST_ID_MAX_CHARS, RequestId, bounded_text, merchant_category_code, name_hint,
};
use bank_proto::bank::common::v1::{Money, YearMonth};
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, i64, i32, i32, u16)| {
    let (text, minor, a, b, max) = input;
    if let Ok(id) = RequestId::parse(text) {
        assert!(!id.as_str().is_empty() && id.as_str().len() <= REQUEST_ID_MAX_CHARS);
    }
    if let Ok(number) = AccountNumber::parse(text) {
        let digits = number.as_str();
        assert_eq!(digits.len(), ACCOUNT_NUMBER_DIGITS);
        assert_eq!(digits.parse::<u64>().expect("digits") % 97, 1);
        assert_eq!(AccountNumber::parse(digits), Ok(number.clone()));
    }
    if let Ok(currency) = Currency::parse(text) {
        assert!(currency.as_str().len() == 3 && currency.as_str().bytes().all(|b| b.is_ascii_uppercase()));
    }
    if let Ok(name) = FullName::parse(text) {
        assert_eq!(FullName::parse(name.as_str()), Ok(name.clone()), "stable");
        let _ = name_hint(name.as_str());
    }
    let _ = name_hint(text);
    if let Ok(phone) = Phone::parse(text) {
        assert!(phone.as_str().is_empty() || phone.as_str().starts_with('+'));
    }
    if let Ok(embossed) = CardholderName::parse(text) {
        assert_eq!(CardholderName::parse(embossed.as_str()), Ok(embossed.clone()), "stable");
    }
    if let Some(embossed) = CardholderName::from_full_name(text) {
        assert!(CardholderName::parse(embossed.as_str()).is_ok());
    }
    if let Ok(pan) = Pan::parse(text) {
        assert_eq!(pan.expose().len(), PAN_DIGITS);
        assert_eq!(pan.last_four(), &pan.expose()[PAN_DIGITS - 4..]);
        assert!(!format!("{pan:?}").contains(pan.expose()));
    }
    if let Ok(cvv) = Cvv::parse(text) {
        assert_eq!(cvv.expose().len(), 3);
    }
    let _ = Cvv::from_digits(max);
    if let Ok(free) = bounded_text(text, a % 2 == 0, usize::from(max)) {
        assert!(free.chars().count() <= usize::from(max));
    }
    let _ = merchant_category_code(text);
    if let Ok(expiry) = Expiry::new(a, b) {
        assert!((1..=12).contains(&expiry.month()));
        assert_eq!(expiry.mmyy().len(), 4);
        let _ = expiry.has_passed(Utc::now());
    }
    if let Some(at) = Utc.timestamp_opt(i64::from(a) * 1000, 0).single() {
        let expiry = Expiry::for_issue_at(at);
        assert!((1..=12).contains(&expiry.month()));
    }
    let period = YearMonth { year: a, month: b };
    if let Ok(period) = Period::parse(Some(&period), Utc::now()) {
        assert!(period.start() < period.next_start());
        assert_eq!(Period::parse(Some(&period.to_proto()), Utc::now()), Ok(period));
    }
    let money = Money {
        amount_minor: minor,
        currency: text.to_owned(),
    };
    if let Ok(amount) = Amount::parse(Some(&money)) {
        assert!((1..=AMOUNT_MAX_MINOR).contains(&amount.minor()));
        assert_eq!(amount.to_proto(), money);
    }
});
