use super::config_u64;
use crate::handler::{StepContext, StepError, StepHandler, StepResult};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tasker_model::limits::DEFAULT_MAX_OUTPUT_BYTES;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// The largest `config.max_output_bytes` accepted: 1 GiB.
const MAX_OUTPUT_BYTES_LIMIT: u64 = 1 << 30;

/// The environment variable that carries the attempt's trace context to the program.
const TRACEPARENT: &str = "TRACEPARENT";

/// The exit status that asks for another attempt (`EX_TEMPFAIL` from sysexits.h).
pub const EXIT_RETRYABLE: i32 = 75;

/// Runs `config.program` with `config.args`, the step input as JSON on stdin:
/// `{"task_id", "step", "attempt", "context", "config", "parents"}`. Its stdout, as JSON, is the
/// result (empty stdout is `{}`). Exit 0 succeeds, 75 fails retryably, anything else fails
/// permanently. `config.timeout_ms` kills the program when it runs longer.
/// `config.max_output_bytes` (default 4 MiB, from 1 byte to 1 GiB) caps what is kept of stdout
/// and, separately, of stderr: a program that writes more is killed, and the attempt fails
/// permanently.
///
/// The program's environment is this process's, with `TRACEPARENT` set to the attempt's W3C
/// trace context ([`StepContext::traceparent`]) so that what it does can join the task's
/// trace; without one, `TRACEPARENT` is removed rather than inherited from this process.
///
/// On Unix the program runs in a process group of its own, and the whole group (the program and
/// everything it started that stayed in the group) is killed when the timeout passes, when the
/// attempt is cancelled (its lease was lost, or the orchestrator stops and its grace period ran
/// out: a retryable failure), when the handler is dropped, and when the program exits and leaves
/// something behind. No attempt leaves processes running beside the next one. A program that must
/// outlive its step has to leave the group itself (`setsid`).
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
        let max_output = max_output_bytes(&ctx.config)?;
        let input = json!({
            "task_id": ctx.task_id,
            "step": ctx.step_name,
            "attempt": ctx.attempt,
            "context": &*ctx.context,
            "config": ctx.config,
            "parents": ctx.parent_results,
        });
        let mut child = spawn(&program, &args, ctx.traceparent.as_deref())?;
        // Held until this future ends, however it ends (a result, a time-out, a cancellation, or
        // the future dropped): the group goes with it.
        let _group = ProcessGroup::of(&child);
        if let Some(mut pipe) = child.stdin.take() {
            let stdin = input.to_string().into_bytes();
            // Written concurrently with reading stdout, so that a program that writes before it
            // reads cannot deadlock on a full pipe. A program that ignores its input closes the
            // pipe early; that is not an error.
            tokio::spawn(async move {
                let _ = pipe.write_all(&stdin).await;
            });
        }
        let limit = async {
            match timeout {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let run = async {
            // Both pipes are read at once (a program blocked on a full stderr pipe would never
            // close stdout); the first to pass the limit ends the step, and the group with it.
            let (stdout, stderr) = tokio::try_join!(
                read_capped(&program, "stdout", stdout, max_output),
                read_capped(&program, "stderr", stderr, max_output),
            )?;
            let status = child
                .wait()
                .await
                .map_err(|e| StepError::retryable(format!("waiting for {program} failed: {e}")))?;
            Ok::<_, StepError>(std::process::Output {
                status,
                stdout,
                stderr,
            })
        };
        let output = tokio::select! {
            output = run => output?,
            () = limit => {
                return Err(StepError::retryable(format!(
                    "{program} killed after its timeout of {} ms",
                    timeout.unwrap_or_default().as_millis()
                )));
            }
            () = ctx.cancellation.cancelled() => {
                return Err(StepError::retryable(format!(
                    "{program} killed: the attempt was cancelled"
                )));
            }
        };
        interpret(&program, output)
    }
}

fn max_output_bytes(config: &Value) -> Result<usize, StepError> {
    let bad = || {
        StepError::permanent(format!(
            "config.max_output_bytes must be an integer from 1 to {MAX_OUTPUT_BYTES_LIMIT}, got {}",
            config["max_output_bytes"]
        ))
    };
    match config_u64(config, "max_output_bytes").map_err(|_| bad())? {
        None => Ok(DEFAULT_MAX_OUTPUT_BYTES),
        Some(n) if (1..=MAX_OUTPUT_BYTES_LIMIT).contains(&n) => {
            usize::try_from(n).map_err(|_| bad())
        }
        Some(_) => Err(bad()),
    }
}

/// Reads a pipe to its end, keeping at most `limit` bytes: one byte more fails the step.
async fn read_capped(
    program: &str,
    name: &str,
    pipe: Option<impl AsyncRead + Unpin>,
    limit: usize,
) -> Result<Vec<u8>, StepError> {
    let mut kept = Vec::new();
    let Some(pipe) = pipe else {
        return Ok(kept);
    };
    let allowed = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    pipe.take(allowed)
        .read_to_end(&mut kept)
        .await
        .map_err(|e| {
            StepError::retryable(format!("reading the {name} of {program} failed: {e}"))
        })?;
    if kept.len() > limit {
        return Err(StepError::permanent(format!(
            "{program} wrote more than {limit} bytes to {name} (config.max_output_bytes); it was killed"
        )));
    }
    Ok(kept)
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

fn spawn(
    program: &str,
    args: &[String],
    traceparent: Option<&str>,
) -> Result<tokio::process::Child, StepError> {
    let mut command = tokio::process::Command::new(program);
    match traceparent {
        Some(traceparent) => command.env(TRACEPARENT, traceparent),
        // One inherited from this process would name a trace the attempt is not part of.
        None => command.env_remove(TRACEPARENT),
    };
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    command
        .spawn()
        .map_err(|e| StepError::permanent(format!("cannot start {program}: {e}")))
}

/// The process group a command runs in, killed (SIGKILL) when this guard is dropped. Where
/// process groups do not exist, dropping the child kills the program alone (`kill_on_drop`).
struct ProcessGroup {
    #[cfg(unix)]
    id: Option<rustix::process::Pid>,
}

impl ProcessGroup {
    /// The group the child leads (it was spawned with `process_group(0)`, so its pid is the
    /// group's id).
    fn of(child: &tokio::process::Child) -> ProcessGroup {
        #[cfg(unix)]
        {
            let id = child
                .id()
                .and_then(|pid| i32::try_from(pid).ok())
                .and_then(rustix::process::Pid::from_raw);
            ProcessGroup { id }
        }
        #[cfg(not(unix))]
        {
            let _ = child;
            ProcessGroup {}
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(id) = self.id {
            // ESRCH (nothing left in the group) is the common case after a clean exit.
            let _ = rustix::process::kill_process_group(id, rustix::process::Signal::KILL);
        }
    }
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
            context: json!({"order": 1}).into(),
            config,
            parent_results: BTreeMap::from([("a".to_owned(), json!({"x": 1}))]),
            cancellation: Default::default(),
            traceparent: None,
        }
    }

    #[tokio::test]
    async fn the_program_sees_the_attempts_traceparent_and_no_other() {
        let echo = sh(r#"printf '{"traceparent": "%s"}' "$TRACEPARENT""#);
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let mut with = ctx(echo.clone());
        with.traceparent = Some(traceparent.to_owned());
        let result = Command.call(with).await.unwrap();
        assert_eq!(result, json!({ "traceparent": traceparent }));
        // Without one, nothing is inherited: the variable is unset.
        let result = Command.call(ctx(echo)).await.unwrap();
        assert_eq!(result, json!({ "traceparent": "" }));
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

    #[tokio::test]
    async fn output_past_the_limit_fails_permanently() {
        let mut config = sh("head -c 100000 /dev/zero");
        config["max_output_bytes"] = json!(1000);
        let err = Command.call(ctx(config)).await.unwrap_err();
        assert!(
            matches!(&err, StepError::Permanent { message, .. }
                if message == "sh wrote more than 1000 bytes to stdout (config.max_output_bytes); it was killed"),
            "{err:?}"
        );
        let mut config = sh("head -c 100000 /dev/zero >&2; exit 3");
        config["max_output_bytes"] = json!(1000);
        let err = Command.call(ctx(config)).await.unwrap_err();
        assert!(
            matches!(&err, StepError::Permanent { message, .. }
                if message.starts_with("sh wrote more than 1000 bytes to stderr")),
            "{err:?}"
        );
        // At the limit exactly is fine.
        let mut config = sh("printf '\"%s\"' abc");
        config["max_output_bytes"] = json!(5);
        assert_eq!(Command.call(ctx(config)).await.unwrap(), json!("abc"));
    }

    #[tokio::test]
    async fn endless_output_is_cut_at_the_default_limit() {
        // `yes` writes for ever; it is killed once it passes 4 MiB.
        let err = Command
            .call(ctx(json!({"program": "yes"})))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StepError::Permanent { message, .. }
                if message.starts_with(&format!("yes wrote more than {} bytes to stdout",
                    tasker_model::limits::DEFAULT_MAX_OUTPUT_BYTES))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn the_output_limit_is_checked() {
        for bad in [json!(0), json!(-1), json!("big"), json!(1u64 << 40)] {
            let mut config = sh("true");
            config["max_output_bytes"] = bad.clone();
            let err = Command.call(ctx(config)).await.unwrap_err();
            assert!(
                matches!(&err, StepError::Permanent { message, .. }
                    if message.contains("config.max_output_bytes")),
                "{bad}: {err:?}"
            );
        }
    }

    /// A script that starts a background `sleep`, records the shell's pid and the sleep's in
    /// `pids` (atomically, by rename), then waits for it.
    #[cfg(unix)]
    fn sleeper(dir: &std::path::Path) -> Value {
        let pids = dir.join("pids");
        sh(&format!(
            "sleep 300 & echo \"$$ $!\" > {p}.tmp && mv {p}.tmp {p}; sleep 300; wait",
            p = pids.display()
        ))
    }

    #[cfg(unix)]
    struct Scratch(std::path::PathBuf);

    #[cfg(unix)]
    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "tasker-command-{name}-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        /// The pids the script wrote, once it has written them.
        async fn pids(&self) -> Vec<u32> {
            let path = self.0.join("pids");
            for _ in 0..500 {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    return text
                        .split_whitespace()
                        .map(|p| p.parse().unwrap())
                        .collect();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the script never wrote {}", path.display());
        }
    }

    #[cfg(unix)]
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Is the process still running (neither gone nor a zombie)?
    #[cfg(unix)]
    fn alive(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => false,
            Ok(stat) => {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z') && !state.starts_with('X')
            }
        }
    }

    /// Every pid has exited; a SIGKILL is delivered asynchronously, so allow it a moment.
    #[cfg(unix)]
    async fn assert_all_gone(pids: &[u32]) {
        assert_eq!(pids.len(), 2, "{pids:?}");
        for _ in 0..250 {
            if !pids.iter().any(|&p| alive(p)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        panic!("processes of the command left running: {left:?}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_timeout_kills_everything_the_program_started() {
        let scratch = Scratch::new("timeout");
        let mut config = sleeper(&scratch.0);
        config["timeout_ms"] = json!(1_000);
        let err = Command.call(ctx(config)).await.unwrap_err();
        assert!(
            matches!(&err, StepError::Retryable { message, .. } if message.contains("timeout")),
            "{err:?}"
        );
        assert_all_gone(&scratch.pids().await).await;
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_clean_exit_kills_what_the_program_left_behind() {
        // The background sleep lets go of stdout, so the program's exit ends the step.
        let script = "sleep 300 >/dev/null 2>&1 & echo \"[$$, $!]\"";
        let result = Command.call(ctx(sh(script))).await.unwrap();
        let pids: Vec<u32> = serde_json::from_value(result).unwrap();
        assert_all_gone(&pids).await;
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn cancelling_the_attempt_kills_everything_the_program_started() {
        let scratch = Scratch::new("cancel");
        let context = ctx(sleeper(&scratch.0));
        let token = context.cancellation.clone();
        let call = tokio::spawn(async move { Command.call(context).await });
        let pids = scratch.pids().await;
        token.cancel();
        let err = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("the handler ignored the cancellation")
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(&err, StepError::Retryable { message, .. } if message.contains("cancelled")),
            "{err:?}"
        );
        assert_all_gone(&pids).await;
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn dropping_the_handler_kills_everything_the_program_started() {
        let scratch = Scratch::new("drop");
        // `async_trait` boxes the future, so dropping it here drops the handler's state.
        let mut call = Command.call(ctx(sleeper(&scratch.0)));
        let pids = tokio::select! {
            result = &mut call => panic!("the command ended: {result:?}"),
            pids = scratch.pids() => pids,
        };
        drop(call);
        assert_all_gone(&pids).await;
    }
}
