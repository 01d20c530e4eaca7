//! What the ledger needs to know from the Account service: who owns an
//! account, its currency and its number. Ownership, currency and number
//! never change once an account exists, so answers are cached for the life
//! of the process (bounded); status is never cached: the ledger holds it.

use std::collections::HashMap;
use std::sync::RwLock;

use bank_mtls::MeshChannel;
use bank_proto::bank::account::v1 as account;
use bank_proto::bank::account::v1::account_internal_service_client::AccountInternalServiceClient;
use tonic::{Code, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

use crate::domain::AccountNumber;

/// Cached accounts before the cache is cleared and refilled.
const CACHE_ENTRIES_MAX: usize = 100_000;
/// Largest BatchGetAccountFacts request (the account service's limit).
const BATCH_FACTS_MAX: usize = 2_000;

/// The immutable facts of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// Account (= ledger account) id.
    pub account_id: Uuid,
    /// Owner; `None` for system accounts.
    pub owner: Option<Uuid>,
    /// ISO-4217 code.
    pub currency: String,
    /// 12-digit number.
    pub number: String,
}

/// How a request names the destination.
#[derive(Clone, Debug)]
pub enum Destination {
    /// By id.
    Id(Uuid),
    /// By account number.
    Number(AccountNumber),
}

/// Why the directory could not answer.
#[derive(Debug)]
pub enum LookupError {
    /// The account does not exist; `field` names the request field.
    NotFound {
        /// `from_account_id`, `to_account_id` or `to_account_number`.
        field: &'static str,
    },
    /// The account service refused or failed; passed on.
    Upstream(Status),
}

#[derive(Default)]
struct Cache {
    by_id: HashMap<Uuid, Facts>,
    by_number: HashMap<String, Uuid>,
}

/// The account facts client with its cache.
pub struct Directory {
    client: AccountInternalServiceClient<MeshChannel>,
    cache: RwLock<Cache>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").finish_non_exhaustive()
    }
}

fn to_facts(facts: &account::AccountFacts) -> Option<Facts> {
    Some(Facts {
        account_id: Uuid::parse_str(&facts.account_id).ok()?,
        owner: Uuid::parse_str(&facts.owner_user_id).ok(),
        currency: facts.currency.clone(),
        number: facts.account_number.clone(),
    })
}

impl Directory {
    /// A directory asking the account service behind `channel`.
    pub fn new(channel: MeshChannel) -> Self {
        Self {
            client: AccountInternalServiceClient::new(channel),
            cache: RwLock::new(Cache::default()),
        }
    }

    fn cached(&self, id: Uuid) -> Option<Facts> {
        self.cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_id
            .get(&id)
            .cloned()
    }

    fn cached_number(&self, number: &AccountNumber) -> Option<Facts> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let id = cache.by_number.get(number.as_str())?;
        cache.by_id.get(id).cloned()
    }

    fn remember(&self, facts: &Facts) {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        if cache.by_id.len() >= CACHE_ENTRIES_MAX {
            *cache = Cache::default();
        }
        cache.by_number.insert(facts.number.clone(), facts.account_id);
        cache.by_id.insert(facts.account_id, facts.clone());
    }

    fn resolve_cached(&self, destination: &Destination) -> Option<Facts> {
        match destination {
            Destination::Id(id) => self.cached(*id),
            Destination::Number(number) => self.cached_number(number),
        }
    }

    /// The facts of a transfer's source and destination.
    pub async fn transfer_pair(&self, user: Uuid, from: Uuid, to: &Destination) -> Result<(Facts, Facts), LookupError> {
        if let (Some(source), Some(destination)) = (self.cached(from), self.resolve_cached(to)) {
            return Ok((source, destination));
        }
        let request = account::CheckTransferAccessRequest {
            user_id: user.to_string(),
            from_account_id: from.to_string(),
            destination: Some(match to {
                Destination::Id(id) => account::check_transfer_access_request::Destination::ToAccountId(id.to_string()),
                Destination::Number(n) => {
                    account::check_transfer_access_request::Destination::ToAccountNumber(n.as_str().to_owned())
                }
            }),
        };
        let response = match self.client.clone().check_transfer_access(request).await {
            Ok(response) => response.into_inner(),
            Err(status) if status.code() == Code::NotFound => {
                let field = status
                    .get_error_details()
                    .error_info()
                    .and_then(|info| info.metadata.get("field").cloned())
                    .unwrap_or_default();
                return Err(LookupError::NotFound {
                    field: match field.as_str() {
                        "from_account_id" => "from_account_id",
                        "to_account_number" => "to_account_number",
                        _ => match to {
                            Destination::Id(_) => "to_account_id",
                            Destination::Number(_) => "to_account_number",
                        },
                    },
                });
            }
            Err(status) => return Err(LookupError::Upstream(status)),
        };
        let source = response.source.as_ref().and_then(to_facts);
        let destination = response.destination.as_ref().and_then(to_facts);
        match (source, destination) {
            (Some(source), Some(destination)) => {
                self.remember(&source);
                self.remember(&destination);
                Ok((source, destination))
            }
            _ => Err(LookupError::Upstream(Status::internal(
                "account service answered without facts",
            ))),
        }
    }

    /// Facts of many accounts by id and number; unknown ones are absent.
    pub async fn many(&self, ids: &[Uuid], numbers: &[AccountNumber]) -> Result<Vec<Facts>, Status> {
        let mut found = Vec::new();
        let mut missing_ids = Vec::new();
        let mut missing_numbers = Vec::new();
        for id in ids {
            match self.cached(*id) {
                Some(facts) => found.push(facts),
                None => missing_ids.push(id.to_string()),
            }
        }
        for number in numbers {
            match self.cached_number(number) {
                Some(facts) => found.push(facts),
                None => missing_numbers.push(number.as_str().to_owned()),
            }
        }
        missing_ids.sort();
        missing_ids.dedup();
        missing_numbers.sort();
        missing_numbers.dedup();
        let mut pending_ids = missing_ids.as_slice();
        let mut pending_numbers = missing_numbers.as_slice();
        while !pending_ids.is_empty() || !pending_numbers.is_empty() {
            let take_ids = pending_ids.len().min(BATCH_FACTS_MAX);
            let take_numbers = pending_numbers.len().min(BATCH_FACTS_MAX - take_ids);
            let request = account::BatchGetAccountFactsRequest {
                account_ids: pending_ids[..take_ids].to_vec(),
                account_numbers: pending_numbers[..take_numbers].to_vec(),
            };
            pending_ids = &pending_ids[take_ids..];
            pending_numbers = &pending_numbers[take_numbers..];
            let response = self.client.clone().batch_get_account_facts(request).await?.into_inner();
            for facts in response.accounts.iter().filter_map(to_facts) {
                self.remember(&facts);
                found.push(facts);
            }
        }
        Ok(found)
    }

    /// Facts of one account, if it exists.
    pub async fn one(&self, id: Uuid) -> Result<Option<Facts>, Status> {
        Ok(self.many(&[id], &[]).await?.into_iter().find(|f| f.account_id == id))
    }
}
