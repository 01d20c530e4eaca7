//! Every bound the transcoder puts on untrusted input, with its unit last.
//! The request body's byte size is bounded by the gateway before it gets here.

/// Most segments a path template or a request path may have. No bank route
/// comes close; a longer request path is a 404 without further work.
pub const PATH_SEGMENTS_MAX: usize = 32;

/// Most `name=value` pairs in a query string.
pub const QUERY_PARAMS_MAX: usize = 64;

/// Most bytes of a query string.
pub const QUERY_BYTES_MAX: usize = 8 * 1024;

/// Deepest nesting of JSON arrays and objects in a request body. serde_json
/// stops at 128 on its own; this lower bound is checked first by a cheap scan
/// so the recursive descent through the dynamic-message deserializer stays
/// far from a small (2 MiB) worker-thread stack. Bank messages nest < 8.
pub const JSON_NESTING_MAX: usize = 64;

/// Most components of a dotted field path (`period.year`), in a template or
/// in a query parameter name.
pub const FIELD_PATH_DEPTH_MAX: usize = 8;

/// Most field violations reported for one request; the rest are summarized.
pub const FIELD_VIOLATIONS_MAX: usize = 32;

/// How deep the OpenAPI document expands nested messages into dotted query
/// parameters (it stops at recursion regardless).
pub const OPENAPI_QUERY_DEPTH_MAX: usize = 4;

/// Upper bound on a Retry-After value derived from google.rpc.RetryInfo, in
/// seconds (a day): a backend can't ask clients to stay away forever.
pub const RETRY_AFTER_MAX_SECS: u64 = 24 * 60 * 60;
