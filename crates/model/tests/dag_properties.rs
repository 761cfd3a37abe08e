//! Properties of template validation over random DAGs.

use proptest::prelude::*;
use tasker_model::Template;
use tasker_model::template::{StepSpec, TemplateSpec};

fn spec(parents: &[Vec<usize>]) -> TemplateSpec {
    TemplateSpec {
        namespace: "p".into(),
        name: "dag".into(),
        version: "1.0.0".into(),
        description: None,
        input_schema: None,
        identity: Default::default(),
        defaults: None,
        steps: parents
            .iter()
            .enumerate()
            .map(|(i, ps)| StepSpec {
                name: format!("s{i}"),
                handler: "noop".into(),
                queue: None,
                description: None,
                config: serde_json::Value::Null,
                depends_on: ps.iter().map(|p| format!("s{p}")).collect(),
                retry: None,
                timeout_ms: None,
            })
            .collect(),
    }
}

/// Random DAGs of up to 50 steps: edges only from lower to higher index, so acyclic.
fn dags() -> impl Strategy<Value = Vec<Vec<usize>>> {
    (1usize..50).prop_flat_map(|n| {
        (0..n)
            .map(|i| proptest::sample::subsequence((0..i).collect::<Vec<_>>(), 0..=i.min(4)))
            .collect::<Vec<_>>()
    })
}

proptest! {
    #[test]
    fn acyclic_graphs_validate_and_levels_follow_dependencies(parents in dags()) {
        let t = Template::from_spec(spec(&parents)).expect("acyclic template is valid");
        let mut level = vec![0usize; parents.len()];
        for (l, members) in t.levels().iter().enumerate() {
            for &m in members { level[m] = l; }
        }
        prop_assert_eq!(t.levels().iter().map(Vec::len).sum::<usize>(), parents.len());
        for (child, ps) in parents.iter().enumerate() {
            for &p in ps {
                prop_assert!(level[p] < level[child]);
            }
            if !ps.is_empty() {
                prop_assert_eq!(level[child], ps.iter().map(|&p| level[p]).max().unwrap() + 1);
            }
        }
    }

    #[test]
    fn a_back_edge_is_reported_as_a_real_cycle(parents in dags(), pick in any::<prop::sample::Index>()) {
        // Pick a step with a parent and make that parent depend on the step: a cycle.
        let with_parent: Vec<usize> = (0..parents.len()).filter(|&i| !parents[i].is_empty()).collect();
        prop_assume!(!with_parent.is_empty());
        let child = *pick.get(&with_parent);
        let parent = parents[child][0];
        let mut cyclic = parents.clone();
        cyclic[parent].push(child);
        let errors = Template::from_spec(spec(&cyclic)).expect_err("cycle must be rejected");
        let message = errors.0.iter().find(|e| e.message.starts_with("dependency cycle: "))
            .expect("a cycle error").message.clone();
        let names: Vec<usize> = message["dependency cycle: ".len()..]
            .split(" -> ")
            .map(|n| n[1..].parse().unwrap())
            .collect();
        prop_assert_eq!(names.first(), names.last());
        for w in names.windows(2) {
            // w[0] runs before w[1]: w[1] depends on w[0].
            prop_assert!(cyclic[w[1]].contains(&w[0]), "{} is not a parent of {}", w[0], w[1]);
        }
    }
}
