//! Text to protobuf values, for path variables and query parameters: the
//! scalar kinds, enums (by name or number), and the well-known types whose
//! proto3 JSON form is a single string or scalar.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use prost_reflect::{DynamicMessage, EnumDescriptor, Kind, MessageDescriptor, Value};

/// Well-known types whose JSON form is a string (or scalar), so one query
/// parameter or path segment can carry them.
const TEXT_LEAF_TYPES: &[&str] = &[
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
    "google.protobuf.DoubleValue",
    "google.protobuf.FloatValue",
    "google.protobuf.Int64Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value",
    "google.protobuf.UInt32Value",
    "google.protobuf.BoolValue",
    "google.protobuf.StringValue",
    "google.protobuf.BytesValue",
];

/// Well-known types whose JSON form is not an object with the message's
/// fields (so the OpenAPI schema and field paths treat them as leaves).
const SPECIAL_JSON_TYPES: &[&str] = &[
    "google.protobuf.Any",
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
    "google.protobuf.Empty",
];

/// How many enum value names an error message lists before "...".
const ENUM_NAMES_LISTED_MAX: usize = 12;

/// Whether `m` is a well-known type parsed from one string.
pub(crate) fn is_text_leaf(m: &MessageDescriptor) -> bool {
    TEXT_LEAF_TYPES.contains(&m.full_name())
}

/// Whether `m` has a JSON form other than an object of its fields.
pub(crate) fn is_special_json(m: &MessageDescriptor) -> bool {
    is_text_leaf(m) || SPECIAL_JSON_TYPES.contains(&m.full_name())
}

/// Parses `text` as a value of `kind`. The error completes "<field> ...".
pub(crate) fn parse_text(kind: &Kind, text: &str) -> Result<Value, String> {
    match kind {
        Kind::Double => parse_f64(text).map(Value::F64),
        Kind::Float => parse_f64(text).and_then(|v| {
            let narrowed = v as f32;
            if v.is_finite() && !narrowed.is_finite() {
                Err(format!("'{text}' is out of range for a 32-bit float"))
            } else {
                Ok(Value::F32(narrowed))
            }
        }),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => text
            .parse()
            .map(Value::I32)
            .map_err(|_| format!("'{text}' is not a 32-bit integer")),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => text
            .parse()
            .map(Value::I64)
            .map_err(|_| format!("'{text}' is not a 64-bit integer")),
        Kind::Uint32 | Kind::Fixed32 => text
            .parse()
            .map(Value::U32)
            .map_err(|_| format!("'{text}' is not an unsigned 32-bit integer")),
        Kind::Uint64 | Kind::Fixed64 => text
            .parse()
            .map(Value::U64)
            .map_err(|_| format!("'{text}' is not an unsigned 64-bit integer")),
        Kind::Bool => match text {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("'{text}' is not a boolean (true or false)")),
        },
        Kind::String => Ok(Value::String(text.to_owned())),
        Kind::Bytes => decode_base64(text).map(|b| Value::Bytes(b.into())),
        Kind::Enum(e) => parse_enum(e, text).map(Value::EnumNumber),
        Kind::Message(m) => parse_text_message(m, text).map(Value::Message),
    }
}

fn parse_f64(text: &str) -> Result<f64, String> {
    match text {
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text.parse().map_err(|_| format!("'{text}' is not a number")),
    }
}

/// An enum value by name, or by number if that number is defined.
pub(crate) fn parse_enum(e: &EnumDescriptor, text: &str) -> Result<i32, String> {
    if let Some(v) = e.get_value_by_name(text) {
        return Ok(v.number());
    }
    if let Ok(n) = text.parse::<i32>()
        && e.get_value(n).is_some()
    {
        return Ok(n);
    }
    let mut names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
    let more = names.len() > ENUM_NAMES_LISTED_MAX;
    names.truncate(ENUM_NAMES_LISTED_MAX);
    Err(format!(
        "'{}' is not a value of {}: expected one of {}{}",
        crate::error::truncate(text, 64),
        e.full_name(),
        names.join(", "),
        if more { ", ..." } else { "" }
    ))
}

fn parse_text_message(m: &MessageDescriptor, text: &str) -> Result<DynamicMessage, String> {
    match m.full_name() {
        "google.protobuf.Timestamp" => {
            let parsed = DynamicMessage::deserialize(m.clone(), serde_json::Value::String(text.to_owned()));
            match parsed {
                Ok(msg) => Ok(msg),
                // A `+hh:mm` offset sent unencoded in a query string arrives
                // as a space; take it back rather than fail.
                Err(_) if text.contains(' ') => {
                    DynamicMessage::deserialize(m.clone(), serde_json::Value::String(text.replace(' ', "+")))
                        .map_err(|e| format!("'{text}' is not an RFC 3339 timestamp: {e}"))
                }
                Err(e) => Err(format!("'{text}' is not an RFC 3339 timestamp: {e}")),
            }
        }
        "google.protobuf.Duration" | "google.protobuf.FieldMask" => {
            DynamicMessage::deserialize(m.clone(), serde_json::Value::String(text.to_owned()))
                .map_err(|e| format!("'{text}' is not a {}: {e}", m.name()))
        }
        name if is_text_leaf(m) => {
            let Some(inner) = m.get_field_by_name("value") else {
                return Err(format!("{name} has no 'value' field"));
            };
            let value = parse_text(&inner.kind(), text)?;
            let mut msg = DynamicMessage::new(m.clone());
            msg.try_set_field(&inner, value).map_err(|e| e.to_string())?;
            Ok(msg)
        }
        name => Err(format!(
            "is a message ({name}); set its fields one by one with dotted names"
        )),
    }
}

fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .map_err(|_| "is not base64".to_owned())
}

/// Standard base64, for rendering bytes that have no JSON mapping.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
