//! The demo's summary.

use super::table::Table;
use super::time;
use crate::demo::Summary;
use std::time::Duration;

pub fn summary(s: &Summary, json: bool) -> anyhow::Result<()> {
    if json {
        return super::json(s);
    }
    outln!("Tasker demo: {} tasks on {}", s.tasks, s.database_url);
    outln!(
        "  created in {}, ran in {}",
        time::duration(Duration::from_millis(s.create_ms)),
        time::duration(Duration::from_millis(s.run_ms))
    );
    outln!();
    let mut states = Table::new(&["FINAL STATE", "TASKS"]);
    for (state, n) in &s.by_state {
        states.row(vec![state.clone(), n.to_string()]);
    }
    out!("{}", states.render());
    outln!();
    let mut templates = Table::new(&["TEMPLATE", "TASKS"]);
    for (template, n) in &s.by_template {
        templates.row(vec![template.clone(), n.to_string()]);
    }
    out!("{}", templates.render());
    outln!();
    let mut figures = Table::new(&["", ""]);
    figures.row(vec![
        "steps run".into(),
        format!(
            "{} ({} succeeded, {} failed)",
            s.steps_run, s.steps_succeeded, s.steps_failed
        ),
    ]);
    figures.row(vec!["retries".into(), s.retries.to_string()]);
    figures.row(vec![
        "throughput".into(),
        format!(
            "{:.1} tasks/s, {:.1} steps/s",
            s.tasks_per_sec, s.steps_per_sec
        ),
    ]);
    figures.row(vec![
        "task latency".into(),
        match s.latency_ms {
            Some(l) => format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                l.p50, l.p99, l.max
            ),
            None => "-".into(),
        },
    ]);
    // The header row of this table is blank; skip it.
    for line in figures.render().lines().skip(1) {
        outln!("{line}");
    }
    let examples = [
        ("failed", s.failed_example),
        ("completed", s.completed_example),
    ];
    if examples.iter().any(|(_, id)| id.is_some()) {
        outln!();
        outln!("Look at a task:");
    }
    let url = shell_quote(&s.database_url);
    for (label, id) in examples {
        if let Some(id) = id {
            outln!("  # a {label} task");
            outln!("  tasker --database-url {url} task show {id}");
            outln!("  tasker --database-url {url} task history {id}");
        }
    }
    Ok(())
}

/// Quote for a POSIX shell when the text has anything but safe characters.
fn shell_quote(text: &str) -> String {
    let safe = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/:.-_@=+,%".contains(c));
    if safe {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn urls_are_quoted_only_when_needed() {
        assert_eq!(
            shell_quote("sqlite://tasker-demo.db"),
            "sqlite://tasker-demo.db"
        );
        assert_eq!(
            shell_quote("postgres://u@h/db?sslmode=disable&x=1"),
            "'postgres://u@h/db?sslmode=disable&x=1'"
        );
    }
}
