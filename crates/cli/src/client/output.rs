//! Human output (aligned tables, amounts, dates) and `--json` output (the
//! proto3 JSON mapping of the answers, as the REST API writes them).

use std::sync::OnceLock;

use bank_client::common::Money;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::Value;

/// An aligned text table.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns named `headers`; a leading `>` right-aligns one (amounts).
    pub fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.trim_start_matches('>')).collect(),
            right: headers.iter().map(|h| h.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, two spaces between columns.
    pub fn render(&self) -> String {
        let width = |i: usize| {
            self.rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([self.headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.headers.len()).map(width).collect();
        let line = |cells: Vec<&str>| {
            let text: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    let w = widths.get(i).copied().unwrap_or(0);
                    if self.right.get(i).copied().unwrap_or(false) {
                        format!("{cell:>w$}")
                    } else {
                        format!("{cell:<w$}")
                    }
                })
                .collect();
            text.join("  ").trim_end().to_owned()
        };
        let mut out = vec![line(self.headers.clone())];
        out.extend(self.rows.iter().map(|r| line(r.iter().map(String::as_str).collect())));
        out.join("\n")
    }
}

fn pool() -> Option<&'static DescriptorPool> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(bank_client::proto::FILE_DESCRIPTOR_SET).ok())
        .as_ref()
}

/// `message` (of protobuf type `full_name`, e.g. `bank.account.v1.Account`)
/// in the proto3 JSON mapping, as the REST API writes it: lowerCamelCase
/// names, enums by name, 64-bit integers as strings, fields without
/// presence printed even when zero.
pub fn json_of(message: &impl prost::Message, full_name: &str) -> Value {
    let Some(descriptor) = pool().and_then(|p| p.get_message_by_name(full_name)) else {
        return Value::Null;
    };
    let Ok(dynamic) = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()) else {
        return Value::Null;
    };
    let options = SerializeOptions::new()
        .skip_default_fields(false)
        .stringify_64_bit_integers(true)
        .use_enum_numbers(false)
        .use_proto_field_name(false);
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &options)
        .unwrap_or(Value::Null)
}

/// JSON of each of `messages`.
pub fn json_list<M: prost::Message>(messages: &[M], full_name: &str) -> Value {
    Value::Array(messages.iter().map(|m| json_of(m, full_name)).collect())
}

/// `12.34 USD`, or an empty cell.
pub fn money(money: Option<&Money>) -> String {
    money.map(bank_client::money::format).unwrap_or_default()
}

/// An enum value's words: `ACCOUNT_TYPE_CHECKING` with prefix
/// `ACCOUNT_TYPE_` → `checking`, `MORE_INFO_REQUESTED` → `more info requested`.
pub fn words(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
        .replace('_', " ")
}

/// A timestamp as `2026-11-22 14:05` (UTC), or an empty cell.
pub fn time(timestamp: Option<&prost_types::Timestamp>) -> String {
    timestamp
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// `1234 5678 9012` for reading aloud; other strings unchanged.
pub fn account_number(number: &str) -> String {
    if number.len() == 12 && number.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {} {}", &number[..4], &number[4..8], &number[8..])
    } else {
        number.to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_amounts_go_right() {
        let mut table = Table::new(&["NAME", ">BALANCE"]);
        table.row(vec!["everyday".into(), "1.00 USD".into()]);
        table.row(vec!["rainy day fund".into(), "1234.56 USD".into()]);
        assert_eq!(
            table.render(),
            "NAME                BALANCE\neveryday           1.00 USD\nrainy day fund  1234.56 USD"
        );
    }

    #[test]
    fn json_is_the_rest_mapping() {
        let account = bank_client::account::Account {
            account_id: "a1".into(),
            r#type: bank_client::account::AccountType::Savings as i32,
            ..Default::default()
        };
        let json = json_of(&account, "bank.account.v1.Account");
        assert_eq!(json["accountId"], "a1");
        assert_eq!(json["type"], "ACCOUNT_TYPE_SAVINGS");
        assert_eq!(json["displayName"], "", "fields without presence are printed");
        let money = Money {
            amount_minor: 5,
            currency: "USD".into(),
        };
        assert_eq!(json_of(&money, "bank.common.v1.Money")["amountMinor"], "5");
        assert_eq!(
            words("APPLICATION_STATUS_MORE_INFO_REQUESTED", "APPLICATION_STATUS_"),
            "more info requested"
        );
        assert_eq!(account_number("123456789012"), "1234 5678 9012");
    }
}
