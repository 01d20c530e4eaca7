//! Request fingerprints for idempotency records (the shared
//! [`bank_server::Fingerprint`]). Each field of a request is reduced to a
//! short SHA-256: no request of this service carries a secret, but the
//! records need not keep free text either.

pub use bank_server::Fingerprint;
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

/// Adding fields to a [`Fingerprint`] as SHA-256 digests.
pub trait HashField {
    /// Adds `field` with the hash of `value` (in request field order).
    fn field(self, field: &'static str, value: impl AsRef<[u8]>) -> Self;
}

impl HashField for Fingerprint {
    fn field(self, field: &'static str, value: impl AsRef<[u8]>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(field.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_ref());
        self.digest(field, &hasher.finalize())
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
