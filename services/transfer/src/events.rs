//! The ledger's domain events, one per recorded transfer row, appended to
//! `transfer.outbox` in the same transaction as the row.

use bank_outbox::{Outbox, event};
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::events::v1::{
    Event, EventType, TransferDeclined, TransferExpired, TransferPending, TransferPosted, TransferVoided,
    event::Payload,
};

use crate::convert::timestamp;
use crate::store::{TransferRow, st, ty};

/// The ledger's outbox.
pub const OUTBOX: Outbox = Outbox::new("transfer.outbox", "transfer");

fn money(row: &TransferRow) -> Option<Money> {
    Some(Money {
        amount_minor: row.amount,
        currency: row.currency.clone(),
    })
}

fn id_or_empty(id: Option<uuid::Uuid>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

/// The event a freshly recorded transfer row stands for, if any.
pub fn for_row(row: &TransferRow) -> Option<Event> {
    let actor = row.initiator_user_id;
    let (kind, aggregate, payload) = match (row.type_, row.status) {
        (_, st::DECLINED) => (
            EventType::TransferDeclined,
            row.id,
            Payload::TransferDeclined(TransferDeclined {
                transfer_id: row.id.to_string(),
                r#type: i32::from(row.type_),
                kind: i32::from(row.kind),
                debit_account_id: row.debit_account_id.to_string(),
                credit_account_id: row.credit_account_id.to_string(),
                amount: money(row),
                reason: i32::from(row.decline_reason),
                initiator_user_id: id_or_empty(actor),
            }),
        ),
        (ty::PENDING, st::PENDING) => (
            EventType::TransferPending,
            row.id,
            Payload::TransferPending(TransferPending {
                transfer_id: row.id.to_string(),
                kind: i32::from(row.kind),
                debit_account_id: row.debit_account_id.to_string(),
                credit_account_id: row.credit_account_id.to_string(),
                amount: money(row),
                expire_time: row.expire_at.map(timestamp),
                initiator_user_id: id_or_empty(actor),
            }),
        ),
        (ty::IMMEDIATE | ty::POST_PENDING, st::POSTED) => (
            EventType::TransferPosted,
            row.id,
            Payload::TransferPosted(TransferPosted {
                transfer_id: row.id.to_string(),
                r#type: i32::from(row.type_),
                kind: i32::from(row.kind),
                debit_account_id: row.debit_account_id.to_string(),
                credit_account_id: row.credit_account_id.to_string(),
                amount: money(row),
                pending_transfer_id: id_or_empty(row.pending_transfer_id),
                initiator_user_id: id_or_empty(actor),
            }),
        ),
        (ty::VOID_PENDING, st::VOIDED) => (
            EventType::TransferVoided,
            row.pending_transfer_id.unwrap_or(row.id),
            Payload::TransferVoided(TransferVoided {
                transfer_id: row.id.to_string(),
                pending_transfer_id: id_or_empty(row.pending_transfer_id),
                debit_account_id: row.debit_account_id.to_string(),
                credit_account_id: row.credit_account_id.to_string(),
                amount: money(row),
            }),
        ),
        _ => return None,
    };
    Some(event("transfer", kind, "transfer", aggregate, actor, payload))
}

/// The event of a reservation released by expiry.
pub fn expired(pending: &TransferRow) -> Event {
    event(
        "transfer",
        EventType::TransferExpired,
        "transfer",
        pending.id,
        None,
        Payload::TransferExpired(TransferExpired {
            pending_transfer_id: pending.id.to_string(),
            debit_account_id: pending.debit_account_id.to_string(),
            credit_account_id: pending.credit_account_id.to_string(),
            amount: money(pending),
            expire_time: pending.expire_at.map(timestamp),
        }),
    )
}
