//! Just enough of the protobuf wire format to walk the descriptor set and
//! to fill an empty `request_id` in an encoded request without knowing its
//! Rust type. Everything else goes through prost.

/// A malformed encoding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

/// One field's value as encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32,
}

/// One encoded field: its number, value and the raw bytes (tag included).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field<'a> {
    pub number: u32,
    pub value: Value<'a>,
    pub raw: &'a [u8],
}

/// Wire type of length-delimited fields (strings, bytes, messages).
pub(crate) const LEN: u8 = 2;

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, Malformed> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos).ok_or(Malformed)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Malformed)
}

/// Appends `value` as a varint.
pub(crate) fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a length-delimited field.
pub(crate) fn put_bytes(number: u32, bytes: &[u8], out: &mut Vec<u8>) {
    put_varint((u64::from(number) << 3) | u64::from(LEN), out);
    put_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// The fields of an encoded message, in order. Groups (unused by proto3)
/// count as malformed.
pub(crate) fn fields(buf: &[u8]) -> impl Iterator<Item = Result<Field<'_>, Malformed>> {
    let mut pos = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || pos >= buf.len() {
            return None;
        }
        let start = pos;
        let field = (|| {
            let tag = varint(buf, &mut pos)?;
            let number = u32::try_from(tag >> 3).map_err(|_| Malformed)?;
            if number == 0 {
                return Err(Malformed);
            }
            let value = match tag & 7 {
                0 => Value::Varint(varint(buf, &mut pos)?),
                1 => {
                    pos = pos.checked_add(8).filter(|end| *end <= buf.len()).ok_or(Malformed)?;
                    Value::Fixed64
                }
                2 => {
                    let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| Malformed)?;
                    let end = pos.checked_add(len).filter(|end| *end <= buf.len()).ok_or(Malformed)?;
                    let bytes = &buf[pos..end];
                    pos = end;
                    Value::Bytes(bytes)
                }
                5 => {
                    pos = pos.checked_add(4).filter(|end| *end <= buf.len()).ok_or(Malformed)?;
                    Value::Fixed32
                }
                _ => return Err(Malformed),
            };
            Ok(Field {
                number,
                value,
                raw: &buf[start..pos],
            })
        })();
        failed = field.is_err();
        Some(field)
    })
}

/// The last length-delimited value of field `number` (protobuf's "last one
/// wins"), if any.
pub(crate) fn last_bytes(buf: &[u8], number: u32) -> Result<Option<&[u8]>, Malformed> {
    let mut found = None;
    for field in fields(buf) {
        let field = field?;
        if let (true, Value::Bytes(bytes)) = (field.number == number, field.value) {
            found = Some(bytes);
        }
    }
    Ok(found)
}

/// Every length-delimited value of field `number`, in order.
pub(crate) fn all_bytes(buf: &[u8], number: u32) -> Result<Vec<&[u8]>, Malformed> {
    let mut found = Vec::new();
    for field in fields(buf) {
        let field = field?;
        if let (true, Value::Bytes(bytes)) = (field.number == number, field.value) {
            found.push(bytes);
        }
    }
    Ok(found)
}

/// The last varint value of field `number`, if any.
pub(crate) fn last_varint(buf: &[u8], number: u32) -> Result<Option<u64>, Malformed> {
    let mut found = None;
    for field in fields(buf) {
        let field = field?;
        if let (true, Value::Varint(value)) = (field.number == number, field.value) {
            found = Some(value);
        }
    }
    Ok(found)
}

/// `message` with string field `number` set to `fill()` when it is absent or
/// empty; unchanged otherwise. Appending is enough: the last occurrence of
/// a field wins.
pub(crate) fn fill_string(message: &[u8], number: u32, fill: &mut dyn FnMut() -> String) -> Result<Vec<u8>, Malformed> {
    let present = last_bytes(message, number)?.is_some_and(|value| !value.is_empty());
    let mut out = message.to_vec();
    if !present {
        put_bytes(number, fill().as_bytes(), &mut out);
    }
    Ok(out)
}

/// `message` with string field `item_field` filled (see [`fill_string`]) in
/// every element of its repeated message field `number`.
pub(crate) fn fill_string_in_items(
    message: &[u8],
    number: u32,
    item_field: u32,
    fill: &mut dyn FnMut() -> String,
) -> Result<Vec<u8>, Malformed> {
    let mut out = Vec::with_capacity(message.len() + 64);
    for field in fields(message) {
        let field = field?;
        match field.value {
            Value::Bytes(item) if field.number == number => {
                put_bytes(number, &fill_string(item, item_field, fill)?, &mut out);
            }
            _ => out.extend_from_slice(field.raw),
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use bank_proto::bank::common::v1::Money;
    use bank_proto::bank::transfer::v1::{CreateTransfersRequest, DepositRequest, TransferItem};
    use prost::Message as _;

    fn counter() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("generated-{n}")
        }
    }

    #[test]
    fn fills_an_absent_request_id_and_keeps_a_given_one() {
        let request = DepositRequest {
            request_id: String::new(),
            account_id: "a".into(),
            amount: Some(Money {
                amount_minor: 5,
                currency: "USD".into(),
            }),
            description: "d".into(),
        };
        let filled = fill_string(&request.encode_to_vec(), 1, &mut counter()).unwrap();
        let decoded = DepositRequest::decode(filled.as_slice()).unwrap();
        assert_eq!(decoded.request_id, "generated-1");
        assert_eq!(decoded.account_id, "a");
        assert_eq!(decoded.amount, request.amount);

        let given = DepositRequest {
            request_id: "mine".into(),
            ..request
        };
        let kept = fill_string(&given.encode_to_vec(), 1, &mut counter()).unwrap();
        assert_eq!(kept, given.encode_to_vec());
    }

    #[test]
    fn fills_each_item_of_a_batch() {
        let item = |rid: &str| TransferItem {
            request_id: rid.into(),
            from_account_id: "f".into(),
            amount: Some(Money {
                amount_minor: 300,
                currency: "EUR".into(),
            }),
            linked: true,
            ..TransferItem::default()
        };
        let batch = CreateTransfersRequest {
            transfers: vec![item(""), item("given"), item("")],
        };
        let filled = fill_string_in_items(&batch.encode_to_vec(), 1, 1, &mut counter()).unwrap();
        let decoded = CreateTransfersRequest::decode(filled.as_slice()).unwrap();
        let ids: Vec<_> = decoded.transfers.iter().map(|t| t.request_id.as_str()).collect();
        assert_eq!(ids, ["generated-1", "given", "generated-2"]);
        assert!(decoded.transfers.iter().all(|t| t.linked && t.from_account_id == "f"));
    }

    #[test]
    fn malformed_input_is_refused() {
        assert_eq!(fill_string(&[0x0a, 0x05, b'a'], 1, &mut counter()), Err(Malformed));
        assert_eq!(fill_string(&[0x0b], 1, &mut counter()), Err(Malformed));
        assert_eq!(last_varint(&[0x08, 0x80], 1), Err(Malformed));
    }
}
