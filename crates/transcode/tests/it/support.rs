use std::sync::OnceLock;

use bank_transcode::{Error, Route, RouteMatch, TranscodeError, Transcoder};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor};
use serde_json::json;

/// One transcoder for the whole binary: building it is deterministic.
pub fn transcoder() -> &'static Transcoder {
    static T: OnceLock<Transcoder> = OnceLock::new();
    T.get_or_init(|| Transcoder::from_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET).unwrap())
}

pub fn matched(method: &str, path: &str) -> RouteMatch {
    transcoder()
        .match_route(method, path)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Matches and builds, as the gateway does.
pub fn build(method: &str, path_and_query: &str, body: &str) -> Result<DynamicMessage, TranscodeError> {
    build_with_key(method, path_and_query, body, None)
}

pub fn build_with_key(
    method: &str,
    path_and_query: &str,
    body: &str,
    key: Option<&str>,
) -> Result<DynamicMessage, TranscodeError> {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let m = transcoder().match_route(method, path)?;
    transcoder().build_request(&m, query, body.as_bytes(), key)
}

/// Builds and decodes into the generated type, for field-by-field asserts.
pub fn build_as<T: Message + Default>(method: &str, path_and_query: &str, body: &str) -> T {
    let message = build(method, path_and_query, body).unwrap_or_else(|e| panic!("{method} {path_and_query}: {e}"));
    T::decode(message.encode_to_vec().as_slice()).unwrap()
}

/// The violations of a BadRequest, as (field, description) pairs.
pub fn violations(result: Result<DynamicMessage, TranscodeError>) -> Vec<(String, String)> {
    match result {
        Err(TranscodeError::BadRequest { violations, .. }) => {
            violations.into_iter().map(|v| (v.field, v.description)).collect()
        }
        other => panic!("expected BadRequest, got {other:?}"),
    }
}

/// The single violated field of a BadRequest.
pub fn violated_field(result: Result<DynamicMessage, TranscodeError>) -> String {
    let v = violations(result);
    assert_eq!(v.len(), 1, "{v:?}");
    v[0].0.clone()
}

/// A path that matches `route`, with a plausible value per variable.
pub fn example_path(route: &Route) -> (String, Vec<(String, String)>) {
    let template = route.path_template();
    let input = route.method().input();
    let mut out = String::new();
    let mut values = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        let inner = &rest[open + 1..close];
        let (name, pattern) = inner.split_once('=').unwrap_or((inner, "*"));
        let value = if pattern == "*" {
            sample_text(&input, name)
        } else {
            pattern.replace("**", "a/b").replace('*', "x")
        };
        out.push_str(&value);
        values.push((name.to_owned(), value));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    (out, values)
}

fn sample_text(input: &MessageDescriptor, dotted: &str) -> String {
    let mut current = input.clone();
    let parts: Vec<&str> = dotted.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let field = current.get_field_by_name(part).unwrap();
        match field.kind() {
            Kind::Message(m) if i + 1 < parts.len() => current = m,
            Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 | Kind::Sint32 | Kind::Sint64 => {
                return if *part == "month" {
                    "3".to_owned()
                } else {
                    "2024".to_owned()
                };
            }
            Kind::Enum(e) => return e.values().nth(1).unwrap().name().to_owned(),
            Kind::Bool => return "true".to_owned(),
            _ => return format!("{part}-7f3c9a"),
        }
    }
    unreachable!("{dotted}")
}

/// A transcoder over the bank contracts plus one extra file given as a
/// FileDescriptorProto in proto3 JSON (its method options may carry
/// `"[google.api.http]"`). Appending an encoded FileDescriptorSet to another
/// is a protobuf merge: the file list grows by one.
pub fn synthetic(file: serde_json::Value) -> Result<Transcoder, Error> {
    let base = DescriptorPool::decode(bank_proto::FILE_DESCRIPTOR_SET).unwrap();
    let set_type = base.get_message_by_name("google.protobuf.FileDescriptorSet").unwrap();
    let set = DynamicMessage::deserialize(set_type, json!({ "file": [file] })).unwrap();
    let mut bytes = bank_proto::FILE_DESCRIPTOR_SET.to_vec();
    bytes.extend(set.encode_to_vec());
    Transcoder::from_file_descriptor_set(&bytes)
}
