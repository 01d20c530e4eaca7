//! Finance service integration tests: the real Finance, Account, Transfer
//! and Auth services on port 0 with mTLS, each with its own fresh
//! PostgreSQL database, and the real Redis.

#![allow(clippy::unwrap_used, reason = "tests")]

mod applications;
mod approval;
mod events;
mod helpers;
mod idor;
mod options;
mod repayments;
mod state_machine;
mod validation;
