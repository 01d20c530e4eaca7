//! Where each public service lives. Built from the descriptor set, so a new
//! service in proto/ is routed without gateway code: `bank.<name>.v1.*` goes
//! to peer `<name>`.

use std::collections::HashMap;

use bank_config::PeerUrls;
use std::sync::Arc;

use bank_mtls::{MeshChannel, ReloadableTls};
use prost::Message as _;

/// Whether `service` (a full name) is for service-to-service calls only.
/// Such services are never forwarded, in any protocol.
pub fn is_internal(service: &str) -> bool {
    service.ends_with("InternalService")
}

/// Every public service in the descriptor set: `bank.*` services whose
/// names do not end with `InternalService`.
pub fn public_services(descriptor_set: &[u8]) -> anyhow::Result<Vec<String>> {
    let set = prost_types::FileDescriptorSet::decode(descriptor_set)?;
    let mut names = Vec::new();
    for file in &set.file {
        let package = file.package();
        if !package.starts_with("bank.") {
            continue;
        }
        for service in &file.service {
            let name = format!("{package}.{}", service.name());
            if !is_internal(&name) {
                names.push(name);
            }
        }
    }
    names.sort();
    Ok(names)
}

fn peer_url<'a>(peers: &'a PeerUrls, workload: &str) -> Option<&'a str> {
    match workload {
        "auth" => peers.auth.as_deref(),
        "account" => peers.account.as_deref(),
        "transfer" => peers.transfer.as_deref(),
        "finance" => peers.finance.as_deref(),
        "analytics" => peers.analytics.as_deref(),
        _ => None,
    }
}

/// One lazily connecting mTLS channel per backend workload.
#[derive(Clone, Debug)]
pub struct Backends {
    by_service: HashMap<String, (String, MeshChannel)>,
}

impl Backends {
    /// Channels for every public service whose workload has a peer URL.
    pub fn new(tls: &Arc<ReloadableTls>, peers: &PeerUrls, services: &[String]) -> anyhow::Result<Self> {
        let mut channels: HashMap<String, MeshChannel> = HashMap::new();
        let mut by_service = HashMap::new();
        for service in services {
            // bank.<workload>.v1.<Service>
            let Some(workload) = service.split('.').nth(1) else {
                continue;
            };
            let Some(url) = peer_url(peers, workload) else {
                tracing::warn!(service, workload, "no peer URL configured; its RPCs answer UNAVAILABLE");
                continue;
            };
            let channel = match channels.get(workload) {
                Some(channel) => channel.clone(),
                None => {
                    let channel = tls.endpoint(url)?.connect_lazy();
                    channels.insert(workload.to_owned(), channel.clone());
                    channel
                }
            };
            by_service.insert(service.clone(), (workload.to_owned(), channel));
        }
        Ok(Self { by_service })
    }

    /// The channel serving `service` and its workload name.
    pub fn get(&self, service: &str) -> Option<(&str, MeshChannel)> {
        self.by_service
            .get(service)
            .map(|(workload, channel)| (workload.as_str(), channel.clone()))
    }

    /// Every routed (service, workload).
    pub fn services(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_service.iter().map(|(s, (w, _))| (s.as_str(), w.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_public_services_only() {
        let services = public_services(bank_proto::FILE_DESCRIPTOR_SET).unwrap_or_default();
        assert!(services.contains(&"bank.auth.v1.AuthService".to_owned()));
        assert!(services.contains(&"bank.transfer.v1.TransferService".to_owned()));
        assert!(services.iter().all(|s| !is_internal(s)));
        assert!(!services.iter().any(|s| s.starts_with("grpc.")));
    }
}
