use tonic::Request;

/// Metadata key of the request id: set by the gateway (or the client) and
/// forwarded on every internal call, so one id follows a request through the
/// mesh and its logs.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest request id accepted from a caller; longer ones are ignored.
const REQUEST_ID_MAX_LEN: usize = 128;

/// The request id of `request`, when the caller sent a sane one.
pub fn request_id<T>(request: &Request<T>) -> Option<&str> {
    request
        .metadata()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= REQUEST_ID_MAX_LEN)
}
