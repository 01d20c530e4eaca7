//! The shared gRPC server builder. Every bank service is served the same way:
//! a mutual-TLS listener, grpc.health.v1, server reflection (v1 and v1alpha,
//! listing only the services this process serves), a request span with the
//! request id, timeouts, per-connection and global concurrency limits with
//! load shedding, and graceful shutdown. Also the error helpers that turn
//! domain failures into `google.rpc` rich statuses.

mod admin;
mod aged;
mod errors;
pub mod fingerprint;
mod mesh;
pub mod metrics;
mod request_id;
mod server;

pub use admin::{READINESS_CHECK_TIMEOUT_MS, Readiness, dependency_checks, serve as serve_admin};
pub use errors::{
    ERROR_DOMAIN, FieldViolations, Reason, already_exists, failed_precondition, internal, not_found, permission_denied,
    resource_exhausted, unauthenticated, unavailable,
};
pub use fingerprint::Fingerprint;
pub use mesh::{
    BackgroundTask, REDIS_TIMEOUT_MS, ServiceDeps, redis_client, redis_manager, remote_verifier, shutdown_signal,
};
pub use request_id::{REQUEST_ID_HEADER, request_id};
pub use server::{
    CONCURRENCY_LIMIT_PER_CONNECTION, CONCURRENCY_LIMIT_TOTAL, MESSAGE_SIZE_MAX_BYTES, MeshServer,
    REQUEST_TIMEOUT_SECS, SHUTDOWN_GRACE_SECS,
};
