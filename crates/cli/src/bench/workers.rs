//! Running orchestrators until idle: one in this process, or K `tasker run --until-idle`
//! processes of this same binary on the same database.

use super::memory;
use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tasker::{Engine, OrchestratorConfig, RunStats};

/// What the orchestrators did, summed over all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub steps_claimed: u64,
    pub steps_succeeded: u64,
    pub steps_failed: u64,
    pub tasks_completed: u64,
    pub leases_recovered: u64,
    pub fenced_out: u64,
}

impl Counters {
    fn add(&mut self, other: Counters) {
        self.steps_claimed += other.steps_claimed;
        self.steps_succeeded += other.steps_succeeded;
        self.steps_failed += other.steps_failed;
        self.tasks_completed += other.tasks_completed;
        self.leases_recovered += other.leases_recovered;
        self.fenced_out += other.fenced_out;
    }
}

impl From<RunStats> for Counters {
    fn from(s: RunStats) -> Counters {
        Counters {
            steps_claimed: s.steps_claimed,
            steps_succeeded: s.steps_succeeded,
            steps_failed: s.steps_failed,
            tasks_completed: s.tasks_completed,
            leases_recovered: s.leases_recovered,
            fenced_out: s.fenced_out,
        }
    }
}

pub struct Ran {
    pub counters: Counters,
    /// From starting the orchestrators to the last one stopping.
    pub wall: Duration,
    /// Peak memory of the process(es) that ran the steps: this one, or the largest worker.
    pub peak_rss_bytes: Option<u64>,
}

/// What `tasker run --json` prints.
#[derive(Deserialize)]
struct RunOutput {
    stats: Counters,
    peak_rss_bytes: Option<u64>,
}

pub async fn run_until_idle(engine: &Engine, url: &str, workers: usize) -> anyhow::Result<Ran> {
    if workers <= 1 {
        memory::reset_peak_rss();
        let started = Instant::now();
        let stats = engine
            .orchestrator(OrchestratorConfig {
                until_idle: true,
                ..OrchestratorConfig::default()
            })
            .spawn()
            .join()
            .await?;
        return Ok(Ran {
            counters: stats.into(),
            wall: started.elapsed(),
            peak_rss_bytes: memory::peak_rss_bytes(),
        });
    }
    if !engine.store().capabilities().multi_process {
        bail!(
            "--workers {workers} needs a database that several processes can run orchestrators \
             on (PostgreSQL); {} runs one orchestrator: use --workers 1",
            engine.store().backend_name()
        );
    }
    let exe = std::env::current_exe().context("cannot find this program to start workers")?;
    let started = Instant::now();
    let mut children = Vec::with_capacity(workers);
    for _ in 0..workers {
        let child = tokio::process::Command::new(&exe)
            .args(["--database-url", url, "--json", "run", "--until-idle"])
            .env_remove("TASKER_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        children.push(child);
    }
    let mut counters = Counters::default();
    let mut peak = None;
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().await?;
        if !output.status.success() {
            bail!(
                "worker {} failed ({}): {}",
                i + 1,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let run: RunOutput = serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "worker {} printed no run report: {}",
                i + 1,
                String::from_utf8_lossy(&output.stdout)
            )
        })?;
        counters.add(run.stats);
        peak = peak.max(run.peak_rss_bytes);
    }
    Ok(Ran {
        counters,
        wall: started.elapsed(),
        peak_rss_bytes: peak,
    })
}
