use std::fmt;

use bank_mtls::MeshChannel;
use bank_proto::bank::auth::v1::{GetJwksRequest, Jwk, auth_service_client::AuthServiceClient};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

/// The key id of an Ed25519 public key: the first 16 characters of the
/// base64url SHA-256 of the raw key. Derived, so it can never disagree with
/// the key it names.
pub fn key_id(public_key_raw: &[u8]) -> String {
    let digest = Sha256::digest(public_key_raw);
    URL_SAFE_NO_PAD.encode(digest)[..16].to_owned()
}

/// An Ed25519 key that signs access tokens (held by Auth only).
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    public_raw: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    // Only the key id: the private key never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a PKCS#8 PEM Ed25519 private key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, String> {
        let pair = rcgen::KeyPair::from_pem(pem).map_err(|e| format!("signing key: {e}"))?;
        if !pair.is_compatible(&rcgen::PKCS_ED25519) {
            return Err("signing key: must be an Ed25519 key".to_owned());
        }
        let encoding = EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|e| format!("signing key: {e}"))?;
        let public_raw = pair.public_key_raw().to_vec();
        Ok(Self {
            kid: key_id(&public_raw),
            encoding,
            public_raw,
        })
    }

    /// Generates a new key and returns it with its PKCS#8 PEM (to store in a
    /// secret; never log it).
    pub fn generate() -> Result<(Self, String), String> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(|e| e.to_string())?;
        let pem = pair.serialize_pem();
        Ok((Self::from_pkcs8_pem(&pem)?, pem))
    }

    /// The key id put in the JWT header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key for `jsonwebtoken::encode`.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The public half as a JSON Web Key.
    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: URL_SAFE_NO_PAD.encode(&self.public_raw),
            kid: self.kid.clone(),
            alg: "EdDSA".to_owned(),
            r#use: "sig".to_owned(),
        }
    }
}

/// Turns a published JWK into a verification key; anything but an Ed25519
/// signing key is refused.
pub(crate) fn decoding_key(jwk: &Jwk) -> Option<DecodingKey> {
    if jwk.kty != "OKP" || jwk.crv != "Ed25519" || (jwk.alg != "EdDSA" && !jwk.alg.is_empty()) || jwk.kid.is_empty() {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(&jwk.x).ok()?;
    (raw.len() == 32).then(|| DecodingKey::from_ed_der(&raw))
}

/// Where a [`Verifier`](crate::Verifier) gets the public keys.
pub trait KeySource: Send + Sync + 'static {
    /// The current key set.
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Jwk>, String>>;
}

/// A fixed key set: what Auth uses for its own tokens, and tests.
#[derive(Clone, Debug)]
pub struct StaticKeys(pub Vec<Jwk>);

impl KeySource for StaticKeys {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Jwk>, String>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

/// The key set published by the Auth service, fetched over the mesh.
#[derive(Clone, Debug)]
pub struct RemoteJwks {
    client: AuthServiceClient<MeshChannel>,
}

impl RemoteJwks {
    /// Fetches from the Auth service behind `channel` (an mTLS channel).
    pub fn new(channel: MeshChannel) -> Self {
        Self {
            client: AuthServiceClient::new(channel),
        }
    }
}

impl KeySource for RemoteJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Jwk>, String>> {
        let mut client = self.client.clone();
        Box::pin(async move {
            client
                .get_jwks(GetJwksRequest {})
                .await
                .map(|response| response.into_inner().keys)
                .map_err(|status| format!("fetching JWKS from auth: {}", status.message()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_pem_and_jwk() {
        let (key, pem) = SigningKey::generate().expect("generate");
        let again = SigningKey::from_pkcs8_pem(&pem).expect("load");
        assert_eq!(key.kid(), again.kid());
        let jwk = key.jwk();
        assert_eq!(jwk.kid, key.kid());
        assert!(decoding_key(&jwk).is_some());
        assert!(!format!("{key:?}").contains(&pem[30..60]));
    }

    #[test]
    fn refuses_non_ed25519_keys() {
        let pair = rcgen::KeyPair::generate().expect("p256");
        assert!(SigningKey::from_pkcs8_pem(&pair.serialize_pem()).is_err());
        let mut jwk = SigningKey::generate().expect("generate").0.jwk();
        jwk.kty = "oct".to_owned();
        assert!(decoding_key(&jwk).is_none());
    }
}
