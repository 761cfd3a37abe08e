//! `tasker step resolve`.

use super::Ctx;
use crate::cli::StepCommand;
use crate::output;
use std::process::ExitCode;

pub async fn run(ctx: &Ctx, command: StepCommand) -> anyhow::Result<ExitCode> {
    match command {
        StepCommand::Resolve { id } => {
            let engine = ctx.engine().await?;
            let step = engine.resolve_step(id).await?;
            output::task::step(&step, ctx.json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
