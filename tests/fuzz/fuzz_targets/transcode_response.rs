//! Response message bytes -> JSON (what the gateway renders from a
//! backend's answer) and error bodies from grpc-status-details-bin bytes.
//! Input: one byte choosing the route, one the gRPC code, the rest the
//! encoded bytes. Nothing may panic; what renders is JSON.
#![no_main]

use std::sync::LazyLock;

use bank_transcode::{RouteMatch, Transcoder};
use libfuzzer_sys::fuzz_target;

static TRANSCODER: LazyLock<Transcoder> = LazyLock::new(|| {
    Transcoder::from_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET).expect("the bank's descriptors")
});

/// One match per route, from the route's own template with every
/// variable filled with `1`.
static MATCHES: LazyLock<Vec<RouteMatch>> = LazyLock::new(|| {
    TRANSCODER
        .routes()
        .filter_map(|route| {
            let mut path = String::new();
            let mut rest = route.path_template();
            while let Some(open) = rest.find('{') {
                path.push_str(&rest[..open]);
                let close = open + rest[open..].find('}')?;
                path.push('1');
                rest = &rest[close + 1..];
            }
            path.push_str(rest);
            TRANSCODER.match_route(route.http_method(), &path).ok()
        })
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let [route, code, bytes @ ..] = data else {
        return;
    };
    let matched = &MATCHES[usize::from(*route) % MATCHES.len()];
    if let Ok(json) = TRANSCODER.render_response_bytes(matched, bytes) {
        let _: serde_json_value::Value = serde_json_value::from_slice(&json).expect("rendered JSON parses");
    }
    let _ = TRANSCODER.render_stream_message(matched, bytes);
    let body = TRANSCODER.error_body(i32::from(*code) - 20, "fuzz", bytes);
    let _: serde_json_value::Value = serde_json_value::from_slice(&body).expect("error bodies are JSON");
    let _ = bank_transcode::retry_after_secs(bytes);
    let _ = bank_transcode::status_to_http(i32::from(*code) - 20);
});
