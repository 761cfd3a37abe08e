//! The templates the demo registers: the five bundled examples and two that fail on purpose.

/// `(file name, YAML)`.
pub const EXAMPLES: [(&str, &str); 5] = [
    (
        "linear.yaml",
        include_str!("../../../../examples/templates/linear.yaml"),
    ),
    (
        "diamond.yaml",
        include_str!("../../../../examples/templates/diamond.yaml"),
    ),
    (
        "tree.yaml",
        include_str!("../../../../examples/templates/tree.yaml"),
    ),
    (
        "complex_dag.yaml",
        include_str!("../../../../examples/templates/complex_dag.yaml"),
    ),
    (
        "order_fulfillment.yaml",
        include_str!("../../../../examples/templates/order_fulfillment.yaml"),
    ),
];

/// Branches fail once and twice, then recover after quick retries.
pub const FLAKY: &str = include_str!("templates/flaky_diamond.yaml");
/// Fails for good at its third step.
pub const FAILING: &str = include_str!("templates/failing_linear.yaml");

#[cfg(test)]
mod tests {
    use super::*;
    use tasker::HandlerRegistry;
    use tasker::model::Template;

    #[test]
    fn every_demo_template_is_valid_and_uses_builtin_handlers() {
        let builtins = HandlerRegistry::with_builtins();
        for (name, yaml) in EXAMPLES
            .iter()
            .copied()
            .chain([("flaky", FLAKY), ("failing", FAILING)])
        {
            let template = Template::from_yaml(yaml).unwrap_or_else(|e| panic!("{name}: {e}"));
            template
                .check_handlers(|h| builtins.contains(h))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
