//! REST/JSON: routes, request messages and responses come from the
//! transcoder (built from the descriptor set); this module reads the body
//! within limits, carries the headers that matter to the backend as gRPC
//! metadata, calls the method with raw bytes and renders the answer. Also
//! serves `/openapi.json`, the `/docs` page and the browser console (`/`,
//! `/console/...`).

use std::sync::Arc;
use std::time::Duration;

use bank_transcode::{JSON_CONTENT_TYPE, NDJSON_CONTENT_TYPE, TranscodeError, Transcoder};
use bytes::Bytes;
use futures::StreamExt as _;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt as _, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use prost::Message as _;
use tonic::body::Body;
use tonic::metadata::{MetadataKey, MetadataValue};

use crate::EdgeLimits;
use crate::backends::Backends;
use crate::call;
use crate::console;
use crate::deadline::Deadlines;
use crate::proxy::service_of;
use crate::respond;

/// Request headers carried to the backend as gRPC metadata.
const FORWARDED_HEADERS: [&str; 5] = [
    "authorization",
    "x-request-id",
    "x-forwarded-for",
    "traceparent",
    "tracestate",
];
/// The header that fills an empty `request_id` of money-moving RPCs.
const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The REST side of the gateway.
pub struct Rest {
    transcoder: Arc<Transcoder>,
    backends: Arc<Backends>,
    openapi: Bytes,
    body_max_bytes: usize,
    body_read_timeout: Duration,
    deadlines: Arc<Deadlines>,
}

fn bytes_response(status: StatusCode, content_type: &'static str, body: Bytes) -> http::Response<Body> {
    let mut response = http::Response::new(Body::new(Full::new(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn transcode_error(error: &TranscodeError) -> http::Response<Body> {
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = bytes_response(status, JSON_CONTENT_TYPE, Bytes::from(error.to_json()));
    if let Some(allow) = error.allow_header().and_then(|a| HeaderValue::from_str(&a).ok()) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

impl Rest {
    /// Builds the routes and the OpenAPI document once.
    pub fn new(backends: Arc<Backends>, limits: &EdgeLimits, deadlines: Arc<Deadlines>) -> anyhow::Result<Self> {
        let transcoder = Transcoder::from_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET)?;
        let openapi = Bytes::from(serde_json::to_vec(&transcoder.openapi())?);
        Ok(Self {
            transcoder: Arc::new(transcoder),
            backends,
            openapi,
            body_max_bytes: limits.rest_body_max_bytes,
            body_read_timeout: Duration::from_millis(limits.body_read_timeout_ms.max(1)),
            deadlines,
        })
    }

    /// Reads the whole body, at most `rest_body_max_bytes` within
    /// `body_read_timeout_ms` (413 and 408 otherwise).
    pub async fn read_body(
        &self,
        request: http::Request<Incoming>,
    ) -> Result<http::Request<Bytes>, http::Response<Body>> {
        let (parts, body) = request.into_parts();
        let read = tokio::time::timeout(
            self.body_read_timeout,
            Limited::new(body, self.body_max_bytes).collect(),
        )
        .await;
        match read {
            Ok(Ok(collected)) => Ok(http::Request::from_parts(parts, collected.to_bytes())),
            Ok(Err(error)) => {
                let too_large = error.downcast_ref::<http_body_util::LengthLimitError>().is_some();
                Err(if too_large {
                    let mut response = respond::rest_error(
                        tonic::Code::InvalidArgument,
                        &format!("request body exceeds {} bytes", self.body_max_bytes),
                    );
                    *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                    response
                } else {
                    respond::rest_error(tonic::Code::InvalidArgument, "the request body could not be read")
                })
            }
            Err(_) => {
                let mut response = respond::rest_error(
                    tonic::Code::DeadlineExceeded,
                    &format!(
                        "the request body did not arrive within {} ms",
                        self.body_read_timeout.as_millis()
                    ),
                );
                *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                Err(response)
            }
        }
    }

    /// Answers one REST request (its body already read).
    pub async fn handle(&self, request: http::Request<Bytes>) -> http::Response<Body> {
        if let Some(response) = console::serve(request.method(), request.uri().path()) {
            return response;
        }
        match (request.method(), request.uri().path()) {
            (&Method::GET, "/openapi.json") => bytes_response(StatusCode::OK, JSON_CONTENT_TYPE, self.openapi.clone()),
            (&Method::GET, "/docs") => {
                let mut response = bytes_response(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    Bytes::from_static(bank_transcode::docs_html().as_bytes()),
                );
                // The page renders the document with its own inline script.
                response.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                         connect-src 'self'; frame-ancestors 'none'",
                    ),
                );
                response
            }
            _ => self.call(request).await,
        }
    }

    async fn call(&self, request: http::Request<Bytes>) -> http::Response<Body> {
        let method = request.method().as_str().to_owned();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().map(str::to_owned);
        let matched = match self.transcoder.match_route(&method, &path) {
            Ok(matched) => matched,
            Err(error) => return transcode_error(&error),
        };
        let grpc_path = matched.route().grpc_path().to_owned();
        let backend = service_of(&grpc_path).and_then(|service| self.backends.get(service));
        let Some((workload, channel)) = backend else {
            return respond::rest_error(tonic::Code::Unavailable, "this service is not available");
        };
        let workload = workload.to_owned();

        let (parts, body) = request.into_parts();
        let idempotency_key = parts
            .headers
            .get(IDEMPOTENCY_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let message = match self
            .transcoder
            .build_request(&matched, query.as_deref(), &body, idempotency_key.as_deref())
        {
            Ok(message) => message,
            Err(error) => return transcode_error(&error),
        };
        let mut grpc_request = tonic::Request::new(Bytes::from(message.encode_to_vec()));
        for name in FORWARDED_HEADERS {
            if let Some(value) = parts.headers.get(name)
                && let Ok(value) = MetadataValue::try_from(value.as_bytes())
            {
                grpc_request
                    .metadata_mut()
                    .insert(MetadataKey::from_static(name), value);
            }
        }

        let deadline = self.deadlines.of(&grpc_path);
        if let Some(deadline) = deadline {
            grpc_request.set_timeout(deadline);
        }
        let until = deadline.map(|d| tokio::time::Instant::now() + d);
        if matched.route().is_server_streaming() {
            let streaming = within(until, call::server_streaming(channel, &grpc_path, grpc_request)).await;
            return match streaming {
                Ok(response) => self.stream(matched, response.into_inner(), until),
                Err(status) => self.status_error(&workload, &status),
            };
        }
        match within(until, call::unary(channel, &grpc_path, grpc_request)).await {
            Ok(response) => match self.transcoder.render_response_bytes(&matched, response.get_ref()) {
                Ok(json) => bytes_response(StatusCode::OK, JSON_CONTENT_TYPE, Bytes::from(json)),
                Err(error) => {
                    tracing::error!(%error, rpc = grpc_path, "response not renderable as JSON");
                    transcode_error(&error)
                }
            },
            Err(status) => self.status_error(&workload, &status),
        }
    }

    fn status_error(&self, workload: &str, status: &tonic::Status) -> http::Response<Body> {
        let code = status.code() as i32;
        if status.code() == tonic::Code::Unavailable {
            tracing::warn!(workload, message = status.message(), "backend unavailable");
        }
        let http = StatusCode::from_u16(bank_transcode::status_to_http(code)).unwrap_or(StatusCode::BAD_GATEWAY);
        let body = self.transcoder.error_body(code, status.message(), status.details());
        let mut response = bytes_response(http, JSON_CONTENT_TYPE, Bytes::from(body));
        if let Some(secs) = bank_transcode::retry_after_secs(status.details())
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }

    /// A server-streaming answer as newline-delimited JSON; an error after
    /// the first line ends the stream with an `{"error": ...}` line, and so
    /// does the route's deadline (`until`), if it has one.
    fn stream(
        &self,
        matched: bank_transcode::RouteMatch,
        messages: tonic::Streaming<Bytes>,
        until: Option<tokio::time::Instant>,
    ) -> http::Response<Body> {
        let transcoder = self.transcoder.clone();
        let items = futures::stream::unfold(Some(messages), move |messages| async move {
            let mut messages = messages?;
            let next = match until {
                Some(until) => tokio::time::timeout_at(until, messages.next())
                    .await
                    .unwrap_or_else(|_| Some(Err(crate::deadline::exceeded()))),
                None => messages.next().await,
            }?;
            // An error ends the stream; the backend's stream is dropped (reset).
            let more = next.is_ok().then_some(messages);
            Some((next, more))
        });
        let lines = items.map(move |item| {
            let line = match item {
                Ok(encoded) => transcoder
                    .render_stream_message(&matched, &encoded)
                    .unwrap_or_else(|error| transcoder.stream_error_line(13, &error.to_string(), &[])),
                Err(status) => transcoder.stream_error_line(status.code() as i32, status.message(), status.details()),
            };
            Ok::<_, tonic::Status>(Frame::data(Bytes::from(line)))
        });
        let mut response = http::Response::new(Body::new(StreamBody::new(lines)));
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON_CONTENT_TYPE));
        response
    }
}

/// `call` bounded by its deadline (see [`crate::deadline::bounded`]). A
/// tonic backend whose `grpc-timeout` expires answers CANCELLED ("Timeout
/// expired"); past the deadline, that is DEADLINE_EXCEEDED to the caller.
async fn within<T>(
    until: Option<tokio::time::Instant>,
    call: impl Future<Output = Result<T, tonic::Status>>,
) -> Result<T, tonic::Status> {
    match crate::deadline::bounded(until, call).await {
        Some(Err(status)) if until.is_some_and(|until| crate::deadline::cut_off(&status, until)) => {
            Err(crate::deadline::exceeded())
        }
        Some(result) => result,
        None => Err(crate::deadline::exceeded()),
    }
}
