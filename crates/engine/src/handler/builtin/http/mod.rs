//! `http`: calls an HTTP endpoint with the step's input and takes its JSON answer as the result.

mod answer;
mod config;

use answer::MAX_ERROR_EXCERPT_BYTES;
pub(crate) use config::HttpConfig;

use crate::handler::{StepContext, StepError, StepHandler, StepResult};
use async_trait::async_trait;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use serde_json::json;
use std::sync::OnceLock;
use tasker_model::{Clock, SystemClock};

/// The header that carries the attempt's W3C trace context.
const TRACEPARENT: &str = "traceparent";

/// The header that names one delivery of one attempt.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Sends one request per attempt and reads its answer.
///
/// Config (checked when a template is registered):
/// - `url` (required): an `http://` address. `https://` is refused: this build links no TLS
///   library; put a TLS-terminating proxy beside the orchestrator for remote HTTPS services.
/// - `method`: GET, POST, PUT, PATCH or DELETE (default POST).
/// - `headers`: a mapping of header names to strings, sent as they are.
/// - `timeout_ms`: the whole exchange, from connecting to the last byte of the answer
///   (default 30,000, from 1 to seven days). Passing it is a retryable failure.
/// - `body`: any JSON value, sent as it is. Without it, the step input is sent:
///   `{"context", "config", "parent_results": {step name: result}, "task_id", "step_id",
///   "step", "attempt"}`, where `config` is this config without its `headers` (they often
///   hold credentials, which request logs should not keep). A GET sends no body and may not configure one.
/// - `max_response_bytes`: how much of a successful answer's body is read (default 4 MiB,
///   from 1 byte to 1 GiB). A longer body fails the attempt permanently, so that a hostile or
///   broken server cannot exhaust the orchestrator's memory.
///
/// Every request carries `traceparent` when the attempt has one
/// ([`StepContext::traceparent`]) and `Idempotency-Key: tasker-step-<step_id>-<attempt>`.
///
/// Answers: a 2xx succeeds; its body is the result when it is JSON, else the result is
/// `{"status": code}` with the body, when there is one, as `text` (at most 64 KiB, with
/// `"truncated": true` when cut). 429 and 503 are retryable after the answer's `Retry-After`
/// (seconds or an HTTP-date) when it has one; 408 and every other 5xx are retryable, as are
/// connection errors and time-outs; other 4xx are permanent, and so is a 3xx: redirects are
/// not followed, since a client following one re-sends a POST as a GET without its body.
/// The result is still bounded by `EngineConfig::max_result_bytes` like any other.
///
/// Proxies come from the environment (`HTTP_PROXY`, `NO_PROXY`), as for most HTTP clients.
/// A cancelled attempt drops the request at once (closing its connection) and fails retryably.
#[derive(Debug, Default)]
pub struct Http {
    /// One client for every call, so that connections to a service are reused across steps;
    /// built on first use, because building one can fail and registration cannot.
    client: OnceLock<Result<reqwest::Client, String>>,
}

impl Http {
    /// The handler; its HTTP client is built on first use.
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self) -> Result<&reqwest::Client, StepError> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("tasker/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("cannot set up the HTTP client: {}", chain(e)))
            })
            .as_ref()
            .map_err(|e| StepError::retryable(e.clone()))
    }
}

#[async_trait]
impl StepHandler for Http {
    async fn call(&self, ctx: StepContext) -> StepResult {
        // Registration checked the config already; this reading also prepares the call, and a
        // template stored by a process that did not check it still gets a clear answer.
        let config = HttpConfig::parse(&ctx.config)
            .map_err(|e| StepError::permanent(format!("config.{e}")))?;
        let target = format!("{} {}", config.method, config::without_secrets(&config.url));
        let mut request = self
            .client()?
            .request(config.method.clone(), config.url.clone())
            .header(ACCEPT, "application/json");
        if let Some(traceparent) = ctx.traceparent.as_deref() {
            match HeaderValue::from_str(traceparent) {
                Ok(value) => request = request.header(TRACEPARENT, value),
                Err(_) => {
                    tracing::warn!(
                        traceparent,
                        step_id = ctx.step_id,
                        "the attempt's traceparent cannot be a header; sent without it"
                    );
                }
            }
        }
        // The key names one delivery: the step and its attempt. A receiver that sees a key
        // again is seeing the same attempt's request delivered twice (replayed by a proxy or
        // a balancer that retried on a dropped connection) and can answer it once. A receiver
        // that wants one effect per step across attempts dedupes on the step part
        // (`tasker-step-<step_id>-`), which every attempt shares; one key for all attempts
        // would make receivers that compare a repeated key's request refuse every retry, since
        // the default body names the attempt.
        request = request.header(
            IDEMPOTENCY_KEY,
            format!("tasker-step-{}-{}", ctx.step_id, ctx.attempt),
        );
        let body = match (&config.body, config.method == reqwest::Method::GET) {
            (Some(body), _) => Some(body.clone()),
            (None, true) => None,
            (None, false) => Some(json!({
                "context": &*ctx.context,
                "config": without_headers(&ctx.config),
                "parent_results": ctx.parent_results,
                "task_id": ctx.task_id,
                "step_id": ctx.step_id,
                "step": ctx.step_name,
                "attempt": ctx.attempt,
            })),
        };
        if let Some(body) = body {
            let bytes = serde_json::to_vec(&body)
                .map_err(|e| StepError::permanent(format!("cannot encode the body: {e}")))?;
            request = request.header(CONTENT_TYPE, "application/json").body(bytes);
        }
        // The configured headers go last, so that they replace the defaults above
        // (`Accept`, `Content-Type`); the check refuses the ones the handler must own.
        request = request.headers(config.headers.clone());

        let deadline = tokio::time::Instant::now() + config.timeout;
        let exchange = async {
            let mut response = request
                .send()
                .await
                .map_err(|e| StepError::retryable(format!("{target} failed: {}", chain(e))))?;
            let status = response.status();
            if status.is_success() {
                let body = read_capped(&mut response, config.max_response_bytes, &target).await?;
                return Ok(answer::success(status, &body));
            }
            // Only the start of an error's body is quoted; the rest is never read. Reading it
            // must not hide the status, so it stops at the deadline with what it has.
            let headers = response.headers().clone();
            let excerpt = tokio::time::timeout_at(
                deadline,
                read_excerpt(&mut response, MAX_ERROR_EXCERPT_BYTES),
            )
            .await
            .unwrap_or_default();
            Err(answer::failure(&target, status, &headers, &excerpt, || {
                SystemClock.now().into()
            }))
        };
        tokio::select! {
            // Checked first: a cancelled attempt's outcome would be refused anyway.
            biased;
            () = ctx.cancellation.cancelled() => Err(StepError::retryable(format!(
                "{target} abandoned: the attempt was cancelled"
            ))),
            result = exchange => result,
            () = tokio::time::sleep_until(deadline) => Err(StepError::retryable(format!(
                "{target} got no complete answer within its timeout of {} ms",
                config.timeout.as_millis()
            ))),
        }
    }
}

/// The config as the default body shows it: without `headers`, which often hold credentials
/// that the receiver gets in the headers already and that its request logs should not keep.
fn without_headers(config: &serde_json::Value) -> serde_json::Value {
    let mut shown = config.clone();
    if let Some(map) = shown.as_object_mut() {
        map.remove("headers");
    }
    shown
}

/// Reads a success's body, failing permanently past `limit` bytes (announced or received).
async fn read_capped(
    response: &mut reqwest::Response,
    limit: usize,
    target: &str,
) -> Result<Vec<u8>, StepError> {
    let too_long = || {
        StepError::permanent(format!(
            "{target} answered with a body of more than {limit} bytes (config.max_response_bytes)"
        ))
    };
    if response
        .content_length()
        .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX))
    {
        return Err(too_long());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        StepError::retryable(format!("{target}: reading the answer failed: {}", chain(e)))
    })? {
        if body.len() + chunk.len() > limit {
            return Err(too_long());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first `limit` bytes of a body, or what could be read of them.
async fn read_excerpt(response: &mut reqwest::Response, limit: usize) -> Vec<u8> {
    let mut excerpt = Vec::new();
    while excerpt.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - excerpt.len();
                excerpt.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    excerpt
}

/// An error and its causes, without the URL reqwest puts in its own text (the query string
/// may hold credentials; the caller names the call instead): "error sending request: client
/// error (Connect): tcp connect error: Connection refused (os error 111)".
fn chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
