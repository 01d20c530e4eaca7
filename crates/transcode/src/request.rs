//! REST request -> request message: the JSON body (whole message or one
//! field), then the path variables, then the query string, then the
//! `Idempotency-Key` header. Every problem is a field violation; nothing here
//! panics on any input.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;
use prost_reflect::{DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value};
use serde_path_to_error::{Path, Segment, Track};

use crate::error::{FieldViolation, TranscodeError, truncate};
use crate::limits::{FIELD_PATH_DEPTH_MAX, FIELD_VIOLATIONS_MAX, JSON_NESTING_MAX, QUERY_BYTES_MAX, QUERY_PARAMS_MAX};
use crate::routes::{Body, RouteMatch};
use crate::wkt;

/// The request field an `Idempotency-Key` header fills (AIP-155).
pub const REQUEST_ID_FIELD: &str = "request_id";

/// How much of a client-supplied name or value an error message quotes.
const ECHO_MAX_CHARS: usize = 64;

pub(crate) fn build_request(
    m: &RouteMatch,
    query: Option<&str>,
    body: &[u8],
    idempotency_key: Option<&str>,
) -> Result<DynamicMessage, TranscodeError> {
    let route = &m.route;
    let input = route.method.input();
    let mut message = parse_body(&route.body, &input, body)?;

    let mut violations = Vec::new();
    for ((chain, name), value) in route.variables.iter().zip(&m.values) {
        if let Err(reason) = set_from_text(&mut message, chain, value, Source::Path) {
            violations.push(FieldViolation::new(name.as_str(), reason));
        }
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        apply_query(m, &input, &mut message, query, &mut violations);
    }
    if let Some(key) = idempotency_key {
        fill_request_id(&input, &mut message, key, &mut violations);
    }
    if violations.is_empty() {
        Ok(message)
    } else {
        Err(TranscodeError::bad_request(violations))
    }
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

fn parse_body(body_rule: &Body, input: &MessageDescriptor, body: &[u8]) -> Result<DynamicMessage, TranscodeError> {
    match body_rule {
        Body::None if is_blank(body) => Ok(DynamicMessage::new(input.clone())),
        Body::None => Err(TranscodeError::one(
            "",
            "this route takes no request body; send the fields as query parameters",
        )),
        // An empty body is an empty message: `POST /v1/auth/logout` with no
        // body is as good as `{}`.
        _ if is_blank(body) => Ok(DynamicMessage::new(input.clone())),
        Body::Whole => {
            check_nesting(body)?;
            let mut de = serde_json::Deserializer::from_slice(body);
            let mut track = Track::new();
            let parsed = DynamicMessage::deserialize_with_options(
                input.clone(),
                serde_path_to_error::Deserializer::new(&mut de, &mut track),
                &DeserializeOptions::new(),
            );
            match parsed {
                Ok(message) => match de.end() {
                    Ok(()) => Ok(message),
                    Err(e) => Err(TranscodeError::one("", format!("malformed JSON: {e}"))),
                },
                Err(e) => Err(json_error(input, &track.path(), &e)),
            }
        }
        Body::Field(field) => {
            check_nesting(body)?;
            let value: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| TranscodeError::one(field.name(), format!("malformed JSON: {e}")))?;
            // Deserialize `{"<field>": <body>}` as the request message, so the
            // field's own JSON mapping (message, list, scalar, well-known
            // type) applies and error paths name the request's fields.
            let mut wrapper = serde_json::Map::new();
            wrapper.insert(field.json_name().to_owned(), value);
            let mut track = Track::new();
            let parsed = DynamicMessage::deserialize_with_options(
                input.clone(),
                serde_path_to_error::Deserializer::new(serde_json::Value::Object(wrapper), &mut track),
                &DeserializeOptions::new(),
            );
            parsed.map_err(|e| json_error(input, &track.path(), &e))
        }
    }
}

/// Rejects bodies nested deeper than [`JSON_NESTING_MAX`] before any
/// recursive parsing (one linear pass, strings skipped).
fn check_nesting(body: &[u8]) -> Result<(), TranscodeError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > JSON_NESTING_MAX {
                    return Err(TranscodeError::one(
                        "",
                        format!("JSON nested deeper than {JSON_NESTING_MAX} levels"),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn json_error(input: &MessageDescriptor, path: &Path, error: &serde_json::Error) -> TranscodeError {
    let text = error.to_string();
    let mut field = proto_field_path(input, path);
    let description = if error.is_syntax() || error.is_eof() {
        format!("malformed JSON: {text}")
    } else if let Some(name) = text
        .strip_prefix("unrecognized field name '")
        .and_then(|rest| rest.split_once('\''))
        .map(|(name, _)| name)
    {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(&truncate(name, ECHO_MAX_CHARS));
        "unknown field".to_owned()
    } else {
        text
    };
    TranscodeError::one(field, description)
}

/// Where a path segment of a JSON error stands.
enum Ctx {
    Message(MessageDescriptor),
    List(Kind),
    Map(Kind),
    Opaque,
}

fn ctx_of_kind(kind: Kind) -> Ctx {
    match kind {
        Kind::Message(m) if !wkt::is_special_json(&m) => Ctx::Message(m),
        _ => Ctx::Opaque,
    }
}

fn ctx_of_field(field: &FieldDescriptor) -> Ctx {
    let kind = field.kind();
    if field.is_map() {
        match kind.as_message().and_then(|entry| entry.get_field(2)) {
            Some(value) => Ctx::Map(value.kind()),
            None => Ctx::Opaque,
        }
    } else if field.is_list() {
        Ctx::List(kind)
    } else {
        ctx_of_kind(kind)
    }
}

/// Turns serde's path of JSON keys (camelCase or original names) into the
/// proto field path (`items[2].amount.minor_units`) a BadRequest names.
fn proto_field_path(input: &MessageDescriptor, path: &Path) -> String {
    let mut out = String::new();
    let mut ctx = Ctx::Message(input.clone());
    for segment in path.iter() {
        ctx = match (segment, ctx) {
            (Segment::Map { key }, Ctx::Message(m)) => {
                match m.get_field_by_json_name(key).or_else(|| m.get_field_by_name(key)) {
                    Some(field) => {
                        if !out.is_empty() {
                            out.push('.');
                        }
                        out.push_str(field.name());
                        ctx_of_field(&field)
                    }
                    None => {
                        push_raw(&mut out, key);
                        Ctx::Opaque
                    }
                }
            }
            (Segment::Seq { index }, Ctx::List(kind)) => {
                out.push_str(&format!("[{index}]"));
                ctx_of_kind(kind)
            }
            (Segment::Map { key }, Ctx::Map(kind)) => {
                out.push_str(&format!("[{}]", truncate(key, ECHO_MAX_CHARS)));
                ctx_of_kind(kind)
            }
            (Segment::Seq { index }, _) => {
                out.push_str(&format!("[{index}]"));
                Ctx::Opaque
            }
            (Segment::Map { key }, _) => {
                push_raw(&mut out, key);
                Ctx::Opaque
            }
            (_, _) => Ctx::Opaque,
        };
    }
    out
}

fn push_raw(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(&truncate(key, ECHO_MAX_CHARS));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Path,
    Query,
}

/// Sets the leaf at the end of `chain` from text, creating the messages on
/// the way. A path variable may repeat a value the body already holds (the
/// same value); a query parameter may not set a singular field twice.
fn set_from_text(
    message: &mut DynamicMessage,
    chain: &[FieldDescriptor],
    text: &str,
    source: Source,
) -> Result<(), String> {
    let Some((field, rest)) = chain.split_first() else {
        return Err("empty field path".to_owned());
    };
    check_oneof(message, field)?;
    if !rest.is_empty() {
        return match message.get_field_mut(field) {
            Value::Message(inner) => set_from_text(inner, rest, text, source),
            _ => Err(format!("'{}' is not a message", field.name())),
        };
    }
    if field.is_list() {
        let value = wkt::parse_text(&field.kind(), text)?;
        return match message.get_field_mut(field) {
            Value::List(list) => {
                list.push(value);
                Ok(())
            }
            _ => Err(format!("'{}' is not a list", field.name())),
        };
    }
    let value = wkt::parse_text(&field.kind(), text)?;
    if message.has_field(field) {
        let current = message.get_field(field);
        match source {
            Source::Path if *current == value => return Ok(()),
            Source::Path => {
                return Err("the request body sets this field to another value than the URL path".to_owned());
            }
            Source::Query => return Err("given more than once".to_owned()),
        }
    }
    message.try_set_field(field, value).map_err(|e| e.to_string())
}

fn check_oneof(message: &DynamicMessage, field: &FieldDescriptor) -> Result<(), String> {
    if let Some(oneof) = field.containing_oneof()
        && let Some(other) = oneof
            .fields()
            .find(|f| f.number() != field.number() && message.has_field(f))
    {
        return Err(format!(
            "'{}' and '{}' are alternatives (oneof '{}'); set only one",
            field.name(),
            other.name(),
            oneof.name()
        ));
    }
    Ok(())
}

fn apply_query(
    m: &RouteMatch,
    input: &MessageDescriptor,
    message: &mut DynamicMessage,
    query: &str,
    violations: &mut Vec<FieldViolation>,
) {
    if query.len() > QUERY_BYTES_MAX {
        violations.push(FieldViolation::new(
            "",
            format!("query string longer than {QUERY_BYTES_MAX} bytes"),
        ));
        return;
    }
    let route = &m.route;
    for (i, pair) in query.split('&').filter(|p| !p.is_empty()).enumerate() {
        if i >= QUERY_PARAMS_MAX {
            violations.push(FieldViolation::new(
                "",
                format!("more than {QUERY_PARAMS_MAX} query parameters"),
            ));
            return;
        }
        if violations.len() >= FIELD_VIOLATIONS_MAX {
            return;
        }
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = match (form_decode(raw_key), form_decode(raw_value)) {
            (Ok(k), Ok(v)) => (k, v),
            _ => {
                violations.push(FieldViolation::new(
                    truncate(raw_key, ECHO_MAX_CHARS),
                    "query parameter is not valid UTF-8 once percent-decoded",
                ));
                continue;
            }
        };
        let shown = truncate(&key, ECHO_MAX_CHARS);
        if matches!(route.body, Body::Whole) {
            violations.push(FieldViolation::new(
                shown,
                "this route takes every field from the JSON body; query parameters are not accepted",
            ));
            continue;
        }
        let chain = match resolve_query_key(input, &key) {
            Ok(chain) => chain,
            Err(reason) => {
                violations.push(FieldViolation::new(shown, reason));
                continue;
            }
        };
        let numbers: Vec<u32> = chain.iter().map(FieldDescriptor::number).collect();
        if let Some((_, name)) = route.variables.iter().find(|(bound, _)| overlaps(bound, &numbers)) {
            violations.push(FieldViolation::new(
                shown,
                format!("bound by the URL path ({{{name}}}); not accepted as a query parameter"),
            ));
            continue;
        }
        if let Body::Field(body_field) = &route.body
            && numbers.first() == Some(&body_field.number())
        {
            violations.push(FieldViolation::new(
                shown,
                format!(
                    "sent in the JSON body ('{}'); not accepted as a query parameter",
                    body_field.name()
                ),
            ));
            continue;
        }
        let proto_path = chain.iter().map(FieldDescriptor::name).collect::<Vec<_>>().join(".");
        if let Err(reason) = set_from_text(message, &chain, &value, Source::Query) {
            violations.push(FieldViolation::new(proto_path, reason));
        }
    }
}

/// Whether one field path is a prefix of the other.
fn overlaps(bound: &[FieldDescriptor], numbers: &[u32]) -> bool {
    bound.iter().zip(numbers).all(|(b, n)| b.number() == *n)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, then
/// percent-decoding, which must give UTF-8.
fn form_decode(s: &str) -> Result<Cow<'_, str>, ()> {
    if s.contains('+') {
        let spaced = s.replace('+', " ");
        percent_decode_str(&spaced)
            .decode_utf8()
            .map(|c| Cow::Owned(c.into_owned()))
            .map_err(|_| ())
    } else {
        percent_decode_str(s).decode_utf8().map_err(|_| ())
    }
}

/// Resolves a query parameter name (`page_size`, `pageSize`,
/// `submitted_after`, `filter.status`) to its field chain.
fn resolve_query_key(input: &MessageDescriptor, key: &str) -> Result<Vec<FieldDescriptor>, String> {
    if key.is_empty() {
        return Err("query parameter without a name".to_owned());
    }
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() > FIELD_PATH_DEPTH_MAX {
        return Err(format!("field path deeper than {FIELD_PATH_DEPTH_MAX}"));
    }
    let mut chain = Vec::with_capacity(parts.len());
    let mut current = input.clone();
    for (i, part) in parts.iter().enumerate() {
        let field = current
            .get_field_by_name(part)
            .or_else(|| current.get_field_by_json_name(part))
            .ok_or_else(|| {
                format!(
                    "{} has no field '{}'",
                    current.full_name(),
                    truncate(part, ECHO_MAX_CHARS)
                )
            })?;
        let last = i + 1 == parts.len();
        if field.is_map() {
            return Err(format!(
                "'{}' is a map; maps cannot be set from query parameters",
                field.name()
            ));
        }
        match field.kind() {
            Kind::Message(m) if !last => {
                if field.is_list() || wkt::is_special_json(&m) {
                    return Err(format!(
                        "'{}' cannot be addressed field by field in a query parameter",
                        field.name()
                    ));
                }
                current = m;
            }
            Kind::Message(m) if !wkt::is_text_leaf(&m) => {
                return Err(format!(
                    "'{}' is a message ({}); set its fields with dotted names, e.g. {}.<field>",
                    field.name(),
                    m.full_name(),
                    field.name()
                ));
            }
            _ if !last => {
                return Err(format!("'{}' is not a message, so it has no fields", field.name()));
            }
            _ => {}
        }
        chain.push(field);
    }
    Ok(chain)
}

/// Fills an empty top-level `request_id` from the `Idempotency-Key` header.
/// A body that names a different key is refused: which one the client meant
/// can't be guessed, and guessing wrong could move money twice.
fn fill_request_id(
    input: &MessageDescriptor,
    message: &mut DynamicMessage,
    key: &str,
    violations: &mut Vec<FieldViolation>,
) {
    let Some(field) = input.get_field_by_name(REQUEST_ID_FIELD) else {
        return;
    };
    if field.kind() != Kind::String || field.is_list() {
        return;
    }
    let current = message.get_field(&field);
    match current.as_str() {
        Some("") | None => {
            if let Err(e) = message.try_set_field(&field, Value::String(key.to_owned())) {
                violations.push(FieldViolation::new(REQUEST_ID_FIELD, e.to_string()));
            }
        }
        Some(existing) if existing == key => {}
        Some(_) => violations.push(FieldViolation::new(
            REQUEST_ID_FIELD,
            "differs from the Idempotency-Key header; send one or the other, or the same value",
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn nesting_scan_skips_strings() {
        let deep = "[".repeat(JSON_NESTING_MAX + 1);
        assert!(check_nesting(deep.as_bytes()).is_err());
        let quoted = format!("{{\"a\":\"{}\"}}", "[".repeat(1000));
        assert!(check_nesting(quoted.as_bytes()).is_ok());
        let escaped = format!("{{\"a\":\"\\\"{}\"}}", "[".repeat(1000));
        assert!(check_nesting(escaped.as_bytes()).is_ok());
        let ok = "[".repeat(JSON_NESTING_MAX);
        assert!(check_nesting(ok.as_bytes()).is_ok());
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%2Bc").unwrap(), "a b+c");
        assert_eq!(form_decode("%E2%82%AC").unwrap(), "€");
        assert!(form_decode("%FF").is_err());
    }
}
