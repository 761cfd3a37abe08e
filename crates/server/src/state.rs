//! What every handler shares: the engine, how requests are authenticated, the metrics handle,
//! the limits, and what the health check looks at.

use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tasker_engine::Engine;
use tasker_engine::workers::{Workers, limits as worker_limits};
use tokio_util::sync::CancellationToken;

/// Default of `--max-body`: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// The longest a `wait` request holds on.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// How long a `wait` request holds on when it names no `timeout_ms`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// The longest a worker's claim holds on unless the server says otherwise
/// ([`AppState::with_worker_max_wait`]).
pub const DEFAULT_WORKER_MAX_WAIT: Duration =
    Duration::from_millis(worker_limits::DEFAULT_MAX_WAIT_MS);

/// Whether the API asks for tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Every `/v1` request needs `Authorization: Bearer <token>` with the right scope.
    Tokens,
    /// Every route is open (`--insecure-no-auth`).
    Open,
}

/// Limits on requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, in bytes; larger ones are answered 413.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// Whether the orchestrator running beside the API is alive, for `/health/ready`.
#[derive(Debug, Clone)]
pub struct OrchestratorProbe(Arc<AtomicBool>);

impl Default for OrchestratorProbe {
    fn default() -> Self {
        OrchestratorProbe(Arc::new(AtomicBool::new(true)))
    }
}

impl OrchestratorProbe {
    /// Reports the orchestrator alive or not (its owner calls this as it starts and stops).
    pub fn set_alive(&self, alive: bool) {
        self.0.store(alive, Ordering::Release);
    }

    /// Whether the orchestrator was last reported alive (`true` until told otherwise).
    pub fn is_alive(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Cheap to clone. Built with [`AppState::new`] and the `with_*` methods, then handed to
/// [`router`](crate::router).
#[derive(Clone)]
pub struct AppState {
    pub(crate) engine: Engine,
    pub(crate) auth: AuthMode,
    pub(crate) prometheus: Option<PrometheusHandle>,
    pub(crate) limits: Limits,
    pub(crate) orchestrator: Option<OrchestratorProbe>,
    pub(crate) shutdown: CancellationToken,
    /// `POST /v1/tasks` requests written together (see [`crate::create_batcher`]).
    pub(crate) creates: crate::create_batcher::CreateBatcher,
    /// Tokens found in the last second (see [`crate::auth::cache`]).
    pub(crate) tokens: Arc<crate::auth::cache::TokenCache>,
    /// The worker protocol (`/v1/worker/*`): claims, leases and batched outcomes.
    pub(crate) workers: Workers,
    /// The longest a `wait` for a task holds on, whatever its `timeout_ms`.
    pub(crate) task_max_wait: Duration,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("engine", &self.engine)
            .field("auth", &self.auth)
            .field("metrics", &self.prometheus.is_some())
            .field("limits", &self.limits)
            .field("orchestrator", &self.orchestrator)
            .finish()
    }
}

impl AppState {
    /// Tokens required, default limits, no `/metrics` (see [`AppState::with_metrics`]), no
    /// orchestrator to report on.
    pub fn new(engine: Engine) -> AppState {
        AppState {
            creates: crate::create_batcher::CreateBatcher::new(engine.clone()),
            workers: engine.workers(DEFAULT_WORKER_MAX_WAIT),
            task_max_wait: MAX_WAIT,
            tokens: Arc::default(),
            engine,
            auth: AuthMode::Tokens,
            prometheus: None,
            limits: Limits::default(),
            orchestrator: None,
            shutdown: CancellationToken::new(),
        }
    }

    /// Requires tokens ([`AuthMode::Tokens`], the default) or opens every route.
    pub fn with_auth(mut self, auth: AuthMode) -> AppState {
        self.auth = auth;
        self
    }

    /// Replaces the request limits.
    pub fn with_limits(mut self, limits: Limits) -> AppState {
        self.limits = limits;
        self
    }

    /// Serves `/metrics` from this recorder's handle (the process-wide one is
    /// [`telemetry::metrics::prometheus`](crate::telemetry::metrics::prometheus)). Without
    /// it `/metrics` answers 404, for an application that exports its metrics its own way.
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> AppState {
        self.prometheus = Some(handle);
        self
    }

    /// `/health/ready` also reports on this orchestrator.
    pub fn with_orchestrator(mut self, probe: OrchestratorProbe) -> AppState {
        self.orchestrator = Some(probe);
        self
    }

    /// Cancelled when the server stops: long polls (`wait`) answer at once instead of holding
    /// the shutdown up.
    pub fn with_shutdown(mut self, token: CancellationToken) -> AppState {
        self.shutdown = token;
        self
    }

    /// Caps how long a worker's claim waits for work (`tasker serve --worker-max-wait-ms`),
    /// whatever its `wait_ms`. Clamped to the protocol's largest wait.
    pub fn with_worker_max_wait(mut self, max_wait: Duration) -> AppState {
        let ceiling = Duration::from_millis(*worker_limits::WAIT_MS.end());
        self.workers = self.engine.workers(max_wait.min(ceiling));
        self
    }

    /// Caps how long `GET /v1/tasks/{id}/wait` holds on (`tasker serve --max-wait-ms`), whatever
    /// its `timeout_ms`; at most [`MAX_WAIT`].
    pub fn with_task_max_wait(mut self, max_wait: Duration) -> AppState {
        self.task_max_wait = max_wait.min(MAX_WAIT);
        self
    }

    /// The engine behind the API.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}
