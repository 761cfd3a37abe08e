//! OpenTelemetry traces, exported over OTLP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! [`init`] builds the pipeline: a `tracing` layer that turns spans into OpenTelemetry spans,
//! a batch processor on a thread of its own, and an OTLP/HTTP exporter configured by the
//! standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
//! `OTEL_EXPORTER_OTLP_PROTOCOL` = `http/protobuf` (default) or `http/json`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`). [`OtelTraceContext`] is the engine's
//! [`TraceContext`]: it continues a task's stored W3C `traceparent` in its steps' spans.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::collections::HashMap;
use std::sync::Arc;
use tasker_engine::TraceContext;
use tracing::Span;
use tracing::level_filters::LevelFilter;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

/// The variables that turn the export on; the signal-specific one wins, as the OTLP
/// specification says.
const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// Why trace export cannot be set up from the environment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint cannot be used (not a URL, or a scheme this build cannot speak).
    #[error("{variable}: {why}")]
    Endpoint {
        /// The environment variable that holds it.
        variable: String,
        /// What is wrong with it.
        why: String,
    },
    /// The exporter could not be built from the configuration.
    #[error("cannot start the OTLP trace exporter: {0}")]
    Exporter(String),
}

/// How spans travel to the collector (OTLP over HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// `application/x-protobuf`, the OTLP default.
    Protobuf,
    /// `application/json`.
    Json,
}

/// A running trace export. Dropping it flushes what is buffered and stops the export.
pub struct TraceExport {
    provider: SdkTracerProvider,
}

impl std::fmt::Debug for TraceExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceExport").finish_non_exhaustive()
    }
}

/// Starts exporting traces when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and not empty; `Ok(None)` otherwise, and
/// nothing is exported. `service_name` is used unless `OTEL_SERVICE_NAME` says otherwise. Add
/// [`TraceExport::layer`] to the process's `tracing` subscriber and keep the export alive
/// until the end of the process.
pub fn init(service_name: &str) -> Result<Option<TraceExport>, Error> {
    let Some((variable, endpoint)) = ENDPOINT_VARS.iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*name, v))
    }) else {
        return Ok(None);
    };
    check_endpoint(variable, &endpoint)?;
    // The exporter reads the endpoint, protocol, headers and time-out from the same variables.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| Error::Exporter(e.to_string()))?;
    Ok(Some(TraceExport::with_exporter(service_name, exporter)))
}

impl TraceExport {
    /// Exports to the OTLP/HTTP receiver at `endpoint` (a base URL such as
    /// `http://127.0.0.1:4318`; `/v1/traces` is appended), whatever the environment says
    /// about the endpoint and encoding.
    pub fn to_endpoint(
        service_name: &str,
        endpoint: &str,
        encoding: Encoding,
    ) -> Result<TraceExport, Error> {
        check_endpoint("endpoint", endpoint)?;
        let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        let protocol = match encoding {
            Encoding::Protobuf => Protocol::HttpBinary,
            Encoding::Json => Protocol::HttpJson,
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(url)
            .with_protocol(protocol)
            .build()
            .map_err(|e| Error::Exporter(e.to_string()))?;
        Ok(TraceExport::with_exporter(service_name, exporter))
    }

    fn with_exporter(service_name: &str, exporter: opentelemetry_otlp::SpanExporter) -> Self {
        let mut resource = Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name(service_name.to_owned());
        }
        let provider = SdkTracerProvider::builder()
            .with_resource(resource.build())
            .with_batch_exporter(exporter)
            .build();
        TraceExport { provider }
    }

    /// The `tracing` layer that exports spans: Tasker's own spans (the `tasker*` targets:
    /// tasks, step attempts, API requests) at `INFO` and above, and the HTTP request spans
    /// of `tower_http` at `DEBUG` and above. Its filter is its own, so it exports these
    /// whatever the log filter shows.
    pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        let tracer = self.provider.tracer("tasker");
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(export_filter())
    }

    /// Sends every span ended so far, waiting for the collector's answer.
    pub fn flush(&self) -> Result<(), Error> {
        self.provider
            .force_flush()
            .map_err(|e| Error::Exporter(e.to_string()))
    }
}

impl Drop for TraceExport {
    fn drop(&mut self) {
        // Flushes the batch; an unreachable collector costs at most the export time-out.
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "cannot flush the last traces");
        }
    }
}

fn export_filter() -> Targets {
    Targets::new()
        .with_target("tasker", LevelFilter::INFO)
        .with_target("tower_http", LevelFilter::DEBUG)
}

/// Refuses an endpoint the exporter could only fail on later, span batch after span batch.
fn check_endpoint(variable: &str, endpoint: &str) -> Result<(), Error> {
    let bad = |why: &str| Error::Endpoint {
        variable: variable.to_owned(),
        why: format!("{why}, got {endpoint:?}"),
    };
    let rest = endpoint
        .trim()
        .strip_prefix("http://")
        .ok_or_else(|| {
            if endpoint.trim().starts_with("https://") {
                bad("https is not supported by this build (no TLS); export to a collector over http, e.g. http://127.0.0.1:4318")
            } else {
                bad("must be an http:// URL, e.g. http://127.0.0.1:4318")
            }
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("must name a host, e.g. http://127.0.0.1:4318"));
    }
    Ok(())
}

/// The engine's [`TraceContext`], over `tracing-opentelemetry` and the W3C propagator. Spans
/// it is given are OpenTelemetry spans only when the [`TraceExport::layer`] is installed;
/// otherwise it sets no parent and names none.
#[derive(Debug, Default, Clone, Copy)]
pub struct OtelTraceContext;

impl OtelTraceContext {
    /// As the engine takes it (`EngineConfig::trace_context`).
    pub fn shared() -> Arc<dyn TraceContext> {
        Arc::new(OtelTraceContext)
    }
}

const TRACEPARENT: &str = "traceparent";

impl TraceContext for OtelTraceContext {
    fn set_parent(&self, span: &Span, traceparent: &str) {
        let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
        let parent = TraceContextPropagator::new().extract(&carrier);
        if !parent.span().span_context().is_valid() {
            tracing::debug!(%traceparent, "not a valid traceparent; the span starts a trace of its own");
            return;
        }
        // Fails only when the span is not traced (no layer, or filtered out): nothing to link.
        let _ = span.set_parent(parent);
    }

    fn traceparent(&self, span: &Span) -> Option<String> {
        let context = span.context();
        if !context.span().span_context().is_valid() {
            return None;
        }
        let mut carrier = HashMap::new();
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
        carrier.remove(TRACEPARENT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_endpoints_with_a_host_are_accepted() {
        assert!(check_endpoint("E", "http://127.0.0.1:4318").is_ok());
        assert!(check_endpoint("E", "http://collector:4318/").is_ok());
        let err = check_endpoint("OTEL_EXPORTER_OTLP_ENDPOINT", "https://api.example.com")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("OTEL_EXPORTER_OTLP_ENDPOINT: https is not supported"),
            "{err}"
        );
        for bad in ["localhost:4318", "http://", "http:///v1/traces", "ftp://x"] {
            let err = check_endpoint("E", bad).unwrap_err().to_string();
            assert!(err.starts_with("E: must"), "{bad}: {err}");
        }
    }

    #[test]
    fn without_the_layer_no_span_is_linked_or_named() {
        let span = tracing::info_span!("step");
        OtelTraceContext.set_parent(
            &span,
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        );
        assert_eq!(OtelTraceContext.traceparent(&span), None);
    }
}
