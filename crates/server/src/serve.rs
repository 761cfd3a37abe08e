//! `tasker serve`: bind, serve the router with an orchestrator beside it, and drain both on
//! shutdown.

use crate::state::{AppState, AuthMode, Limits, OrchestratorProbe};
use std::future::Future;
use std::net::SocketAddr;
use tasker_engine::{Engine, OrchestratorConfig, RunStats};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where `tasker serve` listens unless told otherwise: this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The settings of [`serve`] and [`Server::bind`], as `tasker serve` takes them.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The address to listen on (port 0: any free port; see [`Server::local_addr`]).
    pub listen: SocketAddr,
    /// An API-only node: no orchestrator in this process (`tasker run` elsewhere runs steps).
    pub no_orchestrator: bool,
    /// Serve every route without authentication (a warning is logged at start).
    pub insecure_no_auth: bool,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// The longest a worker's claim waits for work, whatever its `wait_ms`.
    pub worker_max_wait: std::time::Duration,
    /// The longest a `wait` for a task holds on, whatever its `timeout_ms` (at most 60 s).
    pub max_wait: std::time::Duration,
    /// The orchestrator's settings, as `tasker run` takes them.
    pub orchestrator: OrchestratorConfig,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            no_orchestrator: false,
            insecure_no_auth: false,
            max_body: crate::state::DEFAULT_MAX_BODY,
            worker_max_wait: crate::state::DEFAULT_WORKER_MAX_WAIT,
            max_wait: crate::state::MAX_WAIT,
            orchestrator: OrchestratorConfig::default(),
        }
    }
}

/// Why a server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address cannot be listened on (in use, or not this machine's).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why the operating system refused it.
        source: std::io::Error,
    },
    /// The address is reachable from other machines (not loopback) while no API token
    /// exists and authentication is on: the API would be open to anyone who can reach it.
    #[error(
        "refusing to listen on {0}, which other machines can reach, while no API token exists: create one with `tasker token create --name NAME --scope SCOPE`, or pass --insecure-no-auth to serve every route without authentication"
    )]
    NoToken(SocketAddr),
    /// The engine or the orchestrator beside the server failed.
    #[error(transparent)]
    Engine(#[from] tasker_engine::Error),
    /// The HTTP server stopped with an I/O error.
    #[error("the HTTP server stopped: {0}")]
    Http(std::io::Error),
}

/// What a server did, once it has stopped.
#[derive(Debug, Clone)]
pub struct ServeReport {
    /// The orchestrator's figures; `None` on an API-only node.
    pub orchestrator: Option<RunStats>,
}

/// A bound server, not serving yet: [`Server::local_addr`] says where it listens (useful with
/// port 0).
#[derive(Debug)]
pub struct Server {
    engine: Engine,
    config: ServeConfig,
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl Server {
    /// Checks the settings and the tokens, then binds. On an address other machines can reach,
    /// it refuses to start while no active token exists, unless `insecure_no_auth`.
    pub async fn bind(engine: Engine, config: ServeConfig) -> Result<Server, ServeError> {
        if !config.no_orchestrator {
            config
                .orchestrator
                .validate()
                .map_err(tasker_engine::Error::from)?;
        }
        if config.insecure_no_auth {
            tracing::warn!(
                listen = %config.listen,
                "--insecure-no-auth: every route is open to anyone who can reach this address"
            );
        } else {
            let any_token = engine
                .store()
                .any_active_token()
                .await
                .map_err(tasker_engine::Error::from)?;
            if !any_token {
                if !config.listen.ip().is_loopback() {
                    return Err(ServeError::NoToken(config.listen));
                }
                tracing::warn!(
                    "no API token exists: every /v1 request will be refused until one is created with `tasker token create`"
                );
            }
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
        Ok(Server {
            engine,
            config,
            listener,
            local_addr,
        })
    }

    /// The address the server listens on (the port chosen, when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then stops accepting, answers the requests in flight
    /// (long polls answer at once), and stops the orchestrator gracefully (running handlers
    /// finish and their outcomes are written).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<ServeReport, ServeError> {
        let Server {
            engine,
            config,
            listener,
            local_addr,
        } = self;
        let stopping = CancellationToken::new();
        let mut state = AppState::new(engine.clone())
            .with_auth(if config.insecure_no_auth {
                AuthMode::Open
            } else {
                AuthMode::Tokens
            })
            .with_limits(Limits {
                max_body: config.max_body,
            })
            .with_worker_max_wait(config.worker_max_wait)
            .with_task_max_wait(config.max_wait)
            .with_metrics(crate::telemetry::metrics::prometheus())
            .with_shutdown(stopping.clone());

        let orchestrator = if config.no_orchestrator {
            None
        } else {
            let probe = OrchestratorProbe::default();
            state = state.with_orchestrator(probe.clone());
            let orchestrator = engine.orchestrator(config.orchestrator.clone());
            let signal = orchestrator.shutdown_signal();
            let task = tokio::spawn(async move {
                let result = orchestrator.run().await;
                probe.set_alive(false);
                if let Err(e) = &result {
                    tracing::error!(error = %e, "the orchestrator stopped; /health/ready now answers 503");
                }
                result
            });
            Some((signal, task))
        };

        tracing::info!(
            listen = %local_addr,
            orchestrator = orchestrator.is_some(),
            "serving the API"
        );
        let app = crate::router(state);
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("stopping: answering the requests in flight");
                stopping.cancel();
            })
            .await;

        let stats = match orchestrator {
            Some((signal, task)) => {
                signal.trigger();
                match task.await {
                    Ok(Ok(stats)) => Some(stats),
                    Ok(Err(e)) => return Err(e.into()),
                    Err(e) => {
                        return Err(tasker_engine::Error::Orchestrator(e.to_string()).into());
                    }
                }
            }
            None => None,
        };
        served.map_err(ServeError::Http)?;
        Ok(ServeReport {
            orchestrator: stats,
        })
    }
}

/// Binds `config.listen` and serves until `shutdown` resolves; see [`Server::bind`] and
/// [`Server::run`].
pub async fn serve(
    engine: Engine,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<ServeReport, ServeError> {
    Server::bind(engine, config).await?.run(shutdown).await
}
