//! The bundled example templates and contexts that satisfy them.

use serde_json::{Value, json};
use std::path::PathBuf;

pub fn templates_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/templates")
}

/// (file stem, template reference, a valid context).
pub fn examples() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("linear", "examples/linear", json!({})),
        ("diamond", "examples/diamond", json!({})),
        ("tree", "examples/tree", json!({})),
        ("complex_dag", "examples/complex_dag", json!({})),
        ("order_fulfillment", "ecommerce/order_fulfillment", order(1)),
    ]
}

pub fn order(id: i64) -> Value {
    json!({
        "order_id": id,
        "customer_email": "ada@example.com",
        "items": [{ "sku": "book", "quantity": 2 }]
    })
}

pub fn yaml(stem: &str) -> String {
    let path = templates_dir().join(format!("{stem}.yaml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}
