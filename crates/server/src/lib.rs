//! `tasker serve`: the REST API over an [`Engine`](tasker_engine::Engine).
//!
//! [`router`] builds the axum router of every route (an application may mount it in its own
//! server); [`serve`] binds it, runs an orchestrator beside it and drains both on shutdown.
//!
//! ```no_run
//! use tasker_server::{AppState, auth};
//!
//! # async fn mount() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = tasker::TaskerBuilder::new("sqlite://tasker.db").build().await?;
//! // Once, for a client: the token is shown only here.
//! let (token, _record) = auth::issue_token(&engine, "billing", &["tasks:write@billing".into()]).await?;
//! # let _ = token;
//! let api = tasker_server::router(AppState::new(engine));
//! let app = axum::Router::new().nest("/tasker", api);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod auth;
pub mod create_batcher;
pub mod extract;
mod layers;
pub mod openapi;
pub mod problem;
pub mod routes;
mod serve;
mod state;
pub mod telemetry;

pub use layers::UNMATCHED;
pub use problem::{Problem, ProblemKind};
pub use routes::router;
pub use serve::{DEFAULT_LISTEN, ServeConfig, ServeError, ServeReport, Server, serve};
pub use state::{
    AppState, AuthMode, DEFAULT_MAX_BODY, DEFAULT_WORKER_MAX_WAIT, Limits, MAX_WAIT,
    OrchestratorProbe,
};
