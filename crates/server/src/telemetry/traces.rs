//! OpenTelemetry traces, exported over OTLP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
