use super::config_u64;
use crate::handler::{StepContext, StepError, StepHandler, StepResult};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The exit status that asks for another attempt (`EX_TEMPFAIL` from sysexits.h).
pub const EXIT_RETRYABLE: i32 = 75;

/// Runs `config.program` with `config.args`, the step input as JSON on stdin:
/// `{"task_id", "step", "attempt", "context", "config", "parents"}`. Its stdout, as JSON, is the
/// result (empty stdout is `{}`). Exit 0 succeeds, 75 fails retryably, anything else fails
/// permanently. `config.timeout_ms` kills the program when it runs longer.
#[derive(Debug, Clone, Copy)]
pub struct Command;

#[async_trait]
impl StepHandler for Command {
    async fn call(&self, ctx: StepContext) -> StepResult {
        let program = ctx
            .config
            .get("program")
            .and_then(Value::as_str)
            .ok_or_else(|| StepError::permanent("config.program must be a string"))?
            .to_owned();
        let args = args(&ctx.config)?;
        let timeout = config_u64(&ctx.config, "timeout_ms")?.map(Duration::from_millis);
        let input = json!({
            "task_id": ctx.task_id,
            "step": ctx.step_name,
            "attempt": ctx.attempt,
            "context": ctx.context,
            "config": ctx.config,
            "parents": ctx.parent_results,
        });
        let run = run(&program, &args, input.to_string().into_bytes());
        let output = match timeout {
            // Dropping the future drops the child, and `kill_on_drop` kills it.
            Some(limit) => tokio::time::timeout(limit, run).await.map_err(|_| {
                StepError::retryable(format!(
                    "{program} killed after its timeout of {} ms",
                    limit.as_millis()
                ))
            })??,
            None => run.await?,
        };
        interpret(&program, output)
    }
}

fn args(config: &Value) -> Result<Vec<String>, StepError> {
    match config.get("args") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| match a {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(StepError::permanent(format!(
                    "config.args must hold strings, got {other}"
                ))),
            })
            .collect(),
        Some(other) => Err(StepError::permanent(format!(
            "config.args must be an array of strings, got {other}"
        ))),
    }
}

async fn run(
    program: &str,
    args: &[String],
    stdin: Vec<u8>,
) -> Result<std::process::Output, StepError> {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| StepError::permanent(format!("cannot start {program}: {e}")))?;
    if let Some(mut pipe) = child.stdin.take() {
        // Written concurrently with reading stdout, so that a program that writes before it
        // reads cannot deadlock on a full pipe. A program that ignores its input closes the
        // pipe early; that is not an error.
        tokio::spawn(async move {
            let _ = pipe.write_all(&stdin).await;
        });
    }
    child
        .wait_with_output()
        .await
        .map_err(|e| StepError::retryable(format!("waiting for {program} failed: {e}")))
}

fn interpret(program: &str, output: std::process::Output) -> StepResult {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.trim();
    let detail = if stderr.is_empty() {
        String::new()
    } else {
        format!(": {}", tail(stderr, 500))
    };
    match output.status.code() {
        Some(0) => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stdout = stdout.trim();
            if stdout.is_empty() {
                return Ok(json!({}));
            }
            serde_json::from_str(stdout).map_err(|e| {
                StepError::permanent(format!(
                    "{program} succeeded but its output is not JSON ({e}): {}",
                    tail(stdout, 200)
                ))
            })
        }
        Some(EXIT_RETRYABLE) => Err(StepError::retryable(format!(
            "{program} exited with {EXIT_RETRYABLE} (retryable){detail}"
        ))),
        Some(code) => Err(StepError::permanent(format!(
            "{program} exited with {code}{detail}"
        ))),
        None => Err(StepError::permanent(format!(
            "{program} was killed by a signal{detail}"
        ))),
    }
}

/// The last `max` bytes of `s` (on a character boundary): the end of an error output is what
/// explains it.
fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ctx(config: Value) -> StepContext {
        StepContext {
            task_id: 7,
            step_id: 9,
            step_name: "shell".into(),
            attempt: 2,
            context: json!({"order": 1}),
            config,
            parent_results: BTreeMap::from([("a".to_owned(), json!({"x": 1}))]),
            cancellation: Default::default(),
        }
    }

    fn sh(script: &str) -> Value {
        json!({"program": "sh", "args": ["-c", script]})
    }

    #[tokio::test]
    async fn stdin_carries_the_step_input_and_stdout_is_the_result() {
        // `cat` echoes the input back, so the result is exactly what the program received.
        let result = Command.call(ctx(json!({"program": "cat"}))).await.unwrap();
        assert_eq!(result["task_id"], 7);
        assert_eq!(result["step"], "shell");
        assert_eq!(result["attempt"], 2);
        assert_eq!(result["context"], json!({"order": 1}));
        assert_eq!(result["parents"], json!({"a": {"x": 1}}));
        assert_eq!(result["config"]["program"], "cat");
    }

    #[tokio::test]
    async fn exit_codes_decide_retryable_or_permanent() {
        let err = Command
            .call(ctx(sh("echo busy >&2; exit 75")))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StepError::Retryable { message, .. } if message.contains("busy")),
            "{err:?}"
        );
        let err = Command.call(ctx(sh("exit 3"))).await.unwrap_err();
        assert!(matches!(err, StepError::Permanent { .. }), "{err:?}");
        let err = Command.call(ctx(sh("echo not-json"))).await.unwrap_err();
        assert!(matches!(err, StepError::Permanent { .. }), "{err:?}");
        let err = Command
            .call(ctx(json!({"program": "/no/such/program"})))
            .await
            .unwrap_err();
        assert!(matches!(err, StepError::Permanent { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn the_timeout_kills_the_program() {
        let mut config = sh("sleep 5");
        config["timeout_ms"] = json!(100);
        let started = std::time::Instant::now();
        let err = Command.call(ctx(config)).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(
            matches!(&err, StepError::Retryable { message, .. } if message.contains("timeout")),
            "{err:?}"
        );
    }
}
