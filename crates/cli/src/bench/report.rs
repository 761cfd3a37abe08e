//! The human report: the machine first, then one table per scenario as it finishes. `--json`
//! prints the whole [`Report`](super::Report) at the end instead.

use super::Settings;
use super::analytics::CALLS;
use super::api::ApiReport;
use super::baseline::BaselineReport;
use super::fanout::FanoutReport;
use super::history::{HistoryReport, QUERIES};
use super::latency::LatencyReport;
use super::machine::Machine;
use super::queue_workers::WorkersReport;
use super::scale::{ScaleReport, Target};
use super::stats::{Latency, Spread};
use crate::output::table::Table;

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".to_owned(), |b| format!("{} MiB", b / (1024 * 1024)))
}

fn millis(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} s", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.3} ms")
    }
}

fn spread(s: Spread, runs: usize) -> String {
    if runs <= 1 {
        millis(s.median)
    } else {
        format!(
            "{} ({}..{})",
            millis(s.median),
            millis(s.min),
            millis(s.max)
        )
    }
}

fn rate(v: f64) -> String {
    format!("{v:.0}")
}

fn verdict(target: &Option<Target>) -> String {
    match target {
        Some(t) => format!("{} {}", t.text, if t.met { "met" } else { "MISSED" }),
        None => "-".to_owned(),
    }
}

pub fn header(m: &Machine, settings: &Settings) {
    outln!("tasker bench {} ({} build)", m.tasker_version, m.build);
    outln!(
        "machine   {} cores, {} RAM, {}",
        m.cores,
        mib(m.memory_bytes),
        m.cpu.as_deref().unwrap_or("unknown cpu")
    );
    outln!(
        "os        {} (kernel {})",
        m.os.as_deref().unwrap_or("unknown"),
        m.kernel.as_deref().unwrap_or("unknown")
    );
    let settings_text: Vec<String> = m.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    outln!(
        "database  {} {} ({})",
        m.backend,
        m.server_version,
        settings_text.join(", ")
    );
    outln!(
        "date      {} (load average {})",
        m.date,
        m.load_average.as_deref().unwrap_or("unknown")
    );
    if settings.smoke {
        outln!("smoke run: smallest sizes, once; timings are not comparable with targets");
    }
    outln!();
}

pub fn scale(r: &ScaleReport) {
    outln!(
        "SCALE  {} tasks, {} orchestrator{}; median of runs (min..max); total = first create to last complete",
        r.template,
        r.workers,
        if r.workers == 1 {
            " in process"
        } else {
            " processes"
        }
    );
    let mut table = Table::new(&[
        "  TASKS", "STEPS", "CREATE", "RUN", "TOTAL", "TASKS/S", "STEPS/S", "P50", "P99",
        "PEAK RSS", "TARGET",
    ]);
    for s in &r.sizes {
        let runs = s.runs.len();
        table.row(vec![
            format!("  {}", s.tasks),
            s.steps.to_string(),
            millis(s.create_ms.median),
            millis(s.run_ms.median),
            spread(s.total_ms, runs),
            rate(s.tasks_per_sec.median),
            rate(s.steps_per_sec.median),
            millis(s.p50_ms.median),
            millis(s.p99_ms.median),
            mib(s.peak_rss_bytes),
            verdict(&s.target),
        ]);
    }
    out!("{}", table.render());
    let reads = r
        .sizes
        .iter()
        .map(|s| {
            format!(
                "{} tasks {} / {}",
                s.tasks,
                millis(s.readiness_p50_ms.median),
                millis(s.context_p50_ms.median)
            )
        })
        .collect::<Vec<_>>();
    outln!(
        "  after each run, readiness / execution context p50 of random tasks: {}",
        reads.join(", ")
    );
    if let Some(g) = &r.growth {
        outln!(
            "  {} tasks against {}: steps/s {:.2}x, readiness p50 {:.2}x, execution context p50 {:.2}x, peak RSS {}",
            g.tasks,
            g.against,
            g.steps_per_sec_ratio,
            g.readiness_ratio,
            g.context_ratio,
            mib(g.peak_rss_bytes)
        );
        for (figure, target) in &g.targets {
            outln!(
                "  growth target: {figure}, {}",
                verdict(&Some(target.clone()))
            );
        }
    }
    checks(r.checks.iter());
}

pub fn latency(r: &LatencyReport) {
    outln!(
        "LATENCY  {} tasks one at a time, create to complete on the client ({} warm-up tasks not counted)",
        r.template,
        r.warm_up
    );
    let runs = r.runs.len();
    let mut table = Table::new(&["  SAMPLES", "P50", "P99", "TARGET"]);
    table.row(vec![
        format!("  {}", r.samples),
        spread(r.p50_ms, runs),
        spread(r.p99_ms, runs),
        verdict(&r.target),
    ]);
    out!("{}", table.render());
    checks(r.checks.iter());
}

fn cell(l: &Latency) -> String {
    format!("{} / {}", millis(l.p50_ms), millis(l.p99_ms))
}

pub fn history(r: &HistoryReport) {
    outln!(
        "HISTORY  p50 / p99 of each query against H finished {} tasks ({} pending kept for claims)",
        r.template,
        r.pending_tasks
    );
    let mut headers = vec!["  QUERY".to_owned()];
    headers.extend(r.columns.iter().map(|c| format!("H = {}", c.history)));
    headers.extend(["LAST/FIRST P50".to_owned(), "TARGET".to_owned()]);
    let mut table = Table::with_headers(headers);
    for (i, (name, get)) in QUERIES.iter().enumerate() {
        let mut row = vec![format!("  {name}")];
        row.extend(r.columns.iter().map(|c| cell(&get(c))));
        match r.ratios.get(i) {
            Some(ratio) => {
                row.push(format!("{:.2}x", ratio.p50_ratio));
                let mut verdict = verdict(&Some(ratio.target.clone()));
                if let Some(abs) = r.absolute.get(i) {
                    verdict.push_str(&format!("; {}", self::verdict(&Some(abs.target.clone()))));
                }
                row.push(verdict);
            }
            None => row.extend(["-".to_owned(), "-".to_owned()]),
        }
        table.row(row);
    }
    for (name, get) in CALLS {
        let mut row = vec![format!("  {name}")];
        row.extend(r.columns.iter().map(|c| cell(&get(&c.analytics))));
        let (Some(first), Some(last)) = (r.columns.first(), r.columns.last()) else {
            continue;
        };
        let ratio = get(&last.analytics).p50_ms / get(&first.analytics).p50_ms.max(1e-9);
        row.extend([
            format!("{ratio:.2}x"),
            "- (cost: tasks in range, capped)".to_owned(),
        ]);
        table.row(row);
    }
    out!("{}", table.render());
    let seeding: Vec<String> = r
        .columns
        .iter()
        .map(|c| format!("{:.0} tasks/s", c.seeded_tasks_per_sec))
        .collect();
    outln!("  seeding: {}", seeding.join(", "));
    checks(r.checks.iter());
}

pub fn fanout(r: &FanoutReport) {
    outln!("FANOUT  one task 1 -> {} -> 1, create to complete", r.width);
    let runs = r.runs.len();
    let mut table = Table::new(&["  STEPS", "TOTAL", "STEPS/S", "PEAK RSS", "TARGET"]);
    let steps_per_sec = Spread::of(r.runs.iter().map(|x| x.steps_per_sec));
    table.row(vec![
        format!("  {}", r.width + 2),
        spread(r.total_ms, runs),
        rate(steps_per_sec.median),
        mib(r.runs.iter().filter_map(|x| x.peak_rss_bytes).max()),
        verdict(&r.target),
    ]);
    out!("{}", table.render());
    checks(r.checks.iter());
}

pub fn baseline(r: &BaselineReport) {
    outln!(
        "BASELINE  the engine against a bare DAG queue in the same database, run in turn: \
         {} worker{} claiming {} steps a statement; median of runs (min..max)",
        r.workers,
        if r.workers == 1 { "" } else { "s" },
        r.batch
    );
    let mut table = Table::new(&[
        "  WORKLOAD",
        "ENGINE",
        "BARE QUEUE",
        "WITH HISTORY",
        "RATIO",
        "RATIO (HISTORY)",
    ]);
    for (label, t) in [("diamond", &r.diamond), ("one-step", &r.one_step)] {
        table.row(vec![
            format!("  {} {label} tasks, steps/s {}", t.tasks, t.measured),
            rates(t.engine),
            rates(t.bare),
            rates(t.bare_history),
            format!("{:.2}", t.ratio),
            format!("{:.2}", t.ratio_history),
        ]);
    }
    let l = &r.linear;
    let runs = r.runs;
    table.row(vec![
        format!("  {} linear tasks one at a time, p50", l.samples),
        spread(l.engine_p50_ms, runs),
        spread(l.bare_p50_ms, runs),
        spread(l.bare_history_p50_ms, runs),
        format!(
            "{:.2}",
            l.bare_p50_ms.median / l.engine_p50_ms.median.max(1e-9)
        ),
        format!(
            "{:.2}",
            l.bare_history_p50_ms.median / l.engine_p50_ms.median.max(1e-9)
        ),
    ]);
    table.row(vec![
        "  same, p99".to_owned(),
        spread(l.engine_p99_ms, runs),
        spread(l.bare_p99_ms, runs),
        spread(l.bare_history_p99_ms, runs),
        "-".to_owned(),
        "-".to_owned(),
    ]);
    table.row(vec![
        format!("  plain queue (no DAG), {} jobs, jobs/s", r.plain.jobs),
        rate(r.diamond.engine.median),
        rates(r.plain.jobs_per_sec),
        "-".to_owned(),
        format!("{:.2}", r.plain.ratio),
        "-".to_owned(),
    ]);
    out!("{}", table.render());
    outln!("  ratios: engine over bare queue (latency: bare p50 over engine p50)");
    let mut goals = Table::new(&["  TARGET", "FIGURE", "VERDICT"]);
    for g in &r.goals {
        goals.row(vec![
            format!("  {}", g.what),
            g.figure.clone(),
            verdict(&Some(g.target.clone())),
        ]);
    }
    out!("{}", goals.render());
    checks(r.checks.iter());
}

fn rates(s: Spread) -> String {
    format!("{} ({}..{})", rate(s.median), rate(s.min), rate(s.max))
}

pub fn api(r: &ApiReport) {
    outln!(
        "API  task creation over HTTP/1.1, {} clients with keep-alive, server in this process",
        r.clients
    );
    let mut table = Table::new(&["  HOW", "TASKS", "TASKS/S", "P50", "P99", "VS ENGINE"]);
    table.row(vec![
        "  POST /v1/tasks".to_owned(),
        r.single.tasks.to_string(),
        rate(r.single.tasks_per_sec),
        millis(r.single.latency.p50_ms),
        millis(r.single.latency.p99_ms),
        "-".to_owned(),
    ]);
    table.row(vec![
        format!("  POST /v1/tasks/batch ({})", r.batch.batch),
        r.batch.tasks.to_string(),
        rate(r.batch.http_tasks_per_sec),
        "-".to_owned(),
        "-".to_owned(),
        format!("{:.2}", r.batch.ratio),
    ]);
    table.row(vec![
        format!("  Engine::create_tasks ({})", r.batch.batch),
        r.batch.tasks.to_string(),
        rate(r.batch.direct_tasks_per_sec),
        "-".to_owned(),
        "-".to_owned(),
        "1.00".to_owned(),
    ]);
    out!("{}", table.render());
    outln!("  peak RSS under HTTP load: {}", mib(r.peak_rss_bytes));
    for t in &r.targets {
        outln!(
            "  target: {} {}",
            t.text,
            if t.met { "met" } else { "MISSED" }
        );
    }
    checks(r.checks.iter());
}

pub fn workers(r: &WorkersReport) {
    outln!(
        "WORKERS  {} diamond tasks ({} steps): {} HTTP workers (claims of up to {}) against the \
         orchestrator in this process",
        r.tasks,
        r.steps,
        r.http_workers,
        r.claim_max
    );
    let mut table = Table::new(&["  HOW", "STEPS", "RUN", "STEPS/S", "VS IN-PROCESS"]);
    table.row(vec![
        "  in-process orchestrator".to_owned(),
        r.steps.to_string(),
        millis(r.in_process.run_ms),
        rate(r.in_process.steps_per_sec),
        "1.00".to_owned(),
    ]);
    table.row(vec![
        "  HTTP workers (queue)".to_owned(),
        r.steps.to_string(),
        millis(r.http.run_ms),
        rate(r.http.steps_per_sec),
        format!("{:.2}", r.ratio),
    ]);
    out!("{}", table.render());
    outln!("  claim requests: {} ({} empty)", r.claims, r.empty_claims);
    for t in &r.targets {
        outln!(
            "  target: {} {}",
            t.text,
            if t.met { "met" } else { "MISSED" }
        );
    }
    checks(r.checks.iter());
}

fn checks<'a>(lines: impl Iterator<Item = &'a String>) {
    let lines: Vec<&String> = lines.collect();
    let mut seen = Vec::new();
    for line in lines {
        if !seen.contains(&line) {
            seen.push(line);
        }
    }
    for line in seen {
        outln!("  checked: {line}");
    }
    outln!();
}

pub fn footer() {
    outln!(
        "all checks passed (load average now {})",
        super::machine::load_average()
            .as_deref()
            .unwrap_or("unknown")
    );
}
