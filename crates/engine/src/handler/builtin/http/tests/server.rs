//! A local HTTP server for the handler's tests: it records every request it gets and answers
//! by path, one path per kind of answer.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{DATE, RETRY_AFTER};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

pub struct TestServer {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    /// Serves on 127.0.0.1 at a free port until the test's runtime ends.
    pub async fn start() -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new().fallback(answer).with_state(seen.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TestServer { base, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The one request received so far.
    pub fn only(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen.into_iter().next().unwrap()
    }
}

/// A body that never ends, 8 KiB at a time, as fast as the client reads.
fn endless() -> Body {
    let chunk = Bytes::from(vec![b'x'; 8192]);
    Body::from_stream(futures::stream::repeat(Ok::<_, Infallible>(chunk)))
}

async fn answer(
    State(seen): State<Arc<Mutex<Vec<Seen>>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    seen.lock().unwrap().push(Seen {
        method,
        path: path.clone(),
        headers,
        body: body.to_vec(),
    });
    match path.as_str() {
        "/json" => axum::Json(json!({"ok": true, "items": [1, 2]})).into_response(),
        "/empty" => StatusCode::NO_CONTENT.into_response(),
        "/text" => "plain words".into_response(),
        "/retry-in-seconds" => (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, "2")],
            "slow down",
        )
            .into_response(),
        // The server's own Date, 90 s before the date it asks to come back at.
        "/retry-at-a-date" => (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (DATE, "Wed, 21 Oct 2015 07:26:30 GMT"),
                (RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT"),
            ],
        )
            .into_response(),
        "/unavailable" => (StatusCode::SERVICE_UNAVAILABLE, [(RETRY_AFTER, "30")]).into_response(),
        "/unavailable-without-retry-after" => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        // Answers only when the client has given up.
        "/slow" => std::future::pending().await,
        "/endless" => endless().into_response(),
        "/endless-error" => (StatusCode::INTERNAL_SERVER_ERROR, endless()).into_response(),
        // A body of known length: hyper announces it in Content-Length.
        "/big" => vec![b'x'; 100_000].into_response(),
        "/redirect" => (StatusCode::FOUND, [("location", "/json")]).into_response(),
        _ => match path.strip_prefix("/status/").map(str::parse::<u16>) {
            Some(Ok(code)) => (
                StatusCode::from_u16(code).unwrap(),
                format!("answered {code} on purpose"),
            )
                .into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        },
    }
}
