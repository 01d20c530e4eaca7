//! Account service integration tests: the real Account, Transfer and Auth
//! services on port 0 with mTLS, each with its own fresh PostgreSQL
//! database, and the real Redis.

#![allow(clippy::unwrap_used, reason = "tests")]

mod accounts;
mod cards;
mod events;
mod helpers;
mod idempotency;
mod idor;
mod internal;
mod logs;
mod profile;
mod purchases;
mod statements;
mod status;
mod validation;
