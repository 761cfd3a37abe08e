//! Tasks and steps: lists, the detailed view, history.

use super::table::Table;
use super::{clean, compact, time};
use serde_json::json;
use tasker::model::{State, StepFailure, StepRecord, TaskRecord};
use tasker::{HistoryEntry, HistoryItem, HistorySubject, TaskDetails, TaskDocument};

fn template_key(task: &TaskRecord) -> String {
    clean(&format!(
        "{}/{}@{}",
        task.namespace, task.name, task.version
    ))
    .into_owned()
}

fn progress(task: &TaskRecord) -> String {
    let done = task.steps_total - task.steps_remaining;
    if task.steps_failed > 0 {
        format!("{done}/{} ({} failed)", task.steps_total, task.steps_failed)
    } else {
        format!("{done}/{}", task.steps_total)
    }
}

/// One line about a task, after an action on it.
pub fn summary_line(task: &TaskRecord) -> String {
    format!(
        "task {}  {}  {}  steps {}",
        task.id,
        template_key(task),
        task.state,
        progress(task)
    )
}

pub fn record(task: &TaskRecord, json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(task);
    }
    outln!("{}", summary_line(task));
    Ok(())
}

pub fn created(task: &TaskRecord, created: bool, json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(&json!({ "created": created, "task": task }));
    }
    if created {
        outln!("created {}", summary_line(task));
    } else {
        outln!("exists  {} (same identity)", summary_line(task));
    }
    Ok(())
}

pub fn list(tasks: &[TaskRecord], json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(&tasks);
    }
    if tasks.is_empty() {
        outln!("no tasks");
        return Ok(());
    }
    let mut table = Table::new(&[
        "ID", "STATE", "TEMPLATE", "STEPS", "CREATED", "UPDATED", "FINISHED",
    ]);
    for task in tasks {
        table.row(vec![
            task.id.to_string(),
            task.state.to_string(),
            template_key(task),
            progress(task),
            time::clock(task.created_at),
            time::clock(task.updated_at),
            time::clock_opt(task.completed_at),
        ]);
    }
    out!("{}", table.render());
    Ok(())
}

pub fn details(details: &TaskDetails, json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(&TaskDocument::from(details));
    }
    let task = &details.task;
    let exec = &details.execution;
    outln!("task {}  {}  {}", task.id, template_key(task), task.state);
    outln!(
        "  created {}  updated {}  finished {}",
        time::rfc3339(task.created_at),
        time::rfc3339(task.updated_at),
        time::rfc3339_opt(task.completed_at)
    );
    outln!(
        "  steps {} done of {}, {} pending, {} running, {} ready, {} failed ({} for good)",
        exec.completed_steps,
        exec.total_steps,
        exec.pending_steps,
        exec.in_progress_steps,
        exec.ready_steps,
        exec.failed_steps,
        exec.permanently_blocked_steps
    );
    outln!(
        "  status {}  health {}  next {}  {}% complete",
        exec.execution_status,
        exec.health_status,
        exec.recommended_action,
        exec.completion_percentage
    );
    if let Some(key) = &task.idempotency_key {
        outln!("  idempotency key {}", clean(key));
    }
    outln!("  context {}", compact(&task.context));
    outln!();
    let mut table = Table::new(&["STEP", "ID", "STATE", "ATTEMPTS", "DEPENDS ON", "WHY"]);
    for (i, step) in details.steps.iter().enumerate() {
        table.row(vec![
            step.name.clone(),
            step.id.to_string(),
            step.state.to_string(),
            format!("{}/{}", step.attempts, step.max_attempts),
            if step.parents.is_empty() {
                "-".to_owned()
            } else {
                step.parents.join(", ")
            },
            details.explanations.get(i).cloned().unwrap_or_default(),
        ]);
    }
    out!("{}", table.render());
    last_errors(&details.steps);
    Ok(())
}

/// The last error of every step that failed, retried or not: the table's WHY says only the
/// first line, and nothing once a retry succeeded.
fn last_errors(steps: &[StepRecord]) {
    let failed: Vec<(&StepRecord, &StepFailure)> = steps
        .iter()
        .filter_map(|step| Some((step, step.last_error.as_ref()?)))
        .collect();
    if failed.is_empty() {
        return;
    }
    outln!();
    outln!("last errors");
    for (step, failure) in failed {
        outln!(
            "  {}  attempt {}  {}  {}: {}",
            clean(&step.name),
            failure.attempt,
            clean(&failure.kind),
            time::rfc3339(failure.at),
            clean(&failure.message)
        );
    }
}

pub fn step(step: &StepRecord, json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(step);
    }
    outln!(
        "step {} ({}) of task {}  {}  attempts {}/{}",
        step.id,
        clean(&step.name),
        step.task_id,
        step.state,
        step.attempts,
        step.max_attempts
    );
    Ok(())
}

fn state_or_dash(state: Option<State>) -> String {
    state.map_or_else(|| "-".to_owned(), |s| s.to_string())
}

pub fn history(entries: &[HistoryEntry], json: bool) -> anyhow::Result<()> {
    if json {
        let rows: Vec<HistoryItem> = entries.iter().map(HistoryItem::from).collect();
        return super::json(&rows);
    }
    let mut table = Table::new(&["TIME", "SUBJECT", "TRANSITION", "METADATA"]);
    for e in entries {
        let subject = match &e.subject {
            HistorySubject::Task => "task".to_owned(),
            HistorySubject::Step { id, name } => format!("step {name} ({id})"),
        };
        table.row(vec![
            time::rfc3339(e.at),
            subject,
            format!("{} -> {}", state_or_dash(e.from), e.to),
            compact(&e.metadata),
        ]);
    }
    out!("{}", table.render());
    Ok(())
}
