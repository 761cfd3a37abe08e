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
            println!("schema is current");
        } else {
            println!("{} pending migration(s):", pending.len());
            for name in &pending {
                println!("  {name}");
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
        println!("schema is current, nothing to apply");
    } else {
        println!("applied {} migration(s):", applied.len());
        for name in &applied {
            println!("  {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
