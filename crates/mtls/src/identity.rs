use std::fmt;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use tonic::{Request, Status};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::dev::TRUST_DOMAIN;

/// A workload identity of the mesh, `spiffe://bank.local/<name>`, read from
/// the URI subject alternative name of a certificate the mesh CA issued.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpiffeId {
    name: String,
}

impl SpiffeId {
    /// Longest workload name accepted (a DNS label).
    pub const NAME_MAX_LEN: usize = 63;

    /// The identity of workload `name` in the bank trust domain.
    pub fn for_workload(name: &str) -> Option<Self> {
        let valid = !name.is_empty()
            && name.len() <= Self::NAME_MAX_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        valid.then(|| Self { name: name.to_owned() })
    }

    /// Parses `spiffe://bank.local/<name>`; other trust domains are refused.
    pub fn parse(uri: &str) -> Option<Self> {
        let rest = uri.strip_prefix("spiffe://")?;
        let (domain, name) = rest.split_once('/')?;
        if domain != TRUST_DOMAIN {
            return None;
        }
        Self::for_workload(name)
    }

    /// The workload name, such as `auth` or `gateway`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads the identity from a DER certificate's URI SANs.
    pub fn from_certificate(cert: &CertificateDer<'_>) -> Option<Self> {
        let (_, parsed) = X509Certificate::from_der(cert.as_ref()).ok()?;
        let san = parsed.subject_alternative_name().ok()??;
        san.value.general_names.iter().find_map(|name| match name {
            GeneralName::URI(uri) => Self::parse(uri),
            _ => None,
        })
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spiffe://{TRUST_DOMAIN}/{}", self.name)
    }
}

/// The SPIFFE identity of the peer that sent `request`, from the leaf
/// certificate it presented during the mTLS handshake.
pub fn peer_identity<T>(request: &Request<T>) -> Option<SpiffeId> {
    let certs: Arc<Vec<CertificateDer<'static>>> = request.peer_certs()?;
    SpiffeId::from_certificate(certs.first()?)
}

/// The workloads allowed to call an internal service. Used as a tonic
/// interceptor: `FooInternalServiceServer::with_interceptor(svc, allow_list)`.
#[derive(Clone, Debug)]
pub struct AllowList {
    service: &'static str,
    allowed: Arc<[&'static str]>,
}

impl AllowList {
    /// Allows only the named workloads (for example `["account", "finance"]`)
    /// to call `service`.
    pub fn new(service: &'static str, allowed: &[&'static str]) -> Self {
        Self {
            service,
            allowed: allowed.into(),
        }
    }

    /// Checks the caller of `request`; PERMISSION_DENIED names the service,
    /// never the list, so a caller learns nothing about the topology.
    pub fn check<T>(&self, request: &Request<T>) -> Result<SpiffeId, Status> {
        match peer_identity(request) {
            Some(id) if self.allowed.contains(&id.name()) => Ok(id),
            Some(id) => {
                tracing::warn!(caller = %id, service = self.service, "internal RPC refused: caller not on allow-list");
                Err(Status::permission_denied(format!(
                    "workload {id} may not call {}",
                    self.service
                )))
            }
            None => Err(Status::permission_denied(format!(
                "{} needs a mesh workload certificate",
                self.service
            ))),
        }
    }
}

impl tonic::service::Interceptor for AllowList {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.check(&request)?;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_the_bank_trust_domain() {
        assert_eq!(
            SpiffeId::parse("spiffe://bank.local/auth").map(|id| id.name().to_owned()),
            Some("auth".to_owned())
        );
        assert_eq!(SpiffeId::parse("spiffe://evil.local/auth"), None);
        assert_eq!(SpiffeId::parse("spiffe://bank.local/"), None);
        assert_eq!(SpiffeId::parse("spiffe://bank.local/a/b"), None);
        assert_eq!(SpiffeId::parse("https://bank.local/auth"), None);
        assert_eq!(SpiffeId::parse("spiffe://bank.local/Auth"), None);
    }

    #[test]
    fn display_round_trips() {
        let id = SpiffeId::for_workload("transfer").expect("valid name");
        assert_eq!(SpiffeId::parse(&id.to_string()), Some(id));
    }
}
