//! Creating and reading tasks.

use super::templates::CachedTemplate;
use super::{CreateTask, Engine, TemplateRef};
use crate::error::{Error, Result};
use crate::telemetry::{metrics, task_created_span};
use std::collections::HashMap;
use std::sync::Arc;
use tasker_model::identity::identity_hash;
use tasker_model::limits::{UnstorableJson, check_storable_json};
use tasker_model::trace::check_traceparent;
use tasker_model::{IdentityStrategy, State, TaskId, TaskRecord};
use tasker_store::{CreatedTask, NewTask, TaskFilter};

impl Engine {
    /// Creates a task, or returns the existing one when the template's identity (or the
    /// idempotency key) says it is the same task (`created: false`). The task is `pending`
    /// until an orchestrator claims its first step.
    ///
    /// Errors: [`Error::TemplateNotFound`], [`Error::Context`] (the context does not match the
    /// input schema), [`Error::ContextUnstorable`], [`Error::IdempotencyKeyRequired`],
    /// [`Error::IdempotencyConflict`], [`Error::Store`].
    ///
    /// ```
    /// use serde_json::json;
    /// use tasker_engine::{CreateTask, Error, State};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = std::sync::Arc::new(tasker_sqlite::SqliteStore::open("sqlite::memory:")?);
    /// # let engine = tasker_engine::Engine::new(store, tasker_engine::HandlerRegistry::with_builtins(), Default::default());
    /// # engine.migrate().await?;
    /// engine
    ///     .register_template_yaml("namespace: shop\nname: order\nversion: 1.0.0\nidentity: strict\ninput_schema: { type: object, required: [order_id] }\nsteps:\n  - { name: a, handler: noop }\n")
    ///     .await?;
    /// let created = engine
    ///     .create_task(CreateTask::new("shop/order".parse()?, json!({ "order_id": 7 })))
    ///     .await?;
    /// assert!(created.created);
    /// assert_eq!(engine.task(created.id).await?.state, State::Pending);
    ///
    /// // With `identity: strict`, the same context is the same task.
    /// let again = engine
    ///     .create_task(CreateTask::new("shop/order".parse()?, json!({ "order_id": 7 })))
    ///     .await?;
    /// assert_eq!((again.id, again.created), (created.id, false));
    ///
    /// let refused = engine.create_task(CreateTask::new("shop/order".parse()?, json!({}))).await;
    /// assert!(matches!(refused, Err(Error::Context { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_task(&self, request: CreateTask) -> Result<CreatedTask> {
        let mut created = self.create_tasks(vec![request]).await?;
        created.pop().ok_or_else(|| {
            Error::Store(tasker_store::Error::Database(
                "create_tasks returned no result for one request".to_owned(),
            ))
        })
    }

    /// Creates many tasks in one store call. Every request is checked first: one invalid
    /// context rejects the batch and nothing is written.
    pub async fn create_tasks(&self, requests: Vec<CreateTask>) -> Result<Vec<CreatedTask>> {
        let mut templates: HashMap<TemplateRef, Arc<CachedTemplate>> = HashMap::new();
        let mut new_tasks = Vec::with_capacity(requests.len());
        // Per task: its template (for its metric labels) and its creation span.
        let mut created_as = Vec::with_capacity(requests.len());
        let hook = self.trace_context();
        for request in requests {
            let cached = match templates.get(&request.template) {
                Some(cached) => cached.clone(),
                None => {
                    let cached = self.resolve_template(&request.template).await?;
                    templates.insert(request.template.clone(), cached.clone());
                    cached
                }
            };
            let mut task = new_task(&cached, request, self.config().max_context_bytes)?;
            let span = task_created_span(hook, &cached.labels, task.traceparent.as_deref());
            if task.traceparent.is_none() {
                // The task's trace starts here: its steps' spans will be children of this one.
                task.traceparent = hook.and_then(|hook| hook.traceparent(&span));
            }
            new_tasks.push(task);
            created_as.push((cached, span));
        }
        if new_tasks.is_empty() {
            return Ok(Vec::new());
        }
        let created = self
            .store()
            .create_tasks(&new_tasks, self.now())
            .await
            .map_err(|e| super::idempotency::conflict(e, &new_tasks))?;
        count_created(&created, &created_as);
        let fresh = created.iter().filter(|c| c.created).count();
        tracing::debug!(
            requested = new_tasks.len(),
            created = fresh,
            "tasks created"
        );
        if fresh > 0 {
            self.wakeup().notify();
        }
        Ok(created)
    }

    /// Checks one request as [`Engine::create_tasks`] does, writing nothing: the template
    /// exists, the context matches its schema and can be stored, the key is valid. A caller
    /// whose batch was refused uses it to say which request was at fault.
    pub async fn check_task(&self, request: &CreateTask) -> Result<()> {
        let cached = self.resolve_template(&request.template).await?;
        new_task(&cached, request.clone(), self.config().max_context_bytes).map(|_| ())
    }

    /// The task with its context; [`Error::TaskNotFound`] when there is none.
    pub async fn task(&self, id: TaskId) -> Result<TaskRecord> {
        self.store().task(id).await?.ok_or(Error::TaskNotFound(id))
    }

    /// Newest first, without contexts (`context` is null in every row; [`Engine::task`] has it).
    pub async fn list_tasks(&self, filter: TaskFilter) -> Result<Vec<TaskRecord>> {
        Ok(self.store().list_tasks(&filter).await?)
    }

    /// The number of tasks in each state; states with none are left out.
    pub async fn count_tasks_by_state(&self) -> Result<Vec<(State, i64)>> {
        Ok(self.store().count_tasks_by_state().await?)
    }
}

/// Counts the tasks actually created, per template, and closes their creation spans.
fn count_created(created: &[CreatedTask], created_as: &[(Arc<CachedTemplate>, tracing::Span)]) {
    let mut per_template: Vec<(&Arc<CachedTemplate>, u64)> = Vec::new();
    for (task, (cached, span)) in created.iter().zip(created_as) {
        span.record("task_id", task.id);
        span.record("created", task.created);
        if !task.created {
            continue;
        }
        match per_template
            .iter_mut()
            .find(|(c, _)| Arc::ptr_eq(c, cached))
        {
            Some((_, count)) => *count += 1,
            None => per_template.push((cached, 1)),
        }
    }
    for (cached, count) in per_template {
        metrics::tasks_created(&cached.labels, count);
    }
}

fn new_task(cached: &CachedTemplate, request: CreateTask, max_context: usize) -> Result<NewTask> {
    let template = &cached.template;
    let context = template
        .prepare_context(request.context)
        .map_err(|errors| Error::Context {
            template: template.key(),
            errors,
        })?;
    super::idempotency::check_key(request.idempotency_key.as_deref())?;
    if let Some(traceparent) = &request.traceparent {
        check_traceparent(traceparent).map_err(|e| Error::InvalidTraceparent(e.to_string()))?;
    }
    check_context(&context, max_context).map_err(|why| Error::ContextUnstorable {
        template: template.key(),
        why,
    })?;
    if template.identity == IdentityStrategy::CallerProvided && request.idempotency_key.is_none() {
        return Err(Error::IdempotencyKeyRequired(template.key()));
    }
    let identity = identity_hash(
        template.identity,
        &template.namespace,
        &template.name,
        &cached.stored.version,
        &context,
        request.idempotency_key.as_deref(),
    );
    Ok(NewTask {
        template_id: cached.stored.id,
        context,
        identity_hash: identity,
        idempotency_key: request.idempotency_key,
        traceparent: request.traceparent,
        layout: cached.layout.clone(),
    })
}

/// Refuses a context larger than `limit` (or holding a NUL character), naming its full size.
fn check_context(context: &serde_json::Value, limit: usize) -> Result<(), UnstorableJson> {
    const WHAT: &str = "the task context";
    match check_storable_json(WHAT, context, limit) {
        Err(UnstorableJson::TooLarge { .. }) => Err(UnstorableJson::TooLarge {
            what: WHAT,
            // The check stops counting past the limit; the message gives the whole size.
            size: serialized_len(context),
            limit,
        }),
        other => other,
    }
}

/// The size of `value` as compact JSON, counted without building the text.
fn serialized_len(value: &serde_json::Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}
