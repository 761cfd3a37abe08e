//! `tasker migrate [--check]`.

use super::Ctx;
use crate::cli::MigrateArgs;
use std::process::ExitCode;

pub async fn run(ctx: &Ctx, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let engine = ctx.engine_unchecked().await?;
    if args.check {
        let pending = engine.pending_migrations().await?;
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
    let applied = engine.migrate().await?;
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
