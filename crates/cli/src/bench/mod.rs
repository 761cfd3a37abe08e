//! `tasker bench`: the engine measured end to end on a fresh database per measurement, every
//! result checked, the figures printed beside the targets (see docs/BENCHMARKS.md).
//!
//! One file per scenario (`scale`, `latency`, `history`, `fanout`, `baseline`, `api`,
//! `queue_workers`), the machine
//! header (`machine`), and the report (`report`).

mod analytics;
mod api;
mod baseline;
mod checks;
mod database;
mod fanout;
mod history;
mod latency;
mod machine;
pub mod memory;
mod queue_workers;
mod report;
mod scale;
mod stats;
mod workers;

use crate::cli::{BenchArgs, Scenario};
use crate::commands::Ctx;
use database::TemplateChoice;
use serde::Serialize;
use std::process::ExitCode;

/// What this invocation measures, after `--smoke` has shrunk it.
#[derive(Debug, Clone)]
pub struct Plan {
    scenario: Scenario,
    pub tasks: Vec<u64>,
    pub template: TemplateChoice,
    template_text: String,
    pub workers: usize,
    pub history: Vec<u64>,
    pub samples: usize,
    pub fanout: usize,
    pub runs: usize,
    pub smoke: bool,
    /// Print progress on stderr (not with --json).
    verbose: bool,
}

/// The settings a report was measured with.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub scenario: String,
    pub tasks: Vec<u64>,
    pub template: String,
    pub workers: usize,
    pub history: Vec<u64>,
    pub samples: usize,
    pub fanout: usize,
    pub runs: usize,
    pub smoke: bool,
}

/// Smoke sizes: each scenario's smallest, small enough for a debug build in CI.
const SMOKE_HISTORY: u64 = 1_000;
const SMOKE_SAMPLES: usize = 20;
const SMOKE_FANOUT: usize = 100;

impl Plan {
    fn new(args: BenchArgs, json: bool) -> anyhow::Result<Plan> {
        // Each number was range-checked when parsed (`cli::ranges`).
        anyhow::ensure!(!args.tasks.is_empty(), "--tasks needs at least one size");
        anyhow::ensure!(
            !args.history.is_empty(),
            "--history needs at least one size"
        );
        let mut plan = Plan {
            scenario: args.scenario,
            template: TemplateChoice::parse(&args.template)?,
            template_text: args.template,
            tasks: args.tasks,
            workers: args.workers,
            history: args.history,
            samples: args.samples,
            fanout: args.fanout,
            runs: args.runs,
            smoke: args.smoke,
            verbose: !json,
        };
        if plan.smoke {
            let smallest = |sizes: &[u64]| sizes.iter().copied().min().unwrap_or(1);
            plan.tasks = vec![smallest(&plan.tasks)];
            plan.history = vec![smallest(&plan.history).min(SMOKE_HISTORY)];
            plan.samples = plan.samples.min(SMOKE_SAMPLES);
            plan.fanout = plan.fanout.min(SMOKE_FANOUT);
            plan.runs = 1;
        }
        Ok(plan)
    }

    fn wants(&self, scenario: Scenario) -> bool {
        self.scenario == Scenario::All || self.scenario == scenario
    }

    pub fn template_label(&self) -> String {
        self.template_text.clone()
    }

    fn settings(&self) -> Settings {
        Settings {
            scenario: format!("{:?}", self.scenario).to_lowercase(),
            tasks: self.tasks.clone(),
            template: self.template_text.clone(),
            workers: self.workers,
            history: self.history.clone(),
            samples: self.samples,
            fanout: self.fanout,
            runs: self.runs,
            smoke: self.smoke,
        }
    }
}

/// A line of progress on stderr, so that a long run shows where it is.
pub fn progress(plan: &Plan, line: &str) {
    if plan.verbose {
        eprintln!("{line}");
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: machine::Machine,
    pub settings: Settings,
    pub scale: Option<scale::ScaleReport>,
    pub latency: Option<latency::LatencyReport>,
    pub history: Option<history::HistoryReport>,
    pub fanout: Option<fanout::FanoutReport>,
    pub baseline: Option<baseline::BaselineReport>,
    pub api: Option<api::ApiReport>,
    pub workers: Option<queue_workers::WorkersReport>,
    /// Every scenario that ran checked its end state; a failed check stops the run with an
    /// error instead of a report.
    pub checks_passed: bool,
}

pub async fn run(ctx: &Ctx, args: BenchArgs) -> anyhow::Result<ExitCode> {
    let plan = Plan::new(args, ctx.json)?;
    let url = ctx.url().to_owned();
    let machine = machine::collect(&url).await?;
    if plan.workers > 1 && machine.backend == "sqlite" {
        anyhow::bail!(
            "--workers {} needs a database that several processes can run orchestrators on \
             (PostgreSQL); SQLite has one writer: use --workers 1",
            plan.workers
        );
    }
    if !ctx.json {
        report::header(&machine, &plan.settings());
    }
    let mut report = Report {
        machine,
        settings: plan.settings(),
        scale: None,
        latency: None,
        history: None,
        fanout: None,
        baseline: None,
        api: None,
        workers: None,
        checks_passed: false,
    };
    if plan.wants(Scenario::Scale) {
        let scale = scale::run(&url, &plan).await?;
        if !ctx.json {
            report::scale(&scale);
        }
        report.scale = Some(scale);
    }
    if plan.wants(Scenario::Latency) {
        let latency = latency::run(&url, &plan).await?;
        if !ctx.json {
            report::latency(&latency);
        }
        report.latency = Some(latency);
    }
    if plan.wants(Scenario::History) {
        let history = history::run(&url, &plan).await?;
        if !ctx.json {
            report::history(&history);
        }
        report.history = Some(history);
    }
    if plan.wants(Scenario::Fanout) {
        let fanout = fanout::run(&url, &plan).await?;
        if !ctx.json {
            report::fanout(&fanout);
        }
        report.fanout = Some(fanout);
    }
    if plan.wants(Scenario::Baseline) {
        let baseline = baseline::run(&url, &plan).await?;
        if !ctx.json {
            report::baseline(&baseline);
        }
        report.baseline = Some(baseline);
    }
    if plan.wants(Scenario::Api) {
        let api = api::run(&url, &plan).await?;
        if !ctx.json {
            report::api(&api);
        }
        report.api = Some(api);
    }
    if plan.wants(Scenario::Workers) {
        let workers = queue_workers::run(&url, &plan).await?;
        if !ctx.json {
            report::workers(&workers);
        }
        report.workers = Some(workers);
    }
    report.checks_passed = true;
    if ctx.json {
        crate::output::json(&report)?;
    } else {
        report::footer();
    }
    Ok(ExitCode::SUCCESS)
}
