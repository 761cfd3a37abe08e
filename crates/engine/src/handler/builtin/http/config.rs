//! The `http` handler's config, read once into typed settings. The same reading checks a
//! template at registration and prepares each call, so the two cannot disagree.

use super::super::config_checks::{millis, object};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;
use std::time::Duration;
use tasker_model::limits::DEFAULT_MAX_OUTPUT_BYTES;

/// `timeout_ms` when the config has none: 30 seconds.
pub(super) const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// The largest `max_response_bytes` accepted: 1 GiB, as for the `command` handler's output.
pub(super) const MAX_RESPONSE_BYTES_LIMIT: u64 = 1 << 30;

/// The methods a step may use. Others (HEAD, OPTIONS, CONNECT, TRACE) answer without a body
/// to keep or are not calls a step makes.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Headers the handler or the HTTP client sets on each request. The framing ones would corrupt
/// the request if a template fixed them; `traceparent` and `Idempotency-Key` name one attempt,
/// which a fixed value cannot.
const RESERVED_HEADERS: [&str; 7] = [
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "upgrade",
    "traceparent",
    "idempotency-key",
];

/// What one call sends, and how much of the answer it reads.
#[derive(Debug, Clone)]
pub(crate) struct HttpConfig {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub timeout: Duration,
    /// `None`: the step input (or nothing, for GET).
    pub body: Option<Value>,
    pub max_response_bytes: usize,
}

impl HttpConfig {
    /// Reads a step's config. An error names the field first (`"url: ..."`), as
    /// [`StepHandler::check_config`](crate::handler::StepHandler::check_config) asks.
    pub(crate) fn parse(config: &Value) -> Result<HttpConfig, String> {
        object(config, true)?;
        let method = method(config)?;
        let url = url(config)?;
        let headers = headers(config)?;
        millis(config, "timeout_ms", 1)?;
        let timeout_ms = config
            .get("timeout_ms")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_TIMEOUT_MS);
        let body = match config.get("body") {
            None | Some(Value::Null) => None,
            Some(_) if method == Method::GET => {
                return Err("body: a GET request carries no body; use POST, PUT or PATCH".into());
            }
            Some(body) => Some(body.clone()),
        };
        Ok(HttpConfig {
            method,
            url,
            headers,
            timeout: Duration::from_millis(timeout_ms),
            body,
            max_response_bytes: max_response_bytes(config)?,
        })
    }
}

fn method(config: &Value) -> Result<Method, String> {
    let name = match config.get("method") {
        None | Some(Value::Null) => return Ok(Method::POST),
        Some(Value::String(name)) => name.to_ascii_uppercase(),
        Some(other) => return Err(format!("method: must be a string, got {other}")),
    };
    if !METHODS.contains(&name.as_str()) {
        return Err(format!(
            "method: must be one of {}, got {name:?}",
            METHODS.join(", ")
        ));
    }
    Method::from_bytes(name.as_bytes()).map_err(|e| format!("method: {e}"))
}

fn url(config: &Value) -> Result<Url, String> {
    let text = match config.get("url") {
        None | Some(Value::Null) => return Err("url: is required (the address to call)".into()),
        Some(Value::String(text)) => text,
        Some(other) => return Err(format!("url: must be a string, got {other}")),
    };
    let url = Url::parse(text).map_err(|e| format!("url: {text:?} is not a URL: {e}"))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(format!(
                "url: https is not supported: this build has no TLS; call an http:// address \
                 (for example a TLS-terminating proxy beside the orchestrator), got {}",
                without_secrets(&url)
            ));
        }
        other => {
            return Err(format!(
                "url: must be an http:// address, got the scheme {other:?}"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("url: {text:?} names no host"));
    }
    Ok(url)
}

fn headers(config: &Value) -> Result<HeaderMap, String> {
    let map = match config.get("headers") {
        None | Some(Value::Null) => return Ok(HeaderMap::new()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(format!(
                "headers: must be a mapping of header names to strings, got {other}"
            ));
        }
    };
    let mut headers = HeaderMap::with_capacity(map.len());
    for (name, value) in map {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("headers: {name:?} is not a valid header name"))?;
        if RESERVED_HEADERS.contains(&header.as_str()) {
            return Err(format!(
                "headers.{name}: is set by the handler on every request and cannot be configured"
            ));
        }
        let Value::String(text) = value else {
            return Err(format!("headers.{name}: must be a string, got {value}"));
        };
        let value = HeaderValue::from_str(text).map_err(|_| {
            format!("headers.{name}: holds a character a header cannot carry (a control character or a line break)")
        })?;
        headers.insert(header, value);
    }
    Ok(headers)
}

fn max_response_bytes(config: &Value) -> Result<usize, String> {
    let Some(value) = config.get("max_response_bytes").filter(|v| !v.is_null()) else {
        return Ok(DEFAULT_MAX_OUTPUT_BYTES);
    };
    value
        .as_u64()
        .filter(|n| (1..=MAX_RESPONSE_BYTES_LIMIT).contains(n))
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "max_response_bytes: must be an integer from 1 to {MAX_RESPONSE_BYTES_LIMIT}, got {value}"
            )
        })
}

/// The URL as it may appear in errors and history: without user and password, query or
/// fragment, which often carry credentials.
pub(super) fn without_secrets(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}
