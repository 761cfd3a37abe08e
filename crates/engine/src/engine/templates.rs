//! Registering templates, and the cache of parsed templates by id.
//!
//! A stored template never changes (a new definition needs a new version), so a parsed copy can
//! be cached by id for the life of the process without invalidation.

use super::{Engine, TemplateRef};
use crate::error::{Error, Result};
use crate::telemetry::metrics::{TemplateLabels, UNKNOWN};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tasker_model::{Template, TemplateId};
use tasker_store::{NewStep, NewTemplate, RegisteredTemplate, StepLayout, StoredTemplate};

/// A stored template, parsed, with the step layout every task created from it shares.
#[derive(Debug)]
pub(crate) struct CachedTemplate {
    pub(crate) stored: StoredTemplate,
    pub(crate) template: Arc<Template>,
    pub(crate) layout: Arc<StepLayout>,
    /// What its tasks are counted under in metrics.
    pub(crate) labels: TemplateLabels,
    /// Each step's handler name as a metric label, in template order.
    handler_labels: Vec<Arc<str>>,
}

impl CachedTemplate {
    /// The handler label of the step named `step` ("unknown" when the template has none).
    pub(crate) fn handler_label(&self, step: &str) -> Arc<str> {
        self.template
            .steps
            .iter()
            .position(|s| s.name == step)
            .and_then(|i| self.handler_labels.get(i).cloned())
            .unwrap_or_else(|| UNKNOWN.into())
    }
}

#[derive(Default)]
pub(crate) struct TemplateCache {
    by_id: RwLock<HashMap<TemplateId, Arc<CachedTemplate>>>,
}

impl TemplateCache {
    fn get(&self, id: TemplateId) -> Option<Arc<CachedTemplate>> {
        self.by_id
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    fn insert(&self, stored: StoredTemplate) -> Result<Arc<CachedTemplate>> {
        let key = format!("{}/{}@{}", stored.namespace, stored.name, stored.version);
        let template = Template::from_json(&stored.definition)
            .map_err(|errors| Error::StoredTemplateInvalid { key, errors })?;
        let cached = Arc::new(CachedTemplate {
            layout: Arc::new(step_layout(&template)),
            labels: TemplateLabels::new(&stored.namespace, &stored.name),
            handler_labels: template
                .steps
                .iter()
                .map(|s| Arc::from(s.handler.as_str()))
                .collect(),
            template: Arc::new(template),
            stored,
        });
        self.by_id
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cached.stored.id, cached.clone());
        Ok(cached)
    }
}

/// The steps and edges of a task created from `template`.
pub(crate) fn step_layout(template: &Template) -> StepLayout {
    let steps = template
        .steps
        .iter()
        .map(|s| NewStep {
            name: s.name.clone(),
            handler: s.handler.clone(),
            queue: s.queue.clone(),
            inputs: match &s.config {
                serde_json::Value::Null => None,
                serde_json::Value::Object(m) if m.is_empty() => None,
                config => Some(config.clone()),
            },
            retryable: s.retry.retryable,
            max_attempts: i32::try_from(s.retry.max_attempts).unwrap_or(i32::MAX),
        })
        .collect();
    let edges = template
        .steps
        .iter()
        .enumerate()
        .flat_map(|(child, s)| s.parents.iter().map(move |&parent| (parent, child)))
        .collect();
    StepLayout { steps, edges }
}

impl Engine {
    /// Checks what registration checks, without storing anything: each in-process step's
    /// config is accepted by its handler, when this process has that handler. Handler names
    /// need not be known here: a step runs wherever its handler is (another process, or a
    /// worker pulling its queue), and waits until then.
    pub fn check_template(&self, template: &Template) -> Result<()> {
        Ok(self.handlers().check_template(template)?)
    }

    /// Checks the template ([`Engine::check_template`]), then stores it.
    /// Registering the same version again with the same definition is a no-op
    /// (`created: false`); with another definition it is an error.
    pub async fn register_template(&self, template: &Template) -> Result<RegisteredTemplate> {
        self.check_template(template)?;
        let new = NewTemplate {
            namespace: template.namespace.clone(),
            name: template.name.clone(),
            version: template.version.to_string(),
            description: template.description.clone(),
            definition: template.to_json(),
        };
        let registered = self.store().register_template(&new, self.now()).await?;
        tracing::info!(
            template = %template.key(),
            id = registered.id,
            created = registered.created,
            "template registered"
        );
        Ok(registered)
    }

    /// Parses a template from YAML (or JSON), then registers it as
    /// [`Engine::register_template`] does; returns the parsed template too. A template that
    /// does not parse or validate is [`Error::Template`], naming every field at fault.
    pub async fn register_template_yaml(
        &self,
        yaml: &str,
    ) -> Result<(Template, RegisteredTemplate)> {
        let template = Template::from_yaml(yaml)?;
        let registered = self.register_template(&template).await?;
        Ok((template, registered))
    }

    /// The referenced version, or the latest when the reference names none.
    pub async fn template(
        &self,
        reference: &TemplateRef,
    ) -> Result<(StoredTemplate, Arc<Template>)> {
        let cached = self.resolve_template(reference).await?;
        Ok((cached.stored.clone(), cached.template.clone()))
    }

    /// The referenced template as stored, with the steps and edges every task created from it
    /// gets (what `Store::seed_completed_tasks` needs to bulk-load look-alike history).
    pub async fn template_layout(
        &self,
        reference: &TemplateRef,
    ) -> Result<(StoredTemplate, Arc<StepLayout>)> {
        let cached = self.resolve_template(reference).await?;
        Ok((cached.stored.clone(), cached.layout.clone()))
    }

    /// Every registered template, by namespace, name, then version (semantic order).
    pub async fn list_templates(&self) -> Result<Vec<StoredTemplate>> {
        Ok(self.store().list_templates().await?)
    }

    pub(crate) async fn resolve_template(
        &self,
        reference: &TemplateRef,
    ) -> Result<Arc<CachedTemplate>> {
        let stored = self
            .store()
            .find_template(
                &reference.namespace,
                &reference.name,
                reference.version.as_deref(),
            )
            .await?
            .ok_or_else(|| Error::TemplateNotFound(reference.to_string()))?;
        match self.inner.templates.get(stored.id) {
            Some(cached) => Ok(cached),
            None => self.inner.templates.insert(stored),
        }
    }

    /// The metric labels of a template's tasks, reading the template if need be.
    pub(crate) async fn template_labels(&self, id: TemplateId) -> TemplateLabels {
        match self.template_by_id(id).await {
            Ok(cached) => cached.labels.clone(),
            Err(_) => TemplateLabels::unknown(),
        }
    }

    /// The template a task or claimed step belongs to.
    pub(crate) async fn template_by_id(&self, id: TemplateId) -> Result<Arc<CachedTemplate>> {
        if let Some(cached) = self.inner.templates.get(id) {
            return Ok(cached);
        }
        let stored = self
            .store()
            .template_by_id(id)
            .await?
            .ok_or_else(|| Error::TemplateNotFound(format!("id {id}")))?;
        self.inner.templates.insert(stored)
    }
}
