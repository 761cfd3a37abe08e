//! `tasker token create | list | revoke`: the API tokens of `tasker serve`.

use super::Ctx;
use crate::cli::TokenCommand;
use crate::output::token as out;
use std::process::ExitCode;
use tasker::server::auth;

pub async fn run(ctx: &Ctx, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let engine = ctx.engine().await?;
    match command {
        TokenCommand::Create { name, scopes } => {
            let (token, record) = auth::issue_token(&engine, &name, &scopes).await?;
            out::created(&token, &record, ctx.json)?;
        }
        TokenCommand::List => out::list(&auth::list_tokens(&engine).await?, ctx.json)?,
        TokenCommand::Revoke { id } => {
            out::revoked(&auth::revoke_token(&engine, id).await?, ctx.json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
