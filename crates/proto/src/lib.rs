//! Generated code for every bank contract in `proto/`: messages, tonic
//! clients and servers, and the encoded descriptor set that reflection and
//! the gateway's transcoder read.

#![allow(
    missing_debug_implementations,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    reason = "generated code"
)]

include!(concat!(env!("OUT_DIR"), "/bank_protos.rs"));

/// The encoded `google.protobuf.FileDescriptorSet` of every compiled proto,
/// imports included (well-known types, google.api, google.rpc).
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bank_descriptor.bin"));
