//! Settings of the engine and of an orchestrator, and the ranges they must stay within.

use crate::telemetry::TraceContext;
use std::sync::Arc;
use std::time::Duration;
use tasker_model::backoff::DEFAULT_MAX_RETRY_AFTER;
use tasker_model::limits::{DEFAULT_MAX_CONTEXT_BYTES, DEFAULT_MAX_RESULT_BYTES};
use tasker_model::{Clock, SystemClock, TaskId};

/// Settings of an [`Engine`](crate::Engine), shared by its orchestrators. Every field has a
/// default ([`EngineConfig::default`]); [`EngineConfig::validate`] checks the ranges.
///
/// Retries: a step's template sets its attempts and backoff (`retry: { max_attempts,
/// backoff, base_ms, multiplier, max_ms, jitter }`, default 3 attempts, exponential from 1 s,
/// x2, capped at 30 s, with jitter). The engine adds `retry_backoff_disabled` (retry at once,
/// for tests) and `max_retry_after` (the ceiling on a handler's own retry-after).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tasker_engine::{EngineConfig, ManualClock};
///
/// // A test setup: retries at once, time moved by hand.
/// let clock = ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap());
/// let config = EngineConfig {
///     retry_backoff_disabled: true,
///     max_retry_after: Duration::from_secs(60),
///     clock: Arc::new(clock.clone()),
///     ..EngineConfig::default()
/// };
/// config.validate().expect("in range");
/// ```
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Retry failed steps at once instead of after their backoff, and without waiting for a
    /// handler's retry-after (tests, demos). Attempts are still counted. Default `false`.
    pub retry_backoff_disabled: bool,
    /// The longest wait a handler's retry-after may ask for ([`StepError::retry_after`]); a
    /// longer request waits this long. The backoff's own `max_ms` does not bound a retry-after.
    /// Default one hour.
    ///
    /// [`StepError::retry_after`]: crate::StepError::retry_after
    pub max_retry_after: Duration,
    /// The largest task context accepted, in bytes of compact JSON: a larger one is refused
    /// when the task is created, and nothing is written. Default 1 MiB.
    pub max_context_bytes: usize,
    /// The largest step result stored, in bytes of compact JSON: a larger one fails its step
    /// permanently (`unstorable_outcome`). Default 1 MiB.
    pub max_result_bytes: usize,
    /// Where "now" comes from: readiness, backoff, leases and every timestamp written. Default
    /// the system clock; tests use a [`ManualClock`](tasker_model::ManualClock).
    pub clock: Arc<dyn Clock>,
    /// Carries the trace of a task across processes: with it, each step attempt's span is a
    /// child of the task's stored `traceparent`, a task created without one gets the trace
    /// context of its creation span, and handlers get their attempt's own `traceparent`
    /// ([`StepContext::traceparent`]). `None` (the default): spans are plain `tracing` spans
    /// and handlers get the task's stored `traceparent`.
    ///
    /// [`StepContext::traceparent`]: crate::StepContext::traceparent
    pub trace_context: Option<Arc<dyn TraceContext>>,
}

impl EngineConfig {
    /// Checks every setting against its range in [`limits`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_ms(
            "max_retry_after",
            self.max_retry_after,
            limits::MAX_RETRY_AFTER_MS,
        )?;
        check(
            "max_context_bytes",
            self.max_context_bytes,
            limits::JSON_BYTES,
        )?;
        check(
            "max_result_bytes",
            self.max_result_bytes,
            limits::JSON_BYTES,
        )
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            retry_backoff_disabled: false,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            max_context_bytes: DEFAULT_MAX_CONTEXT_BYTES,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
            clock: Arc::new(SystemClock),
            trace_context: None,
        }
    }
}

/// Settings of one [`Orchestrator`](crate::Orchestrator). The defaults suit a long-running
/// process; [`OrchestratorConfig::validate`] checks the ranges (an orchestrator refuses to run
/// with a setting out of range, [`Error::Config`](crate::Error::Config)).
///
/// With `until_idle`, [`Orchestrator::run`](crate::Orchestrator::run) returns once there is
/// nothing left to do: tests and batch jobs.
///
/// ```
/// use serde_json::json;
/// use tasker_engine::{CreateTask, OrchestratorConfig, State};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = std::sync::Arc::new(tasker_sqlite::SqliteStore::open("sqlite::memory:")?);
/// # let engine = tasker_engine::Engine::new(store, tasker_engine::HandlerRegistry::with_builtins(), Default::default());
/// # engine.migrate().await?;
/// engine
///     .register_template_yaml("namespace: demo\nname: two\nversion: 1.0.0\nsteps:\n  - { name: a, handler: noop }\n  - { name: b, handler: noop, depends_on: [a] }\n")
///     .await?;
/// let task = engine.create_task(CreateTask::new("demo/two".parse()?, json!({}))).await?;
///
/// let config = OrchestratorConfig { until_idle: true, concurrency: 8, ..OrchestratorConfig::default() };
/// let stats = engine.orchestrator(config).run().await?;
/// assert_eq!(stats.steps_succeeded, 2);
/// assert_eq!(engine.task(task.id).await?.state, State::Complete);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct OrchestratorConfig {
    /// Who holds the leases; must be unique among the orchestrators sharing a database.
    pub owner: String,
    /// Handlers running at once. A claim asks for at most the free slots, so this also caps
    /// the claim batch: the default is high because handlers are async tasks and cheap to
    /// hold; lower it for handlers that each hold a scarce resource (processes, connections).
    pub concurrency: usize,
    /// Steps claimed per store call, at most. Large batches spread each statement's fixed
    /// cost (planning, round trips, commit) over many steps.
    pub claim_batch: u32,
    /// How long a claimed step is this orchestrator's without a renewal (default 30 s). Leases
    /// are renewed while the handler runs; a step whose orchestrator died is taken over once
    /// its lease expires.
    pub lease_duration: Duration,
    /// How often to look for work when nothing wakes the claimer (other processes' work).
    pub poll_interval: Duration,
    /// Outcomes written per store call, at most.
    pub completion_batch: usize,
    /// How often to look for expired leases of dead orchestrators.
    pub rescue_interval: Duration,
    /// Stop when no step this orchestrator can run (its handlers, in-process) is runnable or
    /// waiting for a retry, and no step at all is running (here, elsewhere or in a worker).
    pub until_idle: bool,
    /// Run the steps of this task only (`task create --wait`): claims take none of any other
    /// task's steps, and this orchestrator does not rescue expired leases (other tasks').
    /// With `until_idle` it stops once that task is finished or blocked.
    pub only_task: Option<TaskId>,
}

impl Default for OrchestratorConfig {
    fn default() -> Self {
        Self {
            owner: default_owner(),
            concurrency: 512,
            claim_batch: 256,
            lease_duration: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            completion_batch: 1024,
            rescue_interval: Duration::from_secs(5),
            until_idle: false,
            only_task: None,
        }
    }
}

impl OrchestratorConfig {
    /// Checks every setting against its range in [`limits`]. A setting out of range is refused
    /// rather than clamped: a lease of 10^17 ms would overflow its expiry into "now".
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_ms("lease_duration", self.lease_duration, limits::LEASE_MS)?;
        check_ms("poll_interval", self.poll_interval, limits::POLL_MS)?;
        check_ms("rescue_interval", self.rescue_interval, limits::RESCUE_MS)?;
        check("concurrency", self.concurrency, limits::CONCURRENCY)?;
        check("claim_batch", self.claim_batch, limits::CLAIM_BATCH)?;
        check(
            "completion_batch",
            self.completion_batch,
            limits::COMPLETION_BATCH,
        )
    }
}

/// The allowed range of every setting, inclusive; durations in milliseconds. The command line
/// checks its flags against the same ranges.
pub mod limits {
    use std::ops::RangeInclusive;

    /// `OrchestratorConfig::lease_duration`: 100 ms to 24 h.
    pub const LEASE_MS: RangeInclusive<u64> = 100..=86_400_000;
    /// `OrchestratorConfig::poll_interval`: 1 ms to 1 h.
    pub const POLL_MS: RangeInclusive<u64> = 1..=3_600_000;
    /// `OrchestratorConfig::rescue_interval`: 1 ms to 1 h.
    pub const RESCUE_MS: RangeInclusive<u64> = 1..=3_600_000;
    /// `OrchestratorConfig::concurrency`: handlers at once (far below the semaphore's maximum).
    pub const CONCURRENCY: RangeInclusive<usize> = 1..=100_000;
    /// `OrchestratorConfig::claim_batch`: steps per claim.
    pub const CLAIM_BATCH: RangeInclusive<u32> = 1..=10_000;
    /// `OrchestratorConfig::completion_batch`: outcomes per store call.
    pub const COMPLETION_BATCH: RangeInclusive<usize> = 1..=100_000;
    /// `EngineConfig::max_retry_after`: 1 s to 7 days.
    pub const MAX_RETRY_AFTER_MS: RangeInclusive<u64> = 1_000..=604_800_000;
    /// `EngineConfig::max_context_bytes` and `max_result_bytes`: 1 byte to 128 MiB (PostgreSQL
    /// stores at most about 255 MB in one `jsonb` value).
    pub const JSON_BYTES: RangeInclusive<usize> = 1..=128 * 1024 * 1024;
}

/// A setting outside its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting} must be within {allowed}, got {value}")]
#[non_exhaustive]
pub struct ConfigError {
    /// The setting's field name, e.g. `lease_duration`.
    pub setting: &'static str,
    /// The value given, with its unit.
    pub value: String,
    /// The allowed range, inclusive, with its unit.
    pub allowed: String,
}

fn check<T>(
    setting: &'static str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<(), ConfigError>
where
    T: PartialOrd + std::fmt::Display,
{
    if range.contains(&value) {
        return Ok(());
    }
    Err(ConfigError {
        setting,
        value: value.to_string(),
        allowed: format!("{}..={}", range.start(), range.end()),
    })
}

fn check_ms(
    setting: &'static str,
    value: Duration,
    range_ms: std::ops::RangeInclusive<u64>,
) -> Result<(), ConfigError> {
    let low = Duration::from_millis(*range_ms.start());
    let high = Duration::from_millis(*range_ms.end());
    if (low..=high).contains(&value) {
        return Ok(());
    }
    Err(ConfigError {
        setting,
        value: format!("{} ms", value.as_millis()),
        allowed: format!("{}..={} ms", range_ms.start(), range_ms.end()),
    })
}

/// `<hostname>-<pid>-<random>`: readable in `task show`, unique across restarts.
pub fn default_owner() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let suffix: u32 = rand::random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(OrchestratorConfig::default().validate(), Ok(()));
        assert_eq!(EngineConfig::default().validate(), Ok(()));
    }

    #[test]
    fn every_setting_is_checked_against_its_range() {
        let cases: Vec<(&str, OrchestratorConfig)> = vec![
            (
                "lease_duration",
                OrchestratorConfig {
                    // 10^17 ms overflowed the lease's expiry into "now".
                    lease_duration: Duration::from_millis(100_000_000_000_000_000),
                    ..OrchestratorConfig::default()
                },
            ),
            (
                "lease_duration",
                OrchestratorConfig {
                    lease_duration: Duration::from_millis(99),
                    ..OrchestratorConfig::default()
                },
            ),
            (
                "poll_interval",
                OrchestratorConfig {
                    poll_interval: Duration::ZERO,
                    ..OrchestratorConfig::default()
                },
            ),
            (
                "poll_interval",
                OrchestratorConfig {
                    poll_interval: Duration::MAX,
                    ..OrchestratorConfig::default()
                },
            ),
            (
                "rescue_interval",
                OrchestratorConfig {
                    rescue_interval: Duration::from_secs(3_601),
                    ..OrchestratorConfig::default()
                },
            ),
            (
                "concurrency",
                OrchestratorConfig {
                    concurrency: usize::MAX,
                    ..OrchestratorConfig::default()
                },
            ),
            (
                "concurrency",
                OrchestratorConfig {
                    concurrency: 0,
                    ..OrchestratorConfig::default()
                },
            ),
            (
                "claim_batch",
                OrchestratorConfig {
                    claim_batch: 10_001,
                    ..OrchestratorConfig::default()
                },
            ),
            (
                "completion_batch",
                OrchestratorConfig {
                    completion_batch: 0,
                    ..OrchestratorConfig::default()
                },
            ),
        ];
        for (setting, config) in cases {
            let err = config.validate().expect_err(setting);
            assert_eq!(err.setting, setting);
            let message = err.to_string();
            assert!(message.starts_with(setting), "{message}");
            assert!(message.contains("..="), "{message}");
        }
        let err = OrchestratorConfig {
            lease_duration: Duration::from_millis(99),
            ..OrchestratorConfig::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "lease_duration must be within 100..=86400000 ms, got 99 ms"
        );
    }

    #[test]
    fn the_bounds_themselves_are_allowed() {
        let low = OrchestratorConfig {
            lease_duration: Duration::from_millis(*limits::LEASE_MS.start()),
            poll_interval: Duration::from_millis(*limits::POLL_MS.start()),
            rescue_interval: Duration::from_millis(*limits::RESCUE_MS.start()),
            concurrency: *limits::CONCURRENCY.start(),
            claim_batch: *limits::CLAIM_BATCH.start(),
            completion_batch: *limits::COMPLETION_BATCH.start(),
            ..OrchestratorConfig::default()
        };
        assert_eq!(low.validate(), Ok(()));
        let high = OrchestratorConfig {
            lease_duration: Duration::from_millis(*limits::LEASE_MS.end()),
            poll_interval: Duration::from_millis(*limits::POLL_MS.end()),
            rescue_interval: Duration::from_millis(*limits::RESCUE_MS.end()),
            concurrency: *limits::CONCURRENCY.end(),
            claim_batch: *limits::CLAIM_BATCH.end(),
            completion_batch: *limits::COMPLETION_BATCH.end(),
            ..OrchestratorConfig::default()
        };
        assert_eq!(high.validate(), Ok(()));
    }

    #[test]
    fn the_retry_after_ceiling_is_checked() {
        for bad in [Duration::ZERO, Duration::from_secs(8 * 86_400)] {
            let config = EngineConfig {
                max_retry_after: bad,
                ..EngineConfig::default()
            };
            assert_eq!(config.validate().unwrap_err().setting, "max_retry_after");
        }
    }

    #[test]
    fn the_size_limits_are_checked() {
        for (setting, bad) in [
            ("max_context_bytes", 0),
            ("max_context_bytes", 129 * 1024 * 1024),
            ("max_result_bytes", 0),
            ("max_result_bytes", 129 * 1024 * 1024),
        ] {
            let mut config = EngineConfig::default();
            if setting == "max_context_bytes" {
                config.max_context_bytes = bad;
            } else {
                config.max_result_bytes = bad;
            }
            let err = config.validate().unwrap_err();
            assert_eq!(err.setting, setting);
            assert_eq!(err.allowed, "1..=134217728");
        }
    }
}
