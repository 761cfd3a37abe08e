//! The template file format, as written. Unknown fields are errors, so typos do not pass silently.

use crate::identity::IdentityStrategy;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A task template as written in YAML (or JSON): a DAG of steps with their handlers,
/// dependencies, retry rules and timeouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// The namespace the template belongs to: 1 to 128 letters, digits, `_`, `-` or `.`.
    /// Tokens can be limited to a namespace.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_.-]{1,128}$"))]
    pub namespace: String,
    /// The template's name within its namespace, same characters as the namespace. Namespace,
    /// name and version identify a registered template.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_.-]{1,128}$"))]
    pub name: String,
    /// A semantic version (`1.2.0`), at most 64 characters; each numeric part at most
    /// 9223372036854775807.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, example = "1.0.0")
    )]
    pub version: String,
    /// What the template is for: free text, at most 4,096 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema object (draft 2020-12 unless `$schema` names another) that every task's
    /// context must match. A `default` on an object property fills in a context that leaves
    /// the property out, and must itself match the property's schema. Omitted: any context is
    /// accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// When two creation requests are the same task: `always_unique` (the default), `strict`
    /// (same version and same context) or `caller_provided` (an idempotency key is required).
    #[serde(default)]
    pub identity: IdentityStrategy,
    /// Retry settings and timeout that every step starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<DefaultsSpec>,
    /// The steps, 1 to 10,000, with unique names. Their order is kept wherever steps are
    /// listed, and errors name a step by its index in this list (`steps[2]`).
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 10000))]
    pub steps: Vec<StepSpec>,
}

/// Template-wide defaults that each step may override.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DefaultsSpec {
    /// Retry settings for every step; a step's own `retry` overrides them field by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec>,
    /// The time limit of one attempt of any step that sets none, in milliseconds: 1 to
    /// 604800000 (seven days). Omitted: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// One step of a template as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// The step's name, unique within the template and not blank: 1 to 128 characters. Other
    /// steps name it in `depends_on`.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub name: String,
    /// The handler that runs the step: a built-in (`noop`, `sleep`, `fail`, `command`, `http`),
    /// one an application registered in its own process, or, with `queue`, one a worker
    /// serves. Checked where the step runs, not at registration. At most 128 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub handler: String,
    /// Run the step only by workers that pull this queue over HTTP (`/v1/worker/claim`), never
    /// in-process. 1 to 128 letters, digits, `_`, `-` or `.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_.-]{1,128}$"))]
    pub queue: Option<String>,
    /// What the step does: free text, at most 4,096 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The handler's configuration, any JSON; what it means is up to the handler (`program`
    /// and `args` for `command`, `ms` for `sleep`, ...). Omitted: `null`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub config: Value,
    /// The names of the steps that must be `complete` (or resolved by hand) before this one
    /// starts: at most 1,000, each once, no cycles. Omitted: the step can start at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// This step's retry settings, each field overriding the same field of `defaults.retry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec>,
    /// The time limit of one attempt, in milliseconds: 1 to 604800000 (seven days); overrides
    /// `defaults.timeout_ms`. An attempt that runs past it fails, retryably. With neither set
    /// there is no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// Retry settings; every field is optional and falls back to the template's defaults, then to
/// the engine's (3 attempts, exponential backoff from 1 s, x2, capped at 30 s, with jitter).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Whether a failed attempt may be retried at all (default `true`). `false`: the first
    /// failure is final. A handler's permanent failure is final either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    /// Attempts in all, counting the first: 1 to 1,000 (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// The shape of the wait between attempts: `exponential` (the default) or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<BackoffKind>,
    /// The shortest wait after the first failure, in milliseconds: 1 to 86400000 (one day),
    /// at most `max_ms` (default 1000). After the n-th failure the wait lies in
    /// `[base_ms * multiplier^(n-1), base_ms * multiplier^n]`, capped at `max_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ms: Option<u64>,
    /// How much each wait grows over the one before: 1 to 100 (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    /// The longest computed wait, in milliseconds: up to 86400000 (one day); default 30000, or
    /// `base_ms` when that is larger. A handler's own retry-after is not capped by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
    /// Spread each wait at random over its window (default `true`); `false` waits the
    /// window's lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<bool>,
}

/// The shape of the wait between a failure and the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BackoffKind {
    /// Waits that grow by `multiplier` from `base_ms` up to `max_ms`.
    Exponential,
    /// No wait: retry as soon as the failure is recorded.
    None,
}
