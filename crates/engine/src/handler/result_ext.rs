//! `?` inside handlers: ordinary errors become [`StepError`]s of the kind the handler picks.

use super::StepError;
use std::error::Error as StdError;
use std::time::Duration;

/// Turns any `Result` whose error is an ordinary error into a [`StepResult`](super::StepResult)
/// of the kind the handler picks, so that `?` works inside a handler:
///
/// - [`retryable`](ResultExt::retryable): worth another attempt (a timeout, a refused
///   connection);
/// - [`permanent`](ResultExt::permanent): never worth another attempt (bad input);
/// - [`retry_after`](ResultExt::retry_after): worth another attempt after `wait`, whatever the
///   step's backoff says.
///
/// The step's error text is the error's message followed by its causes (its
/// [`source`](std::error::Error::source) chain), joined by `": "`; a cause whose text the
/// message already ends with is not repeated. Any `std::error::Error + Send + Sync`, `String`,
/// `&str`, `Box<dyn Error + Send + Sync>` and `anyhow::Error` qualify.
///
/// There is deliberately no `From<std::io::Error>` (or other) conversion into [`StepError`]: a
/// bare `?` would have to pick the kind for every error of that type, and the handler knows
/// better (a missing file may be permanent, a full disk worth retrying).
///
/// ```
/// use tasker_engine::handler::{ResultExt, StepContext, StepResult};
/// use serde_json::json;
///
/// async fn parse_amount(ctx: StepContext) -> StepResult {
///     let text = ctx.context["amount"].as_str().unwrap_or_default();
///     // Bad input stays bad: no retry.
///     let amount: u64 = text.parse().permanent()?;
///     Ok(json!({ "amount": amount }))
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let ok = parse_amount(StepContext::builder().context(json!({ "amount": "12" })).build()).await;
/// assert_eq!(ok.unwrap(), json!({ "amount": 12 }));
///
/// let bad = parse_amount(StepContext::builder().context(json!({ "amount": "lots" })).build()).await;
/// let error = bad.unwrap_err();
/// assert!(!error.is_retryable());
/// assert_eq!(error.to_string(), "invalid digit found in string");
/// # });
/// ```
pub trait ResultExt<T> {
    /// The error, if any, as a [`StepError::Retryable`] (the step's backoff applies).
    fn retryable(self) -> Result<T, StepError>;

    /// The error, if any, as a [`StepError::Permanent`]: the step fails for good.
    fn permanent(self) -> Result<T, StepError>;

    /// The error, if any, as a [`StepError::Retryable`] retried after `wait` instead of the
    /// step's backoff.
    fn retry_after(self, wait: Duration) -> Result<T, StepError>;
}

impl<T, E> ResultExt<T> for Result<T, E>
where
    E: Into<Box<dyn StdError + Send + Sync + 'static>>,
{
    fn retryable(self) -> Result<T, StepError> {
        self.map_err(|e| StepError::retryable(describe(e.into())))
    }

    fn permanent(self) -> Result<T, StepError> {
        self.map_err(|e| StepError::permanent(describe(e.into())))
    }

    fn retry_after(self, wait: Duration) -> Result<T, StepError> {
        self.map_err(|e| StepError::retry_after(describe(e.into()), wait))
    }
}

/// The error's text and its causes', without repeating a cause the text already includes.
fn describe(error: Box<dyn StdError + Send + Sync + 'static>) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let more = e.to_string();
        if !more.is_empty() && !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot reach the ledger")
        }
    }

    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    fn refused() -> Result<(), Outer> {
        Err(Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        )))
    }

    #[test]
    fn the_kind_is_the_one_asked_for_and_the_text_has_the_causes() {
        assert_eq!(
            refused().retryable(),
            Err(StepError::retryable(
                "cannot reach the ledger: connection refused"
            ))
        );
        assert_eq!(
            refused().permanent(),
            Err(StepError::permanent(
                "cannot reach the ledger: connection refused"
            ))
        );
        assert_eq!(
            refused().retry_after(Duration::from_secs(3)),
            Err(StepError::retry_after(
                "cannot reach the ledger: connection refused",
                Duration::from_secs(3)
            ))
        );
        assert_eq!(Ok::<_, Outer>(7).permanent(), Ok(7));
    }

    #[test]
    fn plain_text_errors_and_repeated_causes() {
        assert_eq!(
            Err::<(), _>("no such order").permanent(),
            Err(StepError::permanent("no such order"))
        );
        assert_eq!(
            Err::<(), _>(String::from("busy")).retryable(),
            Err(StepError::retryable("busy"))
        );

        // A message that already ends with its cause's text does not repeat it.
        #[derive(Debug)]
        struct Says(std::io::Error);
        impl fmt::Display for Says {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "read failed: {}", self.0)
            }
        }
        impl StdError for Says {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let e = Says(std::io::Error::other("disk gone"));
        assert_eq!(
            Err::<(), _>(e).retryable(),
            Err(StepError::retryable("read failed: disk gone"))
        );
    }
}
