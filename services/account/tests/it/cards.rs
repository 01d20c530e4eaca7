use bank_config::SecretString;
use bank_proto::bank::account::v1 as pb;
use tonic::Code;

use crate::helpers::{
    Options, assert_status, bearer, new_request_id, purchase_request, purchase_with, spawn_bank, spawn_bank_with,
};

fn luhn_valid(pan: &str) -> bool {
    let sum: u32 = pan
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[tokio::test]
async fn issuance_shows_pan_and_cvv_once_then_only_the_last_four() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let issued = bank.issue(&jane, &account.account_id).await;
    let card = issued.card.clone().unwrap();
    assert_eq!(issued.pan.len(), 16);
    assert!(issued.pan.starts_with("400000"), "configured issuer prefix");
    assert!(luhn_valid(&issued.pan));
    assert_eq!(issued.cvv.len(), 3);
    assert_eq!(card.last_four, issued.pan[12..]);
    assert_eq!(card.status, pb::CardStatus::Active as i32);
    assert_eq!(card.cardholder_name, "JANE DOE");
    let issue_time = card.issue_time.unwrap();
    let issued_at = chrono::DateTime::from_timestamp(issue_time.seconds, 0).unwrap();
    use chrono::Datelike;
    let months = |d: chrono::DateTime<chrono::Utc>| d.year() * 12 + i32::try_from(d.month()).unwrap();
    assert_eq!(card.expiry_year * 12 + card.expiry_month, months(issued_at) + 36);

    // Reads carry the last four only.
    let got = bank
        .accounts
        .clone()
        .get_card(bearer(
            pb::GetCardRequest {
                account_id: account.account_id.clone(),
                card_id: card.card_id.clone(),
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .card
        .unwrap();
    assert_eq!(got, card);
    let listed = bank
        .accounts
        .clone()
        .list_cards(bearer(
            pb::ListCardsRequest {
                account_id: account.account_id.clone(),
                ..Default::default()
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.cards, std::slice::from_ref(&card));

    // The database holds no PAN in clear (nor its hex) and nowhere a CVV.
    let dump = bank.dump_account_tables().await;
    assert!(dump.contains(&card.card_id), "the dump covers the cards table");
    let pan_hex: String = issued.pan.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!dump.contains(&issued.pan), "PAN stored in clear");
    assert!(!dump.contains(&pan_hex), "PAN stored as bytes");
    assert!(!dump.contains(&issued.pan[..12]), "PAN prefix and middle stored");
    let cvv_columns = bank
        .count(
            "SELECT count(*) AS n FROM information_schema.columns \
             WHERE table_schema = 'account' AND column_name ILIKE '%cvv%'",
        )
        .await;
    assert_eq!(cvv_columns, 0, "no column holds a CVV");
    assert!(!dump.contains(&format!("\"{}\"", issued.cvv)), "CVV stored");
}

#[tokio::test]
async fn one_active_card_per_account_and_a_blocked_card_can_be_replaced() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let first = bank.issue(&jane, &account.account_id).await;
    let again = bank
        .try_issue(&jane, &new_request_id(), &account.account_id, "JANE DOE")
        .await;
    assert_status(again, Code::AlreadyExists, "CARD_ALREADY_ISSUED");

    let first_id = first.card.as_ref().unwrap().card_id.clone();
    let mut client = bank.accounts.clone();
    let blocked = client
        .block_card(bearer(
            pb::BlockCardRequest {
                account_id: account.account_id.clone(),
                card_id: first_id.clone(),
                reason: pb::CardBlockReason::Lost as i32,
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .card
        .unwrap();
    assert_eq!(blocked.status, pb::CardStatus::Blocked as i32);
    assert_eq!(blocked.block_reason, pb::CardBlockReason::Lost as i32);
    assert!(blocked.block_time.is_some());
    // Blocking again returns it unchanged (the first reason stays).
    let twice = client
        .block_card(bearer(
            pb::BlockCardRequest {
                account_id: account.account_id.clone(),
                card_id: first_id.clone(),
                reason: pb::CardBlockReason::Stolen as i32,
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .card
        .unwrap();
    assert_eq!(twice, blocked);
    let server_only = client
        .block_card(bearer(
            pb::BlockCardRequest {
                account_id: account.account_id.clone(),
                card_id: first_id.clone(),
                reason: pb::CardBlockReason::AccountClosed as i32,
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&server_only), ["reason"]);

    let second = bank.issue(&jane, &account.account_id).await;
    assert_ne!(second.pan, first.pan);
    let cards = client
        .list_cards(bearer(
            pb::ListCardsRequest {
                account_id: account.account_id.clone(),
                page_size: 1,
                ..Default::default()
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cards.cards[0].card_id, second.card.unwrap().card_id, "newest first");
    assert!(!cards.next_page_token.is_empty());
}

#[tokio::test]
async fn the_cardholder_name_defaults_to_the_profile_name() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let nameless = bank
        .try_issue(&jane, &new_request_id(), &account.account_id, "")
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::violations(&nameless), ["cardholder_name"]);
    bank.accounts
        .clone()
        .update_profile(bearer(
            pb::UpdateProfileRequest {
                profile: Some(pb::HolderProfile {
                    full_name: "Jane Alexandra Montgomery-Smith".to_owned(),
                    ..Default::default()
                }),
                update_mask: None,
            },
            &jane.token,
        ))
        .await
        .unwrap();
    let issued = bank
        .try_issue(&jane, &new_request_id(), &account.account_id, "")
        .await
        .unwrap();
    assert_eq!(issued.card.unwrap().cardholder_name, "JANE ALEXANDRA MONTGOMERY-");
}

#[tokio::test]
async fn cards_issued_under_an_old_key_still_work_after_rotation() {
    let mut bank = spawn_bank_with(Options::default()).await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &account, 10_000).await;
    let request_id = new_request_id();
    let old = bank
        .try_issue(&jane, &request_id, &account.account_id, "JANE DOE")
        .await
        .unwrap();

    // A replica with a new active key k2 next to k1 (same CVV key).
    let mut rotated = bank.cards.clone();
    let k2 = account_service::CardsConfig::generate("k2");
    rotated.keys.extend(k2.keys);
    rotated.active_key = "k2".to_owned();
    let replica = bank.second_account_service(rotated.clone()).await;

    // The old card decrypts and buys through the new replica...
    purchase_with(&replica, &jane, purchase_request(&old, 1_000, "USD"))
        .await
        .unwrap();
    // ...and an IssueCard retry there shows its PAN again, decrypted with k1.
    let replayed = replica
        .clone()
        .issue_card(bearer(
            pb::IssueCardRequest {
                request_id: request_id.clone(),
                account_id: account.account_id.clone(),
                cardholder_name: "JANE DOE".to_owned(),
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (replayed.pan.as_str(), replayed.cvv.as_str()),
        (old.pan.as_str(), old.cvv.as_str())
    );

    // New cards are encrypted under k2.
    replica
        .clone()
        .block_card(bearer(
            pb::BlockCardRequest {
                account_id: account.account_id.clone(),
                card_id: old.card.as_ref().unwrap().card_id.clone(),
                reason: pb::CardBlockReason::Damaged as i32,
            },
            &jane.token,
        ))
        .await
        .unwrap();
    let new = replica
        .clone()
        .issue_card(bearer(
            pb::IssueCardRequest {
                request_id: new_request_id(),
                account_id: account.account_id.clone(),
                cardholder_name: "JANE DOE".to_owned(),
            },
            &jane.token,
        ))
        .await
        .unwrap()
        .into_inner();
    purchase_with(&replica, &jane, purchase_request(&new, 1_000, "USD"))
        .await
        .unwrap();
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM account.cards WHERE pan_key_id = 'k2'")
            .await,
        1
    );
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM account.cards WHERE pan_key_id = 'k1'")
            .await,
        1
    );
    assert_eq!(bank.balance(&jane, &account.account_id).await, 8_000);

    // A replica that lost k1 cannot read old cards: a loud INTERNAL, not a
    // wrong number.
    let mut only_k2 = rotated;
    only_k2.keys.remove("k1");
    only_k2.keys.insert(
        "k0".to_owned(),
        SecretString::from(String::from("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")),
    );
    let amnesiac = bank.second_account_service(only_k2).await;
    let lost = amnesiac
        .clone()
        .issue_card(bearer(
            pb::IssueCardRequest {
                request_id,
                account_id: account.account_id.clone(),
                cardholder_name: "JANE DOE".to_owned(),
            },
            &jane.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(lost.code(), Code::Internal);
}
