//! A handler's panic is caught and fails its step; it should cost one log line, not the full
//! report (and backtrace, with `RUST_BACKTRACE` set) the default panic hook prints to stderr.
//!
//! The engine installs a panic hook once. It knows a panic comes from a handler by a task-local
//! set around the handler's future: such a panic is logged as one error event, with the step
//! and the panic's message and location; any other panic goes to the hook that was installed
//! before, unchanged.

use std::future::Future;
use std::panic::PanicHookInfo;
use std::sync::Once;
use tasker_model::{StepId, TaskId};

/// The step whose handler runs in the current task.
#[derive(Debug, Clone)]
pub(crate) struct Running {
    pub(crate) task_id: TaskId,
    pub(crate) step_id: StepId,
    pub(crate) step: String,
}

tokio::task_local! {
    static RUNNING: Running;
}

static INSTALL: Once = Once::new();

/// Runs a handler's future so that a panic inside it is logged as one line (installing the
/// hook on first use).
pub(crate) fn quiet<F: Future>(running: Running, future: F) -> impl Future<Output = F::Output> {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let logged = RUNNING.try_with(|running| log(running, info)).is_ok();
            if !logged {
                previous(info);
            }
        }));
    });
    RUNNING.scope(running, future)
}

fn log(running: &Running, info: &PanicHookInfo<'_>) {
    let message = message(info.payload());
    let location = info
        .location()
        .map(|l| format!("{}:{}", l.file(), l.line()))
        .unwrap_or_default();
    tracing::error!(
        task_id = running.task_id,
        step_id = running.step_id,
        step = %running.step,
        %location,
        "handler panicked: {message}"
    );
}

/// The text of a panic's payload.
pub(crate) fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
