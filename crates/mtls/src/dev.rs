use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

/// The SPIFFE trust domain of the mesh.
pub const TRUST_DOMAIN: &str = "bank.local";

/// Every workload that gets a certificate from `bank certs`.
pub const SERVICE_NAMES: [&str; 6] = ["auth", "account", "transfer", "finance", "analytics", "gateway"];

fn rand_fill(bytes: &mut [u8]) {
    use rand::RngCore as _;
    rand::rng().fill_bytes(bytes);
}

/// A development certificate authority. Production certificates come from
/// cert-manager or a secret; this one exists so `make run` and the tests work
/// on a fresh machine.
pub struct DevCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCa").finish_non_exhaustive()
    }
}

/// A certificate and its private key, PEM encoded.
pub struct IssuedCert {
    /// The certificate.
    pub cert_pem: String,
    /// The PKCS#8 private key. Keep it out of logs and out of git.
    pub key_pem: String,
    /// The serial number (for revocation lists).
    pub serial: Vec<u8>,
}

/// Development certificates are valid for this long.
pub const DEV_CERT_VALIDITY_DAYS: i64 = 365;

impl std::fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCert").finish_non_exhaustive()
    }
}

impl DevCa {
    /// Generates a new CA (ECDSA P-256) named `common_name`.
    pub fn generate(common_name: &str) -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "bank mesh development");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(10 * DEV_CERT_VALIDITY_DAYS);
        let key = KeyPair::generate()?;
        Ok(Self {
            issuer: CertifiedIssuer::self_signed(params, key)?,
        })
    }

    /// The CA certificate, PEM encoded: what every workload trusts.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// Issues a certificate for workload `name`: URI SAN
    /// `spiffe://bank.local/<name>`, DNS SANs `localhost` and `<name>`, IP
    /// SANs for loopback, usable as both server and client certificate.
    pub fn issue(&self, name: &str) -> Result<IssuedCert, rcgen::Error> {
        let now = time::OffsetDateTime::now_utc();
        self.issue_valid(
            name,
            now - time::Duration::hours(1),
            now + time::Duration::days(DEV_CERT_VALIDITY_DAYS),
        )
    }

    /// Like [`DevCa::issue`], valid from `not_before` to `not_after`.
    pub fn issue_valid(
        &self,
        name: &str,
        not_before: time::OffsetDateTime,
        not_after: time::OffsetDateTime,
    ) -> Result<IssuedCert, rcgen::Error> {
        let mut params = CertificateParams::new(vec!["localhost".to_owned(), name.to_owned()])?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params
            .subject_alt_names
            .push(SanType::URI(format!("spiffe://{TRUST_DOMAIN}/{name}").try_into()?));
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = not_before;
        params.not_after = not_after;
        let mut serial = [0u8; 16];
        rand_fill(&mut serial);
        // A positive DER integer: clear the top bit.
        serial[0] &= 0x7f;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial: serial.to_vec(),
        })
    }

    /// A PEM certificate revocation list naming `serials`, valid for a day.
    pub fn crl(&self, serials: &[Vec<u8>]) -> Result<String, rcgen::Error> {
        let now = time::OffsetDateTime::now_utc();
        let params = rcgen::CertificateRevocationListParams {
            this_update: now - time::Duration::minutes(1),
            next_update: now + time::Duration::days(1),
            crl_number: rcgen::SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|serial| rcgen::RevokedCertParams {
                    serial_number: rcgen::SerialNumber::from_slice(serial),
                    revocation_time: now - time::Duration::minutes(1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        params.signed_by(&self.issuer)?.pem()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MeshTls;

    #[test]
    fn issued_certificates_carry_the_workload_identity() {
        let ca = DevCa::generate("test CA").expect("CA");
        let cert = ca.issue("transfer").expect("cert");
        let tls = MeshTls::from_pem(ca.cert_pem(), cert.cert_pem, cert.key_pem).expect("material");
        assert_eq!(tls.identity().name(), "transfer");
        assert!(tls.server_config(false).is_ok());
        assert!(tls.client_config().is_ok());
    }
}
