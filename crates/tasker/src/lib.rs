//! Tasker: workflow orchestration for DAGs of steps, embedded on SQLite or shared on
//! PostgreSQL.
//!
//! The [Embedding guide](guide) (`docs/EMBEDDING.md` in the repository) walks through an
//! application: handlers, errors, events, failure reasons, testing, PostgreSQL, tracing and
//! shutdown.
//!
//! ```no_run
//! use tasker::{CreateTask, OrchestratorConfig, StepContext, StepResult, TaskerBuilder};
//! use serde_json::json;
//!
//! # async fn demo() -> Result<(), tasker::Error> {
//! let engine = TaskerBuilder::new("sqlite://tasker.db")
//!     .handler("greet", |ctx: StepContext| async move {
//!         StepResult::Ok(json!({ "hello": ctx.context["name"] }))
//!     })
//!     .build()
//!     .await?;
//! engine
//!     .register_template_yaml("namespace: demo\nname: hello\nversion: 1.0.0\nsteps:\n  - name: greet\n    handler: greet\n")
//!     .await?;
//! let task = engine
//!     .create_task(CreateTask::new("demo/hello".parse()?, json!({ "name": "world" })))
//!     .await?;
//! let orchestrator = engine.orchestrator(OrchestratorConfig::default()).spawn();
//! let done = engine.wait_for_task(task.id, None).await?;
//! orchestrator.shutdown().await?;
//! # let _ = done;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

// Every URL would be refused: better said at compile time.
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!(
    "tasker has no backend: enable its `sqlite` or `postgres` feature (the default enables both)"
);

pub mod guide {
    // The guide's examples use both backends: a build with one gets a pointer instead, so
    // that its doctests still pass.
    #![cfg_attr(
        all(feature = "sqlite", feature = "postgres"),
        doc = include_str!("../../../docs/EMBEDDING.md")
    )]
    #![cfg_attr(
        not(all(feature = "sqlite", feature = "postgres")),
        doc = "The Embedding guide: docs/EMBEDDING.md (rendered here in builds with both backends)."
    )]
    // The guide's intra-doc links name the crate's items as an application sees them.
    #[allow(unused_imports)]
    use crate::*;
}

mod builder;
mod connect;
mod isolated;

pub use builder::TaskerBuilder;
pub use connect::connect;
pub use isolated::{IsolatedDatabase, connect_isolated};
pub use tasker_engine::*;
pub use tasker_model as model;
/// The REST API of `tasker serve`: [`server::router`] mounts it in an application's own axum
/// server, [`server::serve`] runs it with an orchestrator beside it.
pub use tasker_server as server;
pub use tasker_store as store;
