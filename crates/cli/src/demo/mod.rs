//! `tasker demo`: register the example templates, create many tasks, run them with a progress
//! bar and report what happened.

mod plan;
mod progress;
mod summary;
mod templates;

use crate::cli::DemoArgs;
use crate::commands::Ctx;
use crate::output;
use anyhow::Context as _;
use plan::Kind;
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
pub use summary::Summary;
use tasker::{CreateTask, Engine, OrchestratorConfig, TaskerBuilder, TemplateRef};

const DEMO_FILE: &str = "tasker-demo.db";
const BATCH: usize = 500;

pub async fn run(ctx: &Ctx, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let url = match &ctx.database_url {
        // The user's database (PostgreSQL or a file they named): used as it is.
        Some(url) => url.clone(),
        None => fresh_demo_file()?,
    };
    let mut builder = TaskerBuilder::new(url.as_str());
    if let Some(hook) = &ctx.trace_context {
        builder = builder.trace_context(hook.clone());
    }
    let engine = builder
        .migrate(true)
        .build()
        .await
        .with_context(|| format!("cannot open {}", crate::commands::redact_password(&url)))?;
    let refs = register(&engine).await?;

    let run_id = engine.clock().now().format("%Y%m%dT%H%M%S%.6f").to_string();
    let requests: Vec<CreateTask> = plan::plan(args.tasks, refs.examples.len())
        .into_iter()
        .enumerate()
        .map(|(i, kind)| {
            let template = match kind {
                Kind::Example(e) => refs.examples[e].clone(),
                Kind::Flaky => refs.flaky.clone(),
                Kind::Failing => refs.failing.clone(),
            };
            let context = plan::context(&template.name, &run_id, i);
            CreateTask {
                template,
                context,
                idempotency_key: None,
                traceparent: None,
            }
        })
        .collect();

    let started = Instant::now();
    let mut ids = Vec::with_capacity(requests.len());
    let mut waiting = HashSet::with_capacity(requests.len());
    for batch in requests.chunks(BATCH) {
        for created in engine.create_tasks(batch.to_vec()).await? {
            ids.push(created.id);
            // A task that already existed (same identity) may have finished long ago.
            if created.created {
                waiting.insert(created.id);
            }
        }
    }
    let create_time = started.elapsed();

    let bar = progress::bar(ids.len(), ctx.json);
    bar.inc((ids.len() - waiting.len()) as u64);
    let events = engine.subscribe();
    let stop = crate::commands::stop_requested();
    let started = Instant::now();
    let orchestrator = engine
        .orchestrator(OrchestratorConfig {
            until_idle: true,
            ..OrchestratorConfig::default()
        })
        .spawn();
    // Ctrl-c stops the orchestrator gracefully; the summary then shows what got done.
    let interrupted = Arc::new(AtomicBool::new(false));
    let listener = tokio::spawn({
        let signal = orchestrator.shutdown_signal();
        let interrupted = interrupted.clone();
        async move {
            stop.await;
            interrupted.store(true, Ordering::Relaxed);
            signal.trigger();
        }
    });
    let stats = progress::follow(events, waiting, &bar, orchestrator.join()).await;
    listener.abort();
    let stats = stats?;
    let run_time = started.elapsed();

    let records = summary::collect(&engine, &ids).await?;
    let summary = Summary::new(&url, &records, stats, create_time, run_time);
    // Events may have been missed (a lagging receiver); the store has the final word.
    bar.set_position((summary.tasks - summary.unfinished()) as u64);
    bar.finish();
    if !bar.is_hidden() {
        // The bar leaves the cursor at the end of its line.
        eprintln!();
    }
    output::demo::summary(&summary, ctx.json)?;
    if interrupted.load(Ordering::Relaxed) {
        eprintln!(
            "interrupted: {} task(s) left unfinished; `tasker run` picks them up",
            summary.unfinished()
        );
        return Ok(ExitCode::FAILURE);
    }
    if summary.unfinished() > 0 {
        eprintln!(
            "error: {} task(s) did not finish although the orchestrator found nothing left to do",
            summary.unfinished()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A new SQLite file in the current directory, so that every run starts clean.
fn fresh_demo_file() -> anyhow::Result<String> {
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{DEMO_FILE}{suffix}");
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove the old {path}")),
        }
    }
    Ok(format!("sqlite://{DEMO_FILE}"))
}

struct Refs {
    examples: Vec<TemplateRef>,
    flaky: TemplateRef,
    failing: TemplateRef,
}

async fn register(engine: &Engine) -> anyhow::Result<Refs> {
    Ok(Refs {
        examples: register_examples(engine).await?,
        flaky: register_one(engine, "flaky_diamond.yaml", templates::FLAKY).await?,
        failing: register_one(engine, "failing_linear.yaml", templates::FAILING).await?,
    })
}

/// Registers the bundled example templates (what `tasker bench` runs too).
pub async fn register_examples(engine: &Engine) -> anyhow::Result<Vec<TemplateRef>> {
    let mut examples = Vec::with_capacity(templates::EXAMPLES.len());
    for (file, yaml) in templates::EXAMPLES {
        examples.push(register_one(engine, file, yaml).await?);
    }
    Ok(examples)
}

async fn register_one(engine: &Engine, file: &str, yaml: &str) -> anyhow::Result<TemplateRef> {
    let (template, _) = engine
        .register_template_yaml(yaml)
        .await
        .with_context(|| format!("cannot register the demo template {file}"))?;
    Ok(TemplateRef {
        namespace: template.namespace.clone(),
        name: template.name.clone(),
        version: Some(template.version.to_string()),
    })
}
