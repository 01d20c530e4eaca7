//! The services parse the same wire values independently (account numbers
//! in Account and Transfer, idempotency keys and currencies in Account,
//! Transfer and Finance): they must agree on every input, or a value one
//! service issues or accepts is refused by the next hop.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let account_number = account_service::fuzzing::AccountNumber::parse(text).is_ok();
    let transfer_number = transfer_service::fuzzing::AccountNumber::parse(text).is_ok();
    assert_eq!(account_number, transfer_number, "account numbers: {text:?}");

    let keys = [
        account_service::fuzzing::RequestId::parse(text).is_ok(),
        transfer_service::fuzzing::RequestId::parse(text).is_ok(),
        finance_service::fuzzing::RequestId::parse(text).is_ok(),
    ];
    assert!(keys.iter().all(|k| *k == keys[0]), "request ids {keys:?}: {text:?}");

    let currencies = [
        account_service::fuzzing::Currency::parse(text).is_ok(),
        transfer_service::fuzzing::Currency::parse(text).is_ok(),
        finance_service::fuzzing::Currency::parse(text).is_ok(),
    ];
    assert!(
        currencies.iter().all(|c| *c == currencies[0]),
        "currencies {currencies:?}: {text:?}"
    );
});
