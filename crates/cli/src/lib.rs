//! The `bank` command's library: writing development certificates and keys,
//! migrating every service's database, and starting the whole mesh in one
//! process with the same `serve` functions the per-service binaries use.
//! The cross-service tests start the mesh through [`start`] too.

mod certs;
mod mesh;

pub use certs::{ADMIN_PASSWORD_FILE, CARD_KEY_FILE, CVV_KEY_FILE, CertsOutcome, JWT_KEY_FILE, write_dev_certs};
pub use mesh::{GATEWAY_PORT, MeshSettings, RunningMesh, SERVICES, migrate, start};
