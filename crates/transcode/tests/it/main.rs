//! Transcoding against the real bank contracts (`bank_proto::FILE_DESCRIPTOR_SET`)
//! plus a few synthetic ones: every public RPC reachable over REST, every
//! annotation form, bad input, fuzzing, responses and errors, OpenAPI.

#![allow(clippy::unwrap_used, reason = "tests")]

mod bad_input;
mod fuzz;
mod openapi;
mod requests;
mod responses;
mod routes;
mod support;
mod synthetic;
