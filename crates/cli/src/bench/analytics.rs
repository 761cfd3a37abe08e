//! The analytics of the history scenario: the engine's three analytics calls timed against
//! the seeded history, and their answers checked against what was seeded.

use super::stats::{Latency, ms};
use anyhow::bail;
use serde::Serialize;
use std::time::{Duration, Instant};
use tasker::{Engine, SLOWEST_SCAN_TASKS, STEP_ANALYTICS_TASKS, Timestamp};

/// How many slowest tasks the probe asks for.
const SLOWEST: u32 = 10;

/// One column's analytics timings.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyticsColumn {
    /// Throughput of the last hour in buckets of a minute.
    pub throughput_hour: Latency,
    /// Throughput of the whole seeded history (the day before each seeding) by hour.
    pub throughput_history: Latency,
    /// Step analytics over the whole history (at most its cap of newest tasks).
    pub step_analytics: Latency,
    /// The slowest tasks over the whole history (reading at most its cap of newest tasks).
    pub slowest_tasks: Latency,
}

/// Picks one analytics call's latency out of a column.
pub type Pick = fn(&AnalyticsColumn) -> Latency;

/// The timed calls, in report order. Their cost follows the tasks finished in their range
/// (up to their caps), so no ratio target applies to them.
pub const CALLS: [(&str, Pick); 4] = [
    ("throughput, last hour by minute", |c| c.throughput_hour),
    ("throughput, all history by hour", |c| c.throughput_history),
    ("step analytics, all history", |c| c.step_analytics),
    ("slowest 10 tasks, all history", |c| c.slowest_tasks),
];

#[derive(Clone, Copy)]
enum Call {
    ThroughputHour,
    ThroughputHistory,
    Steps,
    Slowest,
}

/// Time each call `samples` times over the history seeded since `first_seeding` (whose
/// tasks finished in the day before it and later); check the answers against `seeded`, the
/// finished tasks in the database.
pub async fn measure(
    engine: &Engine,
    first_seeding: Timestamp,
    seeded: u64,
    samples: usize,
) -> anyhow::Result<(AnalyticsColumn, Vec<String>)> {
    let since = first_seeding - chrono::Duration::days(1);
    let checks = check(engine, since, seeded).await?;
    let time = async |call: Call| -> anyhow::Result<Latency> {
        let mut measured = Vec::with_capacity(samples);
        for _ in 0..samples {
            let now = engine.clock().now();
            let until = now + chrono::Duration::seconds(1);
            let started = Instant::now();
            match call {
                Call::ThroughputHour => {
                    let hour_ago = now - chrono::Duration::hours(1);
                    engine
                        .throughput(hour_ago, until, Duration::from_secs(60))
                        .await?;
                }
                Call::ThroughputHistory => {
                    engine
                        .throughput(since, until, Duration::from_secs(3_600))
                        .await?;
                }
                Call::Steps => {
                    engine.step_analytics(None, since, until).await?;
                }
                Call::Slowest => {
                    engine.slowest_tasks(since, until, SLOWEST).await?;
                }
            }
            measured.push(ms(started.elapsed()));
        }
        Ok(Latency::of(&measured))
    };
    let column = AnalyticsColumn {
        throughput_hour: time(Call::ThroughputHour).await?,
        throughput_history: time(Call::ThroughputHistory).await?,
        step_analytics: time(Call::Steps).await?,
        slowest_tasks: time(Call::Slowest).await?,
    };
    Ok((column, checks))
}

/// The answers over the whole history count every seeded task, sample up to their caps, and
/// find the slowest in order.
async fn check(engine: &Engine, since: Timestamp, seeded: u64) -> anyhow::Result<Vec<String>> {
    let until = engine.clock().now() + chrono::Duration::seconds(1);
    let buckets = engine
        .throughput(since, until, Duration::from_secs(3_600))
        .await?;
    let finished: i64 = buckets.iter().map(|b| b.tasks_complete).sum();
    if finished != seeded as i64 {
        bail!("throughput counted {finished} finished tasks, {seeded} were seeded");
    }
    let steps = engine.step_analytics(None, since, until).await?;
    let expected = seeded.min(u64::from(STEP_ANALYTICS_TASKS)) as usize;
    let runs_match = steps.steps.iter().all(|s| s.runs == expected as u64);
    if steps.tasks_sampled != expected || !runs_match || steps.steps.is_empty() {
        bail!(
            "step analytics sampled {} tasks ({:?}), expected {expected} with one run per step",
            steps.tasks_sampled,
            steps.steps.iter().map(|s| s.runs).collect::<Vec<_>>()
        );
    }
    let slowest = engine.slowest_tasks(since, until, SLOWEST).await?;
    let scanned = seeded.min(u64::from(SLOWEST_SCAN_TASKS)) as usize;
    let ordered = slowest
        .tasks
        .windows(2)
        .all(|pair| pair[0].duration_ms >= pair[1].duration_ms);
    if slowest.tasks_sampled != scanned || !ordered || slowest.tasks.is_empty() {
        bail!(
            "the slowest tasks read {} tasks (expected {scanned}) or came out of order",
            slowest.tasks_sampled
        );
    }
    Ok(vec![format!(
        "analytics: {finished} finished tasks counted; steps of {} tasks sampled (truncated: \
         {}); the slowest {} among {scanned}, slowest {} ms",
        steps.tasks_sampled,
        steps.truncated,
        slowest.tasks.len(),
        slowest.tasks[0].duration_ms
    )])
}
