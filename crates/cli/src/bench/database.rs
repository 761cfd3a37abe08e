//! A fresh database for each measurement, with the bundled templates registered, removed
//! afterwards: results never depend on what an earlier run left behind.

use anyhow::Context as _;
use std::path::PathBuf;
use tasker::{Engine, EngineConfig, HandlerRegistry, IsolatedDatabase, TemplateRef};

/// What `--template` names: a bundled template or a file.
#[derive(Debug, Clone)]
pub enum TemplateChoice {
    Bundled(TemplateRef),
    File(PathBuf),
    /// A template the bench itself brings, as YAML.
    Inline(&'static str),
}

impl TemplateChoice {
    pub fn parse(text: &str) -> anyhow::Result<TemplateChoice> {
        let path = PathBuf::from(text);
        if text.ends_with(".yaml") || text.ends_with(".yml") || path.is_file() {
            anyhow::ensure!(path.is_file(), "no template file at {text}");
            return Ok(TemplateChoice::File(path));
        }
        Ok(TemplateChoice::Bundled(text.parse()?))
    }
}

pub struct Fresh {
    pub engine: Engine,
    db: IsolatedDatabase,
}

impl Fresh {
    /// A URL other processes can use to reach this database.
    pub fn url(&self) -> &str {
        self.db.url()
    }

    /// Removes the database; every orchestrator on it must have stopped.
    pub async fn cleanup(self) -> anyhow::Result<()> {
        let Fresh { engine, db } = self;
        drop(engine);
        db.cleanup()
            .await
            .context("cannot remove the benchmark database")
    }
}

/// A fresh, migrated database with the bundled examples registered.
pub async fn fresh(url: &str) -> anyhow::Result<Fresh> {
    let db = tasker::connect_isolated(url).await.with_context(|| {
        format!(
            "cannot create a benchmark database beside {}",
            crate::commands::redact_password(url)
        )
    })?;
    let engine = Engine::new(
        db.store().clone(),
        HandlerRegistry::with_builtins(),
        EngineConfig::default(),
    );
    let fresh = Fresh { engine, db };
    if let Err(e) = crate::demo::register_examples(&fresh.engine).await {
        fresh.cleanup().await?;
        return Err(e);
    }
    Ok(fresh)
}

/// Registers `choice` on the engine (bundled ones already are) and returns its reference.
pub async fn template(engine: &Engine, choice: &TemplateChoice) -> anyhow::Result<TemplateRef> {
    match choice {
        TemplateChoice::Bundled(reference) => Ok(reference.clone()),
        TemplateChoice::File(path) => {
            let yaml = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            register(engine, &yaml)
                .await
                .with_context(|| format!("cannot register {}", path.display()))
        }
        TemplateChoice::Inline(yaml) => register(engine, yaml).await,
    }
}

async fn register(engine: &Engine, yaml: &str) -> anyhow::Result<TemplateRef> {
    let (template, _) = engine.register_template_yaml(yaml).await?;
    Ok(TemplateRef::new(template.namespace, template.name)
        .with_version(template.version.to_string()))
}
