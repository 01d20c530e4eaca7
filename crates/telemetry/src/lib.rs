//! Logging and tracing set-up shared by every bank process.
//!
//! Logs: one JSON object per line in production (timestamp, level, target,
//! fields, the span stack with service, method, request id and trace id), a
//! human format in a terminal. What is logged is decided at the call sites:
//! ids, never passwords, tokens, keys or card numbers.
//!
//! Traces: OpenTelemetry spans exported over OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (nothing is exported, and the
//! OpenTelemetry layer is not even installed, when it is not). W3C trace
//! context travels in gRPC metadata / HTTP headers (`traceparent`,
//! `tracestate`): [`extract`] on the way in, [`inject`] on the way out.

use std::io::IsTerminal;

pub use bank_config::LogFormat;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Filter used when neither `BANK_LOG` nor `RUST_LOG` is set: our own code at
/// info, the HTTP/2 and TLS plumbing only when something is wrong.
pub const DEFAULT_FILTER: &str =
    "info,h2=warn,hyper=warn,hyper_util=warn,tower=warn,rustls=warn,tokio_postgres=warn,opentelemetry=warn";
/// The environment variable that turns OTLP export on.
pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

fn filter() -> EnvFilter {
    std::env::var("BANK_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER))
}

/// Keeps the tracer provider alive; flushes spans when dropped.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Exports every finished span now.
    pub fn flush(&self) {
        if let Some(provider) = &self.provider {
            let _ = provider.force_flush();
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

fn service_name() -> String {
    std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "bank".to_owned())
}

fn otlp_provider() -> Option<SdkTracerProvider> {
    let endpoint = std::env::var(OTLP_ENDPOINT_ENV).ok().filter(|e| !e.is_empty())?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build();
    match exporter {
        Ok(exporter) => Some(provider_with(exporter, true)),
        Err(error) => {
            eprintln!("OTLP export disabled: {error}");
            None
        }
    }
}

fn provider_with<E: SpanExporter + 'static>(exporter: E, batch: bool) -> SdkTracerProvider {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name())
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let builder = if batch {
        builder.with_batch_exporter(exporter)
    } else {
        builder.with_simple_exporter(exporter)
    };
    builder.build()
}

/// Installs the global subscriber writing to stdout (JSON unless stdout is
/// a terminal, or as `format` says), with OTLP export when configured.
pub fn init(format: LogFormat) -> TelemetryGuard {
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    install(json, std::io::stdout, otlp_provider())
}

/// Installs the global subscriber writing to `writer`; tests use this to
/// capture every log line a service emits.
pub fn init_with_writer<W>(json: bool, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    std::mem::forget(install(json, writer, None));
}

/// Installs the global subscriber with `exporter` receiving every span
/// (tests use an in-memory exporter).
pub fn init_with_exporter<E: SpanExporter + 'static>(exporter: E) -> TelemetryGuard {
    install(false, std::io::sink, Some(provider_with(exporter, false)))
}

fn install<W>(json: bool, writer: W, provider: Option<SdkTracerProvider>) -> TelemetryGuard
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("bank")));
    let registry = tracing_subscriber::registry().with(filter()).with(otel);
    let result = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(writer),
            )
            .try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().with_writer(writer))
            .try_init()
    };
    // Already initialised (a test harness or a second call): keep the first.
    if result.is_err() {
        return TelemetryGuard::default();
    }
    TelemetryGuard { provider }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Makes `span` a child of the W3C trace context in `headers` (if any) and
/// returns the trace id now carried by the span (32 hex characters; empty
/// when tracing is off and no context came in).
pub fn extract(span: &tracing::Span, headers: &http::HeaderMap) -> String {
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent.clone());
    }
    let own = span.context().span().span_context().trace_id();
    if own != opentelemetry::trace::TraceId::INVALID {
        return own.to_string();
    }
    let incoming = parent.span().span_context().trace_id();
    if incoming == opentelemetry::trace::TraceId::INVALID {
        String::new()
    } else {
        incoming.to_string()
    }
}

/// Writes the W3C trace context of the current span into `headers`.
pub fn inject(headers: &mut http::HeaderMap) {
    let context = tracing::Span::current().context();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&context, &mut HeaderInjector(headers));
    }
}

/// The trace id of the current span (32 hex characters), or empty.
pub fn current_trace_id() -> String {
    let id = tracing::Span::current().context().span().span_context().trace_id();
    if id == opentelemetry::trace::TraceId::INVALID {
        String::new()
    } else {
        id.to_string()
    }
}
