//! The bank workload: members signed up through the gateway, each with a
//! USD checking, a USD savings and a EUR checking account funded by
//! Deposit; then concurrent clients doing transfers, batches (with linked
//! chains), pending transfers that are posted (fully or partly), voided or
//! left to expire, deposits, withdrawals and balance reads, until the
//! deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bank_proto::bank::account::v1 as account;
use bank_proto::bank::auth::v1 as auth;
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as pb;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use tonic::Code;
use tonic::metadata::{Ascii, MetadataValue};

use crate::client::{Clients, CodeTally, Outcome, Retry, bearer, request, with_retries};
use crate::history::{History, Op, Opened, Reply, Req};
use crate::mesh::CURRENCIES;

/// Password of every member.
const MEMBER_PASSWORD: &str = "chaos member passphrase 4242";
/// What each account gets at set-up, in minor units.
pub const INITIAL_DEPOSIT_MINOR: i64 = 1_000_000;
/// Members set up at once (sign-up and log-in hash with argon2).
const SETUP_CONCURRENCY: usize = 4;
/// Longest reservation of a pending transfer.
pub const PENDING_TIMEOUT_MAX_SECS: i32 = 8;
/// Longest pause between creating a pending transfer and posting or voiding it.
const PENDING_HOLD_MAX_MS: u64 = 1_500;
/// Accounts a member may have (Account allows 10 that are not closed).
const ACCOUNTS_PER_MEMBER_MAX: usize = 9;
/// Items of a batch.
const BATCH_ITEMS: std::ops::RangeInclusive<usize> = 2..=5;

/// A member and their credentials.
#[derive(Debug, Clone)]
pub struct Member {
    /// `Bearer <access token>`.
    pub token: MetadataValue<Ascii>,
    /// Indexes into [`World::accounts`].
    pub accounts: Vec<usize>,
}

/// One customer account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Account id (= ledger account id).
    pub id: String,
    /// Its currency.
    pub currency: &'static str,
    /// Index of its owner in [`World::members`].
    pub owner: usize,
}

/// The bank's customers.
#[derive(Debug)]
pub struct World {
    /// Members.
    pub members: Vec<Member>,
    /// Their accounts.
    pub accounts: Vec<Account>,
    /// The bootstrap admin's `Bearer` token.
    pub admin: MetadataValue<Ascii>,
}

fn money(amount_minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        amount_minor,
        currency: currency.to_owned(),
    })
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn login(
    clients: &Clients,
    tally: &CodeTally,
    email: &str,
    password: &str,
) -> anyhow::Result<auth::LoginResponse> {
    let (outcome, _) = with_retries(Retry::PATIENT, tally, |timeout| {
        let mut auth = clients.auth.clone();
        let message = auth::LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        async move { Ok(auth.login(request(message, None, timeout)).await?.into_inner()) }
    })
    .await;
    match outcome {
        Outcome::Ok(reply) => Ok(reply),
        Outcome::Refused(r) => anyhow::bail!("log-in of {email} refused: {:?} {}", r.code, r.message),
        Outcome::Unknown(e) => anyhow::bail!("log-in of {email}: {e}"),
    }
}

async fn setup_member(
    clients: Clients,
    tally: Arc<CodeTally>,
    history: Arc<History>,
    index: usize,
    run_tag: String,
) -> anyhow::Result<(Member, Vec<Account>)> {
    let email = format!("member{index}-{run_tag}@chaos.test");
    let (outcome, _) = with_retries(Retry::PATIENT, &tally, |timeout| {
        let mut auth = clients.auth.clone();
        let message = auth::SignUpRequest {
            email: email.clone(),
            password: MEMBER_PASSWORD.to_owned(),
        };
        async move { Ok(auth.sign_up(request(message, None, timeout)).await?.into_inner()) }
    })
    .await;
    match outcome {
        Outcome::Ok(_) => {}
        // A retried sign-up whose first attempt went through.
        Outcome::Refused(r) if r.code == Code::AlreadyExists => {}
        Outcome::Refused(r) => anyhow::bail!("sign-up of {email} refused: {:?} {}", r.code, r.message),
        Outcome::Unknown(e) => anyhow::bail!("sign-up of {email}: {e}"),
    }
    let reply = login(&clients, &tally, &email, MEMBER_PASSWORD).await?;
    let token = bearer(&reply.tokens.context("no tokens")?.access_token)?;
    let kinds = [
        (account::AccountType::Checking, "USD"),
        (account::AccountType::Savings, "USD"),
        (account::AccountType::Checking, "EUR"),
    ];
    let mut accounts = Vec::new();
    for (kind, currency) in kinds {
        let message = account::OpenAccountRequest {
            request_id: new_id(),
            r#type: kind as i32,
            currency: currency.to_owned(),
            display_name: String::new(),
        };
        let opened = match open_account(&clients, &tally, &token, &message, Retry::PATIENT).await {
            Outcome::Ok(account) => account,
            Outcome::Refused(r) => anyhow::bail!("opening an account refused: {:?} {}", r.code, r.message),
            Outcome::Unknown(e) => anyhow::bail!("opening an account: {e}"),
        };
        let currency = CURRENCIES
            .iter()
            .find(|c| **c == opened.currency)
            .copied()
            .context("account in an unexpected currency")?;
        accounts.push(Account {
            id: opened.account_id,
            currency,
            owner: index,
        });
    }
    for account in &accounts {
        let req = Req::Deposit(pb::DepositRequest {
            request_id: new_id(),
            account_id: account.id.clone(),
            amount: money(INITIAL_DEPOSIT_MINOR, account.currency),
            description: "chaos: initial funds".to_owned(),
        });
        let (outcome, attempts) = send(&clients, &tally, &token, &req, Retry::PATIENT).await;
        anyhow::ensure!(
            matches!(outcome, Outcome::Ok(_)),
            "initial deposit did not go through: {outcome:?}"
        );
        history.record(Op {
            member: index,
            req,
            outcome,
            attempts,
            setup: true,
            replay: None,
        });
    }
    Ok((
        Member {
            token,
            accounts: Vec::new(),
        },
        accounts,
    ))
}

/// Opens an account as the member with `token`, retrying unknown outcomes
/// with the same request.
pub async fn open_account(
    clients: &Clients,
    tally: &CodeTally,
    token: &MetadataValue<Ascii>,
    req: &account::OpenAccountRequest,
    retry: Retry,
) -> Outcome<account::Account> {
    let (outcome, _) = with_retries(retry, tally, |timeout| {
        let mut accounts = clients.accounts.clone();
        let request = request(req.clone(), Some(token), timeout);
        async move {
            accounts
                .open_account(request)
                .await?
                .into_inner()
                .account
                .ok_or_else(|| tonic::Status::internal("no account in reply"))
        }
    })
    .await;
    outcome
}

/// Sends `req` as the member with `token`, retrying unknown outcomes.
pub async fn send(
    clients: &Clients,
    tally: &CodeTally,
    token: &MetadataValue<Ascii>,
    req: &Req,
    retry: Retry,
) -> (Outcome<Reply>, u32) {
    with_retries(retry, tally, |timeout| {
        let mut transfers = clients.transfers.clone();
        let token = token.clone();
        let req = req.clone();
        async move { req.send(&mut transfers, &token, timeout).await }
    })
    .await
}

/// Signs up `members` members, opens and funds their accounts, and logs
/// the admin in.
pub async fn bootstrap(
    clients: &Clients,
    tally: Arc<CodeTally>,
    history: Arc<History>,
    members: usize,
    admin: (&str, &str),
) -> anyhow::Result<World> {
    let reply = login(clients, &tally, admin.0, admin.1).await.context("admin log-in")?;
    let admin = bearer(&reply.tokens.context("no tokens")?.access_token)?;
    let run_tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(SETUP_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..members {
        let (clients, tally, history, run_tag, semaphore) = (
            clients.clone(),
            tally.clone(),
            history.clone(),
            run_tag.clone(),
            semaphore.clone(),
        );
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await?;
            setup_member(clients, tally, history, index, run_tag).await
        });
    }
    let mut set_up = Vec::new();
    while let Some(done) = tasks.join_next().await {
        set_up.push(done??);
    }
    set_up.sort_by_key(|(_, accounts)| accounts.first().map(|a| a.owner));
    let mut world = World {
        members: Vec::new(),
        accounts: Vec::new(),
        admin,
    };
    for (mut member, accounts) in set_up {
        for account in accounts {
            member.accounts.push(world.accounts.len());
            world.accounts.push(account);
        }
        world.members.push(member);
    }
    Ok(world)
}

/// Shared by the workers.
#[derive(Debug, Clone)]
pub struct Workers {
    /// The customers.
    pub world: Arc<World>,
    /// What happened.
    pub history: Arc<History>,
    /// Failed attempts by code.
    pub tally: Arc<CodeTally>,
    /// No new operation starts after this.
    pub deadline: Instant,
}

impl Workers {
    fn amount(rng: &mut StdRng) -> i64 {
        // Mostly small; sometimes more than an account holds.
        if rng.random_bool(0.1) {
            rng.random_range(200_000..=2_500_000)
        } else {
            rng.random_range(1..=30_000)
        }
    }

    /// A random account of `currency` other than `not`.
    fn other_account(&self, rng: &mut StdRng, currency: &str, not: &str) -> Option<&Account> {
        let candidates: Vec<&Account> = self
            .world
            .accounts
            .iter()
            .filter(|a| a.currency == currency && a.id != not)
            .collect();
        if candidates.is_empty() {
            None
        } else {
            Some(candidates[rng.random_range(0..candidates.len())])
        }
    }

    fn own_account(&self, rng: &mut StdRng, member: usize) -> Option<&Account> {
        let accounts = &self.world.members.get(member)?.accounts;
        if accounts.is_empty() {
            return None;
        }
        self.world.accounts.get(accounts[rng.random_range(0..accounts.len())])
    }

    async fn op(&self, clients: &Clients, member: usize, req: Req) -> Outcome<Reply> {
        let Some(token) = self.world.members.get(member).map(|m| m.token.clone()) else {
            return Outcome::Unknown("no such member".to_owned());
        };
        let (outcome, attempts) = send(clients, &self.tally, &token, &req, Retry::RUN).await;
        self.history.record(Op {
            member,
            req,
            outcome: outcome.clone(),
            attempts,
            setup: false,
            replay: None,
        });
        outcome
    }

    /// One client: random operations as random members until the deadline.
    pub async fn run(self, clients: Clients, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        while Instant::now() < self.deadline {
            let member = rng.random_range(0..self.world.members.len().max(1));
            let Some(from) = self.own_account(&mut rng, member).cloned() else {
                return;
            };
            let roll = rng.random_range(0..100);
            match roll {
                0..=24 => {
                    let Some(to) = self.other_account(&mut rng, from.currency, &from.id).cloned() else {
                        continue;
                    };
                    let req = Req::Transfer(pb::CreateTransferRequest {
                        request_id: new_id(),
                        from_account_id: from.id.clone(),
                        destination: Some(pb::create_transfer_request::Destination::ToAccountId(to.id)),
                        amount: money(Self::amount(&mut rng), from.currency),
                        description: "chaos transfer".to_owned(),
                        reference: String::new(),
                    });
                    self.op(&clients, member, req).await;
                }
                25..=36 => self.batch(&clients, &mut rng, member).await,
                37..=54 => self.pending_flow(&clients, &mut rng, member, &from).await,
                55..=66 => {
                    let req = Req::Deposit(pb::DepositRequest {
                        request_id: new_id(),
                        account_id: from.id.clone(),
                        amount: money(rng.random_range(1..=50_000), from.currency),
                        description: "chaos deposit".to_owned(),
                    });
                    self.op(&clients, member, req).await;
                }
                67..=80 => {
                    let req = Req::Withdraw(pb::WithdrawRequest {
                        request_id: new_id(),
                        account_id: from.id.clone(),
                        amount: money(Self::amount(&mut rng), from.currency),
                        description: "chaos withdrawal".to_owned(),
                    });
                    self.op(&clients, member, req).await;
                }
                81..=96 => self.read(&clients, member, &from).await,
                _ => self.open_flow(&clients, &mut rng, member).await,
            }
        }
    }

    async fn batch(&self, clients: &Clients, rng: &mut StdRng, member: usize) {
        let n = rng.random_range(BATCH_ITEMS);
        let mut items = Vec::with_capacity(n);
        for i in 0..n {
            let Some(from) = self.own_account(rng, member).cloned() else {
                return;
            };
            let Some(to) = self.other_account(rng, from.currency, &from.id).cloned() else {
                return;
            };
            let last = i + 1 == n;
            items.push(pb::TransferItem {
                request_id: new_id(),
                from_account_id: from.id,
                destination: Some(pb::transfer_item::Destination::ToAccountId(to.id)),
                amount: money(Self::amount(rng), from.currency),
                description: "chaos batch item".to_owned(),
                reference: String::new(),
                linked: if last {
                    rng.random_bool(0.05)
                } else {
                    rng.random_bool(0.3)
                },
            });
        }
        let req = Req::Batch(pb::CreateTransfersRequest { transfers: items });
        self.op(clients, member, req).await;
    }

    async fn pending_flow(&self, clients: &Clients, rng: &mut StdRng, member: usize, from: &Account) {
        let Some(to) = self.other_account(rng, from.currency, &from.id).cloned() else {
            return;
        };
        let amount = Self::amount(rng);
        let req = Req::Pending(pb::CreatePendingTransferRequest {
            request_id: new_id(),
            from_account_id: from.id.clone(),
            destination: Some(pb::create_pending_transfer_request::Destination::ToAccountId(to.id)),
            amount: money(amount, from.currency),
            timeout_seconds: rng.random_range(1..=PENDING_TIMEOUT_MAX_SECS),
            description: "chaos reservation".to_owned(),
            reference: String::new(),
        });
        let Outcome::Ok(Reply::One(pending)) = self.op(clients, member, req).await else {
            return;
        };
        let action = rng.random_range(0..100);
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..=PENDING_HOLD_MAX_MS))).await;
        let req = match action {
            0..=39 => Req::Post(pb::PostPendingTransferRequest {
                request_id: new_id(),
                transfer_id: pending.transfer_id,
                amount: None,
            }),
            40..=54 => Req::Post(pb::PostPendingTransferRequest {
                request_id: new_id(),
                transfer_id: pending.transfer_id,
                amount: money(rng.random_range(1..=amount), from.currency),
            }),
            55..=84 => Req::Void(pb::VoidPendingTransferRequest {
                request_id: new_id(),
                transfer_id: pending.transfer_id,
            }),
            // Left to expire.
            _ => return,
        };
        self.op(clients, member, req).await;
    }

    /// Opens an account under faults, funds it and sends money from it
    /// (the ledger then learns a new account's facts from Account).
    async fn open_flow(&self, clients: &Clients, rng: &mut StdRng, member: usize) {
        let Some(token) = self.world.members.get(member).map(|m| m.token.clone()) else {
            return;
        };
        let opened_before = lock(&self.history.opens).iter().filter(|o| o.member == member).count();
        if self.world.members[member].accounts.len() + opened_before >= ACCOUNTS_PER_MEMBER_MAX {
            return;
        }
        let currency = CURRENCIES[rng.random_range(0..CURRENCIES.len())];
        let req = account::OpenAccountRequest {
            request_id: new_id(),
            r#type: account::AccountType::Checking as i32,
            currency: currency.to_owned(),
            display_name: "opened under faults".to_owned(),
        };
        let outcome = open_account(clients, &self.tally, &token, &req, Retry::RUN).await;
        lock(&self.history.opens).push(Opened {
            member,
            req,
            outcome: outcome.clone(),
            replay: None,
        });
        let Outcome::Ok(opened) = outcome else {
            return;
        };
        let deposit = Req::Deposit(pb::DepositRequest {
            request_id: new_id(),
            account_id: opened.account_id.clone(),
            amount: money(rng.random_range(1..=50_000), currency),
            description: "chaos: new account".to_owned(),
        });
        self.op(clients, member, deposit).await;
        let Some(to) = self.other_account(rng, currency, &opened.account_id).cloned() else {
            return;
        };
        let transfer = Req::Transfer(pb::CreateTransferRequest {
            request_id: new_id(),
            from_account_id: opened.account_id,
            destination: Some(pb::create_transfer_request::Destination::ToAccountId(to.id)),
            amount: money(rng.random_range(1..=60_000), currency),
            description: "chaos: from a new account".to_owned(),
            reference: String::new(),
        });
        self.op(clients, member, transfer).await;
    }

    async fn read(&self, clients: &Clients, member: usize, account: &Account) {
        let Some(token) = self.world.members.get(member).map(|m| m.token.clone()) else {
            return;
        };
        let (outcome, _) = with_retries(Retry::RUN, &self.tally, |timeout| {
            let mut transfers = clients.transfers.clone();
            let message = pb::GetBalanceRequest {
                account_id: account.id.clone(),
            };
            let request = request(message, Some(&token), timeout);
            async move { Ok(transfers.get_balance(request).await?.into_inner()) }
        })
        .await;
        let Outcome::Ok(reply) = outcome else {
            self.history.read(false);
            return;
        };
        self.history.read(true);
        let Some(balance) = reply.balance else {
            self.history
                .bad_read(format!("{}: a balance reply without a balance", account.id));
            return;
        };
        let minor = |m: &Option<Money>| m.as_ref().map_or(0, |m| m.amount_minor);
        let (posted, available, pending_debits) = (
            minor(&balance.posted),
            minor(&balance.available),
            minor(&balance.pending_debits),
        );
        if posted < 0 || available < 0 || pending_debits < 0 {
            self.history.bad_read(format!(
                "{}: posted {posted}, available {available}, pending debits {pending_debits}",
                account.id
            ));
        }
    }
}
