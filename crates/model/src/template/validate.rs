//! Template validation: collect every problem, each with the path of its field.

use super::dag::find_cycle;
use super::schema::ContextSchema;
use super::spec::{BackoffKind, RetrySpec, TemplateSpec};
use super::{StepDefinition, Template, TemplateError, TemplateErrors};
use crate::backoff::{Backoff, DEFAULT_BASE_MS, DEFAULT_MAX_MS, DEFAULT_MULTIPLIER, RetryPolicy};
use std::collections::HashMap;

pub(super) fn validate(spec: TemplateSpec) -> Result<Template, TemplateErrors> {
    let mut errors = Vec::new();
    check_identifier("namespace", &spec.namespace, &mut errors);
    check_identifier("name", &spec.name, &mut errors);
    let version = match semver::Version::parse(&spec.version) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(TemplateError::new(
                "version",
                format!(
                    "{:?} is not a semantic version (like 1.2.0): {e}",
                    spec.version
                ),
            ));
            None
        }
    };
    let schema = match &spec.input_schema {
        None => None,
        Some(raw) if !raw.is_object() => {
            errors.push(TemplateError::new(
                "input_schema",
                "must be a JSON Schema object",
            ));
            None
        }
        Some(raw) => match ContextSchema::compile(raw) {
            Ok(s) => Some(s),
            Err(e) => {
                errors.push(TemplateError::new(
                    "input_schema",
                    format!("invalid JSON Schema: {e}"),
                ));
                None
            }
        },
    };
    let defaults = spec.defaults.clone().unwrap_or_default();
    if defaults.timeout_ms == Some(0) {
        errors.push(TemplateError::new(
            "defaults.timeout_ms",
            "must be greater than 0",
        ));
    }
    let default_retry = defaults.retry.clone().unwrap_or_default();
    check_retry("defaults.retry", &default_retry, &mut errors);

    if spec.steps.is_empty() {
        errors.push(TemplateError::new(
            "steps",
            "a template needs at least one step",
        ));
    }

    // Names first, so that dependencies can be resolved against them.
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, step) in spec.steps.iter().enumerate() {
        let path = format!("steps[{i}].name");
        if step.name.trim().is_empty() {
            errors.push(TemplateError::new(path, "must not be empty"));
        } else if let Some(&first) = index.get(step.name.as_str()) {
            errors.push(TemplateError::new(
                path,
                format!(
                    "duplicate step name {:?} (first used by steps[{first}])",
                    step.name
                ),
            ));
        } else {
            index.insert(&step.name, i);
        }
    }

    let mut parents: Vec<Vec<usize>> = Vec::with_capacity(spec.steps.len());
    let mut policies = Vec::with_capacity(spec.steps.len());
    for (i, step) in spec.steps.iter().enumerate() {
        if step.handler.trim().is_empty() {
            errors.push(TemplateError::new(
                format!("steps[{i}].handler"),
                "must not be empty",
            ));
        }
        if step.timeout_ms == Some(0) {
            errors.push(TemplateError::new(
                format!("steps[{i}].timeout_ms"),
                "must be greater than 0",
            ));
        }
        let mut mine = Vec::with_capacity(step.depends_on.len());
        for (k, dep) in step.depends_on.iter().enumerate() {
            let path = format!("steps[{i}].depends_on[{k}]");
            match index.get(dep.as_str()) {
                None => errors.push(TemplateError::new(
                    path,
                    format!("step {:?} depends on unknown step {dep:?}", step.name),
                )),
                Some(&p) if mine.contains(&p) => errors.push(TemplateError::new(
                    path,
                    format!("step {:?} lists {dep:?} twice", step.name),
                )),
                Some(&p) => mine.push(p),
            }
        }
        parents.push(mine);
        let retry = merge_retry(&default_retry, step.retry.as_ref());
        if let Some(own) = &step.retry {
            check_retry(&format!("steps[{i}].retry"), own, &mut errors);
        }
        policies.push(resolve_retry(&retry));
    }

    // Only look for cycles in a graph whose names resolved; a cycle is reported once, by name.
    if let Some(cycle) = find_cycle(&parents) {
        let names: Vec<&str> = cycle.iter().map(|&i| spec.steps[i].name.as_str()).collect();
        errors.push(TemplateError::new(
            format!("steps[{}].depends_on", cycle[0]),
            format!("dependency cycle: {}", names.join(" -> ")),
        ));
    }

    TemplateErrors::from_vec(errors)?;
    let steps = spec
        .steps
        .iter()
        .zip(parents)
        .zip(policies)
        .map(|((step, parents), retry)| StepDefinition {
            name: step.name.clone(),
            handler: step.handler.clone(),
            description: step.description.clone(),
            config: step.config.clone(),
            depends_on: step.depends_on.clone(),
            parents,
            retry,
            timeout_ms: step.timeout_ms.or(defaults.timeout_ms),
        })
        .collect();
    Ok(Template {
        namespace: spec.namespace.clone(),
        name: spec.name.clone(),
        version: version.expect("a version error was reported above"),
        description: spec.description.clone(),
        identity: spec.identity,
        input_schema: spec.input_schema.clone(),
        steps,
        schema,
        spec,
    })
}

fn check_identifier(field: &str, value: &str, errors: &mut Vec<TemplateError>) {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        errors.push(TemplateError::new(
            field,
            format!("{value:?} must be non-empty and use only letters, digits, '_', '-' and '.'"),
        ));
    }
}

fn check_retry(path: &str, retry: &RetrySpec, errors: &mut Vec<TemplateError>) {
    if retry.max_attempts == Some(0) {
        errors.push(TemplateError::new(
            format!("{path}.max_attempts"),
            "must be at least 1 (the first attempt always runs)",
        ));
    }
    if let Some(m) = retry.multiplier
        && !(m.is_finite() && m >= 1.0)
    {
        errors.push(TemplateError::new(
            format!("{path}.multiplier"),
            "must be a number >= 1",
        ));
    }
    if let (Some(base), Some(max)) = (retry.base_ms, retry.max_ms)
        && base > max
    {
        errors.push(TemplateError::new(
            format!("{path}.base_ms"),
            format!("{base} is larger than max_ms ({max})"),
        ));
    }
}

/// A step's retry settings over the template's: each field the step sets wins.
fn merge_retry(defaults: &RetrySpec, own: Option<&RetrySpec>) -> RetrySpec {
    let Some(own) = own else {
        return defaults.clone();
    };
    RetrySpec {
        retryable: own.retryable.or(defaults.retryable),
        max_attempts: own.max_attempts.or(defaults.max_attempts),
        backoff: own.backoff.or(defaults.backoff),
        base_ms: own.base_ms.or(defaults.base_ms),
        multiplier: own.multiplier.or(defaults.multiplier),
        max_ms: own.max_ms.or(defaults.max_ms),
        jitter: own.jitter.or(defaults.jitter),
    }
}

fn resolve_retry(spec: &RetrySpec) -> RetryPolicy {
    let defaults = RetryPolicy::default();
    let backoff = match spec.backoff.unwrap_or(BackoffKind::Exponential) {
        BackoffKind::None => Backoff::None,
        BackoffKind::Exponential => {
            let base_ms = spec.base_ms.unwrap_or(DEFAULT_BASE_MS);
            Backoff::Exponential {
                base_ms,
                multiplier: spec.multiplier.unwrap_or(DEFAULT_MULTIPLIER),
                max_ms: spec.max_ms.unwrap_or(DEFAULT_MAX_MS.max(base_ms)),
                jitter: spec.jitter.unwrap_or(true),
            }
        }
    };
    RetryPolicy {
        retryable: spec.retryable.unwrap_or(defaults.retryable),
        max_attempts: spec.max_attempts.unwrap_or(defaults.max_attempts).max(1),
        backoff,
    }
}
