//! `/v1/analytics`: throughput, per-step statistics (the bottleneck view), the slowest tasks.
//!
//! Each answer is bounded by its range and by the engine's caps (at most 1,000 buckets, the
//! steps of 10,000 tasks, 100,000 task rows read); answers say how many tasks they sampled
//! and whether a cap cut the range short.

use crate::auth::{Authorized, Permission, needs};
use crate::extract::{Query, no_nul};
use crate::problem::{Problem, ProblemDocument};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tasker_engine::{Error, SlowestTasks, StepAnalytics, ThroughputBucket};
use utoipa::{IntoParams, ToSchema};

/// The bucket when none is given: an hour.
pub const DEFAULT_BUCKET: Duration = Duration::from_secs(3_600);
/// The slowest tasks returned when `limit` is not given.
pub const DEFAULT_SLOWEST: i64 = 10;

/// Query parameters of `GET /v1/analytics/throughput`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ThroughputQuery {
    /// Start of the range (RFC 3339; write `+` as `%2B`). Required.
    pub since: Option<DateTime<Utc>>,
    /// End of the range, excluded (default: now).
    pub until: Option<DateTime<Utc>>,
    /// Bucket width: seconds (`300`) or with a unit (`30s`, `5m`, `1h`, `1d`); default `1h`.
    /// At most 366 days, and at most 1,000 buckets in the range.
    #[param(pattern = "^[0-9]{1,9}[smhd]?$")]
    pub bucket: Option<String>,
}

/// Finished tasks and their steps per time bucket.
#[derive(Debug, Serialize, ToSchema)]
pub struct Throughput {
    /// The start of the range.
    #[schema(value_type = String, format = DateTime)]
    pub since: DateTime<Utc>,
    /// The end of the range, excluded.
    #[schema(value_type = String, format = DateTime)]
    pub until: DateTime<Utc>,
    /// The width of each bucket, in seconds.
    pub bucket_seconds: u64,
    /// Every bucket the range touches, oldest first, empty ones included.
    pub buckets: Vec<ThroughputBucket>,
}

/// Query parameters of `GET /v1/analytics/steps`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StepsQuery {
    /// Only this template (all its versions): `namespace/name`. Without it, every template
    /// (which needs `analytics:read` for every namespace).
    #[param(pattern = "^[^/\\u0000]+/[^/\\u0000]+$")]
    pub template: Option<String>,
    /// Start of the range (RFC 3339). Required.
    pub since: Option<DateTime<Utc>>,
    /// End of the range, excluded (default: now).
    pub until: Option<DateTime<Utc>>,
}

/// Query parameters of `GET /v1/analytics/slowest-tasks`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SlowestQuery {
    /// Start of the range (RFC 3339). Required.
    pub since: Option<DateTime<Utc>>,
    /// End of the range, excluded (default: now).
    pub until: Option<DateTime<Utc>>,
    /// How many tasks, 1 to 1000 (default 10).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// `[since, until)`, with `until` defaulting to now; 400 naming the parameter at fault.
fn range(
    state: &AppState,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Problem> {
    let since = since.ok_or_else(|| {
        Problem::parameter(
            "since",
            "since is required: the start of the range (RFC 3339)",
        )
    })?;
    let until = until.unwrap_or_else(|| state.engine.clock().now());
    if since >= until {
        return Err(Problem::parameter(
            "until",
            format!(
                "the range is empty: since ({}) must be before until ({})",
                since.to_rfc3339(),
                until.to_rfc3339()
            ),
        ));
    }
    Ok((since, until))
}

/// `300`, `30s`, `5m`, `1h`, `1d`.
fn parse_bucket(text: &str) -> Result<Duration, Problem> {
    let bad = || {
        Problem::parameter(
            "bucket",
            format!("bucket must be seconds or a number with s, m, h or d (like 5m), not {text:?}"),
        )
    };
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let seconds = n.checked_mul(scale).filter(|&s| s > 0).ok_or_else(bad)?;
    Ok(Duration::from_secs(seconds))
}

/// The engine's refusal of a range or a limit, said of `parameter`.
fn range_problem(e: Error, parameter: &str) -> Problem {
    match e {
        Error::InvalidRange(why) => Problem::parameter(parameter, why),
        other => other.into(),
    }
}

/// Throughput
///
/// Tasks (by final state) and steps finished per time bucket in `[since, until)`: one index
/// entry read per task finished in the range, at most 1,000 buckets. Covers every namespace.
#[utoipa::path(
    get,
    path = "/v1/analytics/throughput",
    operation_id = "throughput",
    tag = "analytics",
    params(ThroughputQuery),
    responses((status = 200, description = "The buckets.", body = Throughput)),
    security(("bearer" = ["analytics:read"]))
)]
pub async fn throughput(
    State(state): State<AppState>,
    auth: Authorized<needs::AnalyticsRead>,
    Query(query): Query<ThroughputQuery>,
) -> Result<Json<Throughput>, Problem> {
    auth.caller.require_everywhere(Permission::AnalyticsRead)?;
    let (since, until) = range(&state, query.since, query.until)?;
    let bucket = match &query.bucket {
        Some(text) => parse_bucket(text)?,
        None => DEFAULT_BUCKET,
    };
    let buckets = state
        .engine
        .throughput(since, until, bucket)
        .await
        .map_err(|e| range_problem(e, "bucket"))?;
    Ok(Json(Throughput {
        since,
        until,
        bucket_seconds: bucket.as_secs(),
        buckets,
    }))
}

/// Step statistics
///
/// Per template step over the newest (at most 10,000) tasks finished in `[since, until)`:
/// runs, p50 and p95 durations, error and retry rates, and the p95 wait from runnable to
/// started (the bottleneck view).
#[utoipa::path(
    get,
    path = "/v1/analytics/steps",
    operation_id = "step_analytics",
    tag = "analytics",
    params(StepsQuery),
    responses(
        (status = 200, description = "The statistics.", body = StepAnalytics),
        (status = 404, description = "No such template.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["analytics:read"]))
)]
pub async fn steps(
    State(state): State<AppState>,
    auth: Authorized<needs::AnalyticsRead>,
    Query(query): Query<StepsQuery>,
) -> Result<Json<StepAnalytics>, Problem> {
    let template = match query.template.as_deref() {
        Some(text) => {
            no_nul("template", text)?;
            let (namespace, name) = text
                .split_once('/')
                .filter(|(ns, name)| !ns.is_empty() && !name.is_empty() && !name.contains('/'))
                .ok_or_else(|| {
                    Problem::parameter(
                        "template",
                        format!("template must be NAMESPACE/NAME, not {text:?}"),
                    )
                })?;
            auth.caller
                .require_in(Permission::AnalyticsRead, namespace)?;
            Some((namespace, name))
        }
        None => {
            auth.caller.require_everywhere(Permission::AnalyticsRead)?;
            None
        }
    };
    let (since, until) = range(&state, query.since, query.until)?;
    let analytics = state
        .engine
        .step_analytics(template, since, until)
        .await
        .map_err(|e| match e {
            Error::TemplateNotFound(_) => {
                Problem::not_found(e.to_string()).with_parameter("template")
            }
            other => range_problem(other, "until"),
        })?;
    Ok(Json(analytics))
}

/// Slowest tasks
///
/// The tasks that took longest from creation to completion among the newest (at most
/// 100,000) finished in `[since, until)`, slowest first. Covers every namespace.
#[utoipa::path(
    get,
    path = "/v1/analytics/slowest-tasks",
    operation_id = "slowest_tasks",
    tag = "analytics",
    params(SlowestQuery),
    responses((status = 200, description = "The slowest tasks.", body = SlowestTasks)),
    security(("bearer" = ["analytics:read"]))
)]
pub async fn slowest_tasks(
    State(state): State<AppState>,
    auth: Authorized<needs::AnalyticsRead>,
    Query(query): Query<SlowestQuery>,
) -> Result<Json<SlowestTasks>, Problem> {
    auth.caller.require_everywhere(Permission::AnalyticsRead)?;
    let (since, until) = range(&state, query.since, query.until)?;
    let limit = query.limit.unwrap_or(DEFAULT_SLOWEST);
    let limit = u32::try_from(limit)
        .ok()
        .filter(|n| (1..=tasker_engine::MAX_SLOWEST).contains(n))
        .ok_or_else(|| {
            Problem::parameter(
                "limit",
                format!(
                    "limit must be from 1 to {}, not {limit}",
                    tasker_engine::MAX_SLOWEST
                ),
            )
        })?;
    let slowest = state
        .engine
        .slowest_tasks(since, until, limit)
        .await
        .map_err(|e| range_problem(e, "limit"))?;
    Ok(Json(slowest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_seconds_or_carry_a_unit() {
        for (text, seconds) in [
            ("300", 300),
            ("30s", 30),
            ("5m", 300),
            ("1h", 3_600),
            ("2d", 172_800),
        ] {
            assert_eq!(
                parse_bucket(text).ok(),
                Some(Duration::from_secs(seconds)),
                "{text}"
            );
        }
        for bad in [
            "",
            "0",
            "0h",
            "h",
            "1w",
            "-5m",
            "1.5h",
            "99999999999999999999d",
            "5 m",
        ] {
            let err = parse_bucket(bad).unwrap_err();
            assert_eq!(err.parameter.as_deref(), Some("bucket"), "{bad:?}");
        }
    }
}
