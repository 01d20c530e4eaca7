//! Account's domain events (`bank.events.v1`), written through the
//! transactional outbox in the transaction of the change: AccountOpened
//! where an account becomes ready (visible), AccountStatusChanged where an
//! admin's freeze, unfreeze or close is stored, CardIssued where the card
//! row is inserted. Events carry ids and the last four digits of a PAN,
//! never more.

use bank_outbox::Outbox;
use bank_proto::bank::events::v1::{AccountOpened, AccountStatusChanged, CardIssued, Event, EventType, event::Payload};
use uuid::Uuid;

use crate::domain::AccountState;
use crate::store::{AccountRow, CardRow};

/// The producer name, also the stream `<prefix>:events:account`.
pub const PRODUCER: &str = "account";
/// Account's outbox.
pub const OUTBOX: Outbox = Outbox::new("account.outbox", PRODUCER);

fn owner(account: &AccountRow) -> String {
    account.owner_user_id.map(|id| id.to_string()).unwrap_or_default()
}

/// `account` became ready; its owner caused it (the system, for system
/// accounts).
pub fn account_opened(account: &AccountRow) -> Event {
    bank_outbox::event(
        PRODUCER,
        EventType::AccountOpened,
        "account",
        account.id,
        account.owner_user_id,
        Payload::AccountOpened(AccountOpened {
            account_id: account.id.to_string(),
            owner_user_id: owner(account),
            r#type: account.kind().to_proto() as i32,
            currency: account.currency.clone(),
            // The stored value is the LedgerAccountKind number (0 for
            // member accounts, which have none).
            system_kind: i32::from(account.system_kind),
        }),
    )
}

/// `admin` moved `account` (as it is now) from status `from`.
pub fn account_status_changed(account: &AccountRow, from: AccountState, reason: &str, admin: Uuid) -> Event {
    bank_outbox::event(
        PRODUCER,
        EventType::AccountStatusChanged,
        "account",
        account.id,
        Some(admin),
        Payload::AccountStatusChanged(AccountStatusChanged {
            account_id: account.id.to_string(),
            owner_user_id: owner(account),
            from_status: from.to_proto() as i32,
            to_status: account.state().to_proto() as i32,
            reason: reason.to_owned(),
        }),
    )
}

/// `card` was issued to its owner, who asked for it.
pub fn card_issued(card: &CardRow) -> Event {
    bank_outbox::event(
        PRODUCER,
        EventType::CardIssued,
        "card",
        card.id,
        Some(card.owner_user_id),
        Payload::CardIssued(CardIssued {
            card_id: card.id.to_string(),
            account_id: card.account_id.to_string(),
            owner_user_id: card.owner_user_id.to_string(),
            last_four: card.last_four.clone(),
            expiry_month: i32::from(card.expiry_month),
            expiry_year: i32::from(card.expiry_year),
        }),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_outbox_migration_is_the_outbox_crates_table() {
        let migration = include_str!("../migrations/2026-11-24-000001_outbox/up.sql");
        assert!(migration.contains(&bank_outbox::create_table_sql("account")));
    }
}
