//! `tasker serve`: the REST API over an [`Engine`](tasker_engine::Engine).

pub mod telemetry;
