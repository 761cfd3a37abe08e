//! `tasker serve`: the REST API, with an orchestrator beside it, until ctrl-c / SIGTERM.

use super::Ctx;
use crate::cli::ServeArgs;
use crate::output;
use std::process::ExitCode;
use std::time::Instant;
use tasker::server::{ServeConfig, Server};

pub async fn run(ctx: &Ctx, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let engine = ctx.engine().await?;
    let config = ServeConfig {
        listen: args.listen,
        no_orchestrator: args.no_orchestrator,
        insecure_no_auth: args.insecure_no_auth,
        max_body: args.max_body,
        worker_max_wait: std::time::Duration::from_millis(args.worker_max_wait_ms),
        orchestrator: super::run::orchestrator_config(&args.orchestrator)?,
    };
    // Before binding, so that a signal while the server starts is not lost.
    let stop = super::stop_requested();
    let orchestrator = !config.no_orchestrator;
    if orchestrator {
        super::run::warn_about_server_settings(&engine).await;
    }
    let started = Instant::now();
    let server = Server::bind(engine, config).await?;
    // Always said (on stderr, as the logs): with port 0 it is the only way to learn the port.
    eprintln!(
        "tasker serve listening on http://{} on {} ({}); ctrl-c stops it",
        server.local_addr(),
        ctx.shown_url(),
        if orchestrator {
            "with an orchestrator"
        } else {
            "API only"
        }
    );
    let report = server.run(stop).await?;
    if let Some(stats) = report.orchestrator {
        let peak_rss = crate::bench::memory::peak_rss_bytes();
        output::run::stats(&stats, started.elapsed(), peak_rss, ctx.json)?;
    }
    Ok(ExitCode::SUCCESS)
}
