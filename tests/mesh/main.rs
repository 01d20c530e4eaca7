//! The whole mesh, as `bank up` runs it, tested through its public and
//! internal gRPC contracts over mTLS.

#![allow(clippy::unwrap_used, reason = "tests")]

mod attacks;
mod gateway;
mod hostile;
mod ledger_internal;
mod ledger_member;
mod platform;
mod rotation;
mod tracing;
