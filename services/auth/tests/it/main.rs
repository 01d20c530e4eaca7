//! Auth service integration tests: the real service on port 0 with mTLS,
//! its own fresh PostgreSQL database and the real Redis.

#![allow(clippy::unwrap_used, reason = "tests")]

mod admin;
mod events;
mod helpers;
mod lifecycle;
mod login;
mod logs;
mod mtls;
mod sessions;
mod signup;
mod tokens;
