//! Request fingerprints for idempotency records (the shared
//! [`bank_server::Fingerprint`]). Each field of a request is reduced to a
//! keyed MAC, so a stored fingerprint of a card purchase cannot be
//! brute-forced back into a card number or CVV.

pub use bank_server::Fingerprint;

use crate::vault::CardVault;

/// The RPCs that keep idempotency records (the `rpc` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rpc {
    /// AccountService.OpenAccount.
    OpenAccount,
    /// AccountService.IssueCard.
    IssueCard,
    /// AccountService.CreateCardPurchase.
    CreateCardPurchase,
}

impl Rpc {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAccount => "OpenAccount",
            Self::IssueCard => "IssueCard",
            Self::CreateCardPurchase => "CreateCardPurchase",
        }
    }
}

/// Adding fields to a [`Fingerprint`] as MACs under the card vault's key.
pub trait MacField {
    /// Adds `field` with the MAC of `value` (in request field order).
    fn field(self, vault: &CardVault, field: &'static str, value: impl AsRef<[u8]>) -> Self;
}

impl MacField for Fingerprint {
    fn field(self, vault: &CardVault, field: &'static str, value: impl AsRef<[u8]>) -> Self {
        self.digest(field, &vault.fingerprint_mac(field, value.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::CardsConfig;

    #[test]
    fn mismatches_name_the_first_differing_field() {
        let vault = CardVault::from_config(&CardsConfig::generate("k1")).expect("vault");
        let a = Fingerprint::new()
            .field(&vault, "type", "1")
            .field(&vault, "currency", "USD")
            .field(&vault, "display_name", "");
        let b = Fingerprint::new()
            .field(&vault, "type", "1")
            .field(&vault, "currency", "EUR")
            .field(&vault, "display_name", "x");
        assert_eq!(a.first_mismatch(&a.encode()), None);
        assert_eq!(a.first_mismatch(&b.encode()).as_deref(), Some("currency"));
        let secret = Fingerprint::new().field(&vault, "cvv", "123").encode();
        assert_eq!(secret.len(), "cvv:".len() + 32, "only a MAC is kept: {secret}");
    }
}
