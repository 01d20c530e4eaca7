//! Request fingerprints for idempotency records: one short digest per
//! request field, in the request's field order, so a retry under the same
//! key with a different request can be refused naming the first field that
//! differs. How a field is digested is the service's choice (a keyed MAC
//! where a field is secret, a plain hash otherwise); only the digest is
//! kept.

use std::fmt::Write as _;

/// Bytes of each field's digest that are kept: plenty to tell requests apart.
pub const FIELD_DIGEST_BYTES: usize = 16;

/// The fingerprint of one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    fields: Vec<(&'static str, String)>,
}

impl Fingerprint {
    /// An empty fingerprint.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `field` with the digest of its value (in request field order);
    /// the first [`FIELD_DIGEST_BYTES`] bytes are kept.
    pub fn digest(mut self, field: &'static str, digest: &[u8]) -> Self {
        let kept = &digest[..digest.len().min(FIELD_DIGEST_BYTES)];
        let mut hex = String::with_capacity(2 * kept.len());
        for byte in kept {
            let _ = write!(hex, "{byte:02x}");
        }
        self.fields.push((field, hex));
        self
    }

    /// The stored form: `field:hex` lines.
    pub fn encode(&self) -> String {
        self.fields
            .iter()
            .map(|(field, hex)| format!("{field}:{hex}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The first field in which `stored` differs from this request, or
    /// `None` when they are the same request.
    pub fn first_mismatch(&self, stored: &str) -> Option<String> {
        let mut theirs = stored.lines().map(|line| line.split_once(':').unwrap_or((line, "")));
        for (field, hex) in &self.fields {
            match theirs.next() {
                Some((name, value)) if name == *field && value == hex => {}
                _ => return Some((*field).to_owned()),
            }
        }
        theirs.next().map(|(name, _)| name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatches_name_the_first_differing_field_and_keep_only_digests() {
        let a = Fingerprint::new().digest("type", &[1; 32]).digest("currency", &[2; 32]);
        let b = Fingerprint::new().digest("type", &[1; 32]).digest("currency", &[3; 32]);
        assert_eq!(a.first_mismatch(&a.encode()), None);
        assert_eq!(a.first_mismatch(&b.encode()).as_deref(), Some("currency"));
        let longer = a.clone().digest("extra", &[4; 32]);
        assert_eq!(a.first_mismatch(&longer.encode()).as_deref(), Some("extra"));
        assert_eq!(longer.first_mismatch(&a.encode()).as_deref(), Some("extra"));
        assert_eq!(a.encode().lines().next(), Some("type:01010101010101010101010101010101"));
    }
}
