//! The `tasker` command line.

// First, so that its printing macros are visible to the modules below.
#[macro_use]
mod output;
mod bench;
mod cli;
mod commands;
mod demo;
#[cfg(test)]
mod fuzz_flags;

use clap::Parser;
use std::process::ExitCode;
use tasker_server::telemetry::traces::{self, OtelTraceContext, TraceExport};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let traces = match init_logging(args.verbose) {
        Ok(traces) => traces,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Engines continue tasks' traces only when spans are exported.
    let trace_context = traces.as_ref().map(|_| OtelTraceContext::shared());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(commands::run(args, trace_context));
    // The runtime first: nothing records spans any more when the last ones are flushed, and
    // the exporter's blocking client is dropped outside of it.
    drop(runtime);
    drop(traces);
    match result {
        Ok(code) => code,
        Err(e) => {
            // Errors quote template and context text: escape control characters, line by line.
            let text = format!("{e:#}");
            let lines: Vec<_> = text.lines().map(output::clean).collect();
            eprintln!("error: {}", lines.join("\n"));
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr so that `--json` output on stdout stays parseable. Spans are exported
/// over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`tasker serve`, `tasker run` and
/// every other command), with a filter of their own: `RUST_LOG` and `-v` choose the logs only.
/// The export, when there is one, flushes when dropped: keep it to the end.
fn init_logging(verbose: u8) -> Result<Option<TraceExport>, traces::Error> {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    let traces = traces::init("tasker")?;
    let export = traces.as_ref().map(|t| t.layer());
    tracing_subscriber::registry()
        .with(logs)
        .with(export)
        .init();
    Ok(traces)
}
