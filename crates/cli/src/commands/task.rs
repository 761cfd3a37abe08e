//! `tasker task create | list | show | history | cancel | retry`.

use super::Ctx;
use crate::cli::{CreateArgs, ListArgs, TaskCommand};
use crate::output::task as out;
use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;
use std::io::Read as _;
use std::process::ExitCode;
use std::time::Duration;
use tasker::model::State;
use tasker::model::limits::DEFAULT_MAX_CONTEXT_BYTES;
use tasker::store::TaskFilter;
use tasker::{CreateTask, OrchestratorConfig};

pub async fn run(ctx: &Ctx, command: TaskCommand) -> anyhow::Result<ExitCode> {
    match command {
        TaskCommand::Create(args) => return create(ctx, args).await,
        TaskCommand::List(args) => list(ctx, args).await?,
        TaskCommand::Show { id } => {
            let engine = ctx.engine().await?;
            out::details(&engine.task_details(id).await?, ctx.json)?;
        }
        TaskCommand::History { id } => {
            let engine = ctx.engine().await?;
            out::history(&engine.task_history(id).await?, ctx.json)?;
        }
        TaskCommand::Cancel { id } => {
            let engine = ctx.engine().await?;
            out::record(&engine.cancel_task(id).await?, ctx.json)?;
        }
        TaskCommand::Retry { id } => {
            let engine = ctx.engine().await?;
            out::record(&engine.retry_task(id).await?, ctx.json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn create(ctx: &Ctx, args: CreateArgs) -> anyhow::Result<ExitCode> {
    let template = super::template::parse_ref(&args.template)?;
    let context = read_context(&args.context)?;
    let engine = ctx.engine().await?;
    let created = engine
        .create_task(CreateTask {
            template,
            context,
            idempotency_key: args.idempotency_key,
            traceparent: None,
        })
        .await?;
    if !args.wait {
        let task = engine.task(created.id).await?;
        out::created(&task, created.created, ctx.json)?;
        // An orchestrator in another process starts the task at once when told of it.
        engine.flush_hints().await;
        return Ok(ExitCode::SUCCESS);
    }
    let stop = super::stop_requested();
    // Only this task's steps: other work in the database is for `tasker run`.
    let handle = engine
        .orchestrator(OrchestratorConfig {
            only_task: Some(created.id),
            ..OrchestratorConfig::default()
        })
        .spawn();
    let timeout = args.timeout.map(Duration::from_secs);
    let finished = tokio::select! {
        result = engine.wait_for_task(created.id, timeout) => Some(result),
        _ = stop => None,
    };
    // Shut down before reporting so that no lease is left behind, whatever happened. A caller
    // that gave up (time-out, ctrl-c) does not wait for running handlers: they are stopped
    // and their steps given back for `tasker run` to pick up.
    let completed = matches!(&finished, Some(Ok(_)));
    if completed {
        handle.shutdown().await?;
    } else {
        handle.shutdown_now().await?;
    }
    let Some(result) = finished else {
        bail!(
            "interrupted; task {} keeps its state and can be picked up by `tasker run`",
            created.id
        );
    };
    let task = result?;
    out::created(&task, created.created, ctx.json)?;
    Ok(if task.state == State::Error {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Inline JSON, `@FILE`, or `@-` for stdin.
fn read_context(arg: &str) -> anyhow::Result<Value> {
    read_context_within(arg, DEFAULT_MAX_CONTEXT_BYTES)
}

/// The context given as `--context`: inline JSON, `@FILE` or `@-` (stdin). A file or stdin is
/// read up to `limit` bytes plus one, so that an endless one (`@/dev/zero`) fails at once.
fn read_context_within(arg: &str, limit: usize) -> anyhow::Result<Value> {
    let (text, source) = match arg.strip_prefix('@') {
        Some("-") => (
            read_within(std::io::stdin().lock(), "stdin", limit)?,
            "stdin".to_owned(),
        ),
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot read the context file {path}"))?;
            (read_within(file, path, limit)?, path.to_owned())
        }
        None => (arg.to_owned(), "--context".to_owned()),
    };
    serde_json::from_str(&text).map_err(|e| anyhow!("{source} is not valid JSON: {e}"))
}

fn read_within(reader: impl std::io::Read, source: &str, limit: usize) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the context from {source}"))?;
    if bytes.len() > limit {
        bail!("the context in {source} is more than {limit} bytes, the limit for a task context");
    }
    String::from_utf8(bytes).map_err(|e| anyhow!("{source} is not UTF-8 text: {e}"))
}

async fn list(ctx: &Ctx, args: ListArgs) -> anyhow::Result<()> {
    let state = args.state.as_deref().map(str::parse::<State>).transpose()?;
    let engine = ctx.engine().await?;
    let tasks = engine
        .list_tasks(TaskFilter {
            state,
            namespace: args.namespace,
            before_id: args.before,
            limit: args.limit,
            ..TaskFilter::default()
        })
        .await?;
    out::list(&tasks, ctx.json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_inline_json_or_a_file() {
        assert_eq!(
            read_context(r#"{"a":1}"#).ok(),
            Some(serde_json::json!({"a": 1}))
        );
        let err = read_context("{oops").expect_err("not JSON");
        assert!(
            err.to_string().contains("--context is not valid JSON"),
            "{err}"
        );
        let err = read_context("@/nonexistent/ctx.json").expect_err("no file");
        assert!(err.to_string().contains("/nonexistent/ctx.json"), "{err}");
    }

    #[test]
    fn an_endless_context_file_is_refused_at_the_limit() {
        let err = read_context("@/dev/zero").expect_err("endless");
        assert_eq!(
            err.to_string(),
            format!(
                "the context in /dev/zero is more than {DEFAULT_MAX_CONTEXT_BYTES} bytes, the limit for a task context"
            )
        );
        let path = std::env::temp_dir().join(format!("tasker-ctx-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"a": "0123456789"}"#).unwrap();
        let arg = format!("@{}", path.display());
        assert_eq!(
            read_context_within(&arg, 19).unwrap(),
            serde_json::json!({"a": "0123456789"})
        );
        let err = read_context_within(&arg, 18).expect_err("one byte too many");
        assert!(err.to_string().contains("more than 18 bytes"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }
}
