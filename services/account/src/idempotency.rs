//! Request fingerprints for idempotency records. Each field of a request is
//! reduced to a keyed MAC (so a stored fingerprint of a card purchase
//! cannot be brute-forced back into a card number or CVV), kept in the
//! request's field order so a mismatch can name the first field that
//! differs.

use std::fmt::Write as _;

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

/// The fingerprint of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    fields: Vec<(&'static str, String)>,
}

impl Fingerprint {
    /// An empty fingerprint.
    pub fn new() -> Self {
        Self { fields: Vec::new() }
    }

    /// Adds `field` with `value` (in request field order).
    pub fn field(mut self, vault: &CardVault, field: &'static str, value: impl AsRef<[u8]>) -> Self {
        let mac = vault.fingerprint_mac(field, value.as_ref());
        let mut hex = String::with_capacity(32);
        // Half the MAC is plenty to tell requests apart.
        for byte in &mac[..16] {
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

impl Default for Fingerprint {
    fn default() -> Self {
        Self::new()
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
