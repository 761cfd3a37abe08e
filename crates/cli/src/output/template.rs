//! Templates: validation reports, registration lines, the list and the level-by-level view.

use super::table::Table;
use super::{clean, time};
use serde::Serialize;
use tasker::model::{Backoff, RetryPolicy, Template, TemplateError};
use tasker::store::StoredTemplate;
use tasker::{TemplateDocument, TemplateSummary};

/// The outcome of validating one file.
#[derive(Debug, Serialize)]
pub struct Validation {
    pub file: String,
    pub valid: bool,
    /// `ns/name@version` when the file parsed far enough to say.
    pub template: Option<String>,
    pub steps: Option<usize>,
    pub errors: Vec<TemplateError>,
    /// What does not stop registration but may stop a step from running: in-process steps
    /// whose handler is not built in (only an application that registers it runs them).
    pub warnings: Vec<TemplateError>,
}

/// Valid files go to stdout, problems to stderr (one per line, with their field path).
pub fn validations(reports: &[Validation], json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(&reports);
    }
    for report in reports {
        if report.valid {
            outln!(
                "ok       {} ({}, {} steps)",
                clean(&report.file),
                clean(report.template.as_deref().unwrap_or("?")),
                report.steps.unwrap_or(0)
            );
            for warning in &report.warnings {
                eprintln!(
                    "warning  {}: {}",
                    clean(&report.file),
                    clean(&warning.to_string())
                );
            }
        } else {
            eprintln!("invalid  {}", clean(&report.file));
            for error in &report.errors {
                eprintln!("  {}", clean(&error.to_string()));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct Registration {
    pub file: String,
    pub template: String,
    pub id: i64,
    pub created: bool,
}

pub fn registrations(done: &[Registration], json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(&done);
    }
    for r in done {
        let verb = if r.created {
            "registered"
        } else {
            "unchanged "
        };
        outln!(
            "{verb}  {} (id {}) from {}",
            clean(&r.template),
            r.id,
            clean(&r.file)
        );
    }
    Ok(())
}

pub fn list(templates: &[StoredTemplate], json: bool) -> anyhow::Result<()> {
    if json {
        let rows: Vec<TemplateSummary> = templates.iter().map(TemplateSummary::from).collect();
        return super::json(&rows);
    }
    if templates.is_empty() {
        outln!("no templates registered (see `tasker template register FILE`)");
        return Ok(());
    }
    let mut table = Table::new(&["ID", "TEMPLATE", "STEPS", "REGISTERED", "DESCRIPTION"]);
    for t in templates {
        table.row(vec![
            t.id.to_string(),
            format!("{}/{}@{}", t.namespace, t.name, t.version),
            TemplateSummary::from(t).steps.to_string(),
            time::rfc3339(t.created_at),
            t.description.clone().unwrap_or_default(),
        ]);
    }
    out!("{}", table.render());
    Ok(())
}

pub fn show(stored: &StoredTemplate, template: &Template, json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(&TemplateDocument::new(stored, template));
    }
    let levels = template.levels();
    outln!("{}  (id {})", clean(&template.key()), stored.id);
    if let Some(description) = &template.description {
        outln!("  {}", clean(description));
    }
    outln!(
        "  identity: {}",
        serde_json::to_value(template.identity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    );
    if let Some(schema) = &template.input_schema {
        outln!("  input schema: {}", clean(&schema_outline(schema)));
    }
    outln!("  registered: {}", time::rfc3339(stored.created_at));
    outln!();
    let mut table = Table::new(&["LEVEL", "STEP", "HANDLER", "RETRY", "TIMEOUT", "DEPENDS ON"]);
    for (n, level) in levels.iter().enumerate() {
        for (k, &i) in level.iter().enumerate() {
            let step = &template.steps[i];
            table.row(vec![
                // The level number once per group reads as a heading.
                if k == 0 { n.to_string() } else { String::new() },
                step.name.clone(),
                step.handler.clone(),
                retry(&step.retry),
                step.timeout_ms
                    .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms")),
                if step.depends_on.is_empty() {
                    "-".to_owned()
                } else {
                    step.depends_on.join(", ")
                },
            ]);
        }
    }
    out!("{}", table.render());
    Ok(())
}

/// `properties a, b (required: a)`: the full schema is in `--json`.
fn schema_outline(schema: &serde_json::Value) -> String {
    let names = |key: &str| -> Vec<String> {
        match schema.get(key) {
            Some(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let properties = names("properties");
    let required = names("required");
    if properties.is_empty() && required.is_empty() {
        return "yes (see --json)".to_owned();
    }
    format!(
        "properties {} (required: {})",
        properties.join(", "),
        if required.is_empty() {
            "none".to_owned()
        } else {
            required.join(", ")
        }
    )
}

/// `3 attempts, backoff 1000..30000 ms x2 jittered`, or `1 attempt (not retryable)`.
pub fn retry(policy: &RetryPolicy) -> String {
    if !policy.retryable || policy.max_attempts <= 1 {
        return "1 attempt".to_owned();
    }
    let backoff = match policy.backoff {
        Backoff::None => "no backoff".to_owned(),
        Backoff::Exponential {
            base_ms,
            multiplier,
            max_ms,
            jitter,
        } => format!(
            "backoff {base_ms}..{max_ms} ms x{multiplier}{}",
            if jitter { " jittered" } else { "" }
        ),
    };
    format!("{} attempts, {backoff}", policy.max_attempts)
}
