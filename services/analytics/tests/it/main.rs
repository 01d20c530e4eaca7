//! Analytics service integration tests: the real Analytics and Auth
//! services on port 0 with mTLS, each with its own fresh PostgreSQL
//! database, and the real Redis (a private redis-server where a test
//! restarts it). Events are written in the outbox relay's format, or by a
//! real relay.

#![allow(clippy::unwrap_used, reason = "tests")]

mod access;
mod consumption;
mod fraud;
mod helpers;
mod producers;
mod reliability;
mod spending;
mod summary;
mod validation;
mod watch;
