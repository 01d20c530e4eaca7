//! REST request -> request message: route matching on the method and the
//! (percent-encoded) path, then the query string, the JSON body and the
//! Idempotency-Key. Input: one byte choosing the method, the path and
//! query up to the first newline, the key up to the second, the body.
//! Nothing may panic; what builds must reach the backend intact: decoding
//! its encoding gives every field the value the transcoder set (a field
//! explicitly set to its proto3 default, e.g. `request_id` from an empty
//! `Idempotency-Key`, is absent on the wire, which is the same message),
//! and re-encoding that gives the same bytes.
#![no_main]

use std::sync::LazyLock;

use bank_transcode::Transcoder;
use libfuzzer_sys::fuzz_target;
use prost::Message as _;
use prost_reflect::{DynamicMessage, ReflectMessage as _, Value};

static TRANSCODER: LazyLock<Transcoder> = LazyLock::new(|| {
    Transcoder::from_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET).expect("the bank's descriptors")
});

const METHODS: [&str; 6] = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let method = METHODS[usize::from(selector) % METHODS.len()];
    let mut parts = rest.splitn(3, |b| *b == b'\n');
    let target = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let key = parts.next().map(String::from_utf8_lossy);
    let body = parts.next().unwrap_or_default();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target.as_ref(), None),
    };
    let matched = match TRANSCODER.match_route(method, path) {
        Ok(matched) => matched,
        Err(error) => {
            let _ = error.to_json();
            return;
        }
    };
    match TRANSCODER.build_request(&matched, query, body, key.as_deref()) {
        Ok(message) => {
            let encoded = message.encode_to_vec();
            let decoded =
                DynamicMessage::decode(message.descriptor(), encoded.as_slice()).expect("own encoding decodes");
            assert!(
                same_message(&message, &decoded),
                "encoding round-trips: {message:?} -> {decoded:?}"
            );
            assert_eq!(decoded.encode_to_vec(), encoded, "re-encoding is stable");
        }
        Err(error) => {
            let json = error.to_json();
            serde_json_check(&json);
        }
    }
});

/// `a` and `b` are the same message on the wire: equal field by field,
/// where an unset field without presence reads as its default.
fn same_message(a: &DynamicMessage, b: &DynamicMessage) -> bool {
    a.descriptor().fields().all(|field| {
        (!field.supports_presence() || a.has_field(&field) == b.has_field(&field))
            && same_value(&a.get_field(&field), &b.get_field(&field))
    })
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Message(a), Value::Message(b)) => same_message(a, b),
        (Value::List(a), Value::List(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b)),
        _ => a == b,
    }
}

/// Error bodies are JSON objects with a numeric code.
fn serde_json_check(body: &[u8]) {
    let text = std::str::from_utf8(body).expect("error bodies are UTF-8");
    assert!(text.starts_with('{') && text.contains("\"code\""), "{text}");
}
