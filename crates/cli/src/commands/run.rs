//! `tasker run`: an orchestrator in the foreground until idle or until ctrl-c / SIGTERM.

use super::Ctx;
use crate::cli::RunArgs;
use crate::output;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tasker::OrchestratorConfig;

pub async fn run(ctx: &Ctx, args: RunArgs) -> anyhow::Result<ExitCode> {
    let engine = ctx.engine().await?;
    let mut config = OrchestratorConfig {
        until_idle: args.until_idle,
        ..OrchestratorConfig::default()
    };
    if let Some(n) = args.concurrency {
        anyhow::ensure!(n > 0, "--concurrency must be at least 1");
        config.concurrency = n;
    }
    if let Some(ms) = args.lease_ms {
        anyhow::ensure!(ms > 0, "--lease-ms must be at least 1");
        config.lease_duration = Duration::from_millis(ms);
        // A lease shorter than the rescue interval would leave a dead worker's steps waiting
        // for the rescuer rather than for the lease: look twice per lease.
        config.rescue_interval = config.rescue_interval.min(config.lease_duration / 2);
    }
    if let Some(ms) = args.poll_ms {
        anyhow::ensure!(ms > 0, "--poll-ms must be at least 1");
        config.poll_interval = Duration::from_millis(ms);
    }
    if !ctx.json {
        eprintln!(
            "orchestrator {} on {} ({} handlers at once{}); ctrl-c stops it",
            config.owner,
            ctx.shown_url(),
            config.concurrency,
            if config.until_idle {
                ", until idle"
            } else {
                ""
            }
        );
    }
    let stop = super::stop_requested();
    let started = Instant::now();
    let handle = engine.orchestrator(config).spawn();
    let signal = handle.shutdown_signal();
    let listener = tokio::spawn(async move {
        stop.await;
        signal.trigger();
    });
    let stats = handle.join().await;
    listener.abort();
    let peak_rss = crate::bench::memory::peak_rss_bytes();
    output::run::stats(&stats?, started.elapsed(), peak_rss, ctx.json)?;
    Ok(ExitCode::SUCCESS)
}
