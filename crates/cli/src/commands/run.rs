//! `tasker run`: an orchestrator in the foreground until idle or until ctrl-c / SIGTERM.

use super::Ctx;
use crate::cli::{OrchestratorArgs, RunArgs};
use crate::output;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tasker::store::BackendInfo;
use tasker::{Engine, OrchestratorConfig};

/// The orchestrator's settings from its flags (shared by `tasker run` and `tasker serve`).
pub fn orchestrator_config(args: &OrchestratorArgs) -> anyhow::Result<OrchestratorConfig> {
    let mut config = OrchestratorConfig::default();
    // The flags were range-checked when parsed (`cli::ranges`, the engine's `limits`).
    if let Some(n) = args.concurrency {
        config.concurrency = n;
    }
    if let Some(ms) = args.lease_ms {
        config.lease_duration = Duration::from_millis(ms);
        // A lease shorter than the rescue interval would leave a dead worker's steps waiting
        // for the rescuer rather than for the lease: look twice per lease.
        config.rescue_interval = config.rescue_interval.min(config.lease_duration / 2);
    }
    if let Some(ms) = args.poll_ms {
        config.poll_interval = Duration::from_millis(ms);
    }
    config.validate()?;
    Ok(config)
}

pub async fn run(ctx: &Ctx, args: RunArgs) -> anyhow::Result<ExitCode> {
    let engine = ctx.engine().await?;
    let config = OrchestratorConfig {
        until_idle: args.until_idle,
        ..orchestrator_config(&args.orchestrator)?
    };
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
    warn_about_server_settings(&engine).await;
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

/// Says, on stderr, which of the database's settings will slow an orchestrator down over time.
/// Reading them is best effort: a server that does not answer fails the run soon enough.
pub async fn warn_about_server_settings(engine: &Engine) {
    if let Ok(info) = engine.store().describe().await {
        for warning in setting_warnings(&info) {
            eprintln!("warning: {warning}");
        }
    }
}

fn setting_warnings(info: &BackendInfo) -> Vec<String> {
    info.settings
        .iter()
        .filter(|(name, value)| name == "autovacuum" && value == "off")
        .map(|_| {
            "autovacuum is off on this server: the entries of claimed steps pile up at the head of \
             the ready index until workflow_steps is vacuumed, and claims slow down as work passes \
             through; turn autovacuum on or run VACUUM on that table regularly"
                .to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(settings: &[(&str, &str)]) -> BackendInfo {
        BackendInfo {
            backend: "postgres".into(),
            server_version: "15".into(),
            settings: settings
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        }
    }

    #[test]
    fn autovacuum_off_is_the_one_warning() {
        let off = setting_warnings(&info(&[
            ("synchronous_commit", "off"),
            ("autovacuum", "off"),
        ]));
        assert_eq!(off.len(), 1);
        assert!(off[0].starts_with("autovacuum is off"), "{off:?}");
        assert!(setting_warnings(&info(&[("autovacuum", "on")])).is_empty());
        assert!(setting_warnings(&info(&[])).is_empty());
    }
}
