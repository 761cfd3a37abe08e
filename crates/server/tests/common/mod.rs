//! Test harness: the router over a fresh database per test, driven with `oneshot`. SQLite (a
//! temporary file) always; PostgreSQL (a schema per test) when `TASKER_TEST_DATABASE_URL` is
//! set, else a loud SKIPPED line (and a failure on CI, where nothing may be skipped).
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod templates;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tasker::store::Store;
use tasker::{Engine, EngineConfig, HandlerRegistry};
use tasker_postgres::{PgOptions, PostgresStore};
use tasker_server::{AppState, auth};
use tokio::sync::OnceCell;
use tower::ServiceExt;

pub const URL_VAR: &str = "TASKER_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The API over a fresh, migrated database of its own.
pub struct Api {
    pub backend: Backend,
    pub engine: Engine,
    pub router: Router,
    /// The SQLite file, or the PostgreSQL schema.
    pub file: Option<PathBuf>,
    pub schema: Option<String>,
    /// A token with `admin`.
    pub admin: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);
static CLEANED: OnceCell<()> = OnceCell::const_new();

pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{URL_VAR} is not set on CI; PostgreSQL tests must not be skipped");
            }
            eprintln!(
                "SKIPPED postgres::{test}: {URL_VAR} is not set; no PostgreSQL to test against"
            );
            None
        }
    }
}

/// A fresh, migrated store, with where it lives.
pub async fn fresh_store(
    backend: Backend,
    test: &str,
) -> Option<(Arc<dyn Store>, Option<PathBuf>, Option<String>)> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let unique = format!("{}_{n}_{:08x}", std::process::id(), rand::random::<u32>());
    let (store, file, schema): (Arc<dyn Store>, _, _) = match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("tasker_server_{unique}.db"));
            let store = tasker::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("open sqlite");
            (store, Some(path), None)
        }
        Backend::Postgres => {
            let url = postgres_url(test)?;
            CLEANED
                .get_or_init(|| async {
                    tasker_postgres::drop_orphaned_schemas(&url, "tasker_test_")
                        .await
                        .expect("drop the schemas of finished test runs");
                })
                .await;
            let schema = format!("tasker_test_{unique}");
            let options = PgOptions {
                schema: Some(schema.clone()),
                pool_size: 4,
                ..PgOptions::default()
            };
            let store = PostgresStore::connect_with(&url, options)
                .await
                .expect("connect to postgres");
            (Arc::new(store) as Arc<dyn Store>, None, Some(schema))
        }
    };
    store.migrate().await.expect("migrate");
    Some((store, file, schema))
}

impl Api {
    /// The router with tokens required and default limits.
    pub async fn new(backend: Backend, test: &str) -> Option<Api> {
        Api::with(backend, test, |state| state).await
    }

    /// The router over a state that `configure` adjusts.
    pub async fn with(
        backend: Backend,
        test: &str,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Option<Api> {
        Api::with_engine(backend, test, EngineConfig::default(), configure).await
    }

    /// The router over an engine with these settings (a manual clock), its state adjusted by
    /// `configure`.
    pub async fn with_engine(
        backend: Backend,
        test: &str,
        config: EngineConfig,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Option<Api> {
        let (store, file, schema) = fresh_store(backend, test).await?;
        let engine = Engine::new(store, HandlerRegistry::with_builtins(), config);
        let router = tasker_server::router(configure(AppState::new(engine.clone())));
        let (admin, _) = auth::issue_token(&engine, "admin", &["admin".to_owned()])
            .await
            .expect("issue the admin token");
        Some(Api {
            backend,
            engine,
            router,
            file,
            schema,
            admin,
        })
    }

    /// A new token with these scopes.
    pub async fn token(&self, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        auth::issue_token(&self.engine, "test", &scopes)
            .await
            .expect("issue a token")
            .0
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        Reply::read(response).await
    }

    /// A request with the admin token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let token = self.admin.clone();
        self.call_as(Some(&token), method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        self.send(request(token, method, path, body)).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Registers a YAML template through the API.
    pub async fn register(&self, yaml: &str) -> Reply {
        let request = Request::post("/v1/templates")
            .header(header::AUTHORIZATION, format!("Bearer {}", self.admin))
            .header(header::CONTENT_TYPE, "application/yaml")
            .body(Body::from(yaml.to_owned()))
            .expect("a request");
        let reply = self.send(request).await;
        assert!(reply.status.is_success(), "register: {reply:?}");
        reply
    }

    /// Creates a task through the API; its id.
    pub async fn create(&self, template: &str, context: Value) -> i64 {
        let reply = self
            .post(
                "/v1/tasks",
                serde_json::json!({"template": template, "context": context}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.json["task"]["id"].as_i64().expect("an id")
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some(path) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// A request with an optional bearer token and an optional JSON body.
pub fn request(
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(value) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(serde_json::to_vec(&value).expect("json"))
        }
        None => Body::empty(),
    };
    builder.body(body).expect("a request")
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub json: Value,
}

impl Reply {
    pub async fn read(response: axum::response::Response) -> Reply {
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("read the body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status: parts.status,
            headers: parts.headers,
            text,
            json,
        }
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a problem document of this status and kind; returns it for more checks.
    pub fn problem(&self, status: u16, kind: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.content_type(), "application/problem+json", "{self:?}");
        assert_eq!(
            self.json["type"],
            format!("https://tasker.dev/problems/{kind}"),
            "{self:?}"
        );
        assert_eq!(self.json["status"], status, "{self:?}");
        assert!(
            self.json["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{self:?}"
        );
        &self.json
    }
}

/// Runs each listed case (`async fn case(api: Api)`) once per backend.
#[macro_export]
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let api = $crate::common::Api::new($crate::common::Backend::Sqlite, stringify!($case)).await;
                    if let Some(api) = api {
                        super::$case(api).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let api = $crate::common::Api::new($crate::common::Backend::Postgres, stringify!($case)).await;
                    if let Some(api) = api {
                        super::$case(api).await;
                    }
                }
            )*
        }
    };
}

/// Runs an orchestrator until nothing is left to do (failing the test after 60 s).
pub async fn run_until_idle(engine: &Engine) {
    let config = tasker::OrchestratorConfig {
        owner: "api-test".to_owned(),
        poll_interval: std::time::Duration::from_millis(50),
        rescue_interval: std::time::Duration::from_millis(50),
        until_idle: true,
        ..tasker::OrchestratorConfig::default()
    };
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        engine.orchestrator(config).run(),
    )
    .await
    .expect("the orchestrator became idle within 60 s")
    .expect("the orchestrator ran");
}

/// Every task id in the database, newest first.
pub async fn all_task_ids(engine: &Engine) -> Vec<i64> {
    engine
        .list_tasks(tasker::TaskFilter {
            limit: 10_000,
            ..tasker::TaskFilter::default()
        })
        .await
        .expect("list")
        .iter()
        .map(|t| t.id)
        .collect()
}
