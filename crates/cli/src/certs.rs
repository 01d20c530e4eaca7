use std::path::Path;

use bank_authn::SigningKey;
use bank_mtls::{DevCa, SERVICE_NAMES};
use base64::Engine as _;
use rand::RngCore as _;

/// The Ed25519 key Auth signs access tokens with, in the certs directory.
pub const JWT_KEY_FILE: &str = "jwt-signing.pem";
/// The bootstrap admin's generated password, in the certs directory.
pub const ADMIN_PASSWORD_FILE: &str = "admin.password";
/// The key (base64 of 32 random bytes) that encrypts card numbers at rest;
/// its id is `dev1`.
pub const CARD_KEY_FILE: &str = "card-dev1.key";
/// The issuer's CVV key (base64 of 32 random bytes).
pub const CVV_KEY_FILE: &str = "cvv.key";

/// What `write_dev_certs` did.
#[derive(Debug, PartialEq, Eq)]
pub enum CertsOutcome {
    /// New material was written.
    Written,
    /// The directory already had a CA; nothing was changed.
    Kept,
}

fn write_secret(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    // Private keys and passwords: readable by the owner only.
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// Writes a development CA certificate (`ca.crt`; its key is discarded, so
/// adding a workload means `--force` regenerating all), a certificate and key per
/// workload (`<name>.crt`, `<name>.key`, SPIFFE id
/// `spiffe://bank.local/<name>`), the JWT signing key and a random
/// bootstrap-admin password into `dir`. Keeps an existing set unless
/// `force`.
pub fn write_dev_certs(dir: &Path, force: bool) -> anyhow::Result<CertsOutcome> {
    if dir.join("ca.crt").exists() && !force {
        return Ok(CertsOutcome::Kept);
    }
    std::fs::create_dir_all(dir)?;
    let ca = DevCa::generate("bank mesh development CA")?;
    std::fs::write(dir.join("ca.crt"), ca.cert_pem())?;
    for name in SERVICE_NAMES {
        let cert = ca.issue(name)?;
        std::fs::write(dir.join(format!("{name}.crt")), &cert.cert_pem)?;
        write_secret(&dir.join(format!("{name}.key")), &cert.key_pem)?;
    }
    let (_, jwt_pem) = SigningKey::generate().map_err(anyhow::Error::msg)?;
    write_secret(&dir.join(JWT_KEY_FILE), &jwt_pem)?;
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    write_secret(&dir.join(ADMIN_PASSWORD_FILE), &password)?;
    for file in [CARD_KEY_FILE, CVV_KEY_FILE] {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        write_secret(&dir.join(file), &base64::engine::general_purpose::STANDARD.encode(key))?;
    }
    Ok(CertsOutcome::Written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_complete_set_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            write_dev_certs(dir.path(), false).expect("write"),
            CertsOutcome::Written
        );
        for name in SERVICE_NAMES {
            let tls = bank_mtls::MeshTls::load(
                &dir.path().join("ca.crt"),
                &dir.path().join(format!("{name}.crt")),
                &dir.path().join(format!("{name}.key")),
            )
            .expect("loads");
            assert_eq!(tls.identity().name(), name);
        }
        let ca_before = std::fs::read(dir.path().join("ca.crt")).expect("ca");
        assert_eq!(write_dev_certs(dir.path(), false).expect("keep"), CertsOutcome::Kept);
        assert_eq!(std::fs::read(dir.path().join("ca.crt")).expect("ca"), ca_before);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("auth.key"))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "private keys are owner-only");
        }
    }
}
