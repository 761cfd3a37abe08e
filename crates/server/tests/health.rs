//! `/health/live`, `/health/ready`, `/metrics` and `/openapi.json`: no token needed.

mod common;

use axum::http::{Method, StatusCode};
use common::{Api, Backend, fresh_store};
use std::sync::Arc;
use tasker::{Engine, EngineConfig, HandlerRegistry};
use tasker_server::{AppState, OrchestratorProbe};

async fn liveness_and_readiness(api: Api) {
    let live = api.call_as(None, Method::GET, "/health/live", None).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json["status"], "live");

    let ready = api.call_as(None, Method::GET, "/health/ready", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{ready:?}");
    assert_eq!(ready.json["status"], "ready");
    assert_eq!(ready.json["checks"]["database"]["ok"], true);
    assert_eq!(ready.json["checks"]["migrations"]["ok"], true);
    assert_eq!(ready.json["checks"].get("orchestrator"), None);
}

async fn the_document_is_served(api: Api) {
    let reply = api.call_as(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), "application/json");
    assert_eq!(reply.text, tasker_server::openapi::json());
    assert!(
        reply.json["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
}

async fn metrics_count_requests_by_route_template(mut api: Api) {
    let reply = api.call_as(None, Method::GET, "/metrics", None).await;
    reply.problem(404, "not-found");

    let router = tasker_server::router(
        AppState::new(api.engine.clone())
            .with_metrics(tasker_server::telemetry::metrics::prometheus()),
    );
    api.router = router;
    api.get("/v1/tasks/987654").await.problem(404, "not-found");
    api.get("/no/such/route/987654")
        .await
        .problem(404, "not-found");
    let reply = api.call_as(None, Method::GET, "/metrics", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(reply.content_type().starts_with("text/plain"), "{reply:?}");
    let text = &reply.text;
    let counted = |route: &str| {
        text.lines().any(|line| {
            line.starts_with("tasker_http_requests_total{")
                && line.contains("method=\"GET\"")
                && line.contains(&format!("route=\"{route}\""))
                && line.contains("status=\"404\"")
        })
    };
    assert!(counted("/v1/tasks/{id}"), "{text}");
    assert!(counted("unmatched"), "{text}");
    assert!(
        text.contains("tasker_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(!text.contains("987654"), "no ids in labels: {text}");
}

on_every_backend!(
    liveness_and_readiness,
    the_document_is_served,
    metrics_count_requests_by_route_template,
);

/// Not ready while migrations are pending, or while the orchestrator beside the API is dead.
async fn not_ready(backend: Backend) {
    let Some((store, file, _schema)) = fresh_store(backend, "not_ready").await else {
        return;
    };
    let engine = Engine::new(
        Arc::clone(&store),
        HandlerRegistry::with_builtins(),
        EngineConfig::default(),
    );
    let probe = OrchestratorProbe::default();
    let router = tasker_server::router(AppState::new(engine).with_orchestrator(probe.clone()));
    let ready = |router: axum::Router| async move {
        use tower::ServiceExt;
        let request = common::request(None, Method::GET, "/health/ready", None);
        common::Reply::read(router.oneshot(request).await.expect("answer")).await
    };
    let reply = ready(router.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["checks"]["orchestrator"]["ok"], true);
    probe.set_alive(false);
    let reply = ready(router).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{reply:?}");
    assert_eq!(reply.json["status"], "not_ready");
    assert_eq!(reply.json["checks"]["orchestrator"]["ok"], false);
    assert_eq!(reply.json["checks"]["database"]["ok"], true);
    if let Some(path) = file {
        let _ = std::fs::remove_file(&path);
    }

    // A database nobody migrated.
    if backend == Backend::Sqlite {
        let path =
            std::env::temp_dir().join(format!("tasker_unmigrated_{}.db", std::process::id()));
        let store = tasker::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("open");
        let engine = Engine::new(
            store,
            HandlerRegistry::with_builtins(),
            EngineConfig::default(),
        );
        let reply = ready(tasker_server::router(AppState::new(engine))).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{reply:?}");
        assert_eq!(reply.json["checks"]["migrations"]["ok"], false);
        let detail = reply.json["checks"]["migrations"]["detail"]
            .as_str()
            .unwrap_or_default();
        assert!(detail.contains("tasker migrate"), "{detail}");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_not_ready() {
    not_ready(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_not_ready() {
    not_ready(Backend::Postgres).await;
}
