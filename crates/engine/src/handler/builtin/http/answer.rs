//! What an answer means for the step: a result, or a retryable or permanent failure. Pure
//! functions over the status, headers and body already read, so each rule is tested alone.

use crate::handler::StepError;
use reqwest::StatusCode;
use reqwest::header::{DATE, HeaderMap, RETRY_AFTER};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// How much of a non-JSON success body is kept in the result: enough for a short answer
/// (`OK`, an id, a message), not a page. Longer text is cut and marked `truncated`.
pub(super) const MAX_TEXT_RESULT_BYTES: usize = 64 * 1024;

/// How much of an error answer's body is quoted in the failure message.
pub(super) const MAX_ERROR_EXCERPT_BYTES: usize = 512;

/// A 2xx answer's result: its body when that is JSON (whatever the Content-Type says, since
/// many services label JSON as text), else `{"status": code}` with the body as `text` when
/// there is one.
pub(super) fn success(status: StatusCode, body: &[u8]) -> Value {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return value;
    }
    let mut result = json!({ "status": status.as_u16() });
    let text = String::from_utf8_lossy(body);
    if !text.trim().is_empty() {
        let (kept, truncated) = head(&text, MAX_TEXT_RESULT_BYTES);
        result["text"] = json!(kept);
        if truncated {
            result["truncated"] = json!(true);
        }
    }
    result
}

/// The failure a non-2xx answer stands for. 429 and 503 are retryable after the server's
/// `Retry-After` when it gives one (else the step's backoff); 408 and every other 5xx are
/// retryable; any other status (4xx, and 3xx since redirects are not followed) is permanent.
/// `now` reads the clock only when the server sent a `Retry-After` date and no `Date`.
pub(super) fn failure(
    target: &str,
    status: StatusCode,
    headers: &HeaderMap,
    excerpt: &[u8],
    now: impl FnOnce() -> SystemTime,
) -> StepError {
    let mut message = format!("{target} answered {status}");
    let excerpt = String::from_utf8_lossy(excerpt);
    let excerpt = excerpt.trim();
    if !excerpt.is_empty() {
        message.push_str(": ");
        message.push_str(head(excerpt, MAX_ERROR_EXCERPT_BYTES).0);
    }
    match status {
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            match retry_after(headers, now) {
                Some(wait) => StepError::retry_after(message, wait),
                None => StepError::retryable(message),
            }
        }
        StatusCode::REQUEST_TIMEOUT => StepError::retryable(message),
        status if status.is_server_error() => StepError::retryable(message),
        status if status.is_redirection() => {
            let location = headers
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("nowhere");
            StepError::permanent(format!(
                "{message} (a redirect to {location}; the http handler does not follow redirects: configure the final address)"
            ))
        }
        _ => StepError::permanent(message),
    }
}

/// The wait a `Retry-After` header asks for: delta-seconds, or an HTTP-date counted from the
/// answer's own `Date` (the server's clock, so that a skew between the two machines does not
/// stretch or cut the wait), or from `now` when the answer has no `Date`. A date already past
/// is no wait; a header that is neither form is ignored.
pub(super) fn retry_after(
    headers: &HeaderMap,
    now: impl FnOnce() -> SystemTime,
) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is a wait longer than any limit: the longest one.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let from = headers
        .get(DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
        .unwrap_or_else(now);
    Some(at.duration_since(from).unwrap_or(Duration::ZERO))
}

/// The first `max` bytes of `s`, cut on a character boundary, and whether anything was cut.
fn head(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn never() -> SystemTime {
        panic!("the clock must not be read when the answer has a Date")
    }

    fn at(date: &str) -> SystemTime {
        httpdate::parse_http_date(date).unwrap()
    }

    #[test]
    fn json_bodies_are_the_result_and_others_become_text() {
        assert_eq!(success(StatusCode::OK, br#"{"id": 7}"#), json!({"id": 7}));
        assert_eq!(success(StatusCode::OK, b"[1, 2]"), json!([1, 2]));
        assert_eq!(success(StatusCode::NO_CONTENT, b""), json!({"status": 204}));
        assert_eq!(
            success(StatusCode::CREATED, b"  \n"),
            json!({"status": 201})
        );
        assert_eq!(
            success(StatusCode::ACCEPTED, b"queued as 12"),
            json!({"status": 202, "text": "queued as 12"})
        );
        let long = "\u{e9}".repeat(MAX_TEXT_RESULT_BYTES);
        let result = success(StatusCode::OK, long.as_bytes());
        let text = result["text"].as_str().unwrap();
        assert!(text.len() <= MAX_TEXT_RESULT_BYTES && text.len() > MAX_TEXT_RESULT_BYTES - 2);
        assert_eq!(result["truncated"], json!(true));
    }

    #[test]
    fn statuses_decide_retryable_or_permanent() {
        let retryable = [408, 429, 500, 502, 503, 504, 599];
        let permanent = [301, 304, 400, 401, 403, 404, 409, 422, 451];
        for code in retryable {
            let status = StatusCode::from_u16(code).unwrap();
            let err = failure("POST http://x/", status, &HeaderMap::new(), b"", never);
            assert!(
                matches!(
                    err,
                    StepError::Retryable {
                        retry_after: None,
                        ..
                    }
                ),
                "{code}: {err:?}"
            );
        }
        for code in permanent {
            let status = StatusCode::from_u16(code).unwrap();
            let err = failure("POST http://x/", status, &HeaderMap::new(), b"", never);
            assert!(
                matches!(err, StepError::Permanent { .. }),
                "{code}: {err:?}"
            );
        }
    }

    #[test]
    fn the_message_names_the_call_the_status_and_the_start_of_the_body() {
        let body = format!("no such order {}", "x".repeat(2000));
        let err = failure(
            "POST http://shop/orders",
            StatusCode::NOT_FOUND,
            &HeaderMap::new(),
            body.as_bytes(),
            never,
        );
        let StepError::Permanent { message } = err else {
            panic!("{err:?}")
        };
        assert!(
            message.starts_with("POST http://shop/orders answered 404 Not Found: no such order x"),
            "{message}"
        );
        assert!(message.len() < 700, "{}", message.len());
        let err = failure(
            "GET http://old/",
            StatusCode::MOVED_PERMANENTLY,
            &headers(&[("location", "http://new/")]),
            b"",
            never,
        );
        assert!(
            matches!(&err, StepError::Permanent { message } if message.contains("redirect to http://new/")),
            "{err:?}"
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let wait = |pairs: &[(&'static str, &str)]| {
            let now = || at("Sun, 06 Nov 1994 08:49:37 GMT");
            retry_after(&headers(pairs), now)
        };
        assert_eq!(wait(&[("retry-after", "2")]), Some(Duration::from_secs(2)));
        assert_eq!(wait(&[("retry-after", " 0 ")]), Some(Duration::ZERO));
        assert_eq!(
            wait(&[("retry-after", "99999999999999999999999")]),
            Some(Duration::from_secs(u64::MAX))
        );
        // A date counts from the answer's Date when it has one...
        assert_eq!(
            wait(&[
                ("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
                ("date", "Wed, 21 Oct 2015 07:26:30 GMT"),
            ]),
            Some(Duration::from_secs(90))
        );
        // ...in any of the three HTTP-date forms...
        assert_eq!(
            wait(&[
                ("retry-after", "Wednesday, 21-Oct-15 07:28:00 GMT"),
                ("date", "Wed Oct 21 07:27:00 2015"),
            ]),
            Some(Duration::from_secs(60))
        );
        // ...else from the local clock.
        assert_eq!(
            wait(&[("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")]),
            Some(Duration::from_secs(30))
        );
        // A date already past is no wait.
        assert_eq!(
            wait(&[("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT")]),
            Some(Duration::ZERO)
        );
        for junk in ["", "-1", "1.5", "soon", "Sun, 06 Nov 1994"] {
            assert_eq!(wait(&[("retry-after", junk)]), None, "{junk:?}");
        }
        assert_eq!(wait(&[]), None);
    }

    #[test]
    fn only_429_and_503_honour_retry_after() {
        let h = headers(&[("retry-after", "7")]);
        for code in [429, 503] {
            let status = StatusCode::from_u16(code).unwrap();
            let err = failure("GET http://x/", status, &h, b"", never);
            assert_eq!(
                err,
                StepError::retry_after(
                    format!("GET http://x/ answered {status}"),
                    Duration::from_secs(7)
                )
            );
        }
        let err = failure("GET http://x/", StatusCode::BAD_GATEWAY, &h, b"", never);
        assert!(
            matches!(
                err,
                StepError::Retryable {
                    retry_after: None,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
