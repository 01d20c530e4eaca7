//! Routes from `google.api.http` rules, built once at start-up, and the
//! per-request match (404 / 405 / the route with its path variables).

use std::sync::Arc;

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor};

use crate::error::{Error, TranscodeError};
use crate::template::{PathTemplate, RequestPath};
use crate::wkt;

/// Services whose name ends with this are mesh-internal and never routed.
pub(crate) const INTERNAL_SERVICE_SUFFIX: &str = "InternalService";

/// Extension number of `google.api.http` on `google.protobuf.MethodOptions`.
const HTTP_EXTENSION: &str = "google.api.http";

/// `google.api.HttpRule`, decoded from the method options through the pool.
#[derive(Clone, PartialEq, prost::Message)]
struct HttpRule {
    #[prost(string, tag = "1")]
    selector: String,
    #[prost(oneof = "Pattern", tags = "2, 3, 4, 5, 6, 8")]
    pattern: Option<Pattern>,
    #[prost(string, tag = "7")]
    body: String,
    #[prost(string, tag = "12")]
    response_body: String,
    #[prost(message, repeated, tag = "11")]
    additional_bindings: Vec<HttpRule>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Pattern {
    #[prost(string, tag = "2")]
    Get(String),
    #[prost(string, tag = "3")]
    Put(String),
    #[prost(string, tag = "4")]
    Post(String),
    #[prost(string, tag = "5")]
    Delete(String),
    #[prost(string, tag = "6")]
    Patch(String),
    #[prost(message, tag = "8")]
    Custom(CustomHttpPattern),
}

#[derive(Clone, PartialEq, prost::Message)]
struct CustomHttpPattern {
    #[prost(string, tag = "1")]
    kind: String,
    #[prost(string, tag = "2")]
    path: String,
}

/// Where the request body goes.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// No body: every field not in the path comes from the query string.
    None,
    /// `body: "*"`: the body is the whole request message (minus path variables).
    Whole,
    /// `body: "field"`: the body is that top-level field.
    Field(FieldDescriptor),
}

/// One REST route: an HTTP method and path template bound to an RPC.
#[derive(Debug, Clone)]
pub struct Route {
    pub(crate) http_method: String,
    pub(crate) template: PathTemplate,
    pub(crate) method: MethodDescriptor,
    pub(crate) rpc: String,
    pub(crate) grpc_path: String,
    pub(crate) body: Body,
    pub(crate) body_name: Option<String>,
    pub(crate) response_body: Option<FieldDescriptor>,
    /// Per template variable: the resolved field chain and its dotted name.
    pub(crate) variables: Vec<(Vec<FieldDescriptor>, String)>,
    pub(crate) additional_binding: bool,
}

impl Route {
    /// The HTTP method, upper case (`GET`, `POST`, or a custom kind).
    pub fn http_method(&self) -> &str {
        &self.http_method
    }

    /// The path template as written in the proto (`/v1/accounts/{account_id}:deposit`).
    pub fn path_template(&self) -> &str {
        &self.template.source
    }

    /// The template in OpenAPI form (`{name=...}` becomes `{name}`).
    pub fn openapi_path(&self) -> String {
        self.template.openapi_path()
    }

    /// Full name of the RPC, `bank.account.v1.AccountService.GetAccount`.
    pub fn rpc(&self) -> &str {
        &self.rpc
    }

    /// The gRPC request path, `/bank.account.v1.AccountService/GetAccount`.
    pub fn grpc_path(&self) -> &str {
        &self.grpc_path
    }

    /// The RPC's descriptor (input and output message types, streaming).
    pub fn method(&self) -> &MethodDescriptor {
        &self.method
    }

    /// The rule's `body`: `None`, `Some("*")` or `Some(field)`.
    pub fn body(&self) -> Option<&str> {
        self.body_name.as_deref()
    }

    /// The rule's `response_body` field, if any.
    pub fn response_body(&self) -> Option<&str> {
        self.response_body.as_ref().map(FieldDescriptor::name)
    }

    /// The dotted field paths of the template's variables, in order.
    pub fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.variables.iter().map(|(_, name)| name.as_str())
    }

    /// Whether the RPC streams its responses (served as NDJSON).
    pub fn is_server_streaming(&self) -> bool {
        self.method.is_server_streaming()
    }

    /// Whether this route comes from an `additional_bindings` entry.
    pub fn is_additional_binding(&self) -> bool {
        self.additional_binding
    }
}

/// A matched request: the route and the decoded text of each path variable.
/// Owns what it holds, so it can cross `.await`s and threads.
#[derive(Debug, Clone)]
pub struct RouteMatch {
    pub(crate) route: Arc<Route>,
    pub(crate) values: Vec<String>,
}

impl RouteMatch {
    /// The matched route.
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// The RPC to call.
    pub fn method(&self) -> &MethodDescriptor {
        &self.route.method
    }

    /// `(dotted field path, percent-decoded value)` of each path variable.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &str)> {
        self.route
            .variables
            .iter()
            .map(|(_, name)| name.as_str())
            .zip(self.values.iter().map(String::as_str))
    }
}

/// Routes grouped by template shape (templates matching exactly the same
/// paths), groups ordered most specific first. A request finds its group by
/// path alone, then its route by method, the way path-first HTTP routers
/// work: `GET /v1/transfers/t-1:post` is a 405 (the `:post` route owns that
/// path), not a GetTransfer of id `t-1:post`.
#[derive(Debug)]
pub(crate) struct Router {
    groups: Vec<Vec<Arc<Route>>>,
}

impl Router {
    pub(crate) fn build(pool: &DescriptorPool) -> Result<Self, Error> {
        let mut routes = Vec::new();
        let Some(http) = pool.get_extension_by_name(HTTP_EXTENSION) else {
            return Ok(Router { groups: Vec::new() });
        };
        for service in pool.services() {
            if service.name().ends_with(INTERNAL_SERVICE_SUFFIX) {
                continue;
            }
            for method in service.methods() {
                let options = method.options();
                if !options.has_extension(&http) {
                    continue;
                }
                let rpc = method.full_name().to_owned();
                let invalid = |reason: String| Error::InvalidRule {
                    rpc: rpc.clone(),
                    pattern: String::new(),
                    reason,
                };
                let rule: HttpRule = match options.get_extension(&http).as_message() {
                    Some(message) => message
                        .transcode_to()
                        .map_err(|e| invalid(format!("google.api.http does not decode: {e}")))?,
                    None => return Err(invalid("google.api.http is not a message".to_owned())),
                };
                if method.is_client_streaming() {
                    return Err(invalid(
                        "client-streaming RPCs cannot be served over REST; remove the google.api.http rule".to_owned(),
                    ));
                }
                routes.push(build_route(&method, &rule, false)?);
                for extra in &rule.additional_bindings {
                    if !extra.additional_bindings.is_empty() {
                        return Err(invalid("additional_bindings cannot nest".to_owned()));
                    }
                    routes.push(build_route(&method, extra, true)?);
                }
            }
        }
        // Stable sort: equally specific groups keep proto order.
        routes.sort_by(|a, b| a.template.specificity_cmp(&b.template));
        let mut groups: Vec<Vec<Arc<Route>>> = Vec::new();
        for route in routes {
            let group = groups.iter_mut().find(|g| {
                g.first()
                    .is_some_and(|first| first.template.same_shape(&route.template))
            });
            match group {
                Some(group) => {
                    if let Some(same) = group.iter().find(|r| r.http_method == route.http_method) {
                        return Err(Error::AmbiguousRoute {
                            method: route.http_method.clone(),
                            template: route.template.source.clone(),
                            first: format!("{} ({})", same.rpc, same.template.source),
                            second: route.rpc.clone(),
                        });
                    }
                    group.push(Arc::new(route));
                }
                None => groups.push(vec![Arc::new(route)]),
            }
        }
        Ok(Router { groups })
    }

    pub(crate) fn routes(&self) -> impl Iterator<Item = &Route> {
        self.groups.iter().flatten().map(AsRef::as_ref)
    }

    pub(crate) fn match_route(&self, http_method: &str, path: &str) -> Result<RouteMatch, TranscodeError> {
        let Some(request) = RequestPath::parse(path) else {
            return Err(TranscodeError::not_found(http_method, path));
        };
        for group in &self.groups {
            let Some(first) = group.first() else { continue };
            if first.template.match_path(&request).is_none() {
                continue;
            }
            let Some(route) = group.iter().find(|r| r.http_method == http_method) else {
                let mut allowed: Vec<String> = group.iter().map(|r| r.http_method.clone()).collect();
                allowed.sort();
                return Err(TranscodeError::MethodNotAllowed {
                    method: crate::error::truncate(http_method, 16),
                    allowed,
                });
            };
            // Same shape, so it matches too; its own captures (variable
            // names and ranges may differ from the first's).
            let captures = route
                .template
                .match_path(&request)
                .ok_or_else(|| TranscodeError::not_found(http_method, path))?;
            let mut values = Vec::with_capacity(captures.len());
            for (capture, (_, name)) in captures.iter().zip(&route.variables) {
                let value = capture
                    .decode()
                    .map_err(|reason| TranscodeError::one(name.as_str(), format!("path segment {reason}")))?;
                values.push(value);
            }
            return Ok(RouteMatch {
                route: Arc::clone(route),
                values,
            });
        }
        Err(TranscodeError::not_found(http_method, path))
    }
}

fn build_route(method: &MethodDescriptor, rule: &HttpRule, additional_binding: bool) -> Result<Route, Error> {
    let rpc = method.full_name().to_owned();
    let (http_method, path) = match &rule.pattern {
        Some(Pattern::Get(p)) => ("GET".to_owned(), p.clone()),
        Some(Pattern::Put(p)) => ("PUT".to_owned(), p.clone()),
        Some(Pattern::Post(p)) => ("POST".to_owned(), p.clone()),
        Some(Pattern::Delete(p)) => ("DELETE".to_owned(), p.clone()),
        Some(Pattern::Patch(p)) => ("PATCH".to_owned(), p.clone()),
        Some(Pattern::Custom(c)) => (c.kind.to_ascii_uppercase(), c.path.clone()),
        None => {
            return Err(Error::InvalidRule {
                rpc,
                pattern: String::new(),
                reason: "the rule has no HTTP method and path".to_owned(),
            });
        }
    };
    let invalid = |reason: String| Error::InvalidRule {
        rpc: rpc.clone(),
        pattern: format!("{http_method} {path}"),
        reason,
    };
    if http_method.is_empty() || !http_method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid("the custom method kind is not an HTTP method token".to_owned()));
    }
    let template = PathTemplate::parse(&path).map_err(&invalid)?;
    let input = method.input();

    let mut variables = Vec::with_capacity(template.variables.len());
    for var in &template.variables {
        let chain = resolve_variable(&input, &var.field_path).map_err(&invalid)?;
        variables.push((chain, var.dotted()));
    }

    let (body, body_name) = match rule.body.as_str() {
        "" => (Body::None, None),
        "*" => (Body::Whole, Some("*".to_owned())),
        name => {
            let field = input
                .get_field_by_name(name)
                .ok_or_else(|| invalid(format!("body field '{name}' is not a field of {}", input.full_name())))?;
            if variables
                .iter()
                .any(|(chain, _)| chain.len() == 1 && chain[0].number() == field.number())
            {
                return Err(invalid(format!("body field '{name}' is also a path variable")));
            }
            (Body::Field(field), Some(name.to_owned()))
        }
    };
    let response_body = match rule.response_body.as_str() {
        "" => None,
        name => Some(method.output().get_field_by_name(name).ok_or_else(|| {
            invalid(format!(
                "response_body '{name}' is not a field of {}",
                method.output().full_name()
            ))
        })?),
    };
    Ok(Route {
        grpc_path: format!("/{}/{}", method.parent_service().full_name(), method.name()),
        http_method,
        template,
        method: method.clone(),
        rpc,
        body,
        body_name,
        response_body,
        variables,
        additional_binding,
    })
}

/// Resolves a template variable's field path against the request message:
/// every step a singular field, every step but the last a message, the last
/// one something that can be parsed from text.
fn resolve_variable(input: &MessageDescriptor, path: &[String]) -> Result<Vec<FieldDescriptor>, String> {
    let mut chain = Vec::with_capacity(path.len());
    let mut current = input.clone();
    for (i, name) in path.iter().enumerate() {
        let field = current.get_field_by_name(name).ok_or_else(|| {
            format!(
                "variable '{}': {} has no field '{name}'",
                path.join("."),
                current.full_name()
            )
        })?;
        if field.is_list() || field.is_map() {
            return Err(format!(
                "variable '{}': '{name}' is repeated; path variables bind singular fields",
                path.join(".")
            ));
        }
        let last = i + 1 == path.len();
        match field.kind() {
            Kind::Message(m) if !last => {
                if wkt::is_text_leaf(&m) {
                    return Err(format!(
                        "variable '{}': '{name}' is a {}",
                        path.join("."),
                        m.full_name()
                    ));
                }
                current = m;
            }
            Kind::Message(m) if last && !wkt::is_text_leaf(&m) => {
                return Err(format!(
                    "variable '{}': '{name}' is a message ({}); bind one of its fields",
                    path.join("."),
                    m.full_name()
                ));
            }
            _ if !last => {
                return Err(format!(
                    "variable '{}': '{name}' is not a message, so it has no fields",
                    path.join(".")
                ));
            }
            _ => {}
        }
        chain.push(field);
    }
    Ok(chain)
}
