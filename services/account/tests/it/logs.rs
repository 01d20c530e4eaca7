use bank_proto::bank::account::v1 as pb;
use bank_testkit::LogCapture;

use crate::helpers::{bearer, new_request_id, purchase_request, spawn_bank};

/// Everything runs on this thread, so the thread-local capture sees every
/// log line the three services emit.
#[tokio::test(flavor = "current_thread")]
async fn card_numbers_and_cvvs_never_reach_the_logs() {
    let (logs, _guard) = LogCapture::start();
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 10_000).await;
    let request_id = new_request_id();
    let card = bank
        .try_issue(&jane, &request_id, &account.account_id, "JANE DOE")
        .await
        .unwrap();
    // A retry shows the secrets again; none of it may be logged.
    bank.try_issue(&jane, &request_id, &account.account_id, "JANE DOE")
        .await
        .unwrap();
    bank.purchase(&jane, purchase_request(&card, 100, "USD")).await.unwrap();
    let mut wrong = purchase_request(&card, 100, "USD");
    let wrong_cvv = format!("{:03}", (card.cvv.parse::<u16>().unwrap() + 1) % 1000);
    wrong.cvv = wrong_cvv.clone();
    bank.purchase(&jane, wrong).await.unwrap_err();
    let mut malformed = purchase_request(&card, 0, "USD");
    malformed.card_number = format!("{}x", &card.pan[..15]);
    bank.purchase(&jane, malformed).await.unwrap_err();
    bank.accounts
        .clone()
        .block_card(bearer(
            pb::BlockCardRequest {
                account_id: account.account_id.clone(),
                card_id: card.card.as_ref().unwrap().card_id.clone(),
                reason: pb::CardBlockReason::Lost as i32,
            },
            &jane.token,
        ))
        .await
        .unwrap();
    bank.purchase(&jane, purchase_request(&card, 100, "USD"))
        .await
        .unwrap_err();

    let captured = logs.contents();
    assert!(captured.contains("card issued"), "the capture works");
    assert!(captured.contains("card purchase approved"));
    assert!(captured.contains("card purchase declined"));
    let pan = &card.pan;
    for secret in [pan.as_str(), &pan[..12], &pan[4..16], &pan[..15]] {
        assert!(!captured.contains(secret), "a card number reached the logs");
    }
    // A 3-digit CVV alone turns up by chance (HTTP/2 frame sizes are logged
    // at TRACE), so look for it where a leak would put it: next to its
    // name, as a structured field or in a message's Debug output.
    for cvv in [&card.cvv, &wrong_cvv] {
        for pattern in [
            format!("cvv\":\"{cvv}"),
            format!("cvv: \"{cvv}"),
            format!("cvv: \\\"{cvv}"),
            format!("cvv={cvv}"),
            format!("cvv: {cvv}"),
        ] {
            let line = captured.lines().find(|l| l.contains(&pattern)).unwrap_or("");
            assert!(!captured.contains(&pattern), "a CVV reached the logs: {line}");
        }
    }
    assert!(
        captured.contains("CreateCardPurchase"),
        "purchases were logged with their method"
    );
    let key = bank.cards.keys["k1"].clone();
    use bank_config::ExposeSecret;
    assert!(!captured.contains(key.expose_secret()), "a card key reached the logs");
    assert!(
        !captured.contains(bank.cards.cvv_key.expose_secret()),
        "the CVV key reached the logs"
    );
}
