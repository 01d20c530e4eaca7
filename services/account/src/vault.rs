//! Card cryptography. PANs are encrypted with AES-256-GCM under a named key
//! (the card id is the associated data, so a ciphertext moved to another
//! row does not decrypt); any configured key decrypts, only the active one
//! encrypts, so keys rotate without re-encrypting old cards. The CVV is
//! never stored: it is HMAC-SHA-256 over PAN and expiry under the issuer's
//! CVV key, cut to 3 digits, recomputed to verify a purchase. Two more keys
//! are derived from the CVV key: one to find a card by its number (a keyed
//! MAC, so the index reveals nothing without the key) and one for
//! idempotency fingerprints (so a stored fingerprint of a purchase request
//! cannot be brute-forced back into a card number or CVV).

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use bank_config::{ExposeSecret, SecretString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::domain::{Cvv, Expiry, IssuerPrefix, Pan};

/// Length of an AES-256 key, in bytes.
pub const CARD_KEY_BYTES: usize = 32;
/// Shortest CVV key accepted, in bytes (HMAC-SHA-256 block security).
pub const CVV_KEY_MIN_BYTES: usize = 32;
/// Length of an AES-GCM nonce, in bytes.
const NONCE_BYTES: usize = 12;
/// Longest key id, in characters.
const KEY_ID_MAX_CHARS: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Card keys. Every key is base64 (standard alphabet) of random bytes.
#[derive(Clone, Debug, Deserialize)]
pub struct CardsConfig {
    /// The 6-digit issuer identification number every PAN starts with.
    #[serde(default = "default_issuer_prefix")]
    pub issuer_prefix: String,
    /// PAN encryption keys by id (`[A-Za-z0-9_-]{1,32}`), each 32 bytes.
    /// Keep retired keys here as long as cards encrypted under them live.
    pub keys: BTreeMap<String, SecretString>,
    /// The id of the key that encrypts new cards.
    pub active_key: String,
    /// The issuer's CVV key, at least 32 bytes. Changing it invalidates the
    /// CVV of every issued card (as at a real issuer).
    pub cvv_key: SecretString,
}

fn default_issuer_prefix() -> String {
    "400000".to_owned()
}

impl CardsConfig {
    /// A config with fresh random keys (development and tests), one key
    /// named `key_id`.
    pub fn generate(key_id: &str) -> Self {
        let mut rng = rand::rng();
        let mut key = [0_u8; CARD_KEY_BYTES];
        rng.fill_bytes(&mut key);
        let mut cvv = [0_u8; CVV_KEY_MIN_BYTES];
        rng.fill_bytes(&mut cvv);
        Self {
            issuer_prefix: default_issuer_prefix(),
            keys: BTreeMap::from([(key_id.to_owned(), SecretString::from(STANDARD.encode(key)))]),
            active_key: key_id.to_owned(),
            cvv_key: SecretString::from(STANDARD.encode(cvv)),
        }
    }
}

/// A card secret could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The card was encrypted under a key that is no longer configured.
    #[error("card key {0:?} is not configured")]
    UnknownKey(String),
    /// Authentication failed: wrong key, tampered or moved ciphertext.
    #[error("card ciphertext does not authenticate")]
    Corrupt,
}

/// The card keys, loaded and checked.
pub struct CardVault {
    issuer_prefix: IssuerPrefix,
    ciphers: BTreeMap<String, Aes256Gcm>,
    active: String,
    cvv_key: Vec<u8>,
    index_key: Vec<u8>,
    fingerprint_key: Vec<u8>,
}

impl fmt::Debug for CardVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardVault")
            .field("issuer_prefix", &self.issuer_prefix)
            .field("key_ids", &self.ciphers.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl CardVault {
    /// Checks and loads `config`.
    pub fn from_config(config: &CardsConfig) -> anyhow::Result<Self> {
        let issuer_prefix =
            IssuerPrefix::parse(&config.issuer_prefix).map_err(|e| anyhow::anyhow!("cards.issuer_prefix {e}"))?;
        let mut ciphers = BTreeMap::new();
        for (id, key) in &config.keys {
            let valid_id = !id.is_empty()
                && id.len() <= KEY_ID_MAX_CHARS
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            anyhow::ensure!(valid_id, "cards.keys: key id {id:?} must match [A-Za-z0-9_-]{{1,32}}");
            let bytes = STANDARD
                .decode(key.expose_secret().trim())
                .map_err(|_| anyhow::anyhow!("cards.keys.{id} is not base64"))?;
            anyhow::ensure!(
                bytes.len() == CARD_KEY_BYTES,
                "cards.keys.{id} must be {CARD_KEY_BYTES} bytes, not {}",
                bytes.len()
            );
            let cipher =
                Aes256Gcm::new_from_slice(&bytes).map_err(|_| anyhow::anyhow!("cards.keys.{id}: bad key length"))?;
            ciphers.insert(id.clone(), cipher);
        }
        anyhow::ensure!(
            ciphers.contains_key(&config.active_key),
            "cards.active_key {:?} is not one of cards.keys",
            config.active_key
        );
        let cvv_key = STANDARD
            .decode(config.cvv_key.expose_secret().trim())
            .map_err(|_| anyhow::anyhow!("cards.cvv_key is not base64"))?;
        anyhow::ensure!(
            cvv_key.len() >= CVV_KEY_MIN_BYTES,
            "cards.cvv_key must be at least {CVV_KEY_MIN_BYTES} bytes"
        );
        let index_key = mac(&cvv_key, &[b"bank.account.pan-index.v1"]).to_vec();
        let fingerprint_key = mac(&cvv_key, &[b"bank.account.idempotency-fingerprint.v1"]).to_vec();
        Ok(Self {
            issuer_prefix,
            ciphers,
            active: config.active_key.clone(),
            cvv_key,
            index_key,
            fingerprint_key,
        })
    }

    /// The issuer prefix of new PANs.
    pub fn issuer_prefix(&self) -> &IssuerPrefix {
        &self.issuer_prefix
    }

    /// Encrypts `pan` for card `card_id` under the active key: (key id,
    /// nonce || ciphertext || tag).
    pub fn encrypt(&self, card_id: Uuid, pan: &Pan) -> anyhow::Result<(String, Vec<u8>)> {
        let cipher = self
            .ciphers
            .get(&self.active)
            .ok_or_else(|| anyhow::anyhow!("active card key missing"))?;
        let mut nonce = [0_u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: pan.expose().as_bytes(),
                    aad: card_id.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("PAN encryption failed"))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok((self.active.clone(), out))
    }

    /// Decrypts the PAN of card `card_id`.
    pub fn decrypt(&self, card_id: Uuid, key_id: &str, sealed: &[u8]) -> Result<Pan, VaultError> {
        let cipher = self
            .ciphers
            .get(key_id)
            .ok_or_else(|| VaultError::UnknownKey(key_id.to_owned()))?;
        if sealed.len() <= NONCE_BYTES {
            return Err(VaultError::Corrupt);
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| VaultError::Corrupt)?;
        let plain = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: card_id.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Corrupt)?;
        let digits = String::from_utf8(plain).map_err(|_| VaultError::Corrupt)?;
        Pan::parse(&digits).map_err(|_| VaultError::Corrupt)
    }

    /// The keyed MAC under which a card is found by its number.
    pub fn pan_index(&self, pan: &Pan) -> [u8; 32] {
        mac(&self.index_key, &[pan.expose().as_bytes()])
    }

    /// The card's CVV: HMAC-SHA-256(cvv_key, PAN || MMYY), first 8 bytes
    /// as a number, mod 1000, three digits.
    pub fn cvv(&self, pan: &Pan, expiry: Expiry) -> Cvv {
        let digest = mac(&self.cvv_key, &[pan.expose().as_bytes(), expiry.mmyy().as_bytes()]);
        let mut head = [0_u8; 8];
        head.copy_from_slice(&digest[..8]);
        Cvv::from_digits(u16::try_from(u64::from_be_bytes(head) % 1000).unwrap_or(0))
    }

    /// Whether `presented` is the card's CVV (constant-time comparison).
    pub fn verify_cvv(&self, pan: &Pan, expiry: Expiry, presented: &Cvv) -> bool {
        let expected = self.cvv(pan, expiry);
        bool::from(expected.expose().as_bytes().ct_eq(presented.expose().as_bytes()))
    }

    /// A keyed MAC of one request field for idempotency fingerprints.
    pub fn fingerprint_mac(&self, field: &str, value: &[u8]) -> [u8; 32] {
        mac(&self.fingerprint_key, &[field.as_bytes(), &[0], value])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(config: &CardsConfig) -> CardVault {
        CardVault::from_config(config).expect("vault")
    }

    #[test]
    fn pans_round_trip_and_survive_key_rotation() {
        let mut config = CardsConfig::generate("k1");
        let first = vault(&config);
        let pan = Pan::generate(first.issuer_prefix());
        let card = Uuid::new_v4();
        let (key_id, sealed) = first.encrypt(card, &pan).expect("encrypt");
        assert_eq!(key_id, "k1");
        assert!(!sealed.windows(16).any(|w| w == pan.expose().as_bytes()));

        let k2 = CardsConfig::generate("k2");
        config.keys.extend(k2.keys);
        config.active_key = "k2".to_owned();
        let rotated = vault(&config);
        assert_eq!(rotated.decrypt(card, &key_id, &sealed).expect("old card"), pan);
        assert_eq!(rotated.encrypt(card, &pan).expect("encrypt").0, "k2");
        // The ciphertext is bound to its card.
        assert!(matches!(
            rotated.decrypt(Uuid::new_v4(), &key_id, &sealed),
            Err(VaultError::Corrupt)
        ));
        // Dropping the old key makes old cards unreadable, loudly.
        config.keys.remove("k1");
        assert!(matches!(
            vault(&config).decrypt(card, &key_id, &sealed),
            Err(VaultError::UnknownKey(_))
        ));
    }

    #[test]
    fn cvv_depends_on_pan_and_expiry_and_verifies() {
        let v = vault(&CardsConfig::generate("k1"));
        let pan = Pan::generate(v.issuer_prefix());
        let expiry = Expiry::new(11, 2029).expect("expiry");
        let cvv = v.cvv(&pan, expiry);
        assert_eq!(cvv.expose().len(), 3);
        assert!(v.verify_cvv(&pan, expiry, &cvv));
        assert_eq!(v.cvv(&pan, expiry), cvv, "deterministic");
        let wrong = Cvv::from_digits((cvv.expose().parse::<u16>().expect("digits") + 1) % 1000);
        assert!(!v.verify_cvv(&pan, expiry, &wrong));
    }

    #[test]
    fn bad_configs_are_refused() {
        let mut config = CardsConfig::generate("k1");
        config.active_key = "nope".to_owned();
        assert!(CardVault::from_config(&config).is_err());
        let mut config = CardsConfig::generate("k1");
        config
            .keys
            .insert("short".to_owned(), SecretString::from(STANDARD.encode([1_u8; 16])));
        assert!(CardVault::from_config(&config).is_err());
        let mut config = CardsConfig::generate("k1");
        config.issuer_prefix = "12".to_owned();
        assert!(CardVault::from_config(&config).is_err());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let config = CardsConfig::generate("k1");
        let key = config.keys["k1"].expose_secret().to_owned();
        let text = format!("{:?} {:?}", vault(&config), config);
        assert!(!text.contains(&key));
        assert!(!text.contains(config.cvv_key.expose_secret()));
    }
}
