//! The OpenAPI 3.0.3 document of the REST routes, from the same descriptors:
//! paths and operations from the routes, schemas from the messages in their
//! proto3 JSON form, descriptions from the proto comments.

use std::collections::{BTreeMap, HashMap, HashSet};

use prost_reflect::{
    DescriptorPool, EnumDescriptor, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor, Value,
};
use serde_json::{Map, Value as Json, json};

use crate::limits::OPENAPI_QUERY_DEPTH_MAX;
use crate::request::REQUEST_ID_FIELD;
use crate::routes::{Body, Route};
use crate::wkt;
use crate::{JSON_CONTENT_TYPE, NDJSON_CONTENT_TYPE};

const OPENAPI_VERSION: &str = "3.0.3";
const REF_PREFIX: &str = "#/components/schemas/";
const STATUS_TYPE: &str = "google.rpc.Status";
const SECURITY_SCHEME: &str = "bearerAuth";
const FIELD_BEHAVIOR: &str = "google.api.field_behavior";
/// google.api.FieldBehavior numbers.
const FIELD_BEHAVIOR_REQUIRED: i32 = 2;
const FIELD_BEHAVIOR_OUTPUT_ONLY: i32 = 3;
const FIELD_BEHAVIOR_INPUT_ONLY: i32 = 4;

const API_DESCRIPTION: &str = "\
The bank's REST/JSON API, transcoded by the gateway from the gRPC contracts \
(google.api.http rules). JSON follows the proto3 JSON mapping: lowerCamelCase \
names (the proto's snake_case names are accepted too), 64-bit integers as \
strings, enums by name, timestamps in RFC 3339. Fields without presence are \
always present in responses, even at their default value. Unknown fields are \
rejected. Query parameters take dotted names for nested fields and repeat for \
repeated fields. Errors are a google.rpc.Status with details (BadRequest, \
ErrorInfo, RetryInfo). Server-streaming RPCs answer newline-delimited JSON.";

pub(crate) fn document<'a>(pool: &DescriptorPool, routes: impl Iterator<Item = &'a Route>) -> Json {
    let mut generator = Generator::new(pool);
    let mut paths: BTreeMap<String, Map<String, Json>> = BTreeMap::new();
    let mut tags: BTreeMap<String, Json> = BTreeMap::new();
    let mut operation_ids: HashMap<String, usize> = HashMap::new();
    let mut routes: Vec<&Route> = routes.collect();
    // Primary bindings first so they keep the plain operationId.
    routes.sort_by_key(|r| r.additional_binding);
    for route in routes {
        let service = route.method.parent_service();
        tags.entry(service.name().to_owned()).or_insert_with(|| {
            let mut tag = json!({"name": service.name()});
            if let Some(text) = generator.comments.get(service.parent_file().name(), service.path()) {
                tag["description"] = Json::String(text.to_owned());
            }
            tag
        });
        let base_id = format!("{}_{}", service.name(), route.method.name());
        let seen = operation_ids.entry(base_id.clone()).or_insert(0);
        *seen += 1;
        let operation_id = if *seen == 1 {
            base_id
        } else {
            format!("{base_id}_{seen}")
        };
        let operation = generator.operation(route, operation_id);
        paths
            .entry(route.template.openapi_path())
            .or_default()
            .insert(route.http_method.to_ascii_lowercase(), operation);
    }
    let status_schema = generator.status_schema();
    generator.add_error_details();
    let mut schemas = generator.finish();
    schemas.insert(STATUS_TYPE.to_owned(), status_schema);
    json!({
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Bank mesh REST API",
            "version": "v1",
            "description": API_DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "tags": tags.into_values().collect::<Vec<_>>(),
        "security": [{SECURITY_SCHEME: []}],
        "paths": paths.into_iter().map(|(k, v)| (k, Json::Object(v))).collect::<Map<_, _>>(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token from POST /v1/auth/login (EdDSA JWT, 15 minutes). \
                        Sign-up, log-in, refresh and the JWKS need none.",
                },
            },
        },
    })
}

/// Leading comments by (file, source path), cleaned of comment indentation.
struct Comments {
    by_location: HashMap<(String, Vec<i32>), String>,
}

impl Comments {
    fn new(pool: &DescriptorPool) -> Self {
        let mut by_location = HashMap::new();
        for file in pool.files() {
            let Some(info) = &file.file_descriptor_proto().source_code_info else {
                continue;
            };
            for location in &info.location {
                let text = location
                    .leading_comments
                    .as_deref()
                    .or(location.trailing_comments.as_deref())
                    .map(clean_comment)
                    .unwrap_or_default();
                if !text.is_empty() {
                    by_location.insert((file.name().to_owned(), location.path.clone()), text);
                }
            }
        }
        Comments { by_location }
    }

    fn get(&self, file: &str, path: &[i32]) -> Option<&str> {
        self.by_location
            .get(&(file.to_owned(), path.to_vec()))
            .map(String::as_str)
    }
}

fn clean_comment(raw: &str) -> String {
    let lines: Vec<&str> = raw
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect();
    lines.join("\n").trim().to_owned()
}

/// The first sentence (or line) of a comment, for an operation's summary.
fn summary(text: &str) -> String {
    let first_paragraph = text.split("\n\n").next().unwrap_or_default().replace('\n', " ");
    match first_paragraph.find(". ") {
        Some(i) => first_paragraph[..=i].to_owned(),
        None => first_paragraph,
    }
}

struct Generator<'p> {
    pool: &'p DescriptorPool,
    comments: Comments,
    field_behavior: Option<ExtensionDescriptor>,
    schemas: BTreeMap<String, Json>,
    /// Messages and enums referenced but not generated yet.
    pending_messages: Vec<MessageDescriptor>,
    pending_enums: Vec<EnumDescriptor>,
    queued: HashSet<String>,
}

impl<'p> Generator<'p> {
    fn new(pool: &'p DescriptorPool) -> Self {
        Generator {
            pool,
            comments: Comments::new(pool),
            field_behavior: pool.get_extension_by_name(FIELD_BEHAVIOR),
            schemas: BTreeMap::new(),
            pending_messages: Vec::new(),
            pending_enums: Vec::new(),
            queued: HashSet::new(),
        }
    }

    fn finish(mut self) -> Map<String, Json> {
        loop {
            if let Some(m) = self.pending_messages.pop() {
                let schema = self.message_schema(&m);
                self.schemas.insert(m.full_name().to_owned(), schema);
            } else if let Some(e) = self.pending_enums.pop() {
                let schema = self.enum_schema(&e);
                self.schemas.insert(e.full_name().to_owned(), schema);
            } else {
                break;
            }
        }
        self.schemas.into_iter().collect()
    }

    fn comment_of_message(&self, m: &MessageDescriptor) -> Option<String> {
        self.comments.get(m.parent_file().name(), m.path()).map(str::to_owned)
    }

    fn comment_of_field(&self, f: &FieldDescriptor) -> Option<String> {
        self.comments.get(f.parent_file().name(), f.path()).map(str::to_owned)
    }

    fn behaviors(&self, f: &FieldDescriptor) -> Vec<i32> {
        let Some(ext) = &self.field_behavior else {
            return Vec::new();
        };
        let options = f.options();
        if !options.has_extension(ext) {
            return Vec::new();
        }
        match options.get_extension(ext).as_ref() {
            Value::List(values) => values.iter().filter_map(Value::as_enum_number).collect(),
            Value::EnumNumber(n) => vec![*n],
            _ => Vec::new(),
        }
    }

    fn message_ref(&mut self, m: &MessageDescriptor) -> Json {
        if let Some(schema) = special_message_schema(m) {
            return schema;
        }
        if self.queued.insert(m.full_name().to_owned()) {
            self.pending_messages.push(m.clone());
        }
        json!({"$ref": format!("{REF_PREFIX}{}", m.full_name())})
    }

    fn enum_ref(&mut self, e: &EnumDescriptor) -> Json {
        if self.queued.insert(e.full_name().to_owned()) {
            self.pending_enums.push(e.clone());
        }
        json!({"$ref": format!("{REF_PREFIX}{}", e.full_name())})
    }

    fn kind_schema(&mut self, kind: &Kind) -> Json {
        match kind {
            Kind::Double => json!({"type": "number", "format": "double"}),
            Kind::Float => json!({"type": "number", "format": "float"}),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!({"type": "integer", "format": "int32"}),
            Kind::Uint32 | Kind::Fixed32 => {
                json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX})
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"})
            }
            Kind::Uint64 | Kind::Fixed64 => json!({"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::String => json!({"type": "string"}),
            Kind::Bytes => json!({"type": "string", "format": "byte"}),
            Kind::Enum(e) => self.enum_ref(e),
            Kind::Message(m) => self.message_ref(m),
        }
    }

    /// A field's schema without its description.
    fn field_type_schema(&mut self, f: &FieldDescriptor) -> Json {
        let kind = f.kind();
        if f.is_map() {
            let value = kind
                .as_message()
                .and_then(|entry| entry.get_field(2))
                .map(|v| self.kind_schema(&v.kind()))
                .unwrap_or_else(|| json!({}));
            json!({"type": "object", "additionalProperties": value})
        } else if f.is_list() {
            json!({"type": "array", "items": self.kind_schema(&kind)})
        } else {
            self.kind_schema(&kind)
        }
    }

    /// A field's schema with its description and field behavior. A `$ref`
    /// can't have siblings in OpenAPI 3.0, so it is wrapped in `allOf`.
    fn field_schema(&mut self, f: &FieldDescriptor) -> Json {
        let mut schema = self.field_type_schema(f);
        let mut extra = Map::new();
        let mut description = self.comment_of_field(f).unwrap_or_default();
        if let Some(oneof) = f.containing_oneof().filter(|o| !o.is_synthetic()) {
            let others: Vec<String> = oneof
                .fields()
                .filter(|o| o.number() != f.number())
                .map(|o| o.json_name().to_owned())
                .collect();
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(&format!(
                "One of `{}`: at most one of {} may be set.",
                oneof.name(),
                std::iter::once(f.json_name().to_owned())
                    .chain(others)
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !description.is_empty() {
            extra.insert("description".to_owned(), Json::String(description));
        }
        let behaviors = self.behaviors(f);
        if behaviors.contains(&FIELD_BEHAVIOR_OUTPUT_ONLY) {
            extra.insert("readOnly".to_owned(), Json::Bool(true));
        }
        if behaviors.contains(&FIELD_BEHAVIOR_INPUT_ONLY) {
            extra.insert("writeOnly".to_owned(), Json::Bool(true));
        }
        if extra.is_empty() {
            return schema;
        }
        if schema.get("$ref").is_some() {
            schema = json!({"allOf": [schema]});
        }
        if let Json::Object(map) = &mut schema {
            map.extend(extra);
        }
        schema
    }

    fn message_schema(&mut self, m: &MessageDescriptor) -> Json {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for f in m.fields() {
            properties.insert(f.json_name().to_owned(), self.field_schema(&f));
            if self.behaviors(&f).contains(&FIELD_BEHAVIOR_REQUIRED) {
                required.push(Json::String(f.json_name().to_owned()));
            }
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if let Some(text) = self.comment_of_message(m) {
            schema["description"] = Json::String(text);
        }
        if !required.is_empty() {
            schema["required"] = Json::Array(required);
        }
        schema
    }

    fn enum_schema(&mut self, e: &EnumDescriptor) -> Json {
        let names: Vec<Json> = e.values().map(|v| Json::String(v.name().to_owned())).collect();
        let mut description = self
            .comments
            .get(e.parent_file().name(), e.path())
            .map(str::to_owned)
            .unwrap_or_default();
        let documented: Vec<String> = e
            .values()
            .filter_map(|v| {
                self.comments
                    .get(v.parent_file().name(), v.path())
                    .map(|c| format!("- `{}`: {}", v.name(), c.replace('\n', " ")))
            })
            .collect();
        if !documented.is_empty() {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(&documented.join("\n"));
        }
        let mut schema = json!({"type": "string", "enum": names});
        if !description.is_empty() {
            schema["description"] = Json::String(description);
        }
        schema
    }

    /// google.rpc.Status, from the pool when it has it (details as Any).
    fn status_schema(&mut self) -> Json {
        match self.pool.get_message_by_name(STATUS_TYPE) {
            Some(m) => {
                let schema = self.message_schema(&m);
                self.queued.insert(STATUS_TYPE.to_owned());
                schema
            }
            None => json!({
                "type": "object",
                "description": "The error model of gRPC (google.rpc.Status).",
                "properties": {
                    "code": {"type": "integer", "format": "int32"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": special_any_schema()},
                },
            }),
        }
    }

    /// The google.rpc error detail messages, so the docs describe what the
    /// `details` of an error can hold.
    fn add_error_details(&mut self) {
        let details: Vec<MessageDescriptor> = self
            .pool
            .all_messages()
            .filter(|m| {
                m.package_name() == "google.rpc" && m.full_name() != STATUS_TYPE && m.parent_message().is_none()
            })
            .collect();
        for m in details {
            self.message_ref(&m);
        }
    }

    fn operation(&mut self, route: &Route, operation_id: String) -> Json {
        let method = &route.method;
        let input = method.input();
        let mut op = Map::new();
        op.insert("operationId".to_owned(), Json::String(operation_id));
        op.insert("tags".to_owned(), json!([method.parent_service().name()]));
        if let Some(text) = self
            .comments
            .get(method.parent_file().name(), method.path())
            .map(str::to_owned)
        {
            op.insert("summary".to_owned(), Json::String(summary(&text)));
            op.insert("description".to_owned(), Json::String(text));
        }

        let mut parameters = Vec::new();
        for (chain, name) in &route.variables {
            let Some(leaf) = chain.last() else { continue };
            let mut param = json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": self.field_type_schema(leaf),
            });
            let var = route.template.variables.iter().find(|v| v.dotted() == *name);
            let mut description = self.comment_of_field(leaf).unwrap_or_default();
            if let Some(var) = var.filter(|v| v.end - v.start != 1) {
                let pattern: Vec<String> = route.template.segments[var.start..var.end]
                    .iter()
                    .map(|s| match s {
                        crate::template::Segment::Literal(l) => l.clone(),
                        crate::template::Segment::Single => "*".to_owned(),
                        crate::template::Segment::Multi => "**".to_owned(),
                    })
                    .collect();
                if !description.is_empty() {
                    description.push_str("\n\n");
                }
                description.push_str(&format!("Matches `{}` (may contain `/`).", pattern.join("/")));
            }
            if !description.is_empty() {
                param["description"] = Json::String(description);
            }
            parameters.push(param);
        }
        if !matches!(route.body, Body::Whole) {
            let mut prefix = Vec::new();
            let mut stack = vec![input.full_name().to_owned()];
            self.query_parameters(route, &input, &mut prefix, &mut stack, &mut parameters);
        }
        if input
            .get_field_by_name(REQUEST_ID_FIELD)
            .is_some_and(|f| f.kind() == Kind::String && !f.is_list())
        {
            parameters.push(json!({
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "schema": {"type": "string"},
                "description": "Fills `requestId` when the request leaves it empty (a different \
                    non-empty `requestId` is refused). Retrying with the same key never repeats the effect.",
            }));
        }
        if !parameters.is_empty() {
            op.insert("parameters".to_owned(), Json::Array(parameters));
        }

        if let Some(schema) = self.request_body_schema(route) {
            op.insert(
                "requestBody".to_owned(),
                json!({
                    "required": false,
                    "content": {JSON_CONTENT_TYPE: {"schema": schema}},
                }),
            );
        }

        let output = method.output();
        let response_schema = match &route.response_body {
            Some(field) => self.field_type_schema(field),
            None => self.message_ref(&output),
        };
        let ok = if route.is_server_streaming() {
            json!({
                "description": "A stream of messages as newline-delimited JSON, one message a line. \
                    A failure after the stream started ends it with a line {\"error\": google.rpc.Status}.",
                "content": {NDJSON_CONTENT_TYPE: {"schema": response_schema}},
            })
        } else {
            json!({
                "description": "OK",
                "content": {JSON_CONTENT_TYPE: {"schema": response_schema}},
            })
        };
        op.insert(
            "responses".to_owned(),
            json!({
                "200": ok,
                "default": {
                    "description": "An error: google.rpc.Status with details. HTTP status per \
                        google/rpc/code.proto (400 INVALID_ARGUMENT / FAILED_PRECONDITION, 401, 403, 404, \
                        409 ALREADY_EXISTS / ABORTED, 429 with Retry-After, 503, 504).",
                    "content": {JSON_CONTENT_TYPE: {"schema": {"$ref": format!("{REF_PREFIX}{STATUS_TYPE}")}}},
                },
            }),
        );
        Json::Object(op)
    }

    /// The body's schema, minus the fields the path binds (one level deep).
    fn request_body_schema(&mut self, route: &Route) -> Option<Json> {
        let input = route.method.input();
        let (message, path_depth) = match &route.body {
            Body::None => return None,
            Body::Whole => (Some(input.clone()), 0),
            Body::Field(field) => match field.kind() {
                Kind::Message(m) if !field.is_list() && !field.is_map() && !wkt::is_special_json(&m) => (Some(m), 1),
                _ => (None, 0),
            },
        };
        let bound: Vec<&FieldDescriptor> = route
            .variables
            .iter()
            .filter(|(chain, _)| chain.len() == path_depth + 1)
            .filter(|(chain, _)| match &route.body {
                Body::Field(field) => chain.first().is_some_and(|c| c.number() == field.number()),
                _ => true,
            })
            .filter_map(|(chain, _)| chain.last())
            .collect();
        match message {
            Some(m) if !bound.is_empty() => {
                let mut schema = self.message_schema(&m);
                let names: Vec<&str> = bound.iter().map(|f| f.json_name()).collect();
                if let Some(Json::Object(props)) = schema.get_mut("properties") {
                    props.retain(|k, _| !names.contains(&k.as_str()));
                }
                if let Some(Json::Array(required)) = schema.get_mut("required") {
                    required.retain(|r| !r.as_str().is_some_and(|s| names.contains(&s)));
                    if required.is_empty()
                        && let Json::Object(map) = &mut schema
                    {
                        map.remove("required");
                    }
                }
                Some(schema)
            }
            Some(m) => Some(self.message_ref(&m)),
            None => match &route.body {
                Body::Field(field) => Some(self.field_type_schema(field)),
                _ => None,
            },
        }
    }

    /// Query parameters: every leaf not bound by the path or the body,
    /// nested messages as dotted lowerCamelCase names.
    fn query_parameters(
        &mut self,
        route: &Route,
        message: &MessageDescriptor,
        prefix: &mut Vec<FieldDescriptor>,
        stack: &mut Vec<String>,
        out: &mut Vec<Json>,
    ) {
        for f in message.fields() {
            prefix.push(f.clone());
            let numbers: Vec<u32> = prefix.iter().map(FieldDescriptor::number).collect();
            let bound_by_path = route
                .variables
                .iter()
                .any(|(chain, _)| chain.iter().zip(&numbers).all(|(c, n)| c.number() == *n));
            let bound_by_body = matches!(&route.body, Body::Field(b) if numbers.first() == Some(&b.number()));
            let kind = f.kind();
            let nested = match &kind {
                Kind::Message(m) if !wkt::is_special_json(m) => Some(m.clone()),
                _ => None,
            };
            if bound_by_path && nested.is_none() || bound_by_body || f.is_map() {
                prefix.pop();
                continue;
            }
            match nested {
                Some(m) => {
                    if !f.is_list()
                        && prefix.len() < OPENAPI_QUERY_DEPTH_MAX
                        && !stack.contains(&m.full_name().to_owned())
                    {
                        stack.push(m.full_name().to_owned());
                        self.query_parameters(route, &m, prefix, stack, out);
                        stack.pop();
                    }
                }
                None => {
                    if matches!(&kind, Kind::Message(m) if !wkt::is_text_leaf(m)) {
                        prefix.pop();
                        continue;
                    }
                    let name = prefix
                        .iter()
                        .map(FieldDescriptor::json_name)
                        .collect::<Vec<_>>()
                        .join(".");
                    let mut param = json!({
                        "name": name,
                        "in": "query",
                        "required": false,
                        "schema": self.field_type_schema(&f),
                    });
                    let proto_name = prefix.iter().map(FieldDescriptor::name).collect::<Vec<_>>().join(".");
                    let mut description = self.comment_of_field(&f).unwrap_or_default();
                    if proto_name != name {
                        if !description.is_empty() {
                            description.push_str("\n\n");
                        }
                        description.push_str(&format!("Also accepted as `{proto_name}`."));
                    }
                    if f.is_list() {
                        description.push_str(" Repeat the parameter for several values.");
                    }
                    let description = description.trim().to_owned();
                    if !description.is_empty() {
                        param["description"] = Json::String(description);
                    }
                    out.push(param);
                }
            }
            prefix.pop();
        }
    }
}

fn special_any_schema() -> Json {
    json!({
        "type": "object",
        "description": "A message of the type named by `@type` (google.protobuf.Any), its fields inline.",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": true,
    })
}

/// Inline schemas of the well-known types with a special JSON form.
fn special_message_schema(m: &MessageDescriptor) -> Option<Json> {
    let wrapped = |t: &str, format: Option<&str>| {
        let mut s = json!({"type": t, "nullable": true});
        if let Some(f) = format {
            s["format"] = Json::String(f.to_owned());
        }
        s
    };
    Some(match m.full_name() {
        "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
        "google.protobuf.Duration" => json!({
            "type": "string",
            "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
            "description": "Seconds with up to 9 fractional digits and an `s` suffix, e.g. `1.5s`.",
        }),
        "google.protobuf.FieldMask" => json!({
            "type": "string",
            "description": "Comma-separated lowerCamelCase field paths, e.g. `name,phone`.",
        }),
        "google.protobuf.Any" => special_any_schema(),
        "google.protobuf.Struct" => json!({"type": "object", "additionalProperties": true}),
        "google.protobuf.Value" => json!({"description": "Any JSON value."}),
        "google.protobuf.ListValue" => json!({"type": "array", "items": {}}),
        "google.protobuf.Empty" => json!({"type": "object"}),
        "google.protobuf.DoubleValue" => wrapped("number", Some("double")),
        "google.protobuf.FloatValue" => wrapped("number", Some("float")),
        "google.protobuf.Int64Value" => wrapped("string", Some("int64")),
        "google.protobuf.UInt64Value" => wrapped("string", Some("uint64")),
        "google.protobuf.Int32Value" => wrapped("integer", Some("int32")),
        "google.protobuf.UInt32Value" => wrapped("integer", Some("int64")),
        "google.protobuf.BoolValue" => wrapped("boolean", None),
        "google.protobuf.StringValue" => wrapped("string", None),
        "google.protobuf.BytesValue" => wrapped("string", Some("byte")),
        _ => return None,
    })
}
