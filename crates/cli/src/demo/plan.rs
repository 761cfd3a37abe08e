//! Which template each demo task uses, and its context. Deterministic, so runs compare.

use serde_json::{Value, json};

/// What one demo task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One of the bundled examples, by index into [`super::templates::EXAMPLES`].
    Example(usize),
    /// Fails and recovers through retries.
    Flaky,
    /// Fails for good.
    Failing,
}

/// About 1% failing (the first task is one, so even a small demo shows a failure), about 10%
/// flaky, the rest spread evenly over the examples.
pub fn plan(tasks: usize, examples: usize) -> Vec<Kind> {
    let mut next_example = 0;
    (0..tasks)
        .map(|i| {
            if i % 100 == 0 {
                Kind::Failing
            } else if i % 10 == 5 {
                Kind::Flaky
            } else {
                let kind = Kind::Example(next_example % examples.max(1));
                next_example += 1;
                kind
            }
        })
        .collect()
}

/// The context of task `i`. `run` makes it unique per demo run, so templates with a strict
/// identity create new tasks on a database that already has an earlier run's.
pub fn context(template_name: &str, run: &str, i: usize) -> Value {
    if template_name == "order_fulfillment" {
        json!({
            "order_id": i + 1,
            "customer_email": format!("customer{i}@example.com"),
            "items": [{ "sku": format!("SKU-{:04}", i % 1000), "quantity": 1 + i % 3 }],
            "demo_run": run,
        })
    } else {
        json!({ "n": i, "demo_run": run })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(plan: &[Kind], f: impl Fn(&Kind) -> bool) -> usize {
        plan.iter().filter(|k| f(k)).count()
    }

    #[test]
    fn a_thousand_tasks_have_one_percent_failing_and_ten_percent_flaky() {
        let p = plan(1000, 5);
        assert_eq!(count(&p, |k| *k == Kind::Failing), 10);
        assert_eq!(count(&p, |k| *k == Kind::Flaky), 100);
        for e in 0..5 {
            assert_eq!(count(&p, |k| *k == Kind::Example(e)), 178, "example {e}");
        }
    }

    #[test]
    fn a_small_demo_still_shows_each_kind() {
        let p = plan(50, 5);
        assert_eq!(p.len(), 50);
        assert_eq!(count(&p, |k| *k == Kind::Failing), 1);
        assert_eq!(count(&p, |k| *k == Kind::Flaky), 5);
    }

    #[test]
    fn order_contexts_pass_the_order_schema() {
        let (_, yaml) = super::super::templates::EXAMPLES[4];
        let template = tasker::model::Template::from_yaml(yaml).expect("valid template");
        assert_eq!(template.name, "order_fulfillment");
        for i in [0, 1, 7, 999, 1000, 123_456] {
            let prepared = template
                .prepare_context(context("order_fulfillment", "r1", i))
                .unwrap_or_else(|e| panic!("task {i}: {e}"));
            assert_eq!(prepared["shipping"], "standard");
        }
    }
}
