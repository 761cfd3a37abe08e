//! What wraps every request: its metrics, its span, and a 500 problem if a handler panics.

use crate::problem::Problem;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::time::Instant;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// The route template a request matched (`/v1/tasks/{id}`): a bounded label, never an id.
fn route_of(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| p.as_str().to_owned())
}

/// Counts every request by method, route and status, and times it by method and route.
pub async fn record_metrics(request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let route = route_of(&request);
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "tasker_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status,
    )
    .increment(1);
    metrics::histogram!(
        "tasker_http_request_duration_seconds",
        "method" => method,
        "route" => route,
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// A span per request named by method and route (`otel.name`, which OpenTelemetry exports as
/// the span's name), with the status once answered.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> Span {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, |p| p.as_str());
        tracing::info_span!(
            "http_request",
            otel.name = %format!("{} {route}", request.method()),
            otel.kind = "server",
            http.request.method = %request.method(),
            http.route = route,
            http.response.status_code = tracing::field::Empty,
        )
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RecordStatus;

impl<B> OnResponse<B> for RecordStatus {
    fn on_response(
        self,
        response: &axum::http::Response<B>,
        latency: std::time::Duration,
        span: &Span,
    ) {
        span.record("http.response.status_code", response.status().as_u16());
        tracing::debug!(status = response.status().as_u16(), ?latency, "answered");
    }
}

pub fn trace() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), RecordStatus>
{
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(RecordStatus)
}

fn panic_problem(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    Problem::internal(&format!("a handler panicked: {message}")).into_response()
}

pub fn catch_panic() -> CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(panic_problem as fn(Box<dyn Any + Send + 'static>) -> Response)
}
