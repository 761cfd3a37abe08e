//! Embedding Tasker in an application: a handler written as a function and one written as a
//! struct, a template from YAML, one task run to the end by an in-process orchestrator on a
//! SQLite file.
//!
//! Run with `cargo run -p tasker --example embed`.

use serde_json::json;
use std::time::Duration;
use tasker::prelude::*;
use tasker::{CreateTask, OrchestratorConfig, TaskerBuilder};

const TEMPLATE: &str = r#"
namespace: shop
name: quote
version: 1.0.0
description: Price a basket, then add tax.
input_schema:
  type: object
  required: [items]
  properties:
    items:
      type: array
      items: { type: object, required: [price, quantity] }
    tax_rate: { type: number, default: 0.2 }
steps:
  - name: subtotal
    handler: subtotal
  - name: total
    handler: add_tax
    depends_on: [subtotal]
"#;

async fn subtotal(ctx: StepContext) -> StepResult {
    let items = ctx.context["items"]
        .as_array()
        .ok_or_else(|| StepError::permanent("items must be an array"))?;
    let sum: f64 = items
        .iter()
        .map(|i| i["price"].as_f64().unwrap_or(0.0) * i["quantity"].as_f64().unwrap_or(0.0))
        .sum();
    Ok(json!({ "subtotal": sum }))
}

/// A handler with state of its own: a struct, its `impl` marked `#[async_trait]`.
struct AddTax {
    /// Used when the task gives no `tax_rate`.
    default_rate: f64,
}

#[async_trait]
impl StepHandler for AddTax {
    async fn call(&self, ctx: StepContext) -> StepResult {
        // `?` on an ordinary error: `.permanent()` says another attempt would not help.
        let subtotal: f64 =
            serde_json::from_value(ctx.parent_results["subtotal"]["subtotal"].clone())
                .permanent()?;
        let rate = ctx.context["tax_rate"]
            .as_f64()
            .unwrap_or(self.default_rate);
        Ok(json!({ "total": (subtotal * (1.0 + rate) * 100.0).round() / 100.0 }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    let path = std::env::temp_dir().join(format!("tasker-embed-{}.db", std::process::id()));
    let engine = TaskerBuilder::new(format!("sqlite://{}", path.display()))
        .handler("subtotal", subtotal)
        .handler("add_tax", AddTax { default_rate: 0.2 })
        .build()
        .await?;

    let (template, _) = engine.register_template_yaml(TEMPLATE).await?;
    let created = engine
        .create_task(CreateTask::new(
            "shop/quote".parse()?,
            json!({ "items": [{ "price": 4.5, "quantity": 2 }, { "price": 1.25, "quantity": 4 }] }),
        ))
        .await?;
    println!("created task {} from {}", created.id, template.key());

    let orchestrator = engine.orchestrator(OrchestratorConfig::default()).spawn();
    let task = engine
        .wait_for_task(created.id, Some(Duration::from_secs(30)))
        .await?;
    let details = engine.task_details(task.id).await?;
    for step in &details.steps {
        println!(
            "  {:<10} {:<10} {}",
            step.name,
            step.state,
            step.results.clone().unwrap_or_default()
        );
    }
    println!("task {} is {}", task.id, task.state);

    let stats = orchestrator.shutdown().await?;
    println!(
        "orchestrator: {} steps claimed, {} succeeded",
        stats.steps_claimed, stats.steps_succeeded
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
