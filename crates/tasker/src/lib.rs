//! Tasker: workflow orchestration for DAGs of steps, embedded on SQLite or shared on
//! PostgreSQL.
//!
//! The [Embedding guide](guide) (`docs/EMBEDDING.md` in the repository) walks through an
//! application: handlers, errors, events, failure reasons, testing, PostgreSQL, tracing and
//! shutdown.
//!
//! ```no_run
//! use tasker::{CreateTask, OrchestratorConfig, TaskerBuilder};
//! use serde_json::json;
//!
//! # async fn demo() -> Result<(), tasker::Error> {
//! let engine = TaskerBuilder::new("sqlite://tasker.db")
//!     .handler_fn("greet", |ctx| async move {
//!         Ok(json!({ "hello": ctx.context["name"] }))
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
//!
//! A handler with state of its own is a struct; its `impl` carries `#[tasker::async_trait]`
//! (re-exported: no dependency on `async-trait` needed), and `?` works on ordinary errors
//! through [`ResultExt`]:
//!
//! ```
//! use tasker::{ResultExt, StepContext, StepHandler, StepResult};
//! use serde_json::json;
//!
//! struct Greeter {
//!     greeting: String,
//! }
//!
//! #[tasker::async_trait]
//! impl StepHandler for Greeter {
//!     async fn call(&self, ctx: StepContext) -> StepResult {
//!         let name: String = serde_json::from_value(ctx.context["name"].clone()).permanent()?;
//!         Ok(json!({ "message": format!("{}, {name}!", self.greeting) }))
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let ctx = StepContext::builder().context(json!({ "name": "Ada" })).build();
//! let greeter = Greeter { greeting: "Hello".into() };
//! assert_eq!(greeter.call(ctx).await.unwrap(), json!({ "message": "Hello, Ada!" }));
//! # });
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

/// The time types an embedder needs (from `chrono`, so that no dependency on it is needed):
/// what [`ManualClock::new`] takes, what records' timestamps are.
///
/// ```
/// use std::time::Duration;
/// use tasker::time::{DateTime, Utc};
/// use tasker::{Clock, ManualClock};
///
/// let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
/// let clock = ManualClock::new(start);
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now() - start, tasker::time::Duration::minutes(1));
/// ```
pub mod time {
    pub use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
    pub use tasker_model::Timestamp;
}

/// What a handler module needs, in one `use tasker::prelude::*;`: the handler types, `?` on
/// ordinary errors ([`ResultExt`]) and the attribute for struct handlers.
///
/// ```
/// use tasker::prelude::*;
/// use serde_json::json;
///
/// struct Charge;
///
/// #[async_trait]
/// impl StepHandler for Charge {
///     async fn call(&self, ctx: StepContext) -> StepResult {
///         let cents: u64 = ctx.context["cents"].to_string().parse().permanent()?;
///         Ok(json!({ "charged": cents }))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let ctx = StepContext::builder().context(json!({ "cents": 250 })).build();
/// assert_eq!(Charge.call(ctx).await.unwrap(), json!({ "charged": 250 }));
/// # });
/// ```
pub mod prelude {
    pub use tasker_engine::handler::{
        CancellationToken, ResultExt, StepContext, StepError, StepHandler, StepResult, async_trait,
        handler_fn,
    };
}
