//! Domain events as analytics reads them: the wire `bank.events.v1.Event`
//! becomes an [`Envelope`] (what every event has) and a [`Fact`] (what this
//! service aggregates), validated here so that the database only ever sees
//! well-formed values. Events of unknown types, unknown payloads and
//! payloads with unusable fields are kept (deduplicated, shown by
//! WatchEvents) but aggregate nothing.

use bank_proto::bank::events::v1::{Event, event::Payload};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// Producers whose streams are consumed, in the order their entries are
/// applied within one batch (accounts before the transfers that use them).
pub const PRODUCERS: [&str; 4] = ["auth", "account", "finance", "transfer"];

/// What every consumed event has.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// The deduplication key.
    pub event_id: Uuid,
    /// The EventType number (unknown numbers are kept as they are).
    pub event_type: i32,
    /// The producing service.
    pub producer: String,
    /// Position in the producer's outbox.
    pub sequence: i64,
    /// When the producer committed it; the consumption time when the event
    /// carries none.
    pub occurred_at: DateTime<Utc>,
}

impl Envelope {
    /// The UTC day it occurred on.
    pub fn day(&self) -> NaiveDate {
        self.occurred_at.date_naive()
    }
}

/// A posted transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    /// The transfer.
    pub transfer_id: Uuid,
    /// TransferKind number.
    pub kind: i32,
    /// Ledger account debited.
    pub debit_account_id: Uuid,
    /// Ledger account credited.
    pub credit_account_id: Uuid,
    /// Positive amount in minor units.
    pub amount_minor: i64,
    /// ISO-4217 code.
    pub currency: String,
    /// The user it was made for.
    pub initiator: Option<Uuid>,
}

/// What analytics aggregates from one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// A user signed up.
    UserRegistered {
        /// The user.
        user: Uuid,
    },
    /// A user logged in.
    UserLoggedIn {
        /// The user.
        user: Uuid,
    },
    /// A log-in failed.
    LoginFailed {
        /// The user, when the email belongs to one.
        user: Option<Uuid>,
        /// LoginFailureReason number.
        reason: i32,
    },
    /// An account was opened.
    AccountOpened {
        /// The account (also its ledger account).
        account: Uuid,
        /// Its owner; `None` for system accounts.
        owner: Option<Uuid>,
        /// Its currency, when well-formed.
        currency: Option<String>,
    },
    /// An event that names an account's owner (a card issued, a status
    /// change): fills the mapping when AccountOpened is missing.
    AccountOwner {
        /// The account.
        account: Uuid,
        /// Its owner.
        owner: Uuid,
    },
    /// Money moved.
    TransferPosted(Posted),
    /// A transfer attempt was declined.
    TransferDeclined {
        /// DeclineReason number.
        reason: i32,
        /// The user it was attempted for.
        initiator: Option<Uuid>,
    },
    /// A user started a pending transfer (activity only).
    TransferInitiated {
        /// The user.
        initiator: Uuid,
    },
    /// A loan application was submitted.
    ApplicationSubmitted {
        /// The application.
        application: Uuid,
        /// The applicant.
        applicant: Uuid,
    },
    /// An application changed status by an admin's decision.
    ApplicationDecided {
        /// The application.
        application: Uuid,
        /// The applicant.
        applicant: Uuid,
        /// ApplicationStatus number after the decision.
        status: i32,
    },
    /// A member selected a financing option.
    OptionSelected {
        /// The member.
        user: Uuid,
        /// The option.
        option: Uuid,
        /// ProductType number.
        product_type: i32,
    },
    /// Nothing to aggregate: an event kept only for the feed, an unknown
    /// type, or a payload whose fields are unusable (the reason says which).
    Nothing(Option<String>),
}

fn uuid(field: &str, value: &str) -> Result<Uuid, String> {
    Uuid::parse_str(value).map_err(|_| format!("{field} is not a UUID"))
}

fn optional_uuid(field: &str, value: &str) -> Result<Option<Uuid>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        uuid(field, value).map(Some)
    }
}

/// Whether `code` looks like an ISO-4217 code.
pub fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A wire timestamp as a time, refusing out-of-range values.
pub fn from_timestamp(value: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    u32::try_from(value.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
}

/// A time on the wire.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The envelope of `event`, or why it cannot be consumed at all (no UUID
/// event id means no deduplication, so such an event is rejected).
pub fn envelope(event: &Event, now: DateTime<Utc>) -> Result<Envelope, String> {
    let event_id = uuid("event_id", &event.event_id)?;
    Ok(Envelope {
        event_id,
        event_type: event.r#type,
        producer: event.producer.clone(),
        sequence: event.sequence,
        occurred_at: event.occur_time.as_ref().and_then(from_timestamp).unwrap_or(now),
    })
}

fn posted(p: &bank_proto::bank::events::v1::TransferPosted) -> Result<Posted, String> {
    let amount = p.amount.as_ref().ok_or("amount is missing")?;
    if amount.amount_minor <= 0 {
        return Err("amount is not positive".to_owned());
    }
    if !is_currency(&amount.currency) {
        return Err("amount.currency is not an ISO-4217 code".to_owned());
    }
    Ok(Posted {
        transfer_id: uuid("transfer_id", &p.transfer_id)?,
        kind: p.kind,
        debit_account_id: uuid("debit_account_id", &p.debit_account_id)?,
        credit_account_id: uuid("credit_account_id", &p.credit_account_id)?,
        amount_minor: amount.amount_minor,
        currency: amount.currency.clone(),
        initiator: optional_uuid("initiator_user_id", &p.initiator_user_id)?,
    })
}

fn interpret(payload: &Payload) -> Result<Fact, String> {
    Ok(match payload {
        Payload::UserRegistered(p) => Fact::UserRegistered {
            user: uuid("user_id", &p.user_id)?,
        },
        Payload::UserLoggedIn(p) => Fact::UserLoggedIn {
            user: uuid("user_id", &p.user_id)?,
        },
        Payload::LoginFailed(p) => Fact::LoginFailed {
            user: optional_uuid("user_id", &p.user_id)?,
            reason: p.reason,
        },
        Payload::AccountOpened(p) => Fact::AccountOpened {
            account: uuid("account_id", &p.account_id)?,
            owner: optional_uuid("owner_user_id", &p.owner_user_id)?,
            currency: is_currency(&p.currency).then(|| p.currency.clone()),
        },
        Payload::AccountStatusChanged(p) => match optional_uuid("owner_user_id", &p.owner_user_id)? {
            Some(owner) => Fact::AccountOwner {
                account: uuid("account_id", &p.account_id)?,
                owner,
            },
            None => Fact::Nothing(None),
        },
        Payload::CardIssued(p) => match optional_uuid("owner_user_id", &p.owner_user_id)? {
            Some(owner) => Fact::AccountOwner {
                account: uuid("account_id", &p.account_id)?,
                owner,
            },
            None => Fact::Nothing(None),
        },
        Payload::TransferPosted(p) => Fact::TransferPosted(posted(p)?),
        Payload::TransferDeclined(p) => Fact::TransferDeclined {
            reason: p.reason,
            initiator: optional_uuid("initiator_user_id", &p.initiator_user_id)?,
        },
        Payload::TransferPending(p) => match optional_uuid("initiator_user_id", &p.initiator_user_id)? {
            Some(initiator) => Fact::TransferInitiated { initiator },
            None => Fact::Nothing(None),
        },
        Payload::ApplicationSubmitted(p) => Fact::ApplicationSubmitted {
            application: uuid("application_id", &p.application_id)?,
            applicant: uuid("applicant_user_id", &p.applicant_user_id)?,
        },
        Payload::ApplicationDecided(p) => Fact::ApplicationDecided {
            application: uuid("application_id", &p.application_id)?,
            applicant: uuid("applicant_user_id", &p.applicant_user_id)?,
            status: p.to_status,
        },
        Payload::ApplicationStatusChanged(p) => Fact::ApplicationDecided {
            application: uuid("application_id", &p.application_id)?,
            applicant: uuid("applicant_user_id", &p.applicant_user_id)?,
            status: p.to_status,
        },
        Payload::FinancingOptionSelected(p) => Fact::OptionSelected {
            user: uuid("applicant_user_id", &p.applicant_user_id)?,
            option: uuid("option_id", &p.option_id)?,
            product_type: p.product_type,
        },
        // Money of loans moves through the ledger and arrives as
        // TransferPosted; voids and expiries move nothing.
        Payload::TransferVoided(_)
        | Payload::TransferExpired(_)
        | Payload::LoanDisbursed(_)
        | Payload::RepaymentReceived(_) => Fact::Nothing(None),
    })
}

/// What `event` contributes to the aggregates. The payload decides (the
/// type is only its label); an unknown payload contributes nothing.
pub fn fact(event: &Event) -> Fact {
    match &event.payload {
        None => Fact::Nothing(None),
        Some(payload) => interpret(payload).unwrap_or_else(|problem| Fact::Nothing(Some(problem))),
    }
}

#[cfg(test)]
mod tests {
    use bank_proto::bank::common::v1::Money;
    use bank_proto::bank::events::v1::{EventType, TransferPosted, UserLoggedIn};

    use super::*;

    fn event(payload: Option<Payload>) -> Event {
        Event {
            event_id: Uuid::now_v7().to_string(),
            r#type: EventType::TransferPosted as i32,
            payload,
            ..Event::default()
        }
    }

    #[test]
    fn usable_payloads_become_facts_and_others_nothing() {
        let user = Uuid::new_v4();
        assert_eq!(
            fact(&event(Some(Payload::UserLoggedIn(UserLoggedIn {
                user_id: user.to_string(),
                session_id: String::new(),
            })))),
            Fact::UserLoggedIn { user }
        );
        let transfer = TransferPosted {
            transfer_id: Uuid::new_v4().to_string(),
            debit_account_id: Uuid::new_v4().to_string(),
            credit_account_id: Uuid::new_v4().to_string(),
            amount: Some(Money {
                amount_minor: 0,
                currency: "USD".to_owned(),
            }),
            ..TransferPosted::default()
        };
        assert!(matches!(
            fact(&event(Some(Payload::TransferPosted(transfer)))),
            Fact::Nothing(Some(reason)) if reason.contains("positive")
        ));
        assert_eq!(fact(&event(None)), Fact::Nothing(None));
    }

    #[test]
    fn an_event_without_a_uuid_id_cannot_be_deduplicated() {
        let mut e = event(None);
        e.event_id = "not-a-uuid".to_owned();
        assert!(envelope(&e, Utc::now()).is_err());
        e.event_id = Uuid::now_v7().to_string();
        let now = Utc::now();
        assert_eq!(envelope(&e, now).map(|env| env.occurred_at).ok(), Some(now));
    }
}
