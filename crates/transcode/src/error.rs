//! The two error types: [`Error`] when the routes cannot be built (a contract
//! bug, found at start-up) and [`TranscodeError`] when one request cannot be
//! transcoded (the client's fault, or a response we cannot render).

use serde_json::{Value as Json, json};

use crate::limits::FIELD_VIOLATIONS_MAX;

/// `google.rpc.ErrorInfo.domain` of the errors the transcoder itself raises;
/// the same domain every bank service uses.
pub const ERROR_DOMAIN: &str = "bank.local";

/// ErrorInfo reason for a path that no route matches.
pub const REASON_ROUTE_NOT_FOUND: &str = "ROUTE_NOT_FOUND";
/// ErrorInfo reason for a path that exists under other HTTP methods only.
pub const REASON_METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
/// ErrorInfo reason for a response the gateway could not render as JSON.
pub const REASON_RESPONSE_NOT_RENDERABLE: &str = "RESPONSE_NOT_RENDERABLE";

/// The routes could not be built from the descriptors. Every variant names
/// the RPC so the contract can be fixed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The encoded descriptor set did not decode.
    #[error("descriptor set: {0}")]
    Descriptors(#[from] prost_reflect::DescriptorError),
    /// A `google.api.http` rule is malformed (template, body, response_body,
    /// variable naming a field that doesn't exist or can't be set from text).
    #[error("{rpc}: {pattern}: {reason}")]
    InvalidRule {
        /// Full name of the RPC, `bank.account.v1.AccountService.GetAccount`.
        rpc: String,
        /// The rule's `METHOD /template`.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
    /// Two rules with the same HTTP method match exactly the same paths.
    #[error("{method} {template}: routes of {first} and {second} match the same paths")]
    AmbiguousRoute {
        /// HTTP method.
        method: String,
        /// The second template (the first one has the same shape).
        template: String,
        /// RPC of the first rule.
        first: String,
        /// RPC of the second rule.
        second: String,
    },
}

/// One problem with one field of a request, as in google.rpc.BadRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Proto field path (`amount.minor_units`, `items[2].request_id`); empty
    /// for the request as a whole.
    pub field: String,
    /// What is wrong, for a human.
    pub description: String,
}

impl FieldViolation {
    pub(crate) fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        FieldViolation {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Why one REST request could not be transcoded. Render it with
/// [`TranscodeError::http_status`] and [`TranscodeError::to_json`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscodeError {
    /// No route has this path (HTTP 404, gRPC NOT_FOUND).
    #[error("no route matches {method} {path}")]
    NotFound {
        /// The request's HTTP method.
        method: String,
        /// The request's path, truncated.
        path: String,
    },
    /// The path exists, under other methods only (HTTP 405, gRPC
    /// UNIMPLEMENTED). `allowed` is for the `Allow` header.
    #[error("{method} is not allowed here; allowed: {}", allowed.join(", "))]
    MethodNotAllowed {
        /// The request's HTTP method.
        method: String,
        /// Methods that do have a route for this path, sorted.
        allowed: Vec<String>,
    },
    /// The request is malformed (HTTP 400, gRPC INVALID_ARGUMENT), with one
    /// violation per problem found.
    #[error("{message}")]
    BadRequest {
        /// Summary.
        message: String,
        /// Each problem, at most [`FIELD_VIOLATIONS_MAX`].
        violations: Vec<FieldViolation>,
    },
    /// The backend's response could not be rendered as JSON (HTTP 500, gRPC
    /// INTERNAL), for example a Timestamp out of the JSON range or an Any of
    /// a type not in the descriptor pool.
    #[error("response could not be rendered as JSON: {0}")]
    Render(String),
}

const PATH_ECHO_MAX_CHARS: usize = 256;

impl TranscodeError {
    pub(crate) fn not_found(method: &str, path: &str) -> Self {
        TranscodeError::NotFound {
            method: truncate(method, PATH_ECHO_MAX_CHARS),
            path: truncate(path, PATH_ECHO_MAX_CHARS),
        }
    }

    pub(crate) fn bad_request(violations: Vec<FieldViolation>) -> Self {
        let total = violations.len();
        let mut violations = violations;
        violations.truncate(FIELD_VIOLATIONS_MAX);
        let mut message = String::from("invalid request: ");
        let shown: Vec<String> = violations
            .iter()
            .take(3)
            .map(|v| {
                if v.field.is_empty() {
                    v.description.clone()
                } else {
                    format!("{}: {}", v.field, v.description)
                }
            })
            .collect();
        message.push_str(&shown.join("; "));
        if total > shown.len() {
            message.push_str(&format!(" (and {} more)", total - shown.len()));
        }
        TranscodeError::BadRequest { message, violations }
    }

    pub(crate) fn one(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::bad_request(vec![FieldViolation::new(field, description)])
    }

    /// The HTTP status to answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            TranscodeError::NotFound { .. } => 404,
            TranscodeError::MethodNotAllowed { .. } => 405,
            TranscodeError::BadRequest { .. } => 400,
            TranscodeError::Render(_) => 500,
        }
    }

    /// The google.rpc.Code the error stands for (for logs, metrics and the
    /// body's `code`).
    pub fn grpc_code(&self) -> i32 {
        match self {
            TranscodeError::NotFound { .. } => 5,
            TranscodeError::MethodNotAllowed { .. } => 12,
            TranscodeError::BadRequest { .. } => 3,
            TranscodeError::Render(_) => 13,
        }
    }

    /// The value of the `Allow` header for a 405.
    pub fn allow_header(&self) -> Option<String> {
        match self {
            TranscodeError::MethodNotAllowed { allowed, .. } => Some(allowed.join(", ")),
            _ => None,
        }
    }

    /// The body: a google.rpc.Status in proto3 JSON, with a
    /// google.rpc.BadRequest (400) or google.rpc.ErrorInfo (404, 405, 500)
    /// detail, shaped exactly like the errors the services return.
    pub fn to_json(&self) -> Vec<u8> {
        let detail = match self {
            TranscodeError::BadRequest { violations, .. } => json!({
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": violations
                    .iter()
                    .map(|v| json!({"field": v.field, "description": v.description}))
                    .collect::<Vec<_>>(),
            }),
            TranscodeError::NotFound { method, .. } => error_info(REASON_ROUTE_NOT_FOUND, json!({"method": method})),
            TranscodeError::MethodNotAllowed { method, allowed } => error_info(
                REASON_METHOD_NOT_ALLOWED,
                json!({"method": method, "allowed": allowed.join(", ")}),
            ),
            TranscodeError::Render(_) => error_info(REASON_RESPONSE_NOT_RENDERABLE, json!({})),
        };
        let body: Json = json!({
            "code": self.grpc_code(),
            "message": self.to_string(),
            "details": [detail],
        });
        body.to_string().into_bytes()
    }
}

fn error_info(reason: &str, metadata: Json) -> Json {
    json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": ERROR_DOMAIN,
        "metadata": metadata,
    })
}

pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
