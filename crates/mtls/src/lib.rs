//! Mutual TLS for the bank mesh: load the mesh CA, a certificate and its key;
//! build rustls server and client configurations; accept TLS connections for
//! tonic; read a peer's SPIFFE identity from its certificate; and enforce the
//! allow-lists of internal RPCs. Also issues development certificates.

mod dev;
mod identity;
mod incoming;
mod material;
mod reload;

pub use dev::{DEV_CERT_VALIDITY_DAYS, DevCa, IssuedCert, SERVICE_NAMES, TRUST_DOMAIN};
pub use identity::{AllowList, SpiffeId, peer_identity};
pub use incoming::{TLS_HANDSHAKE_TIMEOUT_SECS, tls_incoming};
pub use material::{MeshTls, TlsError};
pub use reload::{MeshChannel, MeshEndpoint, Propagate, ReloadableTls, TLS_RELOAD_INTERVAL_SECS};

/// Makes a mesh server never resume a TLS session. A resumed session skips
/// the client certificate check, so a certificate revoked (CRL) or expired
/// since its first handshake would keep working on every reconnect of a
/// client that kept its session. Reconnects are rare (servers recycle a
/// connection every few minutes), so the full handshakes cost little.
fn without_resumption(config: &mut rustls::ServerConfig) {
    config.session_storage = std::sync::Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
}
