//! `tasker migrate [--check]`.

use super::Ctx;
use crate::cli::MigrateArgs;
use std::process::ExitCode;

pub async fn run(ctx: &Ctx, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    if args.check {
        let pending = if ctx.sqlite_file_missing() {
            // Every migration is pending; an empty in-memory database lists them without
            // leaving a file behind, since a check changes nothing.
            Ctx::in_memory()
                .engine_unchecked()
                .await?
                .pending_migrations()
                .await?
        } else {
            ctx.engine_unchecked().await?.pending_migrations().await?
        };
        if ctx.json {
            crate::output::json(&serde_json::json!({ "pending": pending }))?;
        } else if pending.is_empty() {
            outln!("schema is current");
        } else {
            outln!("{} pending migration(s):", pending.len());
            for name in &pending {
                outln!("  {name}");
            }
        }
        return Ok(if pending.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let applied = ctx.engine_unchecked().await?.migrate().await?;
    if ctx.json {
        crate::output::json(&serde_json::json!({ "applied": applied }))?;
    } else if applied.is_empty() {
        outln!("schema is current, nothing to apply");
    } else {
        outln!("applied {} migration(s):", applied.len());
        for name in &applied {
            outln!("  {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
