//! Account's domain events, read back from the Redis stream the outbox
//! relay publishes to: exactly one AccountOpened per account however the
//! opening is retried, one AccountStatusChanged per change, one CardIssued
//! per card, none for a refused change, and never a PAN.

use std::collections::HashSet;
use std::time::Duration;

use bank_proto::bank::account::v1 as pb;
use bank_proto::bank::events::v1::{Event, EventType, event::Payload};
use bank_proto::bank::transfer::v1::LedgerAccountKind;
use prost::Message as _;
use tonic::Code;

use crate::helpers::{Member, TestBank, assert_status, new_request_id, spawn_bank};
use crate::status::{close, freeze, unfreeze};

/// Longest wait for the relay to publish.
const PUBLISH_WAIT_SECS: u64 = 20;

/// One stream entry: the decoded event and its encoded bytes.
struct Published {
    event: Event,
    bytes: Vec<u8>,
}

impl Published {
    fn kind(&self) -> EventType {
        EventType::try_from(self.event.r#type).unwrap()
    }

    fn payload(&self) -> &Payload {
        self.event.payload.as_ref().unwrap()
    }
}

/// The account stream once `done` holds for it.
async fn published(bank: &TestBank, done: impl Fn(&[Published]) -> bool) -> Vec<Published> {
    let key = format!("{}:events:account", bank.redis_prefix);
    let client = redis::Client::open(bank_testkit::redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(PUBLISH_WAIT_SECS);
    loop {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&key)
            .arg("-")
            .arg("+")
            .query_async(&mut redis)
            .await
            .unwrap();
        let entries: Vec<Published> = reply
            .ids
            .iter()
            .map(|entry| {
                let bytes: Vec<u8> = entry.get("event").unwrap();
                let event = Event::decode(bytes.as_slice()).unwrap();
                let kind: String = entry.get("type").unwrap();
                assert_eq!(kind, EventType::try_from(event.r#type).unwrap().as_str_name());
                Published { event, bytes }
            })
            .collect();
        if done(&entries) {
            return entries;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "events not published in time: {:?}",
            entries.iter().map(Published::kind).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens one more account and waits for its event: the relay publishes in
/// commit order, so every earlier event is in the stream by then.
async fn settle(bank: &TestBank, who: &Member) -> Vec<Published> {
    let last = bank.open(who, "EUR").await;
    let events = published(bank, |events| opened(events, &last.account_id).len() == 1).await;
    assert_eq!(
        outbox_rows(bank).await,
        i64::try_from(events.len()).unwrap(),
        "every row, once"
    );
    assert!(events.windows(2).all(|w| w[0].event.sequence < w[1].event.sequence));
    let ids: HashSet<&str> = events.iter().map(|e| e.event.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len());
    events
}

async fn outbox_rows(bank: &TestBank) -> i64 {
    bank.count("SELECT count(*) AS n FROM account.outbox").await
}

fn opened<'a>(events: &'a [Published], account_id: &str) -> Vec<&'a Published> {
    events
        .iter()
        .filter(|e| matches!(e.payload(), Payload::AccountOpened(p) if p.account_id == account_id))
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn an_account_is_opened_once_however_the_opening_is_retried() {
    let mut bank = spawn_bank().await;
    let jane = bank.member().await;
    let request_id = new_request_id();
    let first = bank
        .try_open(&jane, &request_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap();
    for _ in 0..2 {
        bank.try_open(&jane, &request_id, pb::AccountType::Checking, "USD")
            .await
            .unwrap();
    }
    let raced_id = new_request_id();
    let (a, b, c) = tokio::join!(
        bank.try_open(&jane, &raced_id, pb::AccountType::Savings, "EUR"),
        bank.try_open(&jane, &raced_id, pb::AccountType::Savings, "EUR"),
        bank.try_open(&jane, &raced_id, pb::AccountType::Savings, "EUR"),
    );
    let raced = a.unwrap();
    assert_eq!(b.unwrap().account_id, raced.account_id);
    assert_eq!(c.unwrap().account_id, raced.account_id);
    // Half-opened while the ledger is down: invisible, so no event until a
    // retry finishes it; then one.
    bank.stop_transfer().await;
    let healed_id = new_request_id();
    let down = bank
        .try_open(&jane, &healed_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    bank.restart_transfer().await;
    let healed = bank
        .try_open(&jane, &healed_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap();
    bank.try_open(&jane, &healed_id, pb::AccountType::Checking, "USD")
        .await
        .unwrap();
    // A refused opening (the request id reused for another request) writes
    // nothing.
    let reused = bank.try_open(&jane, &request_id, pb::AccountType::Savings, "USD").await;
    assert_status(reused, Code::AlreadyExists, "IDEMPOTENCY_KEY_REUSED");

    let events = settle(&bank, &jane).await;
    for (account, kind, currency) in [
        (&first, pb::AccountType::Checking, "USD"),
        (&raced, pb::AccountType::Savings, "EUR"),
        (&healed, pb::AccountType::Checking, "USD"),
    ] {
        let found = opened(&events, &account.account_id);
        assert_eq!(found.len(), 1, "one AccountOpened for {}", account.account_id);
        let event = &found[0].event;
        assert_eq!(event.producer, "account");
        assert_eq!(event.aggregate_type, "account");
        assert_eq!(event.aggregate_id, account.account_id);
        assert_eq!(event.actor_user_id, jane.user_id);
        let Payload::AccountOpened(payload) = found[0].payload() else {
            unreachable!()
        };
        assert_eq!(payload.owner_user_id, jane.user_id);
        assert_eq!(payload.r#type, kind as i32);
        assert_eq!(payload.currency, currency);
        assert_eq!(payload.system_kind, LedgerAccountKind::Unspecified as i32);
    }

    // The system accounts, one event each, written by whichever start-up
    // created them: a second replica on the same database adds none.
    let system = |events: &[Published]| -> Vec<(i32, String)> {
        events
            .iter()
            .filter_map(|e| match e.payload() {
                Payload::AccountOpened(p) if p.owner_user_id.is_empty() => {
                    assert_eq!(p.r#type, pb::AccountType::System as i32);
                    assert_eq!(e.event.actor_user_id, "");
                    Some((p.system_kind, p.currency.clone()))
                }
                _ => None,
            })
            .collect()
    };
    let mut expected: Vec<(i32, String)> = Vec::new();
    for kind in [
        LedgerAccountKind::Cash,
        LedgerAccountKind::MerchantSettlement,
        LedgerAccountKind::LoanFunding,
        LedgerAccountKind::InterestIncome,
    ] {
        for currency in account_service::default_currencies() {
            expected.push((kind as i32, currency));
        }
    }
    expected.sort();
    let mut found = system(&events);
    found.sort();
    assert_eq!(found, expected);
    let cards = bank.cards.clone();
    bank.second_account_service(cards).await;
    let events = settle(&bank, &jane).await;
    assert_eq!(system(&events).len(), expected.len());
    // Nothing else: the system accounts, three accounts, two settling ones.
    assert_eq!(events.len(), expected.len() + 5);
}

#[tokio::test]
async fn each_status_change_writes_one_event_and_a_refused_one_none() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let id = &account.account_id;
    freeze(&bank, &admin, id).await.unwrap();
    freeze(&bank, &admin, id).await.unwrap(); // no change, no event
    unfreeze(&bank, &admin, id).await.unwrap();
    close(&bank, &admin, id).await.unwrap();
    close(&bank, &admin, id).await.unwrap(); // no change, no event
    assert_status(
        freeze(&bank, &admin, id).await,
        Code::FailedPrecondition,
        "ACCOUNT_CLOSED",
    );
    // Refused by the ledger: money is still in it.
    let funded = bank.open(&jane, "USD").await;
    bank.deposit(&jane, &funded, 500).await;
    assert_status(
        close(&bank, &admin, &funded.account_id).await,
        Code::FailedPrecondition,
        "BALANCE_NOT_ZERO",
    );

    let events = settle(&bank, &jane).await;
    let changes: Vec<(&Event, (i32, i32, String))> = events
        .iter()
        .filter_map(|e| match e.payload() {
            Payload::AccountStatusChanged(p) => {
                assert_eq!(p.owner_user_id, jane.user_id);
                Some((&e.event, (p.from_status, p.to_status, p.reason.clone())))
            }
            _ => None,
        })
        .collect();
    for (event, _) in &changes {
        assert_eq!(event.aggregate_id, *id);
        assert_eq!(event.aggregate_type, "account");
        assert_eq!(event.actor_user_id, admin.user_id, "the admin caused it");
    }
    let (open, frozen, closed) = (
        pb::AccountStatus::Open as i32,
        pb::AccountStatus::Frozen as i32,
        pb::AccountStatus::Closed as i32,
    );
    assert_eq!(
        changes.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
        [
            (open, frozen, "suspicious activity".to_owned()),
            (frozen, open, "cleared".to_owned()),
            (open, closed, "customer request".to_owned()),
        ]
    );
}

#[tokio::test]
async fn an_issued_card_is_one_event_with_the_last_four_digits_only() {
    let bank = spawn_bank().await;
    let jane = bank.member().await;
    let account = bank.open(&jane, "USD").await;
    let request_id = new_request_id();
    let issued = bank
        .try_issue(&jane, &request_id, &account.account_id, "JANE DOE")
        .await
        .unwrap();
    let retried = bank
        .try_issue(&jane, &request_id, &account.account_id, "JANE DOE")
        .await
        .unwrap();
    assert_eq!(retried, issued);
    // A second active card is refused: no event.
    let refused = bank
        .try_issue(&jane, &new_request_id(), &account.account_id, "JANE DOE")
        .await;
    assert_status(refused, Code::AlreadyExists, "CARD_ALREADY_ISSUED");

    let events = settle(&bank, &jane).await;
    let card = issued.card.as_ref().unwrap();
    let found: Vec<&Published> = events.iter().filter(|e| e.kind() == EventType::CardIssued).collect();
    assert_eq!(found.len(), 1);
    let event = &found[0].event;
    assert_eq!(event.aggregate_type, "card");
    assert_eq!(event.aggregate_id, card.card_id);
    assert_eq!(event.actor_user_id, jane.user_id);
    let Payload::CardIssued(payload) = found[0].payload() else {
        unreachable!()
    };
    assert_eq!(payload.card_id, card.card_id);
    assert_eq!(payload.account_id, account.account_id);
    assert_eq!(payload.owner_user_id, jane.user_id);
    assert_eq!(payload.last_four, issued.pan[issued.pan.len() - 4..]);
    assert_eq!(payload.last_four, card.last_four);
    assert_eq!(
        (payload.expiry_month, payload.expiry_year),
        (card.expiry_month, card.expiry_year)
    );

    // No PAN (nor its first twelve digits) in any event.
    let head = &issued.pan[..12];
    for published in &events {
        assert!(!contains(&published.bytes, &issued.pan), "an event holds the PAN");
        assert!(!contains(&published.bytes, head), "an event holds most of the PAN");
    }
}
