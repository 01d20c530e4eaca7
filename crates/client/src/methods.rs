//! Which calls may be retried, read from the contract itself (the encoded
//! descriptor set `bank-proto` compiles): a method is
//!
//! - a **read** when it is bound to HTTP GET (`google.api.http`) or its
//!   name starts with `Get` or `List`: retried freely;
//! - **keyed** when its request has a string `request_id` (or a repeated
//!   message field whose items have one, as `CreateTransfers`): the server
//!   deduplicates on it, so it is retried with the very same key, filled
//!   with a UUID first when the caller left it empty;
//! - anything else: sent once, never retried.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::wire::{self, Malformed};

/// The `google.api.http` extension number on `MethodOptions`.
const HTTP_RULE_EXTENSION: u32 = 72_295_728;
/// `HttpRule.get`.
const HTTP_RULE_GET: u32 = 2;
/// `FieldDescriptorProto.Type` of strings and messages.
const TYPE_STRING: u64 = 9;
const TYPE_MESSAGE: u64 = 11;
/// `FieldDescriptorProto.Label` of repeated fields.
const LABEL_REPEATED: u64 = 3;
/// The idempotency key's field name in every request that has one.
const REQUEST_ID: &str = "request_id";

/// Where a keyed request carries its idempotency key(s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyPath {
    /// A top-level string field.
    Field(u32),
    /// String field `item` of every element of repeated message field `list`.
    Items { list: u32, item: u32 },
}

/// How a call may be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Reads nothing changes: retried as is.
    Read,
    /// Deduplicated by the server on its request id(s).
    Keyed(KeyPath),
    /// Sent once.
    Once,
}

/// What the client knows about one RPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Method {
    pub safety: Safety,
    /// Neither side streams: the whole response can be buffered to read
    /// its status before handing it over.
    pub unary: bool,
    /// The request is a single message (not client-streaming): it can be
    /// buffered and resent.
    pub single_request: bool,
}

impl Method {
    /// An RPC the contract does not describe: passed through, sent once.
    pub const UNKNOWN: Self = Self {
        safety: Safety::Once,
        unary: false,
        single_request: false,
    };
}

/// Every RPC of the descriptor set by path (`/package.Service/Method`).
#[derive(Debug, Default)]
pub(crate) struct Methods(HashMap<String, Method>);

impl Methods {
    /// The methods of bank-proto's descriptor set, parsed once.
    pub fn bank() -> &'static Self {
        static METHODS: OnceLock<Methods> = OnceLock::new();
        METHODS.get_or_init(|| Self::parse(bank_proto::FILE_DESCRIPTOR_SET).unwrap_or_default())
    }

    /// The method at `path`.
    pub fn get(&self, path: &str) -> Method {
        self.0.get(path).copied().unwrap_or(Method::UNKNOWN)
    }

    /// Parses an encoded `google.protobuf.FileDescriptorSet`.
    pub fn parse(set: &[u8]) -> Result<Self, Malformed> {
        let files = wire::all_bytes(set, 1)?;
        let mut messages = HashMap::new();
        for file in &files {
            let package = string(file, 2)?;
            let prefix = if package.is_empty() {
                String::new()
            } else {
                format!(".{package}")
            };
            for message in wire::all_bytes(file, 4)? {
                collect_messages(&prefix, message, &mut messages)?;
            }
        }
        let mut methods = HashMap::new();
        for file in &files {
            let package = string(file, 2)?;
            for service in wire::all_bytes(file, 6)? {
                let service_name = string(service, 1)?;
                for method in wire::all_bytes(service, 2)? {
                    let name = string(method, 1)?;
                    let input = string(method, 2)?;
                    let client_streaming = wire::last_varint(method, 5)?.unwrap_or(0) != 0;
                    let server_streaming = wire::last_varint(method, 6)?.unwrap_or(0) != 0;
                    let get_bound = match wire::last_bytes(method, 4)? {
                        Some(options) => match wire::last_bytes(options, HTTP_RULE_EXTENSION)? {
                            Some(rule) => wire::last_bytes(rule, HTTP_RULE_GET)?.is_some(),
                            None => false,
                        },
                        None => false,
                    };
                    let safety = if get_bound || name.starts_with("Get") || name.starts_with("List") {
                        Safety::Read
                    } else {
                        key_path(&messages, &input).map_or(Safety::Once, Safety::Keyed)
                    };
                    let qualified = if package.is_empty() {
                        service_name.clone()
                    } else {
                        format!("{package}.{service_name}")
                    };
                    methods.insert(
                        format!("/{qualified}/{name}"),
                        Method {
                            safety,
                            unary: !client_streaming && !server_streaming,
                            single_request: !client_streaming,
                        },
                    );
                }
            }
        }
        Ok(Self(methods))
    }
}

/// A field of a message: (name, number, label, type, type name).
#[derive(Debug)]
struct FieldInfo {
    name: String,
    number: u32,
    repeated: bool,
    kind: u64,
    type_name: String,
}

fn string(message: &[u8], number: u32) -> Result<String, Malformed> {
    Ok(wire::last_bytes(message, number)?
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .unwrap_or_default())
}

fn collect_messages(scope: &str, message: &[u8], out: &mut HashMap<String, Vec<FieldInfo>>) -> Result<(), Malformed> {
    let name = format!("{scope}.{}", string(message, 1)?);
    let mut fields = Vec::new();
    for field in wire::all_bytes(message, 2)? {
        fields.push(FieldInfo {
            name: string(field, 1)?,
            number: u32::try_from(wire::last_varint(field, 3)?.unwrap_or(0)).map_err(|_| Malformed)?,
            repeated: wire::last_varint(field, 4)? == Some(LABEL_REPEATED),
            kind: wire::last_varint(field, 5)?.unwrap_or(0),
            type_name: string(field, 6)?,
        });
    }
    for nested in wire::all_bytes(message, 3)? {
        collect_messages(&name, nested, out)?;
    }
    out.insert(name, fields);
    Ok(())
}

fn request_id_field(fields: &[FieldInfo]) -> Option<u32> {
    fields
        .iter()
        .find(|f| f.name == REQUEST_ID && f.kind == TYPE_STRING && !f.repeated)
        .map(|f| f.number)
}

fn key_path(messages: &HashMap<String, Vec<FieldInfo>>, input: &str) -> Option<KeyPath> {
    let fields = messages.get(input)?;
    if let Some(number) = request_id_field(fields) {
        return Some(KeyPath::Field(number));
    }
    fields
        .iter()
        .filter(|f| f.repeated && f.kind == TYPE_MESSAGE)
        .find_map(|f| {
            let item = request_id_field(messages.get(&f.type_name)?)?;
            Some(KeyPath::Items { list: f.number, item })
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn the_contract_decides_what_is_retried() {
        let methods = Methods::parse(bank_proto::FILE_DESCRIPTOR_SET).unwrap();
        let safety = |path: &str| methods.get(path).safety;
        // Reads: Get*/List* and everything bound to HTTP GET.
        for read in [
            "/bank.transfer.v1.TransferService/GetBalance",
            "/bank.account.v1.AccountService/ListAccounts",
            "/bank.auth.v1.AuthService/Me",
            "/bank.account.v1.AccountService/LookupAccount",
            "/bank.transfer.v1.TransferService/CheckIntegrity",
        ] {
            assert_eq!(safety(read), Safety::Read, "{read}");
        }
        // Money and other keyed calls.
        for keyed in [
            "/bank.transfer.v1.TransferService/Deposit",
            "/bank.transfer.v1.TransferService/CreateTransfer",
            "/bank.account.v1.AccountService/OpenAccount",
            "/bank.finance.v1.FinanceService/DecideApplication",
            "/bank.finance.v1.FinanceService/RepayLoan",
        ] {
            assert_eq!(safety(keyed), Safety::Keyed(KeyPath::Field(1)), "{keyed}");
        }
        assert_eq!(
            safety("/bank.transfer.v1.TransferService/CreateTransfers"),
            Safety::Keyed(KeyPath::Items { list: 1, item: 1 })
        );
        // No key, not a read: once.
        for once in [
            "/bank.auth.v1.AuthService/SignUp",
            "/bank.auth.v1.AuthService/Login",
            "/bank.auth.v1.AuthService/RefreshToken",
            "/bank.account.v1.AccountService/FreezeAccount",
            "/bank.finance.v1.FinanceService/SelectFinancingOption",
            "/no.such.Service/Method",
        ] {
            assert_eq!(safety(once), Safety::Once, "{once}");
        }
        let export = methods.get("/bank.account.v1.AccountService/ExportStatement");
        assert!(!export.unary && export.single_request);
        assert!(methods.get("/bank.transfer.v1.TransferService/Deposit").unary);
    }
}
