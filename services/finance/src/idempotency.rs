//! Request fingerprints for idempotency records. Each field of a request is
//! reduced to a short SHA-256 (no request of this service carries a secret,
//! but the records need not keep free text either), kept in the request's
//! field order so a mismatch can name the first field that differs.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// The RPCs that keep idempotency records (the `rpc` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rpc {
    /// FinanceService.CreateFinancingOption.
    CreateFinancingOption,
    /// FinanceService.SubmitApplication.
    SubmitApplication,
    /// FinanceService.DecideApplication.
    DecideApplication,
    /// FinanceService.RepayLoan.
    RepayLoan,
}

impl Rpc {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateFinancingOption => "CreateFinancingOption",
            Self::SubmitApplication => "SubmitApplication",
            Self::DecideApplication => "DecideApplication",
            Self::RepayLoan => "RepayLoan",
        }
    }
}

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

    /// Adds `field` with `value` (in request field order).
    pub fn field(mut self, field: &'static str, value: impl AsRef<[u8]>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(field.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_ref());
        let digest = hasher.finalize();
        let mut hex = String::with_capacity(32);
        for byte in &digest[..16] {
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
    fn mismatches_name_the_first_differing_field() {
        let a = Fingerprint::new().field("loan_id", "1").field("amount", "5:USD");
        let b = Fingerprint::new().field("loan_id", "1").field("amount", "6:USD");
        assert_eq!(a.first_mismatch(&a.encode()), None);
        assert_eq!(a.first_mismatch(&b.encode()).as_deref(), Some("amount"));
        assert!(!a.encode().contains("5:USD"), "only hashes are kept");
    }
}
