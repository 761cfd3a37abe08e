//! Template validation: collect every problem, each with the path of its field.

use super::dag::find_cycle;
use super::schema::ContextSchema;
use super::spec::{BackoffKind, RetrySpec, TemplateSpec};
use super::{StepDefinition, Template, TemplateError, TemplateErrors};
use crate::backoff::{Backoff, DEFAULT_BASE_MS, DEFAULT_MAX_MS, DEFAULT_MULTIPLIER, RetryPolicy};
use crate::limits::{
    MAX_ATTEMPTS, MAX_BACKOFF_MS, MAX_DEPENDS_ON, MAX_DESCRIPTION_CHARS, MAX_IDENTIFIER_CHARS,
    MAX_MULTIPLIER, MAX_STEP_NAME_CHARS, MAX_STEPS, MAX_TIMEOUT_MS, MAX_VERSION_CHARS, find_nul,
};
use serde_json::Value;
use std::collections::HashMap;

pub(super) fn validate(spec: TemplateSpec) -> Result<Template, TemplateErrors> {
    let mut errors = Vec::new();
    check_identifier("namespace", &spec.namespace, &mut errors);
    check_identifier("name", &spec.name, &mut errors);
    let version_ok = check_text("version", &spec.version, MAX_VERSION_CHARS, &mut errors);
    let version = match semver::Version::parse(&spec.version) {
        Ok(v) => check_version_parts(&v, &mut errors).then_some(v),
        Err(_) if !version_ok => None,
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
    if let Some(description) = &spec.description {
        check_text(
            "description",
            description,
            MAX_DESCRIPTION_CHARS,
            &mut errors,
        );
    }
    let schema_nul = spec
        .input_schema
        .as_ref()
        .and_then(find_nul)
        .inspect(|pointer| {
            errors.push(TemplateError::new(
                "input_schema",
                format!("contains a NUL character (\\u0000) at {pointer}"),
            ))
        });
    let schema = match &spec.input_schema {
        None => None,
        Some(_) if schema_nul.is_some() => None,
        Some(raw) if !raw.is_object() => {
            errors.push(TemplateError::new(
                "input_schema",
                "must be a JSON Schema object",
            ));
            None
        }
        Some(raw) => match ContextSchema::compile(raw) {
            Ok(s) => {
                check_schema_defaults("input_schema", raw, &mut errors);
                Some(s)
            }
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
    check_timeout("defaults.timeout_ms", defaults.timeout_ms, &mut errors);
    let default_retry = defaults.retry.clone().unwrap_or_default();
    check_retry("defaults.retry", &default_retry, &mut errors);
    check_retry_pair(
        "defaults.retry",
        &default_retry,
        &default_retry,
        &mut errors,
    );

    if spec.steps.is_empty() {
        errors.push(TemplateError::new(
            "steps",
            "a template needs at least one step",
        ));
    }
    if spec.steps.len() > MAX_STEPS {
        // Nothing more is checked: the list is too long to be worth reporting on.
        errors.push(TemplateError::new(
            "steps",
            format!(
                "{} steps, more than the limit of {MAX_STEPS}",
                spec.steps.len()
            ),
        ));
        return Err(TemplateErrors(errors));
    }

    // Names first, so that dependencies can be resolved against them.
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, step) in spec.steps.iter().enumerate() {
        let path = format!("steps[{i}].name");
        if step.name.trim().is_empty() {
            errors.push(TemplateError::new(path, "must not be empty"));
            continue;
        }
        if !check_text(&path, &step.name, MAX_STEP_NAME_CHARS, &mut errors) {
            continue;
        }
        if let Some(&first) = index.get(step.name.as_str()) {
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
        } else {
            check_text(
                &format!("steps[{i}].handler"),
                &step.handler,
                MAX_STEP_NAME_CHARS,
                &mut errors,
            );
        }
        if let Some(queue) = &step.queue {
            check_identifier(&format!("steps[{i}].queue"), queue, &mut errors);
        }
        if let Some(description) = &step.description {
            check_text(
                &format!("steps[{i}].description"),
                description,
                MAX_DESCRIPTION_CHARS,
                &mut errors,
            );
        }
        if let Some(pointer) = find_nul(&step.config) {
            errors.push(TemplateError::new(
                format!("steps[{i}].config"),
                format!("contains a NUL character (\\u0000) at {pointer}"),
            ));
        }
        check_timeout(
            &format!("steps[{i}].timeout_ms"),
            step.timeout_ms,
            &mut errors,
        );
        if step.depends_on.len() > MAX_DEPENDS_ON {
            errors.push(TemplateError::new(
                format!("steps[{i}].depends_on"),
                format!(
                    "{} entries, more than the limit of {MAX_DEPENDS_ON}",
                    step.depends_on.len()
                ),
            ));
            parents.push(Vec::new());
            policies.push(RetryPolicy::default());
            continue;
        }
        let mut mine = Vec::with_capacity(step.depends_on.len());
        for (k, dep) in step.depends_on.iter().enumerate() {
            let path = format!("steps[{i}].depends_on[{k}]");
            if dep.contains('\0') {
                errors.push(TemplateError::new(
                    path,
                    "contains a NUL character (\\u0000)",
                ));
                continue;
            }
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
            let path = format!("steps[{i}].retry");
            check_retry(&path, own, &mut errors);
            check_retry_pair(&path, own, &retry, &mut errors);
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
            queue: step.queue.clone(),
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
    let chars = value.chars().count();
    if chars > MAX_IDENTIFIER_CHARS {
        errors.push(TemplateError::new(
            field,
            format!("{chars} characters, more than the limit of {MAX_IDENTIFIER_CHARS}"),
        ));
        return;
    }
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

/// Checks a text field's length and refuses NUL characters; `false` when it reported one.
fn check_text(path: &str, value: &str, limit: usize, errors: &mut Vec<TemplateError>) -> bool {
    let chars = value.chars().count();
    if chars > limit {
        errors.push(TemplateError::new(
            path,
            format!("{chars} characters, more than the limit of {limit}"),
        ));
        return false;
    }
    if value.contains('\0') {
        errors.push(TemplateError::new(
            path,
            "contains a NUL character (\\u0000)",
        ));
        return false;
    }
    true
}

/// Both backends store the numeric parts of a version as 64-bit signed integers.
fn check_version_parts(version: &semver::Version, errors: &mut Vec<TemplateError>) -> bool {
    let mut ok = true;
    for (part, value) in [
        ("major", version.major),
        ("minor", version.minor),
        ("patch", version.patch),
    ] {
        if i64::try_from(value).is_err() {
            errors.push(TemplateError::new(
                "version",
                format!("{part} part {value} is larger than {}", i64::MAX),
            ));
            ok = false;
        }
    }
    ok
}

fn check_timeout(path: &str, timeout_ms: Option<u64>, errors: &mut Vec<TemplateError>) {
    match timeout_ms {
        Some(0) => errors.push(TemplateError::new(path, "must be greater than 0")),
        Some(ms) if ms > MAX_TIMEOUT_MS => errors.push(TemplateError::new(
            path,
            format!("{ms} is more than the limit of {MAX_TIMEOUT_MS} (seven days)"),
        )),
        _ => {}
    }
}

/// The ranges of the fields `retry` itself sets.
fn check_retry(path: &str, retry: &RetrySpec, errors: &mut Vec<TemplateError>) {
    match retry.max_attempts {
        Some(0) => errors.push(TemplateError::new(
            format!("{path}.max_attempts"),
            "must be at least 1 (the first attempt always runs)",
        )),
        Some(n) if n > MAX_ATTEMPTS => errors.push(TemplateError::new(
            format!("{path}.max_attempts"),
            format!("{n} is more than the limit of {MAX_ATTEMPTS}"),
        )),
        _ => {}
    }
    if let Some(m) = retry.multiplier
        && !(m.is_finite() && (1.0..=MAX_MULTIPLIER).contains(&m))
    {
        errors.push(TemplateError::new(
            format!("{path}.multiplier"),
            format!("must be a number between 1 and {MAX_MULTIPLIER}"),
        ));
    }
    for (field, value) in [("base_ms", retry.base_ms), ("max_ms", retry.max_ms)] {
        if let Some(ms) = value
            && ms > MAX_BACKOFF_MS
        {
            errors.push(TemplateError::new(
                format!("{path}.{field}"),
                format!("{ms} is more than the limit of {MAX_BACKOFF_MS} (one day)"),
            ));
        }
    }
    if retry.base_ms == Some(0) && retry.backoff != Some(BackoffKind::None) {
        errors.push(TemplateError::new(
            format!("{path}.base_ms"),
            "must be greater than 0 (for no wait between attempts, write backoff: none)",
        ));
    }
}

/// `base_ms <= max_ms` once a step's settings are merged over the defaults; `own` is what the
/// step itself wrote (the pair is reported at the field the step sets).
fn check_retry_pair(
    path: &str,
    own: &RetrySpec,
    merged: &RetrySpec,
    errors: &mut Vec<TemplateError>,
) {
    if merged.backoff == Some(BackoffKind::None) {
        return;
    }
    let (Some(base), Some(max)) = (merged.base_ms, merged.max_ms) else {
        return;
    };
    if base <= max || base > MAX_BACKOFF_MS || max > MAX_BACKOFF_MS {
        return;
    }
    match (own.base_ms.is_some(), own.max_ms.is_some()) {
        (true, true) => errors.push(TemplateError::new(
            format!("{path}.base_ms"),
            format!("{base} is larger than max_ms ({max})"),
        )),
        (true, false) => errors.push(TemplateError::new(
            format!("{path}.base_ms"),
            format!("{base} is larger than max_ms ({max}, from defaults.retry)"),
        )),
        (false, true) => errors.push(TemplateError::new(
            format!("{path}.max_ms"),
            format!("{max} is smaller than base_ms ({base}, from defaults.retry)"),
        )),
        (false, false) => {}
    }
}

/// A `default` that its own property's schema refuses would make every task fail; each one is
/// reported at its path (`input_schema.properties.n.default`). Properties whose schema does not
/// compile on its own (a `$ref` into the root) are skipped.
fn check_schema_defaults(path: &str, schema: &Value, errors: &mut Vec<TemplateError>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let here = format!("{path}.properties.{name}");
        if let Some(default) = property.get("default")
            && let Ok(validator) = jsonschema::validator_for(property)
            && let Some(error) = validator.iter_errors(default).next()
        {
            errors.push(TemplateError::new(
                format!("{here}.default"),
                format!("does not match the property's own schema: {error}"),
            ));
        }
        check_schema_defaults(&here, property, errors);
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
