//! What an orchestrator did.

use super::table::Table;
use std::time::Duration;
use tasker::RunStats;

/// `peak_rss_bytes`: the process's peak resident memory, when the OS tells (JSON only).
pub fn stats(
    stats: &RunStats,
    elapsed: Duration,
    peak_rss_bytes: Option<u64>,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        return super::json(&serde_json::json!({
            "elapsed_ms": elapsed.as_millis() as u64,
            "stats": stats,
            "peak_rss_bytes": peak_rss_bytes,
        }));
    }
    outln!(
        "orchestrator stopped after {}",
        super::time::duration(elapsed)
    );
    out!("{}", stats_table(stats).render());
    Ok(())
}

pub fn stats_table(stats: &RunStats) -> Table {
    let mut table = Table::new(&["  COUNTER", "VALUE"]);
    let rows = [
        ("steps claimed", stats.steps_claimed),
        ("  handed off", stats.steps_handed_off),
        ("steps succeeded", stats.steps_succeeded),
        ("steps failed", stats.steps_failed),
        ("retries scheduled", stats.retries_scheduled),
        ("tasks completed", stats.tasks_completed),
        ("tasks failed", stats.tasks_failed),
        ("leases recovered", stats.leases_recovered),
        ("fenced out", stats.fenced_out),
    ];
    for (name, value) in rows {
        table.row(vec![format!("  {name}"), value.to_string()]);
    }
    table
}
