//! `tasker serve`: the REST API over an [`Engine`](tasker_engine::Engine).
//!
//! [`router`] builds the axum router of every route (an application may mount it in its own
//! server); [`serve`] binds it, runs an orchestrator beside it and drains both on shutdown.

pub mod auth;
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
pub use state::{AppState, AuthMode, DEFAULT_MAX_BODY, Limits, MAX_WAIT, OrchestratorProbe};
