//! What the gateway answers itself over gRPC: server reflection (v1 and
//! v1alpha) and grpc.health.v1 for the whole mesh, so a reflection client
//! pointed only at the gateway lists every public service and can call it.
//! Health per service follows its backend, probed in the background.

use std::sync::Arc;
use std::time::Duration;

use bank_server::BackgroundTask;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::backends::Backends;

/// How often backends' health is probed.
pub const HEALTH_PROBE_INTERVAL_SECS: u64 = 5;
/// A probe slower than this counts as NOT_SERVING.
const HEALTH_PROBE_TIMEOUT_MS: u64 = 1_000;

/// Reflection and health routes, and the task keeping health current.
pub async fn routes(services: &[String], backends: Arc<Backends>) -> anyhow::Result<(Routes, BackgroundTask)> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", ServingStatus::Serving).await;
    for service in services {
        reporter.set_service_status(service, ServingStatus::Unknown).await;
    }
    let listed: Vec<String> = services
        .iter()
        .cloned()
        .chain(std::iter::once("grpc.health.v1.Health".to_owned()))
        .collect();
    let reflection = |builder: tonic_reflection::server::Builder<'static>| {
        listed.iter().fold(
            builder
                .register_encoded_file_descriptor_set(bank_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
            |b, name| b.with_service_name(name.clone()),
        )
    };
    let v1 = reflection(tonic_reflection::server::Builder::configure()).build_v1()?;
    let v1alpha = reflection(tonic_reflection::server::Builder::configure()).build_v1alpha()?;

    let probe = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(HEALTH_PROBE_INTERVAL_SECS));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let checks: Vec<(String, bank_mtls::MeshChannel)> = backends
                .services()
                .filter_map(|(service, _)| backends.get(service).map(|(_, ch)| (service.to_owned(), ch)))
                .collect();
            for (service, channel) in checks {
                let mut client = HealthClient::new(channel);
                let check = client.check(HealthCheckRequest {
                    service: service.clone(),
                });
                let status = match tokio::time::timeout(Duration::from_millis(HEALTH_PROBE_TIMEOUT_MS), check).await {
                    Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32 => {
                        ServingStatus::Serving
                    }
                    _ => ServingStatus::NotServing,
                };
                reporter.set_service_status(&service, status).await;
            }
        }
    });
    let routes = Routes::new(health).add_service(v1).add_service(v1alpha);
    Ok((routes, BackgroundTask::new(probe)))
}
