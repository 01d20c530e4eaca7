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
