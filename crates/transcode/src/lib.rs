//! REST/JSON transcoding for the gateway, driven only by descriptors: routes
//! from `google.api.http` rules, JSON request -> request message, response
//! message -> JSON (proto3 JSON mapping), gRPC status -> HTTP status and
//! google.rpc.Status error bodies, and an OpenAPI document of it all.
//!
//! ```no_run
//! # fn demo(pool: prost_reflect::DescriptorPool) -> Result<(), Box<dyn std::error::Error>> {
//! let transcoder = bank_transcode::Transcoder::new(pool)?;
//! let m = transcoder.match_route("POST", "/v1/accounts/3f1c.../cards")?;
//! let request = transcoder.build_request(&m, None, br#"{"requestId":"r1"}"#, Some("r1"))?;
//! // call m.route().grpc_path() with request.encode_to_vec(), then:
//! # let response_bytes: Vec<u8> = Vec::new();
//! let json = transcoder.render_response_bytes(&m, &response_bytes)?;
//! # Ok(()) }
//! ```

mod docs;
mod error;
mod limits;
mod openapi;
mod request;
mod response;
mod routes;
mod template;
mod wkt;

use prost_reflect::{DescriptorPool, DynamicMessage};

pub use docs::docs_html;
pub use error::{
    ERROR_DOMAIN, Error, FieldViolation, REASON_METHOD_NOT_ALLOWED, REASON_RESPONSE_NOT_RENDERABLE,
    REASON_ROUTE_NOT_FOUND, TranscodeError,
};
pub use limits::{
    FIELD_PATH_DEPTH_MAX, FIELD_VIOLATIONS_MAX, JSON_NESTING_MAX, OPENAPI_QUERY_DEPTH_MAX, PATH_SEGMENTS_MAX,
    QUERY_BYTES_MAX, QUERY_PARAMS_MAX, RETRY_AFTER_MAX_SECS,
};
pub use request::REQUEST_ID_FIELD;
pub use response::{retry_after_secs, status_to_http};
pub use routes::{Route, RouteMatch};

/// Content type of a unary REST response and of error bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json";
/// Content type of a server-streaming REST response: one JSON value a line.
pub const NDJSON_CONTENT_TYPE: &str = "application/x-ndjson";

/// Every REST route of a descriptor pool, and the conversions between REST
/// and the RPCs behind them. Build it once at start-up; it is immutable and
/// `Send + Sync`, share it behind an `Arc`.
#[derive(Debug)]
pub struct Transcoder {
    pool: DescriptorPool,
    router: routes::Router,
}

impl Transcoder {
    /// Collects the `google.api.http` rules (with `additional_bindings`) of
    /// every method of every service not named `*InternalService`. Fails on
    /// a malformed template, a variable, body or response_body naming a
    /// field that doesn't fit, a client-streaming RPC with a rule, or two
    /// rules of one HTTP method matching the same paths.
    pub fn new(pool: DescriptorPool) -> Result<Self, Error> {
        let router = routes::Router::build(&pool)?;
        Ok(Transcoder { pool, router })
    }

    /// [`Transcoder::new`] from an encoded `FileDescriptorSet`
    /// (`bank_proto::FILE_DESCRIPTOR_SET`).
    pub fn from_file_descriptor_set(bytes: &[u8]) -> Result<Self, Error> {
        Self::new(DescriptorPool::decode(bytes)?)
    }

    /// The descriptor pool the routes were built from.
    pub fn pool(&self) -> &DescriptorPool {
        &self.pool
    }

    /// Every route, most specific template first.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.router.routes()
    }

    /// Finds the route for `http_method` (upper case, e.g. `GET`) and `path`
    /// (no query string, still percent-encoded). `NotFound` when no route has
    /// this path, `MethodNotAllowed` (with the allowed methods) when it
    /// exists under other methods, `BadRequest` when a path variable is not
    /// UTF-8 once decoded. Among matching templates the most specific wins:
    /// a custom verb, then literal segments before `*` before `**`.
    pub fn match_route(&self, http_method: &str, path: &str) -> Result<RouteMatch, TranscodeError> {
        self.router.match_route(http_method, path)
    }

    /// Builds the request message: the JSON body (the whole message for
    /// `body: "*"`, one field for `body: "field"`; an empty body is `{}`),
    /// then the path variables (converted to the field's type), then the
    /// query string (`query` without the `?`) for the fields neither binds,
    /// then `idempotency_key` (the `Idempotency-Key` header) into an empty
    /// top-level `request_id`. Unknown JSON fields, unknown or doubly bound
    /// query parameters, values of the wrong type, a body on a route without
    /// one: `BadRequest` with one violation per problem.
    pub fn build_request(
        &self,
        m: &RouteMatch,
        query: Option<&str>,
        body: &[u8],
        idempotency_key: Option<&str>,
    ) -> Result<DynamicMessage, TranscodeError> {
        request::build_request(m, query, body, idempotency_key)
    }

    /// Renders a response message as JSON (honouring the rule's
    /// `response_body`). Defaults of fields without presence are emitted,
    /// see the crate's decision in `response::serialize_options`. Fails
    /// (HTTP 500) only for values proto3 JSON can't express, such as a
    /// Timestamp past year 9999 or an Any of an unknown type.
    pub fn render_response(&self, m: &RouteMatch, response: &DynamicMessage) -> Result<Vec<u8>, TranscodeError> {
        response::render(m, response)
    }

    /// [`Transcoder::render_response`] from the encoded response message, as
    /// a byte-level gRPC client receives it.
    pub fn render_response_bytes(&self, m: &RouteMatch, encoded: &[u8]) -> Result<Vec<u8>, TranscodeError> {
        response::render_bytes(m, encoded)
    }

    /// One message of a server-streaming response as one NDJSON line (the
    /// JSON, then `\n`; JSON never contains a raw newline).
    pub fn render_stream_message(&self, m: &RouteMatch, encoded: &[u8]) -> Result<Vec<u8>, TranscodeError> {
        let mut line = response::render_bytes(m, encoded)?;
        line.push(b'\n');
        Ok(line)
    }

    /// The last NDJSON line of a stream that failed after its 200 was sent:
    /// `{"error": <google.rpc.Status>}` and `\n`. No streamed message has a
    /// top-level `error` field (checked by a test), so clients can tell.
    pub fn stream_error_line(&self, code: i32, message: &str, details_bin: &[u8]) -> Vec<u8> {
        let status = response::error_json(&self.pool, code, message, details_bin);
        let mut line = serde_json::json!({ "error": status }).to_string().into_bytes();
        line.push(b'\n');
        line
    }

    /// The error body of a failed call: google.rpc.Status as JSON, with the
    /// details of `details_bin` (the `grpc-status-details-bin` bytes, an
    /// encoded google.rpc.Status; empty when absent) resolved through the
    /// pool, e.g. `{"code":3,"message":"...","details":[{"@type":
    /// "type.googleapis.com/google.rpc.BadRequest","fieldViolations":[...]}]}`.
    pub fn error_body(&self, code: i32, message: &str, details_bin: &[u8]) -> Vec<u8> {
        response::error_body(&self.pool, code, message, details_bin)
    }

    /// An OpenAPI 3.0.3 document of every route. Build it once and serve the
    /// serialized bytes.
    pub fn openapi(&self) -> serde_json::Value {
        openapi::document(&self.pool, self.router.routes())
    }
}
