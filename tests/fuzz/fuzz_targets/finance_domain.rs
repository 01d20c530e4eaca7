//! Finance's parsers: idempotency keys, currencies, amounts, bounded text,
//! product types and the application state machine (nothing leaves a
//! final status; repeating the action that led there is idempotent).
#![no_main]

use bank_proto::bank::common::v1::Money;
use finance_service::fuzzing::{
    AMOUNT_MAX_MINOR, Action, Currency, REQUEST_ID_MAX_CHARS, RequestId, Status, Transition, bounded_text,
    product_type, transition,
};
use libfuzzer_sys::fuzz_target;

const ACTIONS: [Action; 5] = [
    Action::RequestInfo,
    Action::Resubmit,
    Action::Approve,
    Action::Reject,
    Action::Withdraw,
];

fuzz_target!(|input: (&str, i64, i32, u16, u16)| {
    let (text, minor, number, min, max) = input;
    if let Ok(id) = RequestId::parse(text) {
        assert!(!id.as_str().is_empty() && id.as_str().len() <= REQUEST_ID_MAX_CHARS);
    }
    if let Ok(currency) = Currency::parse(text) {
        assert_eq!(currency.as_str(), text);
    }
    let money = Money {
        amount_minor: minor,
        currency: text.to_owned(),
    };
    if let Ok(amount) = finance_service::fuzzing::Amount::parse(Some(&money)) {
        assert!((1..=AMOUNT_MAX_MINOR).contains(&amount.minor()));
    }
    if let Ok(kept) = bounded_text(text, usize::from(min), usize::from(max)) {
        let chars = kept.chars().count();
        assert!((usize::from(min)..=usize::from(max)).contains(&chars));
    }
    let _ = product_type(number);
    if let Some(status) = Status::from_proto(number) {
        assert_eq!(Status::from_code(status.code()), Some(status));
        for action in ACTIONS {
            match transition(status, action) {
                // No action leaves a final status ...
                Ok(Transition::To(next)) => {
                    assert!(!status.is_final(), "{status:?} is final, {action:?} left it");
                    assert_eq!(next, action.target());
                }
                // ... but repeating the one that led there answers as is.
                Ok(Transition::Unchanged) => {
                    assert!(status.is_final() && status == action.target(), "{status:?} {action:?}");
                }
                Err(illegal) => assert_eq!((illegal.from, illegal.to), (status, action.target())),
            }
        }
    }
});
