//! Responses the gateway makes itself (before a backend is involved), in
//! the protocol of the request: a trailers-only gRPC status for gRPC and
//! grpc-web, a google.rpc.Status JSON body with the mapped HTTP status for
//! REST.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::Full;
use tonic::body::Body;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Whether the request speaks gRPC or grpc-web.
pub fn is_grpc<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"))
}

/// A gRPC status as a trailers-only response, with the request's gRPC
/// content type (so grpc-web clients read it too).
pub fn grpc<B>(request: &http::Request<B>, status: Status) -> http::Response<Body> {
    let mut response: http::Response<Body> = status.into_http();
    if let Some(ct) = request.headers().get(header::CONTENT_TYPE) {
        response.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
    }
    response
}

/// The HTTP status of a gRPC code (google/rpc/code.proto).
pub fn http_status(code: Code) -> StatusCode {
    let status = match code {
        Code::Ok => 200,
        Code::Cancelled => 499,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => 400,
        Code::DeadlineExceeded => 504,
        Code::NotFound => 404,
        Code::AlreadyExists | Code::Aborted => 409,
        Code::PermissionDenied => 403,
        Code::Unauthenticated => 401,
        Code::ResourceExhausted => 429,
        Code::Unimplemented => 501,
        Code::Unavailable => 503,
        Code::Unknown | Code::Internal | Code::DataLoss => 500,
    };
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A JSON response.
pub fn json(status: StatusCode, body: Vec<u8>) -> http::Response<Body> {
    let mut response = http::Response::new(Body::new(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A google.rpc.Status JSON error for a REST client, without details.
pub fn rest_error(code: Code, message: &str) -> http::Response<Body> {
    let body = serde_json::json!({ "code": code as i32, "message": message });
    json(http_status(code), serde_json::to_vec(&body).unwrap_or_default())
}

fn retry_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// 429 / RESOURCE_EXHAUSTED with RetryInfo and `Retry-After`.
pub fn too_many_requests<B>(request: &http::Request<B>, wait: Duration) -> http::Response<Body> {
    let secs = retry_secs(wait).max(1);
    let mut response = if is_grpc(request) {
        let mut details = ErrorDetails::with_retry_info(Some(Duration::from_secs(secs)));
        details.set_error_info("RATE_LIMITED", "bank.local", HashMap::new());
        grpc(
            request,
            Status::with_error_details(Code::ResourceExhausted, "too many requests; slow down", details),
        )
    } else {
        let body = serde_json::json!({
            "code": Code::ResourceExhausted as i32,
            "message": "too many requests; slow down",
            "details": [
                { "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMITED", "domain": "bank.local" },
                { "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{secs}s") }
            ]
        });
        json(
            StatusCode::TOO_MANY_REQUESTS,
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    };
    if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// 503 / UNAVAILABLE when the gateway sheds load.
pub fn overloaded(grpc_request: bool, content_type: Option<HeaderValue>) -> http::Response<Body> {
    let mut response = if grpc_request {
        let mut response: http::Response<Body> =
            Status::unavailable("the gateway is overloaded; retry shortly").into_http();
        if let Some(ct) = content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        response
    } else {
        rest_error(Code::Unavailable, "the gateway is overloaded; retry shortly")
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
