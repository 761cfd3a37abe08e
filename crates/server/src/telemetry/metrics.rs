//! The Prometheus recorder behind `/metrics`.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Buckets of every `_seconds` histogram: from a millisecond (a step handed off at once) to an
/// hour (a task that waited for retries).
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0, 3600.0,
];

/// Buckets of the claim and completion batch sizes: powers of two up to the largest batches
/// the settings allow.
const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0, 10000.0,
];

/// How often histograms are folded into their buckets between scrapes, so that memory does
/// not grow when nobody scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder on first call (later calls return the same
/// handle); `handle.render()` is the text `/metrics` serves. Every metric of the engine is
/// described (help text) and the HTTP metrics share the `_seconds` buckets.
///
/// When the process already has another global recorder (an embedding application's), that
/// one keeps receiving the metrics; the handle returned then renders only the descriptions,
/// and a warning says so.
pub fn prometheus() -> PrometheusHandle {
    HANDLE.get_or_init(install).clone()
}

fn install() -> PrometheusHandle {
    let recorder = builder().build_recorder();
    let handle = recorder.handle();
    match metrics::set_global_recorder(recorder) {
        Ok(()) => {
            tasker_engine::telemetry::metrics::describe();
            spawn_upkeep(handle.clone());
        }
        Err(_) => tracing::warn!(
            "another metrics recorder is installed in this process: it receives Tasker's metrics, and /metrics shows none of them"
        ),
    }
    handle
}

fn builder() -> PrometheusBuilder {
    let builder = PrometheusBuilder::new().upkeep_timeout(UPKEEP);
    builder
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Suffix("_batch_size".into()), BATCH_BUCKETS)
        })
        // Only an empty bucket list is refused, and the constants above are not empty.
        .unwrap_or_else(|_| PrometheusBuilder::new().upkeep_timeout(UPKEEP))
}

/// A plain thread rather than a task: the recorder may be installed before (or without) a
/// runtime, and the work is a few microseconds every few seconds.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("tasker-metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the metrics upkeep thread; histograms are folded only when scraped");
    }
}
