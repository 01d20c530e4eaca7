//! Response message -> JSON, gRPC status -> HTTP status, and the
//! google.rpc.Status error body decoded from `grpc-status-details-bin`.

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::{Value as Json, json};

use crate::error::TranscodeError;
use crate::limits::RETRY_AFTER_MAX_SECS;
use crate::routes::RouteMatch;
use crate::wkt;

/// The proto3 JSON options of every response.
///
/// Fields without presence (scalars, enums, repeated, maps) are emitted
/// even at their default value (protobuf's
/// `always_print_fields_with_no_presence`): a zero balance reads
/// `"availableMinor": "0"` rather than vanishing, an empty page reads
/// `"accounts": []`, so clients need no "absent means zero" rule. Fields with
/// presence (messages, `optional`, oneof members) still appear only when
/// set, so a oneof shows exactly its chosen alternative. Names are
/// lowerCamelCase, 64-bit integers strings, enums names.
pub(crate) fn serialize_options() -> SerializeOptions {
    SerializeOptions::new()
        .skip_default_fields(false)
        .stringify_64_bit_integers(true)
        .use_enum_numbers(false)
        .use_proto_field_name(false)
}

/// `google.rpc.Status`, decoded without needing the pool.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<prost_types::Duration>,
}

const RETRY_INFO_TYPE: &str = "google.rpc.RetryInfo";
const ANY_TYPE: &str = "google.protobuf.Any";

pub(crate) fn render(m: &RouteMatch, response: &DynamicMessage) -> Result<Vec<u8>, TranscodeError> {
    let options = serialize_options();
    match &m.route.response_body {
        None => {
            let mut serializer = serde_json::Serializer::new(Vec::with_capacity(256));
            response
                .serialize_with_options(&mut serializer, &options)
                .map_err(|e| TranscodeError::Render(e.to_string()))?;
            Ok(serializer.into_inner())
        }
        Some(field) => {
            let whole = response
                .serialize_with_options(serde_json::value::Serializer, &options)
                .map_err(|e| TranscodeError::Render(e.to_string()))?;
            // A field with presence that is unset is absent even with
            // defaults emitted: its JSON is `null`.
            let part = match whole {
                Json::Object(mut map) => map.remove(field.json_name()).unwrap_or(Json::Null),
                _ => Json::Null,
            };
            serde_json::to_vec(&part).map_err(|e| TranscodeError::Render(e.to_string()))
        }
    }
}

pub(crate) fn render_bytes(m: &RouteMatch, encoded: &[u8]) -> Result<Vec<u8>, TranscodeError> {
    let message = DynamicMessage::decode(m.route.method.output(), encoded)
        .map_err(|e| TranscodeError::Render(format!("response does not decode: {e}")))?;
    render(m, &message)
}

/// Maps a gRPC status code to the HTTP status google/rpc/code.proto names.
/// Unknown codes are 500.
pub fn status_to_http(code: i32) -> u16 {
    match code {
        0 => 200,
        1 => 499,
        2 => 500,
        3 => 400,
        4 => 504,
        5 => 404,
        6 => 409,
        7 => 403,
        8 => 429,
        9 => 400,
        10 => 409,
        11 => 400,
        12 => 501,
        13 => 500,
        14 => 503,
        15 => 500,
        16 => 401,
        _ => 500,
    }
}

/// The error body: google.rpc.Status in proto3 JSON. `code` and `message`
/// are the call's (grpc-status, grpc-message); `details` come from
/// `grpc-status-details-bin` (an encoded google.rpc.Status), each Any
/// rendered through the pool with its `@type`. A detail whose type is not in
/// the pool keeps its `@type` and carries its bytes as base64 `value`.
pub(crate) fn error_body(pool: &DescriptorPool, code: i32, message: &str, details_bin: &[u8]) -> Vec<u8> {
    error_json(pool, code, message, details_bin).to_string().into_bytes()
}

pub(crate) fn error_json(pool: &DescriptorPool, code: i32, message: &str, details_bin: &[u8]) -> Json {
    let details: Vec<Json> = RpcStatus::decode(details_bin)
        .map(|status| status.details.iter().map(|any| render_any(pool, any)).collect())
        .unwrap_or_default();
    json!({"code": code, "message": message, "details": details})
}

fn render_any(pool: &DescriptorPool, any: &prost_types::Any) -> Json {
    let rendered = pool.get_message_by_name(ANY_TYPE).and_then(|desc| {
        let mut dynamic = DynamicMessage::new(desc);
        dynamic.transcode_from(any).ok()?;
        dynamic
            .serialize_with_options(serde_json::value::Serializer, &serialize_options())
            .ok()
    });
    rendered.unwrap_or_else(|| json!({"@type": any.type_url, "value": wkt::encode_base64(&any.value)}))
}

/// Seconds to put in `Retry-After`, from the google.rpc.RetryInfo detail of
/// an encoded google.rpc.Status; rounded up, at most [`RETRY_AFTER_MAX_SECS`].
pub fn retry_after_secs(details_bin: &[u8]) -> Option<u64> {
    let status = RpcStatus::decode(details_bin).ok()?;
    let any = status
        .details
        .iter()
        .find(|any| any.type_url.rsplit('/').next() == Some(RETRY_INFO_TYPE))?;
    let delay = RetryInfo::decode(any.value.as_slice()).ok()?.retry_delay?;
    let secs = u64::try_from(delay.seconds.max(0)).unwrap_or(0);
    let secs = if delay.nanos > 0 { secs.saturating_add(1) } else { secs };
    Some(secs.min(RETRY_AFTER_MAX_SECS))
}
