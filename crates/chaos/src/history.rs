//! The record of every money-moving operation: the exact request (so it can
//! be sent again with the same request ids), how it ended, and, after the
//! faults healed, what a replay of it answered.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bank_proto::bank::transfer::v1 as pb;
use bank_proto::bank::transfer::v1::transfer_service_client::TransferServiceClient;
use tonic::Status;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

use crate::client::{Outcome, request};

/// The money-moving RPCs of the workload.
#[derive(Clone, Debug)]
pub enum Req {
    /// CreateTransfer.
    Transfer(pb::CreateTransferRequest),
    /// CreateTransfers.
    Batch(pb::CreateTransfersRequest),
    /// CreatePendingTransfer.
    Pending(pb::CreatePendingTransferRequest),
    /// PostPendingTransfer.
    Post(pb::PostPendingTransferRequest),
    /// VoidPendingTransfer.
    Void(pb::VoidPendingTransferRequest),
    /// Deposit.
    Deposit(pb::DepositRequest),
    /// Withdraw.
    Withdraw(pb::WithdrawRequest),
}

/// What a money-moving RPC answered.
#[derive(Clone, Debug)]
pub enum Reply {
    /// The transfer (Transfer, Pending, Deposit, Withdraw).
    One(Box<pb::Transfer>),
    /// Post and Void: the new transfer and the pending one.
    Resolve {
        /// The POST_PENDING or VOID_PENDING transfer.
        transfer: Box<pb::Transfer>,
        /// The pending transfer, resolved.
        pending: Box<pb::Transfer>,
    },
    /// CreateTransfers.
    Batch(pb::CreateTransfersResponse),
}

/// Kinds of operations, for the tables.
pub const KINDS: [&str; 7] = ["transfer", "batch", "pending", "post", "void", "deposit", "withdraw"];

impl Req {
    /// Its kind's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Transfer(_) => "transfer",
            Self::Batch(_) => "batch",
            Self::Pending(_) => "pending",
            Self::Post(_) => "post",
            Self::Void(_) => "void",
            Self::Deposit(_) => "deposit",
            Self::Withdraw(_) => "withdraw",
        }
    }

    /// Every request id it carries (one per batch item).
    pub fn request_ids(&self) -> Vec<String> {
        match self {
            Self::Transfer(r) => vec![r.request_id.clone()],
            Self::Batch(r) => r.transfers.iter().map(|t| t.request_id.clone()).collect(),
            Self::Pending(r) => vec![r.request_id.clone()],
            Self::Post(r) => vec![r.request_id.clone()],
            Self::Void(r) => vec![r.request_id.clone()],
            Self::Deposit(r) => vec![r.request_id.clone()],
            Self::Withdraw(r) => vec![r.request_id.clone()],
        }
    }

    /// Sends it once.
    pub async fn send(
        &self,
        client: &mut TransferServiceClient<Channel>,
        token: &MetadataValue<Ascii>,
        timeout: Duration,
    ) -> Result<Reply, Status> {
        let one = |t: Option<pb::Transfer>| {
            t.map(|t| Reply::One(Box::new(t)))
                .ok_or_else(|| Status::internal("no transfer in reply"))
        };
        match self {
            Self::Transfer(r) => one(client
                .create_transfer(request(r.clone(), Some(token), timeout))
                .await?
                .into_inner()
                .transfer),
            Self::Batch(r) => Ok(Reply::Batch(
                client
                    .create_transfers(request(r.clone(), Some(token), timeout))
                    .await?
                    .into_inner(),
            )),
            Self::Pending(r) => one(client
                .create_pending_transfer(request(r.clone(), Some(token), timeout))
                .await?
                .into_inner()
                .transfer),
            Self::Post(r) => {
                let reply = client
                    .post_pending_transfer(request(r.clone(), Some(token), timeout))
                    .await?
                    .into_inner();
                resolve(reply.transfer, reply.pending_transfer)
            }
            Self::Void(r) => {
                let reply = client
                    .void_pending_transfer(request(r.clone(), Some(token), timeout))
                    .await?
                    .into_inner();
                resolve(reply.transfer, reply.pending_transfer)
            }
            Self::Deposit(r) => one(client
                .deposit(request(r.clone(), Some(token), timeout))
                .await?
                .into_inner()
                .transfer),
            Self::Withdraw(r) => one(client
                .withdraw(request(r.clone(), Some(token), timeout))
                .await?
                .into_inner()
                .transfer),
        }
    }
}

fn resolve(transfer: Option<pb::Transfer>, pending: Option<pb::Transfer>) -> Result<Reply, Status> {
    match (transfer, pending) {
        (Some(transfer), Some(pending)) => Ok(Reply::Resolve {
            transfer: Box::new(transfer),
            pending: Box::new(pending),
        }),
        _ => Err(Status::internal("reply without its transfers")),
    }
}

/// One operation.
#[derive(Clone, Debug)]
pub struct Op {
    /// Index of the member who sent it.
    pub member: usize,
    /// The request, sent identically on every attempt.
    pub req: Req,
    /// How it ended.
    pub outcome: Outcome<Reply>,
    /// Attempts made.
    pub attempts: u32,
    /// Part of the set-up (before any fault).
    pub setup: bool,
    /// What sending it again after the faults healed answered.
    pub replay: Option<Outcome<Reply>>,
}

impl Op {
    /// The outcome that counts: the replay's when the original is unknown.
    pub fn resolved(&self) -> &Outcome<Reply> {
        match (&self.outcome, &self.replay) {
            (Outcome::Unknown(_), Some(replay)) => replay,
            (outcome, _) => outcome,
        }
    }
}

/// An account opened while the faults ran.
#[derive(Clone, Debug)]
pub struct Opened {
    /// Index of the member who opened it.
    pub member: usize,
    /// The request, sent identically on every attempt.
    pub req: bank_proto::bank::account::v1::OpenAccountRequest,
    /// How it ended.
    pub outcome: Outcome<bank_proto::bank::account::v1::Account>,
    /// What sending it again after the faults healed answered.
    pub replay: Option<Outcome<bank_proto::bank::account::v1::Account>>,
}

impl Opened {
    /// The outcome that counts: the replay's when the original is unknown.
    pub fn resolved(&self) -> &Outcome<bank_proto::bank::account::v1::Account> {
        match (&self.outcome, &self.replay) {
            (Outcome::Unknown(_), Some(replay)) => replay,
            (outcome, _) => outcome,
        }
    }
}

/// Everything the clients did.
#[derive(Debug, Default)]
pub struct History {
    ops: Mutex<Vec<Op>>,
    /// Accounts opened under faults.
    pub opens: Mutex<Vec<Opened>>,
    /// Balance reads made.
    pub reads: AtomicU64,
    /// Balance reads that failed (any error).
    pub reads_failed: AtomicU64,
    /// Reads that showed a negative posted or available balance.
    pub bad_reads: Mutex<Vec<String>>,
}

impl History {
    /// Records a finished operation.
    pub fn record(&self, op: Op) {
        self.ops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(op);
    }

    /// A copy of every operation.
    pub fn ops(&self) -> Vec<Op> {
        self.ops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the operations (after replays were added).
    pub fn replace(&self, ops: Vec<Op>) {
        *self.ops.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = ops;
    }

    /// Counts a read.
    pub fn read(&self, ok: bool) {
        self.reads.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.reads_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records an impossible read.
    pub fn bad_read(&self, what: String) {
        self.bad_reads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(what);
    }
}
