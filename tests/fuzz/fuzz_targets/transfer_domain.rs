//! Transfer's parsers: currencies, amounts, idempotency keys, free text,
//! ids and account numbers. Nothing may panic; what is accepted has the
//! documented shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use transfer_service::AMOUNT_MAX_MINOR;
use transfer_service::fuzzing::{
    AccountNumber, Amount, Currency, DESCRIPTION_MAX_CHARS, REFERENCE_MAX_CHARS, REQUEST_ID_MAX_LEN, RequestId,
    parse_description, parse_id, parse_reference,
};

fuzz_target!(|input: (&str, i64)| {
    let (text, minor) = input;
    if let Ok(currency) = Currency::parse(text) {
        assert_eq!(currency.as_str(), text);
    }
    if let Ok(amount) = Amount::from_parts(minor, text) {
        assert!((1..=AMOUNT_MAX_MINOR).contains(&amount.minor()));
        assert_eq!(amount.currency().as_str(), text);
    }
    if let Ok(id) = RequestId::parse(text) {
        assert!(!id.as_str().is_empty() && id.as_str().len() <= REQUEST_ID_MAX_LEN);
    }
    if let Ok(description) = parse_description(text) {
        assert!(description.chars().count() <= DESCRIPTION_MAX_CHARS);
    }
    if let Ok(reference) = parse_reference(text) {
        assert!(reference.chars().count() <= REFERENCE_MAX_CHARS);
    }
    if let Ok(id) = parse_id(text) {
        assert_eq!(parse_id(&id.to_string()), Ok(id));
    }
    if let Ok(number) = AccountNumber::parse(text) {
        assert_eq!(number.as_str().len(), 12);
        assert_eq!(AccountNumber::parse(number.as_str()), Ok(number.clone()));
    }
});
