//! Metrics (Prometheus) and traces (OpenTelemetry) of a Tasker process.

pub mod metrics;
pub mod traces;
