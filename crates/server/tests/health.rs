//! `/health/live`, `/health/ready`, `/metrics` and `/openapi.json`: no token needed.

mod common;

use axum::http::{Method, StatusCode};
use common::{Api, Backend, fresh_store};
use std::sync::Arc;
use std::time::Duration;
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

/// Not ready while the database cannot be reached (PostgreSQL): the store's connections pass
/// through a relay that the test then closes, connections and port alike, as when the database
/// server goes away. (SQLite has no server to lose: its file is opened in the process.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_not_ready_while_the_database_is_unreachable() {
    use tokio::net::{TcpListener, TcpStream};
    let test = "postgres_not_ready_while_the_database_is_unreachable";
    let Some(url) = common::postgres_url(test) else {
        return;
    };
    let Some((_migrated, _file, schema)) = fresh_store(Backend::Postgres, test).await else {
        return;
    };
    let config: tokio_postgres::Config = url.parse().expect("a database url");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        other => panic!("{test} needs a TCP database url, not {other:?}"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let relay_port = listener.local_addr().expect("address").port();
    let closed = tokio_util::sync::CancellationToken::new();
    let relay = {
        let closed = closed.clone();
        tokio::spawn(async move {
            loop {
                let mut inbound = tokio::select! {
                    accepted = listener.accept() => accepted.expect("accept").0,
                    () = closed.cancelled() => return,
                };
                let target = (host.clone(), port);
                let closed = closed.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        () = closed.cancelled() => {}
                    }
                });
            }
        })
    };
    let mut relayed = format!("host=127.0.0.1 port={relay_port}");
    if let Some(user) = config.get_user() {
        relayed.push_str(&format!(" user='{user}'"));
    }
    if let Some(password) = config.get_password() {
        relayed.push_str(&format!(
            " password='{}'",
            String::from_utf8_lossy(password)
        ));
    }
    if let Some(dbname) = config.get_dbname() {
        relayed.push_str(&format!(" dbname='{dbname}'"));
    }
    let options = tasker_postgres::PgOptions {
        schema,
        pool_size: 2,
        lease_pool_size: 1,
        connect_timeout: Duration::from_millis(500),
        pool_wait_timeout: Duration::from_millis(500),
        ..tasker_postgres::PgOptions::default()
    };
    let store = tasker_postgres::PostgresStore::connect_with(&relayed, options)
        .await
        .expect("connect through the relay");
    let engine = Engine::new(
        Arc::new(store),
        HandlerRegistry::with_builtins(),
        EngineConfig::default(),
    );
    let router = tasker_server::router(AppState::new(engine));
    let ready = |router: axum::Router| async move {
        use tower::ServiceExt;
        let request = common::request(None, Method::GET, "/health/ready", None);
        common::Reply::read(router.oneshot(request).await.expect("answer")).await
    };
    let reply = ready(router.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["checks"]["database"]["ok"], true);

    closed.cancel();
    relay.await.expect("the relay stopped");
    let reply = tokio::time::timeout(Duration::from_secs(10), ready(router))
        .await
        .expect("readiness answers while the database is away");
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{reply:?}");
    assert_eq!(reply.json["status"], "not_ready");
    assert_eq!(reply.json["checks"]["database"]["ok"], false, "{reply:?}");
    assert!(
        reply.json["checks"]["database"]["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{reply:?}"
    );
}
