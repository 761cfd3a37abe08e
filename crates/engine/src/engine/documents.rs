//! The documents that `tasker --json` prints and the HTTP API answers: one typed form per view,
//! built here, so that both say exactly the same.

use super::inspect::{HistoryEntry, HistorySubject, TaskDetails};
use super::{Engine, TemplateRef};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use tasker_model::{
    State, StepFailure, StepId, StepReadiness, StepRecord, TaskExecutionContext, TaskId,
    TaskRecord, Template, TemplateId, Timestamp, TransitionRecord,
};
use tasker_store::StoredTemplate;

/// `task show`: the task, its execution context, and every step with its readiness and why it
/// is or is not running.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskDocument {
    /// The task, with its context.
    pub task: TaskRecord,
    /// The task's progress summed over its steps.
    pub execution: TaskExecutionContext,
    /// In template order.
    pub steps: Vec<StepView>,
}

/// A step of a task as `task show` gives it: the step's own fields, its readiness, and one line
/// that says why it is or is not running.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepView {
    /// The step as stored.
    #[serde(flatten)]
    pub step: StepRecord,
    /// `null` only for a step whose readiness could not be computed (it vanished meanwhile).
    pub readiness: Option<StepReadiness>,
    /// Why the step is or is not running, in one line (waiting for its parents, for its retry time,
    /// failed permanently after its attempts).
    pub explanation: String,
}

impl From<&TaskDetails> for TaskDocument {
    fn from(details: &TaskDetails) -> Self {
        let steps = details
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| StepView {
                step: step.clone(),
                readiness: details
                    .readiness
                    .iter()
                    .find(|r| r.step_id == step.id)
                    .cloned(),
                explanation: details.explanations.get(i).cloned().unwrap_or_default(),
            })
            .collect();
        TaskDocument {
            task: details.task.clone(),
            execution: details.execution.clone(),
            steps,
        }
    }
}

/// One step on its own: what `task show` says of it (its `last_error` included) and the task
/// it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepDocument {
    /// The step as task show gives it.
    #[serde(flatten)]
    pub view: StepView,
    /// The task the step belongs to.
    pub task: StepTask,
}

/// The task a step belongs to, in brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepTask {
    /// The task's id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: TaskId,
    /// The template's namespace.
    pub namespace: String,
    /// The template's name.
    pub name: String,
    /// The template's version.
    pub version: String,
    /// The task's state.
    pub state: State,
}

/// One row of `task history`: a transition of the task or of one of its steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryItem {
    /// When the transition happened.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// Whether it is a transition of the task or of one of its steps.
    pub subject: HistoryKind,
    /// Set for step transitions.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub step_id: Option<StepId>,
    /// The step's name; set for step transitions.
    pub step_name: Option<String>,
    /// `null` for the transition that created the task or step.
    pub from: Option<State>,
    /// The state after the transition.
    pub to: State,
    /// The order of the transitions of one task or step.
    pub sort_key: i32,
    /// What the transition recorded: an error, the backoff chosen, the operator (`actor`), ...
    pub metadata: Value,
}

/// What a history row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    /// The task itself.
    Task,
    /// One of its steps.
    Step,
}

impl From<&HistoryEntry> for HistoryItem {
    fn from(e: &HistoryEntry) -> Self {
        let (subject, step_id, step_name) = match &e.subject {
            HistorySubject::Task => (HistoryKind::Task, None, None),
            HistorySubject::Step { id, name } => (HistoryKind::Step, Some(*id), Some(name.clone())),
        };
        HistoryItem {
            at: e.at,
            subject,
            step_id,
            step_name,
            from: e.from,
            to: e.to,
            sort_key: e.sort_key,
            metadata: e.metadata.clone(),
        }
    }
}

/// `template show`: the template and its steps grouped by dependency level.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateDocument {
    /// The template's id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: TemplateId,
    /// When the template was registered.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// The template as registered, with every default filled in.
    pub template: Template,
    /// Step names by level: level 0 has no parents, level n depends on level n-1.
    pub levels: Vec<Vec<String>>,
}

impl TemplateDocument {
    /// The document of a stored template and its parsed form.
    pub fn new(stored: &StoredTemplate, template: &Template) -> Self {
        let levels = template
            .levels()
            .iter()
            .map(|level| {
                level
                    .iter()
                    .map(|&i| template.steps[i].name.clone())
                    .collect()
            })
            .collect();
        TemplateDocument {
            id: stored.id,
            created_at: stored.created_at,
            template: template.clone(),
            levels,
        }
    }
}

/// A row of `template list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateSummary {
    /// The template's id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: TemplateId,
    /// The template's namespace.
    pub namespace: String,
    /// The template's name.
    pub name: String,
    /// The template's version.
    pub version: String,
    /// What the template is for; null when it has no description.
    pub description: Option<String>,
    /// How many steps it has.
    pub steps: usize,
    /// When the template was registered.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

impl From<&StoredTemplate> for TemplateSummary {
    fn from(t: &StoredTemplate) -> Self {
        TemplateSummary {
            id: t.id,
            namespace: t.namespace.clone(),
            name: t.name.clone(),
            version: t.version.clone(),
            description: t.description.clone(),
            steps: t
                .definition
                .get("steps")
                .and_then(|s| s.as_array())
                .map_or(0, Vec::len),
            created_at: t.created_at,
        }
    }
}

impl Engine {
    /// [`Engine::task_details`] as the document `task show --json` prints.
    pub async fn task_document(&self, id: TaskId) -> Result<TaskDocument> {
        Ok(TaskDocument::from(&self.task_details(id).await?))
    }

    /// [`Engine::task_history`] as the rows `task history --json` prints.
    pub async fn history_items(&self, id: TaskId) -> Result<Vec<HistoryItem>> {
        Ok(self
            .task_history(id)
            .await?
            .iter()
            .map(HistoryItem::from)
            .collect())
    }

    /// The referenced template (the latest version when the reference names none), with its
    /// steps grouped by level.
    pub async fn template_document(&self, reference: &TemplateRef) -> Result<TemplateDocument> {
        let (stored, template) = self.template(reference).await?;
        Ok(TemplateDocument::new(&stored, &template))
    }

    /// One step: its fields, readiness and explanation as `task show` gives them, and its task.
    /// A step whose last failure was recorded before the store kept `last_error` takes it from
    /// its history, so that the step document names every failure.
    pub async fn step_document(&self, id: StepId) -> Result<StepDocument> {
        let step = self
            .store()
            .step(id)
            .await?
            .ok_or(Error::StepNotFound(id))?;
        let details = self.task_details(step.task_id).await?;
        let document = TaskDocument::from(&details);
        let mut view = document
            .steps
            .into_iter()
            .find(|s| s.step.id == id)
            .ok_or(Error::StepNotFound(id))?;
        if view.step.last_error.is_none() && view.step.last_failure_at.is_some() {
            view.step.last_error = self
                .store()
                .step_transitions_of_task(step.task_id)
                .await?
                .into_iter()
                .filter(|t| t.owner_id == id && t.to_state == State::Error)
                .max_by_key(|t| t.sort_key)
                .map(|t| failure_from_history(&t));
        }
        let task = details.task;
        Ok(StepDocument {
            view,
            task: StepTask {
                id: task.id,
                namespace: task.namespace,
                name: task.name,
                version: task.version,
                state: task.state,
            },
        })
    }
}

/// A failure as its transition recorded it (`error`, `failure`, `attempt` in the metadata), for
/// a step whose record predates `last_error`.
fn failure_from_history(transition: &TransitionRecord) -> StepFailure {
    let metadata = &transition.metadata;
    StepFailure {
        message: metadata
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        kind: metadata
            .get("failure")
            .and_then(Value::as_str)
            .unwrap_or(StepFailure::DEFAULT_KIND)
            .to_owned(),
        attempt: metadata
            .get("attempt")
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
            .unwrap_or_default(),
        at: transition.created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failure_older_than_the_record_column_is_read_from_its_transition() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a time");
        let transition = |metadata| TransitionRecord {
            id: 1,
            owner_id: 7,
            step_name: Some("a".into()),
            from_state: Some(State::InProgress),
            to_state: State::Error,
            metadata,
            sort_key: 3,
            most_recent: true,
            created_at: at,
        };
        let failure = failure_from_history(&transition(
            json!({"attempt": 2, "error": "lease expired (owner a)", "failure": "lease_expired"}),
        ));
        assert_eq!(
            failure,
            StepFailure {
                message: "lease expired (owner a)".into(),
                kind: "lease_expired".into(),
                attempt: 2,
                at,
            }
        );
        let bare = failure_from_history(&transition(json!({})));
        assert_eq!((bare.message.as_str(), bare.kind.as_str()), ("", "handler"));
    }

    #[test]
    fn history_rows_flatten_the_subject() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a time");
        let entry = HistoryEntry {
            at,
            subject: HistorySubject::Step {
                id: 7,
                name: "a".into(),
            },
            from: Some(State::InProgress),
            to: State::Error,
            sort_key: 3,
            metadata: json!({"error": "boom"}),
        };
        let row = serde_json::to_value(HistoryItem::from(&entry)).expect("json");
        assert_eq!(
            row,
            json!({
                "at": at,
                "subject": "step",
                "step_id": 7,
                "step_name": "a",
                "from": "in_progress",
                "to": "error",
                "sort_key": 3,
                "metadata": {"error": "boom"},
            })
        );
    }
}
