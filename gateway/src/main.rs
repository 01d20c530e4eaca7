//! The gateway as its own process (Kubernetes); `bank up` runs the same
//! `serve` in one process for local development.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let file = std::env::var_os("BANK_CONFIG").map(std::path::PathBuf::from);
    let config: bank_gateway::Config = bank_config::load(file.as_deref())?;
    let _telemetry = bank_telemetry::init(config.log_format);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    bank_gateway::serve(config, listener, bank_server::shutdown_signal()).await
}
