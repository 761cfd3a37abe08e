//! The Prometheus recorder behind `/metrics`.

use metrics_exporter_prometheus::PrometheusHandle;

/// Installs the process-wide Prometheus recorder on first call (later calls return the same
/// handle); `handle.render()` is the text `/metrics` serves.
pub fn prometheus() -> PrometheusHandle {
    todo!("telemetry helper")
}
